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
