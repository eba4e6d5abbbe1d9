//! `/ws` (WebSocket): socktop_agent's protocol (PROTOCOLS.md §2). Requests are text
//! frames, answered one for one and in order; the endpoint never pushes or pings, since
//! socktop's client takes the next frame of any kind as the reply.
//!
//! - `get_metrics` / `get_disks` (and the README's `{"type":"metrics"|"disks"}`): JSON, as a
//!   text frame up to 768 bytes, gzip in a binary frame above.
//! - `get_processes` (and `{"type":"processes"}`): protobuf `socktop.Processes`, gzip above
//!   768 bytes.
//! - `get_process_metrics:<pid>`, `get_journal_entries:<pid>`: JSON or socktop's error object.
//! - Anything else gets `{"error": ..., "request": ...}` (socktop_agent sent nothing, leaving
//!   its client waiting forever).
//!
//! Values are collected when asked, behind caches shared by every client (metrics 250 ms,
//! disks 1 s, processes 1.5 s, as socktop_agent).
//!
//! `/ws?host=NAME` serves a host watched over SSH from the files its poller last read:
//! the same replies without temperatures, GPUs, process details or the journal, which
//! are not read over SSH.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::response::Response;
use ferrostat_core::metrics::rates::{cpu_shares, per_cpu_shares, CpuShares};
use ferrostat_core::metrics::{CoreCounters, CpuCounters};
use prost::Message as _;
use serde_json::{json, Value};
use tokio::sync::Mutex;

use super::ws::Session;
use crate::clock::now_ms_unsigned;
use crate::collect::gpu::{read_off_thread, GpuReading, Gpus};
use crate::collect::host::Parts;
use crate::collect::shared::ProcCache;
use crate::config::SocktopSettings as Settings;
use crate::ssh::hub::Hub;

/// Replies larger than this are gzip-compressed into binary frames (socktop's rule).
const GZIP_ABOVE: usize = 768;
/// socktop requests are a few bytes; anything near this is not a client.
const MAX_MESSAGE: usize = 16 * 1024;

/// `socktop.Processes` (the crate's `proto/processes.proto`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Processes {
    /// Rows that follow.
    #[prost(uint64, tag = "1")]
    pub process_count: u64,
    /// One per process.
    #[prost(message, repeated, tag = "2")]
    pub rows: Vec<ProcessRow>,
}

/// `socktop.Process`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProcessRow {
    /// Process id.
    #[prost(uint32, tag = "1")]
    pub pid: u32,
    /// Kernel comm.
    #[prost(string, tag = "2")]
    pub name: String,
    /// Share of the whole machine, percent.
    #[prost(float, tag = "3")]
    pub cpu_usage: f32,
    /// Resident set, bytes.
    #[prost(uint64, tag = "4")]
    pub mem_bytes: u64,
}

/// A cached reply with its age.
struct Cached<T> {
    value: Option<(Instant, T)>,
    ttl: Duration,
}

impl<T: Clone> Cached<T> {
    fn new(ttl: Duration) -> Self {
        Cached { value: None, ttl }
    }

