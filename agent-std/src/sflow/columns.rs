//! The values the collector keeps from Host sFlow counter records, one column each.
//!
//! One table drives everything that shows them: the SQLite schema and inserts, the
//! JSON-RPC rows (names, units and order of sflow-monitor's API, PROTOCOLS.md §3.4), the
//! Prometheus families and the stats stream. Names are the API's; values are the
//! record's raw units (ms, bytes, counts), as sflow-monitor stores them.

/// The API method (and record) a column belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// 0:2003 host_cpu → `host.cpu`.
    HostCpu,
    /// 0:2004 host_memory → `host.memory`.
    HostMemory,
    /// 0:2005 host_disk_io → `host.disk`.
    HostDisk,
    /// 0:2006 host_net_io → `host.net`.
    HostNet,
    /// 0:2100 virt_node → `host.node`.
    HostNode,
    /// 0:2101 virt_cpu → `virt.cpu`.
    VirtCpu,
    /// 0:2102 virt_memory → `virt.memory`.
    VirtMemory,
    /// 0:2103 virt_disk_io → `virt.disk`.
    VirtDisk,
    /// 0:2104 virt_net_io → `virt.net`.
    VirtNet,
}

impl Method {
    /// Every sample method with its JSON-RPC name.
    pub const ALL: [(Method, &'static str); 9] = [
        (Method::HostCpu, "host.cpu"),
        (Method::HostMemory, "host.memory"),
        (Method::HostDisk, "host.disk"),
        (Method::HostNet, "host.net"),
        (Method::HostNode, "host.node"),
        (Method::VirtCpu, "virt.cpu"),
        (Method::VirtMemory, "virt.memory"),
        (Method::VirtDisk, "virt.disk"),
        (Method::VirtNet, "virt.net"),
    ];

    /// The bit of this method in a sample's `record_mask`.
    pub const fn bit(self) -> u32 {
        1 << self as u32
    }

    /// Whether the method reads VM samples (`virt.*`).
    pub const fn is_virt(self) -> bool {
        matches!(
            self,
            Method::VirtCpu | Method::VirtMemory | Method::VirtDisk | Method::VirtNet
        )
    }

    /// The columns of the method, in API order.
    pub fn columns(self) -> impl Iterator<Item = (usize, &'static Column)> {
        let all = if self.is_virt() { VM } else { HOST };
        all.iter()
            .enumerate()
            .filter(move |(_, c)| c.method == self)
    }
}

/// How a column's value behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A level (memory in use, CPUs).
    Gauge,
    /// A floating-point level (load averages, percentages).
    Float,
    /// A cumulative 32-bit counter (wraps at 2^32).
    Counter32,
    /// A cumulative 64-bit counter.
    Counter64,
}

/// A column: its API and SQL name, record, kind, and Prometheus family.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    /// API field and SQL column name.
    pub name: &'static str,
    /// The record it comes from.
    pub method: Method,
    /// Gauge, float or counter.
    pub kind: Kind,
    /// Prometheus family (base units), with one label pair telling columns of a family
    /// apart.
    pub metric: &'static str,
    /// The label that tells this column apart in its family, if any.
    pub label: Option<(&'static str, &'static str)>,
    /// Factor from the record's unit to the family's base unit.
    pub scale: f64,
    /// HELP text of the family.
    pub help: &'static str,
}

/// Declares a column list and an index enum naming each position.
macro_rules! columns {
    ($list:ident, $index:ident, $n:ident {
        $( $name:ident : $method:ident, $kind:ident, $metric:literal $([$lk:literal = $lv:literal])?, $scale:literal, $help:expr; )+
    }) => {
        /// Positions in the column list.
        #[allow(non_camel_case_types, missing_docs)]
        #[derive(Clone, Copy, Debug)]
        pub enum $index { $( $name, )+ }
        /// The column list.
        pub const $list: &[Column] = &[ $( Column {
            name: stringify!($name),
            method: Method::$method,
            kind: Kind::$kind,
            metric: $metric,
            label: columns!(@label $($lk, $lv)?),
            scale: $scale,
            help: $help,
        }, )+ ];
        /// How many columns.
        pub const $n: usize = $list.len();
    };
    (@label) => { None };
    (@label $k:literal, $v:literal) => { Some(($k, $v)) };
}

