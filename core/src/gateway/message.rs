//! The uplink's messages. postcard numbers enum variants by position: new variants and
//! new message kinds are only ever appended, and a change of layout bumps
//! [`PROTOCOL_VERSION`](super::PROTOCOL_VERSION).

use heapless::String;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::sflow::counter::{
    HostCpu, HostCpuBase, HostDiskIo, HostMemory, HostNetIo, Load, Percent,
};
use crate::sflow::{CounterRecord, CountersSample};

/// One uplink message.
// No allocator to box the large variant into; a message is decoded one at a time.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Message {
    /// First frame of every connection.
    Hello(Hello),
    /// A host's (or switch's) counters, as heard over sFlow.
    Counters(HostCounters),
    /// The gateway's own health, sent periodically.
    Heartbeat(Health),
}

/// Who the gateway is and the token the agent expects.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// The gateway's id (its name in the agent's registry).
    pub gateway_id: String<32>,
    /// Firmware version.
    pub firmware: String<16>,
    /// The agent's token.
    pub token: String<64>,
}

/// The gateway's health.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Milliseconds since the gateway booted.
    pub uptime_ms: u64,
    /// Whether its Ethernet link is up.
    pub link_up: bool,
    /// sFlow datagrams it received.
    pub datagrams: u32,
    /// sFlow datagrams that did not decode.
    pub decode_errors: u32,
    /// Samples dropped from its queue (oldest first) while the uplink was down or slow.
    pub queue_drops: u32,
    /// Frames it sent.
    pub frames_sent: u32,
}

/// An sFlow agent's address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Agent {
    /// IPv4.
    V4([u8; 4]),
    /// IPv6.
    V6([u8; 16]),
}

/// A host's counters reduced from one sFlow counters sample (Host sFlow records
/// 2000, 2003-2006). Values keep the record's units; all-ones means unknown, as in sFlow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HostCounters {
    /// The sFlow agent that sent the sample.
    pub agent: Agent,
    /// Its sub-agent id.
    pub sub_agent: u32,
    /// Its host_descr hostname (empty if none).
    pub hostname: String<64>,
    /// host_cpu.
    pub cpu: Option<Cpu>,
    /// host_memory.
    pub memory: Option<Memory>,
    /// host_disk_io.
    pub disk: Option<Disk>,
    /// host_net_io.
    pub net: Option<Net>,
}

/// host_cpu, the 68-byte form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Cpu {
    pub load_one: f32,
    pub load_five: f32,
    pub load_fifteen: f32,
    pub proc_run: u32,
    pub proc_total: u32,
    pub cpu_num: u32,
    pub cpu_speed: u32,
    pub uptime: u32,
    pub user: u32,
    pub nice: u32,
    pub system: u32,
    pub idle: u32,
    pub wio: u32,
    pub intr: u32,
    pub sintr: u32,
    pub interrupts: u32,
    pub contexts: u32,
}

/// host_memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Memory {
    pub total: u64,
    pub free: u64,
    pub shared: u64,
    pub buffers: u64,
    pub cached: u64,
    pub swap_total: u64,
    pub swap_free: u64,
    pub page_in: u32,
    pub page_out: u32,
    pub swap_in: u32,
    pub swap_out: u32,
}

/// host_disk_io.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Disk {
    pub total: u64,
    pub free: u64,
    /// Hundredths of a percent; -1 unknown.
    pub part_max_used: i32,
    pub reads: u32,
    pub bytes_read: u64,
    pub read_time: u32,
    pub writes: u32,
    pub bytes_written: u64,
    pub write_time: u32,
}

/// host_net_io.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Net {
    pub bytes_in: u64,
    pub pkts_in: u32,
    pub errs_in: u32,
    pub drops_in: u32,
    pub bytes_out: u64,
    pub pkts_out: u32,
    pub errs_out: u32,
    pub drops_out: u32,
}

/// `text` cut to fit `N` bytes, at a character boundary.
pub fn fit<const N: usize>(text: &str) -> String<N> {
    let mut out = String::new();
    for c in text.chars() {
        if out.push(c).is_err() {
            break;
        }
    }
    out
}

