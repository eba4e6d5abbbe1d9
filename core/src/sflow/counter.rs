//! Counter records (sFlow v5 spec §5 `counter_data`, Host sFlow spec for 2000-2104),
//! each decoded into a `Copy` repr that borrows from the datagram, with `emit` for the
//! encoder and the field list sflowtool prints.
//!
//! "Unknown" values come out as `None`: all-ones counters, -1 percentages, -1.0 loads
//! (SFLOW_RECORDS.md §6). Records longer than their known layout are decoded by their
//! known prefix (the spec's append rule: host_cpu grew from 68 to 80 bytes); shorter ones
//! are malformed.

use core::fmt;

use crate::error::{Error, ErrorKind, Result};
use crate::sflow::sample::DataFormat;
use crate::sflow::xdr::{Reader, Writer};

/// One value of a record as sflowtool formats it (see [`CounterRecord::sflowtool_fields`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FieldValue<'a> {
    /// A 32-bit value; `None` (unknown) prints as 4294967295.
    U32(Option<u32>),
    /// A 64-bit value; `None` prints as 18446744073709551615.
    U64(Option<u64>),
    /// A percentage in hundredths; `None` (-1) prints as `unknown`.
    Percent(Option<i32>),
    /// A load average, printed with three decimals; `None` prints as -1.000.
    Load(Option<f32>),
    /// A string as sent (shown lossily).
    Text(&'a [u8]),
    /// A 16-byte UUID, printed 8-4-4-4-12.
    Uuid([u8; 16]),
}

impl fmt::Display for FieldValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FieldValue::U32(v) => write!(f, "{}", v.unwrap_or(u32::MAX)),
            FieldValue::U64(v) => write!(f, "{}", v.unwrap_or(u64::MAX)),
            FieldValue::Percent(None) => f.write_str("unknown"),
            FieldValue::Percent(Some(v)) => {
                let sign = if v < 0 { "-" } else { "" };
                write!(
                    f,
                    "{sign}{}.{:02}",
                    v.unsigned_abs() / 100,
                    v.unsigned_abs() % 100
                )
            }
            FieldValue::Load(v) => write!(f, "{:.3}", v.unwrap_or(-1.0)),
            FieldValue::Text(t) => write!(f, "{}", crate::text::Text(t)),
            FieldValue::Uuid(u) => {
                for (i, b) in u.iter().enumerate() {
                    if matches!(i, 4 | 6 | 8 | 10) {
                        f.write_str("-")?;
                    }
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }
    }
}

/// Receives a record's fields in sflowtool's order and spelling.
pub trait FieldSink {
    /// One named value.
    fn field(&mut self, name: &'static str, value: FieldValue<'_>);
}

/// How a field is encoded and what its "unknown" is.
trait Wire: Sized + Copy {
    fn read(r: &mut Reader<'_>) -> Result<Self>;
    fn write(self, w: &mut Writer<'_>) -> Result<()>;
    fn value(self) -> FieldValue<'static>;
}

impl Wire for Option<u32> {
    fn read(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Some(r.u32()?).filter(|&v| v != u32::MAX))
    }
    fn write(self, w: &mut Writer<'_>) -> Result<()> {
        w.u32(self.unwrap_or(u32::MAX))
    }
    fn value(self) -> FieldValue<'static> {
        FieldValue::U32(self)
    }
}

impl Wire for Option<u64> {
    fn read(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Some(r.u64()?).filter(|&v| v != u64::MAX))
    }
    fn write(self, w: &mut Writer<'_>) -> Result<()> {
        w.u64(self.unwrap_or(u64::MAX))
    }
    fn value(self) -> FieldValue<'static> {
        FieldValue::U64(self)
    }
}

impl Wire for u32 {
    fn read(r: &mut Reader<'_>) -> Result<Self> {
        r.u32()
    }
    fn write(self, w: &mut Writer<'_>) -> Result<()> {
        w.u32(self)
    }
    fn value(self) -> FieldValue<'static> {
        FieldValue::U32(Some(self))
    }
}

impl Wire for u64 {
    fn read(r: &mut Reader<'_>) -> Result<Self> {
        r.u64()
    }
    fn write(self, w: &mut Writer<'_>) -> Result<()> {
        w.u64(self)
    }
    fn value(self) -> FieldValue<'static> {
        FieldValue::U64(Some(self))
    }
}

/// A percentage in hundredths; -1 is unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Percent(pub Option<i32>);

impl Wire for Percent {
    fn read(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Percent(Some(r.i32()?).filter(|&v| v != -1)))
    }
    fn write(self, w: &mut Writer<'_>) -> Result<()> {
        w.i32(self.0.unwrap_or(-1))
    }
    fn value(self) -> FieldValue<'static> {
        FieldValue::Percent(self.0)
    }
}

/// A load average; -1.0 is unknown. Compared by bit pattern so round trips are exact.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Load(pub Option<f32>);

impl PartialEq for Load {
    fn eq(&self, other: &Self) -> bool {
        self.0.map(f32::to_bits) == other.0.map(f32::to_bits)
    }
}

impl Wire for Load {
    fn read(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Load(Some(r.f32()?).filter(|&v| v != -1.0)))
    }
    fn write(self, w: &mut Writer<'_>) -> Result<()> {
        w.f32(self.0.unwrap_or(-1.0))
    }
    fn value(self) -> FieldValue<'static> {
        FieldValue::Load(self.0)
    }
}

