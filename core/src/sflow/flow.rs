//! Flow records (sFlow v5 spec §5, `flow_data`). Only the raw packet header (0:1) is
//! decoded; every other flow record is kept as its format and bytes, skipped by length.

use crate::error::Result;
use crate::sflow::sample::DataFormat;
use crate::sflow::xdr::{Reader, Writer};

/// `sampled_header` (0:1): the first bytes of a sampled packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RawPacketHeader<'a> {
    /// `header_protocol` (1 = Ethernet, 11 = IPv4, 12 = IPv6, ...).
    pub protocol: u32,
    /// Length of the original frame.
    pub frame_length: u32,
    /// Bytes removed before sampling (e.g. the FCS).
    pub stripped: u32,
    /// The header bytes (serialized as their length).
    #[cfg_attr(
        feature = "serde",
        serde(
            rename = "header_length",
            serialize_with = "crate::sflow::sample::serialize_len"
        )
    )]
    pub header: &'a [u8],
}

/// A flow record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum FlowRecord<'a> {
    /// 0:1, the raw packet header.
    RawPacketHeader(RawPacketHeader<'a>),
    /// Any other flow record: format and body, undecoded.
    Unknown {
        /// Its `flow_format`.
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

/// Longest sampled header accepted (the datagram bounds it anyway; hsflowd sends 128).
const MAX_HEADER: u32 = 65_535;

pub(crate) fn parse(format: DataFormat, body: &[u8], at: usize) -> Result<FlowRecord<'_>> {
    if format != DataFormat::standard(1) {
        return Ok(FlowRecord::Unknown { format, data: body });
    }
    let mut r = Reader::new(body, at);
    Ok(FlowRecord::RawPacketHeader(RawPacketHeader {
        protocol: r.u32()?,
        frame_length: r.u32()?,
        stripped: r.u32()?,
        header: r.opaque_var(MAX_HEADER)?,
    }))
}

impl FlowRecord<'_> {
    /// The record's format.
    pub fn format(&self) -> DataFormat {
        match self {
            FlowRecord::RawPacketHeader(_) => DataFormat::standard(1),
            FlowRecord::Unknown { format, .. } => *format,
        }
    }

    /// Writes the record (format, length, body).
    ///
    /// # Errors
    /// `BufferTooSmall` when `w` runs out of room.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        let len_at = w.begin_tlv(self.format().to_u32())?;
        match self {
            FlowRecord::RawPacketHeader(h) => {
                w.u32(h.protocol)?;
                w.u32(h.frame_length)?;
                w.u32(h.stripped)?;
                w.opaque_var(h.header)?;
                w.end_tlv(len_at);
            }
            FlowRecord::Unknown { data, .. } => {
                w.opaque_fixed(data)?;
                w.patch_u32(len_at, data.len() as u32);
            }
        }
        Ok(())
    }
}
