//! `/proc/stat`: kernel and system statistics (proc(5), "/proc/stat").
//!
//! ```text
//! cpu  10132153 290696 3084719 46828483 16683 0 25195 0 175628 0
//! cpu0 1393280 32966 572056 13343292 6130 0 17875 0 23933 0
//! intr 1462898 0 0 ...            (one count per interrupt: can be 132 KB long)
//! ctxt 115315
//! btime 769041601
//! processes 86031
//! procs_running 6
//! procs_blocked 0
//! softirq 2344 0 ...
//! ```
//!
//! CPU lines have 4 to 10 columns depending on the kernel (steal since 2.6.11, guest
//! since 2.6.24, guest_nice since 2.6.33), and CPU ids can have gaps after hot-unplug, so
//! each per-CPU entry keeps its id.
//!
//! [`parse_into`] reads a CPU line of all ten columns within 64 bytes 16 bytes at a time
//! on x86-64 (`sse2.rs`), other CPU lines a word at a time, and every other line, or a CPU
//! line neither fast path takes, through [`records`]. All three give the same values;
//! `general_into` is the reference the tests and the fuzz target compare with.

use crate::error::{Error, ErrorKind, Result};
use crate::table::{Summary, Table};
use crate::text::{parse_counter, Line, LineRecords, Text};

/// Time a CPU spent in each state, in clock ticks (`USER_HZ`, see `sysconf(_SC_CLK_TCK)`).
/// Columns the kernel did not print are 0, and [`CpuTimes::columns`] says how many it did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CpuTimes {
    /// Time in user mode (includes guest time).
    pub user: u64,
    /// Time in user mode with low priority (includes guest_nice time).
    pub nice: u64,
    /// Time in system mode.
    pub system: u64,
    /// Time in the idle task.
    pub idle: u64,
    /// Time waiting for I/O to complete (since 2.5.41; unreliable, see proc(5)).
    pub iowait: u64,
    /// Time servicing interrupts (since 2.6.0).
    pub irq: u64,
    /// Time servicing softirqs (since 2.6.0).
    pub softirq: u64,
    /// Stolen time: time spent in other operating systems when virtualized (since 2.6.11).
    pub steal: u64,
    /// Time running a virtual CPU for guest operating systems (since 2.6.24).
    pub guest: u64,
    /// Time running a niced guest (since 2.6.33).
    pub guest_nice: u64,
    /// How many of the ten columns the kernel printed (4 to 10).
    pub columns: u8,
}

impl CpuTimes {
    /// All time accounted, in ticks. Guest time is already inside user and nice, so it is
    /// not added twice.
    pub fn total(&self) -> u64 {
        self.user
            .wrapping_add(self.nice)
            .wrapping_add(self.system)
            .wrapping_add(self.idle)
            .wrapping_add(self.iowait)
            .wrapping_add(self.irq)
            .wrapping_add(self.softirq)
            .wrapping_add(self.steal)
    }

    /// Time not idle and not waiting for I/O, in ticks.
    pub fn busy(&self) -> u64 {
        self.total()
            .wrapping_sub(self.idle)
            .wrapping_sub(self.iowait)
    }
}

/// One CPU line of a specific CPU (`cpuN`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CpuLine {
    /// The N of `cpuN`: the kernel's CPU id, which may have gaps.
    pub id: u32,
    /// Its times.
    pub times: CpuTimes,
}

/// One line of `/proc/stat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Record<'a> {
    /// The `cpu` line: all CPUs together.
    CpuTotal(CpuTimes),
    /// A `cpuN` line.
    Cpu(CpuLine),
    /// `intr`: the total of all interrupts serviced since boot (the first number).
    Intr(u64),
    /// `softirq`: the total of all softirqs serviced since boot (the first number).
    Softirq(u64),
    /// `ctxt`: context switches since boot.
    Ctxt(u64),
    /// `btime`: boot time, in seconds since the Epoch.
    Btime(u64),
    /// `processes`: forks since boot.
    Processes(u64),
    /// `procs_running`: runnable threads.
    ProcsRunning(u64),
    /// `procs_blocked`: threads blocked waiting for I/O.
    ProcsBlocked(u64),
    /// Any other line (`page`, `swap` on 2.4 kernels, keys added later): its key.
    Other(Text<'a>),
}

