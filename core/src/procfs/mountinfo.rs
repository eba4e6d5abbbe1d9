//! `/proc/<pid>/mountinfo`: mount points of a mount namespace (proc(5),
//! "/proc/pid/mountinfo").
//!
//! ```text
//! 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//! (1)(2)(3)   (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)
//! ```
//!
//! Fields are separated by exactly one space: an empty source (a tmpfs mounted with "")
//! shows as two spaces, so runs of blanks are not collapsed. Zero or more optional fields
//! (7) end at the `-` separator. Paths escape space, tab, newline and backslash as
//! `\040 \011 \012 \134`.

use crate::error::{Error, ErrorKind, Result};
use crate::table::{Summary, Table};
use crate::text::{parse_u64, Escaped, Escaping, Line, LineRecords, Text};

/// One mount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Mount<'a> {
    /// (1) Unique mount id.
    pub mount_id: u32,
    /// (2) Parent mount id.
    pub parent_id: u32,
    /// (3) Major device number of the filesystem.
    pub major: u32,
    /// (3) Minor device number.
    pub minor: u32,
    /// (4) Root of the mount within its filesystem.
    pub root: Escaped<'a>,
    /// (5) Mount point, relative to the process's root.
    pub mount_point: Escaped<'a>,
    /// (6) Per-mount options.
    pub mount_options: Text<'a>,
    /// (7) Optional fields (`shared:N`, `master:N`, ...), space-separated; may be empty.
    pub optional_fields: Text<'a>,
    /// (9) Filesystem type.
    pub fs_type: Escaped<'a>,
    /// (10) Mount source; may be empty.
    pub source: Escaped<'a>,
    /// (11) Per-superblock options.
    pub super_options: Text<'a>,
}

impl<'a> Mount<'a> {
    /// The optional fields one by one.
    pub fn optional(&self) -> impl Iterator<Item = Text<'a>> {
        self.optional_fields
            .0
            .split(|&b| b == b' ')
            .filter(|f| !f.is_empty())
            .map(Text)
    }
}

/// Iterator over the mounts; stops after the first error.
pub type Records<'a> = LineRecords<'a, Mount<'a>>;

/// Iterates the mounts of a mountinfo file.
///
/// ```
/// let line = b"63 43 0:39 / /tmp/a\\040b rw,relatime shared:1 - tmpfs  rw\n";
/// let m = ferrostat_core::procfs::mountinfo::records(line).next().unwrap()?;
/// assert!(m.mount_point.decodes_to(b"/tmp/a b"));
/// assert!(m.source.raw().is_empty());
/// assert_eq!(m.optional_fields.as_bytes(), b"shared:1");
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
pub fn records(input: &[u8]) -> Records<'_> {
    LineRecords::new(input, parse_line)
}

/// Splits a line on single spaces, tracking offsets.
pub(crate) struct SpaceFields<'a> {
    line: &'a [u8],
    pos: usize,
    base: usize,
    terminated: bool,
}

impl<'a> SpaceFields<'a> {
    pub(crate) fn new(line: &Line<'a>) -> Self {
        SpaceFields {
            line: line.bytes,
            pos: 0,
            base: line.offset,
            terminated: line.terminated,
        }
    }

    /// The next field (possibly empty) and its offset.
    pub(crate) fn next(&mut self) -> Result<(usize, &'a [u8])> {
        if self.pos > self.line.len() {
            let kind = if self.terminated {
                ErrorKind::MissingField
            } else {
                ErrorKind::UnexpectedEnd
            };
            return Err(Error::new(kind, self.base + self.line.len()));
        }
        let rest = &self.line[self.pos..];
        let len = memchr::memchr(b' ', rest).unwrap_or(rest.len());
        let at = self.base + self.pos;
        self.pos += len + 1;
        Ok((at, &rest[..len]))
    }

    /// The next non-empty field and its offset: a run of spaces read as one separator.
    fn next_word(&mut self) -> Result<(usize, &'a [u8])> {
        loop {
            let (at, field) = self.next()?;
            if !field.is_empty() {
                return Ok((at, field));
            }
        }
    }

    /// Everything not yet read.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let rest = self.line.get(self.pos..).unwrap_or(&[]);
        self.pos = self.line.len() + 1;
        rest
    }

    pub(crate) fn number(&mut self) -> Result<u32> {
        let (at, tok) = self.next()?;
        number(tok, at)
    }
}

fn number(tok: &[u8], at: usize) -> Result<u32> {
    parse_u64(tok)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or(Error::new(ErrorKind::BadInteger, at))
}

