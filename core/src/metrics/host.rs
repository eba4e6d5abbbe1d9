//! [`HostSample`]: one host's metrics at one instant, in fixed capacity, filled from
//! /proc by the agent or from sFlow host counters, and encoded for the wire.
//!
//! Units are fixed whatever the source: times in milliseconds, sizes in bytes, counters
//! as monotonic totals (rates come from [`super::rates`]).

use heapless::String;

use crate::procfs::meminfo::{self, Meminfo};
use crate::procfs::net_snmp::{Snmp, Tcp, Udp};
use crate::procfs::{diskstats::Disk, loadavg::Loadavg, net_dev::Interface};
use crate::procfs::{pressure::Pressure, stat::CpuTimes, stat::Stat, vmstat::Vmstat};
use crate::table::Table;

/// CPU time per state, milliseconds since boot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CpuCounters {
    /// User.
    pub user_ms: u64,
    /// Niced user.
    pub nice_ms: u64,
    /// System.
    pub system_ms: u64,
    /// Idle.
    pub idle_ms: u64,
    /// Waiting for I/O.
    pub iowait_ms: u64,
    /// Interrupts.
    pub irq_ms: u64,
    /// Soft interrupts.
    pub softirq_ms: u64,
    /// Stolen.
    pub steal_ms: u64,
    /// Guest (already inside user).
    pub guest_ms: u64,
    /// Niced guest (already inside nice).
    pub guest_nice_ms: u64,
}

impl CpuCounters {
    /// Converts /proc/stat ticks with the machine's `USER_HZ` (`sysconf(_SC_CLK_TCK)`).
    pub fn from_ticks(t: &CpuTimes, ticks_per_sec: u64) -> Self {
        let ms = |ticks: u64| {
            if ticks_per_sec == 0 {
                0
            } else {
                ((ticks as u128 * 1000) / ticks_per_sec as u128) as u64
            }
        };
        CpuCounters {
            user_ms: ms(t.user),
            nice_ms: ms(t.nice),
            system_ms: ms(t.system),
            idle_ms: ms(t.idle),
            iowait_ms: ms(t.iowait),
            irq_ms: ms(t.irq),
            softirq_ms: ms(t.softirq),
            steal_ms: ms(t.steal),
            guest_ms: ms(t.guest),
            guest_nice_ms: ms(t.guest_nice),
        }
    }

    /// Back to clock ticks at `ticks_per_sec`: the inverse of [`CpuCounters::from_ticks`]
    /// (exact where the rate divides 1000, as the usual 100, 250 and 1000 Hz do).
    ///
    /// ```
    /// use ferrostat_core::metrics::CpuCounters;
    /// use ferrostat_core::procfs::stat::CpuTimes;
    /// let t = CpuTimes { user: 13575, idle: 7, columns: 10, ..Default::default() };
    /// assert_eq!(CpuCounters::from_ticks(&t, 100).to_ticks(100), t);
    /// ```
    pub fn to_ticks(&self, ticks_per_sec: u64) -> CpuTimes {
        let ticks = |ms: u64| ((ms as u128 * ticks_per_sec as u128) / 1000) as u64;
        CpuTimes {
            user: ticks(self.user_ms),
            nice: ticks(self.nice_ms),
            system: ticks(self.system_ms),
            idle: ticks(self.idle_ms),
            iowait: ticks(self.iowait_ms),
            irq: ticks(self.irq_ms),
            softirq: ticks(self.softirq_ms),
            steal: ticks(self.steal_ms),
            guest: ticks(self.guest_ms),
            guest_nice: ticks(self.guest_nice_ms),
            // What the counters can say: every column a current kernel prints.
            columns: 10,
        }
    }

    /// All accounted time (guest is inside user and nice, so not added).
    pub fn total_ms(&self) -> u64 {
        self.user_ms
            .saturating_add(self.nice_ms)
            .saturating_add(self.system_ms)
            .saturating_add(self.idle_ms)
            .saturating_add(self.iowait_ms)
            .saturating_add(self.irq_ms)
            .saturating_add(self.softirq_ms)
            .saturating_add(self.steal_ms)
    }
}

/// One CPU's counters with its kernel id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CoreCounters {
    /// Kernel CPU id (ids can have gaps).
    pub id: u32,
    /// Its counters.
    pub counters: CpuCounters,
}

