//! ferrostat-core and the `procfs` crate (procfs-core 0.18), the peer the benchmarks time
//! it against, read every file of the real corpus they both accept, and this machine's
//! live /proc, and must agree on every value both of them report. That makes the
//! benchmarks compare equal work, and it checks the core's values against a second,
//! independent reader of the same bytes.
//!
//! Where the two disagree on the corpus and procfs is the one that is wrong, the
//! difference is listed in `KNOWN` or `CUT_AT_COLON`, with the reason; the test fails on
//! any other difference, and on a listed one that goes away. On live /proc the only
//! difference allowed is procfs's cut of a name at its first colon (`kworker/0:1`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Debug;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use ferrostat_benches::{cpu_columns, procfs_system_info};
use ferrostat_core::procfs::*;
use ferrostat_core::Table;
use procfs_core::{FromRead, FromReadSI};

#[path = "../../core/tests/common/mod.rs"]
mod common;

use common::Kind;

/// The differences found under one directory of /proc files, as
/// `file: what: ours != procfs's`.
struct Diffs {
    root: PathBuf,
    /// Every file under `root` a parser reads, with its kind.
    all: Vec<(PathBuf, Kind)>,
    found: BTreeSet<String>,
    /// Texts procfs cut at their first colon, which the core keeps whole: procfs splits
    /// `key: value` lines at every colon and keeps the second piece.
    cut_at_colon: BTreeSet<String>,
    compared: usize,
    /// How many files of each kind both parsers read.
    files: BTreeMap<String, usize>,
}

impl Diffs {
    fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        Diffs {
            all: common::files_under(&root),
            root,
            found: BTreeSet::new(),
            cut_at_colon: BTreeSet::new(),
            compared: 0,
            files: BTreeMap::new(),
        }
    }

    fn describe(&self, file: &Path, what: &str, ours: impl Debug, theirs: impl Debug) -> String {
        let file = file.strip_prefix(&self.root).unwrap().display();
        format!("{file}: {what}: {ours:?} != {theirs:?}")
    }

    fn same<T: PartialEq + Debug>(&mut self, file: &Path, what: &str, ours: T, theirs: T) {
        self.compared += 1;
        if ours != theirs {
            let diff = self.describe(file, what, ours, theirs);
            self.found.insert(diff);
        }
    }

    /// A text value, where procfs's cut at the first colon is set apart from other
    /// differences.
    fn same_text(&mut self, file: &Path, what: &str, ours: Option<String>, theirs: Option<String>) {
        let cut = match (&ours, &theirs) {
            (Some(o), Some(t)) => o.find(':').is_some_and(|colon| o[..colon].trim_end() == t),
            _ => false,
        };
        if cut {
            self.compared += 1;
            let diff = self.describe(file, what, ours, theirs);
            self.cut_at_colon.insert(diff);
        } else {
            self.same(file, what, ours, theirs);
        }
    }
}

/// The files of `kind` whose path ends with `name` (`net/dev`, `pressure/cpu`) that
/// procfs reads (`theirs`), with their bytes and procfs's value.
fn read_by_both<T>(
    d: &mut Diffs,
    kind: Kind,
    name: &str,
    theirs: impl Fn(&[u8]) -> Option<T>,
) -> Vec<(PathBuf, Vec<u8>, T)> {
    let label = match kind {
        Kind::PidStat | Kind::PidStatus | Kind::PidStatm | Kind::PidIo => format!("<pid>/{name}"),
        _ => name.to_string(),
    };
    let mut read = Vec::new();
    for (file, _) in d
        .all
        .iter()
        .filter(|(f, k)| *k == kind && f.ends_with(name))
    {
        let bytes = std::fs::read(file).unwrap();
        if let Some(t) = theirs(&bytes) {
            *d.files.entry(label.clone()).or_default() += 1;
            read.push((file.clone(), bytes, t));
        }
    }
    read
}

