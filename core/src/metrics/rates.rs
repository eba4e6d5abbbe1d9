//! Derived metrics: pure functions over two snapshots of monotonic counters.

use super::host::{CoreCounters, CpuCounters, DiskSample, InterfaceSample};

/// How wide a counter is, which decides what a backwards step means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CounterWidth {
    /// Wraps at 2^32 (32-bit kernels' `unsigned long`, sFlow's 32-bit counters).
    Bits32,
    /// Wraps at 2^64: a backwards step is taken as a reset (interface re-created,
    /// host rebooted), as Prometheus does, since a real 64-bit wrap takes centuries.
    Bits64,
}

/// Increase of a counter from `prev` to `cur`, with wrap handled for its width.
///
/// ```
/// use ferrostat_core::metrics::rates::{counter_delta, CounterWidth};
/// assert_eq!(counter_delta(4_294_967_000, 200, CounterWidth::Bits32), 496);
/// assert_eq!(counter_delta(1_000, 200, CounterWidth::Bits64), 200); // reset
/// ```
pub fn counter_delta(prev: u64, cur: u64, width: CounterWidth) -> u64 {
    if cur >= prev {
        return cur - prev;
    }
    match width {
        CounterWidth::Bits32 if prev <= u32::MAX as u64 => (u32::MAX as u64 - prev) + cur + 1,
        _ => cur,
    }
}

/// Per-second rate of a counter over `elapsed_ms`; 0 when no time elapsed.
pub fn rate_per_sec(prev: u64, cur: u64, width: CounterWidth, elapsed_ms: u64) -> f64 {
    if elapsed_ms == 0 {
        return 0.0;
    }
    counter_delta(prev, cur, width) as f64 * 1000.0 / elapsed_ms as f64
}

/// Share of CPU time (0.0 to 1.0) in each state between two samples.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CpuShares {
    /// User (including guest).
    pub user: f32,
    /// Niced user.
    pub nice: f32,
    /// System.
    pub system: f32,
    /// Idle.
    pub idle: f32,
    /// Waiting for I/O.
    pub iowait: f32,
    /// Hard interrupts.
    pub irq: f32,
    /// Soft interrupts.
    pub softirq: f32,
    /// Stolen by the hypervisor.
    pub steal: f32,
    /// Everything but idle and iowait.
    pub busy: f32,
}

/// CPU utilisation between two samples of the same CPU; `None` when no time passed
/// (or the counters went backwards, as after a reboot).
///
/// ```
/// use ferrostat_core::metrics::{rates::cpu_shares, CpuCounters};
/// let a = CpuCounters { user_ms: 1000, idle_ms: 3000, ..Default::default() };
/// let b = CpuCounters { user_ms: 1300, idle_ms: 3700, ..Default::default() };
/// let s = cpu_shares(&a, &b).unwrap();
/// assert_eq!((s.user, s.idle, s.busy), (0.3, 0.7, 0.3));
/// ```
pub fn cpu_shares(prev: &CpuCounters, cur: &CpuCounters) -> Option<CpuShares> {
    let total = cur.total_ms().checked_sub(prev.total_ms())?;
    if total == 0 {
        return None;
    }
    let share = |p: u64, c: u64| (c.saturating_sub(p) as f64 / total as f64) as f32;
    let idle = share(prev.idle_ms, cur.idle_ms);
    let iowait = share(prev.iowait_ms, cur.iowait_ms);
    Some(CpuShares {
        user: share(prev.user_ms, cur.user_ms),
        nice: share(prev.nice_ms, cur.nice_ms),
        system: share(prev.system_ms, cur.system_ms),
        idle,
        iowait,
        irq: share(prev.irq_ms, cur.irq_ms),
        softirq: share(prev.softirq_ms, cur.softirq_ms),
        steal: share(prev.steal_ms, cur.steal_ms),
        busy: (1.0 - idle - iowait).max(0.0),
    })
}

/// Each CPU of `cur` with its shares since `prev`, matched by kernel id; a CPU that came
/// online in between (or whose counters went backwards) has `None`.
///
/// ```
/// use ferrostat_core::metrics::{rates::per_cpu_shares, CoreCounters, CpuCounters};
/// let at = |user_ms, idle_ms| CpuCounters { user_ms, idle_ms, ..Default::default() };
/// let prev = [CoreCounters { id: 0, counters: at(100, 900) }];
/// let cur = [
///     CoreCounters { id: 0, counters: at(350, 1650) },
///     CoreCounters { id: 2, counters: at(10, 10) },
/// ];
/// let shares: Vec<_> = per_cpu_shares(&prev, &cur).map(|(id, s)| (id, s.map(|s| s.busy))).collect();
/// assert_eq!(shares, [(0, Some(0.25)), (2, None)]);
/// ```
pub fn per_cpu_shares<'a>(
    prev: &'a [CoreCounters],
    cur: &'a [CoreCounters],
) -> impl Iterator<Item = (u32, Option<CpuShares>)> + 'a {
    cur.iter().enumerate().map(move |(i, c)| {
        // The same position holds the same CPU unless one went on or offline in between.
        let before = match prev.get(i) {
            Some(p) if p.id == c.id => Some(p),
            _ => prev.iter().find(|p| p.id == c.id),
        };
        (
            c.id,
            before.and_then(|p| cpu_shares(&p.counters, &c.counters)),
        )
    })
}

