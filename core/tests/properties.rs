//! Property tests: parsers agree with a naive oracle on generated input, emit what the
//! kernel would have written, and give the same answer whatever the capacity or wherever
//! a short read cut the file.

mod common;

use common::*;
use ferrostat_core::procfs::*;
use ferrostat_core::{ErrorKind, Table};
use proptest::prelude::*;

/// The kernel's `mangle()` for mountinfo paths: octal for space, tab, newline, backslash.
fn kernel_octal_escape(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in raw {
        match b {
            b' ' | b'\t' | b'\n' | b'\\' => out.extend_from_slice(format!("\\{b:03o}").as_bytes()),
            _ => out.push(b),
        }
    }
    out
}

proptest! {
    #[test]
    fn stat_cpu_lines_match_the_generator(
        cpus in prop::collection::vec((0u32..4096, prop::collection::vec(any::<u64>(), 4..=10)), 0..40),
    ) {
        let mut text = String::from("cpu  1 2 3 4\n");
        for (id, cols) in &cpus {
            text.push_str(&format!("cpu{id}"));
            for c in cols {
                text.push_str(&format!(" {c}"));
            }
            text.push('\n');
        }
        let mut s = stat::Stat::<64>::default();
        stat::parse_into(text.as_bytes(), &mut s).unwrap();
        prop_assert_eq!(s.cpus.len(), cpus.len());
        for (got, (id, cols)) in s.cpus.iter().zip(&cpus) {
            prop_assert_eq!(got.id, *id);
            prop_assert_eq!(got.times.columns as usize, cols.len());
            prop_assert_eq!(got.times.user, cols[0]);
            prop_assert_eq!(got.times.idle, cols[3]);
            prop_assert_eq!(got.times.guest_nice, cols.get(9).copied().unwrap_or(0));
        }
    }

    /// CPU lines of ten columns of 1 to 20 digits, with the long `intr` line after them
    /// that a real file has, all read to the generator's values.
    #[test]
    fn stat_rows_of_every_digit_count_match_the_generator(
        cpus in prop::collection::vec(
            (
                0u32..100_000,
                // The most digits a column of the row has.
                prop::sample::select(vec![5u32, 8, 12, 20]),
                prop::collection::vec((1u32..=20, any::<u64>()), 10),
            ),
            1..40,
        ),
    ) {
        let mut text = String::from("cpu  1 2 3 4 5 6 7 8 9 10\n");
        let mut expected = Vec::new();
        for (id, most, cols) in &cpus {
            text.push_str(&format!("cpu{id}"));
            let mut values = [0u64; 10];
            for (slot, (digits, v)) in values.iter_mut().zip(cols) {
                let digits = 1 + (digits - 1) % most;
                *slot = 10u64.checked_pow(digits).map_or(*v, |p| v % p);
                text.push_str(&format!(" {slot}"));
            }
            text.push('\n');
            expected.push((*id, values));
        }
        text.push_str(&format!("intr 9{}\nctxt 1\n", " 0".repeat(40)));
        let mut s = stat::Stat::<64>::default();
        stat::parse_into(text.as_bytes(), &mut s).unwrap();
        prop_assert_eq!(s.cpus.len(), cpus.len());
        for (got, (id, values)) in s.cpus.iter().zip(&expected) {
            let t = got.times;
            prop_assert_eq!(got.id, *id);
            prop_assert_eq!(
                [t.user, t.nice, t.system, t.idle, t.iowait, t.irq, t.softirq, t.steal, t.guest, t.guest_nice],
                *values
            );
        }
    }

    #[test]
    fn integers_match_str_parse(v in any::<u64>(), lead in 0usize..3) {
        let text = format!("MemTotal: {}{v} kB\n", "0".repeat(lead));
        prop_assert_eq!(meminfo::parse(text.as_bytes()).unwrap().mem_total(), Some(v));
        let n = format!("{v}0");
        let too_big = n.parse::<u64>().is_err();
        let r = meminfo::parse(format!("MemTotal: {n} kB\n").as_bytes());
        prop_assert_eq!(r.is_err(), too_big);
    }

    #[test]
    fn mount_paths_round_trip_through_kernel_escaping(
        path in prop::collection::vec(any::<u8>().prop_filter("no NUL", |b| *b != 0), 1..60),
        source in prop::collection::vec(any::<u8>().prop_filter("no NUL", |b| *b != 0), 0..20),
    ) {
        let mut line = b"36 35 98:0 / ".to_vec();
        line.extend(kernel_octal_escape(&path));
        line.extend_from_slice(b" rw,noatime master:1 - ext3 ");
        line.extend(kernel_octal_escape(&source));
        line.extend_from_slice(b" rw,errors=continue\n");
        let m = mountinfo::records(&line).next().unwrap().unwrap();
        prop_assert!(m.mount_point.decodes_to(&path));
        prop_assert!(m.source.decodes_to(&source));
        let mut buf = [0u8; 64];
        prop_assert_eq!(m.mount_point.decode_into(&mut buf), Some(&path[..]));
        prop_assert_eq!(m.super_options.as_bytes(), b"rw,errors=continue");
    }

    #[test]
    fn any_comm_survives_pid_stat(comm in prop::collection::vec(any::<u8>(), 0..16), utime in any::<u64>()) {
        let mut line = b"4242 (".to_vec();
        line.extend_from_slice(&comm);
        line.extend_from_slice(format!(") S 1 2 3 0 -1 0 0 0 0 0 {utime} 7 0 0 20 0 1 0 9 100 2 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n").as_bytes());
        let s = pid_stat::parse(&line).unwrap();
        prop_assert_eq!(s.comm.as_bytes(), &comm[..]);
        prop_assert_eq!((s.utime, s.stime, s.ppid), (utime, 7, 1));
    }

    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        for (_, target) in ferrostat_core::__fuzz::PROC_TARGETS {
            target(&bytes);
        }
    }
}

