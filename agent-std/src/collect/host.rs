//! The typed model of a host: the core's [`HostSample`] filled from the files a
//! [`ProcCache`](super::shared::ProcCache) holds, the agent's own /proc or a watched
//! host's mirror alike. Endpoints map it to their wire shapes and take rates between two
//! snapshots with the core's [`rates`](ferrostat_core::metrics::rates); none parses
//! /proc for these numbers itself.
//!
//! A caller names the [`Parts`] it shows, so a socktop poll does not pay for diskstats:
//! a snapshot is rebuilt only when the last one is older than the caller's `max_age` or
//! lacks a part it asks for, and its files come through the shared reads, so callers
//! with different parts still share each file's read.

use std::ops::BitOr;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use ferrostat_core::etc::os_release;
use ferrostat_core::metrics::host::{fixed_name, push_counter_field, push_memory_field};
use ferrostat_core::metrics::host::{CounterFields, MemoryFields};
use ferrostat_core::metrics::HostSample;
use ferrostat_core::procfs::pressure;
use ferrostat_core::procfs::vmstat;
use ferrostat_core::procfs::{diskstats, loadavg, meminfo, mounts, net_dev, net_snmp, net_snmp6};
use ferrostat_core::procfs::{stat, sysctl, uptime};
use ferrostat_core::sysfs::{clocksource, thermal};

use super::procfs::ProcFile;
use super::shared::{Snapshot, Space};

/// The model of one host as the agent keeps it: 512 CPUs, 1,024 interfaces (a container
/// host has a veth per container) and 512 block devices (partitions, loop devices, dm
/// volumes); what does not fit is counted. About 190 KB, so always boxed.
pub type LinuxHostSample = HostSample<512, 1024, 512>;

/// Which parts of a [`LinuxHostSample`] a snapshot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Parts(u32);

impl Parts {
    /// `cpu` and `cpus` (/proc/stat).
    pub const CPU: Parts = Parts(1);
    /// `memory` from /proc/meminfo.
    pub const MEMORY: Parts = Parts(1 << 1);
    /// The swap traffic of `memory` from /proc/vmstat (left 0 where the file is not at
    /// hand: a watched host's poller does not read it).
    pub const SWAP_ACTIVITY: Parts = Parts(1 << 2);
    /// `load` (/proc/loadavg).
    pub const LOAD: Parts = Parts(1 << 3);
    /// `uptime_secs` (/proc/uptime).
    pub const UPTIME: Parts = Parts(1 << 4);
    /// `interfaces` (/proc/net/dev).
    pub const INTERFACES: Parts = Parts(1 << 5);
    /// `disks` (/proc/diskstats).
    pub const DISKS: Parts = Parts(1 << 6);
    /// `pressure` (/proc/pressure/*), left `None` on kernels without CONFIG_PSI.
    pub const PRESSURE: Parts = Parts(1 << 7);
    /// `hostname` (/proc/sys/kernel/hostname).
    pub const HOSTNAME: Parts = Parts(1 << 8);
    /// The snapshot's `memory_fields`: every /proc/meminfo line, for `/metrics`.
    pub const MEMORY_FIELDS: Parts = Parts(1 << 9);
    /// `tcp` and `udp` (/proc/net/snmp).
    pub const TRANSPORT: Parts = Parts(1 << 10);
    /// `temperatures`: /sys/class/thermal/thermal_zone<N>/temp from zone 0 up to the
    /// first that cannot be read (none on most VMs).
    pub const TEMPERATURES: Parts = Parts(1 << 11);
    /// The snapshot's `filesystems`: device-backed mounts and their space.
    pub const FILESYSTEMS: Parts = Parts(1 << 12);
    /// The file handles of `kernel_limits` (/proc/sys/fs/file-nr).
    pub const FILE_HANDLES: Parts = Parts(1 << 13);
    /// The entropy of `kernel_limits` (/proc/sys/kernel/random).
    pub const ENTROPY: Parts = Parts(1 << 14);
    /// The snapshot's `vmstat_fields`: every /proc/vmstat counter, for `/metrics`.
    pub const VMSTAT_FIELDS: Parts = Parts(1 << 15);
    /// The snapshot's `uname`.
    pub const UNAME: Parts = Parts(1 << 16);
    /// The snapshot's `clocksources` (/sys/devices/system/clocksource).
    pub const CLOCKSOURCES: Parts = Parts(1 << 17);
    /// The snapshot's `os_release` (/etc/os-release, else /usr/lib/os-release).
    pub const OS_RELEASE: Parts = Parts(1 << 18);
    /// The snapshot's `netstat_fields` (/proc/net/snmp, netstat and snmp6).
    pub const NETSTAT_FIELDS: Parts = Parts(1 << 19);
    /// What every Linux host has and a host summary shows: cpu, memory and its swap
    /// traffic, load, uptime, interfaces, disks, pressure, hostname (the `snapshot`
    /// command's sample).
    pub const SUMMARY: Parts = Parts((1 << 9) - 1);

