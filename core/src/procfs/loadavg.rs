//! `/proc/loadavg`: load averages and scheduling entities (proc(5), "/proc/loadavg").
//!
//! `4.04 2.00 0.82 6/129 9536`: 1-, 5- and 15-minute load, runnable/total scheduling
//! entities, and the most recently created PID.

use crate::error::{Error, ErrorKind, Result};
use crate::text::{parse_decimal, parse_u64, Line};

/// The parsed `/proc/loadavg`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Loadavg {
    /// Load average over 1 minute.
    pub one: f64,
    /// Load average over 5 minutes.
    pub five: f64,
    /// Load average over 15 minutes.
    pub fifteen: f64,
    /// Currently runnable kernel scheduling entities.
    pub running: u32,
    /// Kernel scheduling entities that exist.
    pub total: u32,
    /// PID of the most recently created process.
    pub last_pid: u32,
}

/// Parses `/proc/loadavg`.
///
/// # Errors
/// `UnexpectedEnd` on short input, `BadDecimal`/`BadInteger`/`MissingField` at the field.
///
/// ```
/// let l = ferrostat_core::procfs::loadavg::parse(b"4.04 2.00 0.82 6/129 9536\n")?;
/// assert_eq!((l.one, l.running, l.total, l.last_pid), (4.04, 6, 129, 9536));
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
pub fn parse(input: &[u8]) -> Result<Loadavg> {
    crate::text::cut_aware_input(input, parse_whole(input))
}

fn parse_whole(input: &[u8]) -> Result<Loadavg> {
    let line = first_line(input)?;
    let mut fields = line.fields();
    let mut avg = [0.0f64; 3];
    for slot in &mut avg {
        let (at, tok) = fields.token()?;
        *slot = parse_decimal(tok).ok_or(Error::new(ErrorKind::BadDecimal, at))?;
    }
    let (at, entities) = fields.token()?;
    let slash = entities
        .iter()
        .position(|&b| b == b'/')
        .ok_or(Error::new(ErrorKind::MissingField, at))?;
    let small = |bytes: &[u8], at: usize| {
        parse_u64(bytes)
            .and_then(|v| u32::try_from(v).ok())
            .ok_or(Error::new(ErrorKind::BadInteger, at))
    };
    let running = small(&entities[..slash], at)?;
    let total = small(&entities[slash + 1..], at + slash + 1)?;
    let (at, pid) = fields.token()?;
    let last_pid = small(pid, at)?;
    Ok(Loadavg {
        one: avg[0],
        five: avg[1],
        fifteen: avg[2],
        running,
        total,
        last_pid,
    })
}

/// The first line of a one-line file; `UnexpectedEnd` when there is none.
pub(crate) fn first_line(input: &[u8]) -> Result<Line<'_>> {
    crate::text::Lines::new(input)
        .next()
        .ok_or(Error::new(ErrorKind::UnexpectedEnd, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_files_and_edge_shapes() {
        use crate::test_corpus::{files, with};
        let inputs = with(
            files("loadavg", |d| d.ends_with("proc")),
            &[
                b"1.0 2.0 3.0 1/2 3\n",
                b"1.0 2.0 3.0 1/2 3 \n",
                b"1.0 2.0 3.0 1/4294967296 3\n",
                b"1.0 2.0 3.0 1/2 3",
                // Each shape of "%lu.%02lu" the readers take or refuse.
                b"12.34 123.45 12345.67 1/2 3\n",
                b"123456.78 1234567890123456.78 0.00 1/2 3\n",
                b"1.234 2.00 3.00 1/2 3\n",
                b"1.2 2.00 3.00 1/2 3\n",
                b"01.00 2.00 3.00 1/2 3\n",
                b"1.00 2.x0 3.00 1/2 3\n",
            ],
        );
        // Every real file, and the edge shapes that are valid, parse.
        let parsed = inputs.iter().filter(|i| parse(i).is_ok()).count();
        assert!(parsed >= 9, "{parsed}");
        let l = parse(b"0.08 0.03 12.01 1/123 4567\n").unwrap();
        assert_eq!((l.fifteen, l.total, l.last_pid), (12.01, 123, 4567));
        let e = parse(b"1.0 2.0 3.0 1/4294967296 3\n").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::BadInteger, 14));
    }

    #[test]
    fn errors() {
        assert_eq!(parse(b"").unwrap_err().kind(), ErrorKind::UnexpectedEnd);
        assert_eq!(
            parse(b"1.0 2.0 3.0 1/2").unwrap_err().kind(),
            ErrorKind::UnexpectedEnd
        );
        let e = parse(b"1.0 2.0 3.0 1/2\n").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::MissingField, 15));
        let e = parse(b"1.0 2.0 3.x 1/2 3\n").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::BadDecimal, 8));
        let e = parse(b"1.0 2.0 3.0 12 3\n").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::MissingField, 12));
    }
}
