//! The eleven events of Argusyes's `/monitor` (PROTOCOLS.md §1.5), rendered from a
//! watched host's model (its mirror's [`HostSnapshot`]) as typed payloads; the poller in
//! [`super::poll`] only fills the mirror. Payloads are in camelCase; [`snake_case`] turns
//! them into the README's spelling.
//!
//! Sizes are "value + unit" pairs (1024 steps, B to TB, two decimals), fractions ("...
//! Occupy") are 0..1, percentages 0..100, as Argusyes sends them. Rates are over the time
//! between the two snapshots' reads; the first poll of a rate event only primes it.

use std::collections::{BTreeMap, HashMap, HashSet};

use ferrostat_core::metrics::rates::{
    cpu_shares, disk_rates, interface_rates, per_cpu_shares, CounterWidth, CpuShares,
};
use ferrostat_core::metrics::MemorySample;
use ferrostat_core::procfs::cpuinfo;
use serde::Serialize;
use serde_json::Value;

use crate::collect::host::{HostSnapshot, Parts};
use crate::collect::shared::ProcessSnapshot;

/// One poll's events: (camelCase name, message without the target fields).
pub type Events = Vec<(&'static str, Value)>;

/// Two decimals.
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Bytes as Argusyes shows them: divided by 1024 until under 1024, unit B to TB.
pub fn human(bytes: f64) -> (f64, &'static str) {
    let mut v = bytes;
    for unit in ["B", "KB", "MB", "GB"] {
        if v < 1024.0 {
            return (round2(v), unit);
        }
        v /= 1024.0;
    }
    (round2(v), "TB")
}

fn ratio(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        round2(part / whole)
    } else {
        0.0
    }
}

/// An event's payload as JSON; the payloads are plain structs, maps with string keys
/// and numbers, which always serialize.
fn event<T: Serialize>(name: &'static str, payload: &T) -> (&'static str, Value) {
    (name, serde_json::to_value(payload).unwrap_or(Value::Null))
}

/// The README's spelling: camelCase keys to snake_case (`cpuCoreInfo` →
/// `cpu_core_info`). Keys that are data (CPU ids, interface and device names) and
/// all-capital keys (`CPUMHz`, `PID`) are left as they are.
pub fn snake_case(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (snake_key(k), snake_case(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(snake_case).collect()),
        other => other.clone(),
    }
}

fn snake_key(k: &str) -> String {
    let identifier = k.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && k.chars().all(|c| c.is_ascii_alphanumeric());
    if !identifier {
        return k.to_owned();
    }
    // A run of capitals is one word, an acronym (`netTCP` → `net_tcp`, `readIOPS` →
    // `read_iops`); its last capital starts the next word when a small letter follows
    // (`IOPSTotal` → `iops_total`).
    let chars: Vec<char> = k.chars().collect();
    let mut out = String::with_capacity(k.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let after_word = i > 0 && !chars[i - 1].is_ascii_uppercase();
            let ends_acronym = i > 0
                && chars[i - 1].is_ascii_uppercase()
                && chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            if after_word || ends_acronym {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The README's name of an event (`cpuInfo` → `cpu_info`).
pub fn snake_event(name: &str) -> String {
    snake_key(name)
}

/// The `rough` summary: each section repeats a few numbers of its event, once that
/// event was sent.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Rough {
    #[serde(rename = "CPU", skip_serializing_if = "Option::is_none")]
    cpu: Option<RoughCpu>,
    #[serde(rename = "Memory", skip_serializing_if = "Option::is_none")]
    memory: Option<RoughMemory>,
    #[serde(rename = "Loadavg", skip_serializing_if = "Option::is_none")]
    loadavg: Option<RoughLoad>,
    #[serde(rename = "Net", skip_serializing_if = "Option::is_none")]
    net: Option<RoughTraffic>,
    #[serde(rename = "Temp", skip_serializing_if = "Option::is_none")]
    temp: Option<RoughTemp>,
    #[serde(rename = "Disk", skip_serializing_if = "Option::is_none")]
    disk: Option<RoughDisk>,
}

#[derive(Clone, Copy, Debug, Serialize)]
struct RoughCpu {
    utilization: f64,
}

#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RoughMemory {
    free_mem_occupy: f64,
    used_mem_occupy: f64,
    cache_swap_occupy: f64,
}

#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RoughLoad {
    one_occupy: f64,
    five_occupy: f64,
    fifteen_occupy: f64,
}

#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RoughTraffic {
    up_bytes_h: f64,
    up_bytes_h_unit: &'static str,
    down_bytes_h: f64,
    down_bytes_h_unit: &'static str,
    up_speed: f64,
    up_speed_unit: &'static str,
    down_speed: f64,
    down_speed_unit: &'static str,
}

#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RoughTemp {
    highest_temp: i32,
}