fn stat(d: &mut Diffs) {
    let si = procfs_system_info();
    for (file, b, theirs) in read_by_both(d, Kind::Stat, "stat", |b| {
        procfs_core::KernelStats::from_read(Cursor::new(b), &si).ok()
    }) {
        let mut ours = Box::new(stat::Stat::<1024>::default());
        stat::parse_into(&b, &mut ours).unwrap();
        let columns = |t: &procfs_core::CpuTime| {
            let opt = |v: Option<u64>| v.unwrap_or(0);
            [
                t.user,
                t.nice,
                t.system,
                t.idle,
                opt(t.iowait),
                opt(t.irq),
                opt(t.softirq),
                opt(t.steal),
                opt(t.guest),
                opt(t.guest_nice),
            ]
        };
        d.same(
            &file,
            "cpu",
            cpu_columns(&ours.total),
            columns(&theirs.total),
        );
        d.same(&file, "cpu lines", ours.cpus.len(), theirs.cpu_time.len());
        for (k, (o, t)) in ours.cpus.iter().zip(&theirs.cpu_time).enumerate() {
            d.same(
                &file,
                &format!("cpu line {k}"),
                cpu_columns(&o.times),
                columns(t),
            );
        }
        d.same(&file, "ctxt", ours.ctxt, Some(theirs.ctxt));
        d.same(&file, "btime", ours.btime, Some(theirs.btime));
        d.same(&file, "processes", ours.processes, Some(theirs.processes));
        d.same(
            &file,
            "procs_running",
            ours.procs_running,
            theirs.procs_running.map(u64::from),
        );
        d.same(
            &file,
            "procs_blocked",
            ours.procs_blocked,
            theirs.procs_blocked.map(u64::from),
        );
    }
}

fn meminfo(d: &mut Diffs) {
    for (file, b, theirs) in read_by_both(d, Kind::Meminfo, "meminfo", |b| {
        procfs_core::Meminfo::from_read(Cursor::new(b)).ok()
    }) {
        let ours: HashMap<String, u64> = meminfo::records(&b)
            .filter_map(|r| match r.unwrap() {
                r @ meminfo::Record::Field { name, .. } => {
                    Some((name.to_string(), r.value_scaled().unwrap()))
                }
                meminfo::Record::LegacyTable(_) => None,
            })
            .collect();
        let get = |k: &str| ours.get(k).copied();
        let pairs: [(&str, Option<u64>); 24] = [
            ("MemTotal", Some(theirs.mem_total)),
            ("MemFree", Some(theirs.mem_free)),
            ("MemAvailable", theirs.mem_available),
            ("Buffers", Some(theirs.buffers)),
            ("Cached", Some(theirs.cached)),
            ("SwapCached", Some(theirs.swap_cached)),
            ("Active", Some(theirs.active)),
            ("Inactive", Some(theirs.inactive)),
            ("Active(anon)", theirs.active_anon),
            ("Inactive(anon)", theirs.inactive_anon),
            ("Active(file)", theirs.active_file),
            ("Inactive(file)", theirs.inactive_file),
            ("SwapTotal", Some(theirs.swap_total)),
            ("SwapFree", Some(theirs.swap_free)),
            ("Dirty", Some(theirs.dirty)),
            ("Writeback", Some(theirs.writeback)),
            ("AnonPages", theirs.anon_pages),
            ("Mapped", Some(theirs.mapped)),
            ("Shmem", theirs.shmem),
            ("Slab", Some(theirs.slab)),
            ("SReclaimable", theirs.s_reclaimable),
            ("SUnreclaim", theirs.s_unreclaim),
            ("PageTables", theirs.page_tables),
            ("HugePages_Total", theirs.hugepages_total),
        ];
        for (key, value) in pairs {
            d.same(&file, key, get(key), value);
        }
        // Our struct's accessors give kB, from the same lines.
        let parsed = meminfo::parse(&b).unwrap();
        d.same(
            &file,
            "MemTotal (struct)",
            parsed.mem_total().map(|k| k * 1024),
            Some(theirs.mem_total),
        );
    }
}

fn loadavg_uptime(d: &mut Diffs) {
    for (file, b, theirs) in read_by_both(d, Kind::Loadavg, "loadavg", |b| {
        procfs_core::LoadAverage::from_read(Cursor::new(b)).ok()
    }) {
        let ours = loadavg::parse(&b).unwrap();
        d.same(
            &file,
            "averages",
            [ours.one as f32, ours.five as f32, ours.fifteen as f32],
            [theirs.one, theirs.five, theirs.fifteen],
        );
        d.same(
            &file,
            "tasks and last pid",
            [ours.running, ours.total, ours.last_pid],
            [theirs.cur, theirs.max, theirs.latest_pid],
        );
    }
    for (file, b, theirs) in read_by_both(d, Kind::Uptime, "uptime", |b| {
        procfs_core::Uptime::from_read(Cursor::new(b)).ok()
    }) {
        let ours = uptime::parse(&b).unwrap();
        d.same(
            &file,
            "uptime and idle",
            [ours.uptime_secs, ours.idle_secs],
            [theirs.uptime, theirs.idle],
        );
    }
}

