//! Lines and whitespace-separated fields of `&[u8]`, the cursor every /proc grammar is
//! written with, and the two loops that turn a line grammar into records or a table.

use core::fmt;

use crate::error::{Error, ErrorKind, Result};
use crate::text::numbers::{first_digits, leading_digits};
use crate::text::{parse_i64, parse_u64, scan_digits, word_at};

/// One line of input, without its `\n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Line<'a> {
    /// Offset of the first byte of the line in the whole input.
    pub offset: usize,
    /// The line's bytes, without the newline.
    pub bytes: &'a [u8],
    /// False for a final line that was not followed by `\n`: it may have been cut short.
    pub terminated: bool,
}

impl<'a> Line<'a> {
    /// A cursor over this line's whitespace-separated fields.
    pub fn fields(&self) -> Fields<'a> {
        Fields {
            line: self.bytes,
            pos: 0,
            base: self.offset,
            terminated: self.terminated,
        }
    }

    /// The error for a field that is absent: short input when the line was not terminated.
    pub fn missing(&self) -> Error {
        missing_at(self.offset + self.bytes.len(), self.terminated)
    }
}

fn missing_at(offset: usize, terminated: bool) -> Error {
    let kind = if terminated {
        ErrorKind::MissingField
    } else {
        ErrorKind::UnexpectedEnd
    };
    Error::new(kind, offset)
}

/// An error inside a final line that has no newline is reported as `UnexpectedEnd` at the
/// end of the input: the line was probably cut by a short read, and a retry with a larger
/// buffer is the remedy, whatever the cut token looked like.
pub(crate) fn cut_aware(line: &Line<'_>, e: Error) -> Error {
    if line.terminated || e.is_incomplete() {
        e
    } else {
        Error::new(ErrorKind::UnexpectedEnd, line.offset + line.bytes.len())
    }
}

/// [`cut_aware`] for parsers that read the whole input at once.
pub(crate) fn cut_aware_input<T>(input: &[u8], r: Result<T>) -> Result<T> {
    r.map_err(|e| {
        if input.last() == Some(&b'\n') || e.is_incomplete() {
            return e;
        }
        let last_line = memchr::memrchr(b'\n', input).map_or(0, |n| n + 1);
        if e.offset() >= last_line {
            Error::new(ErrorKind::UnexpectedEnd, input.len())
        } else {
            e
        }
    })
}

/// Iterator over the lines of an input, split on `\n` with memchr.
#[derive(Clone, Debug)]
pub(crate) struct Lines<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Lines<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Lines { input, pos: 0 }
    }

    /// Offset of the next unread byte.
    pub fn position(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = Line<'a>;

    #[inline]
    fn next(&mut self) -> Option<Line<'a>> {
        let rest = self.input.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        let offset = self.pos;
        match memchr::memchr(b'\n', rest) {
            Some(end) => {
                self.pos += end + 1;
                Some(Line {
                    offset,
                    bytes: &rest[..end],
                    terminated: true,
                })
            }
            None => {
                self.pos = self.input.len();
                Some(Line {
                    offset,
                    bytes: rest,
                    terminated: false,
                })
            }
        }
    }
}

#[inline]
pub(crate) fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Index of the first byte at or after `i` that is not a space or tab.
#[inline]
fn skip_blanks(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && is_blank(bytes[i]) {
        i += 1;
    }
    i
}

/// Cursor over the whitespace-separated fields of one line.
#[derive(Clone, Debug)]
pub(crate) struct Fields<'a> {
    line: &'a [u8],
    pos: usize,
    base: usize,
    terminated: bool,
}

impl<'a> Fields<'a> {
    /// The next field and its offset in the input, or `None` at the end of the line.
    #[inline]
    pub fn next_token(&mut self) -> Option<(usize, &'a [u8])> {
        let line = self.line;
        let mut i = skip_blanks(line, self.pos);
        if i == line.len() {
            self.pos = i;
            return None;
        }
        let start = i;
        while i < line.len() && !is_blank(line[i]) {
            i += 1;
        }
        self.pos = i;
        Some((self.base + start, &line[start..i]))
    }

