//! `/proc/net/snmp6`: the IPv6 stack's counters, one `Name value` pair a line
//! (`snmp6_seq_show` in net/ipv6/proc.c; RFC 4293 names prefixed with `Ip6`, `Icmp6`,
//! `Udp6` or `UdpLite6`).

use crate::error::{Error, ErrorKind, Result};
use crate::text::{parse_u64, Line, LineRecords, Text};

/// One counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Counter<'a> {
    /// The protocol: the name up to and including its first `6` (`Ip6`, `Icmp6`,
    /// `Udp6`, `UdpLite6`), as node_exporter splits it.
    pub section: Text<'a>,
    /// The rest of the name (`InReceives`, `InType1`).
    pub name: Text<'a>,
    /// Its value.
    pub value: u64,
}

/// Iterator over the counters; stops after the first error.
pub type Records<'a> = LineRecords<'a, Counter<'a>>;

/// Iterates every counter of `/proc/net/snmp6`.
///
/// ```
/// let c = ferrostat_core::procfs::net_snmp6::records(b"Ip6InReceives   \t7\n").next().unwrap()?;
/// assert_eq!((c.section.as_bytes(), c.name.as_bytes(), c.value), (&b"Ip6"[..], &b"InReceives"[..], 7));
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
pub fn records(input: &[u8]) -> Records<'_> {
    LineRecords::new(input, parse_line)
}

fn parse_line<'a>(line: &Line<'a>) -> Result<Option<Counter<'a>>> {
    let mut fields = line.fields();
    let Some((at, key)) = fields.next_token() else {
        return Ok(None);
    };
    let (v_at, value) = fields.token()?;
    let value = parse_u64(value).ok_or(Error::new(ErrorKind::BadInteger, v_at))?;
    if let Some((extra, _)) = fields.next_token() {
        return Err(Error::new(ErrorKind::BadLine, extra));
    }
    let Some(six) = memchr::memchr(b'6', key) else {
        return Err(Error::new(ErrorKind::BadLine, at));
    };
    Ok(Some(Counter {
        section: Text(&key[..=six]),
        name: Text(&key[six + 1..]),
        value,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_exporter_fixture_lines_and_errors() {
        // node_exporter's fixture proc/net/snmp6, three of its lines.
        let input = b"Ip6InReceives                   \t7\nIcmp6OutMsgs                    \t8\nUdpLite6InErrors                \t0\n";
        let mut it = records(input);
        let first = it.next().unwrap().unwrap();
        assert_eq!((first.section.as_bytes(), first.value), (&b"Ip6"[..], 7));
        let second = it.next().unwrap().unwrap();
        assert_eq!(
            (second.section.as_bytes(), second.name.as_bytes()),
            (&b"Icmp6"[..], &b"OutMsgs"[..])
        );
        assert_eq!(it.next().unwrap().unwrap().section.as_bytes(), b"UdpLite6");
        assert!(it.next().is_none());
        let e = records(b"Ip6InReceives x\n").next().unwrap().unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::BadInteger, 14));
        let e = records(b"NoSix 1\n").next().unwrap().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadLine);
    }
}
