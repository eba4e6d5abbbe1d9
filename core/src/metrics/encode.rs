//! Encodings of the metric model into a caller's buffer: JSON (serde-json-core),
//! postcard, and postcard in COBS frames for byte streams (UART, TCP).

use serde::{de::DeserializeOwned, Serialize};

/// Why encoding or decoding failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EncodeError {
    /// The output buffer is too small.
    BufferFull,
    /// The input is not a valid encoding of the type.
    Malformed,
}

impl core::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            EncodeError::BufferFull => "output buffer full",
            EncodeError::Malformed => "malformed encoding",
        })
    }
}

impl core::error::Error for EncodeError {}

/// Writes `value` as JSON into `buf`, returning the bytes written.
///
/// ```
/// use ferrostat_core::metrics::{encode, McuHostSample};
/// let mut s = McuHostSample::default();
/// s.hostname.push_str("edge-1").unwrap();
/// let mut buf = [0u8; 2048];
/// let n = encode::to_json(&s, &mut buf).unwrap();
/// assert!(buf[..n].starts_with(b"{\"timestamp_ms\":0,\"hostname\":\"edge-1\""));
/// let back: McuHostSample = encode::from_json(&buf[..n]).unwrap();
/// assert_eq!(back, s);
/// ```
pub fn to_json<T: Serialize>(value: &T, buf: &mut [u8]) -> Result<usize, EncodeError> {
    serde_json_core::to_slice(value, buf).map_err(|e| match e {
        serde_json_core::ser::Error::BufferFull => EncodeError::BufferFull,
        _ => EncodeError::Malformed,
    })
}

/// Reads a value from JSON written by [`to_json`].
pub fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, EncodeError> {
    serde_json_core::from_slice(bytes)
        .map(|(v, _)| v)
        .map_err(|_| EncodeError::Malformed)
}

fn postcard_error(e: postcard::Error) -> EncodeError {
    match e {
        postcard::Error::SerializeBufferFull => EncodeError::BufferFull,
        _ => EncodeError::Malformed,
    }
}

/// Writes `value` as postcard into `buf`, returning the used prefix.
pub fn to_postcard<'b, T: Serialize>(
    value: &T,
    buf: &'b mut [u8],
) -> Result<&'b mut [u8], EncodeError> {
    postcard::to_slice(value, buf).map_err(postcard_error)
}

/// Reads a value from postcard bytes.
pub fn from_postcard<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, EncodeError> {
    postcard::from_bytes(bytes).map_err(postcard_error)
}

/// Writes `value` as a COBS-framed postcard message, terminated by its `0x00` delimiter.
pub fn to_postcard_cobs<'b, T: Serialize>(
    value: &T,
    buf: &'b mut [u8],
) -> Result<&'b mut [u8], EncodeError> {
    postcard::to_slice_cobs(value, buf).map_err(postcard_error)
}

/// Reads a value from one COBS frame (decoded in place, so the buffer is mutable).
pub fn from_postcard_cobs<T: DeserializeOwned>(frame: &mut [u8]) -> Result<T, EncodeError> {
    postcard::from_bytes_cobs(frame).map_err(postcard_error)
}