/// Iterator over the records of `/proc/stat`; stops after the first error.
pub type Records<'a> = LineRecords<'a, Record<'a>>;

/// Iterates the lines of a `/proc/stat` file, borrowing from it.
///
/// ```
/// use ferrostat_core::procfs::stat::{records, Record};
/// let input = b"cpu  4705 150 1120 16250 520 0 20 0 0 0\ncpu0 4705 150 1120 16250 520 0 20 0 0 0\nctxt 1990473\n";
/// let ctxt = records(input).find_map(|r| match r { Ok(Record::Ctxt(n)) => Some(n), _ => None });
/// assert_eq!(ctxt, Some(1990473));
/// ```
pub fn records(input: &[u8]) -> Records<'_> {
    LineRecords::new(input, parse_line)
}

fn parse_line<'a>(line: &Line<'a>) -> Result<Option<Record<'a>>> {
    let mut fields = line.fields();
    let Some((at, key)) = fields.next_token() else {
        return Ok(None); // blank line (seen on 2.6.x, node_exporter#38)
    };
    let counter = |fields: &mut crate::text::Fields<'a>| -> Result<u64> {
        let (at, tok) = fields.token()?;
        parse_counter(tok).ok_or(Error::new(ErrorKind::BadInteger, at))
    };
    let record = match key {
        b"cpu" => Record::CpuTotal(cpu_times(&mut fields)?),
        [b'c', b'p', b'u', id @ ..] => {
            let id = crate::text::parse_u64(id)
                .and_then(|v| u32::try_from(v).ok())
                .ok_or(Error::new(ErrorKind::BadInteger, at + 3))?;
            Record::Cpu(CpuLine {
                id,
                times: cpu_times(&mut fields)?,
            })
        }
        // Only the total is read: the rest of these lines is skipped at memchr speed.
        b"intr" => Record::Intr(counter(&mut fields)?),
        b"softirq" => Record::Softirq(counter(&mut fields)?),
        b"ctxt" => Record::Ctxt(counter(&mut fields)?),
        b"btime" => Record::Btime(counter(&mut fields)?),
        b"processes" => Record::Processes(counter(&mut fields)?),
        b"procs_running" => Record::ProcsRunning(counter(&mut fields)?),
        b"procs_blocked" => Record::ProcsBlocked(counter(&mut fields)?),
        _ => Record::Other(Text(key)),
    };
    Ok(Some(record))
}

fn cpu_times(fields: &mut crate::text::Fields<'_>) -> Result<CpuTimes> {
    let mut cols = [0u64; 10];
    let mut n = 0;
    while n < cols.len() {
        match fields.opt_u64()? {
            Some(v) => {
                cols[n] = v;
                n += 1;
            }
            None => break,
        }
    }
    if n < 4 {
        return Err(fields.missing());
    }
    Ok(from_columns(cols, n))
}

/// The times of a CPU line's first `n` columns (the rest are 0).
fn from_columns(cols: [u64; 10], n: usize) -> CpuTimes {
    let [user, nice, system, idle, iowait, irq, softirq, steal, guest, guest_nice] = cols;
    CpuTimes {
        user,
        nice,
        system,
        idle,
        iowait,
        irq,
        softirq,
        steal,
        guest,
        guest_nice,
        columns: n as u8,
    }
}

/// `/proc/stat` parsed, with up to `CPUS` per-CPU lines.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Stat<const CPUS: usize> {
    /// The `cpu` line: all CPUs together.
    pub total: CpuTimes,
    /// The `cpuN` lines, in file order, each with its id.
    pub cpus: Table<CpuLine, CPUS>,
    /// Total interrupts serviced since boot.
    pub intr: Option<u64>,
    /// Total softirqs serviced since boot.
    pub softirq: Option<u64>,
    /// Context switches since boot.
    pub ctxt: Option<u64>,
    /// Boot time, seconds since the Epoch.
    pub btime: Option<u64>,
    /// Forks since boot.
    pub processes: Option<u64>,
    /// Runnable threads.
    pub procs_running: Option<u64>,
    /// Threads blocked on I/O.
    pub procs_blocked: Option<u64>,
}

