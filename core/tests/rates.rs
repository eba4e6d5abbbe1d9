//! Derived metrics over two real snapshots: live /proc around a busy loop, and corpus
//! files of one host taken at two moments.

mod common;

use common::*;
use ferrostat_core::metrics::rates::*;
use ferrostat_core::metrics::{CpuCounters, HostSample};
use ferrostat_core::procfs::*;
use ferrostat_core::Table;

fn clock_ticks() -> u64 {
    (unsafe { libc::sysconf(libc::_SC_CLK_TCK) }) as u64
}

fn thread_cpu_ms() -> u64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) },
        0
    );
    let ms = |tv: libc::timeval| tv.tv_sec as u64 * 1000 + tv.tv_usec as u64 / 1000;
    ms(usage.ru_utime) + ms(usage.ru_stime)
}

#[test]
fn live_cpu_and_process_shares_around_a_busy_loop() {
    // The oracle is getrusage(RUSAGE_THREAD) over the same interval, not the wall clock:
    // the thread gets whatever CPU the machine gives it, and both sides must agree.
    let read_stat = || {
        let mut s = stat::Stat::<1024>::default();
        stat::parse_into(&std::fs::read("/proc/stat").unwrap(), &mut s).unwrap();
        s
    };
    let thread_ticks = || {
        pid_stat::parse(&std::fs::read("/proc/thread-self/stat").unwrap())
            .unwrap()
            .cpu_ticks()
    };
    let hz = clock_ticks();
    let (a, ta, ra, t0) = (
        read_stat(),
        thread_ticks(),
        thread_cpu_ms(),
        std::time::Instant::now(),
    );
    let mut x = 1u64;
    while t0.elapsed().as_millis() < 500 {
        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
    }
    let (b, tb, rb, elapsed) = (
        read_stat(),
        thread_ticks(),
        thread_cpu_ms(),
        t0.elapsed().as_millis() as u64,
    );

    let (ca, cb) = (
        CpuCounters::from_ticks(&a.total, hz),
        CpuCounters::from_ticks(&b.total, hz),
    );
    let shares = cpu_shares(&ca, &cb).unwrap();
    let sum = shares.user
        + shares.nice
        + shares.system
        + shares.idle
        + shares.iowait
        + shares.irq
        + shares.softirq
        + shares.steal;
    assert!((sum - 1.0).abs() < 0.01, "shares add up to {sum}");
    // The machine was at least as busy as this thread alone (one tick of slack per CPU).
    let busy_ms = shares.busy as f64 * (cb.total_ms() - ca.total_ms()) as f64;
    let thread_ms = (rb - ra) as f64;
    let slack = (1000 / hz * b.cpus.len() as u64) as f64 * 2.0;
    assert!(
        busy_ms + slack >= thread_ms,
        "machine busy {busy_ms} ms < thread {thread_ms} ms"
    );

    // The thread's share from /proc jiffies matches getrusage to within two ticks.
    let share = process_cpu_share(ta, tb, hz, elapsed);
    let oracle = thread_ms / elapsed as f64;
    let tick = 2.0 * 1000.0 / hz as f64 / elapsed as f64;
    assert!(
        (share - oracle).abs() <= tick + 0.01,
        "jiffies say {share}, getrusage {oracle}"
    );
    assert!(share > 0.0);
}

#[test]
fn counter_wrap_and_reset() {
    assert_eq!(
        counter_delta(u32::MAX as u64 - 9, 10, CounterWidth::Bits32),
        20
    );
    assert_eq!(counter_delta(10, 30, CounterWidth::Bits32), 20);
    // A 64-bit counter going back is a reset: the new value is the increase.
    assert_eq!(counter_delta(5_000_000_000, 40, CounterWidth::Bits64), 40);
    assert_eq!(rate_per_sec(0, 1_000, CounterWidth::Bits64, 500), 2_000.0);
    assert_eq!(rate_per_sec(0, 1_000, CounterWidth::Bits64, 0), 0.0);
}

#[test]
fn rates_between_two_corpus_snapshots_of_one_host() {
    // sysstat's root1 and root2 are the same host a few seconds apart.
    let load = |root: &str| {
        let mut s = Box::<HostSample<16, 16, 16>>::default();
        let dev = read_static(&format!("{root}/net/dev"));
        let mut nics = Table::<_, 16>::new();
        net_dev::parse_into(dev, &mut nics).unwrap();
        s.set_interfaces(&nics);
        let disks = read_static(&format!("{root}/diskstats"));
        let mut t = Table::<_, 64>::new();
        diskstats::parse_into(disks, &mut t).unwrap();
        s.set_disks(&t);
        let mut st = stat::Stat::<16>::default();
        stat::parse_into(&read(&format!("{root}/stat")), &mut st).unwrap();
        s.set_cpu(&st, 100);
        s
    };
    let (a, b) = (load("sysstat/root1/proc"), load("sysstat/root2/proc"));
    let shares = cpu_shares(&a.cpu, &b.cpu).unwrap();
    assert!(shares.busy > 0.0 && shares.busy < 1.0);
    let per_core: Vec<_> = a
        .cpus
        .iter()
        .zip(b.cpus.iter())
        .map(|(p, c)| {
            assert_eq!(p.id, c.id);
            cpu_shares(&p.counters, &c.counters)
        })
        .collect();
    assert_eq!(per_core.len(), 8);

    let (ia, ib) = (
        a.interfaces.iter().find(|i| i.name == "eth0"),
        b.interfaces.iter().find(|i| i.name == "eth0"),
    );
    if let (Some(ia), Some(ib)) = (ia, ib) {
        let r = interface_rates(ia, ib, CounterWidth::Bits64, 1000);
        assert_eq!(r.rx_bytes_per_sec, (ib.rx_bytes - ia.rx_bytes) as f64);
    }
    let (da, db) = (&a.disks.as_slice()[0], &b.disks.as_slice()[0]);
    assert_eq!(da.name, db.name);
    let r = disk_rates(da, db, CounterWidth::Bits64, 1000);
    assert!((0.0..=1.0).contains(&r.utilisation));
    assert_eq!(r.read_bytes_per_sec, (db.read_bytes - da.read_bytes) as f64);
}
