//! `/` (WebSocket): the psiod protocol (PROTOCOLS.md §5). Requests are text frames
//! `{"type":"command","data":{"name":...}}`; replies are `{"type":"response","data":...}`
//! in order, with psutil's field names and units.
//!
//! Beyond psiod: bad input gets `{"type":"error","data":{"message":...}}` and the
//! connection carries on (psiod had no error reply and dropped the socket);
//! `process.kill` is refused unless the agent runs with `--allow-kill`; `process.getall`
//! lists every process, as the README says (psiod's code listed its own user's only), and
//! its `cpu_percent` is measured since this connection's previous call.
//!
//! `/?host=NAME` serves a host watched over SSH (`--ssh-watch` or a `/monitor` client)
//! from the files its poller last read: the same replies, as fresh as that poll, and no
//! `process.kill`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::net::SocketAddr;

use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::response::{IntoResponse, Response};
use ferrostat_core::metrics::rates::per_cpu_shares;
use ferrostat_core::metrics::CoreCounters;
use serde_json::{json, Value};

use super::ws::Session;
use crate::collect::host::{HostSnapshot, Parts};
use crate::collect::shared::ProcCache;
use crate::ssh::hub::Hub;

/// Largest request accepted; psiod commands are under 100 bytes.
pub const MAX_MESSAGE: usize = 64 * 1024;
/// Requests per second one connection may make before it is told to slow down (the
/// bundled frontend polls once a second per view).
const MAX_RATE: u32 = 50;

/// Query parameters.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Params {
    /// A host watched over SSH, instead of this one.
    host: Option<String>,
}

/// What psiod sessions need of the agent.
#[derive(Clone)]
pub struct Context {
    /// This host's reads.
    pub proc: Arc<ProcCache>,
    /// The age of shared reads this endpoint accepts.
    pub cache: Duration,
    /// Whether `process.kill` may kill.
    pub allow_kill: bool,
    /// WebSocket places.
    pub sessions: super::ws::SessionLimits,
    /// Hosts watched over SSH, for `?host=`.
    pub ssh: Arc<Hub>,
}

/// Upgrades to a psiod session (of this host, or of the watched host `?host=` names),
/// or answers 503 at the connection limit and 404 for a host not watched.
pub async fn handle(
    ws: WebSocketUpgrade,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(params): Query<Params>,
    State(state): State<Context>,
) -> Response {
    let (proc, allow_kill) = match &params.host {
        None => (state.proc.clone(), state.allow_kill),
        Some(name) => match state.ssh.find(name) {
            Some(host) => (host.mirror, false),
            None => return super::no_such_host(name),
        },
    };
    let place = match state.sessions.admit(peer) {
        Ok(place) => place,
        Err(refused) => return refused.into_response(),
    };
    let conn = Connection::new(proc, state.cache, allow_kill);
    let limits = state.sessions.clone();
    ws.max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .on_upgrade(move |socket| async move {
            session(limits.polled_session(socket), conn).await;
            drop(place);
        })
}

async fn session(mut socket: Session, conn: Connection) {
    let mut conn = Some(conn);
    let mut window = (Instant::now(), 0u32);
    // One request at a time: a slow reader holds up only its own replies, and nothing
    // queues in memory on its behalf.
    while let Some(message) = socket.recv().await {
        let text = match message {
            Message::Text(t) => t.to_string(),
            _ => {
                let e = error(None, "binary frames are not psiod commands: send JSON text");
                if send(&mut socket, e).await.is_err() {
                    break;
                }
                continue;
            }
        };
        if window.0.elapsed() >= Duration::from_secs(1) {
            window = (Instant::now(), 0);
        }
        window.1 += 1;
        if window.1 > MAX_RATE {
            if window.1 > MAX_RATE * 10 {
                break; // a flood, not a client
            }
            if send(
                &mut socket,
                error(None, "rate limit exceeded: at most 50 requests per second"),
            )
            .await
            .is_err()
            {
                break;
            }
            continue;
        }
        let Some(c) = conn.take() else { break };
        // /proc reads block; keep them off the async workers.
        let Ok((c, reply)) = tokio::task::spawn_blocking(move || {
            let mut c = c;
            let reply = c.request(&text);
            (c, reply)
        })
        .await
        else {
            break;
        };
        conn = Some(c);
        if let Some(reply) = reply {
            if send(&mut socket, reply).await.is_err() {
                break;
            }
        }
    }
}

async fn send(socket: &mut Session, value: Value) -> Result<(), axum::Error> {
    socket.send(Message::Text(value.to_string().into())).await
}

fn response(data: Value) -> Value {
    json!({ "type": "response", "data": data })
}

