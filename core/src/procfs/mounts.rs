//! `/proc/mounts` (and `/proc/<pid>/mounts`): mounted filesystems in fstab(5) format
//! (proc(5), "/proc/pid/mounts").
//!
//! `spec file vfstype mntops freq passno`, separated by single spaces; an empty `spec`
//! makes the line start with a space. Octal escapes as in mountinfo.

use crate::error::{Error, ErrorKind, Result};
use crate::procfs::mountinfo::SpaceFields;
use crate::table::{Summary, Table};
use crate::text::{Escaped, Escaping, Line, LineRecords, Text};

/// One line of `/proc/mounts`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MountEntry<'a> {
    /// Mounted device or source; may be empty.
    pub spec: Escaped<'a>,
    /// Mount point.
    pub file: Escaped<'a>,
    /// Filesystem type.
    pub vfstype: Escaped<'a>,
    /// Mount options.
    pub mntops: Text<'a>,
    /// dump(8) frequency (always 0 from the kernel).
    pub freq: u32,
    /// fsck(8) pass (always 0 from the kernel).
    pub passno: u32,
}

/// Iterator over the mounts; stops after the first error.
pub type Records<'a> = LineRecords<'a, MountEntry<'a>>;

/// Iterates the lines of a mounts file.
///
/// ```
/// let m = ferrostat_core::procfs::mounts::records(b" /tmp/x tmpfs rw 0 0\n").next().unwrap()?;
/// assert!(m.spec.raw().is_empty());
/// assert!(m.file.decodes_to(b"/tmp/x"));
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
pub fn records(input: &[u8]) -> Records<'_> {
    LineRecords::new(input, parse_line)
}

fn parse_line<'a>(line: &Line<'a>) -> Result<Option<MountEntry<'a>>> {
    if line.bytes.is_empty() {
        return Ok(None);
    }
    let mut f = SpaceFields::new(line);
    let spec = f.next()?.1;
    let file = f.next()?.1;
    let vfstype = f.next()?.1;
    let mntops = f.next()?.1;
    let freq = f.number()?;
    let passno = f.number()?;
    let extra = f.rest();
    if !extra.is_empty() {
        return Err(Error::new(
            ErrorKind::BadLine,
            line.offset + line.bytes.len() - extra.len(),
        ));
    }
    Ok(Some(MountEntry {
        spec: Escaped::new(spec, Escaping::Octal),
        file: Escaped::new(file, Escaping::Octal),
        vfstype: Escaped::new(vfstype, Escaping::Octal),
        mntops: Text(mntops),
        freq,
        passno,
    }))
}

/// Parses all lines into `out` (cleared first).
///
/// ```
/// use ferrostat_core::{procfs::mounts, Table};
/// let mut t = Table::<_, 4>::new();
/// mounts::parse_into(b"/dev/sda1 /mnt/my\\040disk ext4 rw 0 0\n", &mut t)?;
/// assert_eq!(t.as_slice()[0].file.to_string(), "/mnt/my disk");
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
///
/// # Errors
/// `UnexpectedEnd` on a cut final line; `MissingField`, `BadInteger` or `BadLine`.
pub fn parse_into<'a, const N: usize>(
    input: &'a [u8],
    out: &mut Table<MountEntry<'a>, N>,
) -> Result<Summary> {
    crate::text::fill_table(input, parse_line, out)
}