    /// Both sets of parts (`|` where a constant needs it).
    pub const fn union(self, other: Parts) -> Parts {
        Parts(self.0 | other.0)
    }

    /// Whether `self` and `other` share a part.
    pub fn intersects(self, other: Parts) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether every part of `other` is in `self`.
    pub fn contains(self, other: Parts) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for Parts {
    type Output = Parts;
    fn bitor(self, rhs: Parts) -> Parts {
        Parts(self.0 | rhs.0)
    }
}

/// A host's sample and when it was built.
#[derive(Debug)]
pub struct HostSnapshot {
    /// When the snapshot was built from the files (each file at most the caller's
    /// `max_age` older; a mirror's as old as its poller's last pass).
    pub taken: Instant,
    /// When the newest of its files was read: rates are measured between two of these,
    /// and a mirror not polled since gives the same one again.
    pub read_at: Instant,
    /// The parts it was built with; the rest of `sample` is default.
    pub parts: Parts,
    /// The parts among them whose file could not be read or parsed, with why (their
    /// numbers are default or partial).
    pub failed: Vec<(Parts, String)>,
    /// The numbers.
    pub sample: Box<LinuxHostSample>,
    /// Every /proc/meminfo line under its own name, with [`Parts::MEMORY_FIELDS`].
    pub memory_fields: Box<LinuxMemoryFields>,
    /// Mounted filesystems backed by a device, with [`Parts::FILESYSTEMS`].
    pub filesystems: Vec<Filesystem>,
    /// Every /proc/vmstat counter, with [`Parts::VMSTAT_FIELDS`].
    pub vmstat_fields: Box<LinuxVmstatFields>,
    /// The kernel's names, with [`Parts::UNAME`].
    pub uname: Option<Uname>,
    /// The clock sources of each clocksource device, with [`Parts::CLOCKSOURCES`].
    pub clocksources: Vec<Clocksource>,
    /// The operating system's identification, `(KEY, value)` in the file's order, with
    /// [`Parts::OS_RELEASE`].
    pub os_release: Vec<(String, String)>,
    /// Every counter of /proc/net/snmp, /proc/net/netstat and /proc/net/snmp6 as
    /// `(Section_Name, value)` (`Tcp_ActiveOpens`, `TcpExt_ListenDrops`, `Ip6_InOctets`),
    /// with [`Parts::NETSTAT_FIELDS`].
    pub netstat_fields: Vec<(String, i64)>,
}

/// One clock source a clocksource device can use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clocksource {
    /// The device (`0` for clocksource0).
    pub device: u32,
    /// The source (`tsc`).
    pub name: String,
    /// Whether the device uses it now.
    pub current: bool,
}

/// Every /proc/vmstat counter: 6.x kernels print about 180.
pub type LinuxVmstatFields = CounterFields<256>;

/// What uname(2) says of a host: this host's own call, or a watched host's
/// /proc/sys/kernel files (`ostype`, `osrelease`, `version`, `hostname`, `domainname`,
/// `arch`; `arch` since Linux 6.1, else the machine is empty).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Uname {
    /// `Linux`.
    pub sysname: String,
    /// The kernel release (`6.1.0-18-amd64`).
    pub release: String,
    /// The kernel's build string (`#1 SMP PREEMPT_DYNAMIC ...`).
    pub version: String,
    /// The hardware (`x86_64`).
    pub machine: String,
    /// The host name.
    pub nodename: String,
    /// The NIS domain name (`(none)` where unset).
    pub domainname: String,
}

