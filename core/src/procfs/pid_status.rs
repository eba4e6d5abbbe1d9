//! `/proc/<pid>/status`: process status in human-readable form (proc(5),
//! "/proc/pid/status").
//!
//! `Key:\tvalue` lines. Which keys appear depends on the kernel, its configuration and
//! the task (kernel threads have no `Vm*` lines, zombies no `Umask`, gVisor no `Sig*`),
//! so every field is optional and unknown keys stay reachable through [`records`]. Keys
//! are matched at line start only: the `Name` value is user-controlled. `Name` is escaped
//! by the kernel (`\n`, `\\`) and may be cut inside a UTF-8 character at 15 bytes; signal
//! masks are 128-bit on MIPS64.

use crate::error::{Error, ErrorKind, Result};
use crate::text::{
    is_blank, parse_hex_u128, parse_octal_u32, parse_u64, Escaped, Escaping, Line, LineRecords,
    Text,
};

/// One `Key: value` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Field<'a> {
    /// The key, without its colon.
    pub key: Text<'a>,
    /// The value with surrounding blanks removed (possibly empty).
    pub value: Text<'a>,
    /// Offset of the value in the input, for error reports.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub value_offset: usize,
}

/// Iterator over the lines of `/proc/<pid>/status`; stops after the first error.
pub type Records<'a> = LineRecords<'a, Field<'a>>;

/// Iterates every `Key: value` line.
///
/// ```
/// let mut it = ferrostat_core::procfs::pid_status::records(b"Name:\tcat\nUmask:\t0022\n");
/// assert_eq!(it.next().unwrap()?.value.as_bytes(), b"cat");
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
pub fn records(input: &[u8]) -> Records<'_> {
    LineRecords::new(input, parse_line)
}

fn parse_line<'a>(line: &Line<'a>) -> Result<Option<Field<'a>>> {
    let bytes = line.bytes;
    if bytes.is_empty() {
        return Ok(None);
    }
    // Keys are short: a word-at-a-time scan, not a memchr call.
    let Some(colon) = crate::text::find_either(bytes, 0, b':', b':') else {
        return Err(if line.terminated {
            Error::new(ErrorKind::BadLine, line.offset)
        } else {
            Error::new(ErrorKind::UnexpectedEnd, line.offset + bytes.len())
        });
    };
    let mut start = colon + 1;
    while start < bytes.len() && is_blank(bytes[start]) {
        start += 1;
    }
    let mut end = bytes.len();
    while end > start && is_blank(bytes[end - 1]) {
        end -= 1;
    }
    Ok(Some(Field {
        key: Text(&bytes[..colon]),
        value: Text(&bytes[start..end]),
        value_offset: line.offset + start,
    }))
}

