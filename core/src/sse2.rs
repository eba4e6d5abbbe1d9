//! Rows of digits read 16 bytes at a time with SSE2, on x86-64.
//!
//! A `/proc/stat` CPU line is eleven numbers one space apart. Read a word at a time
//! ([`crate::text::separated_digit_row`]), each number costs about 48 instructions: most
//! of them find where it ends, the rest convert it. Here two byte compares and
//! `pmovmskb` over four 16-byte blocks give masks of the digits and spaces of the whole
//! row, and the numbers are converted four at a time with `pmullw` and `pmaddwd`. On the
//! benchmarks' 256-CPU `/proc/stat` the whole parse goes from about 11 µs to about 5
//! (`benches/README.md`, "The 256-CPU stat, 16 bytes at a time").
//!
//! The core forbids `unsafe`, and the intrinsics of `core::arch` need it. `safe_arch`
//! wraps each of them in a safe function, compiled in where the build enables the
//! feature. SSE2 is part of the x86-64 baseline, so every x86-64 build of ordinary
//! targets has it; this module is compiled only where it does
//! (`cfg(all(target_arch = "x86_64", target_feature = "sse2"))`). Its `unsafe` stays
//! inside that crate, as heapless's and memchr's does.
//!
//! Every other target, and every row this reader does not take, goes through the
//! word-at-a-time reader, which the tests and the `stat` fuzz target hold it to.

use safe_arch::{
    add_i8_m128i, cmp_eq_mask_i8_m128i, cmp_gt_mask_i8_m128i, load_unaligned_m128i, m128i,
    move_mask_i8_m128i, mul_i16_horizontal_add_m128i, mul_i16_keep_low_m128i,
    pack_i32_to_i16_m128i, set_splat_i16_m128i, set_splat_i8_m128i, shr_imm_u16_m128i,
    unpack_high_i32_m128i, unpack_low_i32_m128i, zeroed_m128i,
};

/// The most fields a row may have: three groups of four conversions.
pub(crate) const MAX_FIELDS: usize = 12;

/// The bytes [`digit_row`] reads: 16 before the row and 64 from its start.
pub(crate) const WINDOW: usize = 80;

/// Masks that keep a field's digits in the 8 bytes that end just before its separator
/// (`LOW`), and in the 8 bytes before those (`HIGH`, for fields of 9 to 16 digits),
/// indexed by the distance from the separator before the field (its length plus one).
/// Each kept byte becomes its low nibble (`'7' & 0x0F == 7`); the bytes before the
/// field, the previous separator and field, become 0. Other distances (an empty field,
/// 17 digits or more, the slots past a row's last field) have 0: [`digit_row`] refuses
/// such rows, whatever their words.
const KEEP_LOW: [u64; 256] = keep_tables().0;
const KEEP_HIGH: [u64; 256] = keep_tables().1;

const fn keep_tables() -> ([u64; 256], [u64; 256]) {
    let (mut low, mut high) = ([0u64; 256], [0u64; 256]);
    let mut len = 1;
    while len <= 16 {
        let in_low = if len < 8 { len } else { 8 };
        low[len + 1] = 0x0F0F_0F0F_0F0F_0F0F & (u64::MAX << (8 * (8 - in_low)));
        if len > 8 {
            high[len + 1] = 0x0F0F_0F0F_0F0F_0F0F & (u64::MAX << (8 * (16 - len)));
        }
        len += 1;
    }
    (low, high)
}

/// Bit `i` set where byte `i` of `data` is an ASCII digit, and where it is a space.
#[inline(always)]
fn digit_and_space_masks(data: &[u8; 64]) -> (u64, u64) {
    // Adding 0x50 moves '0'..='9' to the ten lowest signed bytes, -128..=-119, so one
    // signed compare finds the digits.
    let shift = set_splat_i8_m128i(0x50);
    let above_digits = set_splat_i8_m128i(-118);
    let space = set_splat_i8_m128i(b' ' as i8);
    let (mut digits, mut spaces) = (0u64, 0u64);
    for (k, block) in data.chunks_exact(16).enumerate() {
        let Ok(block) = <&[u8; 16]>::try_from(block) else {
            continue; // chunks_exact(16) yields only 16-byte blocks
        };
        let bytes = load_unaligned_m128i(block);
        let is_digit = cmp_gt_mask_i8_m128i(above_digits, add_i8_m128i(bytes, shift));
        digits |= u64::from(move_mask_i8_m128i(is_digit) as u32) << (16 * k);
        let is_space = cmp_eq_mask_i8_m128i(bytes, space);
        spaces |= u64::from(move_mask_i8_m128i(is_space) as u32) << (16 * k);
    }
    (digits, spaces)
}

