//! `/proc/diskstats`: block device I/O statistics (kernel Documentation/admin-guide/iostats.rst,
//! referenced from proc(5)).
//!
//! `major minor name` followed by 11 counters (2.6+), 15 (4.18+, discards) or 17 (5.5+,
//! flushes); kernels mix line lengths in one file. 2.6 partitions had 4 counters (reads,
//! sectors read, writes, sectors written), and lxcfs printed 14 with the discard time
//! missing. Names can contain `/` (`cciss/c0d0`).

use crate::error::{Error, ErrorKind, Result};
use crate::table::{Summary, Table};
use crate::text::{Line, LineRecords, Text};

/// One block device line. Counters a line did not carry are 0; [`Disk::counters`] says
/// how many it had.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Disk<'a> {
    /// Major device number.
    pub major: u32,
    /// Minor device number.
    pub minor: u32,
    /// Device name.
    pub name: Text<'a>,
    /// Reads completed successfully.
    pub reads_completed: u64,
    /// Reads merged.
    pub reads_merged: u64,
    /// Sectors read (512 bytes each, whatever the device's sector size).
    pub sectors_read: u64,
    /// Milliseconds spent reading.
    pub time_reading_ms: u64,
    /// Writes completed.
    pub writes_completed: u64,
    /// Writes merged.
    pub writes_merged: u64,
    /// Sectors written (512 bytes each).
    pub sectors_written: u64,
    /// Milliseconds spent writing.
    pub time_writing_ms: u64,
    /// I/Os currently in progress.
    pub ios_in_progress: u64,
    /// Milliseconds spent doing I/O (the basis of utilisation).
    pub time_io_ms: u64,
    /// Weighted milliseconds spent doing I/O.
    pub weighted_time_io_ms: u64,
    /// Discards completed (4.18+).
    pub discards_completed: u64,
    /// Discards merged (4.18+).
    pub discards_merged: u64,
    /// Sectors discarded (4.18+).
    pub sectors_discarded: u64,
    /// Milliseconds spent discarding (4.18+).
    pub time_discarding_ms: u64,
    /// Flush requests completed (5.5+).
    pub flushes_completed: u64,
    /// Milliseconds spent flushing (5.5+).
    pub time_flushing_ms: u64,
    /// How many counters the line had: 4, 11, 14, 15 or 17.
    pub counters: u8,
}

/// Iterator over the devices of `/proc/diskstats`; stops after the first error.
pub type Records<'a> = LineRecords<'a, Disk<'a>>;

/// Iterates the devices of a `/proc/diskstats` file.
///
/// ```
/// let input = b" 104       0 cciss/c0d0 55711 0 12 0 4 0 8 0 0 0 0\n";
/// let d = ferrostat_core::procfs::diskstats::records(input).next().unwrap()?;
/// assert_eq!((d.name.as_bytes(), d.reads_completed, d.counters), (&b"cciss/c0d0"[..], 55711, 11));
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
pub fn records(input: &[u8]) -> Records<'_> {
    LineRecords::new(input, parse_line)
}

fn parse_line<'a>(line: &Line<'a>) -> Result<Option<Disk<'a>>> {
    let mut fields = line.fields();
    let Some((at, major)) = fields.next_token() else {
        return Ok(None);
    };
    let small = |tok: &[u8], at: usize| {
        crate::text::parse_u64(tok)
            .and_then(|v| u32::try_from(v).ok())
            .ok_or(Error::new(ErrorKind::BadInteger, at))
    };
    let major = small(major, at)?;
    let (at, minor) = fields.token()?;
    let minor = small(minor, at)?;
    let (_, name) = fields.token()?;
    let mut c = [0u64; 17];
    let mut n = 0;
    while let Some(v) = fields.opt_u64()? {
        if n == c.len() {
            let (at, _) = fields.rest();
            return Err(Error::new(ErrorKind::BadLine, at));
        }
        c[n] = v;
        n += 1;
    }
    match from_counters(major, minor, name, &c, n) {
        Some(d) => Ok(Some(d)),
        None if !line.terminated => Err(line.missing()),
        None => Err(Error::new(
            ErrorKind::MissingField,
            line.offset + line.bytes.len(),
        )),
    }
}