const CPU_HELP: &str = "CPU time of all CPUs together by mode, from sFlow host_cpu.";
const MEM_HELP: &str = "Memory by kind, from sFlow host_memory.";

columns!(HOST, H, HOST_COLUMNS {
    cpu_load_one: HostCpu, Float, "ferrostat_sflow_load1", 1.0, "1-minute load average, from sFlow host_cpu.";
    cpu_load_five: HostCpu, Float, "ferrostat_sflow_load5", 1.0, "5-minute load average, from sFlow host_cpu.";
    cpu_load_fifteen: HostCpu, Float, "ferrostat_sflow_load15", 1.0, "15-minute load average, from sFlow host_cpu.";
    cpu_proc_run: HostCpu, Gauge, "ferrostat_sflow_processes" ["state" = "running"], 1.0, "Tasks by state, from sFlow host_cpu.";
    cpu_proc_total: HostCpu, Gauge, "ferrostat_sflow_processes" ["state" = "all"], 1.0, "Tasks by state, from sFlow host_cpu.";
    cpu_num: HostCpu, Gauge, "ferrostat_sflow_cpus", 1.0, "CPUs, from sFlow host_cpu.";
    cpu_speed: HostCpu, Gauge, "ferrostat_sflow_cpu_speed_hertz", 1e6, "CPU clock, from sFlow host_cpu.";
    cpu_uptime: HostCpu, Gauge, "ferrostat_sflow_uptime_seconds", 1.0, "Time since boot, from sFlow host_cpu.";
    cpu_user: HostCpu, Counter32, "ferrostat_sflow_cpu_seconds_total" ["mode" = "user"], 0.001, CPU_HELP;
    cpu_nice: HostCpu, Counter32, "ferrostat_sflow_cpu_seconds_total" ["mode" = "nice"], 0.001, CPU_HELP;
    cpu_system: HostCpu, Counter32, "ferrostat_sflow_cpu_seconds_total" ["mode" = "system"], 0.001, CPU_HELP;
    cpu_idle: HostCpu, Counter32, "ferrostat_sflow_cpu_seconds_total" ["mode" = "idle"], 0.001, CPU_HELP;
    cpu_waiting_io: HostCpu, Counter32, "ferrostat_sflow_cpu_seconds_total" ["mode" = "iowait"], 0.001, CPU_HELP;
    cpu_intr: HostCpu, Counter32, "ferrostat_sflow_cpu_seconds_total" ["mode" = "irq"], 0.001, CPU_HELP;
    cpu_sintr: HostCpu, Counter32, "ferrostat_sflow_cpu_seconds_total" ["mode" = "softirq"], 0.001, CPU_HELP;
    cpu_interrupts: HostCpu, Counter32, "ferrostat_sflow_interrupts_total", 1.0, "Interrupts, from sFlow host_cpu.";
    cpu_contexts: HostCpu, Counter32, "ferrostat_sflow_context_switches_total", 1.0, "Context switches, from sFlow host_cpu.";
    mem_total: HostMemory, Gauge, "ferrostat_sflow_memory_bytes" ["kind" = "total"], 1.0, MEM_HELP;
    mem_free: HostMemory, Gauge, "ferrostat_sflow_memory_bytes" ["kind" = "free"], 1.0, MEM_HELP;
    mem_shared: HostMemory, Gauge, "ferrostat_sflow_memory_bytes" ["kind" = "shared"], 1.0, MEM_HELP;
    mem_buffers: HostMemory, Gauge, "ferrostat_sflow_memory_bytes" ["kind" = "buffers"], 1.0, MEM_HELP;
    mem_cached: HostMemory, Gauge, "ferrostat_sflow_memory_bytes" ["kind" = "cached"], 1.0, MEM_HELP;
    swap_total: HostMemory, Gauge, "ferrostat_sflow_swap_bytes" ["kind" = "total"], 1.0, "Swap by kind, from sFlow host_memory.";
    swap_free: HostMemory, Gauge, "ferrostat_sflow_swap_bytes" ["kind" = "free"], 1.0, "Swap by kind, from sFlow host_memory.";
    page_in: HostMemory, Counter32, "ferrostat_sflow_paged_pages_total" ["direction" = "in"], 1.0, "Pages paged in and out, from sFlow host_memory.";
    page_out: HostMemory, Counter32, "ferrostat_sflow_paged_pages_total" ["direction" = "out"], 1.0, "Pages paged in and out, from sFlow host_memory.";
    swap_in: HostMemory, Counter32, "ferrostat_sflow_swapped_pages_total" ["direction" = "in"], 1.0, "Pages swapped in and out, from sFlow host_memory.";
    swap_out: HostMemory, Counter32, "ferrostat_sflow_swapped_pages_total" ["direction" = "out"], 1.0, "Pages swapped in and out, from sFlow host_memory.";
    disk_total: HostDisk, Gauge, "ferrostat_sflow_filesystem_bytes" ["kind" = "total"], 1.0, "Local filesystems together, from sFlow host_disk_io.";
    disk_free: HostDisk, Gauge, "ferrostat_sflow_filesystem_bytes" ["kind" = "free"], 1.0, "Local filesystems together, from sFlow host_disk_io.";
    part_max_used: HostDisk, Float, "ferrostat_sflow_partition_max_used_ratio", 0.01, "Fill of the fullest partition, from sFlow host_disk_io.";
    reads: HostDisk, Counter32, "ferrostat_sflow_disk_reads_total", 1.0, "Disk reads completed, from sFlow host_disk_io.";
    read_time: HostDisk, Counter32, "ferrostat_sflow_disk_read_seconds_total", 0.001, "Time spent reading, from sFlow host_disk_io.";
    writes: HostDisk, Counter32, "ferrostat_sflow_disk_writes_total", 1.0, "Disk writes completed, from sFlow host_disk_io.";
    write_time: HostDisk, Counter32, "ferrostat_sflow_disk_write_seconds_total", 0.001, "Time spent writing, from sFlow host_disk_io.";
    bytes_read: HostDisk, Counter64, "ferrostat_sflow_disk_read_bytes_total", 1.0, "Bytes read from disks, from sFlow host_disk_io.";
    bytes_written: HostDisk, Counter64, "ferrostat_sflow_disk_written_bytes_total", 1.0, "Bytes written to disks, from sFlow host_disk_io.";
    bytes_in: HostNet, Counter64, "ferrostat_sflow_network_receive_bytes_total", 1.0, "Bytes received on physical interfaces, from sFlow host_net_io.";
    bytes_out: HostNet, Counter64, "ferrostat_sflow_network_transmit_bytes_total", 1.0, "Bytes sent on physical interfaces, from sFlow host_net_io.";
    packets_in: HostNet, Counter32, "ferrostat_sflow_network_receive_packets_total", 1.0, "Packets received, from sFlow host_net_io.";
    errs_in: HostNet, Counter32, "ferrostat_sflow_network_receive_errs_total", 1.0, "Receive errors, from sFlow host_net_io.";
    drops_in: HostNet, Counter32, "ferrostat_sflow_network_receive_drop_total", 1.0, "Received packets dropped, from sFlow host_net_io.";
    packets_out: HostNet, Counter32, "ferrostat_sflow_network_transmit_packets_total", 1.0, "Packets sent, from sFlow host_net_io.";
    errs_out: HostNet, Counter32, "ferrostat_sflow_network_transmit_errs_total", 1.0, "Transmit errors, from sFlow host_net_io.";
    drops_out: HostNet, Counter32, "ferrostat_sflow_network_transmit_drop_total", 1.0, "Packets dropped on send, from sFlow host_net_io.";
    vnode_mhz: HostNode, Gauge, "ferrostat_sflow_hypervisor_cpu_speed_hertz", 1e6, "Hypervisor CPU clock, from sFlow virt_node.";
    vnode_cpus: HostNode, Gauge, "ferrostat_sflow_hypervisor_cpus", 1.0, "Hypervisor CPUs, from sFlow virt_node.";
    vnode_memory: HostNode, Gauge, "ferrostat_sflow_hypervisor_memory_bytes" ["kind" = "total"], 1.0, "Hypervisor memory by kind, from sFlow virt_node.";
    vnode_memory_free: HostNode, Gauge, "ferrostat_sflow_hypervisor_memory_bytes" ["kind" = "free"], 1.0, "Hypervisor memory by kind, from sFlow virt_node.";
    vnode_num_domains: HostNode, Gauge, "ferrostat_sflow_hypervisor_domains", 1.0, "Active domains, from sFlow virt_node.";
});

