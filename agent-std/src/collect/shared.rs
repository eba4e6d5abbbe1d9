//! The collector layer every endpoint reads through: one open descriptor and one reused
//! buffer per /proc file, and short caches shared by all clients, so N clients polling
//! cost about what one does. Nothing runs between requests: a file is read only when a
//! caller asks for something older than it tolerates.
//!
//! Each caller states the age it accepts (`max_age`), so an endpoint with a 250 ms
//! window (socktop's metrics) and one with 2 s (the stats stream) share the same reads
//! without either seeing staler data than it asked for.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use ferrostat_core::procfs::stat::{self, CpuTimes};

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
    scanner: ProcessScanner,
    last: Option<Arc<ProcessSnapshot>>,
    scans: u64,
}

/// The shared /proc reader.
#[derive(Debug)]
pub struct ProcCache {
    root: PathBuf,
    files: Mutex<HashMap<String, Arc<Mutex<FileSlot>>>>,
    processes: Mutex<ProcessSlot>,
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
            root: root.to_owned(),
            files: Mutex::new(HashMap::new()),
            processes: Mutex::new(ProcessSlot {
                scanner: ProcessScanner::new(root),
                last: None,
                scans: 0,
            }),
        }
    }

    /// The procfs mount this cache reads.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The content of `rel` (relative to the root), read now unless a read younger than
    /// `max_age` is at hand. Concurrent callers wait for one read and share it.
    pub fn read(&self, rel: &str, max_age: Duration) -> io::Result<Snapshot> {
        let slot = {
            let mut files = lock(&self.files);
            match files.get(rel) {
                Some(s) => s.clone(),
                None => files.entry(rel.to_owned()).or_default().clone(),
            }
        };
        let mut slot = lock(&slot);
        if let Some(last) = slot.last.as_ref().filter(|l| l.taken.elapsed() < max_age) {
            return Ok(last.clone());
        }
        let file = match &mut slot.file {
            Some(f) => f,
            none => none.insert(ProcFile::open(self.root.join(rel))?),
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
        if let Some(last) = slot
            .last
            .as_ref()
            .filter(|l| l.taken.elapsed() < max_age && (l.owners || !owners))
        {
            return Ok(last.clone());
        }
        let list = slot.scanner.scan(owners)?;
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

    /// One process read now (not cached: callers ask for one pid to watch it closely).
    pub fn process(&self, pid: u32) -> Option<ProcessInfo> {
        lock(&self.processes).scanner.read(pid)
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
