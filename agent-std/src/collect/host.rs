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

use ferrostat_core::metrics::host::{fixed_name, push_memory_field, MemoryFields};
use ferrostat_core::metrics::HostSample;
use ferrostat_core::procfs::vmstat;
use ferrostat_core::procfs::{diskstats, loadavg, meminfo, net_dev, pressure, stat, uptime};

use super::procfs::ProcFile;
use super::shared::Snapshot;

/// The model of one host as the agent keeps it: 512 CPUs, 1,024 interfaces (a container
/// host has a veth per container) and 512 block devices (partitions, loop devices, dm
/// volumes); what does not fit is counted. About 190 KB, so always boxed.
pub type LinuxHostSample = HostSample<512, 1024, 512>;

/// Which parts of a [`LinuxHostSample`] a snapshot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Parts(u16);

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
    /// Everything above.
    pub const ALL: Parts = Parts((1 << 10) - 1);

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
    /// What `sample` holds; the rest of it is default.
    pub parts: Parts,
    /// The numbers.
    pub sample: Box<LinuxHostSample>,
    /// Every /proc/meminfo line under its own name, with [`Parts::MEMORY_FIELDS`].
    pub memory_fields: Box<LinuxMemoryFields>,
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

/// A snapshot of `parts` from the files `read_file(rel)` gives; an optional part whose
/// file is not at hand (vmstat on a mirror, pressure without CONFIG_PSI) stays default.
pub(super) fn fill(
    slot: &mut ModelSlot,
    parts: Parts,
    ticks_per_sec: u64,
    read_file: impl Fn(&str) -> Result<Snapshot, String>,
) -> Result<HostSnapshot, String> {
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
    if parts.contains(Parts::HOSTNAME) {
        let name = read("sys/kernel/hostname")?;
        sample.hostname = fixed_name(name.trim_ascii()).unwrap_or_default();
    }
    if parts.contains(Parts::CPU) {
        let bytes = read("stat")?;
        stat::parse_into(&bytes, &mut slot.stat).map_err(|e| invalid("stat", e))?;
        sample.set_cpu(&slot.stat, ticks_per_sec);
    }
    if parts.contains(Parts::MEMORY) {
        let bytes = read("meminfo")?;
        sample.set_memory(&meminfo::parse(&bytes).map_err(|e| invalid("meminfo", e))?);
    }
    let mut memory_fields = Box::<LinuxMemoryFields>::default();
    if parts.contains(Parts::MEMORY_FIELDS) {
        let bytes = read("meminfo")?;
        for record in meminfo::records(&bytes) {
            push_memory_field(
                &mut memory_fields,
                &record.map_err(|e| invalid("meminfo", e))?,
            );
        }
    }
    if parts.contains(Parts::SWAP_ACTIVITY) {
        if let Ok(bytes) = read("vmstat") {
            sample.set_swap_activity(&vmstat::parse(&bytes).map_err(|e| invalid("vmstat", e))?);
        }
    }
    if parts.contains(Parts::LOAD) {
        let bytes = read("loadavg")?;
        sample.set_load(&loadavg::parse(&bytes).map_err(|e| invalid("loadavg", e))?);
    }
    if parts.contains(Parts::UPTIME) {
        let bytes = read("uptime")?;
        sample.uptime_secs = uptime::parse(&bytes)
            .map_err(|e| invalid("uptime", e))?
            .uptime_secs;
    }
    if parts.contains(Parts::INTERFACES) {
        let bytes = read("net/dev")?;
        for record in net_dev::records(&bytes) {
            sample.push_interface(&record.map_err(|e| invalid("net/dev", e))?);
        }
    }
    if parts.contains(Parts::DISKS) {
        let bytes = read("diskstats")?;
        for record in diskstats::records(&bytes) {
            sample.push_disk(&record.map_err(|e| invalid("diskstats", e))?);
        }
    }
    if parts.contains(Parts::PRESSURE) {
        let files = ["pressure/cpu", "pressure/memory", "pressure/io"].map(read);
        if let [Ok(c), Ok(m), Ok(i)] = &files {
            let p = |rel: &str, b: &[u8]| pressure::parse(b).map_err(|e| invalid(rel, e));
            sample.set_pressure(
                &p("pressure/cpu", c)?,
                &p("pressure/memory", m)?,
                &p("pressure/io", i)?,
            );
        }
    }
    let taken = Instant::now();
    Ok(HostSnapshot {
        taken,
        read_at: newest.get().unwrap_or(taken),
        parts,
        sample,
        memory_fields,
    })
}

/// One snapshot of the host under `root` (normally `/proc`) read now, each error naming
/// the file's full path: the `snapshot` command's sample, outside any cache.
pub fn read_now(root: &Path, parts: Parts) -> Result<HostSnapshot, String> {
    let ticks_per_sec = rustix::param::clock_ticks_per_second();
    fill(&mut ModelSlot::default(), parts, ticks_per_sec, |rel| {
        let path = root.join(rel);
        let named = |e: std::io::Error| format!("{}: {e}", path.display());
        let mut file = ProcFile::open(&path).map_err(named)?;
        let bytes = file.read().map(Arc::from).map_err(named)?;
        Ok(Snapshot {
            taken: Instant::now(),
            bytes,
        })
    })
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
}