#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RoughDisk {
    write: f64,
    write_unit: &'static str,
    read: f64,
    read_unit: &'static str,
    write_rate: f64,
    write_rate_unit: &'static str,
    read_rate: f64,
    read_rate_unit: &'static str,
}

/// CPU shares of one CPU or all, percent.
#[derive(Debug, Serialize)]
struct Shares {
    utilization: f64,
    free: f64,
    system: f64,
    user: f64,
    #[serde(rename = "IO")]
    io: f64,
    steal: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    processor: Option<u32>,
    #[serde(rename = "totalTime", skip_serializing_if = "Option::is_none")]
    total_time: Option<u64>,
    #[serde(rename = "totalTimeUnit", skip_serializing_if = "Option::is_none")]
    total_time_unit: Option<&'static str>,
}

impl Shares {
    /// No time between the two polls reads as all zeros, as a span of 0 always did.
    fn new(s: Option<CpuShares>) -> Self {
        let s = s.unwrap_or_default();
        let pct = |share: f32| round2(f64::from(share) * 100.0);
        let free = pct(s.idle);
        Shares {
            utilization: round2(100.0 - free),
            free,
            system: pct(s.system),
            user: pct(s.user),
            io: pct(s.iowait),
            steal: pct(s.steal),
            processor: None,
            total_time: None,
            total_time_unit: None,
        }
    }
}

#[derive(Debug, Serialize)]
struct CpuPerformance {
    total: Shares,
    #[serde(rename = "cpuPerformance")]
    per_cpu: BTreeMap<String, Shares>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Memory {
    total_mem: f64,
    total_mem_unit: &'static str,
    free_mem: f64,
    free_mem_unit: &'static str,
    free_mem_occupy: f64,
    available_mem: f64,
    available_mem_unit: &'static str,
    available_mem_occupy: f64,
    used_mem: f64,
    used_mem_unit: &'static str,
    used_mem_occupy: f64,
    buffer: f64,
    buffer_unit: &'static str,
    buffer_occupy: f64,
    cached: f64,
    cached_unit: &'static str,
    cache_occupy: f64,
    dirty: f64,
    dirty_unit: &'static str,
    dirty_occupy: f64,
    free_swap: f64,
    free_swap_unit: &'static str,
    free_swap_occupy: f64,
    cached_swap: f64,
    cached_swap_unit: &'static str,
    cached_swap_occupy: f64,
    total_swap: f64,
    total_swap_unit: &'static str,
}

#[derive(Debug, Serialize)]
struct Uptime {
    #[serde(rename = "upDay")]
    days: u64,
    // Argusyes's own spelling.
    #[serde(rename = "UpHour")]
    hours: u64,
    #[serde(rename = "upMin")]
    minutes: u64,
    #[serde(rename = "upSec")]
    seconds: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Loadavg {
    one: f64,
    one_occupy: f64,
    five: f64,
    five_occupy: f64,
    fifteen: f64,
    fifteen_occupy: f64,
    running: u32,
    active: u32,
    last_pid: u32,
}

/// One interface's traffic, or all real interfaces' together (no name, address or flag).
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct Traffic {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    up_bytes_h: f64,
    up_bytes_h_unit: &'static str,
    up_bytes: u64,
    down_bytes_h: f64,
    down_bytes_h_unit: &'static str,
    down_bytes: u64,
    up_packets: u64,
    down_packets: u64,
    up_speed: f64,
    up_speed_unit: &'static str,
    down_speed: f64,
    down_speed_unit: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    r#virtual: Option<bool>,
}

impl Traffic {
    fn new(up: u64, down: u64, packets: (u64, u64), speeds: (f64, f64)) -> Self {
        let (up_bytes_h, up_bytes_h_unit) = human(up as f64);
        let (down_bytes_h, down_bytes_h_unit) = human(down as f64);
        let (up_speed, up_speed_unit) = human(speeds.0);
        let (down_speed, down_speed_unit) = human(speeds.1);
        Traffic {
            name: None,
            up_bytes_h,
            up_bytes_h_unit,
            up_bytes: up,
            down_bytes_h,
            down_bytes_h_unit,
            down_bytes: down,
            up_packets: packets.0,
            down_packets: packets.1,
            up_speed,
            up_speed_unit,
            down_speed,
            down_speed_unit,
            ip: None,
            r#virtual: None,
        }
    }