/// Declares a fixed-layout counter record: its struct, wire size and field order, and the
/// name sflowtool prints for each field.
macro_rules! fixed_record {
    (
        $(#[$meta:meta])*
        $name:ident = $format:literal, $len:literal {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty => $json:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize))]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )+
        }

        impl $name {
            /// The record's format number (enterprise 0).
            pub const FORMAT: u32 = $format;
            /// Its body length on the wire.
            pub const LEN: usize = $len;

            fn read(r: &mut Reader<'_>) -> Result<Self> {
                Ok($name { $( $field: <$ty as Wire>::read(r)?, )+ })
            }

            fn write(&self, w: &mut Writer<'_>) -> Result<()> {
                $( <$ty as Wire>::write(self.$field, w)?; )+
                Ok(())
            }

            fn fields(&self, sink: &mut dyn FieldSink) {
                $( sink.field($json, <$ty as Wire>::value(self.$field)); )+
            }
        }
    };
}

fixed_record! {
    /// 0:1 generic interface counters (`if_counters`, RFC 2233 names).
    InterfaceCounters = 1, 88 {
        /// ifIndex.
        if_index: u32 => "ifIndex",
        /// ifType.
        if_type: u32 => "networkType",
        /// ifSpeed, bits per second.
        if_speed: u64 => "ifSpeed",
        /// 0 unknown, 1 full-duplex, 2 half-duplex, 3 in, 4 out.
        if_direction: u32 => "ifDirection",
        /// Bit 0 admin up, bit 1 oper up.
        if_status: u32 => "ifStatus",
        /// ifInOctets.
        in_octets: Option<u64> => "ifInOctets",
        /// ifInUcastPkts.
        in_ucast_pkts: Option<u32> => "ifInUcastPkts",
        /// ifInMulticastPkts.
        in_multicast_pkts: Option<u32> => "ifInMulticastPkts",
        /// ifInBroadcastPkts.
        in_broadcast_pkts: Option<u32> => "ifInBroadcastPkts",
        /// ifInDiscards.
        in_discards: Option<u32> => "ifInDiscards",
        /// ifInErrors.
        in_errors: Option<u32> => "ifInErrors",
        /// ifInUnknownProtos.
        in_unknown_protos: Option<u32> => "ifInUnknownProtos",
        /// ifOutOctets.
        out_octets: Option<u64> => "ifOutOctets",
        /// ifOutUcastPkts.
        out_ucast_pkts: Option<u32> => "ifOutUcastPkts",
        /// ifOutMulticastPkts.
        out_multicast_pkts: Option<u32> => "ifOutMulticastPkts",
        /// ifOutBroadcastPkts.
        out_broadcast_pkts: Option<u32> => "ifOutBroadcastPkts",
        /// ifOutDiscards.
        out_discards: Option<u32> => "ifOutDiscards",
        /// ifOutErrors.
        out_errors: Option<u32> => "ifOutErrors",
        /// ifPromiscuousMode.
        promiscuous_mode: u32 => "ifPromiscuousMode",
    }
}

fixed_record! {
    /// 0:2 ethernet interface counters (RFC 2358 dot3Stats).
    EthernetCounters = 2, 52 {
        /// dot3StatsAlignmentErrors.
        alignment_errors: Option<u32> => "dot3StatsAlignmentErrors",
        /// dot3StatsFCSErrors.
        fcs_errors: Option<u32> => "dot3StatsFCSErrors",
        /// dot3StatsSingleCollisionFrames.
        single_collision_frames: Option<u32> => "dot3StatsSingleCollisionFrames",
        /// dot3StatsMultipleCollisionFrames.
        multiple_collision_frames: Option<u32> => "dot3StatsMultipleCollisionFrames",
        /// dot3StatsSQETestErrors.
        sqe_test_errors: Option<u32> => "dot3StatsSQETestErrors",
        /// dot3StatsDeferredTransmissions.
        deferred_transmissions: Option<u32> => "dot3StatsDeferredTransmissions",
        /// dot3StatsLateCollisions.
        late_collisions: Option<u32> => "dot3StatsLateCollisions",
        /// dot3StatsExcessiveCollisions.
        excessive_collisions: Option<u32> => "dot3StatsExcessiveCollisions",
        /// dot3StatsInternalMacTransmitErrors.
        internal_mac_transmit_errors: Option<u32> => "dot3StatsInternalMacTransmitErrors",
        /// dot3StatsCarrierSenseErrors.
        carrier_sense_errors: Option<u32> => "dot3StatsCarrierSenseErrors",
        /// dot3StatsFrameTooLongs.
        frame_too_longs: Option<u32> => "dot3StatsFrameTooLongs",
        /// dot3StatsInternalMacReceiveErrors.
        internal_mac_receive_errors: Option<u32> => "dot3StatsInternalMacReceiveErrors",
        /// dot3StatsSymbolErrors.
        symbol_errors: Option<u32> => "dot3StatsSymbolErrors",
    }
}

fixed_record! {
    /// 0:5 VLAN counters.
    VlanCounters = 5, 28 {
        /// VLAN id.
        vlan_id: u32 => "in_vlan",
        /// Octets.
        octets: Option<u64> => "octets",
        /// Unicast packets.
        ucast_pkts: Option<u32> => "ucastPkts",
        /// Multicast packets.
        multicast_pkts: Option<u32> => "multicastPkts",
        /// Broadcast packets.
        broadcast_pkts: Option<u32> => "broadcastPkts",
        /// Discards.
        discards: Option<u32> => "discards",
    }
}

