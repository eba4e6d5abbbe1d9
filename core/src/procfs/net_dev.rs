//! `/proc/net/dev`: per-interface network counters (proc(5), "/proc/net/dev").
//!
//! Two header lines, then `name: 8 receive counters 8 transmit counters`. Names can be
//! longer than the header column (`vethf345468`) and contain `:` (aliases such as
//! `team0:1`), and old kernels or wide counters leave no space after the colon
//! (`eth0:4046496815 ...`), so the name ends at the last `:` of the line.

use crate::error::{Error, ErrorKind, Result};
use crate::table::{Summary, Table};
use crate::text::{trim, Line, LineRecords, Text};

/// Counters of one interface.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Interface<'a> {
    /// Interface name as the kernel wrote it.
    pub name: Text<'a>,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Receive errors.
    pub rx_errs: u64,
    /// Received packets dropped.
    pub rx_drop: u64,
    /// Receive FIFO overruns.
    pub rx_fifo: u64,
    /// Receive framing errors.
    pub rx_frame: u64,
    /// Compressed packets received.
    pub rx_compressed: u64,
    /// Multicast frames received.
    pub rx_multicast: u64,
    /// Bytes transmitted.
    pub tx_bytes: u64,
    /// Packets transmitted.
    pub tx_packets: u64,
    /// Transmit errors.
    pub tx_errs: u64,
    /// Transmitted packets dropped.
    pub tx_drop: u64,
    /// Transmit FIFO overruns.
    pub tx_fifo: u64,
    /// Collisions.
    pub tx_colls: u64,
    /// Carrier losses.
    pub tx_carrier: u64,
    /// Compressed packets transmitted.
    pub tx_compressed: u64,
}

/// Iterator over the interfaces of `/proc/net/dev`; stops after the first error.
pub type Records<'a> = LineRecords<'a, Interface<'a>>;

/// Iterates the interfaces of a `/proc/net/dev` file (the header lines are skipped).
///
/// ```
/// let input = b"Inter-|   Receive\n face |bytes\n  eth0:4046496815 3 0 0 0 0 0 0 100 2 0 0 0 0 0 0\n";
/// let eth0 = ferrostat_core::procfs::net_dev::records(input).next().unwrap()?;
/// assert_eq!(eth0.name.as_bytes(), b"eth0");
/// assert_eq!(eth0.rx_bytes, 4046496815);
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
pub fn records(input: &[u8]) -> Records<'_> {
    LineRecords::new(input, parse_line)
}

fn parse_line<'a>(line: &Line<'a>) -> Result<Option<Interface<'a>>> {
    let bytes = line.bytes;
    let Some(colon) = memchr::memrchr(b':', bytes) else {
        // The two header lines have `|`s and no colon; the colon is looked for first, as
        // every other line has one.
        if memchr::memchr(b'|', bytes).is_some() || trim(bytes).is_empty() {
            return Ok(None);
        }
        return Err(if line.terminated {
            Error::new(ErrorKind::BadLine, line.offset)
        } else {
            Error::new(ErrorKind::UnexpectedEnd, line.offset + bytes.len())
        });
    };
    let mut fields = Line {
        offset: line.offset + colon + 1,
        bytes: &bytes[colon + 1..],
        terminated: line.terminated,
    }
    .fields();
    let mut c = [0u64; 16];
    for slot in &mut c {
        *slot = fields.u64()?;
    }
    let [rx_bytes, rx_packets, rx_errs, rx_drop, rx_fifo, rx_frame, rx_compressed, rx_multicast, tx_bytes, tx_packets, tx_errs, tx_drop, tx_fifo, tx_colls, tx_carrier, tx_compressed] =
        c;
    Ok(Some(Interface {
        name: Text(trim(&bytes[..colon])),
        rx_bytes,
        rx_packets,
        rx_errs,
        rx_drop,
        rx_fifo,
        rx_frame,
        rx_compressed,
        rx_multicast,
        tx_bytes,
        tx_packets,
        tx_errs,
        tx_drop,
        tx_fifo,
        tx_colls,
        tx_carrier,
        tx_compressed,
    }))
}

/// Parses all interfaces into `out` (cleared first), borrowing names from `input`.
///
/// ```
/// use ferrostat_core::{procfs::net_dev, Table};
/// let input = b"Inter-|\n face |\n    lo: 3245 30 0 0 0 0 0 0 3245 30 0 0 0 0 0 0\n  eth0: 9 1 0 0 0 0 0 0 8 1 0 0 0 0 0 0\n";
/// let mut nics = Table::<_, 1>::new();
/// let summary = net_dev::parse_into(input, &mut nics)?;
/// assert_eq!((summary.parsed, summary.dropped), (1, 1)); // eth0 did not fit: counted
/// assert_eq!(nics.as_slice()[0].name.as_bytes(), b"lo");
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
///
/// # Errors
/// `UnexpectedEnd` on a cut final line; `BadInteger` or `MissingField` at the field.
pub fn parse_into<'a, const N: usize>(
    input: &'a [u8],
    out: &mut Table<Interface<'a>, N>,
) -> Result<Summary> {
    crate::text::fill_table(input, parse_line, out)
}
