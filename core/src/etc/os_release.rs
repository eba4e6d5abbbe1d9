//! `/etc/os-release` (or `/usr/lib/os-release`): the operating system's identification,
//! newline-separated `KEY=value` assignments in a subset of shell syntax, with blank lines
//! and `#` comments (os-release(5)). A value is bare, or enclosed in double quotes (with
//! backslash escapes of `"`, `\`, `$` and backtick) or in single quotes (none).

use crate::error::{Error, ErrorKind, Result};
use crate::text::{Escaped, Escaping, Line, LineRecords, Text};

/// One assignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Field<'a> {
    /// The variable (`PRETTY_NAME`).
    pub key: Text<'a>,
    /// Its value without the quotes; [`Escaped::decoded`] undoes a double-quoted
    /// value's escapes.
    pub value: Escaped<'a>,
}

/// Iterator over the assignments of an os-release file; stops after the first error.
pub type Records<'a> = LineRecords<'a, Field<'a>>;

/// Iterates the assignments of an os-release file, skipping blank lines and comments.
///
/// ```
/// use ferrostat_core::etc::os_release::records;
/// let mut it = records(b"# comment\nNAME=\"Debian GNU/Linux\"\nID=debian\n");
/// let f = it.next().unwrap()?;
/// assert_eq!((f.key.as_bytes(), f.value.to_string()), (&b"NAME"[..], "Debian GNU/Linux".to_owned()));
/// assert_eq!(it.next().unwrap()?.value.raw(), b"debian");
/// assert!(it.next().is_none());
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
pub fn records(input: &[u8]) -> Records<'_> {
    LineRecords::new(input, parse_line)
}

fn parse_line<'a>(line: &Line<'a>) -> Result<Option<Field<'a>>> {
    let bytes = crate::text::trim(line.bytes);
    if bytes.is_empty() || bytes[0] == b'#' {
        return Ok(None);
    }
    let lead = line
        .bytes
        .iter()
        .take_while(|b| crate::text::is_blank(**b))
        .count();
    let start = line.offset + lead;
    let Some(eq) = memchr::memchr(b'=', bytes) else {
        return Err(Error::new(ErrorKind::MissingField, start));
    };
    let key = &bytes[..eq];
    let key_ok = !key.is_empty() && key.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
    if !key_ok {
        return Err(Error::new(ErrorKind::BadLine, start));
    }
    let raw = &bytes[eq + 1..];
    let at = start + eq + 1;
    let value = match raw.first() {
        Some(b'"') => Escaped::new(closed(raw, b'"', at)?, Escaping::Shell),
        Some(b'\'') => Escaped::new(closed(raw, b'\'', at)?, Escaping::Verbatim),
        _ => {
            if raw
                .iter()
                .any(|b| matches!(b, b'"' | b'\'' | b'\\' | b' ' | b'\t'))
            {
                return Err(Error::new(ErrorKind::BadValue, at));
            }
            Escaped::new(raw, Escaping::Verbatim)
        }
    };
    Ok(Some(Field {
        key: Text(key),
        value,
    }))
}

/// The inside of a value quoted with `quote`, which must close it at the line's end (a
/// backslash escapes the double quote inside double quotes).
fn closed(raw: &[u8], quote: u8, at: usize) -> Result<&[u8]> {
    let inner = &raw[1..];
    let mut i = 0;
    while i < inner.len() {
        match inner[i] {
            b'\\' if quote == b'"' => i += 2,
            b if b == quote => {
                return if i + 1 == inner.len() {
                    Ok(&inner[..i])
                } else {
                    Err(Error::new(ErrorKind::BadValue, at + 1 + i + 1))
                };
            }
            _ => i += 1,
        }
    }
    Err(Error::new(ErrorKind::BadValue, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each record's key and decoded value, checked against `expected` in order.
    fn check(input: &[u8], expected: &[(&str, &str)]) {
        let mut n = 0;
        for (record, (key, value)) in records(input).zip(expected) {
            let f = record.unwrap();
            let mut buf = [0u8; 64];
            assert_eq!(f.key.as_bytes(), key.as_bytes());
            assert_eq!(f.value.decode_into(&mut buf).unwrap(), value.as_bytes());
            n += 1;
        }
        assert_eq!(n, expected.len());
    }

    #[test]
    fn node_exporter_fixture_and_quoting() {
        // node_exporter's fixture usr/lib/os-release (Ubuntu 20.04.2), its first lines.
        let ubuntu = b"NAME=\"Ubuntu\"\nVERSION=\"20.04.2 LTS (Focal Fossa)\"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"20.04\"\n";
        check(
            ubuntu,
            &[
                ("NAME", "Ubuntu"),
                ("VERSION", "20.04.2 LTS (Focal Fossa)"),
                ("ID", "ubuntu"),
                ("ID_LIKE", "debian"),
                ("VERSION_ID", "20.04"),
            ],
        );
        // Escapes in double quotes, none in single quotes, comments and blank lines.
        check(
            b"\n# c\nA=\"say \\\"hi\\\" \\$x \\\\ \\n\"\nB='a \\101'\n",
            &[("A", "say \"hi\" $x \\ \\n"), ("B", "a \\101")],
        );
        let bad = records(b"B='it''s'\n").next().unwrap().unwrap_err();
        assert_eq!(bad.kind(), ErrorKind::BadValue);
        let e = records(b"NAME=\"open\n").next().unwrap().unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::BadValue, 5));
        let e = records(b"x y=1\n").next().unwrap().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadLine);
        let e = records(b"PLAIN=a b\n").next().unwrap().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadValue);
    }
}