fixed_record! {
    /// 0:1001 processor information (switches).
    ProcessorCounters = 1001, 28 {
        /// 5-second CPU utilisation, hundredths of a percent.
        cpu_5s: Percent => "5s_cpu",
        /// 1-minute CPU utilisation.
        cpu_1m: Percent => "1m_cpu",
        /// 5-minute CPU utilisation.
        cpu_5m: Percent => "5m_cpu",
        /// Total memory, bytes.
        total_memory: Option<u64> => "total_memory_bytes",
        /// Free memory, bytes.
        free_memory: Option<u64> => "free_memory_bytes",
    }
}

fixed_record! {
    /// 0:2002 host_parent: the container of a VM or container.
    HostParent = 2002, 8 {
        /// Data-source class of the parent (2 = physical host).
        container_type: u32 => "parent_dsClass",
        /// Index of the parent.
        container_index: u32 => "parent_dsIndex",
    }
}

fixed_record! {
    /// 0:2004 host_memory, bytes and page counts.
    HostMemory = 2004, 72 {
        /// Total memory.
        mem_total: Option<u64> => "mem_total",
        /// Free memory.
        mem_free: Option<u64> => "mem_free",
        /// Shared memory.
        mem_shared: Option<u64> => "mem_shared",
        /// Buffers.
        mem_buffers: Option<u64> => "mem_buffers",
        /// Page cache.
        mem_cached: Option<u64> => "mem_cached",
        /// Swap size.
        swap_total: Option<u64> => "swap_total",
        /// Free swap.
        swap_free: Option<u64> => "swap_free",
        /// Pages paged in.
        page_in: Option<u32> => "page_in",
        /// Pages paged out.
        page_out: Option<u32> => "page_out",
        /// Pages swapped in.
        swap_in: Option<u32> => "swap_in",
        /// Pages swapped out.
        swap_out: Option<u32> => "swap_out",
    }
}

fixed_record! {
    /// 0:2005 host_disk_io.
    HostDiskIo = 2005, 52 {
        /// Total disk size, bytes.
        disk_total: Option<u64> => "disk_total",
        /// Free disk, bytes.
        disk_free: Option<u64> => "disk_free",
        /// Fullest partition, hundredths of a percent.
        part_max_used: Percent => "disk_partition_max_used",
        /// Reads.
        reads: Option<u32> => "disk_reads",
        /// Bytes read.
        bytes_read: Option<u64> => "disk_bytes_read",
        /// Milliseconds reading.
        read_time: Option<u32> => "disk_read_time",
        /// Writes.
        writes: Option<u32> => "disk_writes",
        /// Bytes written.
        bytes_written: Option<u64> => "disk_bytes_written",
        /// Milliseconds writing.
        write_time: Option<u32> => "disk_write_time",
    }
}

fixed_record! {
    /// 0:2006 host_net_io (all interfaces together).
    HostNetIo = 2006, 40 {
        /// Bytes in.
        bytes_in: Option<u64> => "nio_bytes_in",
        /// Packets in.
        pkts_in: Option<u32> => "nio_pkts_in",
        /// Errors in.
        errs_in: Option<u32> => "nio_errs_in",
        /// Drops in.
        drops_in: Option<u32> => "nio_drops_in",
        /// Bytes out.
        bytes_out: Option<u64> => "nio_bytes_out",
        /// Packets out.
        pkts_out: Option<u32> => "nio_pkts_out",
        /// Errors out.
        errs_out: Option<u32> => "nio_errs_out",
        /// Drops out.
        drops_out: Option<u32> => "nio_drops_out",
    }
}

fixed_record! {
    /// 0:2007 host IP counters (RFC 4293).
    HostIp = 2007, 76 {
        /// ipForwarding (1 forwarding, 2 not).
        forwarding: u32 => "ipForwarding",
        /// ipDefaultTTL.
        default_ttl: u32 => "ipDefaultTTL",
        /// ipInReceives.
        in_receives: Option<u32> => "ipInReceives",
        /// ipInHdrErrors.
        in_hdr_errors: Option<u32> => "ipInHdrErrors",
        /// ipInAddrErrors.
        in_addr_errors: Option<u32> => "ipInAddrErrors",
        /// ipForwDatagrams.
        forw_datagrams: Option<u32> => "ipForwDatagrams",
        /// ipInUnknownProtos.
        in_unknown_protos: Option<u32> => "ipInUnknownProtos",
        /// ipInDiscards.
        in_discards: Option<u32> => "ipInDiscards",
        /// ipInDelivers.
        in_delivers: Option<u32> => "ipInDelivers",
        /// ipOutRequests.
        out_requests: Option<u32> => "ipOutRequests",
        /// ipOutDiscards.
        out_discards: Option<u32> => "ipOutDiscards",
        /// ipOutNoRoutes.
        out_no_routes: Option<u32> => "ipOutNoRoutes",
        /// ipReasmTimeout.
        reasm_timeout: Option<u32> => "ipReasmTimeout",
        /// ipReasmReqds.
        reasm_reqds: Option<u32> => "ipReasmReqds",
        /// ipReasmOKs.
        reasm_oks: Option<u32> => "ipReasmOKs",
        /// ipReasmFails.
        reasm_fails: Option<u32> => "ipReasmFails",
        /// ipFragOKs.
        frag_oks: Option<u32> => "ipFragOKs",
        /// ipFragFails.
        frag_fails: Option<u32> => "ipFragFails",
        /// ipFragCreates.
        frag_creates: Option<u32> => "ipFragCreates",
    }
}

