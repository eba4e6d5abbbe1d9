//! `/ws/stats` and `/api/ws/stats` (WebSocket): Gravwell's stats stream (PROTOCOLS.md §4).
//!
//! The client opens with `{"Subs": ["ping","idxStats","sysStats","sysDesc"]}` within 2 s and
//! gets `{"Resp":"ACK"}` (or `{"Resp":"ERROR"}` and a close). Then the server pushes
//! `{"type": <sub>, "data": ...}`: `sysDesc` first, then `ping` (now and every 5 s, the
//! keep-alive clients expect within 30 s), `sysStats` and `idxStats` every
//! `--stats-interval-ms`. Every host the agent knows is a backend: this host, every host
//! of the registry (sFlow agents, gateways' hosts), with rates from their last two
//! samples, and every host watched over SSH (named `user@host:port`), from the files its
//! poller last read.
//!
//! Shapes: the README's (arrays of `{Name, Error, Host}` and `{Addr, State}`) by default;
//! `?format=current` gives the maps current Gravwell clients read.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use ferrostat_core::procfs::cpuinfo;
use serde::Deserialize;
use serde_json::{json, Value};

use super::ws::Session;
use crate::clock::now_ms;
use crate::collect::host::{HostSnapshot, Parts};
use crate::collect::shared::ProcCache;
use crate::registry::Registry;
use crate::registry::RemoteHost;
use crate::sflow::collector::CollectorStats;
use crate::sflow::columns::{Method, H};
use crate::ssh::hub::Hub;
use ferrostat_core::metrics::rates::{
    counter_delta, cpu_shares, disk_rates, rate_per_sec, CounterWidth,
};

const NEGOTIATION: Duration = Duration::from_secs(2);
/// Largest client message: the subscription is a few dozen bytes.
const MAX_MESSAGE: usize = 4096;
const PING_EVERY: Duration = Duration::from_secs(5);
/// A client that cannot take a message within this long is dropped, so a stalled reader
/// never makes the agent hold pushes for it.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Query parameters.
#[derive(Debug, Default, Deserialize)]
pub struct Params {
    /// `current` for the map shapes of current Gravwell clients.
    format: Option<String>,
}

/// What stats stream sessions need of the agent.
#[derive(Clone)]
pub struct Context {
    /// This host's reads.
    pub proc: Arc<ProcCache>,
    /// The age of shared reads this endpoint accepts.
    pub cache: Duration,
    /// How often sysStats and idxStats are pushed.
    pub stats_interval: Duration,
    /// WebSocket places.
    pub sessions: super::ws::SessionLimits,
    /// Hosts watched over SSH, shown as backends.
    pub ssh: Arc<Hub>,
    /// Hosts reported by sFlow, shown as backends.
    pub registry: Arc<Registry>,
    /// The sFlow collector's per-source counters, when it is on.
    pub collector: Option<Arc<CollectorStats>>,
}

/// Upgrades to a stats stream (503 at the session limits). A browser page from another
/// origin never gets here: the request guard refuses it first.
pub async fn handle(
    ws: WebSocketUpgrade,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Query(params): Query<Params>,
    State(state): State<Context>,
) -> Response {
    let place = match state.sessions.admit(peer) {
        Ok(place) => place,
        Err(refused) => return axum::response::IntoResponse::into_response(refused),
    };
    let current = params.format.as_deref() == Some("current");
    let limits = state.sessions.clone();
    ws.protocols(super::first_subprotocol(&headers))
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .on_upgrade(move |socket| async move {
            session(limits.push_session(socket), state, current).await;
            drop(place);
        })
}

/// The subscriptions of a client's first message, `{"Subs": [...]}`; empty when it is
/// not one or names none.
pub fn subscriptions(text: &str) -> HashSet<String> {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| {
            v.get("Subs")?.as_array().map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect::<HashSet<_>>()
            })
        })
        .unwrap_or_default()
}

