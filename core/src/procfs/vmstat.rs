//! `/proc/vmstat`: virtual memory statistics (proc(5), "/proc/vmstat").
//!
//! `name value` lines, about 190 on current kernels and growing; counters exceed 2^32.

use crate::error::{Error, ErrorKind, Result};
use crate::text::{known_fields, parse_counter, Line, LineRecords, Text};

/// One `name value` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Counter<'a> {
    /// Counter name.
    pub name: Text<'a>,
    /// Its value.
    pub value: u64,
}

/// Iterator over the counters; stops after the first error.
pub type Records<'a> = LineRecords<'a, Counter<'a>>;

/// Iterates every counter of `/proc/vmstat`.
///
/// ```
/// let c = ferrostat_core::procfs::vmstat::records(b"pgfault 4294967296\n").next().unwrap()?;
/// assert_eq!(c.value, 1 << 32);
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
pub fn records(input: &[u8]) -> Records<'_> {
    LineRecords::new(input, parse_line)
}

fn parse_line<'a>(line: &Line<'a>) -> Result<Option<Counter<'a>>> {
    let mut f = line.fields();
    let Some((_, name)) = f.next_token() else {
        return Ok(None);
    };
    let (at, v) = f.token()?;
    // Some gauges (nr_*) can transiently print negative per-CPU drift as a huge number or
    // a negative one; keep the kernel's bits.
    let value = parse_counter(v).ok_or(Error::new(ErrorKind::BadInteger, at))?;
    Ok(Some(Counter {
        name: Text(name),
        value,
    }))
}

known_fields! {
    /// The counters of `/proc/vmstat` a monitor needs; all others via [`records`].
    /// Page counts are in pages, `pgpgin`/`pgpgout` in KiB.
    pub struct Vmstat: u64 {
        /// `nr_free_pages`.
        nr_free_pages = b"nr_free_pages",
        /// `nr_inactive_anon`.
        nr_inactive_anon = b"nr_inactive_anon",
        /// `nr_active_anon`.
        nr_active_anon = b"nr_active_anon",
        /// `nr_inactive_file`.
        nr_inactive_file = b"nr_inactive_file",
        /// `nr_active_file`.
        nr_active_file = b"nr_active_file",
        /// `nr_dirty`.
        nr_dirty = b"nr_dirty",
        /// `nr_writeback`.
        nr_writeback = b"nr_writeback",
        /// `pgpgin`: KiB paged in from disk.
        pgpgin = b"pgpgin",
        /// `pgpgout`: KiB paged out to disk.
        pgpgout = b"pgpgout",
        /// `pswpin`: pages swapped in.
        pswpin = b"pswpin",
        /// `pswpout`: pages swapped out.
        pswpout = b"pswpout",
        /// `pgfault`: page faults.
        pgfault = b"pgfault",
        /// `pgmajfault`: major page faults.
        pgmajfault = b"pgmajfault",
        /// `pgfree`.
        pgfree = b"pgfree",
        /// `pgsteal_kswapd`.
        pgsteal_kswapd = b"pgsteal_kswapd",
        /// `pgsteal_direct`.
        pgsteal_direct = b"pgsteal_direct",
        /// `pgscan_kswapd`.
        pgscan_kswapd = b"pgscan_kswapd",
        /// `pgscan_direct`.
        pgscan_direct = b"pgscan_direct",
        /// `oom_kill` (since 4.13).
        oom_kill = b"oom_kill",
    }
}

/// Parses `/proc/vmstat`.
///
/// # Errors
/// `UnexpectedEnd` for empty or cut input; `BadInteger` at a bad value.
///
/// ```
/// let v = ferrostat_core::procfs::vmstat::parse(b"pgfault 10\npgmajfault 2\nnew_counter 1\n")?;
/// assert_eq!((v.pgfault(), v.pgmajfault(), v.other_fields()), (Some(10), Some(2), 1));
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
pub fn parse(input: &[u8]) -> Result<Vmstat> {
    if input.is_empty() {
        return Err(Error::new(ErrorKind::UnexpectedEnd, 0));
    }
    let mut out = Vmstat::default();
    let mut hint = 0;
    for c in records(input) {
        let c = c?;
        out.set(c.name.0, c.value, &mut hint);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    /// Every corpus vmstat parses, with the fields it holds; the odd shapes give the
    /// values or the errors their lines call for.
    #[test]
    fn real_files_and_edge_shapes() {
        let corpus = crate::test_corpus::files("vmstat", |_| true);
        assert!(corpus.len() > 2);
        for input in &corpus {
            assert!(parse(input).unwrap().pgfault().is_some());
        }
        // A negative gauge keeps the kernel's bits; a blank line is skipped.
        let v = parse(b"pgfault 10\nnr_dirty -3\npgmajfault 2\n").unwrap();
        assert_eq!((v.pgfault(), v.pgmajfault()), (Some(10), Some(2)));
        assert_eq!(
            parse(b"pgfault 10\n\npgmajfault 2\n").unwrap().pgmajfault(),
            Some(2)
        );
        assert_eq!(
            parse(b"pgfault 10\npgmajfault  2\n").unwrap().pgmajfault(),
            Some(2)
        );
        assert_eq!(
            parse(b"pgfault 10\npgmajfault 2").unwrap().pgmajfault(),
            Some(2)
        );
        let e = parse(b"pgfault 10\npgmajfault 2x\n").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadInteger);
        let e = parse(b"pgfault 123456789012345678901\n").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadInteger);
    }
}