const U32: u32 = u32::MAX;
const U64: u64 = u64::MAX;

impl HostCounters {
    /// Reduces a counters sample from `agent` to what the uplink carries; `None` when it
    /// holds none of the host records (a switch port's interface counters).
    ///
    /// # Errors
    /// The first record that does not decode.
    pub fn from_sample(
        agent: Agent,
        sub_agent: u32,
        sample: &CountersSample<'_>,
    ) -> Result<Option<Self>> {
        let mut out = HostCounters {
            agent,
            sub_agent,
            hostname: String::new(),
            cpu: None,
            memory: None,
            disk: None,
            net: None,
        };
        let mut any = false;
        for record in sample.host_records() {
            let Some(record) = record? else { continue };
            match record {
                CounterRecord::HostDescription(d) => {
                    // Host names are ASCII (RFC 1123); any other byte shows as U+FFFD.
                    // (No UTF-8 decoder: this runs on the gateway, where flash is short.)
                    for &b in d.hostname.0 {
                        let c = if b.is_ascii() {
                            char::from(b)
                        } else {
                            '\u{fffd}'
                        };
                        if out.hostname.push(c).is_err() {
                            break;
                        }
                    }
                    any = true;
                }
                CounterRecord::HostCpu(HostCpu { base: b, .. }) => {
                    out.cpu = Some(Cpu {
                        load_one: b.load_one.0.unwrap_or(-1.0),
                        load_five: b.load_five.0.unwrap_or(-1.0),
                        load_fifteen: b.load_fifteen.0.unwrap_or(-1.0),
                        proc_run: b.proc_run.unwrap_or(U32),
                        proc_total: b.proc_total.unwrap_or(U32),
                        cpu_num: b.cpu_num.unwrap_or(U32),
                        cpu_speed: b.cpu_speed.unwrap_or(U32),
                        uptime: b.uptime.unwrap_or(U32),
                        user: b.cpu_user.unwrap_or(U32),
                        nice: b.cpu_nice.unwrap_or(U32),
                        system: b.cpu_system.unwrap_or(U32),
                        idle: b.cpu_idle.unwrap_or(U32),
                        wio: b.cpu_wio.unwrap_or(U32),
                        intr: b.cpu_intr.unwrap_or(U32),
                        sintr: b.cpu_sintr.unwrap_or(U32),
                        interrupts: b.interrupts.unwrap_or(U32),
                        contexts: b.contexts.unwrap_or(U32),
                    });
                    any = true;
                }
                CounterRecord::HostMemory(m) => {
                    out.memory = Some(memory(&m));
                    any = true;
                }
                CounterRecord::HostDiskIo(d) => {
                    out.disk = Some(disk(&d));
                    any = true;
                }
                CounterRecord::HostNetIo(n) => {
                    out.net = Some(net(&n));
                    any = true;
                }
                _ => {}
            }
        }
        Ok(any.then_some(out))
    }
}

fn memory(m: &HostMemory) -> Memory {
    Memory {
        total: m.mem_total.unwrap_or(U64),
        free: m.mem_free.unwrap_or(U64),
        shared: m.mem_shared.unwrap_or(U64),
        buffers: m.mem_buffers.unwrap_or(U64),
        cached: m.mem_cached.unwrap_or(U64),
        swap_total: m.swap_total.unwrap_or(U64),
        swap_free: m.swap_free.unwrap_or(U64),
        page_in: m.page_in.unwrap_or(U32),
        page_out: m.page_out.unwrap_or(U32),
        swap_in: m.swap_in.unwrap_or(U32),
        swap_out: m.swap_out.unwrap_or(U32),
    }
}

fn disk(d: &HostDiskIo) -> Disk {
    Disk {
        total: d.disk_total.unwrap_or(U64),
        free: d.disk_free.unwrap_or(U64),
        part_max_used: d.part_max_used.0.unwrap_or(-1),
        reads: d.reads.unwrap_or(U32),
        bytes_read: d.bytes_read.unwrap_or(U64),
        read_time: d.read_time.unwrap_or(U32),
        writes: d.writes.unwrap_or(U32),
        bytes_written: d.bytes_written.unwrap_or(U64),
        write_time: d.write_time.unwrap_or(U32),
    }
}

