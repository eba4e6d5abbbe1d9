//! Every file of the real /proc corpus (tests/data/proc, see tests/data/README.md) goes
//! through its parser; tests below pin concrete values from specific files, and the few
//! truly malformed files are listed with the error they must give.

mod common;

use common::*;
use ferrostat_core::procfs::*;
use ferrostat_core::{ErrorKind, Table};

/// Files that are not valid /proc output, with the error each must produce.
const MALFORMED: &[(&str, ErrorKind, usize)] = &[
    // 0 bytes: a /proc/stat read that raced or was denied (gopsutil's fixture).
    (
        "gopsutil/cpu-times_empty/proc/stat",
        ErrorKind::UnexpectedEnd,
        0,
    ),
];

fn parse_any(kind: Kind, b: &[u8]) -> Result<usize, ferrostat_core::Error> {
    Ok(match kind {
        Kind::Stat => stat::parse_into(b, &mut stat::Stat::<1024>::default())?.parsed as usize,
        Kind::Meminfo => meminfo::parse(b).map(|m| usize::from(m.mem_total().is_some()))?,
        Kind::Loadavg => loadavg::parse(b).map(|_| 1)?,
        Kind::Uptime => uptime::parse(b).map(|_| 1)?,
        Kind::NetDev => net_dev::parse_into(b, &mut Table::<_, 64>::new())?.parsed as usize,
        Kind::Diskstats => diskstats::parse_into(b, &mut Table::<_, 256>::new())?.parsed as usize,
        Kind::Cpuinfo => {
            cpuinfo::parse_into(b, &mut cpuinfo::CpuInfo::<1024>::default())?.parsed as usize
        }
        Kind::PidStat => pid_stat::parse(b).map(|_| 1)?,
        Kind::PidStatus => pid_status::parse(b).map(|_| 1)?,
        Kind::PidStatm => pid_statm::parse(b).map(|_| 1)?,
        Kind::PidIo => pid_io::parse(b).map(|_| 1)?,
        Kind::Mountinfo => mountinfo::parse_into(b, &mut Table::<_, 256>::new())?.parsed as usize,
        Kind::Mounts => mounts::parse_into(b, &mut Table::<_, 256>::new())?.parsed as usize,
        Kind::Pressure => pressure::parse(b).map(|_| 1)?,
        Kind::NetSnmp => net_snmp::parse(b).map(|_| 1)?,
        Kind::Vmstat => vmstat::parse(b).map(|v| usize::from(v.pgfault().is_some()))?,
    })
}

#[test]
fn every_corpus_file_parses_or_is_listed_as_malformed() {
    let files = corpus_files();
    let mut per_kind = std::collections::BTreeMap::<Kind, (usize, usize)>::new();
    let mut failures = Vec::new();
    for (path, kind) in &files {
        let rel = path
            .strip_prefix(corpus_root())
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let bytes = std::fs::read(path).unwrap();
        let entry = per_kind.entry(*kind).or_default();
        match parse_any(*kind, &bytes) {
            Ok(_) => entry.0 += 1,
            Err(e) => {
                entry.1 += 1;
                failures.push((rel, e.kind(), e.offset()));
            }
        }
    }
    for (kind, (ok, bad)) in &per_kind {
        println!("{kind:?}: {ok} parsed, {bad} rejected");
    }
    println!("total: {} files", files.len());
    let expected: Vec<_> = MALFORMED
        .iter()
        .map(|(p, k, o)| (p.to_string(), *k, *o))
        .collect();
    assert_eq!(failures, expected);
    // Every kind the issue lists is represented by real files.
    assert_eq!(per_kind.len(), 16, "{per_kind:?}");
    assert!(files.len() >= 550, "corpus shrank: {}", files.len());
}