/// The parsed `/proc/<pid>/status`. Sizes are kB as printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PidStatus<'a> {
    /// `Name`: the command name, escaped by the kernel; decode with [`Escaped::decoded`].
    pub name: Option<Escaped<'a>>,
    /// `Umask` (since 4.7).
    pub umask: Option<u32>,
    /// `State`: the state letter (`S` of `S (sleeping)`).
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::text::serialize_opt_state")
    )]
    pub state: Option<u8>,
    /// `Tgid`: thread group id (the process id).
    pub tgid: Option<u64>,
    /// `Ngid`: NUMA group id.
    pub ngid: Option<u64>,
    /// `Pid`: thread id.
    pub pid: Option<u64>,
    /// `PPid`: parent pid.
    pub ppid: Option<u64>,
    /// `TracerPid`: pid of the tracer, 0 when not traced.
    pub tracer_pid: Option<u64>,
    /// `Uid`: real, effective, saved set and filesystem uid.
    pub uid: Option<[u32; 4]>,
    /// `Gid`: real, effective, saved set and filesystem gid.
    pub gid: Option<[u32; 4]>,
    /// `FDSize`: file descriptor slots allocated.
    pub fd_size: Option<u64>,
    /// `VmPeak`: peak virtual memory, kB.
    pub vm_peak: Option<u64>,
    /// `VmSize`: virtual memory, kB.
    pub vm_size: Option<u64>,
    /// `VmLck`: locked memory, kB.
    pub vm_lck: Option<u64>,
    /// `VmPin`: pinned memory, kB.
    pub vm_pin: Option<u64>,
    /// `VmHWM`: peak resident set, kB.
    pub vm_hwm: Option<u64>,
    /// `VmRSS`: resident set, kB.
    pub vm_rss: Option<u64>,
    /// `RssAnon`, kB.
    pub rss_anon: Option<u64>,
    /// `RssFile`, kB.
    pub rss_file: Option<u64>,
    /// `RssShmem`, kB.
    pub rss_shmem: Option<u64>,
    /// `VmData`, kB.
    pub vm_data: Option<u64>,
    /// `VmStk`, kB.
    pub vm_stk: Option<u64>,
    /// `VmExe`, kB.
    pub vm_exe: Option<u64>,
    /// `VmLib`, kB.
    pub vm_lib: Option<u64>,
    /// `VmPTE`, kB.
    pub vm_pte: Option<u64>,
    /// `VmSwap`, kB.
    pub vm_swap: Option<u64>,
    /// `Threads`.
    pub threads: Option<u64>,
    /// `SigQ`: signals queued (before the `/`).
    pub sigq_queued: Option<u64>,
    /// `SigQ`: the queue limit (after the `/`).
    pub sigq_limit: Option<u64>,
    /// `SigPnd`: thread-pending signals (128 bits on MIPS64).
    pub sig_pnd: Option<u128>,
    /// `ShdPnd`: process-pending signals.
    pub shd_pnd: Option<u128>,
    /// `SigBlk`: blocked signals.
    pub sig_blk: Option<u128>,
    /// `SigIgn`: ignored signals.
    pub sig_ign: Option<u128>,
    /// `SigCgt`: caught signals.
    pub sig_cgt: Option<u128>,
    /// `CapInh`.
    pub cap_inh: Option<u64>,
    /// `CapPrm`.
    pub cap_prm: Option<u64>,
    /// `CapEff`.
    pub cap_eff: Option<u64>,
    /// `CapBnd`.
    pub cap_bnd: Option<u64>,
    /// `CapAmb`.
    pub cap_amb: Option<u64>,
    /// `voluntary_ctxt_switches`.
    pub voluntary_ctxt_switches: Option<u64>,
    /// `nonvoluntary_ctxt_switches`.
    pub nonvoluntary_ctxt_switches: Option<u64>,
    /// Lines with keys not named above.
    pub other_fields: u32,
}

/// Parses `/proc/<pid>/status`.
///
/// # Errors
/// `UnexpectedEnd` for empty or cut input; `BadInteger` at a known field whose value does
/// not parse; `BadLine` for a line with no colon.
///
/// ```
/// let s = ferrostat_core::procfs::pid_status::parse(b"Name:\tfoo\\nbar\nState:\tS (sleeping)\nVmRSS:\t    6716 kB\nSigCgt:\t0000000000000000000000005b9ffeff\n")?;
/// assert!(s.name.unwrap().decodes_to(b"foo\nbar"));
/// assert_eq!((s.state, s.vm_rss, s.sig_cgt), (Some(b'S'), Some(6716), Some(0x5b9ffeff)));
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
pub fn parse(input: &[u8]) -> Result<PidStatus<'_>> {
    crate::text::cut_aware_input(input, parse_whole(input))
}

fn parse_whole(input: &[u8]) -> Result<PidStatus<'_>> {
    if input.is_empty() {
        return Err(Error::new(ErrorKind::UnexpectedEnd, 0));
    }
    let mut s = PidStatus::default();
    for field in records(input) {
        let field = field?;
        let mut value = TrimmedValue {
            v: field.value.0,
            at: field.value_offset,
        };
        set(&mut s, field.key.0, &mut value)?;
    }
    Ok(s)
}

