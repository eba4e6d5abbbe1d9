//! `/proc/<pid>/statm`: memory usage in pages (proc(5), "/proc/pid/statm").
//!
//! `size resident shared text lib data dt`. Pages are `sysconf(_SC_PAGESIZE)` bytes:
//! 4 KiB on x86, often 64 KiB on arm64 and ppc64le, so the page size is the caller's.

use crate::error::Result;
use crate::procfs::loadavg::first_line;

/// The parsed `/proc/<pid>/statm`, in pages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PidStatm {
    /// Total program size (VmSize).
    pub size: u64,
    /// Resident set size (VmRSS).
    pub resident: u64,
    /// Resident shared pages (RssFile + RssShmem).
    pub shared: u64,
    /// Text (code).
    pub text: u64,
    /// Library (unused since 2.6, always 0).
    pub lib: u64,
    /// Data plus stack.
    pub data: u64,
    /// Dirty pages (unused since 2.6, always 0).
    pub dt: u64,
}

impl PidStatm {
    /// Resident set size in bytes for a page size.
    pub fn resident_bytes(&self, page_size: u64) -> u64 {
        self.resident.saturating_mul(page_size)
    }
}

/// Parses `/proc/<pid>/statm`.
///
/// # Errors
/// `UnexpectedEnd` on empty or cut input; `BadInteger`/`MissingField` at the field.
///
/// ```
/// let m = ferrostat_core::procfs::pid_statm::parse(b"5329 1627 1309 12 0 341 0\n")?;
/// assert_eq!(m.resident_bytes(4096), 1627 * 4096);
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
#[inline]
pub fn parse(input: &[u8]) -> Result<PidStatm> {
    if let Some(m) = fast(input) {
        return Ok(m);
    }
    general(input)
}

/// [`parse`] without its fast pass: the reference the fast pass is tested and fuzzed
/// against.
#[doc(hidden)]
pub fn general(input: &[u8]) -> Result<PidStatm> {
    crate::text::cut_aware_input(input, parse_whole(input))
}

/// Seven numbers, one space apart, and a newline, as every kernel prints them; `None`
/// sends the input to the general parser, which reads it to the same values or reports
/// the error.
#[inline(always)]
fn fast(input: &[u8]) -> Option<PidStatm> {
    let (v, _) = crate::text::short_digit_row::<7>(input)?;
    let [size, resident, shared, text, lib, data, dt] = v;
    Some(PidStatm {
        size,
        resident,
        shared,
        text,
        lib,
        data,
        dt,
    })
}

fn parse_whole(input: &[u8]) -> Result<PidStatm> {
    let line = first_line(input)?;
    let mut f = line.fields();
    Ok(PidStatm {
        size: f.u64()?,
        resident: f.u64()?,
        shared: f.u64()?,
        text: f.u64()?,
        lib: f.u64()?,
        data: f.u64()?,
        dt: f.u64()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::test_corpus::{check_fast_pass, files, with};

    #[test]
    fn fast_pass_matches_general() {
        let inputs = with(
            files("statm", |_| true),
            &[
                b"1 2 3 4 5 6 7 \n",
                b"1 2 3 4 5 6\n",
                b"1  2 3 4 5 6 7\n",
                b"1 2 3 4 5 6 7",
                // The word-at-a-time row: 8 and 9 digits, a row past 64 bytes, fewer than
                // 8 bytes, an eighth field, a row cut by the end of the input.
                b"12345678 1 2 3 4 5 6\n",
                b"123456789 1 2 3 4 5 6\n",
                b"1234567 1234567 1234567 1234567 1234567 1234567 12345678901\n",
                b"1 2 3\n",
                b"1 2 3 4 5 6 7 8\n",
                b"12 34 56 78 90 12 3",
                b"12 34 56 78 90 12 3\n9 9 9\n",
            ],
        );
        let taken = check_fast_pass(&inputs, fast, general);
        // prometheus-procfs's file holds a 20-digit value, which only the general path reads.
        assert!(taken >= 2, "{taken}");
        assert_eq!(parse(b"1  2 3 4 5 6 7\n").unwrap().resident, 2);
        let e = parse(b"1 2 3 4 5 6\n").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::MissingField, 11));
        let e = parse(b"1 2 3 4 5 6").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnexpectedEnd);
    }
}
