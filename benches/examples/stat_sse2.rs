//! What SSE2, reached from safe code through `safe_arch`, would buy on the synthetic
//! 256-CPU /proc/stat: the measurement behind the decision #2 leaves to the maintainers.
//!
//! The core forbids `unsafe`, and the x86-64 intrinsics need it. `safe_arch` wraps each
//! SSE2 intrinsic in a safe function, compiled in where the build enables SSE2 (every
//! x86-64 build does). So the core could use it without an `unsafe` block of its own, at
//! the price of a new dependency and a second code path per architecture. This example
//! reads the CPU lines that way and compares the result with the core's parse and procfs.
//!
//! For each `cpuN` line:
//! - 16 bytes at a time, two byte compares and `pmovmskb` give masks of the digits and
//!   spaces of the 64 bytes after `cpu`. The first byte that is neither must be the newline.
//!   A run of more than 8 digits, an empty field, or a line longer than 64 bytes is not
//!   taken; a parser would hand such a line to its general path.
//! - Each field's end comes from the separator mask. The 8 bytes that end there are kept
//!   as digit values, the bytes before the field are masked to 0, and the word is stored.
//! - The words are converted four at a time: `pmullw` pairs digits, `pmaddwd` pairs pairs,
//!   `packssdw` and `pmaddwd` join the halves.
//!
//! The example asserts every value equals `stat::parse_into`'s. It then prints the time
//! of these CPU lines, and the time of the rest of the file (the total `cpu` line, `intr`,
//! `ctxt` and the rest) through `stat::parse_into`, next to the core's parse and procfs.
//!
//! `cargo run --profile bench -p ferrostat-benches --example stat_sse2`

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use safe_arch::{
        cmp_eq_mask_i8_m128i, load_unaligned_m128i, m128i, min_u8_m128i, move_mask_i8_m128i,
        mul_i16_horizontal_add_m128i, mul_i16_keep_low_m128i, pack_i32_to_i16_m128i,
        set_splat_i16_m128i, set_splat_i8_m128i, shr_imm_u16_m128i, sub_i8_m128i,
        unpack_high_i32_m128i, unpack_low_i32_m128i, zeroed_m128i,
    };

    /// Bit `i` set where byte `i` of `data` is a digit, and where it is a space.
    #[inline(always)]
    fn digit_and_space_masks(data: &[u8; 64]) -> (u64, u64) {
        let zero = set_splat_i8_m128i(b'0' as i8);
        let nine = set_splat_i8_m128i(9);
        let space = set_splat_i8_m128i(b' ' as i8);
        let (mut digits, mut spaces) = (0u64, 0u64);
        for (k, chunk) in data.chunks_exact(16).enumerate() {
            let bytes = load_unaligned_m128i(chunk.try_into().expect("16 bytes"));
            // A digit is a byte whose distance from '0', as an unsigned byte, is at most 9.
            let from_zero = sub_i8_m128i(bytes, zero);
            let is_digit = cmp_eq_mask_i8_m128i(min_u8_m128i(from_zero, nine), from_zero);
            digits |= u64::from(move_mask_i8_m128i(is_digit) as u16) << (16 * k);
            let is_space = cmp_eq_mask_i8_m128i(bytes, space);
            spaces |= u64::from(move_mask_i8_m128i(is_space) as u16) << (16 * k);
        }
        (digits, spaces)
    }

    /// The values of four words of digit values (one digit a byte, the first in the lowest
    /// byte, leading zeros as 0 bytes).
    #[inline(always)]
    fn convert_four(words: [u64; 4]) -> [u64; 4] {
        let pairs = set_splat_i16_m128i(0x0A01);
        let hundreds = m128i::from([100i16, 1, 100, 1, 100, 1, 100, 1]);
        let ten_thousands = m128i::from([10_000i16, 1, 10_000, 1, 10_000, 1, 10_000, 1]);
        // Each 16-bit lane d0 + 256 d1 times 0x0A01 has 10 d0 + d1 in its high byte.
        let to_quads = |a: u64, b: u64| {
            let two_digits =
                shr_imm_u16_m128i::<8>(mul_i16_keep_low_m128i(m128i::from([a, b]), pairs));
            mul_i16_horizontal_add_m128i(two_digits, hundreds)
        };
        let quads =
            pack_i32_to_i16_m128i(to_quads(words[0], words[1]), to_quads(words[2], words[3]));
        let values = mul_i16_horizontal_add_m128i(quads, ten_thousands);
        let low: [u64; 2] = unpack_low_i32_m128i(values, zeroed_m128i()).into();
        let high: [u64; 2] = unpack_high_i32_m128i(values, zeroed_m128i()).into();
        [low[0], low[1], high[0], high[1]]
    }

    /// The fields of the row at `start` (the CPU id, then the times) and the index after
    /// its newline, for rows of at most 12 fields of 1 to 8 digits, one space apart, ending
    /// within 64 bytes, with 8 bytes before `start`. `None` for any other row.
    #[inline(always)]
    pub fn cpu_row(bytes: &[u8], start: usize) -> Option<([u64; 12], usize)> {
        let window: &[u8; 72] = bytes
            .get(start.checked_sub(8)?..start + 64)?
            .try_into()
            .ok()?;
        let data: &[u8; 64] = window[8..].try_into().ok()?;
        let (digits, spaces) = digit_and_space_masks(data);
        let other = !(digits | spaces);
        let newline = other & other.wrapping_neg();
        let end = other.trailing_zeros() as usize & 63;
        if other == 0 || data[end] != b'\n' {
            return None;
        }
        let before_end = newline - 1;
        let ends = (spaces & before_end) | newline;
        // A run of 9 digits or more: bit i of `nine` is set when bits i to i + 8 are.
        let run = digits & before_end;
        let two = run & (run >> 1);
        let four = two & (two >> 2);
        let nine = four & (four >> 4) & (run >> 8);
        if (ends & 1) | (ends & (ends >> 1)) | nine != 0 {
            return None;
        }
        // All 12 slots, whatever the row's field count: a fixed trip count, no branch on
        // how many fields there are. Slots after the last field hold unused words.
        let mut words = [0u64; 12];
        let mut rest = ends;
        let mut field = 0usize;
        for word in words.iter_mut() {
            let field_end = rest.trailing_zeros() as usize & 63;
            rest &= rest.wrapping_sub(1);
            // window[field_end..][..8] are the 8 bytes just before data[field_end].
            let bytes = u64::from_le_bytes(window[field_end..field_end + 8].try_into().unwrap());
            let len = field_end.wrapping_sub(field) as u32;
            *word = bytes & 0x0F0F_0F0F_0F0F_0F0F & u64::MAX.wrapping_shl(8 * (8 - len));
            field = field_end + 1;
        }
        if rest != 0 {
            return None;
        }
        let a = convert_four([words[0], words[1], words[2], words[3]]);
        let b = convert_four([words[4], words[5], words[6], words[7]]);
        let c = convert_four([words[8], words[9], words[10], words[11]]);
        let values = [
            a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3], c[0], c[1], c[2], c[3],
        ];
        Some((values, start + end + 1))
    }
}