fn parse_line<'a>(line: &Line<'a>) -> Result<Option<Mount<'a>>> {
    if line.bytes.is_empty() {
        return Ok(None);
    }
    let mut f = SpaceFields::new(line);
    // No field before the `-` can be empty (the kernel escapes the spaces of paths), so
    // a run of spaces there is one separator, as libmount (`skip_separator`) and
    // prometheus/procfs (`strings.Fields`) read it. After the `-` the source can be
    // empty, so there each space ends a field.
    let (at, id) = f.next_word()?;
    let mount_id = number(id, at)?;
    let (at, id) = f.next_word()?;
    let parent_id = number(id, at)?;
    let (at, dev) = f.next_word()?;
    let colon = memchr::memchr(b':', dev).ok_or(Error::new(ErrorKind::BadLine, at))?;
    let major = number(&dev[..colon], at)?;
    let minor = number(&dev[colon + 1..], at + colon + 1)?;
    let root = f.next_word()?.1;
    let mount_point = f.next_word()?.1;
    let mount_options = f.next_word()?.1;
    // Optional fields run up to the lone `-`: from the first one's start to the last
    // one's end.
    let mut optional: Option<(usize, usize)> = None;
    loop {
        let (at, t) = f.next_word()?;
        if t == b"-" {
            break;
        }
        let from = at - line.offset;
        optional = Some((optional.map_or(from, |(start, _)| start), from + t.len()));
    }
    let optional_fields = optional.map_or(&[][..], |(start, end)| &line.bytes[start..end]);
    let fs_type = f.next()?.1;
    let source = f.next()?.1;
    let super_options = f.rest();
    Ok(Some(mount(
        [mount_id, parent_id, major, minor],
        [
            root,
            mount_point,
            mount_options,
            optional_fields,
            fs_type,
            source,
            super_options,
        ],
    )))
}

/// The record of one line: its four numbers and its seven text fields in the kernel's
/// order, each text wrapped as `show_mountinfo` escapes it.
#[inline(always)]
fn mount<'a>(numbers: [u32; 4], texts: [&'a [u8]; 7]) -> Mount<'a> {
    let [mount_id, parent_id, major, minor] = numbers;
    let [root, mount_point, mount_options, optional_fields, fs_type, source, super_options] = texts;
    Mount {
        mount_id,
        parent_id,
        major,
        minor,
        root: Escaped::new(root, Escaping::Octal),
        mount_point: Escaped::new(mount_point, Escaping::Octal),
        mount_options: Text(mount_options),
        optional_fields: Text(optional_fields),
        fs_type: Escaped::new(fs_type, Escaping::Octal),
        source: Escaped::new(source, Escaping::Octal),
        super_options: Text(super_options),
    }
}

/// Parses all mounts into `out` (cleared first).
///
/// ```
/// use ferrostat_core::{procfs::mountinfo, Table};
/// let input = b"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n23 22 0:5 / /dev rw - devtmpfs udev rw\n";
/// let mut mounts = Table::<_, 16>::new();
/// mountinfo::parse_into(input, &mut mounts)?;
/// let dev = &mounts.as_slice()[1];
/// assert!(dev.mount_point.decodes_to(b"/dev") && dev.optional_fields.as_bytes().is_empty());
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
///
/// # Errors
/// `UnexpectedEnd` on a cut final line; `MissingField` (no `-` separator),
/// `BadInteger` or `BadLine` at the field.
pub fn parse_into<'a, const N: usize>(
    input: &'a [u8],
    out: &mut Table<Mount<'a>, N>,
) -> Result<Summary> {
    crate::text::fill_table(input, parse_line, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_corpus::{files, with};

    #[test]
    fn real_files_and_edge_shapes() {
        let corpus = files("mountinfo", |_| true);
        assert!(corpus.len() >= 10);
        let real = corpus.len();
        let inputs = with(
            corpus,
            &[
                b"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n",
                b"22 1 8:1 / / rw,relatime shared:1 master:2 - ext4 /dev/sda1 rw,a b\n",
                b"22 1 8:1 / / rw,relatime  - tmpfs  rw\n",
                b"22 1 8:1 / / rw,relatime -x - tmpfs x rw\n",
                b"22 1 8:1 / /a\\040b rw - tmpfs x rw\n",
                b"22 1 8:1 / / rw,relatime shared:1 -\n",
                b"22 1 8:1 / / rw,relatime shared:1 - ext4\n",
                b"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1\n",
                b"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
                b"22 1 8:1 / / rw\n\n",
                b"22 1 8:1 / / rw - a b c\n23 1 8:1",
                b"22 1 8 / / rw - a b c\n",
                b"22 1 4294967296:1 / / rw - a b c\n",
                b"22  1 8:1 / / rw - a b c\n",
                b"1 1 0:5 /  /root rw,nosuid shared:8 - rootfs rootfs rw\n",
                b"22 1 8:1 / / rw  shared:1  master:2  - ext4 /dev/sda1 rw\n",
                b"22 1 8:1 / / rw shared:1 -  ext4 /dev/sda1 rw\n",
                b"-1 1 8:1 / / rw - a b c\n",
                b"\n",
            ],
        );
        // Every real file (prometheus/procfs's double space after a root included)
        // and the well-formed extras parse.
        let parsed = inputs
            .iter()
            .filter(|i| parse_into(i, &mut Table::<Mount, 64>::new()).is_ok())
            .count();
        assert!(parsed >= real + 5, "{parsed}");
    }
}
