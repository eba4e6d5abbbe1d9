//! # ferrostat-embassy
//!
//! The edge gateway's logic, `no_std` and allocation-free, apart from any network stack:
//! it takes the sFlow datagrams a gateway hears, reduces each host counters sample with
//! ferrostat-core, queues the results (a bounded queue that drops the oldest first and
//! counts what it dropped) and hands out uplink frames (`PROTOCOL.md`: COBS-framed
//! postcard with a version byte and a CRC-32) for whatever carries them upstream.
//!
//! The embassy-net uplink task and the firmware images build on this (issue #7); the
//! older [`frame_sample`] / [`read_frame`] pair frames one [`McuHostSample`] for a UART.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use core::net::IpAddr;

pub mod net;

pub use ferrostat_core::gateway::{
    decode, encode, fit, Agent, Health, Hello, HostCounters, Message, FRAME_CAPACITY,
    PROTOCOL_VERSION,
};
pub use ferrostat_core::metrics::encode::EncodeError;
pub use ferrostat_core::metrics::McuHostSample;
use ferrostat_core::sflow::{Datagram, Sample};
use heapless::Deque;

/// The gateway's state: its identity, its queue of samples waiting for the uplink, and
/// its health counters. `Q` is the queue's capacity in samples.
pub struct Gateway<const Q: usize> {
    hello: Hello,
    queue: Deque<HostCounters, Q>,
    health: Health,
}

impl<const Q: usize> Gateway<Q> {
    /// A gateway named `id` (at most 32 bytes), running `firmware`, presenting `token`.
    pub fn new(id: &str, firmware: &str, token: &str) -> Self {
        // Over-long values are cut: the hello must always fit a frame.
        let hello = Hello {
            gateway_id: fit(id),
            firmware: fit(firmware),
            token: fit(token),
        };
        Gateway {
            hello,
            queue: Deque::new(),
            health: Health::default(),
        }
    }

    /// Takes one sFlow datagram: every host counters sample in it joins the queue.
    /// Returns how many did. A datagram that does not decode is counted, and what it
    /// held before the error is kept.
    pub fn on_datagram(&mut self, payload: &[u8]) -> usize {
        self.health.datagrams = self.health.datagrams.wrapping_add(1);
        let datagram = match Datagram::parse(payload) {
            Ok(d) => d,
            Err(_) => {
                self.health.decode_errors = self.health.decode_errors.wrapping_add(1);
                return 0;
            }
        };
        let agent = match datagram.agent {
            IpAddr::V4(a) => Agent::V4(a.octets()),
            IpAddr::V6(a) => Agent::V6(a.octets()),
        };
        let mut queued = 0;
        for sample in datagram.samples() {
            let counters = match sample {
                Ok(Sample::Counters(c)) => c,
                Ok(_) => continue,
                Err(_) => {
                    self.health.decode_errors = self.health.decode_errors.wrapping_add(1);
                    break;
                }
            };
            match HostCounters::from_sample(agent, datagram.sub_agent_id, &counters) {
                Ok(Some(h)) => {
                    self.push(h);
                    queued += 1;
                }
                Ok(None) => {}
                Err(_) => {
                    self.health.decode_errors = self.health.decode_errors.wrapping_add(1);
                    break;
                }
            }
        }
        queued
    }

    /// Queues a sample, dropping the oldest when full: the newest counters matter most.
    fn push(&mut self, h: HostCounters) {
        if self.queue.is_full() {
            self.queue.pop_front();
            self.health.queue_drops = self.health.queue_drops.wrapping_add(1);
        }
        // Room was just made.
        let _ = self.queue.push_back(h);
    }

    /// Samples waiting.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// The hello frame every connection starts with, into `out`.
    ///
    /// # Errors
    /// `out` shorter than [`FRAME_CAPACITY`] may be too small.
    pub fn hello_frame(&self, out: &mut [u8]) -> Result<usize, ferrostat_core::Error> {
        encode(&Message::Hello(self.hello.clone()), out)
    }

    /// The next sample's frame, into `out`; `None` when the queue is empty. The sample
    /// leaves the queue only when the caller says it was sent ([`Gateway::sent`]), so a
    /// connection lost mid-write loses nothing.
    pub fn peek_frame(&self, out: &mut [u8]) -> Option<Result<usize, ferrostat_core::Error>> {
        let h = self.queue.front()?;
        Some(encode(&Message::Counters(h.clone()), out))
    }

    /// The frame from [`Gateway::peek_frame`] went out: drop it from the queue.
    pub fn sent(&mut self) {
        if self.queue.pop_front().is_some() {
            self.health.frames_sent = self.health.frames_sent.wrapping_add(1);
        }
    }

    /// A heartbeat frame with the gateway's health, into `out`.
    ///
    /// # Errors
    /// `out` shorter than [`FRAME_CAPACITY`] may be too small.
    pub fn heartbeat_frame(
        &mut self,
        uptime_ms: u64,
        link_up: bool,
        out: &mut [u8],
    ) -> Result<usize, ferrostat_core::Error> {
        self.health.uptime_ms = uptime_ms;
        self.health.link_up = link_up;
        let n = encode(&Message::Heartbeat(self.health), out)?;
        self.health.frames_sent = self.health.frames_sent.wrapping_add(1);
        Ok(n)
    }

    /// The health counters.
    pub fn health(&self) -> Health {
        self.health
    }
}

/// Encodes `sample` as one COBS frame, delimiter included, into `buf`.
///
/// # Errors
/// [`EncodeError::BufferFull`] when `buf` cannot hold the frame.
pub fn frame_sample<'b>(
    sample: &McuHostSample,
    buf: &'b mut [u8],
) -> Result<&'b mut [u8], EncodeError> {
    ferrostat_core::metrics::encode::to_postcard_cobs(sample, buf)
}

/// Decodes one frame (with or without its delimiter), in place.
///
/// # Errors
/// [`EncodeError::Malformed`] for a corrupt or truncated frame.
pub fn read_frame(frame: &mut [u8]) -> Result<McuHostSample, EncodeError> {
    ferrostat_core::metrics::encode::from_postcard_cobs(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_fail_cleanly() {
        let mut s = McuHostSample::default();
        s.hostname.push_str("shelf-3").unwrap();
        s.uptime_secs = 12.5;
        s.memory.total_bytes = 256 * 1024;
        let mut buf = [0u8; 512];
        let frame = frame_sample(&s, &mut buf).unwrap();
        assert_eq!(frame.last(), Some(&0));
        let mut copy = [0u8; 512];
        copy[..frame.len()].copy_from_slice(frame);
        let n = frame.len();
        assert_eq!(read_frame(&mut copy[..n]).unwrap(), s);
        assert_eq!(read_frame(&mut copy[..n / 2]), Err(EncodeError::Malformed));
        let mut tiny = [0u8; 8];
        assert_eq!(frame_sample(&s, &mut tiny), Err(EncodeError::BufferFull));
    }
}
