//! Finding bytes eight at a time in a little-endian word, for the short searches where a
//! call to `memchr` costs more than the bytes it would look at.

/// The 8 bytes at `i` as a little-endian word, if there are 8.
#[inline(always)]
pub(crate) fn word_at(bytes: &[u8], i: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(i..i + 8)?.try_into().ok()?))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_either_agrees_with_a_byte_loop() {
        let text: &[u8] =
            b"MemTotal:       16318480 kB\nA:1\n          \n\x80\xff:x\nno colon here at all";
        for i in 0..=text.len() {
            let either = text[i..]
                .iter()
                .position(|&b| b == b':' || b == b'\n')
                .map(|p| i + p);
            assert_eq!(find_either(text, i, b':', b'\n'), either, "at {i}");
        }
    }
}
