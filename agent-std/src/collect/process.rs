//! A scan of `/proc/<pid>`: one entry per process from its stat (CPU times, resident
//! and virtual size: statm would repeat them) and status (the real uid), with the user
//! name from /etc/passwd. A process that exits during the scan is skipped.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};

use ferrostat_core::procfs::{pid_stat, pid_status};

/// One process, in the units /proc gives.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessInfo {
    /// Process id.
    pub pid: u32,
    /// Command name (stat's comm, lossy UTF-8).
    pub name: String,
    /// State letter (R, S, D, Z, ...).
    pub state: u8,
    /// Nice value.
    pub nice: i64,
    /// Threads.
    pub num_threads: i64,
    /// User-mode CPU time, clock ticks.
    pub utime: u64,
    /// Kernel-mode CPU time, clock ticks.
    pub stime: u64,
    /// Resident set, bytes.
    pub rss_bytes: u64,
    /// Virtual size, bytes.
    pub vms_bytes: u64,
    /// Real uid (from status).
    pub uid: Option<u32>,
}

impl ProcessInfo {
    /// psutil's name for the state letter.
    pub fn status_name(&self) -> &'static str {
        match self.state {
            b'R' => "running",
            b'S' => "sleeping",
            b'D' => "disk-sleep",
            b'Z' => "zombie",
            b'T' => "stopped",
            b't' => "tracing-stop",
            b'X' | b'x' => "dead",
            b'K' => "wake-kill",
            b'W' => "waking",
            b'P' => "parked",
            b'I' => "idle",
            _ => "unknown",
        }
    }
}

/// Scans processes under a procfs mount, reusing its buffers between scans.
///
/// Each process's `stat` stays open from one scan to the next (up to a quarter of the
/// descriptor limit), so a scan costs one pread per process, not an open, a read and a
/// close; `status`, which the kernel renders slowly, is read only when owners are asked
/// for.
#[derive(Debug)]
pub struct ProcessScanner {
    root: PathBuf,
    page_size: u64,
    buf: Vec<u8>,
    open_stats: HashMap<u32, File>,
    max_open: usize,
}

impl ProcessScanner {
    /// A scanner of `root` (normally `/proc`).
    pub fn new(root: &Path) -> Self {
        let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile)
            .current
            .unwrap_or(1024);
        ProcessScanner {
            root: root.to_owned(),
            page_size: rustix::param::page_size() as u64,
            buf: vec![0; 1024],
            open_stats: HashMap::new(),
            max_open: usize::try_from(limit / 4).unwrap_or(usize::MAX).min(8192),
        }
    }

    /// Every process readable now, by pid; with its real uid when `owners`.
    pub fn scan(&mut self, owners: bool) -> io::Result<Vec<ProcessInfo>> {
        let mut out = Vec::new();
        let mut still_open = HashMap::with_capacity(self.open_stats.len());
        for entry in std::fs::read_dir(&self.root)? {
            let Ok(entry) = entry else { continue };
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            // A kept descriptor of an exited process fails its read (ESRCH), also when
            // the pid was reused since: then the new process's file is opened.
            let kept = self
                .open_stats
                .remove(&pid)
                .filter(|f| pread_all(f, &mut self.buf).is_ok());
            let file = match kept {
                Some(f) => f,
                None => {
                    let path = self.root.join(pid.to_string()).join("stat");
                    let Ok(f) = File::open(path) else { continue };
                    if pread_all(&f, &mut self.buf).is_err() {
                        continue;
                    }
                    f
                }
            };
            let Some(mut info) = self.info_from_stat(pid) else {
                continue;
            };
            if owners {
                info.uid = self.uid(pid);
            }
            out.push(info);
            if still_open.len() < self.max_open {
                still_open.insert(pid, file);
            }
        }
        // Descriptors of processes that are gone close here.
        self.open_stats = still_open;
        out.sort_by_key(|p| p.pid);
        Ok(out)
    }

    /// One process, with its owner, or `None` when it is gone (or its files cannot be
    /// read or parsed, which is what a process exiting mid-read looks like).
    pub fn read(&mut self, pid: u32) -> Option<ProcessInfo> {
        let f = File::open(self.root.join(pid.to_string()).join("stat")).ok()?;
        pread_all(&f, &mut self.buf).ok()?;
        let mut info = self.info_from_stat(pid)?;
        info.uid = self.uid(pid);
        Some(info)
    }

    /// The process whose stat is in `self.buf`.
    fn info_from_stat(&self, pid: u32) -> Option<ProcessInfo> {
        let stat = pid_stat::parse(&self.buf).ok()?;
        Some(ProcessInfo {
            pid,
            name: stat.comm.to_string(),
            state: stat.state,
            nice: stat.nice,
            num_threads: stat.num_threads,
            utime: stat.utime,
            stime: stat.stime,
            rss_bytes: (stat.rss.max(0) as u64).saturating_mul(self.page_size),
            vms_bytes: stat.vsize,
            uid: None,
        })
    }

    /// The real uid from `status` (what psutil reports; the owner of `/proc/<pid>` is
    /// the effective uid, or root for a non-dumpable process).
    fn uid(&mut self, pid: u32) -> Option<u32> {
        let f = File::open(self.root.join(pid.to_string()).join("status")).ok()?;
        pread_all(&f, &mut self.buf).ok()?;
        pid_status::parse(&self.buf).ok()?.uid.map(|u| u[0])
    }
}

