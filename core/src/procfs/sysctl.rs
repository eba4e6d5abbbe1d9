//! The numeric files of `/proc/sys` (proc(5), "/proc/sys"; sysctl(8)): one line of
//! whitespace-separated unsigned integers, as `fs/file-nr` (`1024\t0\t1631329`: handles
//! allocated, allocated but unused, the maximum) or `kernel/random/entropy_avail`.

use crate::error::{Error, ErrorKind, Result};
use crate::procfs::loadavg::first_line;
use crate::text::parse_u64;

/// The `N` values of a numeric sysctl file, in order.
///
/// # Errors
/// `UnexpectedEnd` for empty input, `MissingField` for fewer than `N` values, `BadInteger` at a value that is not an
/// unsigned decimal, `BadLine` at anything after the `N`th value or on a second line.
///
/// ```
/// use ferrostat_core::procfs::sysctl::parse_values;
/// assert_eq!(parse_values::<3>(b"1024\t0\t1631329\n")?, [1024, 0, 1631329]);
/// assert_eq!(parse_values::<1>(b"256\n")?, [256]);
/// assert!(parse_values::<1>(b"256 1\n").is_err());
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
pub fn parse_values<const N: usize>(input: &[u8]) -> Result<[u64; N]> {
    crate::text::cut_aware_input(input, parse_whole(input))
}

fn parse_whole<const N: usize>(input: &[u8]) -> Result<[u64; N]> {
    let line = first_line(input)?;
    let after = line.offset + line.bytes.len() + 1;
    if after < input.len() {
        return Err(Error::new(ErrorKind::BadLine, after));
    }
    let mut fields = line.fields();
    let mut out = [0u64; N];
    for slot in &mut out {
        let (at, token) = fields.token()?;
        *slot = parse_u64(token).ok_or(Error::new(ErrorKind::BadInteger, at))?;
    }
    if let Some((at, _)) = fields.next_token() {
        return Err(Error::new(ErrorKind::BadLine, at));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_exporter_fixture_values_and_errors() {
        // node_exporter's fixtures: proc/sys/fs/file-nr and kernel/random/entropy_avail.
        assert_eq!(
            parse_values::<3>(b"1024\t0\t1631329\n"),
            Ok([1024, 0, 1631329])
        );
        assert_eq!(parse_values::<1>(b"1337\n"), Ok([1337]));
        let e = parse_values::<3>(b"1024\t0\n").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MissingField);
        let e = parse_values::<1>(b"x\n").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::BadInteger, 0));
        let e = parse_values::<1>(b"1\n2\n").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::BadLine, 2));
    }
}