impl<const CPUS: usize> Default for Stat<CPUS> {
    fn default() -> Self {
        Stat {
            total: CpuTimes::default(),
            cpus: Table::new(),
            intr: None,
            softirq: None,
            ctxt: None,
            btime: None,
            processes: None,
            procs_running: None,
            procs_blocked: None,
        }
    }
}

/// Stores one record in `out`; true for the total `cpu` line.
fn apply<const CPUS: usize>(out: &mut Stat<CPUS>, record: Record<'_>) -> bool {
    match record {
        Record::CpuTotal(t) => {
            out.total = t;
            return true;
        }
        Record::Cpu(c) => {
            out.cpus.push(c);
        }
        Record::Intr(v) => out.intr = Some(v),
        Record::Softirq(v) => out.softirq = Some(v),
        Record::Ctxt(v) => out.ctxt = Some(v),
        Record::Btime(v) => out.btime = Some(v),
        Record::Processes(v) => out.processes = Some(v),
        Record::ProcsRunning(v) => out.procs_running = Some(v),
        Record::ProcsBlocked(v) => out.procs_blocked = Some(v),
        Record::Other(_) => {}
    }
    false
}

/// `cpu[N] <4 to 10 columns>\n` as the kernel prints it (`cpu` and two spaces for the
/// total, `cpuN` and one space for a CPU, then digits one space apart): the CPU id
/// (`None` for the total), its times and where the next line starts. `None` for any
/// other line, which the general path then parses or reports.
///
/// The row is read word by word ([`crate::text::separated_digit_row`]): a CPU line has
/// ten multi-digit columns, where finding every field's end before converting any of
/// them beats stepping from one field to the next. On x86-64, `parse_into` has already
/// offered each `cpuN` line to the SSE2 reader ([`sse2_cpu_lines`]), and the total line is
/// offered to it here first ([`sse2_total_line`]).
#[inline(always)]
fn fast_cpu_line(input: &[u8], pos: usize) -> Option<(Option<u32>, CpuTimes, usize)> {
    if input.get(pos..pos + 3)? != b"cpu" {
        return None;
    }
    if input.get(pos + 3..pos + 5)? == b"  " {
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        if let Some((cols, next)) = sse2_total_line(input, pos + 5) {
            return Some((None, from_columns(cols, 10), next));
        }
        let (cols, n, next) = crate::text::separated_digit_row::<10>(input, pos + 5)?;
        return (n >= 4).then(|| (None, from_columns(cols, n), next));
    }
    // A CPU's id is the row's first field.
    let ([id, cols @ ..], n, next) = crate::text::separated_digit_row::<11>(input, pos + 3)?;
    if n < 5 {
        return None;
    }
    Some((
        Some(u32::try_from(id).ok()?),
        from_columns(cols, n - 1),
        next,
    ))
}

/// A `cpuN` line at `pos` of the id and all ten columns within 64 bytes, read 16 bytes
/// at a time ([`crate::sse2::digit_row`]), and where the next line starts. `None` for
/// any other line, which [`fast_cpu_line`] or the general path then reads.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn sse2_cpu_line(input: &[u8], pos: usize) -> Option<(CpuLine, usize)> {
    // The row starts after `cpu`; the reader's window takes the 16 bytes before it, which
    // end with that `cpu`.
    let window: &[u8; crate::sse2::WINDOW] =
        input.get(pos.checked_sub(13)?..pos + 67)?.try_into().ok()?;
    if window[13..16] != *b"cpu" {
        return None;
    }
    let ([cols @ .., id], len) = crate::sse2::digit_row::<11, true>(window)?;
    let times = from_columns(cols, 10);
    Some((
        CpuLine {
            id: u32::try_from(id).ok()?,
            times,
        },
        pos + 3 + len,
    ))
}

