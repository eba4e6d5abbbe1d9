//! Fuzz target bodies, kept here so `tests/fuzz_corpus.rs` replays the committed corpus on
//! stable and cargo-fuzz runs the very same code. Each one parses arbitrary bytes with a
//! parser and checks the contract: no panic, error offsets inside the input, and the
//! record iterator agreeing with the whole-file parser.

use crate::procfs::*;
use crate::{Error, Table};

fn check(input: &[u8], e: Error) {
    assert!(
        e.offset() <= input.len(),
        "offset {} past input {}",
        e.offset(),
        input.len()
    );
}

fn checked<T>(input: &[u8], r: crate::Result<T>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            check(input, e);
            None
        }
    }
}

/// Drains a record iterator, checking it stops after its first error.
fn drain<T>(input: &[u8], it: impl Iterator<Item = crate::Result<T>>) -> usize {
    let mut n = 0;
    let mut failed = false;
    for r in it {
        assert!(!failed, "iterator continued after an error");
        match r {
            Ok(_) => n += 1,
            Err(e) => {
                check(input, e);
                failed = true;
            }
        }
    }
    n
}

/// `/proc/stat`.
pub fn stat(input: &[u8]) {
    drain(input, stat::records(input));
    let mut small = stat::Stat::<2>::default();
    let mut big = stat::Stat::<1024>::default();
    let a = checked(input, stat::parse_into(input, &mut small));
    let b = checked(input, stat::parse_into(input, &mut big));
    // Capacity changes what is kept, never whether or how the input parses.
    assert_eq!(a.is_some(), b.is_some());
    if let (Some(a), Some(b)) = (a, b) {
        assert_eq!(a.parsed + a.dropped, b.parsed + b.dropped);
        assert_eq!(small.total, big.total);
    }
}

/// `/proc/meminfo`.
pub fn meminfo(input: &[u8]) {
    drain(input, meminfo::records(input));
    checked(input, meminfo::parse(input));
}

/// `/proc/loadavg`.
pub fn loadavg(input: &[u8]) {
    checked(input, loadavg::parse(input));
}

/// `/proc/uptime`.
pub fn uptime(input: &[u8]) {
    checked(input, uptime::parse(input));
}

/// `/proc/net/dev`.
pub fn net_dev(input: &[u8]) {
    let n = drain(input, net_dev::records(input));
    let mut t = Table::<_, 4>::new();
    if let Some(s) = checked(input, net_dev::parse_into(input, &mut t)) {
        assert_eq!((s.parsed + s.dropped) as usize, n);
    }
}

/// `/proc/diskstats`.
pub fn diskstats(input: &[u8]) {
    let n = drain(input, diskstats::records(input));
    let mut t = Table::<_, 4>::new();
    if let Some(s) = checked(input, diskstats::parse_into(input, &mut t)) {
        assert_eq!((s.parsed + s.dropped) as usize, n);
    }
}

/// `/proc/cpuinfo`.
pub fn cpuinfo(input: &[u8]) {
    drain(input, cpuinfo::records(input));
    let mut info = cpuinfo::CpuInfo::<64>::default();
    if checked(input, cpuinfo::parse_into(input, &mut info)).is_some() {
        assert!(info.cores() as usize <= info.processors.len().max(1));
        assert!(info.sockets() >= 1);
        let _ = info.logical();
    }
}

/// `/proc/<pid>/stat`.
pub fn pid_stat(input: &[u8]) {
    checked(input, pid_stat::parse(input));
}

/// `/proc/<pid>/status`.
pub fn pid_status(input: &[u8]) {
    drain(input, pid_status::records(input));
    if let Some(s) = checked(input, pid_status::parse(input)) {
        if let Some(name) = s.name {
            let mut buf = [0u8; 64];
            let _ = name.decode_into(&mut buf);
            assert!(name.decoded().count() <= name.raw().len());
        }
    }
}

/// `/proc/<pid>/io`.
pub fn pid_io(input: &[u8]) {
    checked(input, pid_io::parse(input));
}

/// `/proc/<pid>/statm`.
pub fn pid_statm(input: &[u8]) {
    checked(input, pid_statm::parse(input));
}

/// `/proc/<pid>/mountinfo`.
pub fn mountinfo(input: &[u8]) {
    let n = drain(input, mountinfo::records(input));
    let mut t = Table::<_, 8>::new();
    if let Some(s) = checked(input, mountinfo::parse_into(input, &mut t)) {
        assert_eq!((s.parsed + s.dropped) as usize, n);
        for m in t.iter() {
            assert!(m.mount_point.decoded().count() <= m.mount_point.raw().len());
        }
    }
}

/// `/proc/mounts`.
pub fn mounts(input: &[u8]) {
    let n = drain(input, mounts::records(input));
    let mut t = Table::<_, 8>::new();
    if let Some(s) = checked(input, mounts::parse_into(input, &mut t)) {
        assert_eq!((s.parsed + s.dropped) as usize, n);
    }
}

/// `/proc/pressure/*`.
pub fn pressure(input: &[u8]) {
    checked(input, pressure::parse(input));
}

/// `/proc/net/snmp`.
pub fn net_snmp(input: &[u8]) {
    drain(input, net_snmp::records(input));
    checked(input, net_snmp::parse(input));
}

/// `/proc/vmstat`.
pub fn vmstat(input: &[u8]) {
    drain(input, vmstat::records(input));
    checked(input, vmstat::parse(input));
}

/// A fuzz target body.
pub type Target = fn(&[u8]);

/// Every /proc target, by name (as used by the corpus replay).
pub const PROC_TARGETS: &[(&str, Target)] = &[
    ("stat", stat),
    ("meminfo", meminfo),
    ("loadavg", loadavg),
    ("uptime", uptime),
    ("net_dev", net_dev),
    ("diskstats", diskstats),
    ("cpuinfo", cpuinfo),
    ("pid_stat", pid_stat),
    ("pid_status", pid_status),
    ("pid_statm", pid_statm),
    ("pid_io", pid_io),
    ("mountinfo", mountinfo),
    ("mounts", mounts),
    ("pressure", pressure),
    ("net_snmp", net_snmp),
    ("vmstat", vmstat),
];