    fn fresh(&self) -> Option<T> {
        self.value
            .as_ref()
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    fn store(&mut self, v: T) -> T {
        self.value = Some((Instant::now(), v.clone()));
        v
    }
}

/// State shared by every socktop client: reply caches and the counters deltas start from.
pub struct Shared {
    proc: Arc<ProcCache>,
    settings: Settings,
    /// NVML, when the agent may use it (SOCKTOP_AGENT_GPU=0 turns it off).
    gpus: Option<Arc<Gpus>>,
    inner: Mutex<Inner>,
}

struct Inner {
    metrics: Cached<Value>,
    disks: Cached<Value>,
    processes: Cached<Arc<Vec<u8>>>,
    /// All CPUs' and each CPU's counters at the previous uncached metrics collection (a
    /// copy: holding the snapshot would keep the model from reusing its sample).
    cpu_prev: Option<(CpuCounters, Vec<CoreCounters>)>,
    /// Per-process ticks and the machine's total ticks at the previous process collection.
    proc_prev: (std::collections::HashMap<u32, u64>, u64),
}

impl Shared {
    /// Caches empty; values are read through `proc` when asked.
    pub fn new(proc: Arc<ProcCache>, settings: Settings, gpus: Option<Arc<Gpus>>) -> Self {
        Shared {
            proc,
            inner: Mutex::new(Inner {
                metrics: Cached::new(settings.metrics_ttl),
                disks: Cached::new(settings.disks_ttl),
                processes: Cached::new(settings.processes_ttl),
                cpu_prev: None,
                proc_prev: (Default::default(), 0),
            }),
            settings,
            gpus,
        }
    }
}

/// What socktop sessions need of the agent.
#[derive(Clone)]
pub struct Context {
    /// This host's caches.
    pub socktop: Arc<Shared>,
    /// The caches of watched hosts (`?host=`).
    pub socktop_remote: Arc<RemoteShared>,
    /// WebSocket places.
    pub sessions: super::ws::SessionLimits,
    /// Hosts watched over SSH.
    pub ssh: Arc<Hub>,
}

/// Upgrades to a socktop session (503 at the connection limit). socktop's connector can
/// offer a sub-protocol and fails unless one is echoed, so the first offered is accepted.
pub async fn handle(
    ws: WebSocketUpgrade,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: axum::http::HeaderMap,
    Query(params): Query<Params>,
    State(state): State<Context>,
) -> Response {
    let shared = match &params.host {
        None => state.socktop.clone(),
        Some(name) => match state.ssh.find(name) {
            Some(host) => state.socktop_remote.get(&host, &state.socktop.settings),
            None => return super::no_such_host(name),
        },
    };
    let place = match state.sessions.admit(peer) {
        Ok(place) => place,
        Err(refused) => return axum::response::IntoResponse::into_response(refused),
    };
    let limits = state.sessions.clone();
    ws.protocols(super::first_subprotocol(&headers))
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .on_upgrade(move |socket| async move {
            session(limits.polled_session(socket), shared).await;
            drop(place);
        })
}

/// Query parameters.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Params {
    /// A host watched over SSH, instead of this one.
    host: Option<String>,
}

/// The caches of each watched host socktop clients have asked for, so its clients
/// share them as this host's do. Entries of hosts no longer watched are dropped.
#[derive(Default)]
pub struct RemoteShared(std::sync::Mutex<HashMap<String, Arc<Shared>>>);

impl RemoteShared {
    fn get(&self, host: &crate::ssh::hub::WatchedHost, settings: &Settings) -> Arc<Shared> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, s| Arc::strong_count(&s.proc) > 1);
        let name = host.name();
        match map.get(&name) {
            Some(s) if Arc::ptr_eq(&s.proc, &host.mirror) => s.clone(),
            _ => {
                let s = Arc::new(Shared::new(host.mirror.clone(), settings.clone(), None));
                map.insert(name, s.clone());
                s
            }
        }
    }
}

async fn session(mut socket: Session, shared: Arc<Shared>) {
    while let Some(message) = socket.recv().await {
        let reply = match message {
            Message::Text(t) => answer(&shared, t.as_str()).await,
            _ => json_reply(
                &json!({"error": "binary frames are not socktop requests", "request": "binary"}),
                Form::Command,
            ),
        };
        if socket.send(reply).await.is_err() {
            break;
        }
    }
}

/// How a request was written, which decides how its JSON reply is framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// The real client's text command (`get_metrics`): socktop's gzip rule.
    Command,
    /// The README's JSON (`{"type":"metrics"}`): always JSON text, as the README's
    /// examples decode it.
    Json,
}

/// What a socktop request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    Metrics,
    Disks,
    Processes,
    ProcessMetrics(u32),
    JournalEntries(u32),
    /// A pid that is not a number, for the request named.
    BadPid(&'static str),
    Unknown(String),
}

