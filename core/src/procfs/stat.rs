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
//! [`parse_into`] is [`records`] folded into a [`Stat`]: one grammar for the file.

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

    /// Every real file parses, each `cpuN` line to a CPU; the edge shapes parse or give
    /// the error their line calls for.
    #[test]
    fn real_files_and_edge_shapes() {
        let corpus = crate::test_corpus::files("stat", |d| d.ends_with("proc"));
        assert!(corpus.len() > 5);
        let mut cpu_lines = 0;
        // gopsutil's `cpu-times_empty` fixture is empty: short input, not a file.
        for input in corpus.iter().filter(|f| !f.is_empty()) {
            let mut s = Stat::<512>::default();
            let sum = parse_into(input, &mut s).unwrap();
            let cpus = input
                .split(|&b| b == b'\n')
                .filter(|l| l.starts_with(b"cpu") && !l.starts_with(b"cpu "))
                .count();
            assert_eq!(sum.parsed as usize, cpus);
            cpu_lines += cpus;
        }
        assert!(cpu_lines > 80, "{cpu_lines}");
        let parses = |input: &[u8]| parse_into(input, &mut Stat::<64>::default());
        // Odd spacing and column counts, an id past u32, a word that is not a CPU.
        assert_eq!(
            parses(b"cpu  1 2 3 4\ncpu0 1 2 3 4 \ncpu1  1 2 3 4 5 6 7 8 9 10\n"),
            Ok(Summary {
                parsed: 2,
                dropped: 0
            })
        );
        let e = parses(b"cpu  1 2 3 4\ncpu99999999999 1 2 3 4\n").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::BadInteger, 16));
        let e = parses(b"cpu  1 2 3 4\ncpufreq 7\ncpu3 1 2 3 4 5\ncpu4 1 2 x 4\n").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadInteger);
        // A last line without its newline that is whole still counts.
        assert_eq!(
            parses(b"cpu  1 2 3 4\ncpu5 1 2 3 4 5"),
            Ok(Summary {
                parsed: 1,
                dropped: 0
            })
        );
        let e = parses(b"cpu  1 2 3 4\ncpu5 99999999999999999999 2 3 4\n").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadInteger);
        assert!(parses(b"cpu  1 2 3 4\n\nctxt 5\n").is_ok());
        let mut s = Stat::<4>::default();
        parse_into(
            b"cpu  123456789 1234567890123456 12345678901234567 4\nintr 1\n",
            &mut s,
        )
        .unwrap();
        assert_eq!((s.total.user, s.total.idle), (123456789, 4));
    }

    /// The counter lines after the CPUs, to the first number each keeps.
    #[test]
    fn counter_lines() {
        let mut s = Stat::<1>::default();
        parse_into(
            b"cpu  1 2 3 4\nintr 1462898 0 0 7\nctxt 18446744073709551615\nbtime 769041601\nprocesses 86031\nprocs_running 6\nprocs_blocked 0\nsoftirq 2344 0 3\n",
            &mut s,
        )
        .unwrap();
        assert_eq!(
            (s.intr, s.ctxt, s.btime),
            (Some(1462898), Some(u64::MAX), Some(769041601))
        );
        assert_eq!(
            (s.processes, s.procs_running, s.procs_blocked),
            (Some(86031), Some(6), Some(0))
        );
        assert_eq!(s.softirq, Some(2344));
        let e = parse_into(b"cpu  1 2 3 4\nctxt x\n", &mut s).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadInteger);
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