/// Reads the `cpuN` lines from `pos` on into `cpus` for as long as [`sse2_cpu_line`] takes
/// them, and returns where the first line it does not take starts. Out of line: a loop of
/// its own keeps its values in registers, where inside `parse_into` the other paths' values
/// pushed some of them to the stack on every line.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(never)]
fn sse2_cpu_lines<const CPUS: usize>(
    input: &[u8],
    mut pos: usize,
    cpus: &mut Table<CpuLine, CPUS>,
) -> usize {
    while let Some((cpu, next)) = sse2_cpu_line(input, pos) {
        cpus.push(cpu);
        pos = next;
    }
    pos
}

/// The ten columns of the total `cpu` line, whose first starts at `start`, read 16 bytes
/// at a time, and where the next line starts. The line opens the file, so there are not
/// the 16 bytes before it that the SSE2 reader loads from: it reads a padded copy.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn sse2_total_line(input: &[u8], start: usize) -> Option<([u64; 10], usize)> {
    let (cols, len) =
        crate::sse2::digit_row::<10, false>(&crate::sse2::padded(input.get(start..)?))?;
    Some((cols, start + len))
}

/// One of the lines after the CPU lines whose first number is all `parse_into` keeps, as
/// the kernel prints it (`ctxt 115315\n`; `intr` and `softirq` go on with one count per
/// source, skipped here at memchr speed), and where the next line starts. `None` for any
/// other line or shape (a sign, a tab, a second field after a single-value key), which
/// the general path then reads to the same record or error.
#[inline(always)]
fn fast_counter_line(input: &[u8], pos: usize) -> Option<(Record<'static>, usize)> {
    type Make = fn(u64) -> Record<'static>;
    // The key, its record, and whether more counts follow the first.
    let (key, make, more): (&[u8], Make, bool) = match input.get(pos)? {
        b'i' => (b"intr ", Record::Intr, true),
        b'c' => (b"ctxt ", Record::Ctxt, false),
        b'b' => (b"btime ", Record::Btime, false),
        b'p' if input.get(pos + 4) == Some(&b'e') => (b"processes ", Record::Processes, false),
        b'p' if input.get(pos + 6) == Some(&b'r') => {
            (b"procs_running ", Record::ProcsRunning, false)
        }
        b'p' => (b"procs_blocked ", Record::ProcsBlocked, false),
        b's' => (b"softirq ", Record::Softirq, true),
        _ => return None,
    };
    let mut scan = crate::text::Scan::new(input, pos);
    scan.tag(key)?;
    let value = scan.u64()?;
    if scan.byte(b'\n').is_none() {
        if !more {
            return None;
        }
        scan.byte(b' ')?;
        scan.pos += memchr::memchr(b'\n', input.get(scan.pos..)?)? + 1;
    }
    Some((make(value), scan.pos))
}

/// Resets `out` in place: assigning a fresh `Stat` would copy the whole table's capacity.
fn clear<const CPUS: usize>(out: &mut Stat<CPUS>) {
    out.total = CpuTimes::default();
    out.cpus.clear();
    out.intr = None;
    out.softirq = None;
    out.ctxt = None;
    out.btime = None;
    out.processes = None;
    out.procs_running = None;
    out.procs_blocked = None;
}