impl Request {
    /// Reads one text frame: the real client's commands or the README's JSON objects.
    pub fn parse(text: &str) -> (Request, Form) {
        let text = text.trim();
        // The README's JSON requests map onto the real client's text commands.
        let (command, form) = match serde_json::from_str::<Value>(text)
            .ok()
            .as_ref()
            .and_then(|v| v.get("type")?.as_str().map(str::to_owned))
        {
            Some(t) => (format!("get_{t}"), Form::Json),
            None => (text.to_owned(), Form::Command),
        };
        let request = match command.as_str() {
            "get_metrics" => Request::Metrics,
            "get_disks" => Request::Disks,
            "get_processes" => Request::Processes,
            c => match c.split_once(':') {
                Some(("get_process_metrics", pid)) => pid.parse().map_or(
                    Request::BadPid("get_process_metrics"),
                    Request::ProcessMetrics,
                ),
                Some(("get_journal_entries", pid)) => pid.parse().map_or(
                    Request::BadPid("get_journal_entries"),
                    Request::JournalEntries,
                ),
                _ => Request::Unknown(text.to_owned()),
            },
        };
        (request, form)
    }

    /// The command's name, as socktop's error objects give it.
    fn name(&self) -> &str {
        match self {
            Request::Metrics => "get_metrics",
            Request::Disks => "get_disks",
            Request::Processes => "get_processes",
            Request::ProcessMetrics(_) => "get_process_metrics",
            Request::JournalEntries(_) => "get_journal_entries",
            Request::BadPid(name) => name,
            Request::Unknown(text) => text,
        }
    }
}

/// The reply to one request.
async fn answer(shared: &Shared, text: &str) -> Message {
    let (request, form) = Request::parse(text);
    let result = match &request {
        Request::Metrics => metrics(shared).await.map(|v| json_reply(&v, form)),
        Request::Disks => disks(shared).await.map(|v| json_reply(&v, form)),
        Request::Processes => processes(shared).await.map(|bytes| binary_reply(&bytes)),
        &Request::ProcessMetrics(pid) => Ok(json_reply(&process_metrics(shared, pid).await, form)),
        &Request::JournalEntries(pid) if shared.proc.is_local() => Ok(json_reply(&journal(pid).await, form)),
        &Request::JournalEntries(pid) => Ok(json_reply(&json!({ "error": "journal entries are not available for a host watched over SSH", "request": "get_journal_entries", "pid": pid }), form)),
        Request::BadPid(name) => Ok(error(name, None, "the pid is not a number", form)),
        Request::Unknown(text) => Ok(error(text, None, "unknown request: send get_metrics, get_disks, get_processes, get_process_metrics:<pid> or get_journal_entries:<pid>", form)),
    };
    result.unwrap_or_else(|e| error(request.name(), None, &e, form))
}

fn error(request: &str, pid: Option<u32>, message: &str, form: Form) -> Message {
    let mut v = json!({ "error": message, "request": request });
    if let Some(pid) = pid {
        v["pid"] = json!(pid);
    }
    json_reply(&v, form)
}

/// JSON as text; for the real client's commands over 768 bytes, gzip (level 1, as
/// socktop) in a binary frame instead.
fn json_reply(v: &Value, form: Form) -> Message {
    let text = v.to_string();
    if form == Form::Json || text.len() <= GZIP_ABOVE {
        Message::Text(text.into())
    } else {
        Message::Binary(super::gzip(text.as_bytes()).into())
    }
}

/// Protobuf raw up to 768 bytes, else gzip; always a binary frame.
fn binary_reply(bytes: &[u8]) -> Message {
    if bytes.len() <= GZIP_ABOVE {
        Message::Binary(bytes.to_vec().into())
    } else {
        Message::Binary(super::gzip(bytes).into())
    }
}

