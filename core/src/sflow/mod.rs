//! sFlow v5 (sflow.org, "sFlow Version 5", July 2004, and the Host sFlow structures,
//! July 2010): a zero-copy decoder and an encoder for datagrams, samples and counter
//! records, over `&[u8]` with no allocation.
//!
//! One module per layer: [`xdr`] (the encoding), [`datagram`], [`sample`], [`flow`]
//! records and [`counter`] records. Every length on the wire is checked against the
//! innermost enclosing TLV and never used to size anything; counts are iterated lazily;
//! unknown samples and records are skipped by their length and handed out raw.

pub mod counter;
pub mod datagram;
pub mod flow;
pub mod host;
pub mod sample;
pub mod sflowtool;
pub mod xdr;

pub use counter::CounterRecord;
pub use datagram::Datagram;
pub use flow::FlowRecord;
pub use sample::{CountersSample, DataFormat, FlowSample, Sample, SourceId};