fn net(n: &HostNetIo) -> Net {
    Net {
        bytes_in: n.bytes_in.unwrap_or(U64),
        pkts_in: n.pkts_in.unwrap_or(U32),
        errs_in: n.errs_in.unwrap_or(U32),
        drops_in: n.drops_in.unwrap_or(U32),
        bytes_out: n.bytes_out.unwrap_or(U64),
        pkts_out: n.pkts_out.unwrap_or(U32),
        errs_out: n.errs_out.unwrap_or(U32),
        drops_out: n.drops_out.unwrap_or(U32),
    }
}

fn known32(x: u32) -> Option<u32> {
    (x != U32).then_some(x)
}

fn known64(x: u64) -> Option<u64> {
    (x != U64).then_some(x)
}

impl Cpu {
    /// Back to the sFlow record it came from (the 68-byte form).
    pub fn to_record(&self) -> HostCpu {
        let load = |l: f32| Load((l >= 0.0).then_some(l));
        HostCpu {
            base: HostCpuBase {
                load_one: load(self.load_one),
                load_five: load(self.load_five),
                load_fifteen: load(self.load_fifteen),
                proc_run: known32(self.proc_run),
                proc_total: known32(self.proc_total),
                cpu_num: known32(self.cpu_num),
                cpu_speed: known32(self.cpu_speed),
                uptime: known32(self.uptime),
                cpu_user: known32(self.user),
                cpu_nice: known32(self.nice),
                cpu_system: known32(self.system),
                cpu_idle: known32(self.idle),
                cpu_wio: known32(self.wio),
                cpu_intr: known32(self.intr),
                cpu_sintr: known32(self.sintr),
                interrupts: known32(self.interrupts),
                contexts: known32(self.contexts),
            },
            extra: None,
        }
    }
}

impl Memory {
    /// Back to the sFlow record it came from.
    pub fn to_record(&self) -> HostMemory {
        HostMemory {
            mem_total: known64(self.total),
            mem_free: known64(self.free),
            mem_shared: known64(self.shared),
            mem_buffers: known64(self.buffers),
            mem_cached: known64(self.cached),
            swap_total: known64(self.swap_total),
            swap_free: known64(self.swap_free),
            page_in: known32(self.page_in),
            page_out: known32(self.page_out),
            swap_in: known32(self.swap_in),
            swap_out: known32(self.swap_out),
        }
    }
}

impl Disk {
    /// Back to the sFlow record it came from.
    pub fn to_record(&self) -> HostDiskIo {
        HostDiskIo {
            disk_total: known64(self.total),
            disk_free: known64(self.free),
            part_max_used: Percent((self.part_max_used >= 0).then_some(self.part_max_used)),
            reads: known32(self.reads),
            bytes_read: known64(self.bytes_read),
            read_time: known32(self.read_time),
            writes: known32(self.writes),
            bytes_written: known64(self.bytes_written),
            write_time: known32(self.write_time),
        }
    }
}

impl Net {
    /// Back to the sFlow record it came from.
    pub fn to_record(&self) -> HostNetIo {
        HostNetIo {
            bytes_in: known64(self.bytes_in),
            pkts_in: known32(self.pkts_in),
            errs_in: known32(self.errs_in),
            drops_in: known32(self.drops_in),
            bytes_out: known64(self.bytes_out),
            pkts_out: known32(self.pkts_out),
            errs_out: known32(self.errs_out),
            drops_out: known32(self.drops_out),
        }
    }
}

impl HostCounters {
    /// The records it carries, as sFlow records again.
    pub fn records(&self) -> impl Iterator<Item = CounterRecord<'static>> + '_ {
        [
            self.cpu.map(|c| CounterRecord::HostCpu(c.to_record())),
            self.memory
                .map(|m| CounterRecord::HostMemory(m.to_record())),
            self.disk.map(|d| CounterRecord::HostDiskIo(d.to_record())),
            self.net.map(|n| CounterRecord::HostNetIo(n.to_record())),
        ]
        .into_iter()
        .flatten()
    }
}
