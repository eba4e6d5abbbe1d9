//! sFlow v5 samples (spec §5: `flow_sample`, `counters_sample` and their expanded forms).
//! Compact and expanded encodings decode to the same reprs, with `expanded` kept so the
//! encoder writes back what it read.

use crate::error::Result;
use crate::sflow::counter::{self, CounterRecord};
use crate::sflow::flow::{self, FlowRecord};
use crate::sflow::xdr::{Reader, Writer};

/// A `data_format`: enterprise (top 20 bits) and format (low 12 bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DataFormat {
    /// Enterprise number; 0 is sflow.org.
    pub enterprise: u32,
    /// Format number within the enterprise and context.
    pub format: u32,
}

impl DataFormat {
    /// Splits a wire `data_format`.
    pub const fn from_u32(v: u32) -> Self {
        DataFormat {
            enterprise: v >> 12,
            format: v & 0xfff,
        }
    }

    /// The wire `data_format`.
    pub const fn to_u32(self) -> u32 {
        (self.enterprise << 12) | (self.format & 0xfff)
    }

    /// An sflow.org (enterprise 0) format.
    pub const fn standard(format: u32) -> Self {
        DataFormat {
            enterprise: 0,
            format,
        }
    }
}

impl core::fmt::Display for DataFormat {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}:{}", self.enterprise, self.format)
    }
}

/// A data source: class (0 ifIndex, 1 smonVlanDataSource, 2 entPhysicalEntry, 3 logical
/// entity as hsflowd uses it) and index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SourceId {
    /// Source class (`source_id_type`).
    pub class: u32,
    /// Index within the class.
    pub index: u32,
}

impl SourceId {
    /// The compact encoding: class in the top 8 bits, index in the low 24.
    pub const fn from_compact(v: u32) -> Self {
        SourceId {
            class: v >> 24,
            index: v & 0x00ff_ffff,
        }
    }
}

/// A sample of any kind.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Sample<'a> {
    /// `flow_sample` (0:1) or `flow_sample_expanded` (0:3).
    Flow(FlowSample<'a>),
    /// `counters_sample` (0:2) or `counters_sample_expanded` (0:4).
    Counters(CountersSample<'a>),
    /// Any other sample type (discard events 0:5, vendor samples), skipped by length.
    Unknown {
        /// Its `sample_type`.
        format: DataFormat,
        /// Its body (serialized as its length).
        #[cfg_attr(
            feature = "serde",
            serde(rename = "length", serialize_with = "serialize_len")
        )]
        data: &'a [u8],
    },
}

/// Serializes raw bytes as their length: JSON views show what was skipped, not its bytes.
#[cfg(feature = "serde")]
pub(crate) fn serialize_len<S: serde::Serializer>(
    data: &&[u8],
    s: S,
) -> core::result::Result<S::Ok, S::Error> {
    s.serialize_u64(data.len() as u64)
}

/// Serializes a decoding iterator as a sequence, stopping at the first item that does not
/// decode (callers show a datagram after `Datagram::validate`, so there is none).
#[cfg(feature = "serde")]
pub(crate) struct Seq<I>(pub(crate) I);

#[cfg(feature = "serde")]
impl<I, T> serde::Serialize for Seq<I>
where
    I: Iterator<Item = Result<T>> + Clone,
    T: serde::Serialize,
{
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.0.clone().map_while(|r| r.ok()))
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for CountersSample<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("CountersSample", 4)?;
        st.serialize_field("expanded", &self.expanded)?;
        st.serialize_field("sequence_number", &self.sequence_number)?;
        st.serialize_field("source_id", &self.source_id)?;
        st.serialize_field("records", &Seq(self.records()))?;
        st.end()
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for FlowSample<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("FlowSample", 9)?;
        st.serialize_field("expanded", &self.expanded)?;
        st.serialize_field("sequence_number", &self.sequence_number)?;
        st.serialize_field("source_id", &self.source_id)?;
        st.serialize_field("sampling_rate", &self.sampling_rate)?;
        st.serialize_field("sample_pool", &self.sample_pool)?;
        st.serialize_field("drops", &self.drops)?;
        st.serialize_field("input", &self.input)?;
        st.serialize_field("output", &self.output)?;
        st.serialize_field("records", &Seq(self.records()))?;
        st.end()
    }
}

/// A counters sample, borrowing its records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountersSample<'a> {
    /// Expanded encoding (0:4) rather than compact (0:2).
    pub expanded: bool,
    /// Sample sequence number, per source.
    pub sequence_number: u32,
    /// The data source.
    pub source_id: SourceId,
    /// Records the sample declares.
    pub num_records: u32,
    records: &'a [u8],
    records_at: usize,
}

impl<'a> CountersSample<'a> {
    /// The counter records.
    pub fn records(&self) -> Records<'a, CounterRecord<'a>> {
        Records::new(
            self.records,
            self.records_at,
            self.num_records,
            counter::parse,
        )
    }

