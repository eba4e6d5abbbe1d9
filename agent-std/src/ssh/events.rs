//! The eleven events of Argusyes's `/monitor` (PROTOCOLS.md §1.5), built from remote
//! /proc and /sys files read over SFTP and parsed with ferrostat-core. Payloads are in
//! camelCase; [`snake_case`] turns them into the README's spelling.
//!
//! Sizes are "value + unit" pairs (1024 steps, B to TB, two decimals), fractions ("...
//! Occupy") are 0..1, percentages 0..100, as Argusyes sends them. Rates are over the time
//! between two polls; the first poll of a rate event only primes it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use ferrostat_core::metrics::rates::{
    counter_delta, cpu_shares, per_cpu_shares, CounterWidth, CpuShares,
};
use ferrostat_core::metrics::MemorySample;
use ferrostat_core::procfs::{
    cpuinfo, diskstats, loadavg, mounts, net_dev, net_snmp, pid_stat, uptime,
};
use serde_json::{json, Map, Value};

use super::session::{Remote, RemoteError};
use crate::collect::host::{HostSnapshot, Parts};
use crate::collect::process::ProcessInfo;
use crate::collect::shared::ProcCache;

/// The page size assumed for remote hosts (rss is counted in pages): 4 KiB, as on
/// every x86-64 and most arm64 kernels.
const REMOTE_PAGE: u64 = 4096;
/// The remote kernel's `USER_HZ`, as its mirror converts /proc/stat with it.
const REMOTE_TICKS_PER_SEC: u64 = crate::collect::shared::MIRROR_TICKS_PER_SEC;

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

/// Inserts `name` and `name + "Unit"` for a byte count.
fn put_human(m: &mut Map<String, Value>, name: &str, bytes: f64) {
    let (v, unit) = human(bytes);
    m.insert(name.to_owned(), v.into());
    m.insert(format!("{name}Unit"), unit.into());
}

/// The entries `keys` of `m` (the part of an event the `rough` summary repeats).
fn subset(m: &Map<String, Value>, keys: &[&str]) -> Value {
    Value::Object(
        keys.iter()
            .map(|k| ((*k).to_owned(), m.get(*k).cloned().unwrap_or(Value::Null)))
            .collect(),
    )
}

fn ratio(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        round2(part / whole)
    } else {
        0.0
    }
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

/// Per interface: bytes sent, bytes received.
type NetCounters = HashMap<String, (u64, u64)>;
/// Per device: bytes read, bytes written, reads, writes.
type DiskCounters = HashMap<String, (u64, u64, u64, u64)>;
/// Per (pid, name): CPU jiffies.
type ProcessJiffies = HashMap<(i64, String), u64>;

/// What the poller remembers between polls, for rates and the `rough` summary, and the
/// mirror it keeps every file it read in (the host's view for the other endpoints).
pub struct State {
    mirror: Arc<ProcCache>,
    /// Filesystem types without a device (/proc/filesystems `nodev`), read once.
    nodev: Option<Vec<String>>,
    siblings: Option<f64>,
    /// The host's model at the previous poll, for CPU shares.
    stat: Option<Arc<HostSnapshot>>,
    net: Option<(Instant, NetCounters)>,
    disk: Option<(Instant, DiskCounters)>,
    processes: Option<(u64, ProcessJiffies)>,
    rough: Map<String, Value>,
}