/// The scheduler's counters of `/proc/stat` besides the CPU lines; `None` where the
/// kernel (or the source) did not give one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct KernelCounters {
    /// Boot time, seconds since the Unix epoch (`btime`).
    pub boot_time_secs: Option<u64>,
    /// Context switches since boot (`ctxt`).
    pub context_switches: Option<u64>,
    /// Processes and threads created since boot (`processes`).
    pub forks: Option<u64>,
    /// Interrupts serviced since boot (first number of `intr`).
    pub interrupts: Option<u64>,
    /// Runnable threads (`procs_running`).
    pub procs_running: Option<u64>,
    /// Threads blocked on I/O (`procs_blocked`).
    pub procs_blocked: Option<u64>,
}

/// Kernel tables and pools with a size (`/proc/sys/fs/file-nr`,
/// `/proc/sys/kernel/random/{entropy_avail,poolsize}`); `None` where not read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct KernelLimits {
    /// File handles allocated.
    pub file_handles: Option<u64>,
    /// File handles the kernel will allocate at most (`fs.file-max`).
    pub file_handles_max: Option<u64>,
    /// Bits of entropy in the input pool.
    pub entropy_bits: Option<u64>,
    /// The input pool's size in bits.
    pub entropy_pool_bits: Option<u64>,
}

/// One named counter of a file that lists many (`/proc/vmstat`), for exporters that
/// serve the file's counters by name; see [`CounterFields`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CounterField {
    /// The counter's name as printed.
    pub name: String<48>,
    /// Its value.
    pub value: u64,
}

/// Every counter of such a file, in its order; what did not fit is counted.
pub type CounterFields<const N: usize> = Table<CounterField, N>;

/// Adds one `/proc/vmstat` counter to `fields` (a name over 48 bytes counts as dropped).
pub fn push_counter_field<const N: usize>(fields: &mut CounterFields<N>, name: &[u8], value: u64) {
    match fixed_name(name) {
        Some(name) => {
            fields.push(CounterField { name, value });
        }
        None => fields.push_dropped(),
    }
}

/// Load averages.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LoadSample {
    /// 1 minute.
    pub one: f32,
    /// 5 minutes.
    pub five: f32,
    /// 15 minutes.
    pub fifteen: f32,
    /// Runnable scheduling entities.
    pub running: u32,
    /// All scheduling entities.
    pub total: u32,
    /// The pid last handed out (0 where the source does not say: sFlow).
    pub last_pid: u32,
}

impl LoadSample {
    /// The 1, 5 and 15 minute averages as the kernel printed them, to two decimals
    /// (`fs/proc/loadavg.c`), undoing the `f32` rounding.
    ///
    /// ```
    /// use ferrostat_core::metrics::LoadSample;
    /// let l = LoadSample { one: 4.04, five: 2.0, fifteen: 0.82, ..Default::default() };
    /// assert_eq!(l.averages(), [4.04, 2.0, 0.82]);
    /// ```
    pub fn averages(&self) -> [f64; 3] {
        // `core` has no `f64::round`; half away from zero, by hand (casts saturate, so
        // NaN and absurd sFlow values stay finite).
        let round = |x: f32| {
            let h = f64::from(x) * 100.0;
            let r = if h >= 0.0 {
                (h + 0.5) as u64 as f64
            } else {
                -((0.5 - h) as u64 as f64)
            };
            r / 100.0
        };
        [round(self.one), round(self.five), round(self.fifteen)]
    }
}

/// Memory and swap, bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MemorySample {
    /// Usable RAM.
    pub total_bytes: u64,
    /// Unused RAM.
    pub free_bytes: u64,
    /// Available for new work (MemAvailable, or free + buffers + cached before 3.14).
    pub available_bytes: u64,
    /// Block device buffers.
    pub buffers_bytes: u64,
    /// Page cache.
    pub cached_bytes: u64,
    /// Shared memory and tmpfs.
    pub shared_bytes: u64,
    /// Swap size.
    pub swap_total_bytes: u64,
    /// Unused swap.
    pub swap_free_bytes: u64,
    /// Recently used, not reclaimed unless needed (`Active`).
    pub active_bytes: u64,
    /// Less recently used, reclaimed first (`Inactive`).
    pub inactive_bytes: u64,
    /// Waiting to be written back (`Dirty`).
    pub dirty_bytes: u64,
    /// Swapped out and back in, still in swap too (`SwapCached`).
    pub swap_cached_bytes: u64,
    /// Pages swapped in since boot (`pswpin` of /proc/vmstat, sFlow's `swap_in`).
    pub swap_in_pages: u64,
    /// Pages swapped out since boot (`pswpout`, sFlow's `swap_out`).
    pub swap_out_pages: u64,
}