async fn send(socket: &mut Session, v: Value) -> bool {
    matches!(
        tokio::time::timeout(
            SEND_TIMEOUT,
            socket.send(Message::Text(v.to_string().into()))
        )
        .await,
        Ok(Ok(()))
    )
}

/// Answers `{"Resp":"ERROR"}` and closes with 1008 and `why`.
async fn refuse(socket: &mut Session, why: &str) {
    let _ = send(socket, json!({ "Resp": "ERROR" })).await;
    socket.close(1008, why).await;
}

async fn session(mut socket: Session, state: Context, current: bool) {
    let subs = match tokio::time::timeout(NEGOTIATION, socket.recv()).await {
        Err(_) => return refuse(&mut socket, "expected {\"Subs\": [...]} within 2 s").await,
        // Closed by the client, or already told why (1009 for a message over 4 KiB).
        Ok(None) => return,
        Ok(Some(Message::Text(t))) => subscriptions(&t),
        Ok(Some(_)) => HashSet::new(),
    };
    if subs.is_empty() {
        return refuse(
            &mut socket,
            "expected {\"Subs\": [...]} naming ping, idxStats, sysStats or sysDesc",
        )
        .await;
    }
    if !send(&mut socket, json!({ "Resp": "ACK" })).await {
        return;
    }
    let mut host = HostStats::new(state.proc.clone(), state.cache);
    let push = |kind: &str, data: Value| json!({ "type": kind, "data": data });
    let remote = Remote(&state);
    let mut ssh = Watched::default();
    if subs.contains("sysDesc")
        && !send(
            &mut socket,
            push(
                "sysDesc",
                ssh.description(&state, remote.description(host.description())),
            ),
        )
        .await
    {
        return;
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    let mut stats = tokio::time::interval(state.stats_interval);
    loop {
        let message = tokio::select! {
            _ = ping.tick() => subs.contains("ping").then(|| push("ping", ssh.ping(&state, remote.ping(host.ping(current), current), current))),
            _ = stats.tick() => {
                let mut batch = Vec::new();
                if subs.contains("sysStats") {
                    let all = ssh.stats(&state, remote.stats(host.stats(current), current), current);
                    batch.push(push("sysStats", all));
                }
                if subs.contains("idxStats") {
                    // No indexers behind a metrics agent.
                    batch.push(push("idxStats", json!({ "Stats": {} })));
                }
                let mut ok = true;
                for m in batch {
                    ok = ok && send(&mut socket, m).await;
                }
                if !ok {
                    return;
                }
                None
            }
            // The stream is push-only: anything the client says after Subs is ignored.
            incoming = socket.recv() => match incoming {
                None => return,
                Some(_) => None,
            },
        };
        if let Some(m) = message {
            if !send(&mut socket, m).await {
                return;
            }
        }
    }
}

/// A remote host not heard from for this long is "Disconnected" (hsflowd polls every
/// 30 s by default).
const REMOTE_SILENT: Duration = Duration::from_secs(120);

/// The hosts of the registry as more backends, added to this host's messages.
struct Remote<'a>(&'a Context);

