//! The edge gateway's uplink protocol (`agent-embassy/PROTOCOL.md`): what a gateway on a
//! switch shelf streams to a ferrostat-agent over TCP.
//!
//! Every message is one frame: a protocol version byte, the postcard encoding of a
//! [`Message`], and a CRC-32 of both, COBS-encoded and ended by a `0x00` delimiter, so a
//! reader can cut a byte stream back into frames and resynchronise after a bad one.
//! [`Message`] variants are only ever appended (postcard numbers them by position).

pub mod frame;
pub mod message;

pub use frame::{decode, encode, FRAME_CAPACITY, PROTOCOL_VERSION};
pub use message::{fit, Agent, Cpu, Disk, Health, Hello, HostCounters, Memory, Message, Net};