fixed_record! {
    /// 0:2008 host ICMP counters (RFC 4293).
    HostIcmp = 2008, 100 {
        /// icmpInMsgs.
        in_msgs: Option<u32> => "icmpInMsgs",
        /// icmpInErrors.
        in_errors: Option<u32> => "icmpInErrors",
        /// icmpInDestUnreachs.
        in_dest_unreachs: Option<u32> => "icmpInDestUnreachs",
        /// icmpInTimeExcds.
        in_time_excds: Option<u32> => "icmpInTimeExcds",
        /// icmpInParamProbs.
        in_param_probs: Option<u32> => "icmpInParamProbs",
        /// icmpInSrcQuenchs.
        in_src_quenchs: Option<u32> => "icmpInSrcQuenchs",
        /// icmpInRedirects.
        in_redirects: Option<u32> => "icmpInRedirects",
        /// icmpInEchos.
        in_echos: Option<u32> => "icmpInEchos",
        /// icmpInEchoReps.
        in_echo_reps: Option<u32> => "icmpInEchoReps",
        /// icmpInTimestamps.
        in_timestamps: Option<u32> => "icmpInTimestamps",
        /// icmpInAddrMasks.
        in_addr_masks: Option<u32> => "icmpInAddrMasks",
        /// icmpInAddrMaskReps.
        in_addr_mask_reps: Option<u32> => "icmpInAddrMaskReps",
        /// icmpOutMsgs.
        out_msgs: Option<u32> => "icmpOutMsgs",
        /// icmpOutErrors.
        out_errors: Option<u32> => "icmpOutErrors",
        /// icmpOutDestUnreachs.
        out_dest_unreachs: Option<u32> => "icmpOutDestUnreachs",
        /// icmpOutTimeExcds.
        out_time_excds: Option<u32> => "icmpOutTimeExcds",
        /// icmpOutParamProbs.
        out_param_probs: Option<u32> => "icmpOutParamProbs",
        /// icmpOutSrcQuenchs.
        out_src_quenchs: Option<u32> => "icmpOutSrcQuenchs",
        /// icmpOutRedirects.
        out_redirects: Option<u32> => "icmpOutRedirects",
        /// icmpOutEchos.
        out_echos: Option<u32> => "icmpOutEchos",
        /// icmpOutEchoReps.
        out_echo_reps: Option<u32> => "icmpOutEchoReps",
        /// icmpOutTimestamps.
        out_timestamps: Option<u32> => "icmpOutTimestamps",
        /// icmpOutTimestampReps.
        out_timestamp_reps: Option<u32> => "icmpOutTimestampReps",
        /// icmpOutAddrMasks.
        out_addr_masks: Option<u32> => "icmpOutAddrMasks",
        /// icmpOutAddrMaskReps.
        out_addr_mask_reps: Option<u32> => "icmpOutAddrMaskReps",
    }
}

fixed_record! {
    /// 0:2009 host TCP counters (RFC 4022).
    HostTcp = 2009, 60 {
        /// tcpRtoAlgorithm.
        rto_algorithm: u32 => "tcpRtoAlgorithm",
        /// tcpRtoMin.
        rto_min: u32 => "tcpRtoMin",
        /// tcpRtoMax.
        rto_max: u32 => "tcpRtoMax",
        /// tcpMaxConn (all ones: no limit).
        max_conn: Option<u32> => "tcpMaxConn",
        /// tcpActiveOpens.
        active_opens: Option<u32> => "tcpActiveOpens",
        /// tcpPassiveOpens.
        passive_opens: Option<u32> => "tcpPassiveOpens",
        /// tcpAttemptFails.
        attempt_fails: Option<u32> => "tcpAttemptFails",
        /// tcpEstabResets.
        estab_resets: Option<u32> => "tcpEstabResets",
        /// tcpCurrEstab.
        curr_estab: Option<u32> => "tcpCurrEstab",
        /// tcpInSegs.
        in_segs: Option<u32> => "tcpInSegs",
        /// tcpOutSegs.
        out_segs: Option<u32> => "tcpOutSegs",
        /// tcpRetransSegs.
        retrans_segs: Option<u32> => "tcpRetransSegs",
        /// tcpInErrs.
        in_errs: Option<u32> => "tcpInErrs",
        /// tcpOutRsts.
        out_rsts: Option<u32> => "tcpOutRsts",
        /// tcpInCsumErrors.
        in_csum_errors: Option<u32> => "tcpInCsumErrors",
    }
}

fixed_record! {
    /// 0:2010 host UDP counters (RFC 4113).
    HostUdp = 2010, 28 {
        /// udpInDatagrams.
        in_datagrams: Option<u32> => "udpInDatagrams",
        /// udpNoPorts.
        no_ports: Option<u32> => "udpNoPorts",
        /// udpInErrors.
        in_errors: Option<u32> => "udpInErrors",
        /// udpOutDatagrams.
        out_datagrams: Option<u32> => "udpOutDatagrams",
        /// udpRcvbufErrors.
        rcvbuf_errors: Option<u32> => "udpRcvbufErrors",
        /// udpSndbufErrors.
        sndbuf_errors: Option<u32> => "udpSndbufErrors",
        /// udpInCsumErrors.
        in_csum_errors: Option<u32> => "udpInCsumErrors",
    }
}

