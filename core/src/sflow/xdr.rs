//! XDR (RFC 4506) as sFlow v5 uses it: big-endian 4-byte units, 64-bit values only
//! 4-byte aligned, opaque data padded with zeros to a multiple of 4.
//!
//! [`Reader`] never reads past the slice it was given, which is always the innermost
//! enclosing TLV (datagram, sample or record), and reports errors at offsets into the
//! whole datagram. [`Writer`] is its mirror for the encoder.

use crate::error::{Error, ErrorKind, Result};

/// Rounds a length up to the next multiple of 4, in 64 bits so lengths near 2^32 from the
/// wire cannot overflow.
#[inline]
pub(crate) fn round4(len: u32) -> u64 {
    (len as u64 + 3) & !3
}

/// A cursor over one TLV body.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf[0]` in the datagram, for error reports.
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`, which starts `base` bytes into the datagram.
    pub const fn new(buf: &'a [u8], base: usize) -> Self {
        Reader { buf, pos: 0, base }
    }

    /// Offset of the next byte in the datagram.
    pub const fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The bytes not yet read.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    fn short(&self) -> Error {
        Error::new(ErrorKind::UnexpectedEnd, self.base + self.buf.len())
    }

    /// The next `n` bytes, without padding.
    #[inline]
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let end = end.ok_or_else(|| self.short())?;
        let bytes = &self.buf[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    /// The next 4 bytes as an array.
    #[inline]
    fn take4(&mut self) -> Result<[u8; 4]> {
        let b = self.take(4)?;
        Ok([b[0], b[1], b[2], b[3]])
    }

    /// `unsigned int`.
    #[inline]
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.take4()?))
    }

    /// `int`.
    #[inline]
    pub fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_be_bytes(self.take4()?))
    }

    /// `unsigned hyper`, read as 8 bytes (only 4-byte aligned on the wire).
    #[inline]
    pub fn u64(&mut self) -> Result<u64> {
        let b = self.take(8)?;
        Ok(u64::from_be_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]))
    }

    /// `float` (IEEE-754 binary32).
    #[inline]
    pub fn f32(&mut self) -> Result<f32> {
        Ok(f32::from_be_bytes(self.take4()?))
    }

    /// The padding after `len` bytes of opaque data. Its content is not checked: real
    /// agents leave packet bytes there (akvorado, oxyflow and loadme captures), and
    /// sflowtool ignores it too.
    fn padding(&mut self, len: usize) -> Result<()> {
        self.take((4 - len % 4) % 4).map(drop)
    }

    /// `opaque x[n]`: `n` bytes and their padding.
    pub fn opaque_fixed(&mut self, n: usize) -> Result<&'a [u8]> {
        let bytes = self.take(n)?;
        self.padding(n)?;
        Ok(bytes)
    }

    /// `opaque x<max>` / `string x<max>`: a length, that many bytes, their padding.
    ///
    /// # Errors
    /// `BadValue` when the length exceeds `max`; `LengthMismatch` when the bytes and their
    /// padding are not there.
    pub fn opaque_var(&mut self, max: u32) -> Result<&'a [u8]> {
        let at = self.offset();
        let len = self.u32()?;
        if len > max {
            return Err(Error::new(ErrorKind::BadValue, at));
        }
        if round4(len) > self.remaining() as u64 {
            return Err(Error::new(ErrorKind::LengthMismatch, at));
        }
        self.opaque_fixed(len as usize)
    }

    /// A TLV: its `data_format`, its body (exactly `length` bytes) and the body's offset.
    /// The cursor moves past the body and its padding.
    ///
    /// # Errors
    /// `LengthMismatch` when `length` (rounded up to 4) runs past this reader's end.
    pub fn tlv(&mut self) -> Result<(u32, &'a [u8], usize)> {
        let format = self.u32()?;
        let len_at = self.offset();
        let len = self.u32()?;
        if round4(len) > self.remaining() as u64 {
            return Err(Error::new(ErrorKind::LengthMismatch, len_at));
        }
        let body_at = self.offset();
        let body = self.take(len as usize)?;
        self.padding(len as usize)?;
        Ok((format, body, body_at))
    }
}

/// A cursor writing XDR into a caller's buffer.
#[derive(Debug)]
pub struct Writer<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

impl<'b> Writer<'b> {
    /// A writer at the start of `buf`.
    pub fn new(buf: &'b mut [u8]) -> Self {
        Writer { buf, pos: 0 }
    }

    /// Bytes written so far.
    pub const fn len(&self) -> usize {
        self.pos
    }

    /// True when nothing was written.
    pub const fn is_empty(&self) -> bool {
        self.pos == 0
    }

    /// The bytes written.
    pub fn into_written(self) -> &'b mut [u8] {
        &mut self.buf[..self.pos]
    }

    /// Writes raw bytes.
    pub fn bytes(&mut self, bytes: &[u8]) -> Result<()> {
        let end = self.pos + bytes.len();
        let out = self
            .buf
            .get_mut(self.pos..end)
            .ok_or(Error::new(ErrorKind::BufferTooSmall, self.pos))?;
        out.copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    /// `unsigned int`.
    pub fn u32(&mut self, v: u32) -> Result<()> {
        self.bytes(&v.to_be_bytes())
    }

    /// `int`.
    pub fn i32(&mut self, v: i32) -> Result<()> {
        self.bytes(&v.to_be_bytes())
    }

    /// `unsigned hyper`.
    pub fn u64(&mut self, v: u64) -> Result<()> {
        self.bytes(&v.to_be_bytes())
    }

    /// `float`.
    pub fn f32(&mut self, v: f32) -> Result<()> {
        self.bytes(&v.to_be_bytes())
    }

    /// `opaque x[n]` with its zero padding.
    pub fn opaque_fixed(&mut self, bytes: &[u8]) -> Result<()> {
        self.bytes(bytes)?;
        let pad = (4 - bytes.len() % 4) % 4;
        self.bytes(&[0u8; 3][..pad])
    }

    /// `opaque x<>`: length, bytes, padding.
    pub fn opaque_var(&mut self, bytes: &[u8]) -> Result<()> {
        let len =
            u32::try_from(bytes.len()).map_err(|_| Error::new(ErrorKind::BadValue, self.pos))?;
        self.u32(len)?;
        self.opaque_fixed(bytes)
    }

    /// Starts a TLV: writes its format and a length placeholder, returning where the
    /// length goes. Finish it with [`Writer::end_tlv`].
    pub fn begin_tlv(&mut self, format: u32) -> Result<usize> {
        self.u32(format)?;
        let at = self.pos;
        self.u32(0)?;
        Ok(at)
    }

    /// Fills in the length of the TLV begun at `length_at` from what was written since.
    pub fn end_tlv(&mut self, length_at: usize) {
        let len = (self.pos - length_at - 4) as u32;
        self.buf[length_at..length_at + 4].copy_from_slice(&len.to_be_bytes());
    }

    /// Overwrites a u32 written earlier (a count known only at the end).
    pub fn patch_u32(&mut self, at: usize, v: u32) {
        self.buf[at..at + 4].copy_from_slice(&v.to_be_bytes());
    }
}