impl Uname {
    /// This machine's, by uname(2).
    pub fn this_machine() -> Self {
        let u = rustix::system::uname();
        let text = |c: &std::ffi::CStr| c.to_string_lossy().into_owned();
        Uname {
            sysname: text(u.sysname()),
            release: text(u.release()),
            version: text(u.version()),
            machine: text(u.machine()),
            nodename: text(u.nodename()),
            domainname: text(u.domainname()),
        }
    }
}

/// One mounted filesystem backed by a device (its type is not marked `nodev` in
/// /proc/filesystems: psutil's `disk_partitions(all=False)`), in /proc/mounts order.
/// Kept on the std side: mount points are paths of any length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filesystem {
    /// The mounted device (`/dev/sda1`).
    pub device: String,
    /// Where it is mounted.
    pub mount_point: String,
    /// Its type (`ext4`).
    pub fs_type: String,
    /// Its mount options.
    pub options: String,
    /// Its size and free space (statvfs here, the poller's for a mirror); `None` where
    /// it could not be taken.
    pub space: Option<Space>,
}
impl HostSnapshot {
    /// Why one of `parts` failed, if one did.
    pub fn error(&self, parts: Parts) -> Option<&str> {
        self.failed
            .iter()
            .find(|(p, _)| parts.intersects(*p))
            .map(|(_, e)| e.as_str())
    }
}

/// Every /proc/meminfo line: 6.x kernels print about 60.
pub type LinuxMemoryFields = MemoryFields<128>;

/// What one host's model keeps between snapshots.
#[derive(Debug, Default)]
pub(super) struct ModelSlot {
    pub(super) latest: Option<Arc<HostSnapshot>>,
    /// The sample of a snapshot nobody held any more, filled again by the next one:
    /// allocating and moving a new one costs more than parsing every file into it.
    pub(super) spare: Option<Box<LinuxHostSample>>,
    /// Reused for every parse of /proc/stat: 512 CPUs' lines are too big to zero on the
    /// stack per request.
    stat: Box<stat::Stat<512>>,
}

