//! From sFlow counter records to the core's [`HostSample`], so a host reported by
//! host-sflow (or a VM it reports) is handled exactly like one read from /proc.
//!
//! Host-wide records (host_net_io, host_disk_io, virt_*_io) have no device name; they
//! become an interface or disk named `all`. Generic interface counters (0:1) become an
//! interface named `if<ifIndex>`. Unknown ("all ones") values become 0.

use core::fmt::Write as _;

use heapless::String;

use crate::metrics::host::{DiskSample, HostSample, InterfaceSample, LoadSample, MemorySample};
use crate::sflow::counter::CounterRecord;

/// Name given to host-wide network and disk totals.
pub const TOTAL_NAME: &str = "all";

fn total<const N: usize>() -> String<N> {
    let mut s = String::new();
    // Three bytes always fit the 16- and 32-byte names.
    let _ = s.push_str(TOTAL_NAME);
    s
}

/// Replaces the entry with the same name, or adds it (counted as dropped when full).
fn upsert_interface<const N: usize>(t: &mut crate::Table<InterfaceSample, N>, i: InterfaceSample) {
    match t.as_mut_slice().iter_mut().find(|x| x.name == i.name) {
        Some(slot) => *slot = i,
        None => {
            t.push(i);
        }
    }
}

fn upsert_disk<const N: usize>(t: &mut crate::Table<DiskSample, N>, d: DiskSample) {
    match t.as_mut_slice().iter_mut().find(|x| x.name == d.name) {
        Some(slot) => *slot = d,
        None => {
            t.push(d);
        }
    }
}

