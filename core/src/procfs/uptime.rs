//! `/proc/uptime`: seconds since boot and idle seconds summed over all CPUs
//! (proc(5), "/proc/uptime").

use crate::error::{Error, ErrorKind, Result};
use crate::procfs::loadavg::first_line;
use crate::text::parse_decimal;

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
pub fn parse(input: &[u8]) -> Result<Uptime> {
    crate::text::cut_aware_input(input, parse_whole(input))
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
    use crate::test_corpus::files;

    #[test]
    fn real_files_and_edge_shapes() {
        for input in files("uptime", |d| d.ends_with("proc")) {
            let u = parse(&input).unwrap();
            assert!(u.uptime_secs > 0.0, "{input:?}");
        }
        assert_eq!(parse(b"1.5 2\n").unwrap().idle_secs, 2.0);
        assert_eq!(
            parse(b"123456.78 12345678901234567.89\n")
                .unwrap()
                .uptime_secs,
            123456.78
        );
        assert_eq!(parse(b"393.723 396.61\n").unwrap().uptime_secs, 393.723);
        assert_eq!(parse(b"393.72 396.61 \n").unwrap().idle_secs, 396.61);
        assert_eq!(
            parse(b"0.00 0.0x\n").unwrap_err().kind(),
            ErrorKind::BadDecimal
        );
        assert_eq!(parse(b"1. 2.0\n").unwrap().uptime_secs, 1.0);
        let e = parse(b"1.x 2.0\n").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::BadDecimal, 0));
        let e = parse(b"1.5").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnexpectedEnd);
        assert_eq!(parse(b"1.0\t2.5\n").unwrap().idle_secs, 2.5);
        assert_eq!(parse(b"12345.67 23456.78\n").unwrap().uptime_secs, 12345.67);
    }
}