impl Remote<'_> {
    fn description(&self, mut local: Value) -> Value {
        if let Some(map) = local.as_object_mut() {
            for h in self.0.registry.hosts() {
                let latest = h.latest.as_ref().map(|(_, v)| v);
                let int = |at: H| latest.and_then(|v| v.int(at as usize));
                let version = h
                    .descr
                    .as_ref()
                    .map(|d| {
                        format!("{} {}", d.os_name_name(), d.os_release)
                            .trim()
                            .to_owned()
                    })
                    .unwrap_or_default();
                map.insert(
                    h.name(),
                    json!({
                        "CPUCount": int(H::cpu_num).unwrap_or(0),
                        "CPUModel": "",
                        "CPUMhz": int(H::cpu_speed).map(|m| m.to_string()).unwrap_or_default(),
                        "CPUCache": "",
                        "CPUMIPS": "",
                        "TotalMemoryMB": int(H::mem_total).unwrap_or(0) >> 20,
                        "SystemVersion": version,
                    }),
                );
            }
        }
        local
    }

    fn state(&self, h: &RemoteHost) -> &'static str {
        let silent_ms = i64::try_from(REMOTE_SILENT.as_millis()).unwrap_or(i64::MAX);
        if now_ms().saturating_sub(h.last_seen_ms) > silent_ms {
            "Disconnected"
        } else {
            "OK"
        }
    }

    fn ping(&self, mut local: Value, current: bool) -> Value {
        for h in self.0.registry.hosts() {
            let state = self.state(&h);
            if current {
                if let Some(m) = local.get_mut("States").and_then(Value::as_object_mut) {
                    m.insert(h.name(), state.into());
                }
            } else if let Some(a) = local.get_mut("States").and_then(Value::as_array_mut) {
                a.push(json!({ "Addr": h.name(), "State": state }));
            }
        }
        local
    }

    fn stats(&self, mut local: Value, current: bool) -> Value {
        let sources = self
            .0
            .collector
            .as_ref()
            .map(|c| c.sources())
            .unwrap_or_default();
        for h in self.0.registry.hosts() {
            let Some((at, v)) = &h.latest else { continue };
            let int = |at: H| v.int(at as usize).unwrap_or(0);
            let mut cpu_usage = 0.0;
            let (mut up, mut down) = (0u64, 0u64);
            if let Some((prev_at, p)) = &h.previous {
                let elapsed = u64::try_from(at - prev_at).unwrap_or(0);
                let delta = |c: H| {
                    let (a, b) = (p.int(c as usize)?, v.int(c as usize)?);
                    Some(counter_delta(a, b, CounterWidth::Bits32))
                };
                let busy: u64 = [
                    H::cpu_user,
                    H::cpu_nice,
                    H::cpu_system,
                    H::cpu_intr,
                    H::cpu_sintr,
                ]
                .into_iter()
                .filter_map(delta)
                .sum();
                let idle: u64 = [H::cpu_idle, H::cpu_waiting_io]
                    .into_iter()
                    .filter_map(delta)
                    .sum();
                if busy + idle > 0 {
                    cpu_usage = busy as f64 * 100.0 / (busy + idle) as f64;
                }
                let rate = |c: H| match (p.int(c as usize), v.int(c as usize)) {
                    (Some(a), Some(b)) => rate_per_sec(a, b, CounterWidth::Bits64, elapsed) as u64,
                    _ => 0,
                };
                up = rate(H::bytes_out);
                down = rate(H::bytes_in);
            }
            let total = int(H::mem_total);
            let disk_total = int(H::disk_total);
            let disks = if v.has(Method::HostDisk) {
                vec![json!({
                    "Mount": "",
                    "Partition": "local filesystems (sFlow)",
                    "Total": disk_total,
                    "Used": disk_total.saturating_sub(int(H::disk_free)),
                })]
            } else {
                Vec::new()
            };
            let source = sources.iter().find(|(a, _)| *a == h.source).map(|(_, s)| {
                json!({
                    "Datagrams": s.datagrams,
                    "Samples": s.samples,
                    "Records": s.records,
                    "DecodeErrors": s.errors.values().sum::<u64>(),
                    "SequenceGaps": s.sequence_gaps,
                    "AllowlistDrops": s.allowlist_drops,
                })
            });
            let error = match self.state(&h) {
                "OK" => String::new(),
                _ => format!(
                    "no sFlow from {} for over {} s",
                    h.key.agent,
                    REMOTE_SILENT.as_secs()
                ),
            };
            if current {
                let entry = json!({ "Error": error, "Stats": {
                    "Uptime": int(H::cpu_uptime),
                    "TotalMemory": total,
                    "MemoryUsedPercent": if total == 0 { 0.0 } else {
                        total.saturating_sub(int(H::mem_free) + int(H::mem_buffers) + int(H::mem_cached)) as f64 * 100.0 / total as f64
                    },
                    "Disks": disks,
                    "CPUUsage": cpu_usage,
                    "CPUCount": int(H::cpu_num),
                    "Net": { "Up": up, "Down": down },
                    "Sflow": source,
                }});
                if let Some(m) = local.get_mut("Stats").and_then(Value::as_object_mut) {
                    m.insert(h.name(), entry);
                }
            } else if let Some(a) = local.get_mut("Stats").and_then(Value::as_array_mut) {
                a.push(json!({
                    "Name": h.name(),
                    "Error": error,
                    "Host": {
                        "Uptime": int(H::cpu_uptime),
                        "TotalMemory": total,
                        "FreeMemory": int(H::mem_free),
                        "CachedMemory": int(H::mem_cached),
                        "Disks": disks,
                        "CPUUsage": cpu_usage,
                        "Net": { "Up": up, "Down": down },
                    },
                    "Sflow": source,
                }));
            }
        }
        local
    }
}