    /// The next field, which must be there.
    #[inline]
    pub fn token(&mut self) -> Result<(usize, &'a [u8])> {
        self.next_token().ok_or_else(|| self.missing())
    }

    /// The error for an absent field at the current position.
    pub fn missing(&self) -> Error {
        missing_at(self.base + self.line.len(), self.terminated)
    }

    /// The next field as an unsigned decimal integer.
    #[inline]
    pub fn u64(&mut self) -> Result<u64> {
        self.opt_u64()?.ok_or_else(|| self.missing())
    }

    /// The next field as a signed decimal integer.
    #[inline]
    pub fn i64(&mut self) -> Result<i64> {
        let line = self.line;
        let i = skip_blanks(line, self.pos);
        if line.get(i) == Some(&b'-') {
            let (at, tok) = self.token()?;
            return parse_i64(tok).ok_or(Error::new(ErrorKind::BadInteger, at));
        }
        let at = self.base + i;
        let v = self.u64()?;
        i64::try_from(v).map_err(|_| Error::new(ErrorKind::BadInteger, at))
    }

    /// The next field as an unsigned integer, or `None` at the end of the line.
    ///
    /// Blanks, digits and the field's end are found in one pass (this is the innermost
    /// loop of every parser): digits accumulate without overflow checks, and only a
    /// field of 20 or more digits is re-checked.
    #[inline]
    pub fn opt_u64(&mut self) -> Result<Option<u64>> {
        let line = self.line;
        let mut i = skip_blanks(line, self.pos);
        if i == line.len() {
            self.pos = i;
            return Ok(None);
        }
        let start = i;
        // A lone digit (the many 0s of /proc) without the general scan.
        let first = line[i].wrapping_sub(b'0');
        if first <= 9 && line.get(i + 1).is_none_or(|&b| is_blank(b)) {
            self.pos = i + 1;
            return Ok(Some(first as u64));
        }
        // Up to 7 digits and a blank, from one word, without the call to the digit loop.
        if first <= 9 {
            if let Some(word) = word_at(line, i) {
                let n = leading_digits(word);
                if n < 8 && is_blank((word >> (8 * n)) as u8) {
                    self.pos = i + n as usize;
                    return Ok(Some(first_digits(word, n)));
                }
            }
        }
        let (mut v, end) = scan_digits(line, i);
        i = end;
        let bad = Error::new(ErrorKind::BadInteger, self.base + start);
        if i == start || line.get(i).is_some_and(|&b| !is_blank(b)) {
            return Err(bad);
        }
        if i - start >= 20 {
            v = parse_u64(&line[start..i]).ok_or(bad)?;
        }
        self.pos = i;
        Ok(Some(v))
    }

    /// Whatever follows the fields read so far, leading blanks skipped.
    pub fn rest(&self) -> (usize, &'a [u8]) {
        let i = skip_blanks(self.line, self.pos);
        (self.base + i, &self.line[i..])
    }
}

/// Parses every line of `input` into `out` (cleared first): the loop behind each
/// `parse_into` of a list-shaped file, writing records straight into the table.
pub(crate) fn fill_table<'a, R, const N: usize>(
    input: &'a [u8],
    parse: fn(&Line<'a>) -> Result<Option<R>>,
    out: &mut crate::Table<R, N>,
) -> Result<crate::Summary> {
    out.clear();
    for line in Lines::new(input) {
        match parse(&line) {
            Ok(Some(record)) => {
                out.push(record);
            }
            Ok(None) => {}
            Err(e) => return Err(cut_aware(&line, e)),
        }
    }
    Ok(out.summary())
}