impl<const CPUS: usize, const NICS: usize, const DISKS: usize> HostSample<CPUS, NICS, DISKS> {
    /// Folds one counter record into this sample. Records that describe nothing in the
    /// model (adapters, parent, IP/TCP/UDP tables, unknown records) are ignored; returns
    /// whether the record was used.
    ///
    /// ```
    /// use ferrostat_core::metrics::McuHostSample;
    /// use ferrostat_core::sflow::counter::{CounterRecord, HostMemory};
    /// let mem = HostMemory {
    ///     mem_total: Some(8 << 30), mem_free: Some(2 << 30), mem_shared: Some(0),
    ///     mem_buffers: Some(1 << 20), mem_cached: Some(1 << 30), swap_total: Some(0),
    ///     swap_free: Some(0), page_in: None, page_out: None, swap_in: None, swap_out: None,
    /// };
    /// let mut s = McuHostSample::default();
    /// assert!(s.apply_sflow(&CounterRecord::HostMemory(mem)));
    /// assert_eq!(s.memory.available_bytes, (2 << 30) + (1 << 20) + (1 << 30));
    /// ```
    pub fn apply_sflow(&mut self, record: &CounterRecord<'_>) -> bool {
        let z32 = |v: Option<u32>| v.unwrap_or(0) as u64;
        let z64 = |v: Option<u64>| v.unwrap_or(0);
        match record {
            CounterRecord::HostDescription(d) => {
                if let Some(name) = crate::metrics::host::fixed_name(d.hostname.as_bytes()) {
                    self.hostname = name;
                }
            }
            CounterRecord::HostCpu(c) => {
                let b = &c.base;
                let load = |l: crate::sflow::counter::Load| l.0.unwrap_or(0.0);
                self.load = LoadSample {
                    one: load(b.load_one),
                    five: load(b.load_five),
                    fifteen: load(b.load_fifteen),
                    running: b.proc_run.unwrap_or(0),
                    total: b.proc_total.unwrap_or(0),
                    last_pid: 0,
                };
                self.uptime_secs = z32(b.uptime) as f64;
                self.cpu.user_ms = z32(b.cpu_user);
                self.cpu.nice_ms = z32(b.cpu_nice);
                self.cpu.system_ms = z32(b.cpu_system);
                self.cpu.idle_ms = z32(b.cpu_idle);
                self.cpu.iowait_ms = z32(b.cpu_wio);
                self.cpu.irq_ms = z32(b.cpu_intr);
                self.cpu.softirq_ms = z32(b.cpu_sintr);
                if let Some(e) = c.extra {
                    self.cpu.steal_ms = z32(e.cpu_steal);
                    self.cpu.guest_ms = z32(e.cpu_guest);
                    self.cpu.guest_nice_ms = z32(e.cpu_guest_nice);
                }
            }
            CounterRecord::HostMemory(m) => {
                let free = z64(m.mem_free);
                let buffers = z64(m.mem_buffers);
                let cached = z64(m.mem_cached);
                self.memory = MemorySample {
                    total_bytes: z64(m.mem_total),
                    free_bytes: free,
                    available_bytes: free.saturating_add(buffers).saturating_add(cached),
                    buffers_bytes: buffers,
                    cached_bytes: cached,
                    shared_bytes: z64(m.mem_shared),
                    swap_total_bytes: z64(m.swap_total),
                    swap_free_bytes: z64(m.swap_free),
                    swap_in_pages: z32(m.swap_in),
                    swap_out_pages: z32(m.swap_out),
                    ..MemorySample::default()
                };
            }
            CounterRecord::HostNetIo(n) => upsert_interface(
                &mut self.interfaces,
                InterfaceSample {
                    name: total(),
                    rx_bytes: z64(n.bytes_in),
                    rx_packets: z32(n.pkts_in),
                    rx_errors: z32(n.errs_in),
                    rx_drops: z32(n.drops_in),
                    tx_bytes: z64(n.bytes_out),
                    tx_packets: z32(n.pkts_out),
                    tx_errors: z32(n.errs_out),
                    tx_drops: z32(n.drops_out),
                    ..InterfaceSample::default()
                },
            ),
            CounterRecord::VirtNetIo(n) => upsert_interface(
                &mut self.interfaces,
                InterfaceSample {
                    name: total(),
                    rx_bytes: z64(n.rx_bytes),
                    rx_packets: z32(n.rx_packets),
                    rx_errors: z32(n.rx_errs),
                    rx_drops: z32(n.rx_drop),
                    tx_bytes: z64(n.tx_bytes),
                    tx_packets: z32(n.tx_packets),
                    tx_errors: z32(n.tx_errs),
                    tx_drops: z32(n.tx_drop),
                    ..InterfaceSample::default()
                },
            ),
            CounterRecord::Interface(i) => {
                let mut name = String::new();
                // "if" and ten digits fit in 16 bytes.
                let _ = write!(name, "if{}", i.if_index);
                let unicast =
                    |u: Option<u32>, m: Option<u32>, b: Option<u32>| z32(u) + z32(m) + z32(b);
                upsert_interface(
                    &mut self.interfaces,
                    InterfaceSample {
                        name,
                        rx_bytes: z64(i.in_octets),
                        rx_packets: unicast(
                            i.in_ucast_pkts,
                            i.in_multicast_pkts,
                            i.in_broadcast_pkts,
                        ),
                        rx_errors: z32(i.in_errors),
                        rx_drops: z32(i.in_discards),
                        tx_bytes: z64(i.out_octets),
                        tx_packets: unicast(
                            i.out_ucast_pkts,
                            i.out_multicast_pkts,
                            i.out_broadcast_pkts,
                        ),
                        tx_errors: z32(i.out_errors),
                        tx_drops: z32(i.out_discards),
                        rx_multicast: z32(i.in_multicast_pkts),
                        ..InterfaceSample::default()
                    },
                );
            }
            CounterRecord::HostDiskIo(d) => upsert_disk(
                &mut self.disks,
                DiskSample {
                    name: total(),
                    reads: z32(d.reads),
                    read_bytes: z64(d.bytes_read),
                    read_time_ms: z32(d.read_time),
                    writes: z32(d.writes),
                    write_bytes: z64(d.bytes_written),
                    write_time_ms: z32(d.write_time),
                    ..DiskSample::default()
                },
            ),
            CounterRecord::VirtDiskIo(d) => upsert_disk(
                &mut self.disks,
                DiskSample {
                    name: total(),
                    reads: z32(d.rd_req),
                    read_bytes: z64(d.rd_bytes),
                    writes: z32(d.wr_req),
                    write_bytes: z64(d.wr_bytes),
                    ..DiskSample::default()
                },
            ),
            CounterRecord::VirtCpu(c) => {
                // A VM reports its CPU time as one total.
                self.cpu.user_ms = z32(c.cpu_time);
            }
            CounterRecord::VirtMemory(m) => {
                let max = z64(m.max_memory);
                let used = z64(m.memory);
                self.memory.total_bytes = max;
                self.memory.free_bytes = max.saturating_sub(used);
                self.memory.available_bytes = self.memory.free_bytes;
            }
            _ => return false,
        }
        true
    }
}
