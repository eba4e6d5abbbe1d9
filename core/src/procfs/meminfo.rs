//! `/proc/meminfo`: memory usage (proc(5), "/proc/meminfo").
//!
//! `Key:   value kB` lines; `HugePages_*` counts have no unit. Fields come and go with the
//! kernel version and configuration, so known ones are named and every line stays
//! reachable through [`records`]. Linux 2.4 files start with a `total: used: free:` table
//! in bytes, yielded as [`Record::LegacyTable`] rows.

use crate::error::{Error, ErrorKind, Result};
use crate::text::{known_fields, parse_u64, Line, LineRecords, Text};

/// The unit a value was printed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Unit {
    /// `kB`, which the kernel means as KiB (1024 bytes).
    KiB,
    /// No unit: a count (`HugePages_Total`).
    None,
}

/// One line of `/proc/meminfo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Record<'a> {
    /// `Key: value [kB]`.
    Field {
        /// The key, without its colon.
        name: Text<'a>,
        /// The value as printed.
        value: u64,
        /// Its unit.
        unit: Unit,
    },
    /// A row of the Linux 2.4 byte table (`Mem:  260579328 136073216 ...`) or its header.
    LegacyTable(Text<'a>),
}

impl Record<'_> {
    /// The value in bytes for a `kB` field, or the bare count.
    pub fn value_scaled(&self) -> Option<u64> {
        match *self {
            Record::Field {
                value,
                unit: Unit::KiB,
                ..
            } => Some(value.saturating_mul(1024)),
            Record::Field { value, .. } => Some(value),
            Record::LegacyTable(_) => None,
        }
    }
}

/// Iterator over the records of `/proc/meminfo`; stops after the first error.
pub type Records<'a> = LineRecords<'a, Record<'a>>;

/// Iterates every line of a `/proc/meminfo` file, known or not.
///
/// ```
/// use ferrostat_core::procfs::meminfo::{records, Record, Unit};
/// let mut it = records(b"MemTotal:       16318480 kB\nHugePages_Total:       0\n");
/// let Some(Ok(Record::Field { name, value, unit })) = it.next() else { panic!() };
/// assert_eq!((name.as_bytes(), value, unit), (&b"MemTotal"[..], 16318480, Unit::KiB));
/// assert!(matches!(it.next(), Some(Ok(Record::Field { unit: Unit::None, .. }))));
/// ```
pub fn records(input: &[u8]) -> Records<'_> {
    LineRecords::new(input, parse_line)
}

fn parse_line<'a>(line: &Line<'a>) -> Result<Option<Record<'a>>> {
    let bytes = line.bytes;
    let Some(colon) = memchr::memchr(b':', bytes) else {
        if bytes.iter().all(|b| crate::text::is_blank(*b)) {
            return Ok(None);
        }
        return Err(if line.terminated {
            Error::new(ErrorKind::BadLine, line.offset)
        } else {
            Error::new(ErrorKind::UnexpectedEnd, line.offset + bytes.len())
        });
    };
    let name = &bytes[..colon];
    let rest = &bytes[colon + 1..];
    // Fast path, nearly every line: `  <digits> kB` or `  <digits>`.
    if let Some(record) = fast_value(name, rest) {
        return Ok(Some(record));
    }
    let mut fields = Line {
        offset: line.offset + colon + 1,
        bytes: rest,
        terminated: line.terminated,
    }
    .fields();
    let (at, value) = fields.token()?;
    let Some(value) = parse_u64(value) else {
        // The 2.4 header row (`  total:  used: ...`) and the `Mem:`/`Swap:` rows.
        if name.first().is_some_and(|b| crate::text::is_blank(*b))
            || name == b"Mem"
            || name == b"Swap"
        {
            return Ok(Some(Record::LegacyTable(Text(bytes))));
        }
        return Err(Error::new(ErrorKind::BadInteger, at));
    };
    let unit = match fields.next_token() {
        None => Unit::None,
        Some((_, b"kB")) => Unit::KiB,
        Some((_, _)) if name == b"Mem" || name == b"Swap" => {
            return Ok(Some(Record::LegacyTable(Text(bytes))))
        }
        Some((at, _)) => return Err(Error::new(ErrorKind::BadLine, at)),
    };
    Ok(Some(Record::Field {
        name: Text(name),
        value,
        unit,
    }))
}

