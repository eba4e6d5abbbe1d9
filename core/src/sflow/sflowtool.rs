//! Datagrams as `sflowtool -j` prints them: the same structure, field names and value
//! formatting (everything a string, percentages with two decimals or `unknown`, loads
//! with three, MACs as 12 hex digits), so scripts written for sflowtool keep working.
//! Written into any `fmt::Write`, with no allocation.
//!
//! Covered: the datagram header, every sample's header, every counter record this crate
//! decodes (with `adaptor_list` for host adapters), and the raw packet header flow record
//! (without sflowtool's decode of the packet itself). Other records appear with their tag
//! only.

use core::fmt::{self, Write};
use core::net::IpAddr;

use crate::error::{Error, ErrorKind, Result};
use crate::sflow::counter::{CounterRecord, FieldSink, FieldValue};
use crate::sflow::flow::FlowRecord;
use crate::sflow::sample::{Interface, Sample};
use crate::sflow::Datagram;

/// What the capture says about a datagram, beyond its bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaptureInfo {
    /// The UDP source, when known (`datagramSourceIP`; `-` otherwise).
    pub source: Option<IpAddr>,
    /// The capture timestamp (seconds, microseconds since the epoch), for pcap input.
    pub timestamp: Option<(u64, u32)>,
}

/// Writes `datagram` (whose bytes are `bytes`) as one sflowtool JSON object.
///
/// # Errors
/// The datagram's first decoding error (it is checked before anything is written, so a
/// rejected datagram writes nothing), or `BufferTooSmall` if `out` refuses the text.
pub fn write_datagram<W: Write>(out: &mut W, bytes: &[u8], info: &CaptureInfo) -> Result<()> {
    let d = Datagram::parse(bytes)?;
    d.validate()?;
    write_checked(out, &d, bytes.len(), info).map_err(|_| Error::new(ErrorKind::BufferTooSmall, 0))
}

fn write_checked<W: Write>(
    out: &mut W,
    d: &Datagram<'_>,
    size: usize,
    info: &CaptureInfo,
) -> fmt::Result {
    out.write_str("{\"datagramSourceIP\":\"")?;
    match info.source {
        Some(ip) => write!(out, "{ip}")?,
        None => out.write_str("-")?,
    }
    write!(
        out,
        "\",\"datagramSize\":\"{size}\",\"unixSecondsUTC\":\"0\",\"unixSecondsUTC_uS\":\"0\""
    )?;
    out.write_str(",\"localtime\":\"1970-01-01T00:00:00+0000\"")?;
    if let Some((secs, usecs)) = info.timestamp {
        out.write_str(",\"pcapTimestamp\":\"")?;
        write_utc(out, secs)?;
        write!(out, "\",\"pcapTimestamp_uS\":\"{usecs}\"")?;
    }
    write!(
        out,
        ",\"datagramVersion\":\"5\",\"agentSubId\":\"{}\",\"agent\":\"{}\",\"packetSequenceNo\":\"{}\",\"sysUpTime\":\"{}\",\"samplesInPacket\":\"{}\",\"samples\":[",
        d.sub_agent_id, d.agent, d.sequence_number, d.uptime_ms, d.num_samples
    )?;
    write_list(out, d.samples(), write_sample)?;
    out.write_str("]}")
}

fn write_sample<W: Write>(out: &mut W, sample: &Sample<'_>) -> fmt::Result {
    match sample {
        Sample::Counters(c) => {
            let tag = if c.expanded { 4 } else { 2 };
            write!(
                out,
                "{{\"sampleType_tag\":\"0:{tag}\",\"sampleType\":\"COUNTERSSAMPLE\",\"sampleSequenceNo\":\"{}\",\"sourceId\":\"{}:{}\",\"elements\":[",
                c.sequence_number, c.source_id.class, c.source_id.index
            )?;
            write_list(out, c.records(), write_counter)?;
            out.write_str("]}")
        }
        Sample::Flow(f) => {
            let tag = if f.expanded { 3 } else { 1 };
            write!(
                out,
                "{{\"sampleType_tag\":\"0:{tag}\",\"sampleType\":\"FLOWSAMPLE\",\"sampleSequenceNo\":\"{}\",\"sourceId\":\"{}:{}\",\"meanSkipCount\":\"{}\",\"samplePool\":\"{}\",\"dropEvents\":\"{}\",\"inputPort\":\"",
                f.sequence_number, f.source_id.class, f.source_id.index, f.sampling_rate, f.sample_pool, f.drops
            )?;
            write_port(out, f.input)?;
            out.write_str("\",\"outputPort\":\"")?;
            write_port(out, f.output)?;
            out.write_str("\",\"elements\":[")?;
            write_list(out, f.records(), write_flow)?;
            out.write_str("]}")
        }
        Sample::Unknown { format, .. } => write!(out, "{{\"sampleType_tag\":\"{format}\"}}"),
    }
}