/// The hosts watched over SSH as more backends: one [`HostStats`] each over its mirror,
/// kept for the session so rates have a previous reading.
#[derive(Default)]
struct Watched(HashMap<String, HostStats>);

/// Puts `other`'s entries into `into`: maps are joined, arrays appended.
fn merge(into: &mut Value, other: Value) {
    match (into, other) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(existing) if existing.is_object() || existing.is_array() => {
                        merge(existing, v);
                    }
                    _ => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => a.extend(b),
        _ => {}
    }
}

impl Watched {
    /// The watched hosts now, each with its error, keeping one `HostStats` per host.
    fn refresh(&mut self, state: &Context) -> Vec<(String, Option<String>)> {
        let hosts = state.ssh.hosts();
        self.0.retain(|name, h| {
            hosts
                .iter()
                .any(|w| &w.name() == name && Arc::ptr_eq(&w.mirror, &h.proc))
        });
        hosts
            .into_iter()
            .map(|w| {
                let name = w.name();
                self.0.entry(name.clone()).or_insert_with(|| {
                    HostStats::named(w.mirror.clone(), state.cache, name.clone())
                });
                (name, w.error)
            })
            .collect()
    }

    fn description(&mut self, state: &Context, mut all: Value) -> Value {
        for (name, _) in self.refresh(state) {
            if let Some(h) = self.0.get(&name) {
                merge(&mut all, h.description());
            }
        }
        all
    }

    fn ping(&mut self, state: &Context, mut all: Value, current: bool) -> Value {
        for (name, error) in self.refresh(state) {
            let up = if error.is_none() {
                "OK"
            } else {
                "Disconnected"
            };
            let entry = if current {
                json!({ "States": { name: up } })
            } else {
                json!({ "States": [{ "Addr": name, "State": up }] })
            };
            merge(&mut all, entry);
        }
        all
    }

    fn stats(&mut self, state: &Context, mut all: Value, current: bool) -> Value {
        for (name, error) in self.refresh(state) {
            let Some(h) = self.0.get_mut(&name) else {
                continue;
            };
            // Nothing polled yet: no entry rather than zeros.
            if h.proc.read("stat", Duration::ZERO).is_err() {
                continue;
            }
            let mut entry = h.stats(current);
            let error = error.unwrap_or_default();
            if current {
                if let Some(e) = entry.pointer_mut(&format!(
                    "/Stats/{}",
                    name.replace('~', "~0").replace('/', "~1")
                )) {
                    e["Error"] = error.into();
                }
            } else if let Some(e) = entry.pointer_mut("/Stats/0") {
                e["Error"] = error.into();
            }
            if let Some(m) = entry.as_object_mut() {
                m.remove("Error");
            }
            merge(&mut all, entry);
        }
        all
    }
}

/// This host as a stats backend: what rates are measured from.
struct HostStats {
    proc: Arc<ProcCache>,
    /// The age of shared reads this endpoint accepts.
    max_age: Duration,
    name: String,
    /// The model the previous push's rates were measured to.
    prev: Option<Arc<HostSnapshot>>,
    /// The rates of the last push, given again while /proc/stat is the same reading
    /// (a mirror polled less often than the stream pushes).
    rates: Rates,
}