/// Bit `i` set where bits `i` to `i + 7` of `run` all are.
#[inline(always)]
fn runs_of_eight(run: u64) -> u64 {
    let two = run & (run >> 1);
    let four = two & (two >> 2);
    four & (four >> 4)
}

/// The values of four fields given as their digit values, one a byte, the last digit in
/// the highest byte and unused leading bytes 0.
#[inline(always)]
fn convert_four(words: [u64; 4], keep: [u64; 4]) -> [u64; 4] {
    // A 16-bit lane d0 + 256 d1 times 0x0A01 has 10 d0 + d1 in its high byte.
    let tens = set_splat_i16_m128i(0x0A01);
    let hundreds = m128i::from([100i16, 1, 100, 1, 100, 1, 100, 1]);
    let ten_thousands = m128i::from([10_000i16, 1, 10_000, 1, 10_000, 1, 10_000, 1]);
    let to_fours = |a: u64, b: u64, ka: u64, kb: u64| {
        let digits = m128i::from([a, b]) & m128i::from([ka, kb]);
        let pairs = shr_imm_u16_m128i::<8>(mul_i16_keep_low_m128i(digits, tens));
        mul_i16_horizontal_add_m128i(pairs, hundreds)
    };
    // Four digits fit an i16 (at most 9,999), so the pack saturates nothing.
    let fours = pack_i32_to_i16_m128i(
        to_fours(words[0], words[1], keep[0], keep[1]),
        to_fours(words[2], words[3], keep[2], keep[3]),
    );
    let values = mul_i16_horizontal_add_m128i(fours, ten_thousands);
    let low: [u64; 2] = unpack_low_i32_m128i(values, zeroed_m128i()).into();
    let high: [u64; 2] = unpack_high_i32_m128i(values, zeroed_m128i()).into();
    [low[0], low[1], high[0], high[1]]
}

/// The values of the first `N` of `words`, converted four at a time.
#[inline(always)]
fn convert<const N: usize>(words: &[u64; MAX_FIELDS], keep: &[u64; MAX_FIELDS]) -> [u64; N] {
    let mut values = [0u64; N];
    // A plain counted loop: iterator adapters here are not always inlined, and a call in
    // the middle of a row costs more than the row.
    let mut group = 0;
    while group < N.div_ceil(4) {
        let at = 4 * group;
        let four = [words[at], words[at + 1], words[at + 2], words[at + 3]];
        let keep = [keep[at], keep[at + 1], keep[at + 2], keep[at + 3]];
        for (k, value) in convert_four(four, keep).into_iter().enumerate() {
            if at + k < N {
                values[at + k] = value;
            }
        }
        group += 1;
    }
    values
}

/// `row` (at most its first 64 bytes) in a window of its own, with zeros before and after
/// it: for a row with fewer than 16 bytes of the input before it. Zeros are not digits,
/// spaces or a newline, so a row cut by the end of `row` is refused.
pub(crate) fn padded(row: &[u8]) -> [u8; WINDOW] {
    let mut window = [0u8; WINDOW];
    let take = row.len().min(64);
    window[16..16 + take].copy_from_slice(&row[..take]);
    window
}

