//! The collector layer every endpoint reads through: one open descriptor and one reused
//! buffer per /proc file, and short caches shared by all clients, so N clients polling
//! cost about what one does. Nothing runs between requests: a file is read only when a
//! caller asks for something older than it tolerates.
//!
//! Each caller states the age it accepts (`max_age`), so an endpoint with a 250 ms
//! window (socktop's metrics) and one with 2 s (the stats stream) share the same reads
//! without either seeing staler data than it asked for.
//!
//! A [`ProcCache::mirror`] holds the files of a host watched over SSH instead: its
//! poller stores what it read, and the same endpoints render that host from them. A
//! mirror never reads anything itself, so a caller's `max_age` does not apply to it: its
//! files are as fresh as the poller's last pass.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use ferrostat_core::procfs::stat::{self, CpuTimes};

use super::host::{self, HostSnapshot, ModelSlot, Parts};
use super::process::{ProcessInfo, ProcessScanner};
use super::procfs::ProcFile;

/// Bytes of one /proc file as read at `taken`.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// When the file was read.
    pub taken: Instant,
    /// Its whole content.
    pub bytes: Arc<[u8]>,
}

/// Every process at one moment.
#[derive(Debug)]
pub struct ProcessSnapshot {
    /// When the scan finished.
    pub taken: Instant,
    /// The machine's `cpu` line of /proc/stat read right after the scan, so per-process
    /// shares can be taken against the same moment.
    pub machine: Option<CpuTimes>,
    /// Whether each entry carries its owner (`uid`).
    pub owners: bool,
    /// One entry per process, by pid.
    pub list: Vec<ProcessInfo>,
}

#[derive(Debug, Default)]
struct FileSlot {
    file: Option<ProcFile>,
    last: Option<Snapshot>,
    reads: u64,
}

#[derive(Debug)]
struct ProcessSlot {
    /// `None` for a mirror.
    scanner: Option<ProcessScanner>,
    last: Option<Arc<ProcessSnapshot>>,
    scans: u64,
}

/// Space of one mounted filesystem, bytes (statvfs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Space {
    /// Size.
    pub total: u64,
    /// Free blocks, the ones reserved for root included (`f_bfree`).
    pub free: u64,
    /// Free to unprivileged users (`f_bavail`).
    pub available: u64,
}

/// The space of the filesystem mounted at `mount` on this machine.
pub fn statvfs(mount: &str) -> Option<Space> {
    let s = rustix::fs::statvfs(mount).ok()?;
    Some(Space {
        total: s.f_blocks.saturating_mul(s.f_frsize),
        free: s.f_bfree.saturating_mul(s.f_frsize),
        available: s.f_bavail.saturating_mul(s.f_frsize),
    })
}

/// What a mirror holds besides files.
#[derive(Debug, Default)]
struct Remote {
    spaces: HashMap<String, Space>,
    users: HashMap<u32, String>,
    /// Whether the poller has stored one whole set of files.
    polled: bool,
}

/// The `USER_HZ` a mirror's /proc/stat is read with: the remote kernel's is not known, and
/// Linux reports 100 on every architecture it still supports (`USER_HZ`,
/// include/asm-generic/param.h).
pub const MIRROR_TICKS_PER_SEC: u64 = 100;

/// The shared /proc reader.
#[derive(Debug)]
pub struct ProcCache {
    /// `None` for a mirror.
    root: Option<PathBuf>,
    /// Where files named `/sys/...` are read (normally `/sys`; a test's fixture tree).
    sys_root: PathBuf,
    /// Where other files named by an absolute path are read (normally `/`).
    rootfs: PathBuf,
    files: Mutex<HashMap<String, Arc<Mutex<FileSlot>>>>,
    processes: Mutex<ProcessSlot>,
    remote: Mutex<Remote>,
    model: Mutex<ModelSlot>,
    ticks_per_sec: u64,
}