/// Reads the whole file from offset 0 into `buf` (growing it), leaving `buf` exactly the
/// file's length. No fstat or seek: /proc reports size 0 anyway.
fn pread_all(f: &File, buf: &mut Vec<u8>) -> io::Result<()> {
    let mut len = 0;
    buf.resize(buf.capacity().max(1024), 0);
    loop {
        if len == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        match f.read_at(&mut buf[len..], len as u64) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(len);
    Ok(())
}

/// uid -> user name, from /etc/passwd (read once per call).
pub fn user_names() -> HashMap<u32, String> {
    parse_passwd(&std::fs::read_to_string("/etc/passwd").unwrap_or_default())
}

/// uid -> user name from the text of a passwd file (this host's, or a watched host's).
pub fn parse_passwd(text: &str) -> HashMap<u32, String> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let uid = f.nth(1)?.parse().ok()?;
            Some((uid, name.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_this_process_and_skips_vanished_ones() {
        let mut s = ProcessScanner::new(Path::new("/proc"));
        let all = s.scan(true).unwrap();
        let me = all.iter().find(|p| p.pid == std::process::id()).unwrap();
        assert!(me.rss_bytes > 0 && me.num_threads >= 1);
        assert_eq!(me.uid, Some(rustix::process::getuid().as_raw()));
        // A pid that does not exist is skipped, not an error.
        assert_eq!(s.read(u32::MAX - 1), None);
        // The second scan reads through the descriptors the first kept open.
        let again = s.scan(false).unwrap();
        assert!(!s.open_stats.is_empty());
        let me2 = again.iter().find(|p| p.pid == std::process::id()).unwrap();
        assert_eq!((me2.name.as_str(), me2.uid), (me.name.as_str(), None));
        assert!(me2.utime + me2.stime >= me.utime + me.stime);
        // A child that exits is dropped, descriptor and all.
        let mut child = std::process::Command::new("sleep")
            .arg("10")
            .spawn()
            .unwrap();
        let pid = child.id();
        assert!(s.scan(false).unwrap().iter().any(|p| p.pid == pid));
        assert!(s.open_stats.contains_key(&pid));
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!s.scan(false).unwrap().iter().any(|p| p.pid == pid));
        assert!(!s.open_stats.contains_key(&pid));
        assert_eq!(user_names().get(&0).map(String::as_str), Some("root"));
    }
}