/// The row at `window[16..]`, of exactly `N` unsigned fields of 1 to 16 digits, one space
/// apart, ending in `\n` within its 64 bytes: the values and the row's length with
/// its newline. `None` for any other row, which the caller's word-at-a-time reader then
/// takes. The 16 bytes before the row are read (a long field's first digits are loaded
/// from there), never used.
///
/// With `FIRST_LAST`, the first field's value comes last and the others move up one:
/// a `cpuN` line's id after its ten columns, which then sit where `CpuTimes` keeps them,
/// and go there with no shuffle of the vectors they are converted in.
///
/// Nothing here waits on a field before it: the masks give every field's end, each
/// field's 8 bytes (16 for a row with a field of more than 8 digits, as the idle column
/// of a machine up for weeks has) are loaded at its end, and only then converted.
#[inline(always)]
pub(crate) fn digit_row<const N: usize, const FIRST_LAST: bool>(
    window: &[u8; WINDOW],
) -> Option<([u64; N], usize)> {
    const { assert!(N >= 1 && N <= MAX_FIELDS) };
    let Ok(data) = <&[u8; 64]>::try_from(&window[16..]) else {
        return None;
    };
    let (digits, spaces) = digit_and_space_masks(data);
    // The first byte that is neither ends the row, and must be its newline. Where the
    // first 63 are all digits and spaces, the last byte must be.
    let other = !(digits | spaces) | 1 << 63;
    let end = other.trailing_zeros() as usize;
    if data[end] != b'\n' {
        return None;
    }
    // Every bit up to the newline's, and those before it (no shift by a variable count,
    // which is three micro-operations on x86-64 without BMI2).
    let through_newline = other ^ (other - 1);
    let before_newline = through_newline >> 1;
    let ends = (spaces | other) & through_newline;
    // An empty field: a separator first, or two in a row.
    if (ends & 1) | (ends & (ends >> 1)) != 0 {
        return None;
    }
    // Where a field of more than 8 digits starts: 9 digits in a row. The long path reads
    // up to 16; 17 in a row are refused.
    let run = digits & before_newline;
    let eight = runs_of_eight(run);
    let values = if eight & (run >> 8) == 0 {
        let [low, keep_low, ..] = field_words::<N, false, FIRST_LAST>(window, ends, end)?;
        convert::<N>(&low, &keep_low)
    } else if eight & (eight >> 8) & (run >> 16) == 0 {
        long_fields::<N, FIRST_LAST>(window, ends, end)?
    } else {
        return None;
    };
    Some((values, end + 1))
}

/// The values of a row with a field of 9 to 16 digits: each field's last 8 digits and the
/// 8 before them, converted apart and joined. Out of line, so that the common row, of
/// short fields, has the registers to itself.
#[inline(never)]
fn long_fields<const N: usize, const FIRST_LAST: bool>(
    window: &[u8; WINDOW],
    ends: u64,
    end: usize,
) -> Option<[u64; N]> {
    let [low, keep_low, high, keep_high] = field_words::<N, true, FIRST_LAST>(window, ends, end)?;
    let mut values = convert::<N>(&low, &keep_low);
    let high = convert::<N>(&high, &keep_high);
    for (value, high) in values.iter_mut().zip(high) {
        *value += high * 100_000_000;
    }
    Some(values)
}