/// Reads the value of `key` into its field of `s`.
fn set<'a>(s: &mut PidStatus<'a>, key: &[u8], v: &mut TrimmedValue<'a>) -> Result<()> {
    // By length first: rustc tests byte-string patterns one after another, and
    // the unknown names (a third of the lines) would otherwise meet every one.
    match (key.len(), key) {
        (3, b"Pid") => s.pid = Some(v.num()?),
        (3, b"Uid") => s.uid = Some(v.ids()?),
        (3, b"Gid") => s.gid = Some(v.ids()?),
        (4, b"Name") => s.name = Some(Escaped::new(v.text()?, Escaping::CStyle)),
        (4, b"Tgid") => s.tgid = Some(v.num()?),
        (4, b"Ngid") => s.ngid = Some(v.num()?),
        (4, b"PPid") => s.ppid = Some(v.num()?),
        (4, b"SigQ") => {
            (s.sigq_queued, s.sigq_limit) = v.pair().map(|(q, l)| (Some(q), Some(l)))?
        }
        (5, b"Umask") => s.umask = Some(v.octal()?),
        (5, b"State") => s.state = Some(v.first()?),
        (5, b"VmLck") => s.vm_lck = Some(v.kb()?),
        (5, b"VmPin") => s.vm_pin = Some(v.kb()?),
        (5, b"VmHWM") => s.vm_hwm = Some(v.kb()?),
        (5, b"VmRSS") => s.vm_rss = Some(v.kb()?),
        (5, b"VmStk") => s.vm_stk = Some(v.kb()?),
        (5, b"VmExe") => s.vm_exe = Some(v.kb()?),
        (5, b"VmLib") => s.vm_lib = Some(v.kb()?),
        (5, b"VmPTE") => s.vm_pte = Some(v.kb()?),
        (6, b"FDSize") => s.fd_size = Some(v.num()?),
        (6, b"VmPeak") => s.vm_peak = Some(v.kb()?),
        (6, b"VmSize") => s.vm_size = Some(v.kb()?),
        (6, b"VmData") => s.vm_data = Some(v.kb()?),
        (6, b"VmSwap") => s.vm_swap = Some(v.kb()?),
        (6, b"SigPnd") => s.sig_pnd = Some(v.hex()?),
        (6, b"ShdPnd") => s.shd_pnd = Some(v.hex()?),
        (6, b"SigBlk") => s.sig_blk = Some(v.hex()?),
        (6, b"SigIgn") => s.sig_ign = Some(v.hex()?),
        (6, b"SigCgt") => s.sig_cgt = Some(v.hex()?),
        (6, b"CapInh") => s.cap_inh = Some(v.hex64()?),
        (6, b"CapPrm") => s.cap_prm = Some(v.hex64()?),
        (6, b"CapEff") => s.cap_eff = Some(v.hex64()?),
        (6, b"CapBnd") => s.cap_bnd = Some(v.hex64()?),
        (6, b"CapAmb") => s.cap_amb = Some(v.hex64()?),
        (7, b"RssAnon") => s.rss_anon = Some(v.kb()?),
        (7, b"RssFile") => s.rss_file = Some(v.kb()?),
        (7, b"Threads") => s.threads = Some(v.num()?),
        (8, b"RssShmem") => s.rss_shmem = Some(v.kb()?),
        (9, b"TracerPid") => s.tracer_pid = Some(v.num()?),
        (23, b"voluntary_ctxt_switches") => s.voluntary_ctxt_switches = Some(v.num()?),
        (26, b"nonvoluntary_ctxt_switches") => s.nonvoluntary_ctxt_switches = Some(v.num()?),
        _ => {
            v.skip()?;
            s.other_fields = s.other_fields.saturating_add(1);
        }
    }
    Ok(())
}

/// A value as the general parser has it: blanks trimmed, and its offset for errors.
struct TrimmedValue<'a> {
    v: &'a [u8],
    at: usize,
}

impl<'a> TrimmedValue<'a> {
    fn num(&mut self) -> Result<u64> {
        parse_u64(self.v).ok_or(self.error())
    }

    fn kb(&mut self) -> Result<u64> {
        parse_u64(self.v.strip_suffix(b" kB").unwrap_or(self.v)).ok_or(self.error())
    }

    fn hex(&mut self) -> Result<u128> {
        parse_hex_u128(self.v).ok_or(self.error())
    }

    fn octal(&mut self) -> Result<u32> {
        parse_octal_u32(self.v).ok_or(self.error())
    }

    fn ids(&mut self) -> Result<[u32; 4]> {
        ids(self.v, self.at)
    }

    fn pair(&mut self) -> Result<(u64, u64)> {
        let slash = memchr::memchr(b'/', self.v).ok_or(self.error())?;
        let part = |p: &[u8]| parse_u64(p).ok_or(self.error());
        Ok((part(&self.v[..slash])?, part(&self.v[slash + 1..])?))
    }

    fn first(&mut self) -> Result<u8> {
        self.v.first().copied().ok_or(self.error())
    }

    fn text(&mut self) -> Result<&'a [u8]> {
        Ok(self.v)
    }

    fn skip(&mut self) -> Result<()> {
        Ok(())
    }

    fn error(&self) -> Error {
        Error::new(ErrorKind::BadInteger, self.at)
    }

    fn hex64(&mut self) -> Result<u64> {
        let v = self.hex()?;
        u64::try_from(v).map_err(|_| self.error())
    }
}

