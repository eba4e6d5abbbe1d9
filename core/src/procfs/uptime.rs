//! `/proc/uptime`: seconds since boot and idle seconds summed over all CPUs
//! (proc(5), "/proc/uptime").

use crate::error::{Error, ErrorKind, Result};
use crate::procfs::loadavg::first_line;
use crate::text::{from_hundredths, parse_decimal, Scan};

/// The parsed `/proc/uptime`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Uptime {
    /// Seconds since boot, including time suspended.
    pub uptime_secs: f64,
    /// Seconds each CPU spent idle, summed over all CPUs.
    pub idle_secs: f64,
}

/// Parses `/proc/uptime`.
///
/// # Errors
/// `UnexpectedEnd` on short input, `BadDecimal` at a field that is not a fraction.
///
/// ```
/// let u = ferrostat_core::procfs::uptime::parse(b"2578790.61 1999230.98\n")?;
/// assert_eq!(u.uptime_secs, 2578790.61);
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
#[inline]
pub fn parse(input: &[u8]) -> Result<Uptime> {
    if let Some(up) = fast(input) {
        return Ok(up);
    }
    general(input)
}

/// [`parse`] without its fast pass: the reference the fast pass is tested and fuzzed
/// against.
#[doc(hidden)]
pub fn general(input: &[u8]) -> Result<Uptime> {
    crate::text::cut_aware_input(input, parse_whole(input))
}

/// `12345.67 23456.78\n`, as every kernel prints it (`"%lu.%02lu %lu.%02lu\n"`);
/// `None` sends the input to the general parser. The file is 14 to 40 bytes, so the
/// general path's token splitting costs more than the numbers.
#[inline(always)]
fn fast(input: &[u8]) -> Option<Uptime> {
    let mut s = Scan::new(input, 0);
    let uptime = s.hundredths()?;
    s.byte(b' ')?;
    let idle = s.hundredths()?;
    s.byte(b'\n')?;
    Some(Uptime {
        uptime_secs: from_hundredths(uptime),
        idle_secs: from_hundredths(idle),
    })
}

fn parse_whole(input: &[u8]) -> Result<Uptime> {
    let line = first_line(input)?;
    let mut fields = line.fields();
    let mut secs = [0.0; 2];
    for slot in &mut secs {
        let (at, tok) = fields.token()?;
        *slot = parse_decimal(tok).ok_or(Error::new(ErrorKind::BadDecimal, at))?;
    }
    Ok(Uptime {
        uptime_secs: secs[0],
        idle_secs: secs[1],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_corpus::{check_fast_pass, files, with};

    #[test]
    fn fast_pass_matches_general() {
        let inputs = with(
            files("uptime", |d| d.ends_with("proc")),
            &[
                b"1.5 2\n",
                b"1.5 2",
                b"1. 2.0\n",
                b"12345678901234567.89 0.00\n",
                b"1.0\t2.0\n",
                // Integer parts read from a word (1 to 5 digits, also at the end of a
                // short file) and digit run by digit run; fractions of other lengths.
                b"1.00 2.00\n",
                b"12345.67 1.00\n",
                b"123456.78 12345678901234567.89\n",
                b"393.72 396.6\n",
                b"393.723 396.61\n",
                b"393.72 396.61",
                b"393.72 396.61 \n",
                b"0.00 0.0x\n",
            ],
        );
        let taken = check_fast_pass(&inputs, fast, general);
        assert!(taken >= 10, "{taken}");
        assert_eq!(parse(b"1. 2.0\n").unwrap().uptime_secs, 1.0);
        let e = parse(b"1.x 2.0\n").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::BadDecimal, 0));
        let e = parse(b"1.5").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnexpectedEnd);
        assert_eq!(parse(b"1.0\t2.5\n").unwrap().idle_secs, 2.5);
        assert_eq!(parse(b"12345.67 23456.78\n").unwrap().uptime_secs, 12345.67);
    }
}