impl MemorySample {
    /// RAM in use by anything that cannot be reclaimed on demand: total less available,
    /// as `free` reports it.
    pub fn used_bytes(&self) -> u64 {
        self.total_bytes.saturating_sub(self.available_bytes)
    }

    /// Swap in use.
    pub fn swap_used_bytes(&self) -> u64 {
        self.swap_total_bytes.saturating_sub(self.swap_free_bytes)
    }
}

/// One `/proc/meminfo` line under the kernel's name. [`MemorySample`] keeps the dozen
/// fields a host summary needs; exporters that serve the file whole (node_exporter's
/// meminfo collector) keep every line in a [`MemoryFields`] table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MemoryField {
    /// The key as printed (`MemTotal`, `Active(anon)`, `HugePages_Total`).
    pub name: String<24>,
    /// Bytes for a `kB` line, else the count as printed.
    pub value: u64,
    /// Whether `value` is bytes (the line said `kB`) rather than a count.
    pub bytes: bool,
}

/// Every `/proc/meminfo` field, in the file's order; what did not fit is counted.
pub type MemoryFields<const N: usize> = Table<MemoryField, N>;

/// Adds one `/proc/meminfo` record to `fields`: the Linux 2.4 byte table's rows are not
/// fields and are skipped, a key over 24 bytes is counted as dropped.
///
/// ```
/// use ferrostat_core::metrics::host::{push_memory_field, MemoryFields};
/// use ferrostat_core::procfs::meminfo;
/// let mut fields = MemoryFields::<4>::default();
/// for record in meminfo::records(b"MemTotal:  16 kB\nHugePages_Total:   2\n") {
///     push_memory_field(&mut fields, &record.unwrap());
/// }
/// let f = fields.as_slice();
/// assert_eq!((f[0].name.as_str(), f[0].value, f[0].bytes), ("MemTotal", 16384, true));
/// assert_eq!((f[1].value, f[1].bytes), (2, false));
/// ```
pub fn push_memory_field<const N: usize>(
    fields: &mut MemoryFields<N>,
    record: &meminfo::Record<'_>,
) {
    let meminfo::Record::Field { name, unit, .. } = *record else {
        return;
    };
    let Some(value) = record.value_scaled() else {
        return;
    };
    match fixed_name(name.as_bytes()) {
        Some(name) => {
            fields.push(MemoryField {
                name,
                value,
                bytes: unit == meminfo::Unit::KiB,
            });
        }
        None => fields.push_dropped(),
    }
}

/// One thermal zone's temperature.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TemperatureSample {
    /// The zone (`zone0` for /sys/class/thermal/thermal_zone0).
    pub zone: String<16>,
    /// Millidegrees Celsius, as sysfs gives it.
    pub millidegrees_c: i32,
}

/// How many thermal zones a [`HostSample`] keeps; further zones are counted as dropped.
pub const TEMPERATURE_ZONES: usize = 16;

/// One network interface's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct InterfaceSample {
    /// Interface name (IFNAMSIZ is 16 with the NUL, so 15 bytes fit).
    pub name: String<16>,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Receive errors.
    pub rx_errors: u64,
    /// Receive drops.
    pub rx_drops: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Transmit errors.
    pub tx_errors: u64,
    /// Transmit drops.
    pub tx_drops: u64,
    /// Receive FIFO (buffer) errors (net/dev `fifo`).
    pub rx_fifo: u64,
    /// Receive framing errors.
    pub rx_frame: u64,
    /// Compressed packets received.
    pub rx_compressed: u64,
    /// Multicast packets received.
    pub rx_multicast: u64,
    /// Transmit FIFO (buffer) errors.
    pub tx_fifo: u64,
    /// Collisions detected while sending.
    pub tx_collisions: u64,
    /// Carrier losses while sending.
    pub tx_carrier: u64,
    /// Compressed packets sent.
    pub tx_compressed: u64,
}

