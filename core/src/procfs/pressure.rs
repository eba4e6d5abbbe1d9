//! `/proc/pressure/{cpu,memory,io,irq}`: pressure stall information (kernel
//! Documentation/accounting/psi.rst; proc(5) "/proc/pressure").
//!
//! ```text
//! some avg10=0.00 avg60=0.00 avg300=0.00 total=0
//! full avg10=0.00 avg60=0.00 avg300=0.00 total=0
//! ```
//!
//! `/proc/pressure/cpu` has no `full` line before 5.13, and `irq` has only `full`.

use crate::error::{Error, ErrorKind, Result};
use crate::text::{parse_decimal, parse_u64, Fields, Lines};

/// One `some` or `full` line.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Stall {
    /// Share of time stalled over 10 s, percent.
    pub avg10: f64,
    /// Over 60 s, percent.
    pub avg60: f64,
    /// Over 300 s, percent.
    pub avg300: f64,
    /// Total stall time, microseconds.
    pub total_us: u64,
}

/// A parsed pressure file.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Pressure {
    /// Some tasks stalled.
    pub some: Option<Stall>,
    /// All non-idle tasks stalled at once.
    pub full: Option<Stall>,
}

/// Parses a pressure file.
///
/// # Errors
/// `UnexpectedEnd` for empty or cut input; `BadLine` for a line that is neither `some`
/// nor `full`; `BadDecimal`/`BadInteger`/`MissingField` at the field.
///
/// ```
/// let p = ferrostat_core::procfs::pressure::parse(b"some avg10=1.50 avg60=0.20 avg300=0.00 total=81234\n")?;
/// assert_eq!(p.some.unwrap().avg10, 1.5);
/// assert!(p.full.is_none()); // /proc/pressure/cpu before 5.13
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
pub fn parse(input: &[u8]) -> Result<Pressure> {
    crate::text::cut_aware_input(input, parse_whole(input))
}

fn parse_whole(input: &[u8]) -> Result<Pressure> {
    if input.is_empty() {
        return Err(Error::new(ErrorKind::UnexpectedEnd, 0));
    }
    let mut out = Pressure::default();
    for line in Lines::new(input) {
        let mut f = line.fields();
        let Some((at, kind)) = f.next_token() else {
            continue;
        };
        let slot = match kind {
            b"some" => &mut out.some,
            b"full" => &mut out.full,
            _ => return Err(Error::new(ErrorKind::BadLine, at)),
        };
        let (at, v) = keyed(&mut f, b"avg10=")?;
        let avg10 = parse_decimal(v).ok_or(Error::new(ErrorKind::BadDecimal, at))?;
        let (at, v) = keyed(&mut f, b"avg60=")?;
        let avg60 = parse_decimal(v).ok_or(Error::new(ErrorKind::BadDecimal, at))?;
        let (at, v) = keyed(&mut f, b"avg300=")?;
        let avg300 = parse_decimal(v).ok_or(Error::new(ErrorKind::BadDecimal, at))?;
        let (at, v) = keyed(&mut f, b"total=")?;
        let total_us = parse_u64(v).ok_or(Error::new(ErrorKind::BadInteger, at))?;
        let stall = Stall {
            avg10,
            avg60,
            avg300,
            total_us,
        };
        *slot = Some(stall);
    }
    Ok(out)
}

/// The next `name=value` field: the value and its offset.
fn keyed<'a>(f: &mut Fields<'a>, name: &[u8]) -> Result<(usize, &'a [u8])> {
    let (at, tok) = f.token()?;
    let value = tok
        .strip_prefix(name)
        .ok_or(Error::new(ErrorKind::MissingField, at))?;
    Ok((at + name.len(), value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_corpus::{files, with};

    #[test]
    fn real_files_and_edge_shapes() {
        let inputs = with(
            files("cpu", |d| d.ends_with("pressure")),
            &[
                b"some avg10=1.50 avg60=0.00 avg300=0.00 total=7\n",
                b"some avg10=100.00 avg60=12.5 avg300=0.001 total=7\n",
                b"some avg10=99.99 avg60=10.00 avg300=123456.78 total=7\n",
                b"some avg10=1.50 avg60=0.00 avg300=0.00 total=7",
                b"some avg10=1.50 avg60=0.00 avg300=0.00 total=7 \n",
                b"some avg10=1.50 avg60=0.00 avg300=0.00\n",
                b"full avg10=1.50 avg60=0.00 avg300=0.00 total=7\n\n",
            ],
        );
        let mut all = inputs.clone();
        for name in ["memory", "io", "irq"] {
            all.extend(files(name, |d| d.ends_with("pressure")));
        }
        // Every real file, and the edge shapes that are valid, parse.
        let parsed = all.iter().filter(|i| parse(i).is_ok()).count();
        assert!(parsed >= 20, "{parsed}");
        let p = parse(b"some avg10=1.50 avg60=0.00 avg300=0.00 total=7\n").unwrap();
        assert_eq!(p.some.map(|s| (s.avg10, s.total_us)), Some((1.5, 7)));
        assert_eq!(p.full, None);
        let e = parse(b"some avg10=1.50 avg60=0.00 avg300=0.00\n").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::MissingField, 38));
    }
}