/// A poisoned lock only means another request panicked mid-read; the cache is still
/// consistent (at worst it re-reads), so carry on with it.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ProcCache {
    /// Reads under `root` (normally `/proc`); nothing is opened until asked.
    pub fn new(root: &Path) -> Self {
        ProcCache {
            root: Some(root.to_owned()),
            sys_root: PathBuf::from("/sys"),
            rootfs: PathBuf::from("/"),
            files: Mutex::new(HashMap::new()),
            processes: Mutex::new(ProcessSlot {
                scanner: Some(ProcessScanner::new(root)),
                last: None,
                scans: 0,
            }),
            remote: Mutex::new(Remote::default()),
            model: Mutex::default(),
            ticks_per_sec: rustix::param::clock_ticks_per_second(),
        }
    }

    /// Reads the files it is asked for by `/sys/...` paths under `sys_root` instead.
    pub fn with_sys_root(mut self, sys_root: &Path) -> Self {
        self.sys_root = sys_root.to_owned();
        self
    }

    /// Reads the files it is asked for by other absolute paths (`/etc/os-release`) under
    /// `rootfs` instead of `/`.
    pub fn with_rootfs(mut self, rootfs: &Path) -> Self {
        self.rootfs = rootfs.to_owned();
        self
    }

    /// An empty mirror of a remote host's /proc, filled by [`ProcCache::store`].
    pub fn mirror() -> Self {
        ProcCache {
            root: None,
            sys_root: PathBuf::from("/sys"),
            rootfs: PathBuf::from("/"),
            files: Mutex::new(HashMap::new()),
            processes: Mutex::new(ProcessSlot {
                scanner: None,
                last: None,
                scans: 0,
            }),
            remote: Mutex::new(Remote::default()),
            model: Mutex::default(),
            ticks_per_sec: MIRROR_TICKS_PER_SEC,
        }
    }

    /// The procfs mount this cache reads; `None` for a mirror.
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// Whether this is the agent's own host (not a mirror).
    pub fn is_local(&self) -> bool {
        self.root.is_some()
    }

    fn slot(&self, rel: &str) -> Arc<Mutex<FileSlot>> {
        let mut files = lock(&self.files);
        match files.get(rel) {
            Some(s) => s.clone(),
            None => files.entry(rel.to_owned()).or_default().clone(),
        }
    }

    /// Keeps `bytes` as the content of `rel` read at `taken` (a mirror's poller).
    pub fn store(&self, rel: &str, bytes: &[u8], taken: Instant) {
        let slot = self.slot(rel);
        let mut slot = lock(&slot);
        slot.reads += 1;
        slot.last = Some(Snapshot {
            taken,
            bytes: Arc::from(bytes),
        });
    }

    /// Keeps a process list taken at `taken` (a mirror's poller); its owners are the
    /// effective uids the SFTP listing gives.
    pub fn store_processes(
        &self,
        list: Vec<ProcessInfo>,
        machine: Option<CpuTimes>,
        taken: Instant,
    ) {
        let mut slot = lock(&self.processes);
        slot.scans += 1;
        slot.last = Some(Arc::new(ProcessSnapshot {
            taken,
            machine,
            owners: true,
            list,
        }));
    }

    /// Keeps the space of a remote mount (a mirror's poller).
    pub fn store_space(&self, mount: &str, space: Space) {
        lock(&self.remote).spaces.insert(mount.to_owned(), space);
    }

    /// Marks a mirror as holding one whole poll's files (its poller, at the end of a poll).
    pub fn mark_polled(&self) {
        lock(&self.remote).polled = true;
    }

    /// Whether there is a whole set of files to show: always for this host, after its
    /// poller's first complete poll for a mirror.
    pub fn polled(&self) -> bool {
        self.root.is_some() || lock(&self.remote).polled
    }

    /// Keeps the remote host's user names, by uid (a mirror's poller).
    pub fn store_users(&self, users: HashMap<u32, String>) {
        lock(&self.remote).users = users;
    }

    /// The space of the filesystem mounted at `mount`: statvfs here, the poller's last
    /// reading for a mirror.
    pub fn space(&self, mount: &str) -> Option<Space> {
        if self.root.is_none() {
            return lock(&self.remote).spaces.get(mount).copied();
        }
        statvfs(mount)
    }

    /// User names by uid: this host's /etc/passwd, or the remote host's.
    pub fn users(&self) -> HashMap<u32, String> {
        if self.root.is_none() {
            return lock(&self.remote).users.clone();
        }
        super::process::user_names()
    }

    /// The content of `rel` (relative to the root), read now unless a read younger than
    /// `max_age` is at hand. Concurrent callers wait for one read and share it.
    pub fn read(&self, rel: &str, max_age: Duration) -> io::Result<Snapshot> {
        let Some(root) = &self.root else {
            let slot = lock(&self.files).get(rel).cloned();
            return slot
                .and_then(|s| lock(&s).last.clone())
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "not read from this host"));
        };
        let slot = self.slot(rel);
        let mut slot = lock(&slot);
        if let Some(last) = slot.last.as_ref().filter(|l| l.taken.elapsed() < max_age) {
            return Ok(last.clone());
        }
        let file = match &mut slot.file {
            Some(f) => f,
            none => {
                let path = if let Some(below) = rel.strip_prefix("/sys/") {
                    self.sys_root.join(below)
                } else if let Some(below) = rel.strip_prefix('/') {
                    self.rootfs.join(below)
                } else {
                    root.join(rel)
                };
                none.insert(ProcFile::open(path)?)
            }
        };
        let bytes: Arc<[u8]> = Arc::from(file.read()?);
        let snapshot = Snapshot {
            taken: Instant::now(),
            bytes,
        };
        slot.reads += 1;
        slot.last = Some(snapshot.clone());
        Ok(snapshot)
    }

    /// Like [`ProcCache::read`], with the file named in the error as the endpoints
    /// report it.
    pub fn bytes(&self, rel: &str, max_age: Duration) -> Result<Arc<[u8]>, String> {
        self.read(rel, max_age)
            .map(|s| s.bytes)
            .map_err(|e| format!("{rel}: {e}"))
    }

    /// Every process, scanned now unless a scan younger than `max_age` (with owners, if
    /// `owners` asks for them) is at hand. This blocks for the length of a scan; async
    /// callers run it with `block_in_place`.
    pub fn processes(&self, max_age: Duration, owners: bool) -> io::Result<Arc<ProcessSnapshot>> {
        let mut slot = lock(&self.processes);
        if self.root.is_none() {
            return slot.last.clone().ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    "no process list from this host yet",
                )
            });
        }
        if let Some(last) = slot
            .last
            .as_ref()
            .filter(|l| l.taken.elapsed() < max_age && (l.owners || !owners))
        {
            return Ok(last.clone());
        }
        let Some(scanner) = slot.scanner.as_mut() else {
            return Err(io::Error::new(io::ErrorKind::Unsupported, "no scanner"));
        };
        let list = scanner.scan(owners)?;
        let machine = self.read("stat", Duration::ZERO).ok().and_then(|s| {
            stat::records(&s.bytes).find_map(|r| match r {
                Ok(stat::Record::CpuTotal(t)) => Some(t),
                _ => None,
            })
        });
        let snapshot = Arc::new(ProcessSnapshot {
            taken: Instant::now(),
            machine,
            owners,
            list,
        });
        slot.scans += 1;
        slot.last = Some(snapshot.clone());
        Ok(snapshot)
    }

    /// One process read now (not cached: callers ask for one pid to watch it closely);
    /// a mirror's from its last process list.
    pub fn process(&self, pid: u32) -> Option<ProcessInfo> {
        let mut slot = lock(&self.processes);
        match slot.scanner.as_mut() {
            Some(scanner) => scanner.read(pid),
            None => slot
                .last
                .as_ref()?
                .list
                .iter()
                .find(|p| p.pid == pid)
                .cloned(),
        }
    }

    /// The host's model with at least `parts`, built now unless a snapshot younger than
    /// `max_age` holds them. A rebuilt snapshot keeps the parts of a still-fresh one, so
    /// endpoints asking for different parts do not push each other's out.
    pub fn host(&self, parts: Parts, max_age: Duration) -> Result<Arc<HostSnapshot>, String> {
        let snapshot = self.host_partial(parts, max_age);
        match snapshot.error(parts) {
            Some(e) => Err(e.to_owned()),
            None => Ok(snapshot),
        }
    }

    /// Like [`ProcCache::host`], but a part that failed does not fail the others: the
    /// snapshot says which failed (`/metrics` reports each collector's success).
    pub fn host_partial(&self, parts: Parts, max_age: Duration) -> Arc<HostSnapshot> {
        let mut slot = lock(&self.model);
        let fresh = slot
            .latest
            .as_ref()
            .filter(|l| l.taken.elapsed() < max_age)
            .cloned();
        if let Some(last) = fresh.as_ref().filter(|l| l.parts.contains(parts)) {
            return last.clone();
        }
        let want = fresh.map_or(parts, |l| l.parts | parts);
        // The last snapshot's sample is reused when no caller holds it any more.
        if let Some(last) = slot.latest.take() {
            if let Ok(last) = Arc::try_unwrap(last) {
                slot.spare = Some(last.sample);
            }
        }
        let read = |rel: &str| self.read(rel, max_age).map_err(|e| format!("{rel}: {e}"));
        let space = |mount: &str| self.space(mount);
        // uname(2) for this host, whatever root its files come from, as node_exporter.
        let this_machine =
            (self.is_local() && want.contains(Parts::UNAME)).then(host::Uname::this_machine);
        let snapshot = Arc::new(host::fill(
            &mut slot,
            want,
            self.ticks_per_sec,
            read,
            space,
            this_machine,
        ));
        slot.latest = Some(snapshot.clone());
        snapshot
    }

    /// How many times each file was actually read, by path; for the agent's own metrics.
    pub fn reads(&self) -> Vec<(String, u64)> {
        let files = lock(&self.files);
        let mut out: Vec<(String, u64)> = files
            .iter()
            .map(|(name, slot)| (name.clone(), lock(slot).reads))
            .collect();
        out.sort();
        out
    }

    /// How many process scans ran.
    pub fn scans(&self) -> u64 {
        lock(&self.processes).scans
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callers_within_the_age_share_one_read() {
        let cache = ProcCache::new(Path::new("/proc"));
        let a = cache.read("meminfo", Duration::from_secs(60)).unwrap();
        let b = cache.read("meminfo", Duration::from_secs(60)).unwrap();
        assert!(Arc::ptr_eq(&a.bytes, &b.bytes));
        assert!(a.bytes.starts_with(b"MemTotal:"));
        // A caller that accepts nothing older than now gets a new read.
        let c = cache.read("meminfo", Duration::ZERO).unwrap();
        assert!(!Arc::ptr_eq(&a.bytes, &c.bytes));
        assert_eq!(cache.reads(), vec![("meminfo".to_owned(), 2)]);
        assert!(cache.read("no/such/file", Duration::ZERO).is_err());
        assert_eq!(
            cache.reads().len(),
            2,
            "a failed open is listed with 0 reads"
        );

        let p = cache.processes(Duration::from_secs(60), true).unwrap();
        let q = cache.processes(Duration::from_secs(60), false).unwrap();
        assert!(
            Arc::ptr_eq(&p, &q),
            "a scan with owners serves callers without"
        );
        assert!(p.list.iter().any(|p| p.pid == std::process::id()));
        assert!(p.machine.is_some_and(|t| t.total() > 0));
        assert_eq!(cache.scans(), 1);
    }
}
