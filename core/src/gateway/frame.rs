//! One frame: `version | postcard(message) | crc32_le(version | postcard)`, COBS-encoded,
//! then `0x00`.

use crate::error::{Error, ErrorKind, Result};
use crate::gateway::message::Message;

/// The protocol version every frame starts with.
pub const PROTOCOL_VERSION: u8 = 1;

/// Most bytes a frame takes on the wire, delimiter included: a reader's buffer bound.
pub const FRAME_CAPACITY: usize = 512;

/// The largest version + message + CRC before COBS (COBS adds one byte per 254).
const RAW_CAPACITY: usize = FRAME_CAPACITY - 1 - (FRAME_CAPACITY / 254) - 1;

/// CRC-32/ISO-HDLC (the Ethernet and zlib CRC), computed bit by bit: frames are small
/// and a gateway's flash is smaller still.
const CRC: crc::Crc<u32, crc::NoTable> = crc::Crc::<u32, crc::NoTable>::new(&crc::CRC_32_ISO_HDLC);

/// Writes `message` as one frame, delimiter included, into `out`; returns its length.
///
/// # Errors
/// `BufferTooSmall` when `out` (or the protocol's frame bound) cannot hold it.
///
/// ```
/// use ferrostat_core::gateway::{decode, encode, Health, Message};
/// let beat = Message::Heartbeat(Health { uptime_ms: 5_000, link_up: true, ..Health::default() });
/// let mut wire = [0u8; 64];
/// let n = encode(&beat, &mut wire)?;
/// assert_eq!(wire[n - 1], 0);
/// assert_eq!(decode(&mut wire[..n - 1])?, beat);
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
pub fn encode(message: &Message, out: &mut [u8]) -> Result<usize> {
    let mut raw = [0u8; RAW_CAPACITY];
    raw[0] = PROTOCOL_VERSION;
    let body = postcard::to_slice(message, &mut raw[1..RAW_CAPACITY - 4])
        .map_err(|_| Error::new(ErrorKind::BufferTooSmall, 1))?
        .len();
    let end = 1 + body;
    let crc = CRC.checksum(&raw[..end]);
    raw[end..end + 4].copy_from_slice(&crc.to_le_bytes());
    let n = cobs::try_encode(&raw[..end + 4], out)
        .map_err(|_| Error::new(ErrorKind::BufferTooSmall, 0))?;
    *out.get_mut(n)
        .ok_or(Error::new(ErrorKind::BufferTooSmall, n))? = 0;
    Ok(n + 1)
}

/// Decodes one frame (without its `0x00` delimiter) in place.
///
/// # Errors
/// `BadValue` for bytes that are not COBS or a message that does not decode,
/// `UnexpectedEnd` for a frame too short to hold a version and CRC, `BadVersion` for
/// another protocol version, `BadChecksum` when the CRC disagrees (offset of the CRC).
pub fn decode(frame: &mut [u8]) -> Result<Message> {
    if frame.is_empty() {
        return Err(Error::new(ErrorKind::UnexpectedEnd, 0));
    }
    let n = cobs::decode_in_place(frame).map_err(|_| Error::new(ErrorKind::BadValue, 0))?;
    if n < 1 + 4 {
        return Err(Error::new(ErrorKind::UnexpectedEnd, n));
    }
    if frame[0] != PROTOCOL_VERSION {
        return Err(Error::new(ErrorKind::BadVersion, 0));
    }
    let crc_at = n - 4;
    let mut sent = [0u8; 4];
    sent.copy_from_slice(&frame[crc_at..n]);
    if CRC.checksum(&frame[..crc_at]) != u32::from_le_bytes(sent) {
        return Err(Error::new(ErrorKind::BadChecksum, crc_at));
    }
    postcard::from_bytes(&frame[1..crc_at]).map_err(|_| Error::new(ErrorKind::BadValue, 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::message::{Health, Hello};

    fn hello() -> Message {
        let mut h = Hello::default();
        h.gateway_id.push_str("shelf-3").unwrap();
        h.firmware.push_str("0.1.0").unwrap();
        h.token.push_str("s3cret").unwrap();
        Message::Hello(h)
    }

    /// The bytes of a hello are pinned: a change here breaks every deployed gateway.
    #[test]
    fn golden_hello_bytes() {
        let mut out = [0u8; FRAME_CAPACITY];
        let n = encode(&hello(), &mut out).unwrap();
        // Worked out independently: Python's zlib.crc32 and a by-hand COBS.
        let expected: &[u8] = &[
            0x02, 0x01, // COBS block: version 1 (the zero after it is Hello, variant 0)
            0x1a, // COBS block of 25 bytes:
            0x07, b's', b'h', b'e', b'l', b'f', b'-', b'3', // gateway_id, varint length first
            0x05, b'0', b'.', b'1', b'.', b'0', // firmware
            0x06, b's', b'3', b'c', b'r', b'e', b't', // token
            0x6e, 0x02, 0xd2, 0x02, // CRC-32 of version + message, little-endian
            0x00, // delimiter
        ];
        assert_eq!(&out[..n], expected);
        let mut frame = out[..n - 1].to_vec();
        assert_eq!(decode(&mut frame).unwrap(), hello());
    }

    #[test]
    fn corrupt_frames_are_clear_errors() {
        let beat = Message::Heartbeat(Health {
            uptime_ms: 12,
            ..Health::default()
        });
        let mut out = [0u8; 64];
        let n = encode(&beat, &mut out).unwrap();
        // A flipped bit anywhere is caught by the CRC (or COBS).
        for i in 0..n - 1 {
            let mut f = out[..n - 1].to_vec();
            f[i] ^= 0x10;
            assert!(decode(&mut f).is_err(), "flip at {i}");
        }
        let mut f = out[..n - 1].to_vec();
        let e = {
            // Re-encode with another version byte and a right CRC: BadVersion.
            let mut raw = [0u8; 64];
            let m = cobs::decode(&f, &mut raw).unwrap();
            raw[0] = 2;
            let crc = CRC.checksum(&raw[..m - 4]);
            raw[m - 4..m].copy_from_slice(&crc.to_le_bytes());
            let mut enc = [0u8; 80];
            let k = cobs::encode(&raw[..m], &mut enc);
            decode(&mut enc[..k]).unwrap_err()
        };
        assert_eq!(e.kind(), ErrorKind::BadVersion);
        let last = n - 3;
        f[last] ^= 1;
        assert_eq!(decode(&mut f).unwrap_err().kind(), ErrorKind::BadChecksum);
        assert_eq!(
            decode(&mut [0x03, 0x01, 0x02]).unwrap_err().kind(),
            ErrorKind::UnexpectedEnd
        );
        assert_eq!(
            decode(&mut []).unwrap_err().kind(),
            ErrorKind::UnexpectedEnd
        );
        let mut tiny = [0u8; 4];
        assert_eq!(
            encode(&beat, &mut tiny).unwrap_err().kind(),
            ErrorKind::BufferTooSmall
        );
    }
}