async fn metrics(shared: &Shared) -> Result<Value, String> {
    let mut inner = shared.inner.lock().await;
    if let Some(v) = inner.metrics.fresh() {
        return Ok(v);
    }
    let parts = Parts::CPU | Parts::MEMORY | Parts::INTERFACES | Parts::HOSTNAME;
    let now = shared.proc.host(parts, shared.settings.metrics_ttl)?;
    let cpus = now.sample.cpus.as_slice();
    let prev = inner.cpu_prev.replace((now.sample.cpu, cpus.to_vec()));
    let busy_percent = |shares: Option<_>| shares.map_or(0.0, |s: CpuShares| s.busy * 100.0);
    let before = prev.as_ref().map_or(&[][..], |(_, cores)| cores.as_slice());
    let per_core: Vec<f32> = per_cpu_shares(before, cpus)
        .map(|(_, shares)| busy_percent(shares))
        .collect();
    let cpu_total = busy_percent(prev.and_then(|(total, _)| cpu_shares(&total, &now.sample.cpu)));
    let memory = &now.sample.memory;
    let networks: Vec<Value> = now
        .sample
        .interfaces
        .iter()
        .map(|i| json!({ "name": i.name.as_str(), "received": i.rx_bytes, "transmitted": i.tx_bytes }))
        .collect();
    // sysfs sensors answer in microseconds: read inline, not on a blocking thread.
    let cpu_temp_c = if shared.settings.temperature && shared.proc.is_local() {
        cpu_temperature(&shared.settings.sys_root.join("class"))
    } else {
        None
    };
    let gpus = read_off_thread(shared.gpus.as_ref()).await;
    let mut v = json!({
        "sampled_at_ms": now_ms_unsigned(),
        "cpu_total": cpu_total,
        "cpu_per_core": per_core,
        "mem_total": memory.total_bytes,
        "mem_used": memory.used_bytes(),
        "swap_total": memory.swap_total_bytes,
        "swap_used": memory.swap_used_bytes(),
        "hostname": now.sample.hostname.as_str(),
        "cpu_temp_c": cpu_temp_c,
        "disks": [],
        "networks": networks,
        "top_processes": [],
    });
    // Omitted, not null or empty, where there is no GPU (or NVML), as socktop_agent does.
    if !gpus.is_empty() {
        v["gpus"] = Value::Array(gpus.iter().map(gpu_json).collect());
    }
    Ok(inner.metrics.store(v))
}

/// The first hwmon sensor whose label names the CPU package (cpu, package, tctl, tdie),
/// else a thermal zone of type x86_pkg_temp; `None` on machines without either.
pub fn cpu_temperature(class: &Path) -> Option<f32> {
    let milli = |p: PathBuf| {
        std::fs::read_to_string(p)
            .ok()?
            .trim()
            .parse::<f32>()
            .ok()
            .map(|v| v / 1000.0)
    };
    for dir in std::fs::read_dir(class.join("hwmon")).ok()?.flatten() {
        for entry in std::fs::read_dir(dir.path()).ok()?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(sensor) = name.strip_suffix("_label") else {
                continue;
            };
            let label = std::fs::read_to_string(entry.path())
                .unwrap_or_default()
                .to_lowercase();
            if ["cpu", "package", "tctl", "tdie"]
                .iter()
                .any(|k| label.contains(k))
            {
                if let Some(t) = milli(dir.path().join(format!("{sensor}_input"))) {
                    return Some(t);
                }
            }
        }
    }
    for zone in std::fs::read_dir(class.join("thermal")).ok()?.flatten() {
        if std::fs::read_to_string(zone.path().join("type"))
            .unwrap_or_default()
            .trim()
            == "x86_pkg_temp"
        {
            return milli(zone.path().join("temp"));
        }
    }
    None
}