#[cfg(target_arch = "x86_64")]
fn main() {
    use std::hint::black_box;

    use ferrostat_benches::{best_ns, cpu_columns, procfs_kernel_stats_ns, synthetic_stat_256};
    use ferrostat_core::procfs::stat;

    /// Every `cpuN` line of `input` read by [`sse2::cpu_row`] into `rows` (id and ten
    /// columns); panics at a line it does not take, so nothing is timed that was skipped.
    fn cpu_lines(input: &[u8], rows: &mut Vec<[u64; 11]>) {
        rows.clear();
        let mut pos = input
            .iter()
            .position(|&b| b == b'\n')
            .expect("a total line")
            + 1;
        while input.get(pos..pos + 3) == Some(b"cpu") {
            let (values, next) = sse2::cpu_row(input, pos + 3).expect("a CPU line it takes");
            rows.push(values[..11].try_into().expect("11 fields"));
            pos = next;
        }
    }

    let input = synthetic_stat_256();
    let first_cpu = input
        .iter()
        .position(|&b| b == b'\n')
        .expect("a total line")
        + 1;
    let after_cpus = input
        .windows(6)
        .position(|w| w == b"\nintr ")
        .expect("an intr line")
        + 1;
    // The file without its `cpuN` lines: what a parser using the reader would still do.
    let rest: Vec<u8> = [&input[..first_cpu], &input[after_cpus..]].concat();

    let mut rows = Vec::with_capacity(256);
    cpu_lines(input, &mut rows);
    let mut parsed = Box::new(stat::Stat::<1024>::default());
    stat::parse_into(input, &mut parsed).expect("the synthetic file parses");
    assert_eq!(rows.len(), parsed.cpus.as_slice().len());
    for (row, cpu) in rows.iter().zip(parsed.cpus.as_slice()) {
        let mut expected = [u64::from(cpu.id); 11];
        expected[1..].copy_from_slice(&cpu_columns(&cpu.times));
        assert_eq!(
            row, &expected,
            "the SSE2 reader differs from stat::parse_into"
        );
    }

    let sse2_ns = best_ns(2_000, || cpu_lines(black_box(input), &mut rows));
    let mut rest_parsed = Box::new(stat::Stat::<1024>::default());
    let rest_ns = best_ns(2_000, || {
        black_box(stat::parse_into(black_box(&rest), &mut rest_parsed).ok());
    });
    let parse_ns = best_ns(2_000, || {
        black_box(stat::parse_into(black_box(input), &mut parsed).ok());
    });
    let procfs_ns = procfs_kernel_stats_ns(input);

    let with_sse2 = sse2_ns + rest_ns;
    println!("synthetic 256-CPU /proc/stat, {} bytes", input.len());
    println!("SSE2 reader, the 256 cpuN lines:          {sse2_ns:8.0} ns");
    println!("stat::parse_into, the rest of the file:   {rest_ns:8.0} ns");
    println!("  the two together:                       {with_sse2:8.0} ns");
    println!("stat::parse_into, the whole file:         {parse_ns:8.0} ns");
    println!("procfs KernelStats, the whole file:       {procfs_ns:8.0} ns");
    println!(
        "speed-up over procfs: the core's parse {:.1}x; with the SSE2 reader {:.1}x",
        procfs_ns / parse_ns,
        procfs_ns / with_sse2
    );
}

#[cfg(not(target_arch = "x86_64"))]
fn main() {
    println!("stat_sse2 measures x86-64's SSE2; this target has none");
}
