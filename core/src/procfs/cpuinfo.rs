//! `/proc/cpuinfo`: processor descriptions (proc(5), "/proc/cpuinfo").
//!
//! There is no common schema; each architecture prints its own keys:
//!
//! | arch | per-CPU block starts with | model key | topology keys |
//! |---|---|---|---|
//! | x86, ia64 | `processor : N` | `model name` | `physical id`, `core id` |
//! | arm, aarch64 | `processor : N` (old ARM: a global `Processor :` model line) | `model name` | — |
//! | ppc, ppc64 | `processor : N` | `cpu`, `clock` | — |
//! | riscv64 | `processor : N` | `uarch` | — |
//! | LoongArch, MIPS | `processor : N` (after a global `system type` block) | `Model Name`, `cpu model` | `package`, `core` |
//! | s390x | `processor N: version = ...` lines, then `cpu number : N` blocks | — | — |
//! | sparc64 | `CPUN: online` lines (no processor blocks) | global `cpu` | — |
//!
//! Keys outside any per-CPU block (headers and trailing `Hardware`/`platform` blocks) are
//! global; a processor without its own model takes the global one.

use crate::error::{Error, ErrorKind, Result};
use crate::table::{Summary, Table};
use crate::text::{parse_decimal, parse_u64, trim};
use crate::text::{Line, LineRecords, Text};

/// One `key : value` line, or the blank line that ends a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Record<'a> {
    /// `key : value` (both trimmed; a value may itself contain `:`).
    Entry {
        /// The key.
        key: Text<'a>,
        /// The value, possibly empty.
        value: Text<'a>,
    },
    /// A blank line: the end of a block.
    BlockEnd,
}

/// Iterator over the lines of `/proc/cpuinfo`; stops after the first error.
pub type Records<'a> = LineRecords<'a, Record<'a>>;

/// Iterates the lines of a `/proc/cpuinfo` file.
///
/// ```
/// use ferrostat_core::procfs::cpuinfo::{records, Record};
/// let mut it = records(b"model name\t: Hygon C86-4G (OPN:5435)\n\n");
/// let Some(Ok(Record::Entry { value, .. })) = it.next() else { panic!() };
/// assert_eq!(value.as_bytes(), b"Hygon C86-4G (OPN:5435)"); // split at the first colon only
/// assert!(matches!(it.next(), Some(Ok(Record::BlockEnd))));
/// ```
pub fn records(input: &[u8]) -> Records<'_> {
    LineRecords::new(input, parse_line)
}

fn parse_line<'a>(line: &Line<'a>) -> Result<Option<Record<'a>>> {
    let bytes = trim(line.bytes);
    if bytes.is_empty() {
        return Ok(Some(Record::BlockEnd));
    }
    Ok(Some(match split_key_value(bytes, b':') {
        Some((key, value)) => Record::Entry {
            key: Text(key),
            value: Text(value),
        },
        // A key with no colon (s390's `cpu MHz dynamic` blocks have none, but
        // be lenient): the whole line is the key.
        None => Record::Entry {
            key: Text(bytes),
            value: Text(b""),
        },
    }))
}

/// One logical processor.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Processor<'a> {
    /// Logical processor id (`processor`, s390 `processor N:`/`cpu number`, sparc `CPUN:`).
    pub id: u32,
    /// Socket: x86 `physical id`, LoongArch/MIPS `package`. `None` when not printed.
    pub socket: Option<u32>,
    /// Core within the socket: x86 `core id`, LoongArch/MIPS `core`.
    pub core: Option<u32>,
    /// Model: its own line, else the global one.
    pub model: Text<'a>,
    /// Vendor: x86 `vendor_id`, ia64 `vendor`, arm `CPU implementer`.
    pub vendor: Text<'a>,
    /// Current clock in MHz (`cpu MHz`, `CPU MHz`, ppc `clock`).
    pub mhz: Option<f64>,
}

/// `/proc/cpuinfo` parsed, with up to `N` processors borrowed from the input.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CpuInfo<'a, const N: usize> {
    /// Logical processors in file order.
    pub processors: Table<Processor<'a>, N>,
    /// The global model line (old ARM `Processor`, sparc `cpu`), if any.
    pub model: Text<'a>,
    /// The global vendor (s390 `vendor_id`), if any.
    pub vendor: Text<'a>,
    /// Board or platform (`Hardware`, `system type`, `platform`, `machine`).
    pub hardware: Text<'a>,
    /// The processor count the file declares itself (s390 `# processors`, sparc
    /// `ncpus active`), when it does.
    pub declared: Option<u32>,
}