/// Rates between two readings.
#[derive(Clone, Default)]
struct Rates {
    cpu: f64,
    iowait: f64,
    net_up: u64,
    net_down: u64,
    io: Vec<Value>,
}

impl Rates {
    fn between(prev: &HostSnapshot, now: &HostSnapshot) -> Self {
        let elapsed_ms = now.read_at.duration_since(prev.read_at).as_millis().max(1) as u64;
        let (p, n) = (&prev.sample, &now.sample);
        let shares = cpu_shares(&p.cpu, &n.cpu).unwrap_or_default();
        // All interfaces together, as the stream's Up and Down are.
        let sums = |s: &crate::collect::host::LinuxHostSample| {
            s.interfaces.iter().fold((0u64, 0u64), |(up, down), i| {
                (up.wrapping_add(i.tx_bytes), down.wrapping_add(i.rx_bytes))
            })
        };
        let ((up0, down0), (up1, down1)) = (sums(p), sums(n));
        let per_sec =
            |a: u64, b: u64| (b.saturating_sub(a) as f64 * 1000.0 / elapsed_ms as f64) as u64;
        let io = n
            .disks
            .iter()
            .filter_map(|d| {
                let before = p.disks.iter().find(|b| b.name == d.name)?;
                let r = disk_rates(before, d, CounterWidth::Bits64, elapsed_ms);
                Some(json!({
                    "Device": d.name.as_str(),
                    "Read": r.read_bytes_per_sec as u64,
                    "Write": r.write_bytes_per_sec as u64,
                }))
            })
            .collect();
        Rates {
            cpu: f64::from(shares.busy) * 100.0,
            iowait: f64::from(shares.iowait) * 100.0,
            net_up: per_sec(up0, up1),
            net_down: per_sec(down0, down1),
            io,
        }
    }
}

impl HostStats {
    fn new(proc: Arc<ProcCache>, max_age: Duration) -> Self {
        let name = proc
            .bytes("sys/kernel/hostname", max_age)
            .map(|h| String::from_utf8_lossy(&h).trim().to_owned())
            .unwrap_or_else(|_| "localhost".into());
        Self::named(proc, max_age, name)
    }

    fn named(proc: Arc<ProcCache>, max_age: Duration, name: String) -> Self {
        HostStats {
            proc,
            max_age,
            name,
            prev: None,
            rates: Rates::default(),
        }
    }

    /// A file's content, or nothing when it cannot be read (the stream reports what it
    /// has rather than stopping).
    fn read(&self, rel: &str) -> Arc<[u8]> {
        self.proc
            .bytes(rel, self.max_age)
            .unwrap_or_else(|_| Arc::from(&[][..]))
    }

    fn description(&self) -> Value {
        let bytes = self.read("cpuinfo");
        let mut info = Box::new(cpuinfo::CpuInfo::<4096>::default());
        let _ = cpuinfo::parse_into(&bytes, &mut info);
        let first = |key: &[u8]| {
            cpuinfo::records(&bytes)
                .filter_map(Result::ok)
                .find_map(|r| match r {
                    cpuinfo::Record::Entry { key: k, value } if k.as_bytes() == key => {
                        Some(value.to_string())
                    }
                    _ => None,
                })
                .unwrap_or_default()
        };
        let p0 = info
            .processors
            .as_slice()
            .first()
            .copied()
            .unwrap_or_default();
        let mem = self
            .proc
            .host(Parts::MEMORY, self.max_age)
            .map_or(0, |m| m.sample.memory.total_bytes);
        let os = String::from_utf8_lossy(&self.read("sys/kernel/ostype"))
            .trim()
            .to_owned();
        let release = String::from_utf8_lossy(&self.read("sys/kernel/osrelease"))
            .trim()
            .to_owned();
        json!({ self.name.clone(): {
            "CPUCount": info.logical(),
            "CPUModel": p0.model.to_string(),
            "CPUMhz": p0.mhz.map(|m| format!("{m:.3}")).unwrap_or_default(),
            "CPUCache": first(b"cache size"),
            "CPUMIPS": first(b"bogomips"),
            "TotalMemoryMB": mem >> 20,
            "SystemVersion": format!("{os} {release}").trim().to_owned(),
        }})
    }

