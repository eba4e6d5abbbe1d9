//! The borrowed string views records expose: [`Text`] (bytes the kernel copied verbatim,
//! shown lossily) and [`Escaped`] (bytes the kernel escaped, decoded on demand), and the
//! trimming and serde helpers around them.

use core::fmt::{self, Write as _};

use crate::text::is_blank;

/// Strips leading and trailing blanks (space, tab).
#[inline]
pub(crate) fn trim(mut bytes: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = bytes {
        if is_blank(*first) {
            bytes = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = bytes {
        if is_blank(*last) {
            bytes = rest;
        } else {
            break;
        }
    }
    bytes
}

/// Writes bytes as UTF-8, each invalid sequence replaced by U+FFFD.
fn write_lossy(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for chunk in bytes.utf8_chunks() {
        f.write_str(chunk.valid())?;
        if !chunk.invalid().is_empty() {
            f.write_char(char::REPLACEMENT_CHARACTER)?;
        }
    }
    Ok(())
}

/// Bytes the kernel copied verbatim (interface names, process names in `stat`, model
/// names). Not necessarily UTF-8: `Display` and `Serialize` show them lossily.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Text<'a>(pub &'a [u8]);

impl<'a> Text<'a> {
    /// The raw bytes.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The bytes as `&str` when they are valid UTF-8.
    pub fn to_str(&self) -> Option<&'a str> {
        core::str::from_utf8(self.0).ok()
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_lossy(f, self.0)
    }
}

impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.0.escape_ascii())
    }
}

/// How the kernel escaped a string field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Escaping {
    /// `\ooo` octal escapes for space, tab, newline and backslash (`mangle()` in
    /// fs/proc_namespace.c: mountinfo and mounts).
    Octal,
    /// C-style escapes `\n`, `\t`, `\\` (`seq_escape` with ESCAPE_SPACE|ESCAPE_SPECIAL:
    /// the `Name:` field of `/proc/<pid>/status`), plus octal for other control bytes.
    CStyle,
    /// None: every byte stands for itself (a shell single-quoted or bare word).
    Verbatim,
    /// A shell double-quoted string's escapes: a backslash before `"`, `\\`, `$` or a
    /// backtick stands for that character, any other backslash for itself (os-release(5)).
    Shell,
}

/// Bytes as the kernel wrote them, escaped. [`Escaped::decoded`] undoes the escapes
/// lazily; `Display` and `Serialize` show the decoded form lossily.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Escaped<'a> {
    raw: &'a [u8],
    escaping: Escaping,
}

impl<'a> Escaped<'a> {
    /// Wraps raw, still escaped bytes.
    pub const fn new(raw: &'a [u8], escaping: Escaping) -> Self {
        Escaped { raw, escaping }
    }

    /// The bytes exactly as the kernel wrote them.
    pub const fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The decoded bytes, one at a time.
    pub fn decoded(&self) -> Unescape<'a> {
        Unescape {
            raw: self.raw,
            escaping: self.escaping,
        }
    }

    /// Decodes into `out`, returning the filled prefix, or `None` if `out` is too small.
    pub fn decode_into<'o>(&self, out: &'o mut [u8]) -> Option<&'o [u8]> {
        let mut n = 0;
        for b in self.decoded() {
            *out.get_mut(n)? = b;
            n += 1;
        }
        Some(&out[..n])
    }

    /// True when the decoded bytes equal `other`, without decoding into a buffer.
    pub fn decodes_to(&self, other: &[u8]) -> bool {
        self.decoded().eq(other.iter().copied())
    }
}

/// Iterator over the decoded bytes of an [`Escaped`] string.
#[derive(Clone, Debug)]
pub struct Unescape<'a> {
    raw: &'a [u8],
    escaping: Escaping,
}