/// socktop's GPU object: the README's names (`usage`, `memory_total`, `memory_used`,
/// `temp_c`) and the names socktop_agent 1.60 sends and its client reads
/// (`utilization_gpu_pct`, `mem_used_bytes`, `mem_total_bytes`), so either reader works.
fn gpu_json(g: &GpuReading) -> Value {
    json!({
        "name": g.name,
        "usage": g.utilization_pct.map(f64::from),
        "memory_total": g.mem_total_bytes,
        "memory_used": g.mem_used_bytes,
        "temp_c": g.temperature_c.map(f64::from),
        "utilization_gpu_pct": g.utilization_pct,
        "mem_used_bytes": g.mem_used_bytes,
        "mem_total_bytes": g.mem_total_bytes,
    })
}

async fn disks(shared: &Shared) -> Result<Value, String> {
    let mut inner = shared.inner.lock().await;
    if let Some(v) = inner.disks.fresh() {
        return Ok(v);
    }
    let model = shared
        .proc
        .host(Parts::FILESYSTEMS, shared.settings.disks_ttl)?;
    // One row per device (the first mount of it), partitions under their parent disk.
    let mut rows: Vec<(String, u64, u64)> = Vec::new();
    for f in &model.filesystems {
        let name = f.device.rsplit('/').next().unwrap_or(&f.device);
        if name.is_empty() || rows.iter().any(|r| r.0 == name) {
            continue;
        }
        let Some(space) = f.space else {
            continue;
        };
        rows.push((name.to_owned(), space.total, space.available));
    }
    // A remote host's /sys is not mirrored: its devices are listed without parents.
    let block = shared.settings.sys_root.join("block");
    let is_disk = |n: &str| shared.proc.is_local() && block.join(n).is_dir();
    let parent_of = |n: &str| -> Option<String> {
        if is_disk(n) {
            return None;
        }
        let trimmed = n.trim_end_matches(|c: char| c.is_ascii_digit());
        let base = trimmed
            .strip_suffix('p')
            .filter(|b| b.ends_with(|c: char| c.is_ascii_digit()))
            .unwrap_or(trimmed);
        is_disk(base).then(|| base.to_owned())
    };
    let mut parents: Vec<(String, u64, u64)> = Vec::new();
    for (name, total, avail) in &rows {
        if let Some(p) = parent_of(name) {
            match parents.iter_mut().find(|x| x.0 == p) {
                Some(x) => {
                    x.1 += total;
                    x.2 += avail;
                }
                None => parents.push((p, *total, *avail)),
            }
        }
    }
    parents.sort();
    let mut out = Vec::new();
    for (p, total, avail) in &parents {
        out.push(json!({ "name": p, "total": total, "available": avail, "temperature": null, "is_partition": false }));
        for (name, total, avail) in rows
            .iter()
            .filter(|r| parent_of(&r.0).as_deref() == Some(p.as_str()))
        {
            out.push(json!({ "name": name, "total": total, "available": avail, "temperature": null, "is_partition": true }));
        }
    }
    for (name, total, avail) in rows.iter().filter(|r| parent_of(&r.0).is_none()) {
        out.push(json!({ "name": name, "total": total, "available": avail, "temperature": null, "is_partition": false }));
    }
    Ok(inner.disks.store(Value::Array(out)))
}

async fn processes(shared: &Shared) -> Result<Arc<Vec<u8>>, String> {
    let mut inner = shared.inner.lock().await;
    if let Some(v) = inner.processes.fresh() {
        return Ok(v);
    }
    let snapshot =
        tokio::task::block_in_place(|| shared.proc.processes(shared.settings.processes_ttl, false))
            .map_err(|e| format!("/proc: {e}"))?;
    // socktop: the sum of the first eight columns of the cpu line.
    let machine = snapshot.machine.map_or(0, |t| {
        t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal
    });
    let (prev, prev_machine) = std::mem::take(&mut inner.proc_prev);
    let span = machine.saturating_sub(prev_machine);
    let mut next = std::collections::HashMap::with_capacity(snapshot.list.len());
    let rows: Vec<ProcessRow> = snapshot
        .list
        .iter()
        .map(|p| {
            let ticks = p.utime + p.stime;
            next.insert(p.pid, ticks);
            let cpu_usage = match prev.get(&p.pid) {
                Some(&before) if span > 0 && prev_machine > 0 => {
                    (ticks.saturating_sub(before) as f64 * 100.0 / span as f64).clamp(0.0, 100.0)
                        as f32
                }
                _ => 0.0,
            };
            ProcessRow {
                pid: p.pid,
                name: p.name.clone(),
                cpu_usage,
                mem_bytes: p.rss_bytes,
            }
        })
        .collect();
    inner.proc_prev = (next, machine);
    let message = Processes {
        process_count: rows.len() as u64,
        rows,
    };
    Ok(inner.processes.store(Arc::new(message.encode_to_vec())))
}