/// A snapshot of `parts` from the files `read_file(rel)` gives. A part whose file cannot
/// be read or parsed is recorded in `failed` and the others are still filled, as
/// node_exporter's collectors fail one by one; an optional part whose file is not at hand
/// (vmstat on a mirror, pressure without CONFIG_PSI) stays default without failing.
pub(super) fn fill(
    slot: &mut ModelSlot,
    parts: Parts,
    ticks_per_sec: u64,
    read_file: impl Fn(&str) -> Result<Snapshot, String>,
    space: impl Fn(&str) -> Option<Space>,
    this_machine: Option<Uname>,
) -> HostSnapshot {
    let newest = std::cell::Cell::new(None::<Instant>);
    let read = |rel: &str| {
        let file = read_file(rel)?;
        newest.set(Some(newest.get().map_or(file.taken, |n| n.max(file.taken))));
        Ok::<_, String>(file.bytes)
    };
    let mut sample = match slot.spare.take() {
        Some(mut spare) => {
            spare.clear();
            spare
        }
        None => Box::<LinuxHostSample>::default(),
    };
    sample.timestamp_ms = crate::clock::now_ms_unsigned();
    let invalid = |rel: &str, e: ferrostat_core::Error| format!("{rel}: {e}");
    let mut failed = Vec::new();
    let mut attempt = |part: Parts, result: Result<(), String>| {
        if let Err(e) = result {
            failed.push((part, e));
        }
    };
    let s = &mut *sample;
    if parts.contains(Parts::HOSTNAME) {
        attempt(
            Parts::HOSTNAME,
            (|| {
                let name = read("sys/kernel/hostname")?;
                s.hostname = fixed_name(name.trim_ascii()).unwrap_or_default();
                Ok(())
            })(),
        );
    }
    if parts.contains(Parts::CPU) {
        attempt(
            Parts::CPU,
            (|| {
                let bytes = read("stat")?;
                stat::parse_into(&bytes, &mut slot.stat).map_err(|e| invalid("stat", e))?;
                s.set_cpu(&slot.stat, ticks_per_sec);
                Ok(())
            })(),
        );
    }
    if parts.contains(Parts::MEMORY) {
        attempt(
            Parts::MEMORY,
            (|| {
                let bytes = read("meminfo")?;
                s.set_memory(&meminfo::parse(&bytes).map_err(|e| invalid("meminfo", e))?);
                Ok(())
            })(),
        );
    }
    let mut memory_fields = Box::<LinuxMemoryFields>::default();
    if parts.contains(Parts::MEMORY_FIELDS) {
        attempt(
            Parts::MEMORY_FIELDS,
            (|| {
                let bytes = read("meminfo")?;
                for record in meminfo::records(&bytes) {
                    let record = record.map_err(|e| invalid("meminfo", e))?;
                    push_memory_field(&mut memory_fields, &record);
                }
                Ok(())
            })(),
        );
    }
    if parts.contains(Parts::SWAP_ACTIVITY) {
        attempt(
            Parts::SWAP_ACTIVITY,
            (|| {
                if let Ok(bytes) = read("vmstat") {
                    s.set_swap_activity(&vmstat::parse(&bytes).map_err(|e| invalid("vmstat", e))?);
                }
                Ok(())
            })(),
        );
    }
    if parts.contains(Parts::LOAD) {
        attempt(
            Parts::LOAD,
            (|| {
                let bytes = read("loadavg")?;
                s.set_load(&loadavg::parse(&bytes).map_err(|e| invalid("loadavg", e))?);
                Ok(())
            })(),
        );
    }
    if parts.contains(Parts::UPTIME) {
        attempt(
            Parts::UPTIME,
            (|| {
                let bytes = read("uptime")?;
                s.uptime_secs = uptime::parse(&bytes)
                    .map_err(|e| invalid("uptime", e))?
                    .uptime_secs;
                Ok(())
            })(),
        );
    }
    if parts.contains(Parts::INTERFACES) {
        attempt(
            Parts::INTERFACES,
            (|| {
                let bytes = read("net/dev")?;
                for record in net_dev::records(&bytes) {
                    s.push_interface(&record.map_err(|e| invalid("net/dev", e))?);
                }
                Ok(())
            })(),
        );
    }
    if parts.contains(Parts::DISKS) {
        attempt(
            Parts::DISKS,
            (|| {
                let bytes = read("diskstats")?;
                for record in diskstats::records(&bytes) {
                    s.push_disk(&record.map_err(|e| invalid("diskstats", e))?);
                }
                Ok(())
            })(),
        );
    }
    if parts.contains(Parts::PRESSURE) {
        attempt(
            Parts::PRESSURE,
            (|| {
                let files = ["pressure/cpu", "pressure/memory", "pressure/io"].map(read);
                if let [Ok(c), Ok(m), Ok(i)] = &files {
                    let p = |rel: &str, b: &[u8]| pressure::parse(b).map_err(|e| invalid(rel, e));
                    s.set_pressure(
                        &p("pressure/cpu", c)?,
                        &p("pressure/memory", m)?,
                        &p("pressure/io", i)?,
                    );
                    if let Ok(irq) = read("pressure/irq") {
                        s.set_irq_pressure(&p("pressure/irq", &irq)?);
                    }
                }
                Ok(())
            })(),
        );
    }
    if parts.contains(Parts::TRANSPORT) {
        attempt(
            Parts::TRANSPORT,
            (|| {
                let bytes = read("net/snmp")?;
                s.set_transport(&net_snmp::parse(&bytes).map_err(|e| invalid("net/snmp", e))?);
                Ok(())
            })(),
        );
    }
    if parts.contains(Parts::TEMPERATURES) {
        // Absolute: sysfs is not under the /proc root (a mirror keeps the same path).
        for zone in 0..64 {
            let Ok(bytes) = read(&format!("/sys/class/thermal/thermal_zone{zone}/temp")) else {
                break;
            };
            // A sensor that answers nonsense is one zone lost, counted, not the host.
            match thermal::parse_temp(&bytes) {
                Ok(milli) => s.push_temperature(format!("zone{zone}").as_bytes(), milli),
                Err(_) => s.temperatures.push_dropped(),
            }
        }
    }
    let mut filesystems = Vec::new();
    if parts.contains(Parts::FILESYSTEMS) {
        attempt(
            Parts::FILESYSTEMS,
            (|| {
                let types = read("filesystems")?;
                let nodev: Vec<&[u8]> = types
                    .split(|b| *b == b'\n')
                    .filter_map(|l| l.strip_prefix(b"nodev"))
                    .map(<[u8]>::trim_ascii)
                    .collect();
                let bytes = read("mounts")?;
                for record in mounts::records(&bytes) {
                    let m = record.map_err(|e| invalid("mounts", e))?;
                    let fs_type = m.vfstype.to_string();
                    if nodev.contains(&fs_type.as_bytes()) {
                        continue;
                    }
                    let mount_point = m.file.to_string();
                    filesystems.push(Filesystem {
                        device: m.spec.to_string(),
                        space: space(&mount_point),
                        mount_point,
                        fs_type,
                        options: m.mntops.to_string(),
                    });
                }
                Ok(())
            })(),
        );
    }
    if parts.contains(Parts::FILE_HANDLES) {
        attempt(
            Parts::FILE_HANDLES,
            (|| {
                let bytes = read("sys/fs/file-nr")?;
                s.set_file_handles(
                    sysctl::parse_values(&bytes).map_err(|e| invalid("sys/fs/file-nr", e))?,
                );
                Ok(())
            })(),
        );
    }
    if parts.contains(Parts::ENTROPY) {
        attempt(
            Parts::ENTROPY,
            (|| {
                let value = |rel: &str| -> Result<u64, String> {
                    let [v] = sysctl::parse_values(&read(rel)?).map_err(|e| invalid(rel, e))?;
                    Ok(v)
                };
                let available = value("sys/kernel/random/entropy_avail")?;
                s.set_entropy(available, value("sys/kernel/random/poolsize")?);
                Ok(())
            })(),
        );
    }
    let mut vmstat_fields = Box::<LinuxVmstatFields>::default();
    if parts.contains(Parts::VMSTAT_FIELDS) {
        attempt(
            Parts::VMSTAT_FIELDS,
            (|| {
                let bytes = read("vmstat")?;
                for record in vmstat::records(&bytes) {
                    let c = record.map_err(|e| invalid("vmstat", e))?;
                    push_counter_field(&mut vmstat_fields, c.name.as_bytes(), c.value);
                }
                Ok(())
            })(),
        );
    }
    let mut uname = None;
    if parts.contains(Parts::UNAME) {
        attempt(
            Parts::UNAME,
            (|| {
                if let Some(u) = this_machine {
                    uname = Some(u);
                    return Ok(());
                }
                let text = |rel: &str| -> Result<String, String> {
                    Ok(String::from_utf8_lossy(read(rel)?.trim_ascii()).into_owned())
                };
                uname = Some(Uname {
                    sysname: text("sys/kernel/ostype")?,
                    release: text("sys/kernel/osrelease")?,
                    version: text("sys/kernel/version")?,
                    machine: text("sys/kernel/arch").unwrap_or_default(),
                    nodename: text("sys/kernel/hostname")?,
                    domainname: text("sys/kernel/domainname")?,
                });
                Ok(())
            })(),
        );
    }
    let mut clocksources = Vec::new();
    if parts.contains(Parts::CLOCKSOURCES) {
        attempt(
            Parts::CLOCKSOURCES,
            (|| {
                // Bounded like the thermal zones: a machine has one or two.
                for device in 0u32..64 {
                    let dir = format!("/sys/devices/system/clocksource/clocksource{device}");
                    let Ok(available) = read(&format!("{dir}/available_clocksource")) else {
                        // None at all is the collector failing, as node_exporter's does.
                        return if device == 0 {
                            Err(format!("{dir}: not found"))
                        } else {
                            Ok(())
                        };
                    };
                    let current = read(&format!("{dir}/current_clocksource"))?;
                    let (available, _) =
                        clocksource::names::<32>(&available).map_err(|e| invalid(&dir, e))?;
                    let (current, _) =
                        clocksource::names::<1>(&current).map_err(|e| invalid(&dir, e))?;
                    for name in available.iter().flatten() {
                        clocksources.push(Clocksource {
                            device,
                            name: name.to_string(),
                            current: current[0] == Some(*name),
                        });
                    }
                }
                Ok(())
            })(),
        );
    }
    let mut os_release = Vec::new();
    if parts.contains(Parts::OS_RELEASE) {
        attempt(
            Parts::OS_RELEASE,
            (|| {
                // os-release(5): /etc/os-release wins, /usr/lib/os-release is the fallback.
                let (path, bytes) = match read("/etc/os-release") {
                    Ok(bytes) => ("/etc/os-release", bytes),
                    Err(_) => ("/usr/lib/os-release", read("/usr/lib/os-release")?),
                };
                for record in os_release::records(&bytes) {
                    let f = record.map_err(|e| invalid(path, e))?;
                    os_release.push((f.key.to_string(), f.value.to_string()));
                }
                Ok(())
            })(),
        );
    }
    let mut netstat_fields = Vec::new();
    if parts.contains(Parts::NETSTAT_FIELDS) {
        attempt(
            Parts::NETSTAT_FIELDS,
            (|| {
                // netstat and snmp6 are absent on some kernels (no IPv6): only snmp must be.
                let tables = [
                    ("net/snmp", Some(read("net/snmp")?)),
                    ("net/netstat", read("net/netstat").ok()),
                ];
                for (rel, bytes) in tables {
                    let Some(bytes) = bytes else {
                        continue;
                    };
                    for record in net_snmp::records(&bytes) {
                        let c = record.map_err(|e| invalid(rel, e))?;
                        netstat_fields.push((format!("{}_{}", c.section, c.name), c.value));
                    }
                }
                if let Ok(bytes) = read("net/snmp6") {
                    for record in net_snmp6::records(&bytes) {
                        let c = record.map_err(|e| invalid("net/snmp6", e))?;
                        let value = i64::try_from(c.value).unwrap_or(i64::MAX);
                        netstat_fields.push((format!("{}_{}", c.section, c.name), value));
                    }
                }
                Ok(())
            })(),
        );
    }
    let taken = Instant::now();
    HostSnapshot {
        taken,
        read_at: newest.get().unwrap_or(taken),
        parts,
        failed,
        sample,
        memory_fields,
        filesystems,
        vmstat_fields,
        uname,
        clocksources,
        os_release,
        netstat_fields,
    }
}