const VDSK_HELP: &str = "VM disk space by kind, from sFlow virt_disk_io.";

columns!(VM, V, VM_COLUMNS {
    vcpu_state: VirtCpu, Gauge, "ferrostat_sflow_vm_state", 1.0, "libvirt domain state (1 running, 3 paused, 5 shut off), from sFlow virt_cpu.";
    vcpu_cpu_time: VirtCpu, Counter32, "ferrostat_sflow_vm_cpu_seconds_total", 0.001, "CPU time used by the VM, from sFlow virt_cpu.";
    vcpu_cpu_count: VirtCpu, Gauge, "ferrostat_sflow_vm_cpus", 1.0, "Virtual CPUs, from sFlow virt_cpu.";
    vmem_memory: VirtMemory, Gauge, "ferrostat_sflow_vm_memory_bytes" ["kind" = "current"], 1.0, "VM memory by kind, from sFlow virt_memory.";
    vmem_max_memory: VirtMemory, Gauge, "ferrostat_sflow_vm_memory_bytes" ["kind" = "max"], 1.0, "VM memory by kind, from sFlow virt_memory.";
    vdsk_capacity: VirtDisk, Gauge, "ferrostat_sflow_vm_disk_bytes" ["kind" = "capacity"], 1.0, VDSK_HELP;
    vdsk_allocation: VirtDisk, Gauge, "ferrostat_sflow_vm_disk_bytes" ["kind" = "allocation"], 1.0, VDSK_HELP;
    vdsk_available: VirtDisk, Gauge, "ferrostat_sflow_vm_disk_bytes" ["kind" = "available"], 1.0, VDSK_HELP;
    vdsk_rd_req: VirtDisk, Counter32, "ferrostat_sflow_vm_disk_reads_total", 1.0, "VM disk read requests, from sFlow virt_disk_io.";
    vdsk_wr_req: VirtDisk, Counter32, "ferrostat_sflow_vm_disk_writes_total", 1.0, "VM disk write requests, from sFlow virt_disk_io.";
    vdsk_errs: VirtDisk, Counter32, "ferrostat_sflow_vm_disk_errors_total", 1.0, "VM disk errors, from sFlow virt_disk_io.";
    vdsk_rd_bytes: VirtDisk, Counter64, "ferrostat_sflow_vm_disk_read_bytes_total", 1.0, "VM disk bytes read, from sFlow virt_disk_io.";
    vdsk_wr_bytes: VirtDisk, Counter64, "ferrostat_sflow_vm_disk_written_bytes_total", 1.0, "VM disk bytes written, from sFlow virt_disk_io.";
    vnio_bytes_in: VirtNet, Counter64, "ferrostat_sflow_vm_network_receive_bytes_total", 1.0, "VM bytes received, from sFlow virt_net_io.";
    vnio_bytes_out: VirtNet, Counter64, "ferrostat_sflow_vm_network_transmit_bytes_total", 1.0, "VM bytes sent, from sFlow virt_net_io.";
    vnio_packets_in: VirtNet, Counter32, "ferrostat_sflow_vm_network_receive_packets_total", 1.0, "VM packets received, from sFlow virt_net_io.";
    vnio_errs_in: VirtNet, Counter32, "ferrostat_sflow_vm_network_receive_errs_total", 1.0, "VM receive errors, from sFlow virt_net_io.";
    vnio_drops_in: VirtNet, Counter32, "ferrostat_sflow_vm_network_receive_drop_total", 1.0, "VM received packets dropped, from sFlow virt_net_io.";
    vnio_packets_out: VirtNet, Counter32, "ferrostat_sflow_vm_network_transmit_packets_total", 1.0, "VM packets sent, from sFlow virt_net_io.";
    vnio_errs_out: VirtNet, Counter32, "ferrostat_sflow_vm_network_transmit_errs_total", 1.0, "VM transmit errors, from sFlow virt_net_io.";
    vnio_drops_out: VirtNet, Counter32, "ferrostat_sflow_vm_network_transmit_drop_total", 1.0, "VM packets dropped on send, from sFlow virt_net_io.";
});

