//! Inputs shared by the benchmarks in `benches/` and the examples in `examples/`.

/// A 256-CPU /proc/stat in the current kernel's format, made from a real line shape, with
/// a 1024-entry `intr` line. Leaked, so parsers can borrow it into tables reused for the
/// whole run.
pub fn synthetic_stat_256() -> &'static [u8] {
    stat_256(
        "cpu  10132153 290696 3084719 46828483 16683 0 25195 0 175628 0",
        |i| {
            [
                1393280 + i * 7,
                32966 + i,
                572056 + i * 3,
                13343292 + i * 11,
                6130 + i,
                17875 + i,
                269 + i,
            ]
        },
        "ctxt 115315\nbtime 769041601\nprocesses 86031\n",
    )
}

/// The same 256-CPU /proc/stat as [`synthetic_stat_256`] on a machine up for about 100
/// days at 100 ticks a second: user and idle columns of 9 digits, a total line of 11 and
/// 12. Each CPU line still fits the 64 bytes the SSE2 reader takes in one go, through its
/// path for fields of more than 8 digits.
pub fn synthetic_stat_256_long_uptime() -> &'static [u8] {
    stat_256(
        "cpu  30731520000 5120000 8960000000 176640000000 102400000 0 512000000 0 0 0",
        |i| {
            [
                120_045_000 + i * 7_919,
                20_000 + i,
                35_000_000 + i * 131,
                690_000_000 + i * 104_729,
                400_000 + i * 3,
                2_000_000 + i * 17,
                i % 5,
            ]
        },
        "ctxt 98765432109\nbtime 1755000000\nprocesses 45678901\n",
    )
}

/// `total`, then CPU `i`'s line of `columns(i)` (user, nice, system, idle, iowait,
/// softirq and steal; irq, guest and guest_nice 0) for 256 CPUs, a 1024-entry `intr`
/// line, `counters` and the lines every kernel prints after them. Leaked.
fn stat_256(total: &str, columns: impl Fn(usize) -> [usize; 7], counters: &str) -> &'static [u8] {
    let mut s = format!("{total}\n");
    for i in 0..256 {
        let [user, nice, system, idle, iowait, softirq, steal] = columns(i);
        s.push_str(&format!(
            "cpu{i} {user} {nice} {system} {idle} {iowait} 0 {softirq} {steal} 0 0\n"
        ));
    }
    s.push_str("intr 1462898");
    for i in 0..1024 {
        s.push_str(&format!(" {}", i % 97));
    }
    s.push_str(&format!("\n{counters}procs_running 6\nprocs_blocked 0\n"));
    s.push_str("softirq 2344 0 3 4 5 6 7 8 9 10 11\n");
    Box::leak(s.into_bytes().into_boxed_slice())
}

/// The time per call, in ns, of each of `batches` batches of `calls` calls of `f`,
/// fastest first: a slow phase of the VM lengthens some batches, not the best one.
pub fn batch_times_ns(batches: usize, calls: u32, mut f: impl FnMut()) -> Vec<f64> {
    let mut times: Vec<f64> = (0..batches)
        .map(|_| {
            let start = std::time::Instant::now();
            for _ in 0..calls {
                f();
            }
            start.elapsed().as_nanos() as f64 / f64::from(calls)
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times
}

/// The ten columns of a CPU line, in the kernel's order.
pub fn cpu_columns(t: &ferrostat_core::procfs::stat::CpuTimes) -> [u64; 10] {
    [
        t.user,
        t.nice,
        t.system,
        t.idle,
        t.iowait,
        t.irq,
        t.softirq,
        t.steal,
        t.guest,
        t.guest_nice,
    ]
}

/// The system facts procfs needs to read /proc/stat, fixed so runs compare.
pub fn procfs_system_info() -> procfs_core::ExplicitSystemInfo {
    procfs_core::ExplicitSystemInfo {
        boot_time_secs: 1_700_000_000,
        ticks_per_second: 100,
        page_size: 4096,
        is_little_endian: true,
    }
}

/// procfs parsing `input` as a whole /proc/stat (`KernelStats::from_read`).
pub fn procfs_kernel_stats(
    input: &[u8],
    si: &procfs_core::ExplicitSystemInfo,
) -> Option<procfs_core::KernelStats> {
    use procfs_core::FromReadSI;
    procfs_core::KernelStats::from_read(std::io::Cursor::new(input), si).ok()
}