/// A disk from its `n` counters, or `None` for a count no kernel prints.
#[inline(always)]
fn from_counters<'a>(
    major: u32,
    minor: u32,
    name: &'a [u8],
    c: &[u64; 17],
    n: usize,
) -> Option<Disk<'a>> {
    let mut d = Disk {
        major,
        minor,
        name: Text(name),
        counters: n as u8,
        ..Disk::default()
    };
    match n {
        4 => {
            // 2.6 partition lines: reads, sectors read, writes, sectors written.
            d.reads_completed = c[0];
            d.sectors_read = c[1];
            d.writes_completed = c[2];
            d.sectors_written = c[3];
        }
        11 | 14 | 15 | 17 => {
            d.reads_completed = c[0];
            d.reads_merged = c[1];
            d.sectors_read = c[2];
            d.time_reading_ms = c[3];
            d.writes_completed = c[4];
            d.writes_merged = c[5];
            d.sectors_written = c[6];
            d.time_writing_ms = c[7];
            d.ios_in_progress = c[8];
            d.time_io_ms = c[9];
            d.weighted_time_io_ms = c[10];
            // 14 is lxcfs's line with the discard time missing (lxc/lxcfs#589).
            d.discards_completed = c[11];
            d.discards_merged = c[12];
            d.sectors_discarded = c[13];
            d.time_discarding_ms = c[14];
            d.flushes_completed = c[15];
            d.time_flushing_ms = c[16];
        }
        _ => return None,
    }
    Some(d)
}

/// Parses all devices into `out` (cleared first), borrowing names from `input`.
///
/// ```
/// use ferrostat_core::{procfs::diskstats, Table};
/// let input = b"   8       0 sda 100 0 800 10 50 0 400 5 0 15 15 0 0 0 0 0 0\n   8       1 sda1 4 8 2 4\n";
/// let mut disks = Table::<_, 8>::new();
/// diskstats::parse_into(input, &mut disks)?;
/// let counters: Vec<u8> = disks.iter().map(|d| d.counters).collect();
/// assert_eq!(counters, [17, 4]); // 5.5+ line and a 2.6 partition line in one file
/// assert_eq!(disks.as_slice()[1].sectors_written, 4);
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
///
/// # Errors
/// `UnexpectedEnd` on a cut final line; `BadInteger`, `MissingField` (a counter count
/// other than 4, 11, 14, 15 or 17) or `BadLine` (more than 17) at the field.
pub fn parse_into<'a, const N: usize>(
    input: &'a [u8],
    out: &mut Table<Disk<'a>, N>,
) -> Result<Summary> {
    crate::text::fill_table(input, parse_line, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_corpus::{files, with};

    #[test]
    fn real_files_and_edge_shapes() {
        let corpus = files("diskstats", |d| d.ends_with("proc"));
        // Every kernel-written file parses, every line a disk.
        assert!(corpus.len() >= 10);
        for f in &corpus {
            let mut t = Table::<Disk, 256>::new();
            let s = parse_into(f, &mut t).unwrap();
            assert_eq!(
                s.parsed as usize,
                f.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count()
            );
        }
        let real = corpus.len();
        let inputs = with(
            corpus,
            &[
                b"   8       0 sda 1 2 3 4\n",
                b"   8       0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18\n",
                b"   8       0 sda 1 2 3 4 5\n",
                b"   8       0 sda 1 2 3 4 5 6 7 8 9 10 11\n   8   1 sda1 1 2 3",
                b"   8       0 sda 1 2 3 4 5 6 7 8 9 10 11\n\n",
                b"   8       0 s\tda 1 2 3 4\n",
                b"   8       0 sda 1 2 -3 4\n",
                b"   8 4294967296 sda 1 2 3 4\n",
                b"\t8 0 sda 1 2 3 4\n",
                // Device numbers in and out of their `%4d %7d` columns.
                b"12345 0 sda 1 2 3 4\n 259 12345678 nvme0n1 1 2 3 4\n",
                b"   8       0 sda 1 2 3 4\n 259       1 nvme0n1p1 5 6 7 8\n",
                b"  8        0 sda 1 2 3 4\n   8      0  sda 1 2 3 4\n",
                b" 8 0 sda 1 2 3 4\n   8       1\n",
                b"   8   -   0 sda 1 2 3 4\n   8   0   0 sda 1 2 3 4\n",
                b"   8       0  1 2 3 4\n",
                // Lone digits four at a time, and rows that stop inside a four.
                b"   8       0 sda 0 0 0 0 0 0 0 0 0 0 0\n   8       1 sda1 0 0 0 1\n",
                b"   8       0 sda 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n   8       1 sda1 0 0 0 0",
                b"   8       0 sda 0 0 0 0 \n",
                b"   8       0 sda 0 0 0 x 0 0 0 0 0 0 0\n",
            ],
        );
        let parsed = inputs
            .iter()
            .filter(|i| parse_into(i, &mut Table::<Disk, 8>::new()).is_ok())
            .count();
        assert!(parsed >= real + 8, "{parsed}");
        let mut t = Table::<Disk, 8>::new();
        parse_into(b"   8       0 sda 1 2 3 4\n", &mut t).unwrap();
        assert_eq!(t.as_slice()[0].sectors_written, 4);
        let e = parse_into(b"   8       0 sda 1 2 3 4 5\n", &mut t).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::MissingField, 26));
    }
}
