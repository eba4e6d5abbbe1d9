//! A scan of `/proc/<pid>`: one entry per process from its stat, status and statm, with
//! the user name from /etc/passwd. A process that exits during the scan is skipped.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use ferrostat_core::procfs::{pid_stat, pid_statm, pid_status};

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
#[derive(Debug)]
pub struct ProcessScanner {
    root: PathBuf,
    page_size: u64,
    buf: Vec<u8>,
}

impl ProcessScanner {
    /// A scanner of `root` (normally `/proc`).
    pub fn new(root: &Path) -> Self {
        ProcessScanner {
            root: root.to_owned(),
            page_size: rustix::param::page_size() as u64,
            buf: Vec::with_capacity(4096),
        }
    }

    /// Every process readable now.
    pub fn scan(&mut self) -> io::Result<Vec<ProcessInfo>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.root)? {
            let Ok(entry) = entry else { continue };
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some(p) = self.read(pid) {
                out.push(p);
            }
        }
        out.sort_by_key(|p| p.pid);
        Ok(out)
    }

    /// One process, or `None` when it is gone (or its files cannot be read or parsed,
    /// which is what a process exiting mid-read looks like).
    pub fn read(&mut self, pid: u32) -> Option<ProcessInfo> {
        let dir = self.root.join(pid.to_string());
        read_into(&dir.join("stat"), &mut self.buf).ok()?;
        let stat = pid_stat::parse(&self.buf).ok()?;
        let mut info = ProcessInfo {
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
        };
        if read_into(&dir.join("statm"), &mut self.buf).is_ok() {
            if let Ok(m) = pid_statm::parse(&self.buf) {
                info.rss_bytes = m.resident_bytes(self.page_size);
                info.vms_bytes = m.size.saturating_mul(self.page_size);
            }
        }
        if read_into(&dir.join("status"), &mut self.buf).is_ok() {
            if let Ok(s) = pid_status::parse(&self.buf) {
                info.uid = s.uid.map(|u| u[0]);
            }
        }
        Some(info)
    }
}

fn read_into(path: &Path, buf: &mut Vec<u8>) -> io::Result<()> {
    use std::io::Read;
    buf.clear();
    std::fs::File::open(path)?.read_to_end(buf)?;
    Ok(())
}

/// uid -> user name, from /etc/passwd (read once per call).
pub fn user_names() -> HashMap<u32, String> {
    let text = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
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
        let all = s.scan().unwrap();
        let me = all.iter().find(|p| p.pid == std::process::id()).unwrap();
        assert!(me.rss_bytes > 0 && me.num_threads >= 1);
        assert_eq!(me.uid, Some(rustix::process::getuid().as_raw()));
        // A pid that does not exist is skipped, not an error.
        assert_eq!(s.read(u32::MAX - 1), None);
        assert_eq!(user_names().get(&0).map(String::as_str), Some("root"));
    }
}
