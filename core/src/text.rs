//! The byte-level cursor every /proc parser is built on: lines, whitespace-separated
//! fields and integers read straight from `&[u8]`, with no UTF-8 pass and no allocation.
//!
//! Also the two borrowed string views the records expose: [`Text`] (bytes the kernel
//! copied verbatim, shown lossily) and [`Escaped`] (bytes the kernel escaped, decoded on
//! demand).

use core::fmt::{self, Write as _};

use crate::error::{Error, ErrorKind, Result};

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

/// Which of the 8 bytes of a little-endian word are ASCII digits: the count of leading
/// digit bytes (0 to 8). Lane-wise arithmetic on the low 7 bits never carries between
/// bytes, and the byte's own top bit marks non-ASCII.
#[inline]
fn leading_digits(word: u64) -> u32 {
    non_digit_bytes(word).trailing_zeros() / 8
}

/// Every byte of a word that is an ASCII digit, XORed with this, is that digit's value.
/// XOR rather than subtraction: no borrow crosses into the next byte, so bytes that are
/// not digits can be masked off afterwards, in one `and`.
const ASCII_ZEROS: u64 = 0x3030_3030_3030_3030;

/// The value of 8 ASCII digits in a little-endian word (first digit in the lowest byte),
/// by pairwise combination (Lemire, "Faster integer parsing", 2018).
#[inline]
fn eight_digits(word: u64) -> u64 {
    digit_lanes(word ^ ASCII_ZEROS)
}

/// The value of 8 digit values (0 to 9, one a byte, first digit in the lowest byte).
#[inline(always)]
fn digit_lanes(v: u64) -> u64 {
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    let lo = (v & 0x0000_00FF_0000_00FF).wrapping_mul(100 + (1_000_000 << 32));
    let hi = ((v >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32));
    lo.wrapping_add(hi) >> 32
}

/// The value of the first `n` (1 to 7) digits of a little-endian word: their values are
/// shifted to the top, zeros coming in below, then converted eight at a time.
#[inline(always)]
fn first_digits(word: u64, n: u32) -> u64 {
    digit_lanes((word ^ ASCII_ZEROS) << (64 - 8 * n))
}

/// RLIM_INFINITY as the kernel prints it: the `rsslim` of nearly every pid/stat.
const RLIM_INFINITY: &[u8] = b"18446744073709551615";

/// `10^n` for every `n` whose power fits in a `u64` digit run of 19.
const POW10: [u64; 19] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
    100_000_000_000,
    1_000_000_000_000,
    10_000_000_000_000,
    100_000_000_000_000,
    1_000_000_000_000_000,
    10_000_000_000_000_000,
    100_000_000_000_000_000,
    1_000_000_000_000_000_000,
];

/// The 8 bytes at `i` as a little-endian word, if there are 8.
#[inline(always)]
pub(crate) fn word_at(bytes: &[u8], i: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(i..i + 8)?.try_into().ok()?))
}

/// The 8 bytes at `i` as a little-endian word, with zero bytes for those past the end of
/// the input: a cursor near the end of a short file still reads a word, and the zeros
/// count as non-digits. `None` for inputs shorter than 8 bytes or `i` past the end.
#[inline(always)]
fn word_from(bytes: &[u8], i: usize) -> Option<u64> {
    if let Some(word) = word_at(bytes, i) {
        return Some(word);
    }
    let back = i.checked_sub(bytes.len().checked_sub(8)?)?;
    if back > 8 {
        return None;
    }
    // `back` is 1 to 8 here: the last word, its first `back` bytes shifted out.
    Some(
        word_at(bytes, bytes.len() - 8)?
            .checked_shr(8 * back as u32)
            .unwrap_or(0),
    )
}