/// A line-oriented record iterator: each line is handed to a parse function that yields
/// a record, skips the line (`Ok(None)`), or fails. Iteration stops after the first error,
/// so a caller never sees records from beyond a point the parser could not understand.
pub struct LineRecords<'a, R> {
    lines: Lines<'a>,
    parse: fn(&Line<'a>) -> Result<Option<R>>,
    failed: bool,
}

impl<'a, R> LineRecords<'a, R> {
    pub(crate) fn new(input: &'a [u8], parse: fn(&Line<'a>) -> Result<Option<R>>) -> Self {
        LineRecords {
            lines: Lines::new(input),
            parse,
            failed: false,
        }
    }
}

impl<R> Iterator for LineRecords<'_, R> {
    type Item = Result<R>;

    #[inline]
    fn next(&mut self) -> Option<Result<R>> {
        if self.failed {
            return None;
        }
        for line in self.lines.by_ref() {
            match (self.parse)(&line) {
                Ok(Some(record)) => return Some(Ok(record)),
                Ok(None) => continue,
                Err(e) => {
                    self.failed = true;
                    return Some(Err(cut_aware(&line, e)));
                }
            }
        }
        None
    }
}

impl<R> core::fmt::Debug for LineRecords<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LineRecords")
            .field("position", &self.lines.position())
            .field("failed", &self.failed)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Text;

    #[test]
    fn one_field_readers_agree_with_parse_u64() {
        let tokens: [&[u8]; 22] = [
            b"0",
            b"7",
            b"42",
            b"661",
            b"0420",
            b"1234567",
            b"39235584",
            b"00000000",
            b"114413973",
            b"1003346126",
            b"140725039102800",
            b"1234567890123456",
            b"9999999999999999999",
            b"18446744073709551615",
            b"18446744073709551616",
            b"18446744073709551614",
            b"00018446744073709551615",
            b"-1",
            b"-10",
            b"-1234567",
            b"-12345678",
            b"-",
        ];
        let afters: [&[u8]; 6] = [b" 1\n", b"\n", b"\t", b"x 1\n", b"-", b""];
        for token in tokens {
            for after in afters {
                for pad in 0..10 {
                    let mut buf = [b' '; 64];
                    let (t_end, end) = (pad + token.len(), pad + token.len() + after.len());
                    buf[pad..t_end].copy_from_slice(token);
                    buf[t_end..end].copy_from_slice(after);
                    let bytes = &buf[..end];
                    let (t, a) = (Text(token), Text(after));

                    // `Fields` takes a field that ends at a blank or the line's end.
                    let line_end = bytes.iter().position(|&b| b == b'\n').unwrap_or(end);
                    let line = &bytes[..line_end];
                    let mut fields = Line {
                        offset: 0,
                        bytes: line,
                        terminated: true,
                    }
                    .fields();
                    let run = line[pad..]
                        .iter()
                        .position(|&b| is_blank(b))
                        .map_or(line.len(), |p| pad + p);
                    let want = parse_u64(&line[pad..run]);
                    assert_eq!(
                        fields.opt_u64().ok().flatten(),
                        want,
                        "{t} then {a} at {pad}"
                    );
                    if want.is_some() {
                        assert_eq!(fields.pos, run, "{t} then {a} at {pad}");
                    }
                }
            }
        }
    }

    #[test]
    fn lines_report_unterminated_tail() {
        let mut lines = Lines::new(b"a b\nc");
        let first = lines.next().unwrap();
        assert_eq!(
            (first.offset, first.bytes, first.terminated),
            (0, &b"a b"[..], true)
        );
        let last = lines.next().unwrap();
        assert_eq!(
            (last.offset, last.bytes, last.terminated),
            (4, &b"c"[..], false)
        );
        assert!(lines.next().is_none());
        let mut f = last.fields();
        f.token().unwrap();
        assert_eq!(f.token().unwrap_err().kind(), ErrorKind::UnexpectedEnd);
    }
}
