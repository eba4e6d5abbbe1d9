//! Shared by the corpus tests (core's, and the benches' agreement test): walking the
//! copied /proc corpus, or any directory laid out like /proc, and telling which parser
//! each file belongs to.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The copied corpus (see tests/data/README.md for where each file came from).
pub fn corpus_root() -> PathBuf {
    // From core's tests and from the benches alike.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/data/proc")
}

/// The file kinds the core parses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Stat,
    Meminfo,
    Loadavg,
    Uptime,
    NetDev,
    Diskstats,
    Cpuinfo,
    PidStat,
    PidStatus,
    PidStatm,
    PidIo,
    Mountinfo,
    Mounts,
    Pressure,
    NetSnmp,
    Vmstat,
}

fn is_pid(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) || s == "self"
}

/// Classifies a corpus path by its last components.
pub fn classify(path: &Path) -> Option<Kind> {
    let parts: Vec<&str> = path.iter().filter_map(|p| p.to_str()).collect();
    let n = parts.len();
    let name = *parts.last()?;
    let parent = if n >= 2 { parts[n - 2] } else { "" };
    Some(match (parent, name) {
        ("pressure", _) => Kind::Pressure,
        ("net", "dev") => Kind::NetDev,
        ("net", "snmp") => Kind::NetSnmp,
        ("proc", "stat") => Kind::Stat,
        ("proc", "meminfo") => Kind::Meminfo,
        ("proc", "loadavg") => Kind::Loadavg,
        ("proc", "uptime") => Kind::Uptime,
        ("proc", "diskstats") => Kind::Diskstats,
        ("proc", "cpuinfo") => Kind::Cpuinfo,
        ("proc", "vmstat") => Kind::Vmstat,
        ("proc", "mounts") => Kind::Mounts,
        ("proc", "mountinfo") => Kind::Mountinfo,
        (p, "stat") if is_pid(p) => Kind::PidStat,
        (p, "status") if is_pid(p) => Kind::PidStatus,
        (p, "statm") if is_pid(p) => Kind::PidStatm,
        (p, "io") if is_pid(p) => Kind::PidIo,
        (p, "mountinfo") if is_pid(p) => Kind::Mountinfo,
        (p, "mounts") if is_pid(p) => Kind::Mounts,
        _ => return None,
    })
}

/// Every corpus file the core parses, with its kind, sorted by path.
pub fn corpus_files() -> Vec<(PathBuf, Kind)> {
    files_under(&corpus_root())
}

/// The core's walker (`src/test_corpus.rs`), shared so there is one.
#[path = "../../src/test_corpus.rs"]
mod walker;

/// Every file under `root` the core parses, with its kind, sorted by path.
pub fn files_under(root: &Path) -> Vec<(PathBuf, Kind)> {
    walker::walk(root)
        .into_iter()
        .filter_map(|path| classify(&path).map(|kind| (path, kind)))
        .collect()
}

/// Reads a corpus file by its path relative to the corpus root.
pub fn read(rel: &str) -> Vec<u8> {
    std::fs::read(corpus_root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Reads a corpus file for the rest of the test run, so records can borrow it freely.
pub fn read_static(rel: &str) -> &'static [u8] {
    Box::leak(read(rel).into_boxed_slice())
}
