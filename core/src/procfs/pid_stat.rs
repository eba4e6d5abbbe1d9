//! `/proc/<pid>/stat`: process status (proc(5), "/proc/pid/stat").
//!
//! `pid (comm) state ppid ...`, 52 fields on current kernels. `comm` is the thread name,
//! which any process can set to anything up to 15 bytes (spaces, parentheses, a fake
//! `) S 1`, newlines, half a UTF-8 character), so it runs from the first `(` to the *last*
//! `)` of the file. Signed fields (`tpgid` -1, `nice` -20, `cutime`) are `i64`; others are
//! `u64` (`rsslim` is often u64::MAX). Fields 40 onwards appeared over time and are
//! `Option`.

use crate::error::{Error, ErrorKind, Result};
use crate::text::{Fields, Line, Text};

/// The parsed `/proc/<pid>/stat` (or `/proc/<pid>/task/<tid>/stat`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PidStat<'a> {
    /// (1) Process id.
    pub pid: i64,
    /// (2) Thread name, raw bytes (not escaped in this file).
    pub comm: Text<'a>,
    /// (3) State: R, S, D, Z, T, t, X, I, ...
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::text::serialize_state")
    )]
    pub state: u8,
    /// (4) Parent pid.
    pub ppid: i64,
    /// (5) Process group.
    pub pgrp: i64,
    /// (6) Session.
    pub session: i64,
    /// (7) Controlling terminal.
    pub tty_nr: i64,
    /// (8) Foreground process group of the terminal, -1 without one.
    pub tpgid: i64,
    /// (9) Kernel flags (PF_*).
    pub flags: u64,
    /// (10) Minor faults.
    pub minflt: u64,
    /// (11) Minor faults of waited-for children.
    pub cminflt: u64,
    /// (12) Major faults.
    pub majflt: u64,
    /// (13) Major faults of waited-for children.
    pub cmajflt: u64,
    /// (14) User-mode time, clock ticks.
    pub utime: u64,
    /// (15) Kernel-mode time, clock ticks.
    pub stime: u64,
    /// (16) Children's user time, clock ticks.
    pub cutime: i64,
    /// (17) Children's kernel time, clock ticks.
    pub cstime: i64,
    /// (18) Scheduling priority as the kernel shows it.
    pub priority: i64,
    /// (19) Nice value, -20 to 19.
    pub nice: i64,
    /// (20) Threads.
    pub num_threads: i64,
    /// (21) Obsolete, always 0.
    pub itrealvalue: i64,
    /// (22) Start time after boot, clock ticks.
    pub starttime: u64,
    /// (23) Virtual memory size, bytes.
    pub vsize: u64,
    /// (24) Resident set size, pages.
    pub rss: i64,
    /// (25) RSS soft limit, bytes.
    pub rsslim: u64,
    /// (26) Start of program text.
    pub startcode: u64,
    /// (27) End of program text.
    pub endcode: u64,
    /// (28) Start of stack.
    pub startstack: u64,
    /// (29) Stack pointer.
    pub kstkesp: u64,
    /// (30) Instruction pointer.
    pub kstkeip: u64,
    /// (31) Pending signals (obsolete).
    pub signal: u64,
    /// (32) Blocked signals (obsolete).
    pub blocked: u64,
    /// (33) Ignored signals (obsolete).
    pub sigignore: u64,
    /// (34) Caught signals (obsolete).
    pub sigcatch: u64,
    /// (35) Wait channel.
    pub wchan: u64,
    /// (36) Swapped pages (not maintained).
    pub nswap: u64,
    /// (37) Children's swapped pages (not maintained).
    pub cnswap: u64,
    /// (38) Signal sent to the parent at death.
    pub exit_signal: i64,
    /// (39) CPU last run on.
    pub processor: i64,
    /// (40) Real-time priority (since 2.5.19).
    pub rt_priority: Option<u64>,
    /// (41) Scheduling policy (since 2.5.19).
    pub policy: Option<u64>,
    /// (42) Block I/O delay, clock ticks (since 2.6.18).
    pub delayacct_blkio_ticks: Option<u64>,
    /// (43) Guest time, clock ticks (since 2.6.24).
    pub guest_time: Option<u64>,
    /// (44) Children's guest time, clock ticks (since 2.6.24).
    pub cguest_time: Option<i64>,
    /// (45)-(51) Memory layout addresses (since 3.3/3.5).
    pub start_data: Option<u64>,
    /// (46) End of data.
    pub end_data: Option<u64>,
    /// (47) Heap start.
    pub start_brk: Option<u64>,
    /// (48) Argument start.
    pub arg_start: Option<u64>,
    /// (49) Argument end.
    pub arg_end: Option<u64>,
    /// (50) Environment start.
    pub env_start: Option<u64>,
    /// (51) Environment end.
    pub env_end: Option<u64>,
    /// (52) Exit status as waitpid(2) reports it (since 3.5).
    pub exit_code: Option<i64>,
}