fn ids(value: &[u8], at: usize) -> Result<[u32; 4]> {
    let mut f = Line {
        offset: at,
        bytes: value,
        terminated: true,
    }
    .fields();
    let mut out = [0u32; 4];
    for slot in &mut out {
        let (at, tok) = f.token()?;
        *slot = parse_u64(tok)
            .and_then(|v| u32::try_from(v).ok())
            .ok_or(Error::new(ErrorKind::BadInteger, at))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_files_and_edge_shapes() {
        use crate::test_corpus::{files, with};
        let corpus = files("status", |_| true);
        let real = corpus.len();
        let inputs = with(
            corpus,
            &[
                b"Name:\tcat\nUmask:\t0022\n",
                b"Name:\t cat\n",
                b"Name:\tcat \n",
                b"Name:\t\nState:\t\n",
                b"Name:\tcat\nState:\tR (running)\n",
                b"Name:\tcat\nState:\tR (running) \n",
                b"Pid:\t12\nPid:\t13\n",
                b"Pid: 12\n",
                b"Pid:\t12 \n",
                b"Pid:\t99999999999999999999\n",
                b"Pid:\t18446744073709551615\n",
                b"Pid:\t12",
                b"Pid:\t12\nVmRSS:\t  12 kB",
                b"VmRSS:\t  12 kB\nVmSwap:\t0\n",
                b"VmRSS:\t  12 kB\nVmSwap:\t0 MB\n",
                b"Uid:\t1\t2\t3\t4\n",
                b"Uid:\t1\t2\t3\t4\t5\n",
                b"Uid:\t1\t2\t3\n",
                b"Uid:\t1\t2\t3\t4294967296\n",
                b"SigQ:\t8/63965\nSigQ:\t8/\n",
                b"SigQ:\t8/63965\n",
                b"SigBlk:\t7be3c0fe28014a03\nCapEff:\t0000003fffffffff\n",
                b"SigBlk:\t00000000000000000000000000000001\n",
                b"SigBlk:\t7be3c0fe28014a0\n",
                b"SigBlk:\t7be3c0fe28014a0g\n",
                b"CapEff:\t00000000000000010000000000000000\n",
                b"Umask:\t0022\nUmask:\t0088\n",
                b"Groups:\nNStgid:\t1\t2\n\n\nTracerPid:\t0\n",
                b"\n\n",
                b"  \n",
                b":\t1\n",
                b"Pid\n:\t1\n",
                b"",
                // Last lines without a newline, as some captures have them.
                b"Pid:\t12\nVmRSS:\t  12 kB",
                b"Pid:\t12\nVmRSS:\t  12 k",
                b"Pid:\t12\nName:\tcat",
                b"Pid:\t12\nName:\tcat ",
                b"Pid:\t12\nGroups:\t1 2",
                b"Pid:\t12\nSigBlk:\t7be3c0fe28014a03",
                b"Pid:\t12\nSigBlk:\t7be3c0fe",
                b"Pid:\t12\nUid:\t1\t2\t3\t4",
                b"Pid:\t12\nUmask:\t0022",
                b"Pid:\t12\nSigQ:\t1/2",
                b"Pid:\t12\nPi",
            ],
        );
        // Every real file (the gVisor and cut ones too) and the well-formed extras.
        let parsed = inputs.iter().filter(|i| parse(i).is_ok()).count();
        assert!(
            parsed >= real + 12,
            "{parsed} of {real} real files and extras"
        );
        let s =
            parse(b"Uid:\t1\t2\t3\t4\nSigQ:\t8/63965\nSigBlk:\t00000000000000010000000000000002\n")
                .unwrap();
        assert_eq!(s.uid, Some([1, 2, 3, 4]));
        assert_eq!((s.sigq_queued, s.sigq_limit), (Some(8), Some(63965)));
        assert_eq!(s.sig_blk, Some(1 << 64 | 2));
    }

    #[test]
    fn names_match_exactly() {
        // A name is only its own bytes: a NUL after a short name, a prefix of a long one
        // or another case is some other field.
        let s = parse(b"Pid\0:\t5\nPid:\t7\nTracerPi:\t3\nTracerPid:\t9\nvmrss:\t1 kB\nVmRSS:\t2 kB\nnonvoluntary_ctxt_switches:\t4\nvoluntary_ctxt_switches:\t6\nRssShmem:\t8 kB\n").unwrap();
        assert_eq!((s.pid, s.tracer_pid, s.vm_rss), (Some(7), Some(9), Some(2)));
        assert_eq!(
            (
                s.nonvoluntary_ctxt_switches,
                s.voluntary_ctxt_switches,
                s.rss_shmem
            ),
            (Some(4), Some(6), Some(8))
        );
        assert_eq!(s.other_fields, 3);
    }
}