/// The digit values of each of the `N` fields that `ends` (bit `i`: `data[i]` ends a
/// field) marks in the row's window: its last 8 digits and, with `LONG`, the 8 before
/// them. `None` unless there are exactly `N` fields, the last ending at `end`.
#[inline(always)]
fn field_words<const N: usize, const LONG: bool, const FIRST_LAST: bool>(
    window: &[u8; WINDOW],
    ends: u64,
    end: usize,
) -> Option<[[u64; MAX_FIELDS]; 4]> {
    let [mut low, mut keep_low, mut high, mut keep_high] = [[0u64; MAX_FIELDS]; 4];
    let mut rest = ends;
    // As if a separator stood just before data[0], where the first field starts.
    let mut previous_end = usize::MAX;
    for k in 0..N {
        let slot = if FIRST_LAST { (k + N - 1) % N } else { k };
        // At most 64, once `rest` runs out (fewer than N fields): every later slot ends
        // there, past the newline, which the check after the loop refuses. The window
        // holds the 16 bytes before that end too.
        let field_end = rest.trailing_zeros() as usize;
        rest &= rest.wrapping_sub(1);
        // data[field_end] is window[field_end + 16]: the 8 bytes before it start at
        // window[field_end + 8], and the 8 before those at window[field_end].
        let Ok(last) = <[u8; 8]>::try_from(&window[field_end + 8..field_end + 16]) else {
            return None;
        };
        let distance = usize::from(field_end.wrapping_sub(previous_end) as u8);
        low[slot] = u64::from_le_bytes(last);
        keep_low[slot] = KEEP_LOW[distance];
        if LONG {
            let Ok(before) = <[u8; 8]>::try_from(&window[field_end..field_end + 8]) else {
                return None;
            };
            high[slot] = u64::from_le_bytes(before);
            keep_high[slot] = KEEP_HIGH[distance];
        }
        previous_end = field_end;
    }
    // Exactly N fields: the N-th ended at the newline, the last bit of `ends`. With more,
    // it would have ended before; with fewer, at 64.
    (previous_end == end).then_some([low, keep_low, high, keep_high])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::separated_digit_row;

    fn row<const N: usize>(line: &[u8]) -> Option<([u64; N], usize)> {
        digit_row::<N, false>(&padded(line))
    }

    #[test]
    fn rows_of_short_and_long_fields() {
        let line = b"1393280 32966 572056 13343292 6130 0 17875 269 0 0\ncpu13";
        let (values, next) = row::<10>(line).unwrap();
        assert_eq!(
            values,
            [1393280, 32966, 572056, 13343292, 6130, 0, 17875, 269, 0, 0]
        );
        assert_eq!(next, 51);
        // The first field last: a CPU's id after its columns.
        let (values, _) = digit_row::<4, true>(&padded(b"12 1 22 333\n")).unwrap();
        assert_eq!(values, [1, 22, 333, 12]);
        let (values, _) = row::<4>(b"99999999 1 10000000 007\n").unwrap();
        assert_eq!(values, [99_999_999, 1, 10_000_000, 7]);
        // The idle column of a machine up for months, and the longest field taken.
        let line = b"123456789 5 87654321 1234567890 0 9999999999999999\n";
        let (values, next) = row::<6>(line).unwrap();
        assert_eq!(
            values,
            [123456789, 5, 87654321, 1234567890, 0, 9_999_999_999_999_999]
        );
        assert_eq!(next, line.len());
        let line = b"123456789 5 87654321 1234567890 0 0000000000000000001\n";
        assert_eq!(
            row::<6>(line),
            None,
            "19 digits are left to the word reader"
        );
    }

    #[test]
    fn other_rows_are_left_to_the_word_reader() {
        // Too few or too many fields for N, 17 digits, empty fields, other separators,
        // a sign, no newline within the window.
        for line in [
            &b"1 2 3\n"[..],
            b"1 2 3 4 5\n",
            b"12345678901234567 2 3 4\n",
            b"1  2 3 4\n",
            b" 1 2 3 4\n",
            b"1 2 3 4 \n",
            b"1 2\t3 4\n",
            b"1 -2 3 4\n",
            b"1 2 3 4",
            b"1 2 3 4\r\n",
        ] {
            assert_eq!(row::<4>(line), None, "{}", crate::text::Text(line));
        }
        // Eight fields of seven digits fill the window, the newline its last byte: taken.
        // With one digit more, the newline is past the window, and the row is left to the
        // word reader; with a space or a digit last, it is refused.
        let filled = *b"1234567 1234567 1234567 1234567 1234567 1234567 1234567 1234567\n";
        let (values, next) = row::<8>(&filled).unwrap();
        assert_eq!((values[6], values[7], next), (1234567, 1234567, 64));
        assert_eq!(
            row::<8>(b"1234567 1234567 1234567 1234567 1234567 1234567 1234567 12345678\n"),
            None
        );
        let mut last = filled;
        last[63] = b' ';
        assert_eq!(row::<8>(&last), None);
        last[63] = b'8';
        assert_eq!(row::<8>(&last), None);
        // Digits before the row are not read as part of it.
        let mut digits_before = padded(b"1 2\n");
        digits_before[..16].fill(b'9');
        assert_eq!(digit_row::<2, false>(&digits_before), Some(([1, 2], 4)));
    }

    #[test]
    fn agrees_with_the_word_reader() {
        // Rows of 1 to 12 fields of 1 to 17 digits, from a fixed pseudo-random sequence.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut short, mut long) = (0, 0);
        for _ in 0..50_000 {
            let mut buf = [b'7'; 320];
            let mut at = 16;
            let fields = (next() % 12 + 1) as usize;
            let most = [8, 10, 17][(next() % 3) as usize];
            let mut longest = 0;
            for k in 0..fields {
                let digits = (next() % most + 1) as usize;
                longest = longest.max(digits);
                for _ in 0..digits {
                    buf[at] = b'0' + (next() % 10) as u8;
                    at += 1;
                }
                buf[at] = if k + 1 == fields { b'\n' } else { b' ' };
                at += 1;
            }
            let sse2 = digit_row::<10, false>(buf[..WINDOW].try_into().unwrap());
            let words = separated_digit_row::<10>(&buf, 16);
            if fields == 10 && at - 16 <= 64 && longest <= 16 {
                let (values, len) = sse2.expect("a 10-field row within the window");
                assert_eq!(Some((values, 10, 16 + len)), words);
                if longest > 8 {
                    long += 1;
                } else {
                    short += 1;
                }
            } else {
                assert_eq!(sse2, None);
            }
        }
        assert!(short > 200 && long > 200, "{short} {long}");
    }
}
