//! One counters sample (sFlow v5 §5 `counters_sample`) reduced to what the collector
//! keeps: the host or VM it describes, its host_descr, and its column values. Every
//! field is fixed-size, so building one allocates nothing.

use std::fmt::Write as _;
use std::net::IpAddr;

use ferrostat_core::sflow::counter::{HostDescription, Load, Percent};
use ferrostat_core::sflow::{CounterRecord, CountersSample};
use ferrostat_core::Error;

use super::columns::{HostValues, Method, VmValues, H, V};

/// A host or VM name as sent (host_descr allows 64 bytes; room is left for invalid
/// UTF-8 shown as U+FFFD).
pub type Name = heapless::String<96>;
/// An OS release (host_descr allows 32 bytes).
pub type Release = heapless::String<48>;

/// Where a host's samples come from: its sFlow agent address and sub-agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostKey {
    /// The agent address in the datagram header.
    pub agent: IpAddr,
    /// The sub-agent id (hsflowd uses 100000; switches one per line card).
    pub sub_agent: u32,
}

/// 0:2000 host_descr, owned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Description {
    /// Host name (a VM's is its libvirt UUID on KVM).
    pub hostname: Name,
    /// The 16 UUID bytes (zeros: unknown).
    pub uuid: [u8; 16],
    /// machine_type enum.
    pub machine_type: u32,
    /// os_name enum.
    pub os_name: u32,
    /// OS release.
    pub os_release: Release,
}

impl Description {
    fn from_record(d: &HostDescription<'_>) -> Self {
        Description {
            hostname: lossy(d.hostname.0),
            uuid: d.uuid,
            machine_type: d.machine_type,
            os_name: d.os_name,
            os_release: lossy(d.os_release.0),
        }
    }

    /// The machine type as sflow-monitor names it (Host sFlow `machine_type`).
    pub fn machine_type_name(&self) -> &'static str {
        const NAMES: [&str; 13] = [
            "unknown", "other", "x86", "x86_64", "ia64", "sparc", "alpha", "powerpc", "m68k",
            "mips", "arm", "hppa", "s390",
        ];
        NAMES
            .get(self.machine_type as usize)
            .copied()
            .unwrap_or("unknown")
    }

    /// The OS as sflow-monitor names it (Host sFlow `os_name`).
    pub fn os_name_name(&self) -> &'static str {
        const NAMES: [&str; 13] = [
            "unknown",
            "other",
            "linux",
            "windows",
            "darwin",
            "hpux",
            "aix",
            "dragonfly",
            "freebsd",
            "netbsd",
            "openbsd",
            "osf",
            "solaris",
        ];
        NAMES
            .get(self.os_name as usize)
            .copied()
            .unwrap_or("unknown")
    }

    /// The UUID as 8-4-4-4-12 hex, or `None` when all zeros (unknown).
    pub fn uuid_text(&self) -> Option<String> {
        if self.uuid == [0; 16] {
            return None;
        }
        let mut s = String::with_capacity(36);
        for (i, b) in self.uuid.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                s.push('-');
            }
            let _ = write!(s, "{b:02x}");
        }
        Some(s)
    }
}

/// Bytes as text, invalid UTF-8 shown lossily, cut at the capacity.
fn lossy<const N: usize>(bytes: &[u8]) -> heapless::String<N> {
    let mut out = heapless::String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if out.push(c).is_err() {
                return out;
            }
        }
        if !chunk.invalid().is_empty() && out.push('\u{fffd}').is_err() {
            return out;
        }
    }
    out
}

/// What a sample describes.
#[derive(Clone, Debug, PartialEq)]
pub enum Entity {
    /// A physical host (hsflowd's data source 2:1): host_cpu, memory, disk, net, node.
    Host(HostValues),
    /// A VM under the host that reports it (data source class 3), named by its own
    /// host_descr (the libvirt domain UUID on KVM), else by its data source.
    Vm {
        /// The VM's name.
        name: Name,
        /// Its values.
        values: VmValues,
    },
    /// Neither: interface, VLAN or processor counters from a switch. The agent is still
    /// a known source.
    Other,
}

/// A decoded counters sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    /// Its host_descr, if it carried one.
    pub descr: Option<Description>,
    /// What it describes.
    pub entity: Entity,
    /// Records it held.
    pub records: u64,
}