#[test]
fn capacity_changes_what_is_kept_never_the_result() {
    for (path, kind) in corpus_files() {
        let b = std::fs::read(&path).unwrap();
        match kind {
            Kind::Stat => {
                let (mut a, mut z) = (stat::Stat::<1>::default(), stat::Stat::<1024>::default());
                let (ra, rz) = (stat::parse_into(&b, &mut a), stat::parse_into(&b, &mut z));
                assert_eq!(ra.is_ok(), rz.is_ok());
                if let (Ok(ra), Ok(rz)) = (ra, rz) {
                    assert_eq!(
                        ra.parsed + ra.dropped,
                        rz.parsed + rz.dropped,
                        "{}",
                        path.display()
                    );
                    assert_eq!(a.cpus.as_slice(), &z.cpus.as_slice()[..a.cpus.len()]);
                    assert_eq!((a.total, a.ctxt, a.intr), (z.total, z.ctxt, z.intr));
                }
            }
            Kind::NetDev => {
                let (mut a, mut z) = (Table::<_, 1>::new(), Table::<_, 256>::new());
                let (ra, rz) = (
                    net_dev::parse_into(&b, &mut a).unwrap(),
                    net_dev::parse_into(&b, &mut z).unwrap(),
                );
                assert_eq!(ra.parsed + ra.dropped, rz.parsed + rz.dropped);
                assert_eq!(a.as_slice(), &z.as_slice()[..a.len()]);
            }
            Kind::Diskstats => {
                let (mut a, mut z) = (Table::<_, 2>::new(), Table::<_, 256>::new());
                let (ra, rz) = (
                    diskstats::parse_into(&b, &mut a).unwrap(),
                    diskstats::parse_into(&b, &mut z).unwrap(),
                );
                assert_eq!(ra.parsed + ra.dropped, rz.parsed + rz.dropped);
                assert_eq!(a.as_slice(), &z.as_slice()[..a.len()]);
            }
            Kind::Cpuinfo => {
                let (mut a, mut z) = (
                    cpuinfo::CpuInfo::<2>::default(),
                    cpuinfo::CpuInfo::<1024>::default(),
                );
                cpuinfo::parse_into(&b, &mut a).unwrap();
                cpuinfo::parse_into(&b, &mut z).unwrap();
                assert_eq!(a.logical(), z.logical(), "{}", path.display());
            }
            _ => {}
        }
    }
}

/// Runs the parser a file of `kind` belongs to over `b`, keeping only the error kind.
fn parse_kind(kind: Kind, b: &[u8]) -> Result<(), ErrorKind> {
    let r = match kind {
        Kind::Stat => stat::parse_into(b, &mut stat::Stat::<1024>::default()).map(drop),
        Kind::Meminfo => meminfo::parse(b).map(drop),
        Kind::Loadavg => loadavg::parse(b).map(drop),
        Kind::Uptime => uptime::parse(b).map(drop),
        Kind::NetDev => net_dev::parse_into(b, &mut Table::<_, 64>::new()).map(drop),
        Kind::Diskstats => diskstats::parse_into(b, &mut Table::<_, 256>::new()).map(drop),
        Kind::Cpuinfo => cpuinfo::parse_into(b, &mut cpuinfo::CpuInfo::<1024>::default()).map(drop),
        Kind::PidStat => pid_stat::parse(b).map(drop),
        Kind::PidStatus => pid_status::parse(b).map(drop),
        Kind::PidStatm => pid_statm::parse(b).map(drop),
        Kind::PidIo => pid_io::parse(b).map(drop),
        Kind::Mountinfo => mountinfo::parse_into(b, &mut Table::<_, 256>::new()).map(drop),
        Kind::Mounts => mounts::parse_into(b, &mut Table::<_, 256>::new()).map(drop),
        Kind::Pressure => pressure::parse(b).map(drop),
        Kind::NetSnmp => net_snmp::parse(b).map(drop),
        Kind::Vmstat => vmstat::parse(b).map(drop),
    };
    r.map_err(|e| {
        assert!(e.offset() <= b.len());
        e.kind()
    })
}

#[test]
fn a_short_read_is_unexpected_end_or_a_complete_parse() {
    // Cut every valid corpus file at many points: the answer is a parse of the lines
    // that are whole, or UnexpectedEnd so the reader retries with a larger buffer. Never
    // a different error that would blame the kernel for the reader's short buffer.
    let mut cuts = 0;
    for (path, kind) in corpus_files() {
        let b = std::fs::read(&path).unwrap();
        if parse_kind(kind, &b).is_err() {
            continue;
        }
        let step = (b.len() / 37).max(1);
        for cut in (0..b.len()).step_by(step) {
            match parse_kind(kind, &b[..cut]) {
                Ok(()) | Err(ErrorKind::UnexpectedEnd) => {}
                // Whole lines only, but the lines still missing were required.
                Err(ErrorKind::MissingField) if b[..cut].ends_with(b"\n") => {}
                Err(k) => panic!("{} cut at {cut}: {k:?}", path.display()),
            }
            cuts += 1;
        }
    }
    assert!(cuts > 10_000);
}