impl Iterator for Unescape<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let (&first, rest) = self.raw.split_first()?;
        if first != b'\\' || self.escaping == Escaping::Verbatim {
            self.raw = rest;
            return Some(first);
        }
        if self.escaping == Escaping::Shell {
            return match rest.split_first() {
                Some((&e @ (b'"' | b'\\' | b'$' | b'`'), tail)) => {
                    self.raw = tail;
                    Some(e)
                }
                _ => {
                    self.raw = rest;
                    Some(b'\\')
                }
            };
        }
        // Three octal digits: the one form Octal and CStyle share.
        if let [a @ b'0'..=b'3', b @ b'0'..=b'7', c @ b'0'..=b'7', tail @ ..] = rest {
            self.raw = tail;
            return Some(((a - b'0') << 6) | ((b - b'0') << 3) | (c - b'0'));
        }
        if self.escaping == Escaping::CStyle {
            if let Some((&e, tail)) = rest.split_first() {
                let decoded = match e {
                    b'n' => Some(b'\n'),
                    b't' => Some(b'\t'),
                    b'r' => Some(b'\r'),
                    b'f' => Some(0x0c),
                    b'v' => Some(0x0b),
                    b'a' => Some(0x07),
                    b'e' => Some(0x1b),
                    b'\\' => Some(b'\\'),
                    b'"' => Some(b'"'),
                    _ => None,
                };
                if let Some(d) = decoded {
                    self.raw = tail;
                    return Some(d);
                }
            }
        }
        // A lone backslash is kept as it is: the kernel never writes one, so it is data.
        self.raw = rest;
        Some(b'\\')
    }
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Decode in small stack chunks so lossy UTF-8 handling sees whole characters
        // except at chunk edges, where a split character is carried over.
        let mut buf = [0u8; 64];
        let mut len = 0;
        for b in self.decoded() {
            buf[len] = b;
            len += 1;
            if len == buf.len() {
                let keep = incomplete_utf8_tail(&buf[..len]);
                write_lossy(f, &buf[..len - keep])?;
                buf.copy_within(len - keep..len, 0);
                len = keep;
            }
        }
        write_lossy(f, &buf[..len])
    }
}

impl fmt::Debug for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", Text(self.raw))
    }
}

/// Length of a trailing, possibly incomplete UTF-8 sequence (0 to 3 bytes).
fn incomplete_utf8_tail(bytes: &[u8]) -> usize {
    for back in 1..=3.min(bytes.len()) {
        let b = bytes[bytes.len() - back];
        if b & 0xC0 == 0xC0 {
            let need = if b >= 0xF0 {
                4
            } else if b >= 0xE0 {
                3
            } else {
                2
            };
            return if need > back { back } else { 0 };
        }
        if b & 0xC0 != 0x80 {
            return 0;
        }
    }
    0
}

#[cfg(feature = "serde")]
impl serde::Serialize for Text<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        match self.to_str() {
            Some(text) => s.serialize_str(text),
            None => s.collect_str(self),
        }
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Escaped<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Serializes a state letter (`b'S'`) as a one-character string.
#[cfg(feature = "serde")]
pub(crate) fn serialize_state<S: serde::Serializer>(
    c: &u8,
    s: S,
) -> core::result::Result<S::Ok, S::Error> {
    let buf = [*c];
    match core::str::from_utf8(&buf) {
        Ok(letter) => s.serialize_str(letter),
        Err(_) => s.serialize_u8(*c),
    }
}

/// [`serialize_state`] for an optional state.
#[cfg(feature = "serde")]
pub(crate) fn serialize_opt_state<S: serde::Serializer>(
    c: &Option<u8>,
    s: S,
) -> core::result::Result<S::Ok, S::Error> {
    match c {
        Some(c) => serialize_state(c, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_both_styles() {
        let octal = Escaped::new(br"/mnt/a\040b\011c\134d\012", Escaping::Octal);
        assert!(octal.decodes_to(b"/mnt/a b\tc\\d\n"));
        let c = Escaped::new(br"foo\nbar) S 1\\", Escaping::CStyle);
        assert!(c.decodes_to(b"foo\nbar) S 1\\"));
        let mut buf = [0u8; 4];
        assert_eq!(c.decode_into(&mut buf), None);
    }

    #[test]
    fn utf8_tail() {
        assert_eq!(incomplete_utf8_tail("aé".as_bytes()), 0);
        assert_eq!(incomplete_utf8_tail(&"aé".as_bytes()[..2]), 1);
        assert_eq!(incomplete_utf8_tail(&"a€".as_bytes()[..3]), 2);
    }
}