    /// Only the Host sFlow records 2000 and 2003-2006, decoded; `None` for every other
    /// record (skipped by its length, still checked for length). What a gateway needs,
    /// without linking the decoders of every other record.
    pub fn host_records(&self) -> Records<'a, Option<CounterRecord<'a>>> {
        Records::new(
            self.records,
            self.records_at,
            self.num_records,
            counter::parse_host,
        )
    }

    /// A sample header for the encoder (records are written by [`emit_counters`]).
    pub const fn new(expanded: bool, sequence_number: u32, source_id: SourceId) -> Self {
        CountersSample {
            expanded,
            sequence_number,
            source_id,
            num_records: 0,
            records: &[],
            records_at: 0,
        }
    }
}

/// Where a sampled packet came from or went: an ifIndex, or a format-tagged value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Interface {
    /// 0 ifIndex, 1 packet discarded (value = reason), 2 multiple interfaces (value = count).
    pub format: u32,
    /// The index, reason or count.
    pub value: u32,
}

impl Interface {
    /// The compact encoding: format in the top 2 bits, value in the low 30.
    pub const fn from_compact(v: u32) -> Self {
        Interface {
            format: v >> 30,
            value: v & 0x3fff_ffff,
        }
    }

    const fn to_compact(self) -> u32 {
        (self.format << 30) | (self.value & 0x3fff_ffff)
    }
}

/// A flow sample, borrowing its records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowSample<'a> {
    /// Expanded encoding (0:3) rather than compact (0:1).
    pub expanded: bool,
    /// Sample sequence number, per source.
    pub sequence_number: u32,
    /// The data source.
    pub source_id: SourceId,
    /// 1 in N packets sampled.
    pub sampling_rate: u32,
    /// Packets that could have been sampled.
    pub sample_pool: u32,
    /// Samples dropped for lack of resources.
    pub drops: u32,
    /// Input interface.
    pub input: Interface,
    /// Output interface.
    pub output: Interface,
    /// Records the sample declares.
    pub num_records: u32,
    records: &'a [u8],
    records_at: usize,
}

impl<'a> FlowSample<'a> {
    /// A sample header for the encoder (records are written by [`emit_flow`]).
    #[allow(clippy::too_many_arguments)]
    pub const fn new(
        expanded: bool,
        sequence_number: u32,
        source_id: SourceId,
        sampling_rate: u32,
        sample_pool: u32,
        drops: u32,
        input: Interface,
        output: Interface,
    ) -> Self {
        FlowSample {
            expanded,
            sequence_number,
            source_id,
            sampling_rate,
            sample_pool,
            drops,
            input,
            output,
            num_records: 0,
            records: &[],
            records_at: 0,
        }
    }

    /// The flow records.
    pub fn records(&self) -> Records<'a, FlowRecord<'a>> {
        Records::new(self.records, self.records_at, self.num_records, flow::parse)
    }
}

fn read_source_id(r: &mut Reader<'_>, expanded: bool) -> Result<SourceId> {
    Ok(if expanded {
        SourceId {
            class: r.u32()?,
            index: r.u32()?,
        }
    } else {
        SourceId::from_compact(r.u32()?)
    })
}

fn write_source_id(w: &mut Writer<'_>, expanded: bool, id: SourceId) -> Result<()> {
    if expanded {
        w.u32(id.class)?;
        w.u32(id.index)
    } else {
        w.u32((id.class << 24) | (id.index & 0x00ff_ffff))
    }
}

/// Writes a record count placeholder, the records, then the real count.
fn write_records<'r, R: 'r>(
    w: &mut Writer<'_>,
    records: impl IntoIterator<Item = &'r R>,
    emit: impl Fn(&R, &mut Writer<'_>) -> Result<()>,
) -> Result<()> {
    let count_at = w.len();
    w.u32(0)?;
    let mut count = 0;
    for record in records {
        emit(record, w)?;
        count += 1;
    }
    w.patch_u32(count_at, count);
    Ok(())
}

/// Parses one sample body of type `format` found at offset `at`.
pub(crate) fn parse(format: u32, body: &[u8], at: usize) -> Result<Sample<'_>> {
    let format = DataFormat::from_u32(format);
    let mut r = Reader::new(body, at);
    if format.enterprise != 0 {
        return Ok(Sample::Unknown { format, data: body });
    }
    Ok(match format.format {
        1 | 3 => {
            let expanded = format.format == 3;
            let sequence_number = r.u32()?;
            let source_id = read_source_id(&mut r, expanded)?;
            let sampling_rate = r.u32()?;
            let sample_pool = r.u32()?;
            let drops = r.u32()?;
            let (input, output) = if expanded {
                let input = Interface {
                    format: r.u32()?,
                    value: r.u32()?,
                };
                let output = Interface {
                    format: r.u32()?,
                    value: r.u32()?,
                };
                (input, output)
            } else {
                (
                    Interface::from_compact(r.u32()?),
                    Interface::from_compact(r.u32()?),
                )
            };
            let num_records = r.u32()?;
            Sample::Flow(FlowSample {
                expanded,
                sequence_number,
                source_id,
                sampling_rate,
                sample_pool,
                drops,
                input,
                output,
                num_records,
                records_at: r.offset(),
                records: r.rest(),
            })
        }
        2 | 4 => {
            let expanded = format.format == 4;
            let sequence_number = r.u32()?;
            let source_id = read_source_id(&mut r, expanded)?;
            let num_records = r.u32()?;
            Sample::Counters(CountersSample {
                expanded,
                sequence_number,
                source_id,
                num_records,
                records_at: r.offset(),
                records: r.rest(),
            })
        }
        _ => Sample::Unknown { format, data: body },
    })
}