/// One block device's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DiskSample {
    /// Device name (DISK_NAME_LEN is 32).
    pub name: String<32>,
    /// Reads completed.
    pub reads: u64,
    /// Bytes read.
    pub read_bytes: u64,
    /// Milliseconds spent reading.
    pub read_time_ms: u64,
    /// Writes completed.
    pub writes: u64,
    /// Bytes written.
    pub write_bytes: u64,
    /// Milliseconds spent writing.
    pub write_time_ms: u64,
    /// Milliseconds the device was busy.
    pub io_time_ms: u64,
    /// I/Os in flight.
    pub in_progress: u64,
    /// Adjacent reads merged into one.
    pub reads_merged: u64,
    /// Adjacent writes merged into one.
    pub writes_merged: u64,
    /// Milliseconds busy weighted by the I/Os in flight (block/stat.rst `time_in_queue`).
    pub weighted_io_time_ms: u64,
}

/// Pressure stall averages over 10 s, percent, and totals, microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PressureSample {
    /// CPU, some tasks.
    pub cpu_some_avg10: f32,
    /// Memory, some tasks.
    pub memory_some_avg10: f32,
    /// Memory, all tasks.
    pub memory_full_avg10: f32,
    /// I/O, some tasks.
    pub io_some_avg10: f32,
    /// I/O, all tasks.
    pub io_full_avg10: f32,
    /// CPU, some: total stall time.
    pub cpu_some_total_us: u64,
    /// Memory, some: total stall time.
    pub memory_some_total_us: u64,
    /// I/O, some: total stall time.
    pub io_some_total_us: u64,
    /// Memory, full: total stall time (`None` where the file has no `full` line).
    pub memory_full_total_us: Option<u64>,
    /// I/O, full: total stall time.
    pub io_full_total_us: Option<u64>,
    /// IRQ, full: total stall time (`/proc/pressure/irq`, since 6.1 with
    /// CONFIG_IRQ_TIME_ACCOUNTING; `None` without it).
    pub irq_full_total_us: Option<u64>,
}

/// A host's metrics at one instant, with room for `CPUS` per-CPU entries, `NICS`
/// interfaces and `DISKS` disks; what does not fit is counted in each table's
/// `dropped`.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct HostSample<const CPUS: usize, const NICS: usize, const DISKS: usize> {
    /// Milliseconds since the Unix epoch when the sample was taken.
    pub timestamp_ms: u64,
    /// Host name (64 bytes: HOST_NAME_MAX).
    pub hostname: String<64>,
    /// Seconds since boot.
    pub uptime_secs: f64,
    /// Load averages.
    pub load: LoadSample,
    /// All CPUs together.
    pub cpu: CpuCounters,
    /// Each CPU.
    pub cpus: Table<CoreCounters, CPUS>,
    /// Scheduler counters.
    pub kernel: KernelCounters,
    /// File handles and entropy.
    pub kernel_limits: KernelLimits,
    /// Memory and swap.
    pub memory: MemorySample,
    /// Network interfaces.
    pub interfaces: Table<InterfaceSample, NICS>,
    /// Block devices.
    pub disks: Table<DiskSample, DISKS>,
    /// Pressure stall information, where the kernel has it.
    pub pressure: Option<PressureSample>,
    /// TCP counters of /proc/net/snmp (RFC 4022); `None` where not read.
    pub tcp: Tcp,
    /// UDP counters of /proc/net/snmp (RFC 4113).
    pub udp: Udp,
    /// Thermal zones, in zone order.
    pub temperatures: Table<TemperatureSample, TEMPERATURE_ZONES>,
}

/// A sample sized for a Linux server: 512 CPUs, 64 interfaces, 128 disks (about 65 KB:
/// small enough to decode on a thread's stack). A host running containers needs more
/// interfaces; the agent keeps its own, larger and boxed.
pub type ServerHostSample = HostSample<512, 64, 128>;

/// A sample sized for a microcontroller gateway: 8 CPUs, 4 interfaces, 4 disks.
pub type McuHostSample = HostSample<8, 4, 4>;

/// Copies bytes into a fixed string, invalid UTF-8 replaced by `?` (one byte per bad
/// byte, so the length is predictable); `None` when it does not fit.
pub fn fixed_name<const N: usize>(bytes: &[u8]) -> Option<String<N>> {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid()).ok()?;
        for _ in chunk.invalid() {
            out.push('?').ok()?;
        }
    }
    Some(out)
}