fixed_record! {
    /// 0:2100 virt_node: the hypervisor.
    VirtNode = 2100, 28 {
        /// CPU clock, MHz.
        mhz: Option<u32> => "vnode_mhz",
        /// Active CPUs.
        cpus: Option<u32> => "vnode_cpus",
        /// Memory, bytes.
        memory: Option<u64> => "vnode_memory",
        /// Free memory, bytes.
        memory_free: Option<u64> => "vnode_memory_free",
        /// Active domains.
        num_domains: Option<u32> => "vnode_num_domains",
    }
}

fixed_record! {
    /// 0:2101 virt_cpu: one VM's CPU.
    VirtCpu = 2101, 12 {
        /// libvirt virDomainState (1 running, 3 paused, 5 shutoff, ...).
        state: u32 => "vcpu_state",
        /// CPU time used, ms.
        cpu_time: Option<u32> => "vcpu_cpu_mS",
        /// Virtual CPUs.
        nr_virt_cpu: Option<u32> => "vcpu_cpuCount",
    }
}

fixed_record! {
    /// 0:2102 virt_memory.
    VirtMemory = 2102, 16 {
        /// Memory in use, bytes.
        memory: Option<u64> => "vmem_memory",
        /// Memory limit, bytes.
        max_memory: Option<u64> => "vmem_maxMemory",
    }
}

fixed_record! {
    /// 0:2103 virt_disk_io.
    VirtDiskIo = 2103, 52 {
        /// Capacity, bytes.
        capacity: Option<u64> => "vdsk_capacity",
        /// Allocation, bytes.
        allocation: Option<u64> => "vdsk_allocation",
        /// Available (errata: "physical"), bytes.
        available: Option<u64> => "vdsk_available",
        /// Read requests.
        rd_req: Option<u32> => "vdsk_rd_req",
        /// Bytes read.
        rd_bytes: Option<u64> => "vdsk_rd_bytes",
        /// Write requests.
        wr_req: Option<u32> => "vdsk_wr_req",
        /// Bytes written.
        wr_bytes: Option<u64> => "vdsk_wr_bytes",
        /// Errors.
        errs: Option<u32> => "vdsk_errs",
    }
}

fixed_record! {
    /// 0:2104 virt_net_io (same layout as host_net_io).
    VirtNetIo = 2104, 40 {
        /// Bytes received.
        rx_bytes: Option<u64> => "vnio_bytes_in",
        /// Packets received.
        rx_packets: Option<u32> => "vnio_pkts_in",
        /// Receive errors.
        rx_errs: Option<u32> => "vnio_errs_in",
        /// Receive drops.
        rx_drop: Option<u32> => "vnio_drops_in",
        /// Bytes sent.
        tx_bytes: Option<u64> => "vnio_bytes_out",
        /// Packets sent.
        tx_packets: Option<u32> => "vnio_pkts_out",
        /// Transmit errors.
        tx_errs: Option<u32> => "vnio_errs_out",
        /// Transmit drops.
        tx_drop: Option<u32> => "vnio_drops_out",
    }
}

fixed_record! {
    /// The 68-byte core of 0:2003 host_cpu (Host sFlow 2010).
    HostCpuBase = 2003, 68 {
        /// 1-minute load.
        load_one: Load => "cpu_load_one",
        /// 5-minute load.
        load_five: Load => "cpu_load_five",
        /// 15-minute load.
        load_fifteen: Load => "cpu_load_fifteen",
        /// Running processes.
        proc_run: Option<u32> => "cpu_proc_run",
        /// Total processes.
        proc_total: Option<u32> => "cpu_proc_total",
        /// CPUs.
        cpu_num: Option<u32> => "cpu_num",
        /// CPU speed, MHz.
        cpu_speed: Option<u32> => "cpu_speed",
        /// Seconds since boot.
        uptime: Option<u32> => "cpu_uptime",
        /// User time, ms.
        cpu_user: Option<u32> => "cpu_user",
        /// Nice time, ms.
        cpu_nice: Option<u32> => "cpu_nice",
        /// System time, ms.
        cpu_system: Option<u32> => "cpu_system",
        /// Idle time, ms.
        cpu_idle: Option<u32> => "cpu_idle",
        /// I/O wait, ms.
        cpu_wio: Option<u32> => "cpu_wio",
        /// Interrupt time, ms.
        cpu_intr: Option<u32> => "cpuintr",
        /// Soft interrupt time, ms.
        cpu_sintr: Option<u32> => "cpu_sintr",
        /// Interrupts.
        interrupts: Option<u32> => "cpuinterrupts",
        /// Context switches.
        contexts: Option<u32> => "cpu_contexts",
    }
}

fixed_record! {
    /// The 12 bytes the 80-byte host_cpu appends (since 2014).
    HostCpuExtra = 2003, 12 {
        /// Stolen time, ms.
        cpu_steal: Option<u32> => "cpu_steal",
        /// Guest time, ms.
        cpu_guest: Option<u32> => "cpu_guest",
        /// Niced guest time, ms.
        cpu_guest_nice: Option<u32> => "cpu_guest_nice",
    }
}