/// `  <digits> kB` or `  <digits>` in one pass; `None` for anything else (the general
/// path then reports it precisely).
#[inline]
fn fast_value<'a>(name: &'a [u8], rest: &[u8]) -> Option<Record<'a>> {
    let mut i = 0;
    while i < rest.len() && rest[i] == b' ' {
        i += 1;
    }
    let start = i;
    let (value, end) = crate::text::scan_digits(rest, i);
    i = end;
    if i == start || i - start >= 20 {
        return None;
    }
    let unit = match &rest[i..] {
        b" kB" => Unit::KiB,
        b"" => Unit::None,
        _ => return None,
    };
    Some(Record::Field {
        name: Text(name),
        value,
        unit,
    })
}

known_fields! {
    /// The well-known fields of `/proc/meminfo`, in kB as printed (`HugePages_*` are
    /// counts). Absent fields are `None`: `MemAvailable` only exists since 3.14, `Zswap`
    /// since 5.19, and configuration removes others.
    pub struct Meminfo: u64 {
        /// `MemTotal`: usable RAM.
        mem_total = b"MemTotal",
        /// `MemFree`: RAM left unused.
        mem_free = b"MemFree",
        /// `MemAvailable`: estimate of memory available for new work (since 3.14).
        mem_available = b"MemAvailable",
        /// `Buffers`: raw disk block cache.
        buffers = b"Buffers",
        /// `Cached`: page cache, without swap cache.
        cached = b"Cached",
        /// `SwapCached`: swapped-out memory back in RAM.
        swap_cached = b"SwapCached",
        /// `Active`: recently used memory.
        active = b"Active",
        /// `Inactive`: memory eligible for reclaim.
        inactive = b"Inactive",
        /// `Active(anon)`.
        active_anon = b"Active(anon)",
        /// `Inactive(anon)`.
        inactive_anon = b"Inactive(anon)",
        /// `Active(file)`.
        active_file = b"Active(file)",
        /// `Inactive(file)`.
        inactive_file = b"Inactive(file)",
        /// `Unevictable`.
        unevictable = b"Unevictable",
        /// `Mlocked`.
        mlocked = b"Mlocked",
        /// `SwapTotal`.
        swap_total = b"SwapTotal",
        /// `SwapFree`.
        swap_free = b"SwapFree",
        /// `Zswap`: memory used by the zswap compressed pool.
        zswap = b"Zswap",
        /// `Zswapped`: anonymous memory stored in zswap.
        zswapped = b"Zswapped",
        /// `Dirty`: waiting to be written back.
        dirty = b"Dirty",
        /// `Writeback`: being written back.
        writeback = b"Writeback",
        /// `AnonPages`: non-file-backed pages mapped into user space.
        anon_pages = b"AnonPages",
        /// `Mapped`: files mapped into memory.
        mapped = b"Mapped",
        /// `Shmem`: shared memory and tmpfs.
        shmem = b"Shmem",
        /// `KReclaimable`: kernel allocations it can reclaim.
        k_reclaimable = b"KReclaimable",
        /// `Slab`: in-kernel data structures cache.
        slab = b"Slab",
        /// `SReclaimable`: reclaimable part of Slab.
        s_reclaimable = b"SReclaimable",
        /// `SUnreclaim`.
        s_unreclaim = b"SUnreclaim",
        /// `KernelStack`.
        kernel_stack = b"KernelStack",
        /// `PageTables`.
        page_tables = b"PageTables",
        /// `NFS_Unstable`.
        nfs_unstable = b"NFS_Unstable",
        /// `Bounce`.
        bounce = b"Bounce",
        /// `WritebackTmp`.
        writeback_tmp = b"WritebackTmp",
        /// `CommitLimit`.
        commit_limit = b"CommitLimit",
        /// `Committed_AS`.
        committed_as = b"Committed_AS",
        /// `VmallocTotal` (34359738367 kB on x86_64: needs 64 bits).
        vmalloc_total = b"VmallocTotal",
        /// `VmallocUsed`.
        vmalloc_used = b"VmallocUsed",
        /// `VmallocChunk`.
        vmalloc_chunk = b"VmallocChunk",
        /// `Percpu`.
        percpu = b"Percpu",
        /// `HardwareCorrupted`.
        hardware_corrupted = b"HardwareCorrupted",
        /// `AnonHugePages`.
        anon_huge_pages = b"AnonHugePages",
        /// `ShmemHugePages`.
        shmem_huge_pages = b"ShmemHugePages",
        /// `ShmemPmdMapped`.
        shmem_pmd_mapped = b"ShmemPmdMapped",
        /// `FileHugePages`.
        file_huge_pages = b"FileHugePages",
        /// `FilePmdMapped`.
        file_pmd_mapped = b"FilePmdMapped",
        /// `CmaTotal`.
        cma_total = b"CmaTotal",
        /// `CmaFree`.
        cma_free = b"CmaFree",
        /// `HugePages_Total`: a count, not kB.
        huge_pages_total = b"HugePages_Total",
        /// `HugePages_Free`: a count.
        huge_pages_free = b"HugePages_Free",
        /// `HugePages_Rsvd`: a count.
        huge_pages_rsvd = b"HugePages_Rsvd",
        /// `HugePages_Surp`: a count.
        huge_pages_surp = b"HugePages_Surp",
        /// `Hugepagesize`.
        hugepagesize = b"Hugepagesize",
        /// `Hugetlb`.
        hugetlb = b"Hugetlb",
        /// `DirectMap4k`.
        direct_map_4k = b"DirectMap4k",
        /// `DirectMap2M`.
        direct_map_2m = b"DirectMap2M",
        /// `DirectMap4M` (32-bit x86).
        direct_map_4m = b"DirectMap4M",
        /// `DirectMap1G`.
        direct_map_1g = b"DirectMap1G",
    }
}