/// One snapshot of the host under `root` (normally `/proc`) read now, each error naming
/// the file's full path: the `snapshot` command's sample, outside any cache.
pub fn read_now(root: &Path, parts: Parts) -> Result<HostSnapshot, String> {
    let ticks_per_sec = rustix::param::clock_ticks_per_second();
    let read_file = |rel: &str| {
        let path = root.join(rel);
        let named = |e: std::io::Error| format!("{}: {e}", path.display());
        let mut file = ProcFile::open(&path).map_err(named)?;
        let bytes = file.read().map(Arc::from).map_err(named)?;
        Ok(Snapshot {
            taken: Instant::now(),
            bytes,
        })
    };
    // Mount points name this machine's paths only when the root is its own /proc.
    let live = root == Path::new("/proc");
    let space = |mount: &str| live.then(|| super::shared::statvfs(mount)).flatten();
    let this_machine = (live && parts.contains(Parts::UNAME)).then(Uname::this_machine);
    let snapshot = fill(
        &mut ModelSlot::default(),
        parts,
        ticks_per_sec,
        read_file,
        space,
        this_machine,
    );
    match snapshot.error(parts) {
        Some(e) => Err(e.to_owned()),
        None => Ok(snapshot),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::collect::shared::ProcCache;

    /// A real machine's files (core/tests/data/proc/local/proc, copied from a 2-CPU VM).
    fn corpus(rel: &str) -> Vec<u8> {
        let root = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../core/tests/data/proc/local/proc/"
        );
        std::fs::read(format!("{root}{rel}")).unwrap()
    }

    #[test]
    fn a_mirror_is_modelled_from_the_files_its_poller_stored() {
        let mirror = ProcCache::mirror();
        let polled = Instant::now();
        for rel in ["stat", "meminfo", "loadavg"] {
            mirror.store(rel, &corpus(rel), polled);
        }
        let parts = Parts::CPU | Parts::MEMORY | Parts::LOAD | Parts::SWAP_ACTIVITY;
        let m = mirror.host(parts, Duration::ZERO).unwrap();
        assert_eq!(m.read_at, polled, "as old as the poll, not the build");
        let s = &m.sample;
        // cpu0 13575 0 4652 20572 ... at USER_HZ 100.
        assert_eq!(s.cpus.len(), 2);
        assert_eq!(
            (
                s.cpus.as_slice()[0].counters.user_ms,
                s.cpus.as_slice()[0].counters.idle_ms
            ),
            (135_750, 205_720)
        );
        assert_eq!(s.kernel.boot_time_secs, Some(1_795_351_355));
        assert_eq!(s.kernel.context_switches, Some(802_554));
        assert_eq!(
            (s.kernel.forks, s.kernel.procs_running),
            (Some(41_986), Some(6))
        );
        assert_eq!(s.memory.total_bytes, 24_683_656 * 1024);
        assert_eq!(s.memory.active_bytes, 1_208_584 * 1024);
        assert_eq!(s.memory.inactive_bytes, 2_345_140 * 1024);
        assert_eq!(s.memory.dirty_bytes, 161_184 * 1024);
        assert_eq!(s.load.averages(), [4.04, 2.0, 0.82]);
        // The poller reads no vmstat: swap traffic stays 0, not an error.
        assert_eq!((s.memory.swap_in_pages, s.memory.swap_out_pages), (0, 0));
        // A part whose file was never polled is an error that names the file.
        let err = mirror.host(Parts::INTERFACES, Duration::ZERO).unwrap_err();
        assert!(err.starts_with("net/dev: "), "{err}");
    }

    #[test]
    fn callers_within_the_age_share_one_snapshot_and_keep_each_others_parts() {
        let cache = ProcCache::new(Path::new("/proc"));
        let hour = Duration::from_secs(3600);
        let a = cache.host(Parts::MEMORY, hour).unwrap();
        let b = cache.host(Parts::MEMORY, hour).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
        let total_kib: u64 = meminfo
            .lines()
            .next()
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(a.sample.memory.total_bytes, total_kib * 1024);
        // Asking for more rebuilds, keeping what the fresh one held.
        let c = cache.host(Parts::CPU, hour).unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
        assert!(c.parts.contains(Parts::CPU | Parts::MEMORY));
        assert_eq!(c.sample.memory.total_bytes, total_kib * 1024);
        let online = std::thread::available_parallelism().unwrap().get();
        assert!(
            c.sample.cpus.len() >= online,
            "{} CPUs",
            c.sample.cpus.len()
        );
        // A caller that accepts nothing older than now gets a new one.
        let d = cache.host(Parts::MEMORY, Duration::ZERO).unwrap();
        assert!(!Arc::ptr_eq(&c, &d));
        assert!(d.read_at >= c.read_at);
    }

    #[test]
    fn this_machine_s_transport_temperatures_and_filesystems() {
        let cache = ProcCache::new(Path::new("/proc"));
        let parts = Parts::TRANSPORT | Parts::TEMPERATURES | Parts::FILESYSTEMS;
        let m = cache.host(parts, Duration::ZERO).unwrap();
        let snmp = std::fs::read_to_string("/proc/net/snmp").unwrap();
        let udp_names = snmp.lines().find(|l| l.starts_with("Udp:")).unwrap();
        assert!(udp_names.contains("InDatagrams"));
        assert!(m.sample.udp.in_datagrams.is_some());
        assert!(m.sample.tcp.active_opens.is_some());
        // As many zones as sysfs has from zone 0 on (none on most VMs).
        let zones = (0..)
            .take_while(|z| Path::new(&format!("/sys/class/thermal/thermal_zone{z}/temp")).exists())
            .count();
        assert_eq!(
            m.sample.temperatures.len() + m.sample.temperatures.dropped() as usize,
            zones
        );
        // The root filesystem is device-backed here, with its statvfs size.
        let mounts = std::fs::read_to_string("/proc/mounts").unwrap();
        let root_type = mounts
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .filter(|f| f[1] == "/")
            .map(|f| f[2].to_owned())
            .next_back()
            .unwrap();
        let nodev = std::fs::read_to_string("/proc/filesystems").unwrap();
        let device_backed = !nodev
            .lines()
            .any(|l| l.starts_with("nodev") && l.ends_with(&root_type));
        let root = m.filesystems.iter().find(|f| f.mount_point == "/");
        assert_eq!(root.is_some(), device_backed, "{root_type}");
        if let Some(root) = root {
            let space = root.space.unwrap();
            assert!(space.total > 0 && space.free <= space.total);
        }
        assert!(m
            .filesystems
            .iter()
            .all(|f| f.fs_type != "proc" && f.fs_type != "sysfs"));
    }
}