async fn process_metrics(shared: &Shared, pid: u32) -> Value {
    let Some(root) = shared.proc.root().map(Path::to_owned) else {
        return json!({ "error": "process details are not available for a host watched over SSH", "request": "get_process_metrics", "pid": pid });
    };
    let detail = tokio::task::spawn_blocking(move || detailed(&root, pid, true))
        .await
        .ok()
        .flatten();
    match detail {
        Some(process) => json!({ "process": process, "cached_at": now_ms_unsigned() / 1000 }),
        None => {
            json!({ "error": format!("Process {pid} not found"), "request": "get_process_metrics", "pid": pid })
        }
    }
}

/// socktop's DetailedProcessInfo, from /proc/<pid>; children and threads one level deep.
fn detailed(root: &Path, pid: u32, with_family: bool) -> Option<Value> {
    use ferrostat_core::procfs::{pid_io, pid_stat, pid_status};
    let dir = root.join(pid.to_string());
    let stat_bytes = std::fs::read(dir.join("stat")).ok()?;
    let st = pid_stat::parse(&stat_bytes).ok()?;
    let status_bytes = std::fs::read(dir.join("status")).unwrap_or_default();
    let status = pid_status::parse(&status_bytes).ok();
    let io = std::fs::read(dir.join("io"))
        .ok()
        .and_then(|b| pid_io::parse(&b).ok());
    let hz = rustix::param::clock_ticks_per_second().max(1);
    let page = rustix::param::page_size() as u64;
    let cmdline = std::fs::read(dir.join("cmdline")).unwrap_or_default();
    let command = cmdline
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let boot = std::fs::read_to_string(root.join("stat"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("btime ")?.trim().parse::<u64>().ok())
        })
        .unwrap_or(0);
    let link = |name: &str| {
        std::fs::read_link(dir.join(name))
            .ok()
            .map(|p| p.display().to_string())
    };
    let state = match st.state {
        b'R' => "Running",
        b'S' => "Sleeping",
        b'D' => "UninterruptibleDiskSleep",
        b'Z' => "Zombie",
        b'T' => "Stopped",
        b't' => "Tracing",
        b'X' | b'x' => "Dead",
        b'I' => "Idle",
        _ => "Unknown",
    };
    let mut children = Vec::new();
    let mut threads = Vec::new();
    if with_family {
        for (child, b) in numbered_stats(root) {
            if pid_stat::parse(&b).is_ok_and(|c| c.ppid == pid as i64) {
                if let Some(c) = detailed(root, child, false) {
                    children.push(c);
                }
            }
        }
        for (tid, b) in numbered_stats(&dir.join("task")) {
            let Ok(t) = pid_stat::parse(&b) else { continue };
            threads.push(json!({
                "tid": tid,
                "name": t.comm.to_string(),
                "cpu_time_user": micros(t.utime, hz),
                "cpu_time_system": micros(t.stime, hz),
                "status": if t.state == b'R' { "Running" } else { "Sleeping" },
            }));
        }
    }
    Some(json!({
        "pid": pid,
        "name": st.comm.to_string(),
        "command": command,
        "cpu_usage": 0.0,
        "mem_bytes": (st.rss.max(0) as u64).saturating_mul(page),
        "virtual_mem_bytes": st.vsize,
        "shared_mem_bytes": null,
        "thread_count": st.num_threads.max(0),
        "fd_count": std::fs::read_dir(dir.join("fd")).ok().map(|d| d.count()),
        "status": state,
        "parent_pid": (st.ppid > 0).then_some(st.ppid),
        "user_id": status.as_ref().and_then(|s| s.uid).map_or(0, |u| u[0]),
        "group_id": status.as_ref().and_then(|s| s.gid).map_or(0, |g| g[0]),
        "start_time": boot.saturating_add(st.starttime / hz),
        "cpu_time_user": micros(st.utime, hz),
        "cpu_time_system": micros(st.stime, hz),
        "read_bytes": io.and_then(|i| i.rchar),
        "write_bytes": io.and_then(|i| i.wchar),
        "working_directory": link("cwd"),
        "executable_path": link("exe"),
        "child_processes": children,
        "threads": threads,
    }))
}