/// Reduces one counters sample. Records the collector does not keep (interface
/// counters, host_adapters, TCP/IP tables) are counted and skipped.
///
/// # Errors
/// The first record that does not decode: the whole sample is then rejected, so a
/// half-read sample is never stored.
pub fn decode(sample: &CountersSample<'_>) -> Result<Decoded, Error> {
    let mut host = HostValues::default();
    let mut vm = VmValues::default();
    let mut descr = None;
    let mut records = 0;
    for record in sample.records() {
        records += 1;
        match record? {
            CounterRecord::HostDescription(d) => descr = Some(Description::from_record(&d)),
            r @ (CounterRecord::HostCpu(_)
            | CounterRecord::HostMemory(_)
            | CounterRecord::HostDiskIo(_)
            | CounterRecord::HostNetIo(_)
            | CounterRecord::VirtNode(_)) => apply_host_record(&mut host, &r),
            CounterRecord::VirtCpu(c) => {
                vm.record_mask |= Method::VirtCpu.bit();
                vm.set_int(V::vcpu_state as usize, Some(u64::from(c.state)));
                vm.set_int(V::vcpu_cpu_time as usize, c.cpu_time.map(u64::from));
                vm.set_int(V::vcpu_cpu_count as usize, c.nr_virt_cpu.map(u64::from));
            }
            CounterRecord::VirtMemory(m) => {
                vm.record_mask |= Method::VirtMemory.bit();
                vm.set_int(V::vmem_memory as usize, m.memory);
                vm.set_int(V::vmem_max_memory as usize, m.max_memory);
            }
            CounterRecord::VirtDiskIo(d) => {
                vm.record_mask |= Method::VirtDisk.bit();
                vm.set_int(V::vdsk_capacity as usize, d.capacity);
                vm.set_int(V::vdsk_allocation as usize, d.allocation);
                vm.set_int(V::vdsk_available as usize, d.available);
                vm.set_int(V::vdsk_rd_req as usize, d.rd_req.map(u64::from));
                vm.set_int(V::vdsk_wr_req as usize, d.wr_req.map(u64::from));
                vm.set_int(V::vdsk_errs as usize, d.errs.map(u64::from));
                vm.set_int(V::vdsk_rd_bytes as usize, d.rd_bytes);
                vm.set_int(V::vdsk_wr_bytes as usize, d.wr_bytes);
            }
            CounterRecord::VirtNetIo(n) => {
                vm.record_mask |= Method::VirtNet.bit();
                vm.set_int(V::vnio_bytes_in as usize, n.rx_bytes);
                vm.set_int(V::vnio_bytes_out as usize, n.tx_bytes);
                let narrow = [
                    (V::vnio_packets_in, n.rx_packets),
                    (V::vnio_errs_in, n.rx_errs),
                    (V::vnio_drops_in, n.rx_drop),
                    (V::vnio_packets_out, n.tx_packets),
                    (V::vnio_errs_out, n.tx_errs),
                    (V::vnio_drops_out, n.tx_drop),
                ];
                for (at, v) in narrow {
                    vm.set_int(at as usize, v.map(u64::from));
                }
            }
            _ => {}
        }
    }
    let entity = if vm.record_mask != 0 {
        let name = match &descr {
            Some(d) if !d.hostname.is_empty() => d.hostname.clone(),
            _ => {
                // No name of its own: its data source under this agent.
                let mut n = Name::new();
                let id = sample.source_id;
                let _ = write!(n, "ds{}:{}", id.class, id.index);
                n
            }
        };
        Entity::Vm { name, values: vm }
    } else if host.record_mask != 0 || descr.is_some() {
        Entity::Host(host)
    } else {
        Entity::Other
    };
    Ok(Decoded {
        descr,
        entity,
        records,
    })
}