// A sample's known-columns mask is a u64.
const _: () = assert!(HOST_COLUMNS <= 64 && VM_COLUMNS <= 64);

/// One sample's values: `N` columns, each known or not (the record said "unknown", or
/// the sample had no such record). Floats are kept as their bits so the whole set is
/// one plain array.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Values<const N: usize> {
    raw: [i64; N],
    known: u64,
    /// Which records (methods) the sample carried: [`Method::bit`]s.
    pub record_mask: u32,
}

impl<const N: usize> Default for Values<N> {
    fn default() -> Self {
        Values {
            raw: [0; N],
            known: 0,
            record_mask: 0,
        }
    }
}

/// A value as stored and shown.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    /// An integer (counters, bytes, counts).
    Int(i64),
    /// A float (loads, percentages).
    Real(f64),
}

impl<const N: usize> Values<N> {
    /// Sets an integer column; `None` (unknown) leaves it unknown.
    pub fn set_int(&mut self, at: usize, v: Option<u64>) {
        if let Some(v) = v {
            // SQLite integers are signed 64-bit; a 64-bit counter past 2^63 is held at
            // the top rather than shown negative.
            self.raw[at] = i64::try_from(v).unwrap_or(i64::MAX);
            self.known |= 1 << at;
        }
    }

    /// Sets a float column.
    pub fn set_real(&mut self, at: usize, v: Option<f64>) {
        if let Some(v) = v.filter(|v| v.is_finite()) {
            self.raw[at] = v.to_bits() as i64;
            self.known |= 1 << at;
        }
    }