/// Parses a whole `/proc/stat` into `out` (cleared first).
///
/// # Errors
/// `UnexpectedEnd` for an empty input or a cut final line; `MissingField` when there is no
/// `cpu` total line; `BadInteger` at the offending field.
///
/// ```
/// use ferrostat_core::procfs::stat::{parse_into, Stat};
/// let mut stat = Stat::<8>::default();
/// let summary = parse_into(b"cpu  10 0 5 100\ncpu0 6 0 3 50\ncpu3 4 0 2 50\nbtime 1700000000\n", &mut stat)?;
/// assert_eq!(summary.parsed, 2);
/// assert_eq!(stat.cpus.as_slice()[1].id, 3); // ids keep their gaps
/// assert_eq!(stat.total.columns, 4);
/// assert_eq!(stat.btime, Some(1_700_000_000));
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
pub fn parse_into<const CPUS: usize>(input: &[u8], out: &mut Stat<CPUS>) -> Result<Summary> {
    clear(out);
    if input.is_empty() {
        return Err(Error::new(ErrorKind::UnexpectedEnd, 0));
    }
    let mut saw_total = false;
    let mut pos = 0;
    while pos < input.len() {
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        {
            let first = pos;
            pos = sse2_cpu_lines(input, pos, &mut out.cpus);
            if pos != first {
                continue;
            }
        }
        // CPU lines (all but a handful) in one fused pass; any other line, or a CPU line
        // the fast pass does not take, goes through `parse_line` as `records` would.
        if let Some((id, times, next)) = fast_cpu_line(input, pos) {
            let record = match id {
                None => Record::CpuTotal(times),
                Some(id) => Record::Cpu(CpuLine { id, times }),
            };
            saw_total |= apply(out, record);
            pos = next;
            continue;
        }
        if let Some((record, next)) = fast_counter_line(input, pos) {
            apply(out, record);
            pos = next;
            continue;
        }
        let (end, terminated) = match memchr::memchr(b'\n', &input[pos..]) {
            Some(p) => (pos + p, true),
            None => (input.len(), false),
        };
        let line = Line {
            offset: pos,
            bytes: &input[pos..end],
            terminated,
        };
        pos = end + 1;
        match parse_line(&line) {
            Ok(Some(r)) => saw_total |= apply(out, r),
            Ok(None) => {}
            Err(e) => return Err(crate::text::cut_aware(&line, e)),
        }
    }
    if !saw_total {
        return Err(Error::new(ErrorKind::MissingField, 0));
    }
    Ok(out.cpus.summary())
}

