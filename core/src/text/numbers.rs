//! Numbers read straight from ASCII bytes: decimal, signed, two's-complement counters,
//! hexadecimal, octal and fractions, eight digits at a time where a word is at hand
//! (Lemire, "Faster integer parsing", 2018).

/// Which of the 8 bytes of a little-endian word are ASCII digits: the count of leading
/// digit bytes (0 to 8). Lane-wise arithmetic on the low 7 bits never carries between
/// bytes, and the byte's own top bit marks non-ASCII.
#[inline]
pub(crate) fn leading_digits(word: u64) -> u32 {
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
pub(crate) fn first_digits(word: u64, n: u32) -> u64 {
    digit_lanes((word ^ ASCII_ZEROS) << (64 - 8 * n))
}

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

/// `10^n` as an `f64`, for the fraction digits of [`parse_decimal`] (at most 18).
const POW10_F64: [f64; 19] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18,
];

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