/// Writes items separated by commas. The datagram was validated before writing, so an
/// item that fails to decode cannot occur; it would end the output with an error.
fn write_list<W: Write, T>(
    out: &mut W,
    items: impl Iterator<Item = Result<T>>,
    write: fn(&mut W, &T) -> fmt::Result,
) -> fmt::Result {
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.write_str(",")?;
        }
        write(out, &item.map_err(|_| fmt::Error)?)?;
    }
    Ok(())
}

fn write_port<W: Write>(out: &mut W, port: Interface) -> fmt::Result {
    match port.format {
        1 => write!(out, "dropCode {}", port.value),
        2 => write!(out, "multiple {}", port.value),
        _ => write!(out, "{}", port.value),
    }
}

/// Writes `,"name":"value"` pairs.
struct JsonFields<'w, W: Write> {
    out: &'w mut W,
    result: fmt::Result,
}

impl<W: Write> FieldSink for JsonFields<'_, W> {
    fn field(&mut self, name: &'static str, value: FieldValue<'_>) {
        if self.result.is_ok() {
            self.result = write!(self.out, ",\"{name}\":\"")
                .and_then(|()| write!(JsonEscape(self.out), "{value}"))
                .and_then(|()| self.out.write_str("\""));
        }
    }
}

fn write_counter<W: Write>(out: &mut W, record: &CounterRecord<'_>) -> fmt::Result {
    write!(out, "{{\"counterBlock_tag\":\"{}\"", record.format())?;
    if let CounterRecord::HostAdapters(a) = record {
        out.write_str(",\"adaptor_list\":[")?;
        for (i, adapter) in a.adapters().enumerate() {
            if i > 0 {
                out.write_str(",")?;
            }
            write!(
                out,
                "{{\"ifIndex\":\"{}\",\"MACs\":\"{}\",\"mac_list\":[",
                adapter.if_index, adapter.num_macs
            )?;
            for (j, mac) in adapter.macs().enumerate() {
                if j > 0 {
                    out.write_str(",")?;
                }
                out.write_str("\"")?;
                for b in mac {
                    write!(out, "{b:02x}")?;
                }
                out.write_str("\"")?;
            }
            out.write_str("]}")?;
        }
        out.write_str("]")?;
    } else {
        let mut sink = JsonFields {
            out,
            result: Ok(()),
        };
        record.sflowtool_fields(&mut sink);
        sink.result?;
    }
    out.write_str("}")
}

fn write_flow<W: Write>(out: &mut W, record: &FlowRecord<'_>) -> fmt::Result {
    match record {
        FlowRecord::RawPacketHeader(h) => {
            write!(
                out,
                "{{\"flowBlock_tag\":\"0:1\",\"flowSampleType\":\"HEADER\",\"headerProtocol\":\"{}\",\"sampledPacketSize\":\"{}\",\"strippedBytes\":\"{}\",\"headerLen\":\"{}\",\"headerBytes\":\"",
                h.protocol,
                h.frame_length,
                h.stripped,
                h.header.len()
            )?;
            for (i, b) in h.header.iter().enumerate() {
                if i > 0 {
                    out.write_str("-")?;
                }
                write!(out, "{b:02X}")?;
            }
            out.write_str("\"}")
        }
        FlowRecord::Unknown { format, .. } => write!(out, "{{\"flowBlock_tag\":\"{format}\"}}"),
    }
}

/// Escapes what JSON strings cannot hold raw.
struct JsonEscape<'w, W: Write>(&'w mut W);

impl<W: Write> Write for JsonEscape<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            match c {
                '"' => self.0.write_str("\\\"")?,
                '\\' => self.0.write_str("\\\\")?,
                c if (c as u32) < 0x20 => write!(self.0, "\\u{:04x}", c as u32)?,
                c => self.0.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// `YYYY-MM-DDTHH:MM:SS+0000` for seconds since the epoch, as sflowtool prints it.
fn write_utc<W: Write>(out: &mut W, secs: u64) -> fmt::Result {
    write!(out, "{}+0000", crate::time::UtcDateTime::from_unix(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Buf {
        bytes: [u8; 64],
        len: usize,
    }

    impl Write for Buf {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let end = self.len + s.len();
            self.bytes
                .get_mut(self.len..end)
                .ok_or(fmt::Error)?
                .copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }

    #[test]
    fn utc_dates() {
        for (secs, want) in [
            (0, "1970-01-01T00:00:00+0000"),
            (1_700_000_000, "2023-11-14T22:13:20+0000"),
            (1_795_351_847, "2026-11-22T12:50:47+0000"),
            (951_782_400, "2000-02-29T00:00:00+0000"),
        ] {
            let mut b = Buf {
                bytes: [0; 64],
                len: 0,
            };
            write_utc(&mut b, secs).unwrap();
            assert_eq!(core::str::from_utf8(&b.bytes[..b.len]).unwrap(), want);
        }
    }
}