    fn rough(&self) -> RoughTraffic {
        RoughTraffic {
            up_bytes_h: self.up_bytes_h,
            up_bytes_h_unit: self.up_bytes_h_unit,
            down_bytes_h: self.down_bytes_h,
            down_bytes_h_unit: self.down_bytes_h_unit,
            up_speed: self.up_speed,
            up_speed_unit: self.up_speed_unit,
            down_speed: self.down_speed,
            down_speed_unit: self.down_speed_unit,
        }
    }
}

#[derive(Debug, Serialize)]
struct NetDev {
    #[serde(rename = "netDevTotal")]
    total: Traffic,
    #[serde(rename = "netDev")]
    interfaces: BTreeMap<String, Traffic>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NetTcp {
    active_opens: i64,
    passive_opens: i64,
    fail_opens: i64,
    curr_conn: i64,
    in_segments: i64,
    out_segments: i64,
    re_trans_segments: i64,
    re_trans_rate: f64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NetUdp {
    in_datagrams: i64,
    out_datagrams: i64,
    receive_buf_errors: i64,
    send_buf_errors: i64,
}

#[derive(Debug, Serialize)]
struct NetStat {
    #[serde(rename = "netTCP")]
    tcp: NetTcp,
    #[serde(rename = "netUDP")]
    udp: NetUdp,
}

#[derive(Debug, Serialize)]
struct Temp {
    /// Millidegrees Celsius by zone (`zone0`).
    #[serde(rename = "tempMap")]
    zones: BTreeMap<String, i32>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Disk {
    dev_name: String,
    mount: String,
    file_system: String,
    free_rate: f64,
    free: f64,
    free_unit: &'static str,
    used_rate: f64,
    used: f64,
    used_unit: &'static str,
    total: f64,
    total_unit: &'static str,
    write: f64,
    write_unit: &'static str,
    read: f64,
    read_unit: &'static str,
    write_rate: f64,
    write_rate_unit: &'static str,
    read_rate: f64,
    read_rate_unit: &'static str,
    #[serde(rename = "writeIOPS")]
    write_iops: f64,
    #[serde(rename = "readIOPS")]
    read_iops: f64,
}

#[derive(Debug, Serialize)]
struct Disks {
    #[serde(rename = "diskMap")]
    disks: BTreeMap<String, Disk>,
    #[serde(flatten)]
    total: RoughDisk,
}

#[derive(Debug, Serialize)]
struct Process {
    #[serde(rename = "PID")]
    pid: u32,
    /// `(comm)`, as /proc/<pid>/stat prints it.
    name: String,
    #[serde(rename = "CPU")]
    cpu: f64,
    mem: f64,
    #[serde(rename = "memUnit")]
    mem_unit: &'static str,
    #[serde(rename = "MemRaw")]
    mem_raw: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Socket {
    vendor_id: String,
    cpu_family: String,
    model: String,
    model_name: String,
    stepping: String,
    cache_size: String,
    address_sizes: String,
    physical_id: u64,
    siblings: u64,
    cpu_cores: u64,
    fpu: bool,
    fpu_exception: bool,
    bogomips: f64,
    cl_flush_size: u64,
    cache_alignment: u64,
    cpu_core_info: BTreeMap<String, Core>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Core {
    cpu_processor_info: BTreeMap<String, Processor>,
    core_id: u64,
}

#[derive(Debug, Serialize)]
struct Processor {
    processor: u64,
    #[serde(rename = "CPUMHz")]
    mhz: f64,
    apicid: u64,
}

/// CPU ticks by (pid, name): a pid reused by another program starts from zero.
type ProcessTicks = HashMap<(u32, String), u64>;

/// What the events of one connection remember between polls, for rates and `rough`.
#[derive(Debug, Default)]
pub struct Renderer {
    /// The model at the previous fast poll.
    prev: Option<std::sync::Arc<HostSnapshot>>,
    /// The machine's CPU ticks and each process's at the previous process poll.
    processes: Option<(u64, ProcessTicks)>,
    /// Processors per socket, from the last cpuInfo (loads are relative to it).
    siblings: Option<f64>,
    rough: Rough,
}

/// What the poller learns of interfaces beside their counters: whether each is
/// virtual (/sys/devices/virtual/net) and its IPv4 addresses.
#[derive(Debug, Default)]
pub struct InterfaceNotes {
    /// Names of virtual interfaces.
    pub virtual_names: HashSet<String>,
    /// IPv4 addresses by interface.
    pub addresses: HashMap<String, Vec<String>>,
}

impl Renderer {
    /// `cpuInfo`: sockets → cores → processors, from /proc/cpuinfo's key-value blocks.
    pub fn cpu_info(&mut self, cpuinfo_bytes: &[u8]) -> (&'static str, Value) {
        let mut sockets: BTreeMap<u64, Socket> = BTreeMap::new();
        let mut block: HashMap<String, String> = HashMap::new();
        let mut flush = |block: &mut HashMap<String, String>| {
            if block.is_empty() {
                return;
            }
            let int = |k: &str| {
                block
                    .get(k)
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            let text = |k: &str| block.get(k).cloned().unwrap_or_default();
            let float = |k: &str| {
                block
                    .get(k)
                    .and_then(|v| v.parse::<f64>().ok())
                    .unwrap_or(0.0)
            };
            let (socket, core, processor) = (int("physical id"), int("core id"), int("processor"));
            let entry = sockets.entry(socket).or_insert_with(|| Socket {
                vendor_id: text("vendor_id"),
                cpu_family: text("cpu family"),
                model: text("model"),
                model_name: text("model name"),
                stepping: text("stepping"),
                cache_size: text("cache size"),
                address_sizes: text("address sizes"),
                physical_id: socket,
                siblings: int("siblings"),
                cpu_cores: int("cpu cores"),
                fpu: text("fpu") == "yes",
                fpu_exception: text("fpu_exception") == "yes",
                bogomips: float("bogomips"),
                cl_flush_size: int("clflush size"),
                cache_alignment: int("cache_alignment"),
                cpu_core_info: BTreeMap::new(),
            });
            let core_entry = entry
                .cpu_core_info
                .entry(core.to_string())
                .or_insert_with(|| Core {
                    cpu_processor_info: BTreeMap::new(),
                    core_id: core,
                });
            core_entry.cpu_processor_info.insert(
                processor.to_string(),
                Processor {
                    processor,
                    mhz: float("cpu MHz"),
                    apicid: int("apicid"),
                },
            );
            block.clear();
        };
        for record in cpuinfo::records(cpuinfo_bytes).filter_map(Result::ok) {
            match record {
                cpuinfo::Record::Entry { key, value } => {
                    block.insert(key.to_string(), value.to_string());
                }
                cpuinfo::Record::BlockEnd => flush(&mut block),
            }
        }
        flush(&mut block);
        self.siblings = sockets
            .values()
            .next()
            .map(|s| s.siblings)
            .filter(|s| *s > 0)
            .map(|s| s as f64);
        let sockets: BTreeMap<String, Socket> = sockets
            .into_iter()
            .map(|(id, s)| (id.to_string(), s))
            .collect();
        event("cpuInfo", &BTreeMap::from([("cpuInfo", sockets)]))
    }

    /// The 2-second events from the host's model: cpuPerformance, memoryPerformance,
    /// uptime, loadavg, netDev, netStat, temp, disk, then rough.
    pub fn fast(&mut self, model: &std::sync::Arc<HostSnapshot>, notes: &InterfaceNotes) -> Events {
        let prev = self.prev.replace(model.clone());
        // An event whose files did not read or parse is left out this poll, and the
        // client hears why; the others are sent.
        let ok = |p: Parts| model.error(p).is_none();
        let mut out = Events::new();
        if let Some(prev) = prev
            .as_ref()
            .filter(|p| ok(Parts::CPU) && p.error(Parts::CPU).is_none())
        {
            out.push(self.cpu_performance(prev, model));
        }
        if ok(Parts::MEMORY) {
            out.push(self.memory(&model.sample.memory));
        }
        if ok(Parts::UPTIME) {
            out.push(uptime(model.sample.uptime_secs));
        }
        if ok(Parts::LOAD) {
            out.extend(self.loadavg(model));
        }
        let elapsed_ms = prev.as_ref().map_or(0, |p| {
            model
                .read_at
                .saturating_duration_since(p.read_at)
                .as_millis() as u64
        });
        if ok(Parts::INTERFACES) {
            out.push(self.net_dev(prev.as_deref(), model, notes, elapsed_ms));
        }
        if ok(Parts::TRANSPORT) {
            out.push(net_stat(model));
        }
        out.extend(self.temp(model));
        if ok(Parts::DISKS | Parts::FILESYSTEMS) {
            out.push(self.disk(prev.as_deref(), model, elapsed_ms));
        }
        if !model.failed.is_empty() {
            let why: Vec<&str> = model.failed.iter().map(|(_, e)| e.as_str()).collect();
            let error = format!("unreadable host data: {}", why.join("; "));
            out.push(("error", serde_json::json!({ "error": error })));
        }
        out.push(event("rough", &self.rough));
        out
    }

    fn cpu_performance(
        &mut self,
        prev: &HostSnapshot,
        model: &HostSnapshot,
    ) -> (&'static str, Value) {
        let (before, now) = (&prev.sample, &model.sample);
        let mut per_cpu = BTreeMap::new();
        for (id, s) in per_cpu_shares(before.cpus.as_slice(), now.cpus.as_slice()) {
            let mut shares = Shares::new(s);
            shares.processor = Some(id);
            per_cpu.insert(format!("cpu{id}"), shares);
        }
        let mut total = Shares::new(cpu_shares(&before.cpu, &now.cpu));
        // All CPU time over the CPUs: about the uptime.
        let secs = now.cpu.total_ms() as f64 / 1000.0 / now.cpus.len().max(1) as f64;
        let (value, unit) = if secs >= 86_400.0 {
            (secs / 86_400.0, "D")
        } else if secs >= 3_600.0 {
            (secs / 3_600.0, "H")
        } else if secs >= 60.0 {
            (secs / 60.0, "M")
        } else {
            (secs, "S")
        };
        total.total_time = Some(value as u64);
        total.total_time_unit = Some(unit);
        self.rough.cpu = Some(RoughCpu {
            utilization: total.utilization,
        });
        event("cpuPerformance", &CpuPerformance { total, per_cpu })
    }

    fn memory(&mut self, m: &MemorySample) -> (&'static str, Value) {
        let b = |bytes: u64| bytes as f64;
        let (total, available, swap_total) = (
            b(m.total_bytes),
            b(m.available_bytes),
            b(m.swap_total_bytes),
        );
        let used = (total - available).max(0.0);
        let h = human;
        let memory = Memory {
            total_mem: h(total).0,
            total_mem_unit: h(total).1,
            free_mem: h(b(m.free_bytes)).0,
            free_mem_unit: h(b(m.free_bytes)).1,
            free_mem_occupy: ratio(b(m.free_bytes), total),
            available_mem: h(available).0,
            available_mem_unit: h(available).1,
            available_mem_occupy: ratio(available, total),
            used_mem: h(used).0,
            used_mem_unit: h(used).1,
            used_mem_occupy: ratio(used, total),
            buffer: h(b(m.buffers_bytes)).0,
            buffer_unit: h(b(m.buffers_bytes)).1,
            buffer_occupy: ratio(b(m.buffers_bytes), total),
            cached: h(b(m.cached_bytes)).0,
            cached_unit: h(b(m.cached_bytes)).1,
            cache_occupy: ratio(b(m.cached_bytes), total),
            dirty: h(b(m.dirty_bytes)).0,
            dirty_unit: h(b(m.dirty_bytes)).1,
            dirty_occupy: ratio(b(m.dirty_bytes), total),
            free_swap: h(b(m.swap_free_bytes)).0,
            free_swap_unit: h(b(m.swap_free_bytes)).1,
            free_swap_occupy: ratio(b(m.swap_free_bytes), swap_total),
            cached_swap: h(b(m.swap_cached_bytes)).0,
            cached_swap_unit: h(b(m.swap_cached_bytes)).1,
            cached_swap_occupy: ratio(b(m.swap_cached_bytes), swap_total),
            total_swap: h(swap_total).0,
            total_swap_unit: h(swap_total).1,
        };
        self.rough.memory = Some(RoughMemory {
            free_mem_occupy: memory.free_mem_occupy,
            used_mem_occupy: memory.used_mem_occupy,
            cache_swap_occupy: memory.cached_swap_occupy,
        });
        event("memoryPerformance", &BTreeMap::from([("memory", memory)]))
    }

    fn loadavg(&mut self, model: &HostSnapshot) -> Option<(&'static str, Value)> {
        // Argusyes relates loads to the CPU count, known once cpuinfo was read.
        let cpus = self.siblings?;
        let l = &model.sample.load;
        let [one, five, fifteen] = l.averages();
        let load = Loadavg {
            one,
            one_occupy: round2(one / cpus),
            five,
            five_occupy: round2(five / cpus),
            fifteen,
            fifteen_occupy: round2(fifteen / cpus),
            running: l.running,
            active: l.total,
            last_pid: l.last_pid,
        };
        self.rough.loadavg = Some(RoughLoad {
            one_occupy: load.one_occupy,
            five_occupy: load.five_occupy,
            fifteen_occupy: load.fifteen_occupy,
        });
        Some(event("loadavg", &BTreeMap::from([("loadavg", load)])))
    }

    fn net_dev(
        &mut self,
        prev: Option<&HostSnapshot>,
        model: &HostSnapshot,
        notes: &InterfaceNotes,
        elapsed_ms: u64,
    ) -> (&'static str, Value) {
        let mut interfaces = BTreeMap::new();
        let (mut up, mut down, mut packets, mut speeds) = (0u64, 0u64, (0u64, 0u64), (0.0, 0.0));
        for i in &model.sample.interfaces {
            let name = i.name.as_str();
            let before = prev.and_then(|p| p.sample.interfaces.iter().find(|b| b.name == i.name));
            let rates = match before {
                Some(b) if elapsed_ms > 0 => {
                    let r = interface_rates(b, i, CounterWidth::Bits64, elapsed_ms);
                    (r.tx_bytes_per_sec, r.rx_bytes_per_sec)
                }
                _ => (0.0, 0.0),
            };
            let is_virtual = notes.virtual_names.contains(name);
            if !is_virtual {
                up += i.tx_bytes;
                down += i.rx_bytes;
                packets.0 += i.tx_packets;
                packets.1 += i.rx_packets;
                speeds.0 += rates.0;
                speeds.1 += rates.1;
            }
            let mut t = Traffic::new(i.tx_bytes, i.rx_bytes, (i.tx_packets, i.rx_packets), rates);
            t.name = Some(name.to_owned());
            t.ip = Some(notes.addresses.get(name).cloned().unwrap_or_default());
            t.r#virtual = Some(is_virtual);
            interfaces.insert(name.to_owned(), t);
        }
        let total = Traffic::new(up, down, packets, speeds);
        self.rough.net = Some(total.rough());
        event("netDev", &NetDev { total, interfaces })
    }

    fn temp(&mut self, model: &HostSnapshot) -> Option<(&'static str, Value)> {
        let zones: BTreeMap<String, i32> = model
            .sample
            .temperatures
            .iter()
            .map(|t| (t.zone.to_string(), t.millidegrees_c))
            .collect();
        let highest = zones.values().copied().max()?;
        self.rough.temp = Some(RoughTemp {
            highest_temp: highest,
        });
        Some(event("temp", &Temp { zones }))
    }

    /// `disk`: ext4 and vfat filesystems (what Argusyes reports), with their device's
    /// traffic.
    fn disk(
        &mut self,
        prev: Option<&HostSnapshot>,
        model: &HostSnapshot,
        elapsed_ms: u64,
    ) -> (&'static str, Value) {
        let mut disks = BTreeMap::new();
        let (mut read, mut written, mut read_rate, mut write_rate) = (0u64, 0u64, 0.0, 0.0);
        for f in &model.filesystems {
            if f.fs_type != "ext4" && f.fs_type != "vfat" {
                continue;
            }
            let name = f.device.strip_prefix("/dev/").unwrap_or(&f.device);
            let find = |s: &HostSnapshot| s.sample.disks.iter().find(|d| d.name == name).cloned();
            let now = find(model).unwrap_or_default();
            let rates = match prev.and_then(find) {
                Some(before) if elapsed_ms > 0 => {
                    Some(disk_rates(&before, &now, CounterWidth::Bits64, elapsed_ms))
                }
                _ => None,
            }
            .unwrap_or_default();
            let (total, free) = f.space.map_or((0, 0), |s| (s.total, s.free));
            let used = total.saturating_sub(free);
            let h = |v: f64| human(v);
            let disk = Disk {
                dev_name: f.device.clone(),
                mount: f.mount_point.clone(),
                file_system: f.fs_type.clone(),
                free_rate: ratio(free as f64, total as f64),
                free: h(free as f64).0,
                free_unit: h(free as f64).1,
                used_rate: ratio(used as f64, total as f64),
                used: h(used as f64).0,
                used_unit: h(used as f64).1,
                total: h(total as f64).0,
                total_unit: h(total as f64).1,
                write: h(now.write_bytes as f64).0,
                write_unit: h(now.write_bytes as f64).1,
                read: h(now.read_bytes as f64).0,
                read_unit: h(now.read_bytes as f64).1,
                write_rate: h(rates.write_bytes_per_sec).0,
                write_rate_unit: h(rates.write_bytes_per_sec).1,
                read_rate: h(rates.read_bytes_per_sec).0,
                read_rate_unit: h(rates.read_bytes_per_sec).1,
                write_iops: round2(rates.writes_per_sec),
                read_iops: round2(rates.reads_per_sec),
            };
            // A device mounted twice counts once.
            if !disks.contains_key(&f.device) {
                read += now.read_bytes;
                written += now.write_bytes;
                read_rate += rates.read_bytes_per_sec;
                write_rate += rates.write_bytes_per_sec;
            }
            disks.insert(f.device.clone(), disk);
        }
        let h = |v: f64| human(v);
        let total = RoughDisk {
            write: h(written as f64).0,
            write_unit: h(written as f64).1,
            read: h(read as f64).0,
            read_unit: h(read as f64).1,
            write_rate: h(write_rate).0,
            write_rate_unit: h(write_rate).1,
            read_rate: h(read_rate).0,
            read_rate_unit: h(read_rate).1,
        };
        self.rough.disk = Some(total);
        event("disk", &Disks { disks, total })
    }

    /// `process`: the top 50 by CPU then memory. CPU is percent of one CPU (× siblings),
    /// from each process's ticks against the machine's between two scans.
    pub fn processes(&mut self, scan: &ProcessSnapshot) -> (&'static str, Value) {
        let machine = scan.machine.map_or(0, |t| t.total());
        let now: ProcessTicks = scan
            .list
            .iter()
            .map(|p| ((p.pid, p.name.clone()), p.utime + p.stime))
            .collect();
        let prev = self.processes.replace((machine, now));
        let siblings = self.siblings.unwrap_or(1.0);
        let mut list: Vec<Process> = scan
            .list
            .iter()
            .map(|p| {
                let ticks = p.utime + p.stime;
                let cpu = match &prev {
                    Some((prev_machine, before)) => {
                        let span = machine.saturating_sub(*prev_machine).max(1) as f64;
                        let used = before
                            .get(&(p.pid, p.name.clone()))
                            .map_or(0, |b| ticks.saturating_sub(*b));
                        round2(siblings * 100.0 * used as f64 / span)
                    }
                    None => 0.0,
                };
                let (mem, mem_unit) = human(p.rss_bytes as f64);
                Process {
                    pid: p.pid,
                    name: format!("({})", p.name),
                    cpu,
                    mem,
                    mem_unit,
                    mem_raw: p.rss_bytes,
                }
            })
            .collect();
        list.sort_by(|a, b| b.cpu.total_cmp(&a.cpu).then(b.mem_raw.cmp(&a.mem_raw)));
        list.truncate(50);
        event("process", &BTreeMap::from([("process", list)]))
    }
}

fn uptime(uptime_secs: f64) -> (&'static str, Value) {
    let secs = uptime_secs as u64;
    let up = Uptime {
        days: secs / 86_400,
        hours: secs % 86_400 / 3_600,
        minutes: secs % 3_600 / 60,
        seconds: secs % 60,
    };
    event("uptime", &BTreeMap::from([("uptime", up)]))
}

fn net_stat(model: &HostSnapshot) -> (&'static str, Value) {
    let (t, u) = (&model.sample.tcp, &model.sample.udp);
    let n = |v: Option<i64>| v.unwrap_or(0);
    let (out_segments, retrans) = (n(t.out_segs), n(t.retrans_segs));
    let stat = NetStat {
        tcp: NetTcp {
            active_opens: n(t.active_opens),
            passive_opens: n(t.passive_opens),
            fail_opens: n(t.attempt_fails),
            curr_conn: n(t.curr_estab),
            in_segments: n(t.in_segs),
            out_segments,
            re_trans_segments: retrans,
            re_trans_rate: if out_segments > 0 {
                round2(retrans as f64 * 100.0 / out_segments as f64)
            } else {
                0.0
            },
        },
        udp: NetUdp {
            in_datagrams: n(u.in_datagrams),
            out_datagrams: n(u.out_datagrams),
            receive_buf_errors: n(u.rcvbuf_errors),
            send_buf_errors: n(u.sndbuf_errors),
        },
    };
    event("netStat", &stat)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn sizes_and_spellings() {
        assert_eq!(human(512.0), (512.0, "B"));
        assert_eq!(human(8_589_934_592.0), (8.0, "GB"));
        assert_eq!(human(1536.0), (1.5, "KB"));
        let v = json!({ "cpuInfo": { "0": { "cpuCoreInfo": { "1": { "coreId": 1, "cpuProcessorInfo": { "2": { "CPUMHz": 800.0 } } } }, "modelName": "x" } }, "UpHour": 3, "eth0": 1 });
        assert_eq!(
            snake_case(&v),
            json!({ "cpu_info": { "0": { "cpu_core_info": { "1": { "core_id": 1, "cpu_processor_info": { "2": { "CPUMHz": 800.0 } } } }, "model_name": "x" } }, "UpHour": 3, "eth0": 1 })
        );
        assert_eq!(snake_event("cpuPerformance"), "cpu_performance");
        // Acronyms are one word each, not one letter each (net_t_c_p before).
        let v = json!({ "netTCP": { "inSegs": 1 }, "netUDP": 2, "readIOPS": 3, "writeIOPS": 4, "ioPSTotal": 5, "IOPSTotal": 6 });
        assert_eq!(
            snake_case(&v),
            json!({ "net_tcp": { "in_segs": 1 }, "net_udp": 2, "read_iops": 3, "write_iops": 4, "io_ps_total": 5, "IOPSTotal": 6 })
        );
    }

    /// Two polls of a watched host, from two kernel-written /proc trees taken 2 s apart
    /// (core/tests/data/proc/sysstat/root1 and root2), stored in a mirror as the poller
    /// stores them.
    #[test]
    fn events_render_the_mirrors_model_and_the_rates_between_two_polls() {
        use std::time::{Duration, Instant};

        use crate::collect::shared::{ProcCache, Space};
        use crate::ssh::poll::FAST_PARTS;

        let corpus = |rel: &str| {
            let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/data/proc/");
            std::fs::read(format!("{root}{rel}")).unwrap()
        };
        let mirror = ProcCache::mirror();
        let store = |root: &str, at: Instant| {
            for rel in [
                "stat",
                "meminfo",
                "loadavg",
                "uptime",
                "net/dev",
                "net/snmp",
                "diskstats",
            ] {
                mirror.store(rel, &corpus(&format!("{root}/{rel}")), at);
            }
        };
        let t0 = Instant::now();
        store("sysstat/root1/proc", t0);
        // A 2-CPU VM's mounts (one ext4 root on /dev/vda), this kernel's filesystem types,
        // and thermal_zone0 as node_exporter's fixture has it (sys.ttar: 12376).
        mirror.store("mounts", &corpus("local/proc/mounts"), t0);
        mirror.store(
            "filesystems",
            &std::fs::read("/proc/filesystems").unwrap(),
            t0,
        );
        mirror.store("/sys/class/thermal/thermal_zone0/temp", b"12376\n", t0);
        let gib = 1u64 << 30;
        mirror.store_space(
            "/",
            Space {
                total: 100 * gib,
                free: 25 * gib,
                available: 20 * gib,
            },
        );
        let notes = InterfaceNotes {
            virtual_names: ["lo", "virbr0", "virbr0-nic", "virbr0-1"]
                .map(String::from)
                .into(),
            addresses: HashMap::from([("enp6s0".to_owned(), vec!["192.0.2.2".to_owned()])]),
        };
        let mut r = Renderer::default();
        let (name, info) = r.cpu_info(&corpus("sysstat/root1/proc/cpuinfo"));
        assert_eq!(name, "cpuInfo");
        assert_eq!(info["cpuInfo"]["0"]["siblings"], 8);

        let first = r.fast(&mirror.host(FAST_PARTS, Duration::ZERO).unwrap(), &notes);
        let names: Vec<&str> = first.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "memoryPerformance",
                "uptime",
                "loadavg",
                "netDev",
                "netStat",
                "temp",
                "disk",
                "rough"
            ],
            "no CPU shares from one poll"
        );

        store("sysstat/root2/proc", t0 + Duration::from_secs(2));
        let second = r.fast(&mirror.host(FAST_PARTS, Duration::ZERO).unwrap(), &notes);
        let get = |name: &str| &second.iter().find(|(n, _)| *n == name).unwrap().1;

        // cpu lines 2 s apart: 20590 of 24841 ticks idle.
        let cpu = &get("cpuPerformance")["total"];
        assert_eq!(
            (cpu["free"].as_f64(), cpu["utilization"].as_f64()),
            (Some(82.89), Some(17.11))
        );
        assert_eq!(
            get("cpuPerformance")["cpuPerformance"]
                .as_object()
                .unwrap()
                .len(),
            8
        );

        // virbr0 received 1000 then 1800 bytes, sent 20 then 120: 400 and 50 B/s.
        let net = get("netDev");
        let virbr0 = &net["netDev"]["virbr0"];
        assert_eq!(
            (virbr0["downSpeed"].as_f64(), virbr0["upSpeed"].as_f64()),
            (Some(400.0), Some(50.0))
        );
        assert_eq!(virbr0["virtual"], true);
        // The total counts real interfaces only: enp6s0 and wlp5s0 (up since root1).
        assert_eq!(net["netDevTotal"]["upBytes"], 10_811_120 + 2_449_402);
        assert_eq!(net["netDev"]["enp6s0"]["ip"], json!(["192.0.2.2"]));

        let tcp = &get("netStat")["netTCP"];
        assert_eq!(
            (tcp["activeOpens"].as_i64(), tcp["currConn"].as_i64()),
            (Some(1516), Some(3))
        );
        assert_eq!(tcp["reTransRate"], 0.21); // 304 of 145504 segments
        assert_eq!(get("netStat")["netUDP"]["inDatagrams"], 4198);

        // loadavg 3.16 over 8 processors.
        let load = &get("loadavg")["loadavg"];
        assert_eq!(
            (load["one"].as_f64(), load["oneOccupy"].as_f64()),
            (Some(3.16), Some(0.4))
        );
        assert_eq!(
            (load["active"].as_u64(), load["lastPid"].as_u64()),
            (Some(956), Some(27015))
        );

        let up = &get("uptime")["uptime"];
        assert_eq!(
            (
                up["upDay"].as_u64(),
                up["UpHour"].as_u64(),
                up["upMin"].as_u64()
            ),
            (Some(0), Some(2), Some(0))
        );

        assert_eq!(get("temp")["tempMap"]["zone0"], 12376);
        let disk = &get("disk")["diskMap"]["/dev/vda"];
        assert_eq!(
            (disk["mount"].as_str(), disk["fileSystem"].as_str()),
            (Some("/"), Some("ext4"))
        );
        assert_eq!(
            (disk["total"].as_f64(), disk["totalUnit"].as_str()),
            (Some(100.0), Some("GB"))
        );
        assert_eq!(disk["usedRate"], 0.75);

        let rough = get("rough");
        assert_eq!(rough["CPU"]["utilization"], 17.11);
        assert_eq!(rough["Temp"]["highestTemp"], 12376);
        assert_eq!(rough["Loadavg"]["oneOccupy"], 0.4);
        assert_eq!(rough["Net"]["upBytesH"], net["netDevTotal"]["upBytesH"]);

        // A file that does not parse costs its own event only, and the client hears why.
        mirror.store(
            "net/snmp",
            b"Tcp: ActiveOpens\nTcp: many\n",
            t0 + Duration::from_secs(4),
        );
        let third = r.fast(&mirror.host_partial(FAST_PARTS, Duration::ZERO), &notes);
        let names: Vec<&str> = third.iter().map(|(n, _)| *n).collect();
        assert!(
            !names.contains(&"netStat") && names.contains(&"memoryPerformance"),
            "{names:?}"
        );
        let error = &third.iter().find(|(n, _)| *n == "error").unwrap().1;
        assert!(
            error["error"].as_str().unwrap().contains("net/snmp"),
            "{error}"
        );
    }
}