/// One poll's events: (camelCase name, message without the target fields).
pub type Events = Vec<(&'static str, Value)>;

impl State {
    /// A fresh state (a new connection) keeping what it reads in `mirror`.
    pub fn new(mirror: Arc<ProcCache>) -> Self {
        State {
            mirror,
            nodev: None,
            siblings: None,
            stat: None,
            net: None,
            disk: None,
            processes: None,
            rough: Map::new(),
        }
    }

    /// A remote file, kept in the mirror under its path below `/proc/` (or its whole
    /// path for other files).
    async fn fetch(&self, remote: &Remote, path: &str) -> Result<Vec<u8>, RemoteError> {
        let bytes = remote.read(path).await?;
        let rel = path.strip_prefix("/proc/").unwrap_or(path);
        self.mirror.store(rel, &bytes, Instant::now());
        Ok(bytes)
    }

    /// What does not change while connected: names, kernel, filesystem types, users.
    /// Read on the first cpuInfo poll of a connection.
    async fn identity(&mut self, remote: &Remote) {
        for path in [
            "/proc/sys/kernel/hostname",
            "/proc/sys/kernel/ostype",
            "/proc/sys/kernel/osrelease",
        ] {
            let _ = self.fetch(remote, path).await;
        }
        if let Ok(fs) = self.fetch(remote, "/proc/filesystems").await {
            let text = String::from_utf8_lossy(&fs);
            self.nodev = Some(
                text.lines()
                    .filter_map(|l| l.strip_prefix("nodev"))
                    .map(|t| t.trim().to_owned())
                    .collect(),
            );
        }
        if let Ok(passwd) = remote.read("/etc/passwd").await {
            let users = crate::collect::process::parse_passwd(&String::from_utf8_lossy(&passwd));
            self.mirror.store_users(users);
        }
    }

    /// `cpuInfo`: sockets → cores → processors (every 10 s).
    ///
    /// # Errors
    /// The file cannot be read.
    pub async fn cpu_info(&mut self, remote: &Remote) -> Result<Events, RemoteError> {
        if self.nodev.is_none() {
            self.identity(remote).await;
        }
        let bytes = self.fetch(remote, "/proc/cpuinfo").await?;
        // Per socket: its description, and per core its processors.
        type Cores = BTreeMap<u64, Map<String, Value>>;
        let mut sockets: BTreeMap<u64, (Map<String, Value>, Cores)> = BTreeMap::new();
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
            let (_, cores) = sockets.entry(socket).or_insert_with(|| {
                let mut m = Map::new();
                for (key, field) in [
                    ("vendorId", "vendor_id"),
                    ("cpuFamily", "cpu family"),
                    ("model", "model"),
                    ("modelName", "model name"),
                    ("stepping", "stepping"),
                    ("cacheSize", "cache size"),
                    ("addressSizes", "address sizes"),
                ] {
                    m.insert(key.into(), text(field).into());
                }
                m.insert("physicalId".into(), socket.into());
                m.insert("siblings".into(), int("siblings").into());
                m.insert("cpuCores".into(), int("cpu cores").into());
                m.insert("fpu".into(), (text("fpu") == "yes").into());
                m.insert(
                    "fpuException".into(),
                    (text("fpu_exception") == "yes").into(),
                );
                m.insert("bogomips".into(), float("bogomips").into());
                m.insert("clFlushSize".into(), int("clflush size").into());
                m.insert("cacheAlignment".into(), int("cache_alignment").into());
                (m, Cores::new())
            });
            cores.entry(core).or_default().insert(
                processor.to_string(),
                json!({
                    "processor": processor,
                    "CPUMHz": float("cpu MHz"),
                    "apicid": int("apicid"),
                }),
            );
            block.clear();
        };
        for record in cpuinfo::records(&bytes).filter_map(Result::ok) {
            match record {
                cpuinfo::Record::Entry { key, value } => {
                    block.insert(key.to_string(), value.to_string());
                }
                cpuinfo::Record::BlockEnd => flush(&mut block),
            }
        }
        flush(&mut block);
        let siblings = sockets
            .values()
            .next()
            .and_then(|(s, _)| s.get("siblings")?.as_u64())
            .filter(|s| *s > 0);
        self.siblings = siblings.map(|s| s as f64);
        let map: Map<String, Value> = sockets
            .into_iter()
            .map(|(socket, (mut m, cores))| {
                let cores: Map<String, Value> = cores
                    .into_iter()
                    .map(|(core, processors)| {
                        let v = json!({ "cpuProcessorInfo": processors, "coreId": core });
                        (core.to_string(), v)
                    })
                    .collect();
                m.insert("cpuCoreInfo".into(), Value::Object(cores));
                (socket.to_string(), Value::Object(m))
            })
            .collect();
        Ok(vec![("cpuInfo", json!({ "cpuInfo": map }))])
    }

    /// The 2-second events: cpuPerformance, memoryPerformance, uptime, loadavg, netDev,
    /// netStat, temp, disk, then rough.
    ///
    /// # Errors
    /// A file every host has cannot be read (the connection is then retried).
    pub async fn fast(&mut self, remote: &Remote) -> Result<Events, RemoteError> {
        let mut out = Events::new();
        self.fetch(remote, "/proc/stat").await?;
        self.fetch(remote, "/proc/meminfo").await?;
        // Both files are in the mirror now: the events are the model's numbers.
        // A file that does not parse gives no CPU event and zeros for memory, as before.
        let model = self
            .mirror
            .host(Parts::CPU | Parts::MEMORY, std::time::Duration::ZERO)
            .ok();
        if let Some(model) = &model {
            out.extend(self.cpu_performance(model));
        }
        out.push(self.memory(&model.map(|m| m.sample.memory).unwrap_or_default()));
        out.extend(uptime_event(&self.fetch(remote, "/proc/uptime").await?));
        out.extend(self.loadavg(&self.fetch(remote, "/proc/loadavg").await?));
        let virtual_ifs: HashSet<String> = remote
            .list("/sys/devices/virtual/net")
            .await
            .unwrap_or_default()
            .into_iter()
            .collect();
        let fib = remote.read("/proc/net/fib_trie").await.unwrap_or_default();
        let routes = remote.read("/proc/net/route").await.unwrap_or_default();
        let ips = interface_addresses(&fib, &routes);
        let dev = self.fetch(remote, "/proc/net/dev").await?;
        out.push(self.net_dev(&dev, &virtual_ifs, &ips));
        out.push(self.net_stat(&self.fetch(remote, "/proc/net/snmp").await?));
        out.extend(self.temp(remote).await);
        out.push(self.disk(remote).await?);
        out.push(("rough", Value::Object(self.rough.clone())));
        Ok(out)
    }

    fn cpu_performance(&mut self, model: &Arc<HostSnapshot>) -> Option<(&'static str, Value)> {
        let prev = self.stat.replace(model.clone())?;
        let (before, now) = (&prev.sample, &model.sample);
        // No time between the two polls reads as all zeros, as a span of 0 always did.
        let shares = |s: Option<CpuShares>| {
            let s = s.unwrap_or_default();
            let pct = |share: f32| round2(f64::from(share) * 100.0);
            let free = pct(s.idle);
            json!({
                "utilization": round2(100.0 - free),
                "free": free,
                "system": pct(s.system),
                "user": pct(s.user),
                "IO": pct(s.iowait),
                "steal": pct(s.steal),
            })
        };
        let mut per_cpu = Map::new();
        for (id, s) in per_cpu_shares(before.cpus.as_slice(), now.cpus.as_slice()) {
            let mut v = shares(s);
            v["processor"] = id.into();
            per_cpu.insert(format!("cpu{id}"), v);
        }
        let mut t = shares(cpu_shares(&before.cpu, &now.cpu));
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
        t["totalTime"] = (value as u64).into();
        t["totalTimeUnit"] = unit.into();
        self.rough
            .insert("CPU".into(), json!({ "utilization": t["utilization"] }));
        Some((
            "cpuPerformance",
            json!({ "total": t, "cpuPerformance": per_cpu }),
        ))
    }

    fn memory(&mut self, m: &MemorySample) -> (&'static str, Value) {
        let b = |bytes: u64| bytes as f64;
        let total = b(m.total_bytes);
        let available = b(m.available_bytes);
        let swap_total = b(m.swap_total_bytes);
        let mut v = Map::new();
        put_human(&mut v, "totalMem", total);
        for (name, occupy, bytes, whole) in [
            ("freeMem", "freeMemOccupy", b(m.free_bytes), total),
            ("availableMem", "availableMemOccupy", available, total),
            (
                "usedMem",
                "usedMemOccupy",
                (total - available).max(0.0),
                total,
            ),
            ("buffer", "bufferOccupy", b(m.buffers_bytes), total),
            ("cached", "cacheOccupy", b(m.cached_bytes), total),
            ("dirty", "dirtyOccupy", b(m.dirty_bytes), total),
            (
                "freeSwap",
                "freeSwapOccupy",
                b(m.swap_free_bytes),
                swap_total,
            ),
            (
                "cachedSwap",
                "cachedSwapOccupy",
                b(m.swap_cached_bytes),
                swap_total,
            ),
        ] {
            put_human(&mut v, name, bytes);
            v.insert(occupy.into(), ratio(bytes, whole).into());
        }
        put_human(&mut v, "totalSwap", swap_total);
        self.rough.insert(
            "Memory".into(),
            json!({
                "freeMemOccupy": v["freeMemOccupy"],
                "usedMemOccupy": v["usedMemOccupy"],
                "cacheSwapOccupy": v["cachedSwapOccupy"],
            }),
        );
        ("memoryPerformance", json!({ "memory": v }))
    }

    fn loadavg(&mut self, bytes: &[u8]) -> Option<(&'static str, Value)> {
        let l = loadavg::parse(bytes).ok()?;
        // Argusyes relates loads to the CPU count, known once cpuinfo was read.
        let cpus = self.siblings?;
        let v = json!({
            "one": l.one, "oneOccupy": round2(l.one / cpus),
            "five": l.five, "fiveOccupy": round2(l.five / cpus),
            "fifteen": l.fifteen, "fifteenOccupy": round2(l.fifteen / cpus),
            "running": l.running, "active": l.total, "lastPid": l.last_pid,
        });
        self.rough.insert(
            "Loadavg".into(),
            json!({ "oneOccupy": v["oneOccupy"], "fiveOccupy": v["fiveOccupy"], "fifteenOccupy": v["fifteenOccupy"] }),
        );
        Some(("loadavg", json!({ "loadavg": v })))
    }

    fn net_dev(
        &mut self,
        bytes: &[u8],
        virtual_ifs: &HashSet<String>,
        ips: &HashMap<String, Vec<String>>,
    ) -> (&'static str, Value) {
        let now = Instant::now();
        let mut counters = NetCounters::new();
        let mut packets: HashMap<String, (u64, u64)> = HashMap::new();
        for i in net_dev::records(bytes).filter_map(Result::ok) {
            let name = i.name.to_string();
            packets.insert(name.clone(), (i.tx_packets, i.rx_packets));
            counters.insert(name, (i.tx_bytes, i.rx_bytes));
        }
        let prev = self.net.replace((now, counters.clone()));
        let secs = prev
            .as_ref()
            .map_or(0.0, |(at, _)| now.duration_since(*at).as_secs_f64());
        let mut per_if = Map::new();
        let mut total = (0u64, 0u64, 0u64, 0u64, 0.0f64, 0.0f64);
        let mut names: Vec<&String> = counters.keys().collect();
        names.sort();
        for name in names {
            let (up, down) = counters[name];
            let (up_p, down_p) = packets.get(name).copied().unwrap_or_default();
            let (up_rate, down_rate) = match prev.as_ref().and_then(|(_, p)| p.get(name)) {
                Some((pu, pd)) if secs > 0.0 => (
                    counter_delta(*pu, up, CounterWidth::Bits64) as f64 / secs,
                    counter_delta(*pd, down, CounterWidth::Bits64) as f64 / secs,
                ),
                _ => (0.0, 0.0),
            };
            let is_virtual = virtual_ifs.contains(name);
            let mut m = Map::new();
            m.insert("name".into(), name.as_str().into());
            put_human(&mut m, "upBytesH", up as f64);
            m.insert("upBytes".into(), up.into());
            put_human(&mut m, "downBytesH", down as f64);
            m.insert("downBytes".into(), down.into());
            m.insert("upPackets".into(), up_p.into());
            m.insert("downPackets".into(), down_p.into());
            put_human(&mut m, "upSpeed", up_rate);
            put_human(&mut m, "downSpeed", down_rate);
            m.insert(
                "ip".into(),
                json!(ips.get(name).cloned().unwrap_or_default()),
            );
            m.insert("virtual".into(), is_virtual.into());
            if !is_virtual {
                total.0 += up;
                total.1 += down;
                total.2 += up_p;
                total.3 += down_p;
                total.4 += up_rate;
                total.5 += down_rate;
            }
            per_if.insert(name.clone(), Value::Object(m));
        }
        let mut t = Map::new();
        put_human(&mut t, "upBytesH", total.0 as f64);
        t.insert("upBytes".into(), total.0.into());
        put_human(&mut t, "downBytesH", total.1 as f64);
        t.insert("downBytes".into(), total.1.into());
        t.insert("upPackets".into(), total.2.into());
        t.insert("downPackets".into(), total.3.into());
        put_human(&mut t, "upSpeed", total.4);
        put_human(&mut t, "downSpeed", total.5);
        let rough = subset(
            &t,
            &[
                "upBytesH",
                "upBytesHUnit",
                "downBytesH",
                "downBytesHUnit",
                "upSpeed",
                "upSpeedUnit",
                "downSpeed",
                "downSpeedUnit",
            ],
        );
        self.rough.insert("Net".into(), rough);
        ("netDev", json!({ "netDevTotal": t, "netDev": per_if }))
    }

    fn net_stat(&mut self, bytes: &[u8]) -> (&'static str, Value) {
        let counters: HashMap<(String, String), i64> = net_snmp::records(bytes)
            .filter_map(Result::ok)
            .map(|c| ((c.section.to_string(), c.name.to_string()), c.value))
            .collect();
        let get = |s: &str, n: &str| {
            counters
                .get(&(s.to_owned(), n.to_owned()))
                .copied()
                .unwrap_or(0)
        };
        let out_segs = get("Tcp", "OutSegs");
        let retrans = get("Tcp", "RetransSegs");
        (
            "netStat",
            json!({
                "netTCP": {
                    "activeOpens": get("Tcp", "ActiveOpens"),
                    "passiveOpens": get("Tcp", "PassiveOpens"),
                    "failOpens": get("Tcp", "AttemptFails"),
                    "currConn": get("Tcp", "CurrEstab"),
                    "inSegments": get("Tcp", "InSegs"),
                    "outSegments": out_segs,
                    "reTransSegments": retrans,
                    "reTransRate": if out_segs > 0 { round2(retrans as f64 * 100.0 / out_segs as f64) } else { 0.0 },
                },
                "netUDP": {
                    "inDatagrams": get("Udp", "InDatagrams"),
                    "outDatagrams": get("Udp", "OutDatagrams"),
                    "receiveBufErrors": get("Udp", "RcvbufErrors"),
                    "sendBufErrors": get("Udp", "SndbufErrors"),
                },
            }),
        )
    }

    async fn temp(&mut self, remote: &Remote) -> Option<(&'static str, Value)> {
        let mut zones = Map::new();
        for zone in 0..10 {
            let Ok(bytes) = remote
                .read(&format!("/sys/class/thermal/thermal_zone{zone}/temp"))
                .await
            else {
                break;
            };
            let Ok(milli) = String::from_utf8_lossy(&bytes).trim().parse::<i64>() else {
                break;
            };
            zones.insert(format!("zone{zone}"), milli.into());
        }
        let highest = zones.values().filter_map(Value::as_i64).max()?;
        self.rough
            .insert("Temp".into(), json!({ "highestTemp": highest }));
        Some(("temp", json!({ "tempMap": zones })))
    }

    async fn disk(&mut self, remote: &Remote) -> Result<(&'static str, Value), RemoteError> {
        let now = Instant::now();
        let stats = self.fetch(remote, "/proc/diskstats").await?;
        let mounted = self.fetch(remote, "/proc/mounts").await?;
        let counters: DiskCounters = diskstats::records(&stats)
            .filter_map(Result::ok)
            .map(|d| {
                (
                    format!("/dev/{}", d.name),
                    (
                        d.sectors_read * 512,
                        d.sectors_written * 512,
                        d.reads_completed,
                        d.writes_completed,
                    ),
                )
            })
            .collect();
        let prev = self.disk.replace((now, counters.clone()));
        let secs = prev
            .as_ref()
            .map_or(0.0, |(at, _)| now.duration_since(*at).as_secs_f64());
        let mut map = Map::new();
        let mut totals = (0u64, 0u64, 0.0f64, 0.0f64);
        for m in mounts::records(&mounted).filter_map(Result::ok) {
            let fs = m.vfstype.to_string();
            let mount = m.file.to_string();
            // Every device-backed filesystem's space goes to the mirror (the other
            // endpoints list them all); Argusyes reports ext4 and vfat only.
            let argusyes = fs == "ext4" || fs == "vfat";
            let device_backed = self
                .nodev
                .as_ref()
                .map_or(argusyes, |nodev| !nodev.contains(&fs));
            let space = if device_backed {
                remote.space(&mount).await
            } else {
                None
            };
            if let Some(space) = space {
                self.mirror.store_space(&mount, space);
            }
            if !argusyes {
                continue;
            }
            let dev = m.spec.to_string();
            let (read, write, reads, writes) = counters.get(&dev).copied().unwrap_or_default();
            let (read_rate, write_rate, read_iops, write_iops) =
                match prev.as_ref().and_then(|(_, p)| p.get(&dev)) {
                    Some(p) if secs > 0.0 => (
                        read.saturating_sub(p.0) as f64 / secs,
                        write.saturating_sub(p.1) as f64 / secs,
                        round2(reads.saturating_sub(p.2) as f64 / secs),
                        round2(writes.saturating_sub(p.3) as f64 / secs),
                    ),
                    _ => (0.0, 0.0, 0.0, 0.0),
                };
            let (total, free) = space.map_or((0, 0), |s| (s.total, s.free));
            let used = total.saturating_sub(free);
            let mut d = Map::new();
            d.insert("devName".into(), dev.clone().into());
            d.insert("mount".into(), mount.into());
            d.insert("fileSystem".into(), fs.into());
            d.insert("freeRate".into(), ratio(free as f64, total as f64).into());
            put_human(&mut d, "free", free as f64);
            d.insert("usedRate".into(), ratio(used as f64, total as f64).into());
            put_human(&mut d, "used", used as f64);
            put_human(&mut d, "total", total as f64);
            put_human(&mut d, "write", write as f64);
            put_human(&mut d, "read", read as f64);
            put_human(&mut d, "writeRate", write_rate);
            put_human(&mut d, "readRate", read_rate);
            d.insert("writeIOPS".into(), write_iops.into());
            d.insert("readIOPS".into(), read_iops.into());
            if !map.contains_key(&dev) {
                totals.0 += read;
                totals.1 += write;
                totals.2 += read_rate;
                totals.3 += write_rate;
            }
            map.insert(dev, Value::Object(d));
        }
        let mut v = Map::new();
        v.insert("diskMap".into(), Value::Object(map));
        put_human(&mut v, "write", totals.1 as f64);
        put_human(&mut v, "read", totals.0 as f64);
        put_human(&mut v, "writeRate", totals.3);
        put_human(&mut v, "readRate", totals.2);
        let rough = subset(
            &v,
            &[
                "write",
                "writeUnit",
                "read",
                "readUnit",
                "writeRate",
                "writeRateUnit",
                "readRate",
                "readRateUnit",
            ],
        );
        self.rough.insert("Disk".into(), rough);
        Ok(("disk", Value::Object(v)))
    }

    /// `process`: the top 50 by CPU then memory (every 5 s). CPU is percent of one CPU
    /// (× siblings), from jiffies between two polls; the machine's jiffies are those of
    /// the [`State::fast`] poll it follows, so /proc/stat is read once.
    ///
    /// # Errors
    /// The /proc listing cannot be read.
    pub async fn processes(&mut self, remote: &Remote) -> Result<Events, RemoteError> {
        // The machine's jiffies from the fast poll that runs just before this one.
        let machine = self
            .stat
            .as_ref()
            .map(|m| m.sample.cpu.to_ticks(REMOTE_TICKS_PER_SEC));
        let total = machine.map_or(0, |t| t.total());
        let mut now: ProcessJiffies = HashMap::new();
        let mut rows = Vec::new();
        let mut infos = Vec::new();
        for (name, uid) in remote.list_owned("/proc").await? {
            let Ok(pid) = name.parse::<u32>() else {
                continue;
            };
            // A process may end between the listing and the read: skip it. One read per
            // process: stat's rss is the resident size statm would give.
            let Ok(stat) = remote.read(&format!("/proc/{pid}/stat")).await else {
                continue;
            };
            let Ok(s) = pid_stat::parse(&stat) else {
                continue;
            };
            let rss = (s.rss.max(0) as u64).saturating_mul(REMOTE_PAGE);
            let comm = format!("({})", s.comm);
            let jiffies = s.utime + s.stime + s.cutime.max(0) as u64 + s.cstime.max(0) as u64;
            now.insert((s.pid, comm.clone()), jiffies);
            rows.push((s.pid, comm, jiffies, rss));
            infos.push(ProcessInfo {
                pid,
                name: s.comm.to_string(),
                state: s.state,
                nice: s.nice,
                num_threads: s.num_threads,
                utime: s.utime,
                stime: s.stime,
                rss_bytes: rss,
                vms_bytes: s.vsize,
                uid,
            });
        }
        infos.sort_by_key(|p| p.pid);
        self.mirror.store_processes(infos, machine, Instant::now());
        let prev = self.processes.replace((total, now));
        let siblings = self.siblings.unwrap_or(1.0);
        let mut list: Vec<(f64, u64, i64, String)> = rows
            .into_iter()
            .map(|(pid, comm, jiffies, rss)| {
                let cpu = match &prev {
                    Some((prev_total, before)) => {
                        let span = total.saturating_sub(*prev_total).max(1) as f64;
                        let used = before
                            .get(&(pid, comm.clone()))
                            .map_or(0, |b| jiffies.saturating_sub(*b));
                        round2(siblings * 100.0 * used as f64 / span)
                    }
                    None => 0.0,
                };
                (cpu, rss, pid, comm)
            })
            .collect();
        list.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
        list.truncate(50);
        let process: Vec<Value> = list
            .into_iter()
            .map(|(cpu, rss, pid, name)| {
                let (mem, unit) = human(rss as f64);
                json!({ "PID": pid, "name": name, "CPU": cpu, "mem": mem, "memUnit": unit, "MemRaw": rss })
            })
            .collect();
        Ok(vec![("process", json!({ "process": process }))])
    }
}

