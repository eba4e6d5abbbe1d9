//! `/proc/<pid>/io`: I/O statistics of a process (proc(5), "/proc/pid/io").
//!
//! `key: value` lines. `cancelled_write_bytes` can be negative (a real fixture has
//! -1024), so it is `i64`.

use crate::error::{Error, ErrorKind, Result};
use crate::procfs::pid_status;
use crate::text::{parse_i64, parse_u64, Scan};

/// The parsed `/proc/<pid>/io`. Absent keys are `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PidIo {
    /// `rchar`: bytes read by read(2) and similar, from any source.
    pub rchar: Option<u64>,
    /// `wchar`: bytes written by write(2) and similar.
    pub wchar: Option<u64>,
    /// `syscr`: read system calls.
    pub syscr: Option<u64>,
    /// `syscw`: write system calls.
    pub syscw: Option<u64>,
    /// `read_bytes`: bytes fetched from storage.
    pub read_bytes: Option<u64>,
    /// `write_bytes`: bytes sent to storage.
    pub write_bytes: Option<u64>,
    /// `cancelled_write_bytes`: dirty page-cache bytes truncated before writeback.
    pub cancelled_write_bytes: Option<i64>,
}

/// Parses `/proc/<pid>/io`.
///
/// # Errors
/// `UnexpectedEnd` on empty or cut input; `BadInteger` at a bad value.
///
/// ```
/// let io = ferrostat_core::procfs::pid_io::parse(b"rchar: 750339\nwchar: 818609\ncancelled_write_bytes: -1024\n")?;
/// assert_eq!((io.rchar, io.cancelled_write_bytes), (Some(750339), Some(-1024)));
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
#[inline]
pub fn parse(input: &[u8]) -> Result<PidIo> {
    if let Some(io) = fast(input) {
        return Ok(io);
    }
    general(input)
}

/// [`parse`] without its fast pass: the reference the fast pass is tested and fuzzed
/// against.
#[doc(hidden)]
pub fn general(input: &[u8]) -> Result<PidIo> {
    crate::text::cut_aware_input(input, parse_whole(input))
}

/// The seven lines as every kernel since 2.6.20 prints them (`do_io_accounting` in
/// fs/proc/base.c): these keys in this order, `: ` and an unsigned number each. Each key
/// is one comparison against its known bytes rather than a search for the colon. `None`
/// sends the input to the general parser, which reads it to the same values or reports
/// the error: other keys or orders, a negative `cancelled_write_bytes`, a cut line.
#[inline(always)]
fn fast(input: &[u8]) -> Option<PidIo> {
    const KEYS: [&[u8]; 7] = [
        b"rchar: ",
        b"wchar: ",
        b"syscr: ",
        b"syscw: ",
        b"read_bytes: ",
        b"write_bytes: ",
        b"cancelled_write_bytes: ",
    ];
    let mut s = Scan::new(input, 0);
    let mut v = [0u64; 7];
    for (key, slot) in KEYS.iter().zip(&mut v) {
        s.tag(key)?;
        *slot = s.u64()?;
        s.byte(b'\n')?;
    }
    let [rchar, wchar, syscr, syscw, read_bytes, write_bytes, cancelled] = v;
    s.at_end().then_some(PidIo {
        rchar: Some(rchar),
        wchar: Some(wchar),
        syscr: Some(syscr),
        syscw: Some(syscw),
        read_bytes: Some(read_bytes),
        write_bytes: Some(write_bytes),
        cancelled_write_bytes: Some(i64::try_from(cancelled).ok()?),
    })
}

fn parse_whole(input: &[u8]) -> Result<PidIo> {
    if input.is_empty() {
        return Err(Error::new(ErrorKind::UnexpectedEnd, 0));
    }
    let mut io = PidIo::default();
    // Same `key: value` shape as status, so the same line splitter.
    for field in pid_status::records(input) {
        let field = field?;
        let v = field.value.0;
        let bad = Error::new(ErrorKind::BadInteger, field.value_offset);
        let slot = match field.key.0 {
            b"rchar" => &mut io.rchar,
            b"wchar" => &mut io.wchar,
            b"syscr" => &mut io.syscr,
            b"syscw" => &mut io.syscw,
            b"read_bytes" => &mut io.read_bytes,
            b"write_bytes" => &mut io.write_bytes,
            b"cancelled_write_bytes" => {
                io.cancelled_write_bytes = Some(parse_i64(v).ok_or(bad)?);
                continue;
            }
            _ => continue,
        };
        *slot = Some(parse_u64(v).ok_or(bad)?);
    }
    Ok(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_corpus::{check_fast_pass, files, with};

    /// `rchar` at 20 digits, `u64::MAX`: the fast pass still takes it.
    const TWENTY_DIGITS: &[u8] = b"rchar: 18446744073709551615\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\nwrite_bytes: 6\ncancelled_write_bytes: 7\n";

    #[test]
    fn fast_pass_matches_general() {
        let corpus = files("io", |dir| !dir.ends_with("pressure"));
        // Every file of the corpus but prometheus-procfs's, whose -1024 goes to the
        // general parser.
        let taken = corpus.iter().filter(|f| fast(f).is_some()).count();
        assert_eq!(taken, corpus.len() - 1);
        assert_eq!(fast(TWENTY_DIGITS).unwrap().rchar, Some(u64::MAX));
        let inputs = with(
            corpus,
            &[
                // A key out of order, a missing line, trailing lines, a cut last line,
                // -1024 (a real fixture's cancelled_write_bytes), a value past i64::MAX,
                // 20 and 21 digits, two spaces after the colon.
                b"wchar: 1\nrchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\nwrite_bytes: 6\ncancelled_write_bytes: 7\n",
                b"rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\nwrite_bytes: 6\n",
                b"rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\nwrite_bytes: 6\ncancelled_write_bytes: 7\nextra: 8\n",
                b"rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\nwrite_bytes: 6\ncancelled_write_bytes: 7",
                b"rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\nwrite_bytes: 6\ncancelled_write_bytes: -1024\n",
                b"rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\nwrite_bytes: 6\ncancelled_write_bytes: 9223372036854775808\n",
                TWENTY_DIGITS,
                b"rchar: 184467440737095516150\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\nwrite_bytes: 6\ncancelled_write_bytes: 7\n",
                b"rchar:  1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\nwrite_bytes: 6\ncancelled_write_bytes: 7\n",
            ],
        );
        check_fast_pass(&inputs, fast, general);
        for input in &inputs {
            assert_eq!(parse(input), general(input));
        }
        let io = parse(b"rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\nwrite_bytes: 6\ncancelled_write_bytes: -1024\n").unwrap();
        assert_eq!(io.cancelled_write_bytes, Some(-1024));
    }
}