fn net_dev(d: &mut Diffs) {
    for (file, b, theirs) in read_by_both(d, Kind::NetDev, "net/dev", |b| {
        procfs_core::net::InterfaceDeviceStatus::from_read(Cursor::new(b)).ok()
    }) {
        let mut ours = Box::new(Table::<net_dev::Interface<'_>, 256>::new());
        net_dev::parse_into(&b, &mut ours).unwrap();
        d.same(&file, "interfaces", ours.len(), theirs.0.len());
        for o in ours.iter() {
            let name = o.name.to_string();
            let Some(t) = theirs.0.get(&name) else {
                d.same(&file, "interface", Some(name), None);
                continue;
            };
            d.same(
                &file,
                &name,
                [
                    o.rx_bytes,
                    o.rx_packets,
                    o.rx_errs,
                    o.rx_drop,
                    o.rx_fifo,
                    o.rx_frame,
                    o.rx_compressed,
                    o.rx_multicast,
                    o.tx_bytes,
                    o.tx_packets,
                    o.tx_errs,
                    o.tx_drop,
                    o.tx_fifo,
                    o.tx_colls,
                    o.tx_carrier,
                    o.tx_compressed,
                ],
                [
                    t.recv_bytes,
                    t.recv_packets,
                    t.recv_errs,
                    t.recv_drop,
                    t.recv_fifo,
                    t.recv_frame,
                    t.recv_compressed,
                    t.recv_multicast,
                    t.sent_bytes,
                    t.sent_packets,
                    t.sent_errs,
                    t.sent_drop,
                    t.sent_fifo,
                    t.sent_colls,
                    t.sent_carrier,
                    t.sent_compressed,
                ],
            );
        }
    }
}

fn diskstats(d: &mut Diffs) {
    for (file, b, theirs) in read_by_both(d, Kind::Diskstats, "diskstats", |b| {
        procfs_core::DiskStats::from_read(Cursor::new(b)).ok()
    }) {
        let mut ours = Box::new(Table::<diskstats::Disk<'_>, 1024>::new());
        diskstats::parse_into(&b, &mut ours).unwrap();
        d.same(&file, "disks", ours.len(), theirs.0.len());
        for (o, t) in ours.iter().zip(&theirs.0) {
            let name = o.name.to_string();
            d.same(&file, "name", &name, &t.name);
            d.same(
                &file,
                &format!("{name} device"),
                [o.major as i64, o.minor as i64],
                [t.major as i64, t.minor as i64],
            );
            d.same(
                &file,
                &format!("{name} counters"),
                [
                    o.reads_completed,
                    o.reads_merged,
                    o.sectors_read,
                    o.time_reading_ms,
                    o.writes_completed,
                    o.writes_merged,
                    o.sectors_written,
                    o.time_writing_ms,
                    o.ios_in_progress,
                    o.time_io_ms,
                    o.weighted_time_io_ms,
                ],
                [
                    t.reads,
                    t.merged,
                    t.sectors_read,
                    t.time_reading,
                    t.writes,
                    t.writes_merged,
                    t.sectors_written,
                    t.time_writing,
                    t.in_progress,
                    t.time_in_progress,
                    t.weighted_time_in_progress,
                ],
            );
            // Counter `n` (1-based) is on the line when it has at least `n` counters.
            let has = |n: u8| o.counters >= n;
            d.same(
                &file,
                &format!("{name} discards and flushes"),
                [
                    has(12).then_some(o.discards_completed),
                    has(13).then_some(o.discards_merged),
                    has(14).then_some(o.sectors_discarded),
                    has(15).then_some(o.time_discarding_ms),
                    has(16).then_some(o.flushes_completed),
                    has(17).then_some(o.time_flushing_ms),
                ],
                [
                    t.discards,
                    t.discards_merged,
                    t.sectors_discarded,
                    t.time_discarding,
                    t.flushes,
                    t.time_flushing,
                ],
            );
        }
    }
}

fn cpuinfo(d: &mut Diffs) {
    // procfs takes every block for a CPU, the header blocks of LoongArch and old ARM too,
    // and knows only `processor` lines: compare the blocks that have one, in the files
    // that have them. (s390 and sparc64 number their CPUs otherwise; the core's own tests
    // check those.)
    let numbered = |t: &procfs_core::CpuInfo| -> Vec<usize> {
        (0..t.cpus.len())
            .filter(|&k| t.get_field(k, "processor").is_some())
            .collect()
    };
    let read = |b: &[u8]| {
        procfs_core::CpuInfo::from_read(Cursor::new(b))
            .ok()
            .filter(|t| !numbered(t).is_empty())
    };
    for (file, b, theirs) in read_by_both(d, Kind::Cpuinfo, "cpuinfo", read) {
        let mut ours = Box::<cpuinfo::CpuInfo<'_, 1024>>::default();
        cpuinfo::parse_into(&b, &mut ours).unwrap();
        let numbered = numbered(&theirs);
        d.same(&file, "processors", ours.processors.len(), numbered.len());
        for (o, k) in ours.processors.iter().zip(numbered) {
            let field = |key: &str| theirs.get_field(k, key).map(str::to_string);
            let number = |key: &str| field(key).and_then(|v| v.parse::<u32>().ok());
            let cpu = o.id;
            d.same(
                &file,
                &format!("cpu {cpu} id"),
                Some(cpu),
                number("processor"),
            );
            if field("physical id").is_some() {
                d.same(
                    &file,
                    &format!("cpu {cpu} socket"),
                    o.socket,
                    number("physical id"),
                );
            }
            if field("core id").is_some() {
                d.same(&file, &format!("cpu {cpu} core"), o.core, number("core id"));
            }
            if let Some(model) = field("model name") {
                let ours = Some(o.model.to_string());
                d.same_text(&file, &format!("cpu {cpu} model"), ours, Some(model));
            }
            if let Some(vendor) = field("vendor_id") {
                d.same(
                    &file,
                    &format!("cpu {cpu} vendor"),
                    o.vendor.to_string(),
                    vendor,
                );
            }
            if let Some(mhz) = field("cpu MHz") {
                d.same(&file, &format!("cpu {cpu} MHz"), o.mhz, mhz.parse().ok());
            }
        }
    }
}

fn pid_stat(d: &mut Diffs) {
    let read = |b: &[u8]| procfs_core::process::Stat::from_read(Cursor::new(b)).ok();
    for (file, b, t) in read_by_both(d, Kind::PidStat, "stat", read) {
        let o = pid_stat::parse(&b).unwrap();
        d.same(&file, "comm", o.comm.to_string(), t.comm.clone());
        d.same(&file, "state", o.state as char, t.state);
        d.same(
            &file,
            "signed fields",
            [
                o.pid,
                o.ppid,
                o.pgrp,
                o.session,
                o.tty_nr,
                o.tpgid,
                o.cutime,
                o.cstime,
                o.priority,
                o.nice,
                o.num_threads,
                o.itrealvalue,
            ],
            [
                t.pid.into(),
                t.ppid.into(),
                t.pgrp.into(),
                t.session.into(),
                t.tty_nr.into(),
                t.tpgid.into(),
                t.cutime,
                t.cstime,
                t.priority,
                t.nice,
                t.num_threads,
                t.itrealvalue,
            ],
        );
        d.same(
            &file,
            "unsigned fields",
            [
                o.flags,
                o.minflt,
                o.cminflt,
                o.majflt,
                o.cmajflt,
                o.utime,
                o.stime,
                o.starttime,
                o.vsize,
                o.rss as u64,
                o.rsslim,
                o.startcode,
                o.endcode,
                o.startstack,
                o.kstkesp,
                o.kstkeip,
                o.signal,
                o.blocked,
                o.sigignore,
                o.sigcatch,
                o.wchan,
                o.nswap,
                o.cnswap,
            ],
            [
                t.flags.into(),
                t.minflt,
                t.cminflt,
                t.majflt,
                t.cmajflt,
                t.utime,
                t.stime,
                t.starttime,
                t.vsize,
                t.rss,
                t.rsslim,
                t.startcode,
                t.endcode,
                t.startstack,
                t.kstkesp,
                t.kstkeip,
                t.signal,
                t.blocked,
                t.sigignore,
                t.sigcatch,
                t.wchan,
                t.nswap,
                t.cnswap,
            ],
        );
        d.same(
            &file,
            "exit_signal, processor, exit_code",
            [Some(o.exit_signal), Some(o.processor), o.exit_code],
            [
                t.exit_signal.map(i64::from),
                t.processor.map(i64::from),
                t.exit_code.map(i64::from),
            ],
        );
        d.same(
            &file,
            "optional tail",
            [
                o.rt_priority,
                o.policy,
                o.delayacct_blkio_ticks,
                o.guest_time,
                o.start_data,
                o.end_data,
                o.start_brk,
                o.arg_start,
                o.arg_end,
                o.env_start,
                o.env_end,
            ],
            [
                t.rt_priority.map(u64::from),
                t.policy.map(u64::from),
                t.delayacct_blkio_ticks,
                t.guest_time,
                t.start_data,
                t.end_data,
                t.start_brk,
                t.arg_start,
                t.arg_end,
                t.env_start,
                t.env_end,
            ],
        );
        d.same(&file, "cguest_time", o.cguest_time, t.cguest_time);
    }
}

fn pid_status(d: &mut Diffs) {
    for (file, b, t) in read_by_both(d, Kind::PidStatus, "status", |b| {
        procfs_core::process::Status::from_read(Cursor::new(b)).ok()
    }) {
        let o = pid_status::parse(&b).unwrap();
        let name = o.name.map(|n| n.to_string());
        d.same_text(&file, "name", name, Some(t.name.clone()));
        d.same(&file, "umask", o.umask, t.umask);
        d.same(
            &file,
            "ids",
            [o.tgid, o.pid, o.ppid, o.tracer_pid, o.ngid],
            [
                Some(t.tgid as u64),
                Some(t.pid as u64),
                Some(t.ppid as u64),
                Some(t.tracerpid as u64),
                t.ngid.map(|v| v as u64),
            ],
        );
        d.same(
            &file,
            "uid and gid",
            [o.uid, o.gid],
            [
                Some([t.ruid, t.euid, t.suid, t.fuid]),
                Some([t.rgid, t.egid, t.sgid, t.fgid]),
            ],
        );
        d.same(
            &file,
            "memory (kB)",
            [
                o.vm_peak,
                o.vm_size,
                o.vm_lck,
                o.vm_pin,
                o.vm_hwm,
                o.vm_rss,
                o.rss_anon,
                o.rss_file,
                o.rss_shmem,
                o.vm_data,
                o.vm_stk,
                o.vm_exe,
                o.vm_lib,
                o.vm_pte,
                o.vm_swap,
            ],
            [
                t.vmpeak, t.vmsize, t.vmlck, t.vmpin, t.vmhwm, t.vmrss, t.rssanon, t.rssfile,
                t.rssshmem, t.vmdata, t.vmstk, t.vmexe, t.vmlib, t.vmpte, t.vmswap,
            ],
        );
        d.same(
            &file,
            "threads, fd size, sigq",
            [o.threads, o.fd_size, o.sigq_queued, o.sigq_limit],
            [
                Some(t.threads),
                Some(u64::from(t.fdsize)),
                Some(t.sigq.0),
                Some(t.sigq.1),
            ],
        );
        // procfs keeps the low 64 bits of each signal mask.
        d.same(
            &file,
            "signal masks",
            [o.sig_pnd, o.shd_pnd, o.sig_blk, o.sig_ign, o.sig_cgt].map(|m| m.map(|m| m as u64)),
            [t.sigpnd, t.shdpnd, t.sigblk, t.sigign, t.sigcgt].map(Some),
        );
        d.same(
            &file,
            "capabilities",
            [o.cap_inh, o.cap_prm, o.cap_eff, o.cap_bnd, o.cap_amb],
            [
                Some(t.capinh),
                Some(t.capprm),
                Some(t.capeff),
                t.capbnd,
                t.capamb,
            ],
        );
        d.same(
            &file,
            "context switches",
            [o.voluntary_ctxt_switches, o.nonvoluntary_ctxt_switches],
            [t.voluntary_ctxt_switches, t.nonvoluntary_ctxt_switches],
        );
    }
}

fn pid_statm_io(d: &mut Diffs) {
    for (file, b, t) in read_by_both(d, Kind::PidStatm, "statm", |b| {
        procfs_core::process::StatM::from_read(Cursor::new(b)).ok()
    }) {
        let o = pid_statm::parse(&b).unwrap();
        d.same(
            &file,
            "pages",
            [o.size, o.resident, o.shared, o.text, o.lib, o.data, o.dt],
            [t.size, t.resident, t.shared, t.text, t.lib, t.data, t.dt],
        );
    }
    for (file, b, t) in read_by_both(d, Kind::PidIo, "io", |b| {
        procfs_core::process::Io::from_read(Cursor::new(b)).ok()
    }) {
        let o = pid_io::parse(&b).unwrap();
        d.same(
            &file,
            "counters",
            [
                o.rchar,
                o.wchar,
                o.syscr,
                o.syscw,
                o.read_bytes,
                o.write_bytes,
                o.cancelled_write_bytes.map(|v| v as u64),
            ],
            [
                t.rchar,
                t.wchar,
                t.syscr,
                t.syscw,
                t.read_bytes,
                t.write_bytes,
                t.cancelled_write_bytes,
            ]
            .map(Some),
        );
    }
}

/// `a,b=c` as procfs splits mount options.
fn options(text: &str) -> BTreeMap<String, Option<String>> {
    text.split(',')
        .map(|o| match o.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (o.to_string(), None),
        })
        .collect()
}

fn mounts(d: &mut Diffs) {
    for (file, b, theirs) in read_by_both(d, Kind::Mountinfo, "mountinfo", |b| {
        procfs_core::process::MountInfos::from_read(Cursor::new(b)).ok()
    }) {
        let mut ours = Box::new(Table::<mountinfo::Mount<'_>, 1024>::new());
        mountinfo::parse_into(&b, &mut ours).unwrap();
        d.same(&file, "mounts", ours.len(), theirs.0.len());
        for (o, t) in ours.iter().zip(&theirs.0) {
            let at = o.mount_point.to_string();
            d.same(
                &file,
                &format!("{at} ids"),
                [o.mount_id as i64, o.parent_id as i64],
                [t.mnt_id.into(), t.pid.into()],
            );
            d.same(
                &file,
                &format!("{at} device"),
                format!("{}:{}", o.major, o.minor),
                t.majmin.clone(),
            );
            // procfs keeps the kernel's octal escapes (`\040`) in paths, where the core
            // decodes them on request: compare the bytes as printed.
            let raw = |e: &ferrostat_core::text::Escaped<'_>| {
                String::from_utf8_lossy(e.raw()).into_owned()
            };
            d.same(&file, &format!("{at} root"), raw(&o.root), t.root.clone());
            d.same(
                &file,
                &format!("{at} mount point"),
                PathBuf::from(raw(&o.mount_point)),
                t.mount_point.clone(),
            );
            d.same(
                &file,
                &format!("{at} fs type"),
                o.fs_type.to_string(),
                t.fs_type.clone(),
            );
            // procfs reads an empty source, and `none`, as no source.
            let source = o.source.to_string();
            d.same(
                &file,
                &format!("{at} source"),
                (!source.is_empty() && source != "none").then_some(source),
                t.mount_source.clone(),
            );
            d.same(
                &file,
                &format!("{at} options"),
                options(&o.mount_options.to_string()),
                t.mount_options.clone().into_iter().collect(),
            );
            d.same(
                &file,
                &format!("{at} super options"),
                options(&o.super_options.to_string()),
                t.super_options.clone().into_iter().collect(),
            );
            d.same(
                &file,
                &format!("{at} optional fields"),
                o.optional().count(),
                t.opt_fields.len(),
            );
        }
    }
    for (file, b, theirs) in read_by_both(d, Kind::Mounts, "mounts", |b| {
        Vec::<procfs_core::MountEntry>::from_read(Cursor::new(b)).ok()
    }) {
        let mut ours = Box::new(Table::<mounts::MountEntry<'_>, 1024>::new());
        mounts::parse_into(&b, &mut ours).unwrap();
        d.same(&file, "entries", ours.len(), theirs.len());
        for (o, t) in ours.iter().zip(&theirs) {
            let at = o.file.to_string();
            d.same(
                &file,
                &format!("{at} entry"),
                (
                    o.spec.to_string(),
                    at.clone(),
                    o.vfstype.to_string(),
                    options(&o.mntops.to_string()),
                    o.freq,
                    o.passno,
                ),
                (
                    t.fs_spec.clone(),
                    t.fs_file.clone(),
                    t.fs_vfstype.clone(),
                    t.fs_mntops.clone().into_iter().collect::<BTreeMap<_, _>>(),
                    u32::from(t.fs_freq),
                    u32::from(t.fs_passno),
                ),
            );
        }
    }
}

/// One `/proc/pressure/<kind>` file kind: procfs has a type per kind, each with its
/// `some` and `full` records.
fn pressure_kind<T: FromRead>(
    d: &mut Diffs,
    kind: &str,
    records: impl Fn(&T) -> [&procfs_core::PressureRecord; 2],
) {
    let ours = |s: Option<pressure::Stall>| {
        s.map(|s| (s.avg10 as f32, s.avg60 as f32, s.avg300 as f32, s.total_us))
    };
    let theirs = |r: &procfs_core::PressureRecord| Some((r.avg10, r.avg60, r.avg300, r.total));
    for (file, b, t) in read_by_both(d, Kind::Pressure, kind, |b| {
        T::from_read(Cursor::new(b)).ok()
    }) {
        let o = pressure::parse(&b).unwrap();
        let [some, full] = records(&t);
        d.same(&file, "some", ours(o.some), theirs(some));
        d.same(&file, "full", ours(o.full), theirs(full));
    }
}

fn pressure(d: &mut Diffs) {
    pressure_kind(d, "pressure/cpu", |t: &procfs_core::CpuPressure| {
        [&t.some, &t.full]
    });
    pressure_kind(d, "pressure/memory", |t: &procfs_core::MemoryPressure| {
        [&t.some, &t.full]
    });
    pressure_kind(d, "pressure/io", |t: &procfs_core::IoPressure| {
        [&t.some, &t.full]
    });
}

fn net_snmp(d: &mut Diffs) {
    for (file, b, t) in read_by_both(d, Kind::NetSnmp, "net/snmp", |b| {
        procfs_core::net::Snmp::from_read(Cursor::new(b)).ok()
    }) {
        let ours: HashMap<String, i64> = net_snmp::records(&b)
            .map(|r| {
                let c = r.unwrap();
                (format!("{}.{}", c.section, c.name), c.value)
            })
            .collect();
        let get = |k: &str| ours.get(k).copied();
        let pairs: [(&str, i64); 16] = [
            ("Ip.DefaultTTL", t.ip_default_ttl.into()),
            ("Ip.InReceives", t.ip_in_receives as i64),
            ("Ip.InDelivers", t.ip_in_delivers as i64),
            ("Ip.OutRequests", t.ip_out_requests as i64),
            ("Icmp.InMsgs", t.icmp_in_msgs as i64),
            ("Icmp.OutMsgs", t.icmp_out_msgs as i64),
            ("Tcp.ActiveOpens", t.tcp_active_opens as i64),
            ("Tcp.PassiveOpens", t.tcp_passive_opens as i64),
            ("Tcp.CurrEstab", t.tcp_curr_estab as i64),
            ("Tcp.InSegs", t.tcp_in_segs as i64),
            ("Tcp.OutSegs", t.tcp_out_segs as i64),
            ("Tcp.RetransSegs", t.tcp_retrans_segs as i64),
            ("Tcp.MaxConn", t.tcp_max_conn),
            ("Udp.InDatagrams", t.udp_in_datagrams as i64),
            ("Udp.OutDatagrams", t.udp_out_datagrams as i64),
            ("Udp.InErrors", t.udp_in_errors as i64),
        ];
        for (key, value) in pairs {
            d.same(&file, key, get(key), Some(value));
        }
    }
}

fn vmstat(d: &mut Diffs) {
    for (file, b, t) in read_by_both(d, Kind::Vmstat, "vmstat", |b| {
        procfs_core::VmStat::from_read(Cursor::new(b)).ok()
    }) {
        let ours: BTreeMap<String, i64> = vmstat::records(&b)
            .map(|r| {
                let c = r.unwrap();
                (c.name.to_string(), c.value as i64)
            })
            .collect();
        d.same(&file, "counters", ours, t.0.clone().into_iter().collect());
    }
}

/// Differences where procfs is the one that is wrong, with the reason.
const KNOWN: &[&str] = &[
    // prometheus/procfs's fixture line `1 1 0:5 /  /root rw,nosuid shared:8 - ...` has two
    // spaces after the root. procfs splits at every space: an empty mount point, with
    // `/root` for its options. No field before the `-` is ever empty, so the core, as
    // libmount and prometheus/procfs do, reads one separator: `/root`, `rw,nosuid`.
    "node_exporter/proc/10/mountinfo: /root mount point: \"/root\" != \"\"",
    "node_exporter/proc/10/mountinfo: /root options: {\"nosuid\": None, \"rw\": None} != {\"/root\": None}",
    "prometheus-procfs/proc/26231/mountinfo: /root mount point: \"/root\" != \"\"",
    "prometheus-procfs/proc/26231/mountinfo: /root options: {\"nosuid\": None, \"rw\": None} != {\"/root\": None}",
];

/// The corpus's texts with a colon, which procfs cuts there: a cpuinfo model and a
/// thread named `disk_cache:0`.
const CUT_AT_COLON: &[&str] = &[
    "gopsutil/cpu-1958/proc/cpuinfo: cpu 0 model: Some(\"Hygon C86-4G (OPN:5435)\") != Some(\"Hygon C86-4G (OPN\")",
    "sysstat/root4/proc/8741/task/8785/status: name: Some(\"disk_cache:0\") != Some(\"disk_cache\")",
    "sysstat/root5/proc/8741/task/8785/status: name: Some(\"disk_cache:0\") != Some(\"disk_cache\")",
    "sysstat/root6/proc/8741/task/8785/status: name: Some(\"disk_cache:0\") != Some(\"disk_cache\")",
    "sysstat/root7/proc/8741/task/8785/status: name: Some(\"disk_cache:0\") != Some(\"disk_cache\")",
];

/// How many files of each kind procfs accepts, and so are compared. procfs returns an
/// error for the rest (among them pressure/cpu without a `full` line, net/snmp without
/// `Udp: IgnoredMulti`, MIPS64's 128-bit signal masks in pid/status, the empty stat),
/// and for cpuinfo those it leaves out number their CPUs without `processor` lines.
const FILES: &[(&str, usize)] = &[
    ("<pid>/io", 109),
    ("<pid>/stat", 125),
    ("<pid>/statm", 3),
    ("<pid>/status", 115),
    ("cpuinfo", 53),
    ("diskstats", 11),
    ("loadavg", 10),
    ("meminfo", 11),
    ("mountinfo", 16),
    ("mounts", 3),
    ("net/dev", 11),
    ("net/snmp", 11),
    ("pressure/cpu", 2),
    ("pressure/io", 8),
    ("pressure/memory", 8),
    ("stat", 12),
    ("uptime", 10),
    ("vmstat", 9),
];

/// Every comparison, over the files under `root`.
fn compare_all(root: impl Into<PathBuf>) -> Diffs {
    let mut d = Diffs::new(root);
    stat(&mut d);
    meminfo(&mut d);
    loadavg_uptime(&mut d);
    net_dev(&mut d);
    diskstats(&mut d);
    cpuinfo(&mut d);
    pid_stat(&mut d);
    pid_status(&mut d);
    pid_statm_io(&mut d);
    mounts(&mut d);
    pressure(&mut d);
    net_snmp(&mut d);
    vmstat(&mut d);
    for f in d.found.iter().chain(&d.cut_at_colon) {
        println!("{f}");
    }
    println!("{} values compared over {:?}", d.compared, d.files);
    d
}

fn set(texts: &[&str]) -> BTreeSet<String> {
    texts.iter().map(|s| s.to_string()).collect()
}

#[test]
fn ferrostat_and_procfs_agree_on_the_corpus() {
    let d = compare_all(common::corpus_root());
    assert_eq!(d.found, set(KNOWN));
    assert_eq!(d.cut_at_colon, set(CUT_AT_COLON));
    let files: Vec<(&str, usize)> = d.files.iter().map(|(k, n)| (k.as_str(), *n)).collect();
    let mut want = FILES.to_vec();
    want.sort();
    assert_eq!(files, want);
}

/// This machine's /proc, each file read once into a directory of the same layout so both
/// parsers read the same bytes: the system files and every process's stat, status, statm
/// and io (those this user may read; processes that exit meanwhile are skipped).
#[test]
fn ferrostat_and_procfs_agree_on_live_proc() {
    let snapshot = std::env::temp_dir().join(format!("ferrostat-live-proc-{}", std::process::id()));
    let proc_dir = snapshot.join("proc");
    let copy = |rel: &str| {
        if let Ok(bytes) = std::fs::read(Path::new("/proc").join(rel)) {
            let to = proc_dir.join(rel);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::write(to, bytes).unwrap();
        }
    };
    for rel in [
        "stat",
        "meminfo",
        "loadavg",
        "uptime",
        "net/dev",
        "diskstats",
        "cpuinfo",
        "mounts",
        "pressure/cpu",
        "pressure/memory",
        "pressure/io",
        "net/snmp",
        "vmstat",
        "self/mountinfo",
    ] {
        copy(rel);
    }
    for entry in std::fs::read_dir("/proc").unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.chars().all(|c| c.is_ascii_digit()) {
            for file in ["stat", "status", "statm", "io"] {
                copy(&format!("{name}/{file}"));
            }
        }
    }
    let d = compare_all(&proc_dir);
    std::fs::remove_dir_all(&snapshot).unwrap();
    // Kernel threads' names often have a colon (`kworker/0:1`); procfs cuts those.
    assert_eq!(d.found, BTreeSet::new());
    for kind in [
        "stat",
        "meminfo",
        "loadavg",
        "uptime",
        "net/dev",
        "cpuinfo",
        "mounts",
        "vmstat",
        "net/snmp",
        "mountinfo",
        "<pid>/stat",
        "<pid>/status",
        "<pid>/statm",
        "<pid>/io",
    ] {
        assert!(
            d.files.get(kind).is_some_and(|&n| n > 0),
            "{kind}: {:?}",
            d.files
        );
    }
    // Every process that stayed through the snapshot, not a handful.
    assert!(d.files["<pid>/stat"] >= 3, "{:?}", d.files);
}

/// The synthetic 256-CPU /proc/stat files the benchmarks time, both of whose CPU lines
/// the core reads 16 bytes at a time on x86-64 (fields of up to 8 digits, and of up to
/// 16 on the machine up for 100 days): the same values as procfs's, CPU by CPU.
#[test]
fn ferrostat_and_procfs_agree_on_the_synthetic_stat_files() {
    for (name, bytes) in [
        ("256cpu", ferrostat_benches::synthetic_stat_256()),
        (
            "256cpu_100days",
            ferrostat_benches::synthetic_stat_256_long_uptime(),
        ),
    ] {
        let snapshot =
            std::env::temp_dir().join(format!("ferrostat-{name}-{}", std::process::id()));
        let proc_dir = snapshot.join("proc");
        std::fs::create_dir_all(&proc_dir).unwrap();
        std::fs::write(proc_dir.join("stat"), bytes).unwrap();
        let d = compare_all(&proc_dir);
        std::fs::remove_dir_all(&snapshot).unwrap();
        assert_eq!(d.found, BTreeSet::new(), "{name}");
        assert_eq!(d.files.get("stat"), Some(&1), "{name}");
        // The total line, the count of CPU lines and each of the 256 (ten columns a
        // comparison), and the five counters.
        assert_eq!(d.compared, 1 + 1 + 256 + 5, "{name}");
    }
}