    /// The value of a column of `columns`, if known.
    pub fn get(&self, columns: &[Column], at: usize) -> Option<Value> {
        if self.known & (1 << at) == 0 {
            return None;
        }
        Some(match columns[at].kind {
            Kind::Float => Value::Real(f64::from_bits(self.raw[at] as u64)),
            _ => Value::Int(self.raw[at]),
        })
    }

    /// An integer column as u64, if known.
    pub fn int(&self, at: usize) -> Option<u64> {
        (self.known & (1 << at) != 0).then(|| self.raw[at].max(0) as u64)
    }

    /// Whether the sample carried `method`'s record.
    pub fn has(&self, method: Method) -> bool {
        self.record_mask & method.bit() != 0
    }
}

/// A host sample's values.
pub type HostValues = Values<HOST_COLUMNS>;
/// A VM sample's values.
pub type VmValues = Values<VM_COLUMNS>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_has_its_columns_in_api_order() {
        let names = |m: Method| m.columns().map(|(_, c)| c.name).collect::<Vec<_>>();
        assert_eq!(names(Method::HostCpu).len(), 17);
        assert_eq!(names(Method::HostMemory).len(), 11);
        assert_eq!(
            names(Method::HostDisk),
            [
                "disk_total",
                "disk_free",
                "part_max_used",
                "reads",
                "read_time",
                "writes",
                "write_time",
                "bytes_read",
                "bytes_written"
            ]
        );
        assert_eq!(names(Method::HostNet).len(), 8);
        assert_eq!(names(Method::HostNode).len(), 5);
        assert_eq!(
            names(Method::VirtMemory),
            ["vmem_memory", "vmem_max_memory"]
        );
        assert_eq!(names(Method::VirtNet).len(), 8);
    }

    #[test]
    fn unknown_stays_unknown_and_floats_round_trip() {
        let mut v = HostValues::default();
        v.set_int(H::mem_total as usize, Some(8 << 30));
        v.set_int(H::mem_free as usize, None);
        v.set_real(H::cpu_load_one as usize, Some(0.25));
        assert_eq!(
            v.get(HOST, H::mem_total as usize),
            Some(Value::Int(8 << 30))
        );
        assert_eq!(v.get(HOST, H::mem_free as usize), None);
        assert_eq!(
            v.get(HOST, H::cpu_load_one as usize),
            Some(Value::Real(0.25))
        );
        v.set_int(H::bytes_in as usize, Some(u64::MAX - 1));
        assert_eq!(v.int(H::bytes_in as usize), Some(i64::MAX as u64));
    }
}
