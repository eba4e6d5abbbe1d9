//! `/proc/<pid>/io`: I/O statistics of a process (proc(5), "/proc/pid/io").
//!
//! `key: value` lines. `cancelled_write_bytes` can be negative (a real fixture has
//! -1024), so it is `i64`.

use crate::error::{Error, ErrorKind, Result};
use crate::procfs::pid_status;
use crate::text::{parse_i64, parse_u64};

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
pub fn parse(input: &[u8]) -> Result<PidIo> {
    crate::text::cut_aware_input(input, parse_whole(input))
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
    use crate::test_corpus::{files, with};

    /// `rchar` at 20 digits, `u64::MAX`.
    const TWENTY_DIGITS: &[u8] = b"rchar: 18446744073709551615\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\nwrite_bytes: 6\ncancelled_write_bytes: 7\n";

    #[test]
    fn real_files_and_edge_shapes() {
        let corpus = files("io", |dir| !dir.ends_with("pressure"));
        // Every file of the corpus, prometheus-procfs's -1024 included.
        let parsed = corpus.iter().filter(|f| parse(f).is_ok()).count();
        assert_eq!(parsed, corpus.len());
        assert_eq!(parse(TWENTY_DIGITS).unwrap().rchar, Some(u64::MAX));
        let corpus_len = corpus.len();
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
        let parsed = inputs.iter().filter(|i| parse(i).is_ok()).count();
        assert!(parsed >= corpus_len + 4, "{parsed}");
        let io = parse(b"rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\nwrite_bytes: 6\ncancelled_write_bytes: -1024\n").unwrap();
        assert_eq!(io.cancelled_write_bytes, Some(-1024));
    }
}