fn error(command: Option<&str>, message: &str) -> Value {
    match command {
        Some(c) => json!({ "type": "error", "data": { "command": c, "message": message } }),
        None => json!({ "type": "error", "data": { "message": message } }),
    }
}

/// A connection's state: what its deltas are measured from.
pub(crate) struct Connection {
    proc: Arc<ProcCache>,
    /// The age of shared reads this endpoint accepts.
    max_age: Duration,
    allow_kill: bool,
    /// Each CPU's counters at the previous `cpu.getall` (a copy: holding the snapshot
    /// would keep the model from reusing its sample).
    cpu_prev: Vec<CoreCounters>,
    /// Per-process CPU ticks and when they were read, at the previous `process.getall`.
    proc_prev: HashMap<u32, u64>,
    proc_prev_at: Option<Instant>,
    /// The shares last computed, given again for a list taken at the same moment (a
    /// cached scan or a mirror not polled since).
    proc_percent: HashMap<u32, f64>,
    ticks_per_sec: f64,
}

impl Connection {
    pub(crate) fn new(proc: Arc<ProcCache>, max_age: Duration, allow_kill: bool) -> Self {
        Connection {
            proc,
            max_age,
            allow_kill,
            cpu_prev: Vec::new(),
            proc_prev: HashMap::new(),
            proc_prev_at: None,
            proc_percent: HashMap::new(),
            ticks_per_sec: rustix::param::clock_ticks_per_second() as f64,
        }
    }