/// 0:2003 host_cpu in either form: 68 bytes, or 80 with steal and guest times.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct HostCpu {
    /// The fields every form has.
    pub base: HostCpuBase,
    /// Steal and guest times, in the 80-byte form only.
    pub extra: Option<HostCpuExtra>,
}

/// 0:2000 host_descr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct HostDescription<'a> {
    /// Host name (at most 64 bytes), as sent.
    pub hostname: crate::text::Text<'a>,
    /// The 16 raw UUID bytes (all zeros if unknown).
    pub uuid: [u8; 16],
    /// Machine type (2 x86, 3 x86_64, 10 arm, ...).
    pub machine_type: u32,
    /// Operating system (2 linux, 3 windows, ...).
    pub os_name: u32,
    /// OS release (at most 32 bytes), as sent.
    pub os_release: crate::text::Text<'a>,
}

/// 0:2001 host_adapters: network adapters and their MACs, iterated lazily.
#[derive(Clone, Copy, Debug)]
pub struct HostAdapters<'a> {
    /// Adapters declared.
    pub num_adapters: u32,
    body: &'a [u8],
    at: usize,
}

/// Equal when the adapters are, wherever in a datagram each was read from.
impl PartialEq for HostAdapters<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.num_adapters == other.num_adapters && self.adapters().eq(other.adapters())
    }
}

impl Eq for HostAdapters<'_> {}

/// One adapter of [`HostAdapters`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Adapter<'a> {
    /// ifIndex (0 = unknown).
    pub if_index: u32,
    /// MACs declared.
    pub num_macs: u32,
    macs: &'a [u8],
}

impl<'a> Adapter<'a> {
    /// The MAC addresses (each padded to 8 bytes on the wire).
    pub fn macs(&self) -> impl Iterator<Item = [u8; 6]> + 'a {
        self.macs
            .chunks_exact(8)
            .map(|m| [m[0], m[1], m[2], m[3], m[4], m[5]])
    }
}

impl<'a> HostAdapters<'a> {
    /// The adapters. The record was checked when parsed, so this never fails.
    pub fn adapters(&self) -> impl Iterator<Item = Adapter<'a>> + 'a {
        let mut r = Reader::new(self.body, self.at);
        let n = self.num_adapters;
        (0..n).map_while(move |_| read_adapter(&mut r).ok())
    }
}

fn read_adapter<'a>(r: &mut Reader<'a>) -> Result<Adapter<'a>> {
    let if_index = r.u32()?;
    let at = r.offset();
    let num_macs = r.u32()?;
    let len = (num_macs as usize)
        .checked_mul(8)
        .filter(|&l| l <= r.remaining())
        .ok_or(Error::new(ErrorKind::LengthMismatch, at))?;
    Ok(Adapter {
        if_index,
        num_macs,
        macs: r.take(len)?,
    })
}

/// A counter record.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum CounterRecord<'a> {
    /// 0:1.
    Interface(InterfaceCounters),
    /// 0:2.
    Ethernet(EthernetCounters),
    /// 0:5.
    Vlan(VlanCounters),
    /// 0:1001.
    Processor(ProcessorCounters),
    /// 0:1005 port name: the interface name hsflowd sends beside its 0:1 counters.
    PortName(crate::text::Text<'a>),
    /// 0:2000.
    HostDescription(HostDescription<'a>),
    /// 0:2001.
    HostAdapters(HostAdapters<'a>),
    /// 0:2002.
    HostParent(HostParent),
    /// 0:2003.
    HostCpu(HostCpu),
    /// 0:2004.
    HostMemory(HostMemory),
    /// 0:2005.
    HostDiskIo(HostDiskIo),
    /// 0:2006.
    HostNetIo(HostNetIo),
    /// 0:2007.
    HostIp(HostIp),
    /// 0:2008.
    HostIcmp(HostIcmp),
    /// 0:2009.
    HostTcp(HostTcp),
    /// 0:2010.
    HostUdp(HostUdp),
    /// 0:2100.
    VirtNode(VirtNode),
    /// 0:2101.
    VirtCpu(VirtCpu),
    /// 0:2102.
    VirtMemory(VirtMemory),
    /// 0:2103.
    VirtDiskIo(VirtDiskIo),
    /// 0:2104.
    VirtNetIo(VirtNetIo),
    /// Any other record, skipped by its length and kept raw.
    Unknown {
        /// Its `counter_format`.
        format: DataFormat,
        /// Its body (serialized as its length).
        #[cfg_attr(
            feature = "serde",
            serde(
                rename = "length",
                serialize_with = "crate::sflow::sample::serialize_len"
            )
        )]
        data: &'a [u8],
    },
}

/// A MAC address shown as `aa:bb:cc:dd:ee:ff`.
#[cfg(feature = "serde")]
struct Mac([u8; 6]);

#[cfg(feature = "serde")]
impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Adapter<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Macs<'m>(Adapter<'m>);
        impl serde::Serialize for Macs<'_> {
            fn serialize<S: serde::Serializer>(
                &self,
                s: S,
            ) -> core::result::Result<S::Ok, S::Error> {
                s.collect_seq(self.0.macs().map(|m| Collected(Mac(m))))
            }
        }
        let mut st = s.serialize_struct("Adapter", 2)?;
        st.serialize_field("if_index", &self.if_index)?;
        st.serialize_field("macs", &Macs(*self))?;
        st.end()
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for HostAdapters<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.adapters())
    }
}