#[test]
fn stat_values() {
    let mut s = stat::Stat::<64>::default();
    stat::parse_into(read_static("local/proc/stat"), &mut s).unwrap();
    assert_eq!(s.total.user, 28867);
    assert_eq!(s.total.steal, 527);
    assert_eq!(s.total.columns, 10);
    assert_eq!(s.cpus.len(), 2);
    assert_eq!(s.cpus.as_slice()[1].times.user, 15291);
    assert_eq!(
        (s.ctxt, s.btime, s.processes),
        (Some(802554), Some(1795351355), Some(41986))
    );
    assert_eq!((s.procs_running, s.procs_blocked), (Some(6), Some(0)));

    // Hot-unplugged cpu6: the ids keep their gap.
    stat::parse_into(read_static("sysstat/root3/proc/stat"), &mut s).unwrap();
    let ids: Vec<u32> = s.cpus.iter().map(|c| c.id).collect();
    assert_eq!(ids, [0, 1, 2, 3, 4, 5, 7]);
    assert_eq!(s.cpus.as_slice()[6].times.nice, 100925);

    // 2.6.18: seven columns, no steal.
    stat::parse_into(read_static("sysstat/root6/proc/stat"), &mut s).unwrap();
    assert_eq!(s.total.columns, 7);
    assert_eq!(
        (s.total.idle, s.total.softirq, s.total.steal),
        (2909475, 25855, 0)
    );

    // No trailing newline after the final complete line.
    stat::parse_into(read_static("gopsutil/cpu-424/proc/stat"), &mut s).unwrap();
    assert_eq!((s.procs_blocked, s.ctxt), (Some(0), Some(41317767)));
    assert_eq!(s.softirq, Some(5433315));

    // The 132 KB intr line (prometheus/procfs#546): only its total is read.
    let big = read("prometheus-procfs/proc/stat");
    assert!(big.len() > 130_000);
    stat::parse_into(&big, &mut s).unwrap();
    assert_eq!((s.intr, s.softirq), (Some(73777505), Some(5057579)));
    assert_eq!(s.total.idle, 8979004);

    // Capacity smaller than the CPU count: kept and dropped add up, nothing is an error.
    let mut small = stat::Stat::<3>::default();
    let sum = stat::parse_into(read_static("sysstat/root3/proc/stat"), &mut small).unwrap();
    assert_eq!((sum.parsed, sum.dropped), (3, 4));
}