impl<'a, const N: usize> CpuInfo<'a, N> {
    /// Logical processors: those listed, or the declared count when larger.
    pub fn logical(&self) -> u32 {
        let listed = self.processors.len() as u32 + self.processors.dropped();
        listed.max(self.declared.unwrap_or(0))
    }

    /// Distinct sockets (1 when the file prints no topology).
    pub fn sockets(&self) -> u32 {
        let p = self.processors.as_slice();
        let mut n = 0;
        for (i, cpu) in p.iter().enumerate() {
            if !p[..i].iter().any(|q| q.socket == cpu.socket) {
                n += 1;
            }
        }
        n.max(1)
    }

    /// Distinct physical cores: (socket, core) pairs, or one per processor when the file
    /// prints no core ids.
    pub fn cores(&self) -> u32 {
        let p = self.processors.as_slice();
        let mut n = 0;
        for (i, cpu) in p.iter().enumerate() {
            let dup = cpu.core.is_some()
                && p[..i]
                    .iter()
                    .any(|q| q.socket == cpu.socket && q.core == cpu.core);
            if !dup {
                n += 1;
            }
        }
        n
    }

    /// The processors of one socket (`None`: files without topology).
    pub fn in_socket(&self, socket: Option<u32>) -> impl Iterator<Item = &Processor<'a>> {
        self.processors.iter().filter(move |p| p.socket == socket)
    }
}

/// Parses `/proc/cpuinfo` into `out` (cleared first).
///
/// # Errors
/// Only `UnexpectedEnd` for an empty input: every non-empty line is a valid entry.
///
/// ```
/// use ferrostat_core::procfs::cpuinfo::{parse_into, CpuInfo};
/// let input = b"processor\t: 0\nphysical id\t: 0\ncore id\t\t: 0\nmodel name\t: AMD EPYC\n\n\
///               processor\t: 1\nphysical id\t: 0\ncore id\t\t: 0\nmodel name\t: AMD EPYC\n\n";
/// let mut info = CpuInfo::<4>::default();
/// parse_into(input, &mut info)?;
/// assert_eq!((info.logical(), info.cores(), info.sockets()), (2, 1, 1));
/// assert_eq!(info.processors.as_slice()[1].model.as_bytes(), b"AMD EPYC");
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
pub fn parse_into<'a, const N: usize>(
    input: &'a [u8],
    out: &mut CpuInfo<'a, N>,
) -> Result<Summary> {
    // Field by field: assigning a whole default would move an N-entry table.
    out.processors.clear();
    out.model = Text::default();
    out.vendor = Text::default();
    out.hardware = Text::default();
    out.declared = None;
    if input.is_empty() {
        return Err(Error::new(ErrorKind::UnexpectedEnd, 0));
    }
    let mut current: Option<Processor<'a>> = None;
    // Whether `current`, while open, was opened by a `processor` line (see `block_start`).
    let mut in_processor_block = false;
    let mut max_id: Option<u32> = None;
    for record in records(input) {
        let (key, value) = match record? {
            Record::BlockEnd => {
                finish(out, current.take(), &mut max_id);
                continue;
            }
            Record::Entry { key, value } => (key.0, value),
        };
        if let Some(id) = block_start(key, value.0, in_processor_block && current.is_some()) {
            finish(out, current.take(), &mut max_id);
            current = Some(Processor {
                id,
                ..Processor::default()
            });
            in_processor_block = key == b"processor";
            continue;
        }
        if let Some(id) = one_line_processor(key) {
            // s390 `processor N: ...` and sparc `CPUN: online` describe a CPU in one line.
            finish(out, current.take(), &mut max_id);
            finish(
                out,
                Some(Processor {
                    id,
                    ..Processor::default()
                }),
                &mut max_id,
            );
            continue;
        }
        let number = || parse_u64(value.0).and_then(|v| u32::try_from(v).ok());
        match current.as_mut() {
            Some(p) => match key {
                b"physical id" | b"package" => p.socket = number(),
                b"core id" | b"core" => p.core = number(),
                b"model name" | b"Model Name" | b"cpu model" | b"cpu" | b"uarch" => p.model = value,
                b"vendor_id" | b"vendor" | b"CPU implementer" => p.vendor = value,
                b"cpu MHz" | b"CPU MHz" | b"clock" | b"cpu MHz dynamic" => {
                    let v = value.0.strip_suffix(b"MHz").unwrap_or(value.0);
                    p.mhz = parse_decimal(v);
                }
                // Keys of a trailing global block that follows without a blank line.
                b"Hardware" | b"Revision" | b"Serial" | b"timebase" | b"platform" => {
                    finish(out, current.take(), &mut max_id);
                    global(out, key, value, number());
                }
                _ => {}
            },
            None => global(out, key, value, number()),
        }
    }
    finish(out, current, &mut max_id);
    if out.processors.is_empty() && out.processors.dropped() == 0 && !out.model.0.is_empty() {
        // Uniprocessor ARM kernels print no `processor` line at all, only the model.
        out.processors.push(Processor {
            id: 0,
            ..Processor::default()
        });
    }
    for p in out.processors.as_mut_slice() {
        if p.model.0.is_empty() {
            p.model = out.model;
        }
        if p.vendor.0.is_empty() {
            p.vendor = out.vendor;
        }
    }
    Ok(out.processors.summary())
}