/// Iterator over the records of a sample: stops after the declared count or the first
/// error. Each record is read within the sample's bounds, whatever its length claims.
pub struct Records<'a, R> {
    reader: Reader<'a>,
    left: u32,
    parse: fn(DataFormat, &'a [u8], usize) -> Result<R>,
    failed: bool,
}

impl<'a, R> Records<'a, R> {
    fn new(
        body: &'a [u8],
        at: usize,
        count: u32,
        parse: fn(DataFormat, &'a [u8], usize) -> Result<R>,
    ) -> Self {
        Records {
            reader: Reader::new(body, at),
            left: count,
            parse,
            failed: false,
        }
    }

    /// Bytes of the sample after its last declared record (vendor padding such as
    /// Brocade's 4 bytes, sflowtool#8): ignored, as the spec's "use the opaque length"
    /// rule implies.
    pub fn trailing(&self) -> usize {
        if self.left == 0 && !self.failed {
            self.reader.remaining()
        } else {
            0
        }
    }
}

impl<R> Clone for Records<'_, R> {
    fn clone(&self) -> Self {
        Records {
            reader: self.reader.clone(),
            left: self.left,
            parse: self.parse,
            failed: self.failed,
        }
    }
}

impl<R> core::fmt::Debug for Records<'_, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Records")
            .field("left", &self.left)
            .field("failed", &self.failed)
            .finish()
    }
}

impl<'a, R> Iterator for Records<'a, R> {
    type Item = Result<R>;

    fn next(&mut self) -> Option<Result<R>> {
        if self.failed || self.left == 0 {
            return None;
        }
        self.left -= 1;
        let parse = self.parse;
        let r = self
            .reader
            .tlv()
            .and_then(|(format, body, at)| parse(DataFormat::from_u32(format), body, at));
        if r.is_err() {
            self.failed = true;
        }
        Some(r)
    }
}

/// Writes a counters sample with `records` into `w`.
///
/// # Errors
/// `BufferTooSmall` when `w` runs out of room.
pub fn emit_counters<'r>(
    w: &mut Writer<'_>,
    sample: &CountersSample<'_>,
    records: impl IntoIterator<Item = &'r CounterRecord<'r>>,
) -> Result<()> {
    let format = if sample.expanded { 4 } else { 2 };
    let len_at = w.begin_tlv(format)?;
    w.u32(sample.sequence_number)?;
    write_source_id(w, sample.expanded, sample.source_id)?;
    write_records(w, records, |r, w| r.emit(w))?;
    w.end_tlv(len_at);
    Ok(())
}

/// Writes a flow sample with `records` into `w`.
///
/// # Errors
/// `BufferTooSmall` when `w` runs out of room.
pub fn emit_flow<'r>(
    w: &mut Writer<'_>,
    sample: &FlowSample<'_>,
    records: impl IntoIterator<Item = &'r FlowRecord<'r>>,
) -> Result<()> {
    let format = if sample.expanded { 3 } else { 1 };
    let len_at = w.begin_tlv(format)?;
    w.u32(sample.sequence_number)?;
    write_source_id(w, sample.expanded, sample.source_id)?;
    w.u32(sample.sampling_rate)?;
    w.u32(sample.sample_pool)?;
    w.u32(sample.drops)?;
    if sample.expanded {
        w.u32(sample.input.format)?;
        w.u32(sample.input.value)?;
        w.u32(sample.output.format)?;
        w.u32(sample.output.value)?;
    } else {
        w.u32(sample.input.to_compact())?;
        w.u32(sample.output.to_compact())?;
    }
    write_records(w, records, |r, w| r.emit(w))?;
    w.end_tlv(len_at);
    Ok(())
}

/// Writes a sample of a type this crate does not decode, verbatim.
///
/// # Errors
/// `BufferTooSmall` when `w` runs out of room.
pub fn emit_unknown(w: &mut Writer<'_>, format: DataFormat, data: &[u8]) -> Result<()> {
    let len_at = w.begin_tlv(format.to_u32())?;
    w.opaque_fixed(data)?;
    // The length is the body's, without the padding.
    let len = data.len() as u32;
    w.patch_u32(len_at, len);
    Ok(())
}