/// Serializes a `Display` value as a string.
#[cfg(feature = "serde")]
struct Collected<T>(T);

#[cfg(feature = "serde")]
impl<T: fmt::Display> serde::Serialize for Collected<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// Decodes a fixed record from a body at least `T::LEN` long.
macro_rules! fixed {
    ($ty:ident, $variant:ident, $body:expr, $at:expr) => {{
        if $body.len() < $ty::LEN {
            return Err(Error::new(ErrorKind::LengthMismatch, $at));
        }
        CounterRecord::$variant($ty::read(&mut Reader::new(&$body[..$ty::LEN], $at))?)
    }};
}

/// Decodes only the Host sFlow records a gateway forwards (2000 host_descr, 2003-2006
/// host_cpu, memory, disk and net); `None` for any other record. A firmware that needs no
/// others links this instead of the full decoder.
pub(crate) fn parse_host(
    format: DataFormat,
    body: &[u8],
    at: usize,
) -> Result<Option<CounterRecord<'_>>> {
    if format.enterprise != 0 {
        return Ok(None);
    }
    Ok(Some(match format.format {
        2004 => fixed!(HostMemory, HostMemory, body, at),
        2005 => fixed!(HostDiskIo, HostDiskIo, body, at),
        2006 => fixed!(HostNetIo, HostNetIo, body, at),
        2003 => {
            if body.len() < HostCpuBase::LEN {
                return Err(Error::new(ErrorKind::LengthMismatch, at));
            }
            let mut r = Reader::new(body, at);
            let base = HostCpuBase::read(&mut r)?;
            let extra = if r.remaining() >= HostCpuExtra::LEN {
                Some(HostCpuExtra::read(&mut r)?)
            } else {
                None
            };
            CounterRecord::HostCpu(HostCpu { base, extra })
        }
        2000 => {
            let mut r = Reader::new(body, at);
            let hostname = r.opaque_var(64)?;
            let uuid_bytes = r.take(16)?;
            let mut uuid = [0u8; 16];
            uuid.copy_from_slice(uuid_bytes);
            CounterRecord::HostDescription(HostDescription {
                hostname: crate::text::Text(hostname),
                uuid,
                machine_type: r.u32()?,
                os_name: r.u32()?,
                os_release: crate::text::Text(r.opaque_var(32)?),
            })
        }
        _ => return Ok(None),
    }))
}

pub(crate) fn parse(format: DataFormat, body: &[u8], at: usize) -> Result<CounterRecord<'_>> {
    if format.enterprise != 0 {
        return Ok(CounterRecord::Unknown { format, data: body });
    }
    if let Some(host) = parse_host(format, body, at)? {
        return Ok(host);
    }
    Ok(match format.format {
        1 => fixed!(InterfaceCounters, Interface, body, at),
        2 => fixed!(EthernetCounters, Ethernet, body, at),
        5 => fixed!(VlanCounters, Vlan, body, at),
        1001 => fixed!(ProcessorCounters, Processor, body, at),
        2002 => fixed!(HostParent, HostParent, body, at),
        2007 => fixed!(HostIp, HostIp, body, at),
        2008 => fixed!(HostIcmp, HostIcmp, body, at),
        2009 => fixed!(HostTcp, HostTcp, body, at),
        2010 => fixed!(HostUdp, HostUdp, body, at),
        2100 => fixed!(VirtNode, VirtNode, body, at),
        2101 => fixed!(VirtCpu, VirtCpu, body, at),
        2102 => fixed!(VirtMemory, VirtMemory, body, at),
        2103 => fixed!(VirtDiskIo, VirtDiskIo, body, at),
        2104 => fixed!(VirtNetIo, VirtNetIo, body, at),
        1005 => CounterRecord::PortName(crate::text::Text(Reader::new(body, at).opaque_var(255)?)),
        2001 => {
            let mut r = Reader::new(body, at);
            let num_adapters = r.u32()?;
            let adapters_at = r.offset();
            let adapters = r.rest();
            // Walk once now so a lying count or MAC count is an error here, not later.
            let mut check = Reader::new(adapters, adapters_at);
            for _ in 0..num_adapters {
                read_adapter(&mut check)?;
            }
            CounterRecord::HostAdapters(HostAdapters {
                num_adapters,
                body: adapters,
                at: adapters_at,
            })
        }
        _ => CounterRecord::Unknown { format, data: body },
    })
}