/// `(id, stat bytes)` for every numbered entry of a directory (`/proc` or a task
/// directory); entries that vanish while being read are skipped.
fn numbered_stats(dir: &Path) -> impl Iterator<Item = (u32, Vec<u8>)> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let id = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((id, std::fs::read(entry.path().join("stat")).ok()?))
        })
}

/// Clock ticks as microseconds, without overflow for any value /proc can print.
fn micros(ticks: u64, hz: u64) -> u64 {
    (ticks as u128 * 1_000_000 / hz.max(1) as u128).min(u64::MAX as u128) as u64
}

/// The last 100 journal lines of a process through journalctl, or socktop's error object
/// when journalctl is missing or fails.
async fn journal(pid: u32) -> Value {
    let fail = |e: String| json!({ "error": e, "request": "get_journal_entries", "pid": pid });
    let run = tokio::process::Command::new("journalctl")
        .args([
            format!("_PID={pid}"),
            "--output=json".into(),
            "--lines=100".into(),
            "--no-pager".into(),
        ])
        .kill_on_drop(true)
        .output();
    let out = match tokio::time::timeout(Duration::from_secs(5), run).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => return fail(format!("journalctl: {e}")),
        Err(_) => return fail("journalctl: timed out after 5 s".into()),
    };
    if !out.status.success() {
        return fail(format!(
            "journalctl: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let levels = [
        "Emergency",
        "Alert",
        "Critical",
        "Error",
        "Warning",
        "Notice",
        "Info",
        "Debug",
    ];
    let mut entries: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|e| {
            let s = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_owned);
            let us: u64 = s("__REALTIME_TIMESTAMP")
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            let priority = s("PRIORITY")
                .and_then(|p| p.parse::<usize>().ok())
                .and_then(|p| levels.get(p))
                .copied()
                .unwrap_or("Info");
            json!({
                "timestamp": rfc3339(us / 1_000_000),
                "timestamp_us": us,
                "priority": priority,
                "message": s("MESSAGE").unwrap_or_default(),
                "unit": s("_SYSTEMD_UNIT"),
                "pid": s("_PID").and_then(|p| p.parse::<u32>().ok()),
                "comm": s("_COMM"),
                "uid": s("_UID").and_then(|p| p.parse::<u32>().ok()),
                "gid": s("_GID").and_then(|p| p.parse::<u32>().ok()),
            })
        })
        .collect();
    entries.reverse();
    let notice = entries
        .is_empty()
        .then(|| {
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .take(2)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|n| !n.is_empty());
    json!({
        "total_count": entries.len(),
        "truncated": entries.len() == 100,
        "entries": entries,
        "notice": notice,
        "cached_at": now_ms_unsigned() / 1000,
    })
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the epoch.
fn rfc3339(secs: u64) -> String {
    format!("{}Z", ferrostat_core::time::UtcDateTime::from_unix(secs))
}