/// The id of a CPU whose block this line opens: `processor : N`, or s390's
/// `cpu number : N`. ia64 prints a `cpu number` line inside every `processor` block as
/// well (0 on all 512 CPUs of util-linux's dump), and there it opens nothing: taken as a
/// block of its own, it would take every CPU's topology and clock to CPU 0.
fn block_start(key: &[u8], value: &[u8], in_processor_block: bool) -> Option<u32> {
    let number = || parse_u64(value).and_then(|v| u32::try_from(v).ok());
    match key {
        b"processor" => number(),
        b"cpu number" if !in_processor_block => number(),
        _ => None,
    }
}

/// s390 `processor N` and sparc `CPUN` keys.
fn one_line_processor(key: &[u8]) -> Option<u32> {
    let digits = key
        .strip_prefix(b"processor ")
        .or_else(|| key.strip_prefix(b"CPU"))?;
    parse_u64(digits).and_then(|v| u32::try_from(v).ok())
}

fn global<'a, const N: usize>(
    out: &mut CpuInfo<'a, N>,
    key: &[u8],
    value: Text<'a>,
    number: Option<u32>,
) {
    match key {
        b"Processor" | b"model name" | b"cpu" | b"cpu model" | b"Model Name"
            if out.model.0.is_empty() =>
        {
            out.model = value
        }
        b"vendor_id" | b"vendor" => out.vendor = value,
        b"Hardware" | b"system type" | b"platform" | b"machine" if out.hardware.0.is_empty() => {
            out.hardware = value
        }
        b"# processors" | b"ncpus active" => out.declared = number,
        _ => {}
    }
}

/// Stores a finished processor; a repeated id (s390 lists each CPU twice) fills in the
/// first entry instead of adding one.
fn finish<'a, const N: usize>(
    out: &mut CpuInfo<'a, N>,
    p: Option<Processor<'a>>,
    max_id: &mut Option<u32>,
) {
    let Some(p) = p else { return };
    // Ids almost always ascend, so only an id at or below the highest seen can repeat.
    if max_id.is_some_and(|m| p.id <= m) {
        if let Some(q) = out
            .processors
            .as_mut_slice()
            .iter_mut()
            .find(|q| q.id == p.id)
        {
            q.socket = q.socket.or(p.socket);
            q.core = q.core.or(p.core);
            q.mhz = q.mhz.or(p.mhz);
            if q.model.0.is_empty() {
                q.model = p.model;
            }
            if q.vendor.0.is_empty() {
                q.vendor = p.vendor;
            }
            return;
        }
        if out.processors.dropped() > 0 {
            // A repeat of a processor that did not fit the first time: already counted.
            return;
        }
    }
    *max_id = Some(max_id.map_or(p.id, |m| m.max(p.id)));
    out.processors.push(p);
}

/// Splits `key<sep>value` at the first `sep`, trimming blanks around both halves.
#[inline]
fn split_key_value(line: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let at = memchr::memchr(sep, line)?;
    Some((trim(&line[..at]), trim(&line[at + 1..])))
}