/// A process's CPU use between two readings of its `utime + stime` (clock ticks), as a
/// share of one CPU (1.0 = one core busy; can exceed 1 for multi-threaded processes),
/// the way top and psutil report it.
///
/// ```
/// use ferrostat_core::metrics::rates::process_cpu_share;
/// assert_eq!(process_cpu_share(100, 150, 100, 1000), 0.5); // 50 ticks at 100 Hz over 1 s
/// ```
pub fn process_cpu_share(
    prev_ticks: u64,
    cur_ticks: u64,
    ticks_per_sec: u64,
    elapsed_ms: u64,
) -> f64 {
    if elapsed_ms == 0 || ticks_per_sec == 0 {
        return 0.0;
    }
    let ticks = cur_ticks.saturating_sub(prev_ticks) as f64;
    ticks * 1000.0 / (ticks_per_sec as f64 * elapsed_ms as f64)
}

/// Per-second rates of one interface.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct InterfaceRates {
    /// Received bytes per second.
    pub rx_bytes_per_sec: f64,
    /// Transmitted bytes per second.
    pub tx_bytes_per_sec: f64,
    /// Received packets per second.
    pub rx_packets_per_sec: f64,
    /// Transmitted packets per second.
    pub tx_packets_per_sec: f64,
    /// Receive plus transmit errors per second.
    pub errors_per_sec: f64,
    /// Receive plus transmit drops per second.
    pub drops_per_sec: f64,
}

/// Rates of an interface between two samples.
pub fn interface_rates(
    prev: &InterfaceSample,
    cur: &InterfaceSample,
    width: CounterWidth,
    elapsed_ms: u64,
) -> InterfaceRates {
    let r = |p, c| rate_per_sec(p, c, width, elapsed_ms);
    InterfaceRates {
        rx_bytes_per_sec: r(prev.rx_bytes, cur.rx_bytes),
        tx_bytes_per_sec: r(prev.tx_bytes, cur.tx_bytes),
        rx_packets_per_sec: r(prev.rx_packets, cur.rx_packets),
        tx_packets_per_sec: r(prev.tx_packets, cur.tx_packets),
        errors_per_sec: r(prev.rx_errors, cur.rx_errors) + r(prev.tx_errors, cur.tx_errors),
        drops_per_sec: r(prev.rx_drops, cur.rx_drops) + r(prev.tx_drops, cur.tx_drops),
    }
}

/// Throughput and utilisation of one disk.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DiskRates {
    /// Bytes read per second.
    pub read_bytes_per_sec: f64,
    /// Bytes written per second.
    pub write_bytes_per_sec: f64,
    /// Reads completed per second.
    pub reads_per_sec: f64,
    /// Writes completed per second.
    pub writes_per_sec: f64,
    /// Share of the interval the device was busy (0.0 to 1.0): iostat's `%util` / 100.
    pub utilisation: f64,
}

/// Rates of a disk between two samples (counters are 64-bit on current kernels; 32-bit
/// kernels wrap `unsigned long` counters, so pass the width).
///
/// ```
/// use ferrostat_core::metrics::{rates::{disk_rates, CounterWidth}, DiskSample};
/// let a = DiskSample { read_bytes: 0, io_time_ms: 100, ..Default::default() };
/// let b = DiskSample { read_bytes: 1 << 20, io_time_ms: 350, ..Default::default() };
/// let r = disk_rates(&a, &b, CounterWidth::Bits64, 1000);
/// assert_eq!((r.read_bytes_per_sec, r.utilisation), (1048576.0, 0.25));
/// ```
pub fn disk_rates(
    prev: &DiskSample,
    cur: &DiskSample,
    width: CounterWidth,
    elapsed_ms: u64,
) -> DiskRates {
    let r = |p, c| rate_per_sec(p, c, width, elapsed_ms);
    let busy = counter_delta(prev.io_time_ms, cur.io_time_ms, width) as f64;
    DiskRates {
        read_bytes_per_sec: r(prev.read_bytes, cur.read_bytes),
        write_bytes_per_sec: r(prev.write_bytes, cur.write_bytes),
        reads_per_sec: r(prev.reads, cur.reads),
        writes_per_sec: r(prev.writes, cur.writes),
        utilisation: if elapsed_ms == 0 {
            0.0
        } else {
            (busy / elapsed_ms as f64).min(1.0)
        },
    }
}