/// Puts a host record's values (host_cpu, memory, disk, net, virt_node) into `host`;
/// other records are left alone. Shared by the collector and the gateway uplink, whose
/// samples carry the same records.
pub fn apply_host_record(host: &mut HostValues, record: &CounterRecord<'_>) {
    match *record {
        CounterRecord::HostCpu(c) => {
            let b = c.base;
            host.record_mask |= Method::HostCpu.bit();
            // host_cpu says -1 for an unknown load; sflow-monitor shows it as such.
            // Rounded to the f32's own precision: 2.35 stays 2.35, not 2.3499999.
            let load = |l: Load| Some(l.0.map_or(-1.0, |x| (f64::from(x) * 1e6).round() / 1e6));
            host.set_real(H::cpu_load_one as usize, load(b.load_one));
            host.set_real(H::cpu_load_five as usize, load(b.load_five));
            host.set_real(H::cpu_load_fifteen as usize, load(b.load_fifteen));
            let ints = [
                (H::cpu_proc_run, b.proc_run),
                (H::cpu_proc_total, b.proc_total),
                (H::cpu_num, b.cpu_num),
                (H::cpu_speed, b.cpu_speed),
                (H::cpu_uptime, b.uptime),
                (H::cpu_user, b.cpu_user),
                (H::cpu_nice, b.cpu_nice),
                (H::cpu_system, b.cpu_system),
                (H::cpu_idle, b.cpu_idle),
                (H::cpu_waiting_io, b.cpu_wio),
                (H::cpu_intr, b.cpu_intr),
                (H::cpu_sintr, b.cpu_sintr),
                (H::cpu_interrupts, b.interrupts),
                (H::cpu_contexts, b.contexts),
            ];
            for (at, v) in ints {
                host.set_int(at as usize, v.map(u64::from));
            }
        }
        CounterRecord::HostMemory(m) => {
            host.record_mask |= Method::HostMemory.bit();
            let wide = [
                (H::mem_total, m.mem_total),
                (H::mem_free, m.mem_free),
                (H::mem_shared, m.mem_shared),
                (H::mem_buffers, m.mem_buffers),
                (H::mem_cached, m.mem_cached),
                (H::swap_total, m.swap_total),
                (H::swap_free, m.swap_free),
            ];
            for (at, v) in wide {
                host.set_int(at as usize, v);
            }
            let narrow = [
                (H::page_in, m.page_in),
                (H::page_out, m.page_out),
                (H::swap_in, m.swap_in),
                (H::swap_out, m.swap_out),
            ];
            for (at, v) in narrow {
                host.set_int(at as usize, v.map(u64::from));
            }
        }
        CounterRecord::HostDiskIo(d) => {
            host.record_mask |= Method::HostDisk.bit();
            host.set_int(H::disk_total as usize, d.disk_total);
            host.set_int(H::disk_free as usize, d.disk_free);
            host.set_real(H::part_max_used as usize, percent(d.part_max_used));
            host.set_int(H::reads as usize, d.reads.map(u64::from));
            host.set_int(H::read_time as usize, d.read_time.map(u64::from));
            host.set_int(H::writes as usize, d.writes.map(u64::from));
            host.set_int(H::write_time as usize, d.write_time.map(u64::from));
            host.set_int(H::bytes_read as usize, d.bytes_read);
            host.set_int(H::bytes_written as usize, d.bytes_written);
        }
        CounterRecord::HostNetIo(n) => {
            host.record_mask |= Method::HostNet.bit();
            host.set_int(H::bytes_in as usize, n.bytes_in);
            host.set_int(H::bytes_out as usize, n.bytes_out);
            let narrow = [
                (H::packets_in, n.pkts_in),
                (H::errs_in, n.errs_in),
                (H::drops_in, n.drops_in),
                (H::packets_out, n.pkts_out),
                (H::errs_out, n.errs_out),
                (H::drops_out, n.drops_out),
            ];
            for (at, v) in narrow {
                host.set_int(at as usize, v.map(u64::from));
            }
        }
        CounterRecord::VirtNode(n) => {
            host.record_mask |= Method::HostNode.bit();
            host.set_int(H::vnode_mhz as usize, n.mhz.map(u64::from));
            host.set_int(H::vnode_cpus as usize, n.cpus.map(u64::from));
            host.set_int(H::vnode_memory as usize, n.memory);
            host.set_int(H::vnode_memory_free as usize, n.memory_free);
            host.set_int(H::vnode_num_domains as usize, n.num_domains.map(u64::from));
        }
        _ => {}
    }
}

/// Hundredths of a percent to a percentage.
fn percent(p: Percent) -> Option<f64> {
    p.0.map(|v| f64::from(v) / 100.0)
}

/// A sample ready for the registry and the history store.
#[derive(Clone, Debug)]
pub struct Ingest {
    /// When the collector received it, epoch ms.
    pub at_ms: i64,
    /// The host that sent it.
    pub host: HostKey,
    /// The datagram's UDP source address.
    pub source: IpAddr,
    /// Its host_descr (the host's, or the VM's for a VM sample).
    pub descr: Option<Description>,
    /// What it describes.
    pub entity: Entity,
}

#[cfg(test)]
impl Ingest {
    /// A host sample with `values` from agent `agent` (sub-agent 100000, as hsflowd's),
    /// sent from 127.0.0.1 at `at_ms`: the registry's and the history's tests.
    pub fn test_host(agent: &str, at_ms: i64, values: HostValues) -> Self {
        Ingest {
            at_ms,
            host: HostKey {
                agent: agent.parse().unwrap(),
                sub_agent: 100000,
            },
            source: "127.0.0.1".parse().unwrap(),
            descr: None,
            entity: Entity::Host(values),
        }
    }

    /// The same agent's sample of VM `name`, with no values.
    pub fn test_vm(agent: &str, name: &str, at_ms: i64) -> Self {
        Ingest {
            entity: Entity::Vm {
                name: name.try_into().unwrap(),
                values: VmValues::default(),
            },
            ..Ingest::test_host(agent, at_ms, HostValues::default())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_what_fits_and_show_bad_bytes() {
        assert_eq!(lossy::<8>(b"web\xff01").as_str(), "web\u{fffd}01");
        assert_eq!(lossy::<4>(b"abcdef").as_str(), "abcd");
        let d = Description {
            machine_type: 3,
            os_name: 2,
            uuid: [0x1f; 16],
            ..Description::default()
        };
        assert_eq!(
            (d.machine_type_name(), d.os_name_name()),
            ("x86_64", "linux")
        );
        assert_eq!(
            d.uuid_text().as_deref(),
            Some("1f1f1f1f-1f1f-1f1f-1f1f-1f1f1f1f1f1f")
        );
        let unknown = Description {
            machine_type: 99,
            ..Description::default()
        };
        assert_eq!(unknown.machine_type_name(), "unknown");
        assert_eq!(unknown.uuid_text(), None);
    }
}