#[test]
fn meminfo_values() {
    let m = meminfo::parse(read_static("local/proc/meminfo")).unwrap();
    assert_eq!(m.mem_total(), Some(24683656));
    assert_eq!(m.mem_available(), Some(23706380));
    assert_eq!(m.vmalloc_total(), Some(34359738367)); // > 2^32
    assert_eq!(m.huge_pages_total(), Some(0)); // no unit
    let unit_less: Vec<_> = meminfo::records(read_static("local/proc/meminfo"))
        .filter_map(|r| match r.unwrap() {
            meminfo::Record::Field {
                name,
                unit: meminfo::Unit::None,
                ..
            } => Some(name.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(
        unit_less,
        [
            "HugePages_Total",
            "HugePages_Free",
            "HugePages_Rsvd",
            "HugePages_Surp"
        ]
    );

    // Four lines, no trailing newline.
    let m = meminfo::parse(read_static(
        "gopsutil/mem-virtualmemory-anonhugepages/proc/meminfo",
    ))
    .unwrap();
    assert_eq!(
        (m.mem_total(), m.anon_huge_pages()),
        (Some(260799420), Some(50409472))
    );
    assert_eq!(m.swap_total(), None);

    // Linux 2.4 byte table before the kB lines.
    let legacy = read("gopsutil/mem-virtualmemory-issue1002/proc/meminfo");
    let m = meminfo::parse(&legacy).unwrap();
    assert_eq!(m.mem_total(), Some(254472));
    let rows = meminfo::records(&legacy)
        .filter(|r| matches!(r, Ok(meminfo::Record::LegacyTable(_))))
        .count();
    assert_eq!(rows, 3);
}

#[test]
fn loadavg_uptime_values() {
    let l = loadavg::parse(read_static("local/proc/loadavg")).unwrap();
    assert_eq!((l.one, l.five, l.fifteen), (4.04, 2.00, 0.82));
    assert_eq!((l.running, l.total, l.last_pid), (6, 129, 9536));
    let u = uptime::parse(read_static("eminence-procfs/uptime/proc/uptime")).unwrap();
    assert_eq!((u.uptime_secs, u.idle_secs), (2578790.61, 1999230.98));
    let u = uptime::parse(read_static("local/proc/uptime")).unwrap();
    assert_eq!((u.uptime_secs, u.idle_secs), (393.72, 396.61));
}

#[test]
fn net_dev_values() {
    let input = read("local/proc/net/dev");
    let mut t = Table::<_, 8>::new();
    net_dev::parse_into(&input, &mut t).unwrap();
    let names: Vec<String> = t.iter().map(|i| i.name.to_string()).collect();
    assert_eq!(names, ["lo", "ifb0", "ifb1", "eth0"]);
    let eth0 = t.as_slice()[3];
    assert_eq!(
        (
            eth0.rx_bytes,
            eth0.rx_packets,
            eth0.tx_bytes,
            eth0.tx_packets
        ),
        (200826382, 11186, 958284, 9242)
    );

    // Names longer than the header column.
    let mut found = 0;
    for (path, kind) in corpus_files() {
        if kind != Kind::NetDev {
            continue;
        }
        let b = std::fs::read(&path).unwrap();
        for i in net_dev::records(&b) {
            let i = i.unwrap();
            if i.name.as_bytes() == b"vethf345468" {
                assert_eq!(
                    (i.rx_bytes, i.rx_packets, i.tx_bytes, i.tx_packets),
                    (648, 8, 438, 5)
                );
                found += 1;
            }
        }
    }
    assert!(found >= 1);

    // A `|` is allowed in an interface name (only `/`, `:` and whitespace are not): the
    // line is an interface, not a third header. A line with neither `|` nor `:` is bad.
    let mut header = input[..input.iter().position(|&b| b == b'\n').unwrap() + 1].to_vec();
    header.extend_from_slice(b"a|b: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n");
    let mut t = Table::<_, 8>::new();
    net_dev::parse_into(&header, &mut t).unwrap();
    assert_eq!(t.as_slice()[0].name.as_bytes(), b"a|b");
    assert_eq!(t.as_slice()[0].tx_compressed, 16);
    let err = net_dev::parse_into(b"eth0 1 2\n", &mut t).unwrap_err();
    assert_eq!((err.kind(), err.offset()), (ErrorKind::BadLine, 0));
}

#[test]
fn diskstats_values() {
    let mut t = Table::<_, 64>::new();
    diskstats::parse_into(read_static("sysstat/root6/proc/diskstats"), &mut t).unwrap();
    let c = t
        .iter()
        .find(|d| d.name.as_bytes() == b"cciss/c0d0p1")
        .unwrap();
    // Hand-edited zero-padded counter `055711`.
    assert_eq!(
        (
            c.major,
            c.minor,
            c.time_reading_ms,
            c.writes_completed,
            c.counters
        ),
        (104, 1, 63484, 55711, 11)
    );

    // 14-, 18- and 20-field lines mixed in one file.
    let nx = read_static("node_exporter/proc/diskstats");
    diskstats::parse_into(nx, &mut t).unwrap();
    let mut counts: Vec<u8> = t.iter().map(|d| d.counters).collect();
    counts.dedup();
    assert!(
        counts.contains(&11) && counts.contains(&15) && counts.contains(&17),
        "{counts:?}"
    );
    let sda = t.iter().find(|d| d.name.as_bytes() == b"sda").unwrap();
    assert_eq!(
        (sda.reads_completed, sda.sectors_read, sda.time_io_ms),
        (25354637, 1003346126, 9653880)
    );
}

#[test]
fn cpuinfo_values() {
    struct Want {
        file: &'static str,
        logical: u32,
        cores: u32,
        sockets: u32,
        model: &'static str,
    }
    let cases = [
        Want {
            file: "util-linux/lscpu/x86_64-epyc_7451/proc/cpuinfo",
            logical: 96,
            cores: 48,
            sockets: 2,
            model: "AMD EPYC 7451 24-Core Processor",
        },
        Want {
            file: "util-linux/lscpu/x86_64-64cpu/proc/cpuinfo",
            logical: 64,
            cores: 32,
            sockets: 4,
            model: "Intel(R) Xeon(R) CPU           X7550  @ 2.00GHz",
        },
        Want {
            file: "util-linux/lscpu/ia64-512cpus/proc/cpuinfo",
            logical: 512,
            cores: 512,
            sockets: 256,
            model: "Dual-Core Intel(R) Itanium(R) Processor 9040",
        },
        Want {
            file: "util-linux/lscpu/ia64-pg0/proc/cpuinfo",
            logical: 16,
            cores: 16,
            sockets: 8,
            model: "",
        },
        Want {
            file: "util-linux/lscpu/s390-lpar/proc/cpuinfo",
            logical: 17,
            cores: 17,
            sockets: 1,
            model: "",
        },
        Want {
            file: "prometheus-procfs-inline/cpuinfoS390x/proc/cpuinfo",
            logical: 4,
            cores: 2,
            sockets: 1,
            model: "",
        },
        Want {
            file: "util-linux/lscpu/sparc64/proc/cpuinfo",
            logical: 6,
            cores: 6,
            sockets: 1,
            model: "TI UltraSparc II  (BlackBird)",
        },
        Want {
            file: "util-linux/lscpu/loongarch-loongson_3a5000_hv/proc/cpuinfo",
            logical: 4,
            cores: 4,
            sockets: 1,
            model: "Loongson-3A5000-HV",
        },
        Want {
            file: "prometheus-procfs-inline/cpuinfoMips/proc/cpuinfo",
            logical: 2,
            cores: 2,
            sockets: 1,
            model: "Cavium Octeon+ V0.1",
        },
        Want {
            file: "util-linux/lscpu/ppc64-POWER7-64cpu/proc/cpuinfo",
            logical: 64,
            cores: 64,
            sockets: 1,
            model: "POWER7 (architected), altivec supported",
        },
        Want {
            file: "util-linux/lscpu/rv64-visionfive2/proc/cpuinfo",
            logical: 4,
            cores: 4,
            sockets: 1,
            model: "sifive,u74-mc",
        },
        Want {
            file: "gopsutil/cpu-1037/proc/cpuinfo",
            logical: 8,
            cores: 8,
            sockets: 1,
            model: "ARMv7 Processor rev 4 (v7l)",
        },
        Want {
            file: "prometheus-procfs-inline/cpuinfoArm7LegacyV1/proc/cpuinfo",
            logical: 1,
            cores: 1,
            sockets: 1,
            model: "ARMv6-compatible processor rev 5 (v6l)",
        },
        Want {
            file: "gopsutil/cpu-1958/proc/cpuinfo",
            logical: 1,
            cores: 1,
            sockets: 1,
            model: "Hygon C86-4G (OPN:5435)",
        },
        Want {
            file: "util-linux/lscpu/arm-A510-A710-A715-X3/proc/cpuinfo",
            logical: 8,
            cores: 8,
            sockets: 1,
            model: "",
        },
    ];
    for w in cases {
        let b = read(w.file);
        let mut info = cpuinfo::CpuInfo::<1024>::default();
        cpuinfo::parse_into(&b, &mut info).unwrap();
        let got = (info.logical(), info.cores(), info.sockets());
        assert_eq!(got, (w.logical, w.cores, w.sockets), "{}", w.file);
        let model = info.processors.as_slice()[0].model.to_string();
        assert_eq!(model, w.model, "{}", w.file);
    }
    let b = read("util-linux/lscpu/x86_64-epyc_7451/proc/cpuinfo");
    let mut info = cpuinfo::CpuInfo::<1024>::default();
    cpuinfo::parse_into(&b, &mut info).unwrap();
    // Socket -> core -> processor: socket 1 holds 48 logical CPUs on 24 cores.
    assert_eq!(info.in_socket(Some(1)).count(), 48);
    let p0 = info.processors.as_slice()[0];
    assert_eq!(
        (p0.socket, p0.core, p0.vendor.as_bytes()),
        (Some(0), Some(0), &b"AuthenticAMD"[..])
    );
    // ia64's `cpu number : 0` inside every block opens no block of its own: the last CPU
    // keeps its own topology and clock.
    let b = read("util-linux/lscpu/ia64-512cpus/proc/cpuinfo");
    let mut info = cpuinfo::CpuInfo::<1024>::default();
    cpuinfo::parse_into(&b, &mut info).unwrap();
    let last = info.processors.as_slice()[511];
    assert_eq!(
        (last.id, last.socket, last.core, last.mhz),
        (511, Some(65027), Some(1), Some(1594.000007))
    );
    assert_eq!(info.in_socket(Some(65027)).count(), 2);
    let b = read("util-linux/lscpu/s390-lpar/proc/cpuinfo");
    let mut info = cpuinfo::CpuInfo::<64>::default();
    cpuinfo::parse_into(&b, &mut info).unwrap();
    assert_eq!(info.declared, Some(17));
    assert_eq!(info.processors.as_slice()[5].id, 8); // ids 1-5, 8-19
    assert_eq!(info.processors.as_slice()[0].vendor.as_bytes(), b"IBM/S390");
}

#[test]
fn pid_stat_values() {
    let s = pid_stat::parse(read_static("gopsutil/process/proc/68927/stat")).unwrap();
    assert_eq!(s.comm.as_bytes(), b"test(cmd).sh");
    assert_eq!((s.pid, s.ppid, s.state), (68927, 68044, b'S'));

    // Extreme signed fields (i64::MIN / i64::MAX), tpgid -1, nice -20.
    let s = pid_stat::parse(read_static("prometheus-procfs/proc/26232/stat")).unwrap();
    assert_eq!(s.comm.as_bytes(), b"ata_sff");
    assert_eq!((s.tpgid, s.nice), (-1, -20));
    assert_eq!((s.cutime, s.cstime), (i64::MIN, i64::MAX));
    assert_eq!((s.exit_signal, s.processor), (i64::MIN, i64::MAX));
    assert_eq!(s.rsslim, u64::MAX);

    // Parentheses and spaces in comm, and a second line after the record.
    let s = pid_stat::parse(read_static("prometheus-procfs/proc/584/stat")).unwrap();
    assert_eq!(s.comm.as_bytes(), b"(a b ) ( c d) ");
    assert_eq!((s.state, s.ppid, s.exit_code), (b'R', 28378, Some(0)));

    let s = pid_stat::parse(read_static("local/proc/1/stat")).unwrap();
    assert_eq!(s.pid, 1);
    assert!(s.exit_code.is_some()); // 52 fields on 6.18
}

#[test]
fn pid_status_io_statm_values() {
    // MIPS64: 128-bit signal masks.
    let s = pid_status::parse(read_static("gopsutil/process/proc/1060/status")).unwrap();
    assert!(s.name.unwrap().decodes_to(b"server"));
    assert_eq!(s.sig_cgt, Some(0xfffffffffffffffffffffffe783ffeff));
    assert_eq!(
        (s.state, s.vm_rss, s.threads),
        (Some(b'S'), Some(2892), Some(5))
    );
    assert_eq!((s.sigq_queued, s.sigq_limit), (Some(0), Some(1823)));

    let s = pid_status::parse(read_static("prometheus-procfs/proc/26231/status")).unwrap();
    assert!(s.name.unwrap().decodes_to(b"prometheus"));
    assert_eq!(
        (s.uid, s.gid),
        (Some([1000, 1000, 1000, 0]), Some([1001, 1001, 1001, 0]))
    );
    assert_eq!(
        (s.vm_rss, s.vm_swap, s.umask),
        (Some(6716), Some(660), Some(0o022))
    );
    assert_eq!(s.sig_cgt, Some(0x1800004ec));

    // A kernel-thread-like file without Vm* lines.
    let s = pid_status::parse(read_static("gopsutil/process/proc/1/status")).unwrap();
    assert_eq!(s.vm_rss, None);

    let io = pid_io::parse(read_static("prometheus-procfs/proc/26231/io")).unwrap();
    assert_eq!(
        (io.rchar, io.read_bytes, io.cancelled_write_bytes),
        (Some(750339), Some(1024), Some(-1024))
    );
    let io = pid_io::parse(read_static("local/proc/2343/io")).unwrap();
    assert_eq!((io.syscr, io.write_bytes), (Some(259774), Some(235163648)));

    let m = pid_statm::parse(read_static("local/proc/1/statm")).unwrap();
    assert_eq!(
        (m.size, m.resident, m.shared, m.text, m.data),
        (9579, 2888, 1464, 1334, 7734)
    );
}

#[test]
fn mount_values() {
    let b = read("node_exporter/proc/1/mountinfo");
    let mut t = Table::<_, 64>::new();
    mountinfo::parse_into(&b, &mut t).unwrap();
    let esc: Vec<_> = t
        .iter()
        .filter(|m| m.mount_point.raw().contains(&b'\\'))
        .collect();
    assert_eq!(esc.len(), 2);
    let mut buf = [0u8; 512];
    let decoded = esc[0].mount_point.decode_into(&mut buf).unwrap();
    assert!(decoded.starts_with(
        b"/var/lib/kubelet/plugins/kubernetes.io/vsphere-volume/mounts/[vsanDatastore] bafb9e5a"
    ));
    assert!(esc[1].mount_point.decoded().any(|b| b == b'\t'));
    assert_eq!(esc[0].optional_fields.as_bytes(), b"shared:31");
    assert_eq!(
        (esc[0].mount_id, esc[0].major, esc[0].source.raw()),
        (3148, 260, &b"/dev/sda"[..])
    );

    // prometheus/procfs's fixture has two spaces after the root: one separator, as
    // libmount and prometheus/procfs read it, since no field before the `-` is ever
    // empty. Not an empty mount point with `/root` for its options.
    let b = read("prometheus-procfs/proc/26231/mountinfo");
    let m = mountinfo::records(&b).next().unwrap().unwrap();
    assert_eq!(
        (
            m.root.raw(),
            m.mount_point.raw(),
            m.mount_options.as_bytes()
        ),
        (&b"/"[..], &b"/root"[..], &b"rw,nosuid"[..])
    );
    assert_eq!(m.optional_fields.as_bytes(), b"shared:8");
    assert_eq!(
        (m.fs_type.raw(), m.source.raw()),
        (&b"rootfs"[..], &b"rootfs"[..])
    );

    // pasta's tmpfs with an empty source (eminence/procfs#333).
    let b = read("eminence-procfs/mountinfo_pasta_empty_source/proc/mountinfo");
    let m = mountinfo::records(&b).next().unwrap().unwrap();
    assert_eq!(m.source.raw(), b"");
    assert_eq!(m.fs_type.raw(), b"tmpfs");
    assert_eq!(m.optional_fields.as_bytes(), b"");
    assert!(m.super_options.as_bytes().starts_with(b"ro,size=0k"));

    let b = read("eminence-procfs/mounts_pasta_empty_spec/proc/mounts");
    let m = mounts::records(&b).next().unwrap().unwrap();
    assert_eq!(
        (m.spec.raw(), m.file.raw(), m.vfstype.raw()),
        (&b""[..], &b"/"[..], &b"tmpfs"[..])
    );
}

#[test]
fn pressure_snmp_vmstat_values() {
    // Before 5.13, pressure/cpu has no `full` line.
    let p = pressure::parse(read_static("prometheus-procfs/proc/pressure/cpu")).unwrap();
    let some = p.some.unwrap();
    assert_eq!(
        (some.avg10, some.avg60, some.avg300, some.total_us),
        (0.10, 2.00, 3.85, 15)
    );
    assert!(p.full.is_none());
    // pressure/irq has only `full`, and no trailing newline here.
    let p = pressure::parse(read_static("node_exporter/proc/pressure/irq")).unwrap();
    assert!(p.some.is_none());
    assert_eq!(p.full.unwrap().total_us, 8494);

    let s = net_snmp::parse(read_static(
        "eminence-procfs/snmp_missing_icmpmsg/proc/net/snmp",
    ))
    .unwrap();
    assert_eq!(
        (s.Tcp.max_conn, s.Tcp.active_opens, s.Tcp.curr_estab),
        (Some(-1), Some(177), Some(4))
    );
    assert_eq!(
        (s.Tcp.retrans_segs, s.Tcp.in_csum_errors),
        (Some(18), Some(0))
    );

    let v = vmstat::parse(read_static("node_exporter/proc/vmstat")).unwrap();
    assert_eq!(v.pgfault(), Some(2320168809));
    assert_eq!(
        (v.pgmajfault(), v.pswpin(), v.pgpgin(), v.oom_kill()),
        (Some(507162), Some(1476), Some(7344136), Some(0))
    );
    assert!(v.other_fields() > 100);
}