    /// Answers one text frame; `None` when psiod sends no reply.
    pub(crate) fn request(&mut self, text: &str) -> Option<Value> {
        let msg: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => return Some(error(None, &format!("malformed JSON: {e}"))),
        };
        if msg.get("type").and_then(Value::as_str) != Some("command") {
            return Some(error(
                None,
                "expected {\"type\":\"command\",\"data\":{\"name\":...}}",
            ));
        }
        let data = msg.get("data").cloned().unwrap_or(Value::Null);
        let Some(name) = data.get("name").and_then(Value::as_str) else {
            return Some(error(None, "missing data.name"));
        };
        let pid = data.get("pid").map(ProcessId::from_json);
        let result = match name {
            "process.getall" => self.processes().map(response),
            "process.get" => match pid {
                Some(Ok(pid)) => self.process(pid.0.get()),
                Some(Err(e)) => Err(e),
                None => Err("process.get needs a numeric data.pid".into()),
            },
            "process.kill" => return self.kill(pid),
            "cpu.getall" => self.cpus().map(response),
            "memory.getall" => self.memory().map(|m| {
                // The README shows {virtual, swap} bare, psiod's code wraps it in
                // {type, data}: one object that is both serves either reader.
                let mut r = response(m.clone());
                if let (Some(r), Some(m)) = (r.as_object_mut(), m.as_object()) {
                    r.extend(m.clone());
                }
                r
            }),
            "disk.getall" => self.partitions().map(response),
            "disk.root.getstats" => root_usage(&self.proc).map(response),
            "network.getstats" => self.network().map(response),
            "host.getstats" => self.host().map(response),
            _ => Err("unknown command".into()),
        };
        Some(result.unwrap_or_else(|message| error(Some(name), &message)))
    }

    fn process_json(
        &self,
        p: &crate::collect::process::ProcessInfo,
        names: &HashMap<u32, String>,
        cpu_percent: f64,
        mem_total: u64,
    ) -> Value {
        let hz = self.ticks_per_sec;
        json!({
            "pid": p.pid,
            "name": p.name,
            "username": p.uid.and_then(|u| names.get(&u).cloned()).or(p.uid.map(|u| u.to_string())),
            "status": p.status_name(),
            "nice": p.nice,
            "num_threads": p.num_threads,
            "cpu_percent": (cpu_percent * 10.0).round() / 10.0,
            "cpu_times": [p.utime as f64 / hz, p.stime as f64 / hz],
            "memory_info": [p.rss_bytes, p.vms_bytes],
            "memory_rss": p.rss_bytes,
            "memory_vms": p.vms_bytes,
            "memory_percent": if mem_total == 0 { 0.0 } else { p.rss_bytes as f64 * 100.0 / mem_total as f64 },
        })
    }

    fn host_model(&self, parts: Parts) -> Result<Arc<HostSnapshot>, String> {
        self.proc.host(parts, self.max_age)
    }

    fn mem_total(&self) -> Result<u64, String> {
        Ok(self.host_model(Parts::MEMORY)?.sample.memory.total_bytes)
    }

    fn processes(&mut self) -> Result<Value, String> {
        let snapshot = self
            .proc
            .processes(self.max_age, true)
            .map_err(|e| format!("/proc: {e}"))?;
        let list = &snapshot.list;
        let names = self.proc.users();
        let mem_total = self.mem_total()?;
        let now = snapshot.taken;
        if self.proc_prev_at != Some(now) {
            let elapsed = self
                .proc_prev_at
                .map(|t| now.duration_since(t).as_secs_f64());
            let mut next = HashMap::with_capacity(list.len());
            let mut percents = HashMap::with_capacity(list.len());
            for p in list {
                let ticks = p.utime + p.stime;
                next.insert(p.pid, ticks);
                let percent = match (elapsed, self.proc_prev.get(&p.pid)) {
                    (Some(secs), Some(&prev)) if secs > 0.0 => {
                        ticks.saturating_sub(prev) as f64 / self.ticks_per_sec / secs * 100.0
                    }
                    _ => 0.0,
                };
                percents.insert(p.pid, percent);
            }
            self.proc_prev = next;
            self.proc_prev_at = Some(now);
            self.proc_percent = percents;
        }
        let out: Vec<Value> = list
            .iter()
            .map(|p| {
                let percent = self.proc_percent.get(&p.pid).copied().unwrap_or(0.0);
                self.process_json(p, &names, percent, mem_total)
            })
            .collect();
        Ok(Value::Array(out))
    }

    /// One process, its CPU share measured over 0.1 s as psutil's `get_cpu_percent` did;
    /// on a mirror, from its process list like `process.getall`'s.
    fn process(&mut self, pid: u32) -> Result<Value, String> {
        let gone = || format!("no such process: {pid}");
        if !self.proc.is_local() {
            let all = self.processes()?;
            let found = all
                .as_array()
                .and_then(|a| a.iter().find(|p| p["pid"] == pid))
                .cloned();
            return found.map(response).ok_or_else(gone);
        }
        let first = self.proc.process(pid).ok_or_else(gone)?;
        let start = Instant::now();
        std::thread::sleep(Duration::from_millis(100));
        let second = self.proc.process(pid).ok_or_else(gone)?;
        let secs = start.elapsed().as_secs_f64();
        let ticks = (second.utime + second.stime).saturating_sub(first.utime + first.stime);
        let percent = ticks as f64 / self.ticks_per_sec / secs * 100.0;
        Ok(response(self.process_json(
            &second,
            &self.proc.users(),
            percent,
            self.mem_total()?,
        )))
    }

    fn kill(&self, pid: Option<Result<ProcessId, String>>) -> Option<Value> {
        if !self.proc.is_local() {
            return Some(error(
                Some("process.kill"),
                "process.kill is not available for a host watched over SSH",
            ));
        }
        if !self.allow_kill {
            return Some(error(
                Some("process.kill"),
                "process.kill is disabled: start the agent with --allow-kill to allow it",
            ));
        }
        let pid = match pid {
            Some(Ok(pid)) => pid,
            Some(Err(e)) => return Some(error(Some("process.kill"), &e)),
            None => {
                return Some(error(
                    Some("process.kill"),
                    "process.kill needs a numeric data.pid",
                ))
            }
        };
        // Checked again against the running kernel's limit: a pid past it names nothing.
        if pid.0.get() > pid_max(&self.proc) {
            return Some(error(
                Some("process.kill"),
                &format!("no such process: {}", pid.0),
            ));
        }
        match rustix::process::kill_process(pid.rustix(), rustix::process::Signal::KILL) {
            // psiod sends no reply to a kill that worked.
            Ok(()) => None,
            Err(e) => Some(error(Some("process.kill"), &format!("kill {}: {e}", pid.0))),
        }
    }

    fn cpus(&mut self) -> Result<Value, String> {
        let now = self.host_model(Parts::CPU)?;
        let cpus = now.sample.cpus.as_slice();
        let out: Vec<Value> = per_cpu_shares(&self.cpu_prev, cpus)
            .map(|(id, shares)| {
                let usage = shares.map_or(0.0, |s| f64::from(s.busy) * 100.0);
                json!({ "num": id, "usage": (usage * 10.0).round() / 10.0 })
            })
            .collect();
        self.cpu_prev.clear();
        self.cpu_prev.extend_from_slice(cpus);
        Ok(Value::Array(out))
    }

    fn memory(&self) -> Result<Value, String> {
        let model = self.host_model(Parts::MEMORY | Parts::SWAP_ACTIVITY)?;
        let m = &model.sample.memory;
        // psutil: used = total - free - buffers - cached; percent from available.
        let used = m.total_bytes.saturating_sub(
            m.free_bytes
                .saturating_add(m.buffers_bytes)
                .saturating_add(m.cached_bytes),
        );
        let percent = |part: u64, whole: u64| {
            if whole == 0 {
                0.0
            } else {
                (part as f64 * 1000.0 / whole as f64).round() / 10.0
            }
        };
        let swap_used = m.swap_used_bytes();
        let page = if self.proc.is_local() {
            rustix::param::page_size() as u64
        } else {
            4096
        };
        Ok(json!({
            "virtual": {
                "total": m.total_bytes, "available": m.available_bytes, "percent": percent(m.used_bytes(), m.total_bytes),
                "used": used, "free": m.free_bytes, "active": m.active_bytes, "inactive": m.inactive_bytes,
                "buffers": m.buffers_bytes, "cached": m.cached_bytes,
            },
            "swap": {
                "total": m.swap_total_bytes, "used": swap_used, "free": m.swap_free_bytes, "percent": percent(swap_used, m.swap_total_bytes),
                "sin": m.swap_in_pages.saturating_mul(page), "sout": m.swap_out_pages.saturating_mul(page),
            },
        }))
    }

    /// Mounted filesystems that are backed by a device (psutil `disk_partitions(all=False)`:
    /// types /proc/filesystems marks `nodev` are left out).
    fn partitions(&self) -> Result<Value, String> {
        let model = self.host_model(Parts::FILESYSTEMS)?;
        let out: Vec<Value> = model
            .filesystems
            .iter()
            .map(|f| {
                json!({
                    "device": f.device,
                    "mountpoint": f.mount_point,
                    "fstype": f.fs_type,
                    "opts": f.options,
                })
            })
            .collect();
        Ok(Value::Array(out))
    }

    fn network(&self) -> Result<Value, String> {
        let model = self.host_model(Parts::INTERFACES)?;
        let (mut sent, mut received) = (0u64, 0u64);
        for i in &model.sample.interfaces {
            sent = sent.wrapping_add(i.tx_bytes);
            received = received.wrapping_add(i.rx_bytes);
        }
        Ok(json!({ "bytes_sent": sent, "bytes_received": received }))
    }

    fn host(&self) -> Result<Value, String> {
        let model = self.host_model(Parts::HOSTNAME)?;
        Ok(json!({ "hostname": model.sample.hostname.as_str() }))
    }
}

