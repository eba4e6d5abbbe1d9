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
    let r = diskstats::parse_into(input, &mut t);
    if let Some(s) = checked(input, r) {
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
    let r = mountinfo::parse_into(input, &mut t);
    if let Some(s) = checked(input, r) {
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

/// An sFlow datagram: the header, every sample and record, the sflowtool writer, and the
/// conversion into a host sample, none of which may panic or read out of bounds.
pub fn sflow_datagram(input: &[u8]) {
    use crate::sflow::{Datagram, Sample};
    let mut text = Discard;
    let written = crate::sflow::sflowtool::write_datagram(&mut text, input, &Default::default());
    let Some(d) = checked(input, Datagram::parse(input)) else {
        assert!(written.is_err());
        return;
    };
    let valid = d.validate();
    assert_eq!(valid.is_ok(), written.is_ok());
    let mut host = crate::metrics::McuHostSample::default();
    let mut samples = d.samples();
    for s in samples.by_ref() {
        let Some(s) = checked(input, s) else { break };
        match s {
            Sample::Counters(c) => {
                let mut records = c.records();
                for r in records.by_ref() {
                    let Some(r) = checked(input, r) else { break };
                    host.apply_sflow(&r);
                    if let crate::sflow::CounterRecord::HostAdapters(a) = r {
                        for adapter in a.adapters() {
                            assert!(adapter.macs().count() <= input.len() / 8);
                        }
                    }
                }
                assert!(records.trailing() <= input.len());
            }
            Sample::Flow(f) => {
                for r in f.records() {
                    if checked(input, r).is_none() {
                        break;
                    }
                }
            }
            Sample::Unknown { data, .. } => assert!(data.len() <= input.len()),
        }
    }
    assert!(samples.trailing() <= input.len());
}

/// Decode, emit, decode again: a valid datagram re-encodes to one that decodes to the
/// same samples and records, and no larger than the original.
pub fn sflow_roundtrip(input: &[u8]) {
    use crate::sflow::xdr::Writer;
    use crate::sflow::{sample, CounterRecord, Datagram, FlowRecord, Sample};
    let Ok(d) = Datagram::parse(input) else {
        return;
    };
    if d.validate().is_err() {
        return;
    }
    let mut out = [0u8; 65_536];
    let mut w = Writer::new(&mut out);
    let Ok(count_at) = d.emit_header(&mut w) else {
        return;
    };
    let mut n = 0;
    for s in d.samples().flatten() {
        let ok = match s {
            Sample::Counters(c) => {
                let mut records = [CounterRecord::Unknown {
                    format: sample::DataFormat::standard(0),
                    data: &[],
                }; 32];
                let k = fill(&mut records, c.records().flatten());
                sample::emit_counters(&mut w, &c, &records[..k]).is_ok() && k == c.records().count()
            }
            Sample::Flow(f) => {
                let mut records = [FlowRecord::Unknown {
                    format: sample::DataFormat::standard(0),
                    data: &[],
                }; 32];
                let k = fill(&mut records, f.records().flatten());
                sample::emit_flow(&mut w, &f, &records[..k]).is_ok() && k == f.records().count()
            }
            Sample::Unknown { format, data } => sample::emit_unknown(&mut w, format, data).is_ok(),
        };
        if !ok {
            return; // more records than this harness keeps: not a round-trip case
        }
        n += 1;
    }
    w.patch_u32(count_at, n);
    let len = w.len();
    assert!(len <= input.len());
    let again = Datagram::parse(&out[..len]).unwrap();
    again.validate().unwrap();
    assert_eq!(
        (again.agent, again.sequence_number, again.num_samples),
        (d.agent, d.sequence_number, n)
    );
    for (a, b) in d.samples().flatten().zip(again.samples().flatten()) {
        match (a, b) {
            (Sample::Counters(a), Sample::Counters(b)) => {
                assert!(a.records().flatten().eq(b.records().flatten()));
            }
            (Sample::Flow(a), Sample::Flow(b)) => {
                assert!(a.records().flatten().eq(b.records().flatten()));
            }
            (
                Sample::Unknown {
                    format: fa,
                    data: da,
                },
                Sample::Unknown {
                    format: fb,
                    data: db,
                },
            ) => {
                assert_eq!((fa, da), (fb, db));
            }
            _ => panic!("sample kind changed in the round trip"),
        }
    }
}

fn fill<T, const N: usize>(slots: &mut [T; N], items: impl Iterator<Item = T>) -> usize {
    let mut k = 0;
    for item in items.take(N) {
        slots[k] = item;
        k += 1;
    }
    k
}

/// A `fmt::Write` that keeps nothing.
struct Discard;

impl core::fmt::Write for Discard {
    fn write_str(&mut self, _: &str) -> core::fmt::Result {
        Ok(())
    }
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

/// `/sys/class/thermal/thermal_zone*/temp`: parses or fails inside the input, and a
/// value it accepts prints back to the same number.
pub fn thermal_temp(input: &[u8]) {
    if let Some(t) = checked(input, crate::sysfs::thermal::parse_temp(input)) {
        // An i32 and a newline fit in 12 bytes.
        let mut printed = heapless::String::<16>::new();
        core::fmt::Write::write_fmt(&mut printed, format_args!("{t}\n")).unwrap();
        assert_eq!(crate::sysfs::thermal::parse_temp(printed.as_bytes()), Ok(t));
    }
}

/// `/proc/sys` numeric files: one to four values, each parse agreeing with the shorter
/// ones on the values both read.
pub fn sysctl(input: &[u8]) {
    let one = checked(input, sysctl::parse_values::<1>(input));
    let three = checked(input, sysctl::parse_values::<3>(input));
    let _ = checked(input, sysctl::parse_values::<4>(input));
    assert!(
        !(one.is_some() && three.is_some()),
        "a line has one value or three"
    );
}

/// os-release: every record parses or fails inside the input, and a value decodes to no
/// more bytes than it holds.
pub fn os_release(input: &[u8]) {
    for f in crate::etc::os_release::records(input).flatten() {
        assert!(f.value.decoded().count() <= f.value.raw().len());
    }
    drain(input, crate::etc::os_release::records(input));
}

/// Targets for files under /etc, by name.
pub const ETC_TARGETS: &[(&str, Target)] = &[("os_release", os_release)];

/// `/proc/net/snmp6`.
pub fn net_snmp6(input: &[u8]) {
    drain(input, net_snmp6::records(input));
}

/// The /proc targets added since the first sixteen, by name.
pub const LATER_PROC_TARGETS: &[(&str, Target)] = &[("sysctl", sysctl), ("net_snmp6", net_snmp6)];

/// A clocksource list: parses or fails inside the input, and a small capacity keeps a
/// prefix of what a large one keeps.
pub fn clocksource(input: &[u8]) {
    let small = checked(input, crate::sysfs::clocksource::names::<2>(input));
    let big = checked(input, crate::sysfs::clocksource::names::<64>(input));
    assert_eq!(small.is_some(), big.is_some());
    if let (Some((s, _)), Some((b, _))) = (small, big) {
        assert_eq!(s[..], b[..2]);
    }
}

/// The sysfs targets, by name.
pub const SYSFS_TARGETS: &[(&str, Target)] =
    &[("thermal_temp", thermal_temp), ("clocksource", clocksource)];

/// The sFlow targets, by name.
pub const SFLOW_TARGETS: &[(&str, Target)] = &[
    ("sflow_datagram", sflow_datagram),
    ("sflow_roundtrip", sflow_roundtrip),
];

/// The gateway uplink's frame decoder over a byte stream: every chunk between `0x00`
/// delimiters decodes or fails with an offset inside it, and a frame that decodes
/// re-encodes to one that decodes to the same message.
#[cfg(feature = "serde")]
pub fn gateway_frame(input: &[u8]) {
    use crate::gateway::{decode, encode, FRAME_CAPACITY};
    let mut copy = [0u8; 4096];
    for chunk in input.split(|b| *b == 0).take(64) {
        let n = chunk.len().min(copy.len());
        copy[..n].copy_from_slice(&chunk[..n]);
        match decode(&mut copy[..n]) {
            Ok(message) => {
                let mut out = [0u8; FRAME_CAPACITY];
                let len = encode(&message, &mut out).expect("a decoded message re-encodes");
                assert_eq!(out[len - 1], 0);
                assert_eq!(decode(&mut out[..len - 1]).as_ref(), Ok(&message));
            }
            Err(e) => check(&chunk[..n], e),
        }
    }
}

/// The gateway targets, by name (with the `serde` feature).
#[cfg(feature = "serde")]
pub const GATEWAY_TARGETS: &[(&str, Target)] = &[("gateway_frame", gateway_frame)];