impl PidStat<'_> {
    /// CPU time used, user plus kernel, in clock ticks.
    pub fn cpu_ticks(&self) -> u64 {
        self.utime.wrapping_add(self.stime)
    }
}

/// Parses `/proc/<pid>/stat`.
///
/// Anything after the line that ends the fields is ignored (a real fixture carries a
/// second line).
///
/// # Errors
/// `UnexpectedEnd` when the input is empty or stops before field 39; `BadLine` without
/// the `(`...`)` pair; `BadInteger` at a bad field.
///
/// ```
/// let s = ferrostat_core::procfs::pid_stat::parse(
///     b"68927 (test(cmd).sh) S 68044 68927 16335 34817 68927 4194304 165 0 0 0 0 0 0 0 20 0 1 0 114413973 7086080 389 18446744073709551615 4194304 5082140 140727768461952 0 0 0 65536 4 65538 1 0 0 17 3 0 0 0 0 0\n",
/// )?;
/// assert_eq!(s.comm.as_bytes(), b"test(cmd).sh");
/// assert_eq!((s.state, s.ppid, s.rsslim), (b'S', 68044, u64::MAX));
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
pub fn parse(input: &[u8]) -> Result<PidStat<'_>> {
    crate::text::cut_aware_input(input, parse_whole(input))
}

fn parse_whole(input: &[u8]) -> Result<PidStat<'_>> {
    if input.is_empty() {
        return Err(Error::new(ErrorKind::UnexpectedEnd, 0));
    }
    let open = memchr::memchr(b'(', input).ok_or(Error::new(ErrorKind::BadLine, 0))?;
    let close = memchr::memrchr(b')', input)
        .filter(|&c| c > open)
        .ok_or_else(|| incomplete_or(input, ErrorKind::BadLine, open))?;
    let head = Line {
        offset: 0,
        bytes: &input[..open],
        terminated: true,
    };
    let mut head = head.fields();
    let pid = head.i64()?;

    let after = close + 1;
    let end = memchr::memchr(b'\n', &input[after..]).map(|n| after + n);
    let tail = Line {
        offset: after,
        bytes: &input[after..end.unwrap_or(input.len())],
        terminated: end.is_some(),
    };
    let mut f = tail.fields();
    let (at, state) = f.token()?;
    if state.len() != 1 {
        return Err(Error::new(ErrorKind::BadLine, at));
    }
    let mut s = PidStat {
        pid,
        comm: Text(&input[open + 1..close]),
        state: state[0],
        ..PidStat::default()
    };
    s.ppid = f.i64()?;
    s.pgrp = f.i64()?;
    s.session = f.i64()?;
    s.tty_nr = f.i64()?;
    s.tpgid = f.i64()?;
    s.flags = f.u64()?;
    s.minflt = f.u64()?;
    s.cminflt = f.u64()?;
    s.majflt = f.u64()?;
    s.cmajflt = f.u64()?;
    s.utime = f.u64()?;
    s.stime = f.u64()?;
    s.cutime = f.i64()?;
    s.cstime = f.i64()?;
    s.priority = f.i64()?;
    s.nice = f.i64()?;
    s.num_threads = f.i64()?;
    s.itrealvalue = f.i64()?;
    s.starttime = f.u64()?;
    s.vsize = f.u64()?;
    s.rss = f.i64()?;
    s.rsslim = f.u64()?;
    s.startcode = f.u64()?;
    s.endcode = f.u64()?;
    s.startstack = f.u64()?;
    s.kstkesp = f.u64()?;
    s.kstkeip = f.u64()?;
    s.signal = f.u64()?;
    s.blocked = f.u64()?;
    s.sigignore = f.u64()?;
    s.sigcatch = f.u64()?;
    s.wchan = f.u64()?;
    s.nswap = f.u64()?;
    s.cnswap = f.u64()?;
    s.exit_signal = f.i64()?;
    s.processor = f.i64()?;
    s.rt_priority = f.opt_u64()?;
    s.policy = f.opt_u64()?;
    s.delayacct_blkio_ticks = f.opt_u64()?;
    s.guest_time = f.opt_u64()?;
    s.cguest_time = opt_i64(&mut f)?;
    s.start_data = f.opt_u64()?;
    s.end_data = f.opt_u64()?;
    s.start_brk = f.opt_u64()?;
    s.arg_start = f.opt_u64()?;
    s.arg_end = f.opt_u64()?;
    s.env_start = f.opt_u64()?;
    s.env_end = f.opt_u64()?;
    s.exit_code = opt_i64(&mut f)?;
    Ok(s)
}