    fn ping(&self, current: bool) -> Value {
        if current {
            json!({ "States": { self.name.clone(): "OK" } })
        } else {
            json!({ "Error": "", "States": [{ "Addr": self.name, "State": "OK" }] })
        }
    }

    /// Mounted, device-backed filesystems: (mount, device, total, used) bytes.
    fn disks(&self) -> Vec<(String, String, u64, u64)> {
        let Ok(model) = self.proc.host(Parts::FILESYSTEMS, self.max_age) else {
            return Vec::new();
        };
        model
            .filesystems
            .iter()
            .filter_map(|f| {
                let s = f.space?;
                Some((
                    f.mount_point.clone(),
                    f.device.clone(),
                    s.total,
                    s.total.saturating_sub(s.free),
                ))
            })
            .collect()
    }

    fn stats(&mut self, current: bool) -> Value {
        let parts = Parts::CPU
            | Parts::MEMORY
            | Parts::INTERFACES
            | Parts::DISKS
            | Parts::UPTIME
            | Parts::LOAD;
        // What cannot be read shows as zeros: the stream reports what it has.
        let model = self.proc.host(parts, self.max_age).ok();
        let sample = model.as_ref().map(|m| &*m.sample);
        let same_reading = match (&self.prev, &model) {
            (Some(p), Some(m)) => p.read_at == m.read_at,
            _ => false,
        };
        if !same_reading {
            self.rates = match (&self.prev, &model) {
                (Some(prev), Some(now)) => Rates::between(prev, now),
                _ => Rates::default(),
            };
            if let Some(m) = &model {
                self.prev = Some(m.clone());
            }
        }
        let Rates {
            cpu,
            iowait,
            net_up,
            net_down,
            io: io_rates,
        } = self.rates.clone();
        let cpus = sample.map_or(&[][..], |s| s.cpus.as_slice());
        let memory = sample.map(|s| s.memory).unwrap_or_default();
        let total = memory.total_bytes;
        let uptime = sample.map_or(0, |s| s.uptime_secs as u64);
        let disks = self.disks();
        if current {
            let load = sample.map(|s| s.load);
            json!({ "Stats": { self.name.clone(): { "Stats": {
                "Uptime": uptime,
                "TotalMemory": total,
                "MemoryUsedPercent": if total == 0 { 0.0 } else { memory.used_bytes() as f64 * 100.0 / total as f64 },
                "Disks": disks.iter().map(|(mount, dev, t, u)| json!({ "Mount": mount, "Partition": dev, "Total": t, "Used": u, "ID": dev })).collect::<Vec<_>>(),
                "CPUUsage": cpu,
                "CPUCount": cpus.len(),
                "Net": { "Up": net_up, "Down": net_down },
                "IO": io_rates,
                "LoadAverage": load.map(|l| {
                    let [load1, load5, load15] = l.averages();
                    json!({ "load1": load1, "load5": load5, "load15": load15 })
                }),
                "Iowait": iowait,
            }}}})
        } else {
            json!({ "Error": "", "Stats": [{
                "Name": self.name,
                "Error": "",
                "Host": {
                    "Uptime": uptime,
                    "TotalMemory": total,
                    "FreeMemory": memory.free_bytes,
                    "CachedMemory": memory.cached_bytes,
                    "Disks": disks.iter().map(|(mount, dev, t, u)| json!({ "Mount": mount, "Partition": dev, "Total": t, "Used": u })).collect::<Vec<_>>(),
                    "CPUUsage": cpu,
                    "Net": { "Up": net_up, "Down": net_down },
                },
            }]})
        }
    }
}