impl<const CPUS: usize, const NICS: usize, const DISKS: usize> HostSample<CPUS, NICS, DISKS> {
    /// Back to the default sample in place: a new one would be built and moved whole,
    /// and a server sample's tables are tens of KB of capacity.
    pub fn clear(&mut self) {
        self.timestamp_ms = 0;
        self.hostname.clear();
        self.uptime_secs = 0.0;
        self.load = LoadSample::default();
        self.cpu = CpuCounters::default();
        self.cpus.clear();
        self.kernel = KernelCounters::default();
        self.kernel_limits = KernelLimits::default();
        self.memory = MemorySample::default();
        self.interfaces.clear();
        self.disks.clear();
        self.pressure = None;
        self.tcp = Tcp::default();
        self.udp = Udp::default();
        self.temperatures.clear();
    }

    /// Fills `cpu`, `cpus` and `kernel` from `/proc/stat`, converting ticks with `ticks_per_sec`.
    /// CPUs the parse itself dropped stay counted as dropped.
    pub fn set_cpu<const N: usize>(&mut self, stat: &Stat<N>, ticks_per_sec: u64) {
        self.cpu = CpuCounters::from_ticks(&stat.total, ticks_per_sec);
        self.cpus.clear();
        for line in stat.cpus.iter() {
            self.cpus.push(CoreCounters {
                id: line.id,
                counters: CpuCounters::from_ticks(&line.times, ticks_per_sec),
            });
        }
        for _ in 0..stat.cpus.dropped() {
            self.cpus.push_dropped();
        }
        self.kernel = KernelCounters {
            boot_time_secs: stat.btime,
            context_switches: stat.ctxt,
            forks: stat.processes,
            interrupts: stat.intr,
            procs_running: stat.procs_running,
            procs_blocked: stat.procs_blocked,
        };
    }

    /// Fills `memory` from `/proc/meminfo`.
    pub fn set_memory(&mut self, m: &Meminfo) {
        let b = |kib: Option<u64>| kib.unwrap_or(0).saturating_mul(1024);
        let free = m.mem_free();
        let available = m
            .mem_available()
            .or_else(|| Some(free? + m.buffers().unwrap_or(0) + m.cached().unwrap_or(0)));
        self.memory = MemorySample {
            total_bytes: b(m.mem_total()),
            free_bytes: b(free),
            available_bytes: b(available),
            buffers_bytes: b(m.buffers()),
            cached_bytes: b(m.cached()),
            shared_bytes: b(m.shmem()),
            swap_total_bytes: b(m.swap_total()),
            swap_free_bytes: b(m.swap_free()),
            active_bytes: b(m.active()),
            inactive_bytes: b(m.inactive()),
            dirty_bytes: b(m.dirty()),
            swap_cached_bytes: b(m.swap_cached()),
            // Swap traffic comes from another file; what is known of it stays.
            swap_in_pages: self.memory.swap_in_pages,
            swap_out_pages: self.memory.swap_out_pages,
        };
    }

    /// Fills the swap traffic of `memory` from `/proc/vmstat`.
    pub fn set_swap_activity(&mut self, v: &Vmstat) {
        self.memory.swap_in_pages = v.pswpin().unwrap_or(0);
        self.memory.swap_out_pages = v.pswpout().unwrap_or(0);
    }

    /// Fills `load` from `/proc/loadavg`.
    pub fn set_load(&mut self, l: &Loadavg) {
        self.load = LoadSample {
            one: l.one as f32,
            five: l.five as f32,
            fifteen: l.fifteen as f32,
            running: l.running,
            total: l.total,
            last_pid: l.last_pid,
        };
    }

    /// Fills `interfaces` from parsed `/proc/net/dev`; interfaces the parse dropped stay
    /// counted as dropped.
    pub fn set_interfaces<const N: usize>(&mut self, interfaces: &Table<Interface<'_>, N>) {
        self.interfaces.clear();
        for _ in 0..interfaces.dropped() {
            self.interfaces.push_dropped();
        }
        for i in interfaces {
            self.push_interface(i);
        }
    }

    /// Adds one `/proc/net/dev` record to `interfaces` (counted as dropped when full).
    pub fn push_interface(&mut self, i: &Interface<'_>) {
        match fixed_name(i.name.as_bytes()) {
            Some(name) => {
                self.interfaces.push(InterfaceSample {
                    name,
                    rx_bytes: i.rx_bytes,
                    rx_packets: i.rx_packets,
                    rx_errors: i.rx_errs,
                    rx_drops: i.rx_drop,
                    tx_bytes: i.tx_bytes,
                    tx_packets: i.tx_packets,
                    tx_errors: i.tx_errs,
                    tx_drops: i.tx_drop,
                    rx_fifo: i.rx_fifo,
                    rx_frame: i.rx_frame,
                    rx_compressed: i.rx_compressed,
                    rx_multicast: i.rx_multicast,
                    tx_fifo: i.tx_fifo,
                    tx_collisions: i.tx_colls,
                    tx_carrier: i.tx_carrier,
                    tx_compressed: i.tx_compressed,
                });
            }
            None => self.interfaces.push_dropped(),
        }
    }

