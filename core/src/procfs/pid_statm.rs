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
pub fn parse(input: &[u8]) -> Result<PidStatm> {
    crate::text::cut_aware_input(input, parse_whole(input))
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
    use crate::test_corpus::{files, with};

    #[test]
    fn real_files_and_edge_shapes() {
        let inputs = with(
            files("statm", |_| true),
            &[
                b"1 2 3 4 5 6 7 \n",
                b"1 2 3 4 5 6\n",
                b"1  2 3 4 5 6 7\n",
                b"1 2 3 4 5 6 7",
                // 8 and 9 digits, a row past 64 bytes, fewer than 8 bytes, an eighth
                // field, a row cut by the end of the input.
                b"12345678 1 2 3 4 5 6\n",
                b"123456789 1 2 3 4 5 6\n",
                b"1234567 1234567 1234567 1234567 1234567 1234567 12345678901\n",
                b"1 2 3\n",
                b"1 2 3 4 5 6 7 8\n",
                b"12 34 56 78 90 12 3",
                b"12 34 56 78 90 12 3\n9 9 9\n",
            ],
        );
        // Every real file (prometheus-procfs's holds a 20-digit value) and the valid shapes.
        let parsed = inputs.iter().filter(|i| parse(i).is_ok()).count();
        assert!(parsed >= 3, "{parsed}");
        assert_eq!(parse(b"1  2 3 4 5 6 7\n").unwrap().resident, 2);
        let e = parse(b"1 2 3 4 5 6\n").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::MissingField, 11));
        let e = parse(b"1 2 3 4 5 6").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnexpectedEnd);
    }
}
