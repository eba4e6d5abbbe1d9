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

#[test]
fn live_cpu_and_process_shares_around_a_busy_loop() {
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
    let (a, ta, t0) = (read_stat(), thread_ticks(), std::time::Instant::now());
    let mut x = 1u64;
    while t0.elapsed().as_millis() < 500 {
        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
    }
    let (b, tb, elapsed) = (read_stat(), thread_ticks(), t0.elapsed().as_millis() as u64);

    let shares = cpu_shares(
        &CpuCounters::from_ticks(&a.total, hz),
        &CpuCounters::from_ticks(&b.total, hz),
    )
    .unwrap();
    let sum = shares.user
        + shares.nice
        + shares.system
        + shares.idle
        + shares.iowait
        + shares.irq
        + shares.softirq
        + shares.steal;
    assert!((sum - 1.0).abs() < 0.01, "shares add up to {sum}");
    // One of the CPUs was kept busy the whole time.
    let cpus = b.cpus.len() as f32;
    assert!(
        shares.busy >= 0.6 / cpus,
        "busy {} on {cpus} CPUs",
        shares.busy
    );

    let share = process_cpu_share(ta, tb, hz, elapsed);
    assert!(
        (0.7..=1.1).contains(&share),
        "busy thread used {share} of a CPU"
    );
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
        s.set_interfaces(nics.iter());
        let disks = read_static(&format!("{root}/diskstats"));
        let mut t = Table::<_, 64>::new();
        diskstats::parse_into(disks, &mut t).unwrap();
        s.set_disks(t.iter());
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