/// Each interface's IPv4 addresses, as Argusyes finds them: the host's own addresses
/// (`/32 host LOCAL` in /proc/net/fib_trie; link-local 169.254/16 left out), each given
/// to the interface whose route (/proc/net/route) covers it; 127/8 is `lo`'s.
fn interface_addresses(fib_trie: &[u8], route: &[u8]) -> HashMap<String, Vec<String>> {
    let fib = String::from_utf8_lossy(fib_trie);
    let mut local: Vec<std::net::Ipv4Addr> = Vec::new();
    let mut last: Option<std::net::Ipv4Addr> = None;
    for line in fib.lines() {
        let t = line.trim();
        if let Some(a) = t.strip_prefix("|-- ") {
            last = a.parse().ok();
        } else if t == "/32 host LOCAL" {
            if let Some(a) = last.filter(|a| !a.is_link_local() && !local.contains(a)) {
                local.push(a);
            }
        }
    }
    let routes: Vec<(String, u32, u32)> = String::from_utf8_lossy(route)
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let dest = u32::from_str_radix(f.get(1)?, 16).ok()?;
            let mask = u32::from_str_radix(f.get(7)?, 16).ok()?;
            // The kernel prints these in host (little-endian) byte order.
            Some((
                f[0].to_owned(),
                u32::from_be(dest.to_le()),
                u32::from_be(mask.to_le()),
            ))
        })
        .filter(|(_, _, mask)| *mask != 0)
        .collect();
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for a in local {
        let bits = u32::from(a);
        let iface = if a.is_loopback() {
            Some("lo".to_owned())
        } else {
            routes
                .iter()
                .filter(|(_, dest, mask)| bits & mask == *dest)
                .max_by_key(|(_, _, mask)| mask.count_ones())
                .map(|(i, _, _)| i.clone())
        };
        if let Some(i) = iface {
            out.entry(i).or_default().push(a.to_string());
        }
    }
    out
}

fn uptime_event(bytes: &[u8]) -> Option<(&'static str, Value)> {
    let secs = uptime::parse(bytes).ok()?.uptime_secs as u64;
    Some((
        "uptime",
        json!({ "uptime": {
            "upDay": secs / 86_400,
            "UpHour": secs % 86_400 / 3_600,
            "upMin": secs % 3_600 / 60,
            "upSec": secs % 60,
        }}),
    ))
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn addresses_from_fib_trie_and_routes() {
        let fib = b"Local:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 127.0.0.1\n        /32 host LOCAL\n     |-- 192.0.2.2\n        /32 host LOCAL\n     |-- 192.0.2.255\n        /32 link BROADCAST\n     |-- 169.254.1.1\n        /32 host LOCAL\n";
        let route = b"Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\neth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
        let ips = interface_addresses(fib, route);
        assert_eq!(ips["eth0"], ["192.0.2.2"]);
        assert_eq!(ips["lo"], ["127.0.0.1"]);
        assert_eq!(ips.len(), 2, "link-local left out: {ips:?}");
    }
}
