//! # ferrostat-embassy
//!
//! The edge gateway's sample framing, shared by the firmware and its tests: a
//! [`McuHostSample`] becomes one COBS-framed postcard frame, so a byte stream (TCP, UART)
//! can be cut back into samples at the `0x00` delimiters. The embassy-net uplink builds on
//! this (issue #7).
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use ferrostat_core::metrics::encode::EncodeError;
pub use ferrostat_core::metrics::McuHostSample;

/// Encodes `sample` as one COBS frame, delimiter included, into `buf`.
///
/// # Errors
/// [`EncodeError::BufferFull`] when `buf` cannot hold the frame.
pub fn frame_sample<'b>(sample: &McuHostSample, buf: &'b mut [u8]) -> Result<&'b mut [u8], EncodeError> {
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