/// The index of the first byte at or after `i` that is not a space, eight bytes at a
/// time (/proc pads columns with runs of spaces).
#[inline]
pub(crate) fn skip_spaces(bytes: &[u8], mut i: usize) -> usize {
    while let Some(word) = word_at(bytes, i) {
        let other = word ^ 0x2020_2020_2020_2020;
        if other != 0 {
            return i + (other.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while bytes.get(i) == Some(&b' ') {
        i += 1;
    }
    i
}

/// The byte `b` in every lane of a word.
const fn splat(b: u8) -> u64 {
    0x0101_0101_0101_0101 * b as u64
}

/// The high bit of zero bytes of a word, for finding the first one: the lowest flagged
/// byte is exact, a byte above it may be flagged wrongly (borrows only run upwards).
#[inline(always)]
fn first_zero_byte_flags(x: u64) -> u64 {
    x.wrapping_sub(splat(1)) & !x & splat(0x80)
}

/// The index of the first `a` or `b` at or after `i`, eight bytes at a time; `None`
/// when neither occurs.
#[inline]
pub(crate) fn find_either(bytes: &[u8], mut i: usize, a: u8, b: u8) -> Option<usize> {
    while let Some(word) = word_at(bytes, i) {
        // A zero byte in `word ^ splat(a)` or `word ^ splat(b)` is a match.
        let hit = first_zero_byte_flags(word ^ splat(a)) | first_zero_byte_flags(word ^ splat(b));
        if hit != 0 {
            return Some(i + (hit.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    bytes[i.min(bytes.len())..]
        .iter()
        .position(|&c| c == a || c == b)
        .map(|p| i + p)
}

/// The index of the first `b` in the `words` words from `i`, eight bytes at a time, or
/// `Err` with the index where those words end (or where fewer than 8 bytes are left): a
/// caller hands what is longer to `memchr`, whose call costs more than a short value.
#[inline(always)]
pub(crate) fn find_in_words(
    bytes: &[u8],
    mut i: usize,
    b: u8,
    words: usize,
) -> core::result::Result<usize, usize> {
    for _ in 0..words {
        let Some(word) = word_at(bytes, i) else {
            break;
        };
        let hit = first_zero_byte_flags(word ^ splat(b));
        if hit != 0 {
            return Ok(i + (hit.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    Err(i)
}

/// The positions of the spaces and newlines from a starting index on, a word at a time:
/// each word's mask is made from a load at a fixed step from the one before, so finding
/// a field's end never waits for the field before it, as a search from each field's
/// start does. Bytes past the end of the input read as zeros, which are neither.
pub(crate) struct Separators<'a> {
    bytes: &'a [u8],
    /// Where the word of `mask` starts.
    base: usize,
    /// The high bit of each byte of that word still to be reported.
    mask: u64,
}

impl<'a> Separators<'a> {
    /// The separators at or after `start`.
    #[inline(always)]
    pub fn new(bytes: &'a [u8], start: usize) -> Option<Self> {
        Some(Separators {
            bytes,
            base: start,
            mask: separator_bytes(word_from(bytes, start)?),
        })
    }

    /// The index of the next space or newline; `None` past the end of the input.
    #[inline(always)]
    pub fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            self.base += 8;
            self.mask = separator_bytes(word_from(self.bytes, self.base)?);
        }
        let at = self.base + (self.mask.trailing_zeros() / 8) as usize;
        self.mask &= self.mask - 1;
        Some(at)
    }
}

/// The high bit of each byte of a word that is `byte`. Exact in every lane, unlike the
/// zero-byte test `find_either` uses, which may flag a byte above a match.
#[inline(always)]
fn bytes_equal_to(word: u64, byte: u8) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const TOP: u64 = 0x8080_8080_8080_8080;
    let x = word ^ u64::from_ne_bytes([byte; 8]);
    !(((x & LOW7) + LOW7) | x) & TOP
}

/// The high bit of each byte of a word that is a space or a newline: every separator of
/// the word, not only the first.
#[inline(always)]
fn separator_bytes(word: u64) -> u64 {
    bytes_equal_to(word, b' ') | bytes_equal_to(word, b'\n')
}

/// Reads the run of ASCII digits starting at `i`: its value (wrapping past 19 digits, so
/// callers re-check runs of 20 or more) and the index after it. Eight digits at a time
/// where the line has eight bytes left, one at a time at its end.
#[inline]
pub(crate) fn scan_digits(bytes: &[u8], mut i: usize) -> (u64, usize) {
    let mut v: u64 = 0;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let word = u64::from_le_bytes([
            chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
        ]);
        let n = leading_digits(word);
        if n <= 3 {
            // Short numbers (the many 0s of /proc) are cheaper one digit at a time.
            for &b in &chunk[..n as usize] {
                v = v.wrapping_mul(10).wrapping_add((b - b'0') as u64);
            }
            return (v, i + n as usize);
        }
        let digits = if n == 8 {
            eight_digits(word)
        } else {
            first_digits(word, n)
        };
        v = v.wrapping_mul(POW10[n as usize]).wrapping_add(digits);
        i += n as usize;
        if n < 8 {
            return (v, i);
        }
    }
    while let Some(&b) = bytes.get(i) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        v = v.wrapping_mul(10).wrapping_add(d as u64);
        i += 1;
    }
    (v, i)
}

/// A number the kernel printed right-aligned in a field `width` (1 to 8) bytes wide
/// (`%4d`, `%7d`), from the low `width` bytes of `word`: spaces, then at least one digit.
/// `None` for any other bytes, among them a number wider than its field.
#[inline(always)]
pub(crate) fn right_aligned(word: u64, width: u32) -> Option<u64> {
    // The field's bytes at the top of the word, zero bytes below: leading zeros, once
    // the spaces are zeros too.
    let field = word << (64 - 8 * width);
    let in_field = 0x8080_8080_8080_8080 << (64 - 8 * width);
    let not_digits = non_digit_bytes(field) & in_field;
    let spaces = bytes_equal_to(field, b' ') & in_field;
    let digits = in_field & !not_digits;
    // Every byte a space or a digit, and every space before the first digit.
    if not_digits != spaces || spaces >= digits & digits.wrapping_neg() {
        return None;
    }
    Some(digit_lanes(field & 0x0F0F_0F0F_0F0F_0F0F))
}

/// `d d d d ` at `i` (four lone digits, each followed by a space): the digits' values in
/// the low byte of each 16-bit lane.
#[inline(always)]
fn four_lone_digits(bytes: &[u8], i: usize) -> Option<u64> {
    let lanes = word_at(bytes, i)? ^ 0x2030_2030_2030_2030;
    // The spaces are now 0 and the digits 0 to 9. A lane below 10 plus 118 stays below
    // 128; any other (up to 255) reaches bit 7 or bit 8.
    let spaces_and_digits = lanes & 0xFF00_FF00_FF00_FF00 == 0
        && (lanes + 0x0076_0076_0076_0076) & 0x0180_0180_0180_0180 == 0;
    spaces_and_digits.then_some(lanes)
}

/// The high bit of each byte of a little-endian word that is not an ASCII digit (the
/// same lane arithmetic as [`leading_digits`]).
#[inline(always)]
fn non_digit_bytes(word: u64) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const TOP: u64 = 0x8080_8080_8080_8080;
    let at_least_0x3a = (word & LOW7) + 0x4646_4646_4646_4646;
    let at_least_0x30 = (word & LOW7) + 0x5050_5050_5050_5050;
    (at_least_0x3a | !at_least_0x30 | word) & TOP
}

/// The value of the `len` (1 to 8) digits just before `end`, from the word of the 8
/// bytes that end there: the digits XORed to their values, the bytes before them cleared.
#[inline(always)]
fn digits_before(bytes: &[u8], end: usize, len: usize) -> Option<u64> {
    let word = word_at(bytes, end.checked_sub(8)?)?;
    Some(digit_lanes(
        (word ^ ASCII_ZEROS) & (u64::MAX << (64 - 8 * len)),
    ))
}

/// The value of the `len` ASCII digits (1 to 16) that end just before `end`, read from
/// the words that end there and nothing else: the conversion [`separated_digit_row`] does
/// once it knows where a field ends. `None` for any other length, or fewer than 8 bytes
/// (16 for 9 digits or more) before `end`. The digits are not checked.
///
/// Public, and hidden, so the benches can time converting alone on known field positions
/// (`benches/examples/stat_floor.rs`).
#[doc(hidden)]
#[inline(always)]
pub fn digits_ending_at(bytes: &[u8], end: usize, len: usize) -> Option<u64> {
    match len {
        1..=8 => digits_before(bytes, end, len),
        9..=16 => Some(
            digits_before(bytes, end.checked_sub(8)?, len - 8)? * 100_000_000
                + digits_before(bytes, end, 8)?,
        ),
        _ => None,
    }
}

/// A row of up to `N` unsigned fields of 1 to 16 digits, one space apart and ending in
/// `\n`, starting at `start`: the values, how many there were, and the index after the
/// newline. `None` for any other shape, and where the row's bytes cannot be read a word
/// at a time: fewer than 8 bytes before a field's end (16 for 9 digits or more), or a
/// last word cut by the end of the input. The caller's general parser then reads it.
///
/// Where each field ends comes from a mask of the non-digit bytes of each word, so no
/// field waits for the one before it, as it does when the step to the next field is
/// computed from the digits just read ([`Scan::number_row`], which is the better choice
/// when most fields are a lone digit). Each value is then read from the 8 bytes that end
/// at its separator.
#[inline(always)]
pub(crate) fn separated_digit_row<const N: usize>(
    bytes: &[u8],
    start: usize,
) -> Option<([u64; N], usize, usize)> {
    let mut values = [0u64; N];
    let mut count = 0;
    let mut field = start;
    let mut word_start = start;
    loop {
        let word = word_at(bytes, word_start)?;
        let mut ends = non_digit_bytes(word);
        while ends != 0 {
            let end = word_start + (ends.trailing_zeros() / 8) as usize;
            ends &= ends - 1;
            *values.get_mut(count)? = digits_ending_at(bytes, end, end - field)?;
            count += 1;
            match bytes[end] {
                b' ' => field = end + 1,
                b'\n' => return Some((values, count, end + 1)),
                _ => return None,
            }
        }
        word_start += 8;
    }
}

/// A whole short file that is one row of exactly `N` unsigned fields of 1 to 8 digits,
/// one space apart, ending in `\n` within its first 65 bytes (`/proc/<pid>/statm`):
/// the values and the index after the newline. `None` for any other shape.
///
/// The words of the row are loaded at fixed offsets and their non-digit bytes gathered
/// into one mask of field ends, so no load waits for the field before it, as it does
/// when each field's word is found from the digits just read.
#[inline(always)]
pub(crate) fn short_digit_row<const N: usize>(bytes: &[u8]) -> Option<([u64; N], usize)> {
    let words = bytes.len().min(64).div_ceil(8);
    let mut ends = 0u64;
    for k in 0..words {
        let word = word_from(bytes, 8 * k)?;
        // One bit per byte: the high bits of the eight lanes, gathered by a multiply.
        let lanes = non_digit_bytes(word) >> 7;
        ends |= (lanes.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
    }
    let mut values = [0u64; N];
    let mut start = 0;
    for (k, slot) in values.iter_mut().enumerate() {
        let end = ends.trailing_zeros() as usize;
        ends &= ends.wrapping_sub(1);
        let len = end.checked_sub(start)?;
        if !(1..=8).contains(&len) {
            return None;
        }
        let word = word_from(bytes, start)?;
        *slot = if len == 8 {
            eight_digits(word)
        } else {
            first_digits(word, len as u32)
        };
        let separator = if k + 1 < N { b' ' } else { b'\n' };
        if bytes.get(end) != Some(&separator) {
            return None;
        }
        start = end + 1;
    }
    Some((values, start))
}

/// What [`Scan::number_row`] read: how many fields and which of them had a `-`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Row {
    pub count: usize,
    /// Bit `k` set when field `k` was negative; its value is then the magnitude.
    pub negative: u64,
}

impl Row {
    /// Field `k` of `values` as a signed integer, if it fits an `i64`.
    #[inline(always)]
    pub fn signed(&self, values: &[u64], k: usize) -> Option<i64> {
        let v = values[k];
        if self.negative >> k & 1 == 0 {
            i64::try_from(v).ok()
        } else if v <= i64::MIN.unsigned_abs() {
            Some((v as i64).wrapping_neg())
        } else {
            None
        }
    }
}

/// A forward cursor for the fast passes over lines the kernel prints in one fixed shape.
/// Each step takes exactly that shape or gives up with `None`; the caller then hands the
/// whole input to its general parser, which reads the same bytes to the same values and
/// reports errors with their offsets. So a fast pass never decides what is an error.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scan<'a> {
    bytes: &'a [u8],
    /// Offset of the next unread byte.
    pub pos: usize,
}

/// `10^n` as an `f64`, for the fraction digits of [`parse_decimal`] (at most 18).
const POW10_F64: [f64; 19] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18,
];

impl<'a> Scan<'a> {
    #[inline(always)]
    pub fn new(bytes: &'a [u8], pos: usize) -> Self {
        Scan { bytes, pos }
    }

    /// One run of digits that fits a `u64` (`rsslim` is often u64::MAX, 20 digits).
    #[inline(always)]
    pub fn u64(&mut self) -> Option<u64> {
        let (mut v, end) = scan_digits(self.bytes, self.pos);
        let len = end - self.pos;
        if len == 0 {
            return None;
        }
        if len >= 20 {
            // scan_digits wraps past 19 digits: the checked parser decides, after a
            // compare with RLIM_INFINITY (pid/stat's rows read it in
            // `field_and_separator`). Without the compare, pid/io and pid/status, which
            // never get here, ran 3-5 % slower: it changes how this is inlined.
            let run = &self.bytes[self.pos..end];
            v = if run == RLIM_INFINITY {
                u64::MAX
            } else {
                parse_u64(run)?
            };
        }
        self.pos = end;
        Some(v)
    }

    /// The value of the digit at `i`, or more than 9 for any other byte and past the end.
    #[inline(always)]
    fn digit_at(&self, i: usize) -> u8 {
        self.bytes.get(i).map_or(10, |b| b.wrapping_sub(b'0'))
    }

    /// Exactly the byte `b`.
    #[inline(always)]
    pub fn byte(&mut self, b: u8) -> Option<()> {
        if self.bytes.get(self.pos) != Some(&b) {
            return None;
        }
        self.pos += 1;
        Some(())
    }

    /// Exactly the bytes `tag`.
    #[inline(always)]
    pub fn tag(&mut self, tag: &[u8]) -> Option<()> {
        if self.bytes.get(self.pos..self.pos + tag.len())? != tag {
            return None;
        }
        self.pos += tag.len();
        Some(())
    }

    /// Steps over a run of spaces (the padding of right-aligned columns).
    #[inline(always)]
    pub fn spaces(&mut self) {
        self.pos = skip_spaces(self.bytes, self.pos);
    }

    /// The bytes up to the next `\n`, which the cursor steps over, or up to the end of
    /// the input where no newline follows; `None` at the end of the input.
    #[inline(always)]
    pub fn rest_of_line(&mut self) -> Option<&'a [u8]> {
        if self.at_end() {
            return None;
        }
        let end = find_either(self.bytes, self.pos, b'\n', b'\n').unwrap_or(self.bytes.len());
        let line = &self.bytes[self.pos..end];
        self.pos = end + 1;
        Some(line)
    }

    /// Whether the whole input has been read.
    #[inline(always)]
    pub fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// Exactly 16 hex digits, as `%016lx` prints them (the masks of `status`).
    #[inline(always)]
    pub fn hex16(&mut self) -> Option<u64> {
        let high = eight_hex_digits(word_at(self.bytes, self.pos)?)?;
        let low = eight_hex_digits(word_at(self.bytes, self.pos + 8)?)?;
        self.pos += 16;
        Some(u64::from(high) << 32 | u64::from(low))
    }

    /// A line of decimal integers (`-` allowed) one space apart, ending in `\n`, as the
    /// kernel's `seq_printf` rows are: the values go to `values` (at most 64), fields past
    /// its end are checked and skipped, and the cursor ends after the newline.
    #[inline(always)]
    pub fn number_row(&mut self, values: &mut [u64]) -> Option<Row> {
        debug_assert!(values.len() <= 64, "one bit of Row::negative per value");
        let mut count = 0;
        let mut negative = 0u64;
        loop {
            let p = self.pos;
            // The lone digit and a space, most fields' shape, with no more work than it
            // needs: one bounds check, no sign, no separator to tell apart.
            if let Some(&[d, b' ']) = self.bytes.get(p..p + 2) {
                let digit = d.wrapping_sub(b'0');
                if digit <= 9 {
                    // Runs of them (an idle disk's counters, pid/stat's unused fields)
                    // four at a time, from one word.
                    if let Some(lanes) = four_lone_digits(self.bytes, p) {
                        let four = [0, 16, 32, 48].map(|shift| lanes >> shift & 0xFF);
                        // One bounds check where all four fit, as they nearly always do.
                        if let Some(slots) = values.get_mut(count..count + 4) {
                            slots.copy_from_slice(&four);
                        } else {
                            for (k, v) in four.into_iter().enumerate() {
                                if let Some(slot) = values.get_mut(count + k) {
                                    *slot = v;
                                }
                            }
                        }
                        count += 4;
                        self.pos = p + 8;
                        continue;
                    }
                    if let Some(slot) = values.get_mut(count) {
                        *slot = u64::from(digit);
                    }
                    count += 1;
                    self.pos = p + 2;
                    continue;
                }
            }
            let (value, minus, separator) = self.field_and_separator()?;
            if let Some(slot) = values.get_mut(count) {
                *slot = value;
                negative |= (minus as u64) << count;
            }
            count += 1;
            match separator {
                b' ' => {}
                b'\n' => return Some(Row { count, negative }),
                _ => return None,
            }
        }
    }

    /// A field of digits, `-` first or not, and the byte after it; the cursor is left
    /// past that byte.
    ///
    /// The step to the next field, not the digits, is what bounds a row: a step computed
    /// from loaded bytes makes each field wait for the one before. So fields of two and
    /// three digits (and a lone digit, which [`Scan::number_row`] takes itself) are
    /// predicted branches with constant steps (a fourth such branch cost pid/stat more
    /// than it saved); a field of up to 15 digits, or a `-` and up to 7, takes its
    /// separator from the word its last digits were counted in rather than from another
    /// load, without a call to the digit loop.
    #[inline(always)]
    fn field_and_separator(&mut self) -> Option<(u64, bool, u8)> {
        let p = self.pos;
        let first = self.digit_at(p);
        if first <= 9 {
            let second = self.digit_at(p + 1);
            if second <= 9 {
                if let Some(&sep @ (b' ' | b'\n')) = self.bytes.get(p + 2) {
                    self.pos = p + 3;
                    return Some(((first * 10 + second) as u64, false, sep));
                }
                let third = self.digit_at(p + 2);
                if third <= 9 {
                    if let Some(&sep @ (b' ' | b'\n')) = self.bytes.get(p + 3) {
                        self.pos = p + 4;
                        let v = (first as u64 * 10 + second as u64) * 10 + third as u64;
                        return Some((v, false, sep));
                    }
                }
            }
            if let Some(word) = word_at(self.bytes, p) {
                let n = leading_digits(word);
                if n < 8 {
                    self.pos = p + n as usize + 1;
                    return Some((first_digits(word, n), false, (word >> (8 * n)) as u8));
                }
                // 8 to 15 digits (vsize, start times, the addresses of later kernels'
                // rows) from a second word, and the `rsslim` of RLIM_INFINITY that nearly
                // every pid/stat has: no call to the digit loop.
                if let Some(next) = word_at(self.bytes, p + 8) {
                    let m = leading_digits(next);
                    if m < 8 {
                        let low = if m == 0 { 0 } else { first_digits(next, m) };
                        let value = eight_digits(word) * POW10[m as usize] + low;
                        self.pos = p + m as usize + 9;
                        return Some((value, false, (next >> (8 * m)) as u8));
                    }
                    let rest = self.bytes.get(p..p + 21).and_then(<[u8]>::split_last);
                    if let Some((&sep, RLIM_INFINITY)) = rest {
                        if sep.wrapping_sub(b'0') > 9 {
                            self.pos = p + 21;
                            return Some((u64::MAX, false, sep));
                        }
                    }
                }
            }
        } else if first == b'-'.wrapping_sub(b'0') {
            // A short negative value (`tpgid` -1, `nice` -10), read as its magnitude.
            if let Some(word) = word_at(self.bytes, p + 1) {
                let n = leading_digits(word);
                if (1..8).contains(&n) {
                    self.pos = p + n as usize + 2;
                    return Some((first_digits(word, n), true, (word >> (8 * n)) as u8));
                }
            }
        }
        let minus = self.bytes.get(p) == Some(&b'-');
        if minus {
            self.pos += 1;
        }
        let value = self.u64()?;
        let sep = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some((value, minus, sep))
    }

    /// [`Scan::hundredths`] for values mostly below 10 (load averages, pressure
    /// percentages): a lone integer digit is a predicted branch with a constant step.
    /// A step computed from the word, as `hundredths` takes, makes the next field wait
    /// for it; where the integer part is longer (uptime), the word is the cheaper read.
    #[inline(always)]
    pub fn small_hundredths(&mut self) -> Option<u64> {
        let p = self.pos;
        let (d0, d2, d3) = (self.digit_at(p), self.digit_at(p + 2), self.digit_at(p + 3));
        if d0 <= 9 && self.bytes.get(p + 1) == Some(&b'.') && d2 <= 9 && d3 <= 9 {
            self.pos = p + 4;
            return Some(u64::from(d0) * 100 + u64::from(d2) * 10 + u64::from(d3));
        }
        self.hundredths()
    }

    /// `digits.dd`, the kernel's `"%lu.%02lu"` (load averages, pressure, uptime), as
    /// hundredths: `12.34` is 1234. Integer parts of 1 to 5 digits are read from one
    /// word, found with a mask of its non-digit bytes rather than a digit loop; longer ones
    /// (up to 17) digit run by digit run. The caller checks the byte after.
    #[inline(always)]
    pub fn hundredths(&mut self) -> Option<u64> {
        if let Some(word) = word_from(self.bytes, self.pos) {
            let n = leading_digits(word) as usize;
            let shape = |n: usize| {
                let fraction_digits = non_digit_bytes(word) >> (8 * (n + 1)) & 0x8080 == 0;
                (word >> (8 * n)) as u8 == b'.' && fraction_digits
            };
            if (1..=5).contains(&n) && shape(n) {
                // Drop the dot: the n integer digits, then the two after it.
                let whole = word & ((1 << (8 * n)) - 1);
                let fraction = (word >> 8) & (0xFFFF << (8 * n));
                self.pos += n + 3;
                return Some(first_digits(whole | fraction, n as u32 + 2));
            }
        }
        let start = self.pos;
        let whole = self.u64()?;
        if self.pos - start > 17 {
            return None;
        }
        self.byte(b'.')?;
        let (d1, d2) = (self.digit_at(self.pos), self.digit_at(self.pos + 1));
        if d1 > 9 || d2 > 9 {
            return None;
        }
        self.pos += 2;
        Some(whole * 100 + u64::from(d1 * 10 + d2))
    }
}

/// Parses an unsigned decimal integer; `None` on an empty field, a non-digit or overflow.
/// Leading zeros are accepted (`055711` occurs in real diskstats).
#[inline]
pub(crate) fn parse_u64(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() {
        return None;
    }
    // 19 digits always fit in a u64, so the common case needs no overflow checks.
    if bytes.len() <= 19 {
        let (v, end) = scan_digits(bytes, 0);
        return (end == bytes.len()).then_some(v);
    }
    // Past any leading zeros, a value that fits has at most 20 digits (`rsslim` of
    // RLIM_INFINITY is one in nearly every pid/stat), and only the 20th needs a check.
    let digits = &bytes[bytes.iter().position(|&b| b != b'0').unwrap_or(bytes.len())..];
    match digits.len() {
        0 => Some(0),
        1..=19 => {
            let (v, end) = scan_digits(digits, 0);
            (end == digits.len()).then_some(v)
        }
        20 => {
            let (v, end) = scan_digits(&digits[..19], 0);
            let last = digits[19].wrapping_sub(b'0');
            if end != 19 || last > 9 {
                return None;
            }
            v.checked_mul(10)?.checked_add(last as u64)
        }
        _ => None,
    }
}

/// Parses a signed decimal integer (`-1`, `-9223372036854775808`, `+5`).
#[inline]
pub(crate) fn parse_i64(bytes: &[u8]) -> Option<i64> {
    match bytes.first()? {
        b'-' => {
            let m = parse_u64(&bytes[1..])?;
            if m <= i64::MAX as u64 {
                Some(-(m as i64))
            } else if m == i64::MIN.unsigned_abs() {
                Some(i64::MIN)
            } else {
                None
            }
        }
        b'+' => i64::try_from(parse_u64(&bytes[1..])?).ok(),
        _ => i64::try_from(parse_u64(bytes)?).ok(),
    }
}

/// Parses a counter the kernel prints with `%lu` but that may show up negative when a
/// 32-bit userland or an old kernel printed it signed (node_exporter#1882): a negative
/// value is taken as its two's-complement `u64`, as the kernel holds it.
#[inline]
pub(crate) fn parse_counter(bytes: &[u8]) -> Option<u64> {
    if bytes.first() == Some(&b'-') {
        parse_i64(bytes).map(|v| v as u64)
    } else {
        parse_u64(bytes)
    }
}

/// Parses a hexadecimal integer of up to 32 digits (the 128-bit signal masks of MIPS64).
/// Eight digits at a time: the masks of `status` are 16 or 32 digits each.
#[inline]
pub(crate) fn parse_hex_u128(bytes: &[u8]) -> Option<u128> {
    if bytes.is_empty() || bytes.len() > 32 {
        return None;
    }
    let mut v: u128 = 0;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let word = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        v = (v << 32) | eight_hex_digits(word)? as u128;
    }
    for &b in chunks.remainder() {
        v = (v << 4) | hex_digit(b)? as u128;
    }
    Some(v)
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The value of 8 ASCII hex digits in a little-endian word (first digit in the lowest
/// byte), or `None` when any byte is not one. Lane-wise range checks as in
/// [`leading_digits`], then nibbles merged pairwise.
#[inline]
fn eight_hex_digits(word: u64) -> Option<u32> {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const TOP: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    // Top bit of each byte set where the byte's low 7 bits are at least `x`.
    let at_least = |low: u64, x: u64| (low + ONES * (0x80 - x)) & TOP;
    let low = word & LOW7;
    let digit = at_least(low, 0x30) & !at_least(low, 0x3A);
    let folded = low | 0x2020_2020_2020_2020;
    let letter = at_least(folded, 0x61) & !at_least(folded, 0x67);
    if (digit | letter) & !word & TOP != TOP {
        return None;
    }
    // '0'-'9' are 0x3_, letters 0x4_ or 0x6_: the low nibble, plus 9 for letters.
    let n = (word & 0x0F0F_0F0F_0F0F_0F0F) + 9 * ((word >> 6) & ONES);
    let pairs = ((n << 4) + (n >> 8)) & 0x00FF_00FF_00FF_00FF;
    let quads = ((pairs << 8) + (pairs >> 16)) & 0x0000_FFFF_0000_FFFF;
    Some((((quads << 16) + (quads >> 32)) & 0xFFFF_FFFF) as u32)
}

/// Parses an octal integer (the `Umask:` field).
#[inline]
pub(crate) fn parse_octal_u32(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || bytes.len() > 11 {
        return None;
    }
    let mut v: u32 = 0;
    for &b in bytes {
        let d = b.wrapping_sub(b'0');
        if d > 7 {
            return None;
        }
        v = v.checked_mul(8)?.checked_add(d as u32)?;
    }
    Some(v)
}

/// Parses a non-negative decimal fraction such as `4.04` or `2578790.61` into an `f64`.
///
/// Integer and fraction digits are read as integers and divided once, so any value with
/// up to 15 significant digits comes out correctly rounded, with no `str` conversion.
#[inline]
pub(crate) fn parse_decimal(bytes: &[u8]) -> Option<f64> {
    // A byte loop, not memchr: these values are a few bytes long.
    let (int, frac) = match bytes.iter().position(|&b| b == b'.') {
        Some(dot) => (&bytes[..dot], &bytes[dot + 1..]),
        None => (bytes, &[][..]),
    };
    if int.is_empty() || frac.len() > 18 || (int.len() + frac.len()) > 19 {
        // Longer values do not occur in /proc; refuse rather than lose precision silently.
        return None;
    }
    let whole = parse_u64(int)?;
    if frac.is_empty() {
        return Some(whole as f64);
    }
    let f = parse_u64(frac)?;
    Some((whole * POW10[frac.len()] + f) as f64 / POW10_F64[frac.len()])
}

/// Hundredths read by [`Scan::hundredths`] as the `f64` that [`parse_decimal`] gives for
/// the same text: the integer is exact (at most 19 digits), and one division rounds it.
#[inline(always)]
pub(crate) fn from_hundredths(hundredths: u64) -> f64 {
    hundredths as f64 / 100.0
}

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

/// Splits `key<sep>value` at the first `sep`, trimming blanks around both halves.
#[inline]
pub(crate) fn split_key_value(line: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let at = memchr::memchr(sep, line)?;
    Some((trim(&line[..at]), trim(&line[at + 1..])))
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
        if first != b'\\' {
            self.raw = rest;
            return Some(first);
        }
        // Three octal digits: the one form both escapings share.
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

/// [`fill_table`] with a fast pass over the lines every kernel prints: the first line
/// `fast` declines (an old format, an error, a cut end) refills the table from the start
/// with `parse`, so values, counts and errors are always the general parser's.
#[inline(always)]
pub(crate) fn fill_table_fast<'a, R, const N: usize>(
    input: &'a [u8],
    fast: impl Fn(&'a [u8], usize) -> Option<(R, usize)>,
    parse: fn(&Line<'a>) -> Result<Option<R>>,
    out: &mut crate::Table<R, N>,
) -> Result<crate::Summary> {
    out.clear();
    let mut pos = 0;
    while pos < input.len() {
        let Some((record, next)) = fast(input, pos) else {
            return fill_table(input, parse, out);
        };
        out.push(record);
        pos = next;
    }
    Ok(out.summary())
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

/// Bit index (0..128) of a key in a [`known_fields!`] filter.
#[inline]
pub(crate) const fn key_hash(key: &[u8]) -> u32 {
    if key.is_empty() {
        return 0;
    }
    let h = (key.len() as u32)
        .wrapping_mul(31)
        .wrapping_add(key[0] as u32 * 7)
        .wrapping_add(key[key.len() - 1] as u32 * 13)
        .wrapping_add(key[key.len() / 2] as u32);
    h % 128
}

/// Declares a struct of well-known `Key value` fields, stored as an array indexed in the
/// kernel's own print order so a lookup is usually a single comparison (the next key is
/// almost always the one after the last), falling back to a scan for reordered or new
/// kernels. Unknown keys are left to the record iterator.
macro_rules! known_fields {
    (
        $(#[$meta:meta])*
        pub struct $name:ident : $value:ty {
            $( $(#[$fmeta:meta])* $field:ident = $key:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct $name {
            values: [Option<$value>; $name::KEYS.len()],
            other: u32,
        }

        impl Default for $name {
            fn default() -> Self {
                $name { values: [None; $name::KEYS.len()], other: 0 }
            }
        }

        #[allow(non_upper_case_globals, dead_code)]
        mod field_index {
            #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
            pub(super) enum Index { $( $field, )+ }
        }

        impl $name {
            /// The keys this struct names, in the order the kernel prints them.
            pub const KEYS: &'static [&'static [u8]] = &[ $( $key, )+ ];
            /// The snake_case names of the fields, in the same order as [`Self::KEYS`].
            pub const NAMES: &'static [&'static str] = &[ $( stringify!($field), )+ ];

            $(
                $(#[$fmeta])*
                #[inline]
                pub fn $field(&self) -> Option<$value> {
                    self.values[field_index::Index::$field as usize]
                }
            )+

            /// Number of lines whose key is not one of [`Self::KEYS`].
            pub fn other_fields(&self) -> u32 {
                self.other
            }

            /// The value for a kernel key, if this struct names it and it was present.
            pub fn get(&self, key: &[u8]) -> Option<$value> {
                let i = Self::KEYS.iter().position(|k| *k == key)?;
                self.values[i]
            }

            /// A 128-bit filter of the keys' (length, first, last byte) hashes: most unknown
            /// keys (vmstat has ~170 of them) are rejected without a single comparison.
            const FILTER: u128 = {
                let mut filter = 0u128;
                let mut i = 0;
                while i < Self::KEYS.len() {
                    filter |= 1 << $crate::text::key_hash(Self::KEYS[i]);
                    i += 1;
                }
                filter
            };

            /// Stores `value` under `key`; `hint` is the index after the previous hit.
            #[inline]
            pub(crate) fn set(&mut self, key: &[u8], value: $value, hint: &mut usize) {
                let keys = Self::KEYS;
                let i = if *hint < keys.len() && keys[*hint] == key {
                    *hint
                } else if Self::FILTER & (1 << $crate::text::key_hash(key)) == 0 {
                    self.other = self.other.saturating_add(1);
                    return;
                } else if let Some(i) = keys.iter().position(|k| *k == key) {
                    i
                } else {
                    self.other = self.other.saturating_add(1);
                    return;
                };
                self.values[i] = Some(value);
                *hint = i + 1;
            }
        }

        #[cfg(feature = "serde")]
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
                use serde::ser::SerializeStruct;
                let mut st = s.serialize_struct(stringify!($name), Self::KEYS.len() + 1)?;
                $( st.serialize_field(stringify!($field), &self.$field())?; )+
                st.serialize_field("other_fields", &self.other)?;
                st.end()
            }
        }
    };
}
pub(crate) use known_fields;

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
    fn swar_scans_agree_with_byte_loops() {
        let text: &[u8] =
            b"MemTotal:       16318480 kB\nA:1\n          \n\x80\xff:x\nno colon here at all";
        for i in 0..=text.len() {
            let spaces = i + text[i..].iter().take_while(|&&b| b == b' ').count();
            assert_eq!(skip_spaces(text, i), spaces, "at {i}");
            let either = text[i..]
                .iter()
                .position(|&b| b == b':' || b == b'\n')
                .map(|p| i + p);
            assert_eq!(find_either(text, i, b':', b'\n'), either, "at {i}");
        }
    }

    /// [`separated_digit_row`] field by field with the checked parser, with its limits:
    /// a value is read from the 8 bytes before its end (16 for 9 digits or more), and the
    /// row from whole words from `start` on.
    fn separated_row_by_fields(bytes: &[u8], start: usize) -> Option<([u64; 4], usize, usize)> {
        let line_end = start + bytes[start..].iter().position(|&b| b == b'\n')?;
        if start + (line_end - start) / 8 * 8 + 8 > bytes.len() {
            return None;
        }
        let mut values = [0u64; 4];
        let mut count = 0;
        let mut end = start;
        for field in bytes[start..line_end].split(|&b| b == b' ') {
            end += field.len();
            let room = if field.len() <= 8 { 8 } else { 16 };
            if field.len() > 16 || field.first() == Some(&b'+') || end < room {
                return None;
            }
            *values.get_mut(count)? = parse_u64(field)?;
            count += 1;
            end += 1;
        }
        Some((values, count, line_end + 1))
    }

    #[test]
    fn separated_digit_row_agrees_with_fields() {
        let rows: [&[u8]; 14] = [
            b"1 22 333 4444\n",
            b"55555 666666 7777777 88888888\n",
            b"999999999 1234567890123456 0 00000000000000001\n",
            b"12345678901234567 1\n",
            b"0 0 0\n",
            b"1 2 3 4 5\n",
            b"1  2\n",
            b"1 2 \n",
            b"1 -2\n",
            b"1\t2\n",
            b"1 2",
            b"\n",
            b"7 x\n",
            b"4294967296 18446744 1\n",
        ];
        for row in rows {
            for pad in 0..20 {
                let mut bytes = [b'c'; 128];
                bytes[pad..pad + row.len()].copy_from_slice(row);
                // With more bytes after the row, and with the row at the end of the input.
                for input in [&bytes[..], &bytes[..pad + row.len()]] {
                    let got = separated_digit_row::<4>(input, pad);
                    let want = separated_row_by_fields(input, pad);
                    assert_eq!(got, want, "{} at {pad}", Text(row));
                }
            }
        }
        // Taken rows give the checked parser's values; only the shapes above are refused.
        let taken = separated_digit_row::<4>(b"cpu100 999999999 1234567890123456 0 7\nintr 1\n", 7);
        assert_eq!(
            taken,
            Some(([999_999_999, 1_234_567_890_123_456, 0, 7], 4, 38))
        );
    }

    #[test]
    fn digits_ending_at_reads_only_what_it_can() {
        let bytes = b"cpu12 0123456789012345 42\n";
        assert_eq!(digits_ending_at(bytes, 25, 2), Some(42));
        assert_eq!(digits_ending_at(bytes, 22, 16), Some(123_456_789_012_345));
        assert_eq!(digits_ending_at(bytes, 22, 9), Some(789_012_345));
        // No digits, more than 16, too few bytes before the end, an end past the input.
        assert_eq!(digits_ending_at(bytes, 25, 0), None);
        assert_eq!(digits_ending_at(bytes, 25, 17), None);
        assert_eq!(digits_ending_at(bytes, 5, 2), None);
        assert_eq!(digits_ending_at(bytes, 12, 9), None);
        assert_eq!(digits_ending_at(bytes, 27, 1), None);
        assert_eq!(digits_ending_at(bytes, usize::MAX, 1), None);
    }

    /// "I.FF" read by hand: the reference for the hundredths readers.
    fn hundredths_by_hand(bytes: &[u8], at: usize) -> Option<(u64, usize)> {
        let rest = &bytes[at..];
        let dot = rest.iter().position(|b| !b.is_ascii_digit())?;
        if dot == 0 || dot > 17 || rest.get(dot) != Some(&b'.') {
            return None;
        }
        let fraction = rest.get(dot + 1..dot + 3)?;
        let whole = parse_u64(&rest[..dot])?;
        Some((whole * 100 + parse_u64(fraction)?, at + dot + 3))
    }

    #[test]
    fn hundredths_agree_with_reading_by_hand() {
        let values: [&[u8]; 12] = [
            b"0.00",
            b"7.05",
            b"12.34",
            b"393.72",
            b"12345.67",
            b"123456.78",
            b"12345678901234567.89",
            b"123456789012345678.90",
            b"1.2",
            b"1.x0",
            b".50",
            b"1234.5",
        ];
        for value in values {
            for pad in 0..12 {
                for after in [&b" 1\n"[..], b"\n", b""] {
                    let mut buf = [b'x'; 64];
                    let (v_end, end) = (pad + value.len(), pad + value.len() + after.len());
                    buf[pad..v_end].copy_from_slice(value);
                    buf[v_end..end].copy_from_slice(after);
                    let bytes = &buf[..end];
                    let want = hundredths_by_hand(bytes, pad);
                    for small in [false, true] {
                        let mut scan = Scan::new(bytes, pad);
                        let got = if small {
                            scan.small_hundredths()
                        } else {
                            scan.hundredths()
                        };
                        let got = got.map(|v| (v, scan.pos));
                        assert_eq!(got, want, "{} at {pad}, small {small}", Text(bytes));
                    }
                }
            }
        }
    }

    /// Every field of 1 to 5 bytes over an alphabet of spaces, digits, their neighbours
    /// and high-bit bytes, with other bytes above it in the word: [`right_aligned`] reads
    /// what trimming the leading spaces and parsing the rest reads, and refuses the rest.
    #[test]
    fn right_aligned_agrees_with_trimming_and_parsing() {
        const ALPHABET: [u8; 8] = [b' ', b'0', b'5', b'9', b'/', b':', b'\t', 0xB0];
        for width in 1..=5u32 {
            for mut k in 0..ALPHABET.len().pow(width) {
                let mut field = [0u8; 8];
                for byte in &mut field[..width as usize] {
                    *byte = ALPHABET[k % ALPHABET.len()];
                    k /= ALPHABET.len();
                }
                for above in [0u8, b' ', b'7', 0xFF] {
                    let mut bytes = field;
                    bytes[width as usize..].fill(above);
                    let got = right_aligned(u64::from_le_bytes(bytes), width);
                    let digits = field[..width as usize]
                        .iter()
                        .position(|&b| b != b' ')
                        .map(|first| &field[first..width as usize]);
                    let want = digits.and_then(parse_u64);
                    assert_eq!(got, want, "{:?}", Text(&bytes));
                }
            }
        }
        // The widths diskstats reads, the longest numbers they hold.
        let word = |s: &[u8; 8]| u64::from_le_bytes(*s);
        assert_eq!(right_aligned(word(b" 259 xyz"), 4), Some(259));
        assert_eq!(right_aligned(word(b"9999999 "), 7), Some(9_999_999));
        assert_eq!(right_aligned(word(b"99999999"), 8), Some(99_999_999));
        assert_eq!(right_aligned(word(b"        "), 8), None);
    }

    /// [`four_lone_digits`] against the four fields checked one by one, for every word
    /// whose even bytes and odd bytes come from small alphabets around the shape.
    #[test]
    fn four_lone_digits_agrees_with_the_fields() {
        const EVEN: [u8; 5] = [b'0', b'9', b' ', b':', 0xB0];
        const ODD: [u8; 4] = [b' ', b'0', b'\n', 0xA0];
        for k in 0..(EVEN.len() * ODD.len()).pow(4) {
            let mut bytes = [0u8; 8];
            let mut rest = k;
            for pair in bytes.chunks_exact_mut(2) {
                pair[0] = EVEN[rest % EVEN.len()];
                rest /= EVEN.len();
                pair[1] = ODD[rest % ODD.len()];
                rest /= ODD.len();
            }
            let want = bytes
                .chunks_exact(2)
                .all(|pair| pair[0].is_ascii_digit() && pair[1] == b' ')
                .then(|| {
                    (0..4).fold(0u64, |lanes, i| {
                        lanes | u64::from(bytes[2 * i] - b'0') << (16 * i)
                    })
                });
            assert_eq!(four_lone_digits(&bytes, 0), want, "{:?}", Text(&bytes));
        }
        assert_eq!(four_lone_digits(b"0 1 2 3", 0), None);
    }

    #[test]
    fn short_digit_row_agrees_with_fields() {
        let rows: [&[u8]; 9] = [
            b"9579 2888 1464 1334 0 7734 0\n",
            b"1 2 3 4 5 6 7\n",
            b"12345678 87654321 1 22 333 4444 55555\n",
            b"123456789 1 2 3 4 5 6\n",
            b"1 2 3 4 5 6\n",
            b"1 2 3 4 5 6 7 8\n",
            b"1  2 3 4 5 6 7\n",
            b"1 2 3 4 5 6 7",
            b"1 2 3 4 5 6 -7\n",
        ];
        for row in rows {
            for tail in [&b""[..], b"8 8 8\n", b"\n"] {
                let mut buf = [0u8; 96];
                buf[..row.len()].copy_from_slice(row);
                buf[row.len()..row.len() + tail.len()].copy_from_slice(tail);
                let bytes = &buf[..row.len() + tail.len()];
                let line_end = bytes.iter().position(|&b| b == b'\n');
                let want = line_end.and_then(|end| {
                    let mut values = [0u64; 7];
                    let mut count = 0;
                    for field in bytes[..end].split(|&b| b == b' ') {
                        if field.len() > 8 {
                            return None;
                        }
                        *values.get_mut(count)? = parse_u64(field)?;
                        count += 1;
                    }
                    (count == 7).then_some((values, end + 1))
                });
                assert_eq!(short_digit_row::<7>(bytes), want, "{}", Text(bytes));
            }
        }
        // The mask covers 64 bytes: a newline just past it still ends the last field,
        // and anything longer is refused, wherever its separators fall.
        let row = b"1234567 1234567 1234567 1234567 1234567 1234567 1234567 12345678\n";
        let ([.., last], next) = short_digit_row::<8>(row).unwrap();
        assert_eq!((last, next), (12_345_678, 65));
        let longer = b"1234567 1234567 1234567 1234567 1234567 1234567 1234567 123456789\n";
        assert_eq!(short_digit_row::<8>(longer), None);
        let longer = b"1234567 1234567 1234567 1234567 1234567 1234567 1234567 1234567 1\n";
        assert_eq!(short_digit_row::<9>(longer), None);
    }

    #[test]
    fn integers() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"055711"), Some(55711));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u64(b"12a"), None);
        // Runs of 20 digits and more: leading zeros, the 20th digit, overflow, a non-digit.
        assert_eq!(parse_u64(b"000000000000000000000042"), Some(42));
        assert_eq!(parse_u64(b"0000000000000000000000"), Some(0));
        assert_eq!(parse_u64(b"0018446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"10000000000000000000"), Some(10_u64.pow(19)));
        assert_eq!(parse_u64(b"99999999999999999999"), None);
        assert_eq!(parse_u64(b"184467440737095516150"), None);
        assert_eq!(parse_u64(b"1844674407370955161x"), None);
        assert_eq!(parse_u64(b"184467440737095x1615"), None);
        assert_eq!(parse_u64(b"000000000000000000000x"), None);
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"-"), None);
        assert_eq!(parse_counter(b"-1"), Some(u64::MAX));
        assert_eq!(
            parse_hex_u128(b"fffffffe7ffbfeff"),
            Some(0xfffffffe7ffbfeff)
        );
        assert_eq!(parse_hex_u128(&[b'f'; 32]), Some(u128::MAX));
        assert_eq!(parse_hex_u128(&[b'f'; 33]), None);
        // Eight at a time agrees with one at a time on every byte in every position.
        let by_byte = |b: &[u8]| {
            b.iter()
                .try_fold(0u128, |v, &c| Some((v << 4) | hex_digit(c)? as u128))
        };
        for pos in 0..16 {
            for c in 0..=255u8 {
                let mut digits = *b"0123456789abCDef";
                digits[pos] = c;
                assert_eq!(parse_hex_u128(&digits), by_byte(&digits), "{c} at {pos}");
            }
        }
        assert_eq!(
            parse_hex_u128(b"fffffffffffffffffffffffe783ffeff"),
            Some(0xfffffffffffffffffffffffe783ffeff)
        );
        assert_eq!(parse_octal_u32(b"0022"), Some(0o22));
        assert_eq!(parse_octal_u32(b"0088"), None);
    }

    /// One field of decimal digits, `-` first or not, read by hand: the value, the sign,
    /// the byte after it and the index after that byte.
    fn field_by_hand(bytes: &[u8], p: usize) -> Option<(u64, bool, u8, usize)> {
        let minus = bytes.get(p) == Some(&b'-');
        let start = p + minus as usize;
        let digits = bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let value = parse_u64(&bytes[start..start + digits])?;
        let sep = *bytes.get(start + digits)?;
        Some((value, minus, sep, start + digits + 1))
    }

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

                    let mut scan = Scan::new(bytes, pad);
                    let got = scan
                        .field_and_separator()
                        .map(|(v, m, s)| (v, m, s, scan.pos));
                    assert_eq!(got, field_by_hand(bytes, pad), "{t} then {a} at {pad}");

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
    fn separators_agree_with_a_byte_loop() {
        let text: &[u8] =
            b"22 27 0:21 / /proc rw,relatime - proc proc rw\n\0\x20\xa0\x8a\n  x\t\x0a";
        for start in 0..text.len() {
            let mut want = (start..text.len()).filter(|&i| matches!(text[i], b' ' | b'\n'));
            let mut separators = Separators::new(text, start).expect("a word from any index");
            loop {
                let (got, expected) = (separators.next(), want.next());
                assert_eq!(got, expected, "from {start}");
                if got.is_none() {
                    break;
                }
            }
        }
    }

    #[test]
    fn find_in_words_agrees_with_position() {
        let text: &[u8] = b"0\nGenuineIntel\nDual-Core Intel(R) Itanium(R)\n\nabc";
        for i in 0..=text.len() {
            for words in 0..4 {
                let got = find_in_words(text, i, b'\n', words);
                match got {
                    Ok(at) => {
                        assert_eq!(text[at], b'\n');
                        assert!(at < i + 8 * words && !text[i..at].contains(&b'\n'));
                    }
                    Err(at) => {
                        assert!(at <= i + 8 * words && !text[i..at].contains(&b'\n'));
                        assert!(at == i + 8 * words || at + 8 > text.len(), "at {i}");
                    }
                }
            }
        }
    }

    #[test]
    fn swar_digits_match_the_scalar_loop() {
        for text in [
            "0",
            "7",
            "12345678",
            "123456789",
            "9999999999999999999",
            "00000000000000000001",
            "42 ",
            "1234567x9",
            "",
            "x1",
        ] {
            let (v, end) = scan_digits(text.as_bytes(), 0);
            let digits = text.bytes().take_while(u8::is_ascii_digit).count();
            assert_eq!(end, digits, "{text}");
            let want = text[..digits].parse::<u64>().unwrap_or(0);
            assert_eq!(v, want, "{text}");
        }
        for b in 0u8..=255 {
            let word = u64::from_le_bytes([b'1', b, b'1', b'1', b'1', b'1', b'1', b'1']);
            assert_eq!(
                leading_digits(word),
                if b.is_ascii_digit() { 8 } else { 1 },
                "{b}"
            );
        }
    }

    #[test]
    fn decimals() {
        assert_eq!(parse_decimal(b"4.04"), Some(4.04));
        assert_eq!(parse_decimal(b"2578790.61"), Some(2578790.61));
        assert_eq!(parse_decimal(b"0.00"), Some(0.0));
        assert_eq!(parse_decimal(b"12"), Some(12.0));
        assert_eq!(parse_decimal(b".5"), None);
        assert_eq!(parse_decimal(b"1.x"), None);
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