    /// Fills `disks` from parsed `/proc/diskstats`; disks the parse dropped stay counted
    /// as dropped.
    pub fn set_disks<const N: usize>(&mut self, disks: &Table<Disk<'_>, N>) {
        self.disks.clear();
        for _ in 0..disks.dropped() {
            self.disks.push_dropped();
        }
        for d in disks {
            self.push_disk(d);
        }
    }

    /// Adds one `/proc/diskstats` record to `disks` (counted as dropped when full).
    /// Sectors are 512 bytes whatever the device's sector size (block/stat.rst).
    pub fn push_disk(&mut self, d: &Disk<'_>) {
        match fixed_name(d.name.as_bytes()) {
            Some(name) => {
                self.disks.push(DiskSample {
                    name,
                    reads: d.reads_completed,
                    read_bytes: d.sectors_read.saturating_mul(512),
                    read_time_ms: d.time_reading_ms,
                    writes: d.writes_completed,
                    write_bytes: d.sectors_written.saturating_mul(512),
                    write_time_ms: d.time_writing_ms,
                    io_time_ms: d.time_io_ms,
                    in_progress: d.ios_in_progress,
                    reads_merged: d.reads_merged,
                    writes_merged: d.writes_merged,
                    weighted_io_time_ms: d.weighted_time_io_ms,
                });
            }
            None => self.disks.push_dropped(),
        }
    }

    /// Fills `pressure` from the three PSI files.
    pub fn set_pressure(&mut self, cpu: &Pressure, memory: &Pressure, io: &Pressure) {
        let avg = |p: &Pressure, full: bool| {
            let line = if full { p.full } else { p.some };
            line.map_or(0.0, |l| l.avg10 as f32)
        };
        let total = |p: &Pressure| p.some.map_or(0, |l| l.total_us);
        let full_total = |p: &Pressure| p.full.map(|l| l.total_us);
        self.pressure = Some(PressureSample {
            cpu_some_avg10: avg(cpu, false),
            memory_some_avg10: avg(memory, false),
            memory_full_avg10: avg(memory, true),
            io_some_avg10: avg(io, false),
            io_full_avg10: avg(io, true),
            cpu_some_total_us: total(cpu),
            memory_some_total_us: total(memory),
            io_some_total_us: total(io),
            memory_full_total_us: full_total(memory),
            io_full_total_us: full_total(io),
            irq_full_total_us: None,
        });
    }

    /// Adds `/proc/pressure/irq` (a `full` line only) to `pressure`, once set.
    pub fn set_irq_pressure(&mut self, irq: &Pressure) {
        if let Some(p) = &mut self.pressure {
            p.irq_full_total_us = irq.full.map(|l| l.total_us);
        }
    }

    /// Fills the file handles of `kernel_limits` from `/proc/sys/fs/file-nr`'s three
    /// values (allocated, allocated but unused, maximum).
    pub fn set_file_handles(&mut self, file_nr: [u64; 3]) {
        self.kernel_limits.file_handles = Some(file_nr[0]);
        self.kernel_limits.file_handles_max = Some(file_nr[2]);
    }

    /// Fills the entropy of `kernel_limits`, bits.
    pub fn set_entropy(&mut self, available: u64, pool_size: u64) {
        self.kernel_limits.entropy_bits = Some(available);
        self.kernel_limits.entropy_pool_bits = Some(pool_size);
    }

    /// Fills `tcp` and `udp` from parsed `/proc/net/snmp`.
    pub fn set_transport(&mut self, snmp: &Snmp) {
        self.tcp = snmp.Tcp;
        self.udp = snmp.Udp;
    }

    /// Adds one thermal zone (counted as dropped when full or its name does not fit).
    pub fn push_temperature(&mut self, zone: &[u8], millidegrees_c: i32) {
        match fixed_name(zone) {
            Some(zone) => {
                self.temperatures.push(TemperatureSample {
                    zone,
                    millidegrees_c,
                });
            }
            None => self.temperatures.push_dropped(),
        }
    }
}