/// [`parse_into`] by way of [`records`] alone, without the fast pass over CPU lines: the
/// reference that pass is tested and fuzzed against.
#[doc(hidden)]
pub fn general_into<const CPUS: usize>(input: &[u8], out: &mut Stat<CPUS>) -> Result<Summary> {
    clear(out);
    if input.is_empty() {
        return Err(Error::new(ErrorKind::UnexpectedEnd, 0));
    }
    let mut saw_total = false;
    for r in records(input) {
        saw_total |= apply(out, r?);
    }
    if !saw_total {
        return Err(Error::new(ErrorKind::MissingField, 0));
    }
    Ok(out.cpus.summary())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `parse_into`, with its fast passes, and `general_into`, the records alone, give the
    /// same result and, when it is not an error, the same `Stat`.
    fn same_as_records<const CPUS: usize>(input: &[u8]) {
        let (mut fused, mut general) = (Stat::<CPUS>::default(), Stat::<CPUS>::default());
        let result = parse_into(input, &mut fused);
        let text = core::str::from_utf8(input).unwrap_or("?");
        assert_eq!(result, general_into(input, &mut general), "{text}");
        if result.is_ok() {
            assert_eq!(fused, general, "{text}");
        }
    }

    #[test]
    fn fused_pass_matches_records() {
        extern crate std;
        let corpus = crate::test_corpus::files("stat", |d| d.ends_with("proc"));
        assert!(corpus.len() > 5);
        let inputs = crate::test_corpus::with(
            corpus,
            &[
                b"cpu  1 2 3 4\ncpu0 1 2 3 4 \ncpu1  1 2 3 4 5 6 7 8 9 10 11\ncpu2 1 2 3\n",
                b"cpu  1 2 3 4\ncpu99999999999 1 2 3 4\n",
                b"cpu  1 2 3 4\ncpufreq 7\ncpu3 1 2 3 4 5\ncpu4 1 2 x 4\n",
                b"cpu  1 2 3 4\ncpu5 1 2 3 4 5",
                b"cpu  1 2 3 4\ncpu5 99999999999999999999 2 3 4\n",
                b"cpu  1 2 3 4\n\nctxt 5\n",
                // The word-at-a-time row: ids, column counts, long and odd fields.
                b"cpu  0 0 0 0\ncpu01 1 2 3 4\ncpu4294967296 1 2 3 4\nintr 1\n",
                b"cpu 1 2 3 4\ncpu1 1 2 3 4 5 6 7 8 9 10\ncpu2 1 2 3 4 5 6 7 8 9 10 11\nintr 1\n",
                b"cpu  123456789 1234567890123456 12345678901234567 4\nintr 1\n",
                b"cpu  11111111 2 3 4\ncpu1 1 +2 3 4\ncpu2 1 2\t3 4\ncpu3 1 2 3 4 \nintr 1\n",
                b"cpu  11111111 2 3 4\ncpu1 99999999999999999 2 3 4\ncpu2 1 2 3 4",
            ],
        );
        for input in &inputs {
            same_as_records::<64>(input);
        }
    }

    /// Every CPU line shape the SSE2 reader takes or must leave to the word-at-a-time
    /// reader and the general path, each line with the bytes around it that the reader
    /// loads: a line before and a long `intr` line after.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[test]
    fn sse2_rows_match_records() {
        extern crate std;
        use std::format;
        let tail =
            "intr 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25\nctxt 9\n";
        // Ten columns after `cpu1 ` whose newline falls 63 bytes after the id's start: the
        // longest row the reader takes. One digit more and the word reader takes it.
        let longest = format!("1 {}1234567\n", "12345 ".repeat(9));
        let too_long = format!("1 {}12345678\n", "12345 ".repeat(9));
        assert_eq!((longest.len(), too_long.len()), (64, 65));
        let taken = [
            "1 1 2 3 4 5 6 7 8 9 10\n",
            "0 123456789 5 87654321 1234567890 0 9999999999999999 0 1 2 3\n",
            "007 00000001 0 0 0 0 0 0 0 0 0\n",
            "4294967295 1 2 3 4 5 6 7 8 9 10\n",
            "12 1 22 333 4444 55555 666666 7777777 88888888 999999999 1\n",
            longest.as_str(),
        ];
        let left = [
            "0 12345678901234567 1 2 3 4 5 6 7 8 9\n",
            "0 1 2 3 4 5 6 7 8 9\n",
            "0 1 2 3 4 5 6 7 8 9 10 11\n",
            "4294967296 1 2 3 4 5 6 7 8 9 10\n",
            "1 1 2 3 4 5 6 7 8 9 1x\n",
            "1 1 2 3 4 5 6 7 8 9 10 \n",
            "1 1  2 3 4 5 6 7 8 9 10\n",
            "1 1 2 3 4 5 6 7 8 9 18446744073709551615\n",
            "1 -1 2 3 4 5 6 7 8 9 10\n",
            "x 1 2 3 4 5 6 7 8 9 10\n",
            too_long.as_str(),
        ];
        let head = "cpu  1 2 3 4 5 6 7 8 9 10\n";
        for (row, sse2) in taken
            .iter()
            .map(|r| (r, true))
            .chain(left.iter().map(|r| (r, false)))
        {
            let input = format!("{head}cpu{row}cpu{row}{tail}");
            let input = input.as_bytes();
            assert_eq!(sse2_cpu_line(input, head.len()).is_some(), sse2, "{row}");
            same_as_records::<8>(input);
        }
        // The total line, read from a copy: taken with ten columns, and cut or short
        // lines left to the word reader, which reports the cut.
        for input in [
            "cpu  10132153 290696 3084719 46828483 16683 0 25195 0 175628 0\nctxt 1\n",
            "cpu  10132153 290696 3084719 46828483 16683 0 25195 0 175628 0",
            "cpu  1 2 3 4\n",
            "cpu  1 2 3 4 5 6 7 8 9 10 11\n",
        ] {
            same_as_records::<8>(input.as_bytes());
        }
        assert!(sse2_total_line(b"cpu  1 2 3 4 5 6 7 8 9 10\n", 5).is_some());
        assert!(sse2_total_line(b"cpu  1 2 3 4 5 6 7 8 9 10", 5).is_none());
    }

    #[test]
    fn counter_lines_match_records() {
        extern crate std;
        use std::format;
        let taken = [
            "intr 1462898 0 0 7\n",
            "intr 5\n",
            "ctxt 115315\n",
            "btime 769041601\n",
            "processes 86031\n",
            "procs_running 6\n",
            "procs_blocked 0\n",
            "softirq 2344 0 3\n",
            "ctxt 18446744073709551615\n",
        ];
        let left = [
            "ctxt  5\n",
            "ctxt 5 6\n",
            "ctxt -5\n",
            "ctxt\t5\n",
            "ctxt 5",
            "intr 5\t1\n",
            "intr 5 1",
            "procs_x 4\n",
            "pxocesses 1\n",
            "btime 99999999999999999999\n",
            "ctxt x\n",
            "c\n",
        ];
        for (line, fast) in taken
            .iter()
            .map(|l| (l, true))
            .chain(left.iter().map(|l| (l, false)))
        {
            let head = "cpu  1 2 3 4\n";
            let input = format!("{head}{line}");
            let input = input.as_bytes();
            assert_eq!(
                fast_counter_line(input, head.len()).is_some(),
                fast,
                "{line}"
            );
            same_as_records::<1>(input);
        }
    }

    /// The word-at-a-time pass takes every real CPU line. On x86-64 the SSE2 reader also
    /// takes every real `cpuN` line of ten columns of at most 16 digits within the 64 bytes
    /// after `cpu` (with the bytes around it that it loads), to the same values.
    #[test]
    fn fast_passes_take_every_real_cpu_line() {
        extern crate std;
        let corpus = crate::test_corpus::files("stat", |d| d.ends_with("proc"));
        let (mut lines, mut taken) = (0, 0);
        let (mut fitting, mut sse2_taken) = (0, 0);
        for input in &corpus {
            let mut pos = 0;
            for line in input.split_inclusive(|&b| b == b'\n') {
                if line.starts_with(b"cpu") {
                    lines += 1;
                    match fast_cpu_line(input, pos) {
                        Some((_, _, next)) => {
                            assert_eq!(next, pos + line.len());
                            taken += 1;
                        }
                        None => std::println!("not taken: {}", Text(line)),
                    }
                    let row = &line[3..];
                    let fits = !line.starts_with(b"cpu ")
                        && row.len() <= 64
                        && row.split(|&b| b == b' ').count() == 11
                        && row
                            .split(|&b| b == b' ' || b == b'\n')
                            .all(|f| f.len() <= 16)
                        && pos >= 13
                        && pos + 67 <= input.len();
                    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
                    if fits {
                        fitting += 1;
                        let (cpu, next) = sse2_cpu_line(input, pos).expect("a ten-column line");
                        let (id, times, word_next) = fast_cpu_line(input, pos).unwrap();
                        assert_eq!((Some(cpu.id), cpu.times, next), (id, times, word_next));
                        sse2_taken += 1;
                    }
                }
                pos += line.len();
            }
        }
        assert!(lines > 100, "{lines}");
        assert_eq!(taken, lines);
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        {
            assert!(fitting > 50, "{fitting}");
            assert_eq!(sse2_taken, fitting);
        }
    }

    #[test]
    fn seven_columns_and_gaps() {
        let mut s = Stat::<2>::default();
        let sum = parse_into(
            b"cpu  1 2 3 4 5 6 7\ncpu0 1 2 3 4 5 6 7\ncpu5 1 2 3 4 5 6 7\ncpu7 1 2 3 4 5 6 7\n",
            &mut s,
        )
        .unwrap();
        assert_eq!(
            sum,
            Summary {
                parsed: 2,
                dropped: 1
            }
        );
        assert_eq!(s.total.columns, 7);
        assert_eq!(s.cpus.as_slice()[1].id, 5);
    }

    #[test]
    fn cut_cpu_line_is_unexpected_end() {
        let mut s = Stat::<2>::default();
        let e = parse_into(b"cpu  1 2 3 4 5 6 7\ncpu0 1 2", &mut s).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnexpectedEnd);
        assert_eq!(e.offset(), 27);
        let e = parse_into(b"cpu  1 2 3 4 5 6 7\ncpu0 1 2\n", &mut s).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MissingField);
        let e = parse_into(b"cpu  1 2 x 4\n", &mut s).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::BadInteger, 9));
        let e = parse_into(b"cpuX 1 2 3 4\n", &mut s).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::BadInteger, 3));
    }

    #[test]
    fn negative_processes_wraps() {
        let mut s = Stat::<1>::default();
        parse_into(b"cpu 1 1 1 1\nprocesses -2\n", &mut s).unwrap();
        assert_eq!(s.processes, Some(u64::MAX - 1));
    }
}
