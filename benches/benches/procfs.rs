//! ferrostat-core's /proc parsers against the `procfs` crate (procfs-core 0.18, what a
//! Rust user would pick instead), on the same real corpus bytes in the same run.
//! `cargo bench -p ferrostat-benches`, then `python3 scripts/bench-table.py` for the table.

use std::hint::black_box;
use std::io::Cursor;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ferrostat_benches::{procfs_system_info, synthetic_stat_256, synthetic_stat_256_long_uptime};
use ferrostat_core::procfs::*;
use ferrostat_core::Table;
use procfs_core::{FromRead, FromReadSI};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/data/proc/");

/// A corpus file, kept for the whole run so parsers can borrow it into reused tables.
fn load(rel: &str) -> (String, &'static [u8]) {
    let bytes = std::fs::read(format!("{DATA}{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    // Short labels: the corpus source and the file.
    let label = rel.replace("/proc/", ":").replace('/', "_");
    (label, bytes)
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(400))
        .measurement_time(Duration::from_millis(1200))
}

/// Benchmarks both implementations of one parser over several inputs.
fn pair(
    c: &mut Criterion,
    group: &str,
    inputs: &[(String, &'static [u8])],
    mut ours: impl FnMut(&'static [u8]) -> usize,
    mut theirs: impl FnMut(&'static [u8]) -> Option<usize>,
) {
    let mut g = c.benchmark_group(group);
    for (label, bytes) in inputs {
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_with_input(BenchmarkId::new("ferrostat", label), bytes, |b, i| {
            b.iter(|| black_box(ours(black_box(*i))))
        });
        // procfs rejects some real files (see benches/README.md); those get no peer row.
        if theirs(bytes).is_some() {
            g.bench_with_input(BenchmarkId::new("procfs", label), bytes, |b, i| {
                b.iter(|| black_box(theirs(black_box(*i))))
            });
        }
    }
    g.finish();
}

fn stat_group(c: &mut Criterion) {
    let inputs = [
        load("local/proc/stat"),
        load("prometheus-procfs/proc/stat"),
        load("sysstat/root3/proc/stat"),
        ("synthetic_256cpu".into(), synthetic_stat_256()),
        (
            "synthetic_256cpu_100days".into(),
            synthetic_stat_256_long_uptime(),
        ),
    ];
    let mut out = Box::new(stat::Stat::<1024>::default());
    let si = procfs_system_info();
    pair(
        c,
        "stat",
        &inputs,
        |i| stat::parse_into(i, &mut out).map_or(0, |s| s.parsed as usize),
        |i| {
            procfs_core::KernelStats::from_read(Cursor::new(i), &si)
                .ok()
                .map(|k| k.cpu_time.len())
        },
    );
}

fn meminfo_group(c: &mut Criterion) {
    let inputs = [
        load("local/proc/meminfo"),
        load("gopsutil/mem-virtualmemory-intelcorei5/proc/meminfo"),
    ];
    pair(
        c,
        "meminfo",
        &inputs,
        |i| meminfo::parse(i).map_or(0, |m| m.mem_total().unwrap_or(0) as usize),
        |i| {
            procfs_core::Meminfo::from_read(Cursor::new(i))
                .ok()
                .map(|m| m.mem_total as usize)
        },
    );
}

fn loadavg_uptime_group(c: &mut Criterion) {
    pair(
        c,
        "loadavg",
        &[load("local/proc/loadavg")],
        |i| loadavg::parse(i).map_or(0, |l| l.total as usize),
        |i| {
            procfs_core::LoadAverage::from_read(Cursor::new(i))
                .ok()
                .map(|l| l.max as usize)
        },
    );
    pair(
        c,
        "uptime",
        &[load("local/proc/uptime")],
        |i| uptime::parse(i).map_or(0, |u| u.uptime_secs as usize),
        |i| {
            procfs_core::Uptime::from_read(Cursor::new(i))
                .ok()
                .map(|u| u.uptime as usize)
        },
    );
}

fn net_dev_group(c: &mut Criterion) {
    let inputs = [
        load("local/proc/net/dev"),
        load("sysstat/root6/proc/net/dev"),
    ];
    let mut nics = Box::new(Table::<net_dev::Interface<'static>, 64>::new());
    pair(
        c,
        "net_dev",
        &inputs,
        |i| net_dev::parse_into(i, &mut nics).map_or(0, |s| s.parsed as usize),
        |i| {
            procfs_core::net::InterfaceDeviceStatus::from_read(Cursor::new(i))
                .ok()
                .map(|d| d.0.len())
        },
    );
}

fn diskstats_group(c: &mut Criterion) {
    let inputs = [
        load("local/proc/diskstats"),
        load("node_exporter/proc/diskstats"),
    ];
    let mut disks = Box::new(Table::<diskstats::Disk<'static>, 256>::new());
    pair(
        c,
        "diskstats",
        &inputs,
        |i| diskstats::parse_into(i, &mut disks).map_or(0, |s| s.parsed as usize),
        |i| {
            procfs_core::DiskStats::from_read(Cursor::new(i))
                .ok()
                .map(|d| d.0.len())
        },
    );
}

fn cpuinfo_group(c: &mut Criterion) {
    let inputs = [
        load("local/proc/cpuinfo"),
        load("util-linux/lscpu/x86_64-epyc_7451/proc/cpuinfo"),
        load("util-linux/lscpu/arm-A510-A710-A715-X3/proc/cpuinfo"),
        load("util-linux/lscpu/ia64-512cpus/proc/cpuinfo"),
    ];
    let mut info = Box::<cpuinfo::CpuInfo<'static, 1024>>::default();
    pair(
        c,
        "cpuinfo",
        &inputs,
        // One table reused across calls, as the agent does.
        |i| cpuinfo::parse_into(i, &mut info).map_or(0, |s| s.parsed as usize),
        |i| {
            procfs_core::CpuInfo::from_read(Cursor::new(i))
                .ok()
                .map(|c| c.num_cores())
        },
    );
}

fn pid_group(c: &mut Criterion) {
    let stats = [
        load("local/proc/1/stat"),
        load("gopsutil/process/proc/68927/stat"),
    ];
    pair(
        c,
        "pid_stat",
        &stats,
        |i| pid_stat::parse(i).map_or(0, |s| s.utime as usize),
        |i| {
            procfs_core::process::Stat::from_read(Cursor::new(i))
                .ok()
                .map(|s| s.utime as usize)
        },
    );
    let statuses = [
        load("local/proc/1/status"),
        load("prometheus-procfs/proc/26231/status"),
        load("gopsutil/process/proc/1060/status"),
    ];
    pair(
        c,
        "pid_status",
        &statuses,
        |i| pid_status::parse(i).map_or(0, |s| s.vm_rss.unwrap_or(0) as usize),
        |i| {
            procfs_core::process::Status::from_read(Cursor::new(i))
                .ok()
                .map(|s| s.vmrss.unwrap_or(0) as usize)
        },
    );
    pair(
        c,
        "pid_statm",
        &[load("local/proc/1/statm")],
        |i| pid_statm::parse(i).map_or(0, |s| s.resident as usize),
        |i| {
            procfs_core::process::StatM::from_read(Cursor::new(i))
                .ok()
                .map(|s| s.resident as usize)
        },
    );
    pair(
        c,
        "pid_io",
        &[load("local/proc/2343/io")],
        |i| pid_io::parse(i).map_or(0, |s| s.rchar.unwrap_or(0) as usize),
        |i| {
            procfs_core::process::Io::from_read(Cursor::new(i))
                .ok()
                .map(|s| s.rchar as usize)
        },
    );
}

fn mounts_group(c: &mut Criterion) {
    let inputs = [
        load("local/proc/1/mountinfo"),
        load("node_exporter/proc/1/mountinfo"),
    ];
    let mut table = Box::new(Table::<mountinfo::Mount<'static>, 256>::new());
    pair(
        c,
        "mountinfo",
        &inputs,
        |i| mountinfo::parse_into(i, &mut table).map_or(0, |s| s.parsed as usize),
        |i| {
            procfs_core::process::MountInfos::from_read(Cursor::new(i))
                .ok()
                .map(|m| m.0.len())
        },
    );
    let mut entries = Box::new(Table::<mounts::MountEntry<'static>, 256>::new());
    pair(
        c,
        "mounts",
        &[load("local/proc/mounts")],
        |i| mounts::parse_into(i, &mut entries).map_or(0, |s| s.parsed as usize),
        |i| {
            Vec::<procfs_core::MountEntry>::from_read(Cursor::new(i))
                .ok()
                .map(|m| m.len())
        },
    );
}

fn misc_group(c: &mut Criterion) {
    pair(
        c,
        "pressure",
        &[load("local/proc/pressure/memory")],
        |i| pressure::parse(i).map_or(0, |p| p.some.map_or(0, |s| s.total_us as usize)),
        |i| {
            procfs_core::MemoryPressure::from_read(Cursor::new(i))
                .ok()
                .map(|p| p.some.total as usize)
        },
    );
    pair(
        c,
        "net_snmp",
        &[
            load("local/proc/net/snmp"),
            load("eminence-procfs/snmp_debian_6.8.12/proc/net/snmp"),
        ],
        |i| net_snmp::parse(i).map_or(0, |s| s.Tcp.in_segs.unwrap_or(0) as usize),
        |i| {
            procfs_core::net::Snmp::from_read(Cursor::new(i))
                .ok()
                .map(|s| s.tcp_in_segs as usize)
        },
    );
    pair(
        c,
        "vmstat",
        &[load("local/proc/vmstat"), load("node_exporter/proc/vmstat")],
        |i| vmstat::parse(i).map_or(0, |v| v.pgfault().unwrap_or(0) as usize),
        |i| {
            procfs_core::VmStat::from_read(Cursor::new(i))
                .ok()
                .map(|v| v.0.len())
        },
    );
}

criterion_group! {
    name = benches;
    config = config();
    targets = stat_group, meminfo_group, loadavg_uptime_group, net_dev_group, diskstats_group,
        cpuinfo_group, pid_group, mounts_group, misc_group
}
criterion_main!(benches);
