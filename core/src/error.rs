//! The one error type of every parser: a kind and the byte offset where it was found.

use core::fmt;

/// What went wrong. A flat, `Copy` enum so errors cost nothing to return or log on a
/// microcontroller. "Unexpected end" always means short input (retry with more bytes);
/// capacity overflow is never an error but a `dropped` count on the aggregate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ended where more was expected: an empty file, or a final line with no
    /// newline that lacks required fields. A reader should retry with a larger buffer.
    UnexpectedEnd,
    /// A field that must be a decimal or hexadecimal integer is not one, or overflows.
    BadInteger,
    /// A field that must be a decimal fraction (load average, uptime) is not one.
    BadDecimal,
    /// A required field or separator is absent from an otherwise complete line.
    MissingField,
    /// A line does not have the shape the file format prescribes.
    BadLine,
    /// A version or magic number that this decoder does not speak.
    BadVersion,
    /// A length field disagrees with the bytes that are actually there.
    LengthMismatch,
    /// A field holds a value its type does not allow (an agent address type other than
    /// IPv4 or IPv6, a string longer than its declared maximum).
    BadValue,
    /// An encoder's output buffer is too small for what it must write.
    BufferTooSmall,
    /// A frame's checksum disagrees with its content (the gateway uplink's CRC-32).
    BadChecksum,
}

impl ErrorKind {
    /// A short, stable, human-readable name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::UnexpectedEnd => "unexpected end of input",
            ErrorKind::BadInteger => "bad integer",
            ErrorKind::BadDecimal => "bad decimal number",
            ErrorKind::MissingField => "missing field",
            ErrorKind::BadLine => "malformed line",
            ErrorKind::BadVersion => "unsupported version",
            ErrorKind::LengthMismatch => "length mismatch",
            ErrorKind::BadValue => "value out of range",
            ErrorKind::BufferTooSmall => "output buffer too small",
            ErrorKind::BadChecksum => "checksum mismatch",
        }
    }
}

/// A parse error: its [`ErrorKind`] and the byte offset into the input where it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Error {
    kind: ErrorKind,
    offset: u32,
}

impl Error {
    /// An error of `kind` at byte `offset` (saturated to `u32::MAX`: /proc files are far smaller).
    pub const fn new(kind: ErrorKind, offset: usize) -> Self {
        let offset = if offset > u32::MAX as usize {
            u32::MAX
        } else {
            offset as u32
        };
        Error { kind, offset }
    }

    /// What went wrong.
    pub const fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Byte offset into the parsed input.
    pub const fn offset(&self) -> usize {
        self.offset as usize
    }

    /// True when more input could make the parse succeed (see [`ErrorKind::UnexpectedEnd`]).
    pub const fn is_incomplete(&self) -> bool {
        matches!(self.kind, ErrorKind::UnexpectedEnd)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind.as_str(), self.offset)
    }
}

impl core::error::Error for Error {}

/// The result of every parser in this crate.
pub type Result<T> = core::result::Result<T, Error>;

/// A parse error as an `io::Error` of kind `InvalidData`, for readers built on std I/O.
#[cfg(feature = "std")]
impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }
}