fn opt_i64(f: &mut Fields<'_>) -> Result<Option<i64>> {
    match f.next_token() {
        None => Ok(None),
        Some((at, tok)) => crate::text::parse_i64(tok)
            .map(Some)
            .ok_or(Error::new(ErrorKind::BadInteger, at)),
    }
}

fn incomplete_or(input: &[u8], kind: ErrorKind, at: usize) -> Error {
    if input.last() == Some(&b'\n') {
        Error::new(kind, at)
    } else {
        Error::new(ErrorKind::UnexpectedEnd, input.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_files_and_edge_shapes() {
        use crate::test_corpus::{files, with};
        let mut inputs = with(
            files("stat", |d| !d.ends_with("proc")),
            &[
                b"42 (a b) S 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 9 100 2 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1\n",
                b"42 (a) S 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 9 100 2 5 0 0 0 0 0 0 0 0 0 0 0 0 17\n",
                b"42 (a) S 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 9 100 2 5 0 0 0 0 0 0 0 0 0 0 0 0 17 1 ",
                b"42 (a) S 1 1 1 0 -1 -3 0 0 0 0 7 3 0 0 20 0 1 0 9 100 2 5 0 0 0 0 0 0 0 0 0 0 0 0 17 1\n",
                b"42 (a) S 1 1 1 0 -9223372036854775809 0 0 0 0 0 7 3 0 0 20 0 1 0 9 100 2 5 0 0 0 0 0 0 0 0 0 0 0 0 17 1\n",
                b"42 (a) S 1 1 1 0 -9223372036854775808 0 0 0 0 0 7 3 0 0 20 0 1 0 9 100 2 5 0 0 0 0 0 0 0 0 0 0 0 0 17 1\n",
                b"42 (a) S 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 9 100 2 5 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 -5 0 0 0 0 0 0 0 -2 99 98\n",
                b"42 (a) S 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 9 100 2 5 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 5 0 0 0 0 0 0 0 2 x\n",
                b"42 (a) S 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 9 100 2 5 0 0 0 0 0 0 0 0 0 0 0 0 17 1  \n",
                b"42  (a) S 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 9 100 2 5 0 0 0 0 0 0 0 0 0 0 0 0 17 1\n",
                b"42 (a) S 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 9 100 2 5 0 0 0 0 0 0 0 0 0 0 0 0 17 123456789012345678\n",
                b"42 (a) S 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 9 100 2 5 0 0 0 0 0 0 0 0 0 0 0 0 17 1234567890123\n",
                // Found by the fuzzer: a newline where the state goes.
                b"42 (a) \n 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 9 100 2 5 0 0 0 0 0 0 0 0 0 0 0 0 17 1\n",
            ],
        );
        inputs.push(
            b"42 (a) S "
                .iter()
                .chain([b'1', b' '].iter().cycle().take(140))
                .chain(b"\n")
                .copied()
                .collect(),
        );
        // Every real file, and the edge shapes that are valid, parse.
        let parsed = inputs.iter().filter(|i| parse(i).is_ok()).count();
        let s = parse(inputs.last().unwrap()).unwrap();
        assert_eq!(s.exit_code, Some(1));
        assert!(parsed >= 12, "{parsed}");
        let s = parse(b"42 (a) S 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 9 100 2 5 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 -5 0 0 0 0 0 0 0 -2 99 98\n").unwrap();
        assert_eq!(
            (s.tpgid, s.cguest_time, s.exit_code),
            (-1, Some(-5), Some(-2))
        );
        let e = parse(b"42 (a) S 1 1 1 0 -1 -3 0 0 0 0 7 3 0 0 20 0 1 0 9 100 2 5 0 0 0 0 0 0 0 0 0 0 0 0 17 1\n").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::BadInteger, 20));
    }

    #[test]
    fn hostile_comm_and_errors() {
        let s = parse(b"42 (foo\nbar) S 1) R 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 9 100 2 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1\n").unwrap();
        assert_eq!(s.comm.as_bytes(), b"foo\nbar) S 1");
        assert_eq!((s.state, s.utime, s.stime, s.processor), (b'R', 7, 3, 1));
        assert_eq!(s.rt_priority, None);
        let e = parse(b"42 (x) S 1 1 1 0").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnexpectedEnd);
        let e = parse(b"42 (x) S 1 1 1 0\n").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MissingField);
        let e = parse(b"42 (x").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::UnexpectedEnd, 5));
        let e = parse(b"42 x S\n").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::BadLine, 0));
        let e = parse(b"4x2 (a) S 1\n").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::BadInteger, 0));
    }
}