impl Meminfo {
    /// `mem_total - mem_available` in kB, falling back to free + buffers + cached before
    /// 3.14. `None` without `MemTotal`.
    pub fn used_kib(&self) -> Option<u64> {
        let total = self.mem_total()?;
        let available = self.mem_available().unwrap_or_else(|| {
            self.mem_free().unwrap_or(0) + self.buffers().unwrap_or(0) + self.cached().unwrap_or(0)
        });
        Some(total.saturating_sub(available))
    }
}

/// Parses a whole `/proc/meminfo`.
///
/// # Errors
/// `UnexpectedEnd` for an empty input or a cut final line; `BadInteger` or `BadLine` at
/// the offending field.
///
/// ```
/// let m = ferrostat_core::procfs::meminfo::parse(b"MemTotal: 100 kB\nMemFree: 40 kB\nNewField: 7 kB\n")?;
/// assert_eq!(m.mem_total(), Some(100));
/// assert_eq!(m.mem_available(), None);
/// assert_eq!(m.other_fields(), 1);
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
pub fn parse(input: &[u8]) -> Result<Meminfo> {
    if input.is_empty() {
        return Err(Error::new(ErrorKind::UnexpectedEnd, 0));
    }
    let mut out = Meminfo::default();
    let mut hint = 0;
    for record in records(input) {
        if let Record::Field { name, value, .. } = record? {
            out.set(name.as_bytes(), value, &mut hint);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_and_errors() {
        let m = parse(b"        total:    used:    free:\nMem:  260579328 136073216 124506112\nSwap:        0        0        0\nMemTotal:         254472 kB\n").unwrap();
        assert_eq!(m.mem_total(), Some(254472));
        let e = parse(b"MemTotal: 12 MB\n").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::BadLine, 13));
        let e = parse(b"MemTotal: 12 kB\nMemFr").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnexpectedEnd);
        let e = parse(b"MemTotal: x kB\n").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::BadInteger, 10));
        // A cut last line, and one with no newline at all.
        let m = parse(b"MemTotal: 12 kB\nMemFree: 3 kB").unwrap();
        assert_eq!((m.mem_total(), m.mem_free()), (Some(12), Some(3)));
        let e = parse(b"MemTotal: 12 kB\nMemFree: 3 k").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::UnexpectedEnd, 28));
        // Every line kind.
        let text = b"MemTotal:       16318480 kB\nHugePages_Total:       0\nNew_Thing:  7 kB\n";
        let m = parse(text).unwrap();
        assert_eq!((m.mem_total(), m.other_fields()), (Some(16318480), 1));
    }
}