/// A process id as the kernel could have made it: 1 to `PID_MAX_LIMIT` (2^22, the
/// largest `/proc/sys/kernel/pid_max` can be set to; include/linux/threads.h). Never 0
/// or negative, which `kill(2)` reads as a process group or every process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcessId(std::num::NonZeroU32);

/// The kernel's ceiling on `pid_max` (include/linux/threads.h, 64-bit).
const PID_MAX_LIMIT: u32 = 4 * 1024 * 1024;

impl ProcessId {
    /// `data.pid` of a request: an integer from 1 to the kernel's limit, or why not.
    pub fn from_json(value: &Value) -> Result<Self, String> {
        let pid = value
            .as_u64()
            .ok_or_else(|| format!("data.pid must be a positive integer, not {value}"))?;
        u32::try_from(pid)
            .ok()
            .filter(|&p| p <= PID_MAX_LIMIT)
            .and_then(std::num::NonZeroU32::new)
            .map(ProcessId)
            .ok_or_else(|| format!("no such process: {pid} (process ids are 1 to {PID_MAX_LIMIT})"))
    }

    fn rustix(self) -> rustix::process::Pid {
        // In range by construction: 1..=2^22 fits a positive i32.
        let raw = i32::try_from(self.0.get()).unwrap_or(1);
        rustix::process::Pid::from_raw(raw).unwrap_or(rustix::process::Pid::INIT)
    }
}

/// The running kernel's `pid_max`, or the ceiling when it cannot be read.
fn pid_max(proc: &ProcCache) -> u32 {
    proc.bytes("sys/kernel/pid_max", Duration::from_secs(60))
        .ok()
        .and_then(|b| std::str::from_utf8(&b).ok()?.trim().parse().ok())
        .unwrap_or(PID_MAX_LIMIT)
}

/// Usage of the root filesystem, as psutil's `disk_usage('/')` computes it.
fn root_usage(proc: &ProcCache) -> Result<Value, String> {
    let s = proc
        .space("/")
        .ok_or_else(|| "statvfs /: not available".to_owned())?;
    let used = s.total.saturating_sub(s.free);
    let free = s.available;
    let percent = if used + free == 0 {
        0.0
    } else {
        (used as f64 * 1000.0 / (used + free) as f64).round() / 10.0
    };
    Ok(json!({ "total": s.total, "used": used, "free": free, "percent": percent }))
}