impl CounterRecord<'_> {
    /// The record's format.
    pub fn format(&self) -> DataFormat {
        let f = match self {
            CounterRecord::Interface(_) => 1,
            CounterRecord::Ethernet(_) => 2,
            CounterRecord::Vlan(_) => 5,
            CounterRecord::Processor(_) => 1001,
            CounterRecord::PortName(_) => 1005,
            CounterRecord::HostDescription(_) => 2000,
            CounterRecord::HostAdapters(_) => 2001,
            CounterRecord::HostParent(_) => 2002,
            CounterRecord::HostCpu(_) => 2003,
            CounterRecord::HostMemory(_) => 2004,
            CounterRecord::HostDiskIo(_) => 2005,
            CounterRecord::HostNetIo(_) => 2006,
            CounterRecord::HostIp(_) => 2007,
            CounterRecord::HostIcmp(_) => 2008,
            CounterRecord::HostTcp(_) => 2009,
            CounterRecord::HostUdp(_) => 2010,
            CounterRecord::VirtNode(_) => 2100,
            CounterRecord::VirtCpu(_) => 2101,
            CounterRecord::VirtMemory(_) => 2102,
            CounterRecord::VirtDiskIo(_) => 2103,
            CounterRecord::VirtNetIo(_) => 2104,
            CounterRecord::Unknown { format, .. } => return *format,
        };
        DataFormat::standard(f)
    }

    /// Writes the record (format, length, body), as hsflowd would.
    ///
    /// # Errors
    /// `BufferTooSmall` when `w` runs out of room.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        let len_at = w.begin_tlv(self.format().to_u32())?;
        match self {
            CounterRecord::Interface(r) => r.write(w)?,
            CounterRecord::Ethernet(r) => r.write(w)?,
            CounterRecord::Vlan(r) => r.write(w)?,
            CounterRecord::Processor(r) => r.write(w)?,
            CounterRecord::HostParent(r) => r.write(w)?,
            CounterRecord::HostMemory(r) => r.write(w)?,
            CounterRecord::HostDiskIo(r) => r.write(w)?,
            CounterRecord::HostNetIo(r) => r.write(w)?,
            CounterRecord::HostIp(r) => r.write(w)?,
            CounterRecord::HostIcmp(r) => r.write(w)?,
            CounterRecord::HostTcp(r) => r.write(w)?,
            CounterRecord::HostUdp(r) => r.write(w)?,
            CounterRecord::VirtNode(r) => r.write(w)?,
            CounterRecord::VirtCpu(r) => r.write(w)?,
            CounterRecord::VirtMemory(r) => r.write(w)?,
            CounterRecord::VirtDiskIo(r) => r.write(w)?,
            CounterRecord::VirtNetIo(r) => r.write(w)?,
            CounterRecord::HostCpu(r) => {
                r.base.write(w)?;
                if let Some(extra) = r.extra {
                    extra.write(w)?;
                }
            }
            CounterRecord::PortName(name) => w.opaque_var(name.as_bytes())?,
            CounterRecord::HostDescription(d) => {
                w.opaque_var(d.hostname.as_bytes())?;
                w.bytes(&d.uuid)?;
                w.u32(d.machine_type)?;
                w.u32(d.os_name)?;
                w.opaque_var(d.os_release.as_bytes())?;
            }
            CounterRecord::HostAdapters(a) => {
                // Canonical form: the adapters alone, whatever followed them.
                w.u32(a.num_adapters)?;
                for adapter in a.adapters() {
                    w.u32(adapter.if_index)?;
                    w.u32(adapter.num_macs)?;
                    w.bytes(adapter.macs)?;
                }
            }
            CounterRecord::Unknown { data, .. } => {
                w.opaque_fixed(data)?;
                w.patch_u32(len_at, data.len() as u32);
                return Ok(());
            }
        }
        w.end_tlv(len_at);
        Ok(())
    }

    /// Hands each field to `sink` with the name and formatting `sflowtool -j` uses, in its
    /// order. Host adapters are left to [`CounterRecord::HostAdapters`]'s accessors (a
    /// list, not scalar fields); unknown records have none.
    pub fn sflowtool_fields(&self, sink: &mut dyn FieldSink) {
        match self {
            CounterRecord::Interface(r) => r.fields(sink),
            CounterRecord::Ethernet(r) => r.fields(sink),
            CounterRecord::Vlan(r) => r.fields(sink),
            CounterRecord::Processor(r) => r.fields(sink),
            CounterRecord::HostParent(r) => r.fields(sink),
            CounterRecord::HostMemory(r) => r.fields(sink),
            CounterRecord::HostDiskIo(r) => r.fields(sink),
            CounterRecord::HostNetIo(r) => r.fields(sink),
            CounterRecord::HostIp(r) => r.fields(sink),
            CounterRecord::HostIcmp(r) => r.fields(sink),
            CounterRecord::HostTcp(r) => r.fields(sink),
            CounterRecord::HostUdp(r) => r.fields(sink),
            CounterRecord::VirtNode(r) => r.fields(sink),
            CounterRecord::VirtCpu(r) => r.fields(sink),
            CounterRecord::VirtMemory(r) => r.fields(sink),
            CounterRecord::VirtDiskIo(r) => r.fields(sink),
            CounterRecord::VirtNetIo(r) => r.fields(sink),
            CounterRecord::HostCpu(r) => {
                r.base.fields(sink);
                if let Some(extra) = r.extra {
                    extra.fields(sink);
                }
            }
            CounterRecord::PortName(name) => {
                sink.field("ifName", FieldValue::Text(name.as_bytes()))
            }
            CounterRecord::HostDescription(d) => {
                // sflowtool leaves out empty strings.
                if !d.hostname.as_bytes().is_empty() {
                    sink.field("hostname", FieldValue::Text(d.hostname.as_bytes()));
                }
                sink.field("UUID", FieldValue::Uuid(d.uuid));
                sink.field("machine_type", FieldValue::U32(Some(d.machine_type)));
                sink.field("os_name", FieldValue::U32(Some(d.os_name)));
                if !d.os_release.as_bytes().is_empty() {
                    sink.field("os_release", FieldValue::Text(d.os_release.as_bytes()));
                }
            }
            CounterRecord::HostAdapters(_) | CounterRecord::Unknown { .. } => {}
        }
    }
}
