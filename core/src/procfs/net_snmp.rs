//! `/proc/net/snmp`: SNMP MIB-II counters of the IP, ICMP, TCP and UDP stacks (proc(5),
//! "/proc/net/snmp"; RFC 1213 / RFC 4293 names).
//!
//! Each section is a header line of names and a value line with the same prefix:
//!
//! ```text
//! Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens ...
//! Tcp: 1 200 120000 -1 1529 ...
//! ```
//!
//! Sections and columns vary (`IcmpMsg` is absent until ICMP traffic; `Udp: IgnoredMulti`
//! since 3.19), so values are looked up by name. `MaxConn` is -1, so values are `i64`.

use crate::error::{Error, ErrorKind, Result};
use crate::text::{parse_i64, parse_u64, Fields, Line, Lines, Text};

/// One counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Counter<'a> {
    /// Section (`Ip`, `Icmp`, `IcmpMsg`, `Tcp`, `Udp`, `UdpLite`).
    pub section: Text<'a>,
    /// Counter name (`InReceives`).
    pub name: Text<'a>,
    /// Its value.
    pub value: i64,
}

/// Iterator over all counters, section by section; stops after the first error.
#[derive(Debug)]
pub struct Records<'a> {
    input: &'a [u8],
    lines: Lines<'a>,
    section: &'a [u8],
    names: Option<(Fields<'a>, Fields<'a>)>,
    failed: bool,
}

/// Iterates every counter of a `/proc/net/snmp` file.
///
/// ```
/// let input = b"Tcp: ActiveOpens CurrEstab\nTcp: 1529 4\n";
/// let c = ferrostat_core::procfs::net_snmp::records(input).nth(1).unwrap()?;
/// assert_eq!((c.section.as_bytes(), c.name.as_bytes(), c.value), (&b"Tcp"[..], &b"CurrEstab"[..], 4));
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
pub fn records(input: &[u8]) -> Records<'_> {
    Records {
        input,
        lines: Lines::new(input),
        section: b"",
        names: None,
        failed: false,
    }
}

fn split_prefix<'a>(line: &Line<'a>) -> Result<(&'a [u8], Fields<'a>)> {
    let colon = memchr::memchr(b':', line.bytes).ok_or_else(|| {
        if line.terminated {
            Error::new(ErrorKind::BadLine, line.offset)
        } else {
            Error::new(ErrorKind::UnexpectedEnd, line.offset + line.bytes.len())
        }
    })?;
    let rest = Line {
        offset: line.offset + colon + 1,
        bytes: &line.bytes[colon + 1..],
        terminated: line.terminated,
    };
    Ok((&line.bytes[..colon], rest.fields()))
}

impl<'a> Records<'a> {
    fn step(&mut self) -> Result<Option<Counter<'a>>> {
        loop {
            if let Some((names, values)) = self.names.as_mut() {
                match (names.next_token(), values.next_token()) {
                    (Some((_, name)), Some((at, v))) => {
                        return Ok(Some(Counter {
                            section: Text(self.section),
                            name: Text(name),
                            value: value(v, at)?,
                        }));
                    }
                    (None, None) => self.names = None,
                    (Some(_), None) => return Err(values.missing()),
                    (None, Some((at, _))) => return Err(Error::new(ErrorKind::LengthMismatch, at)),
                }
            }
            let Some(header) = self.lines.next() else {
                return Ok(None);
            };
            if header.bytes.is_empty() {
                continue;
            }
            let (section, names) = split_prefix(&header)?;
            let Some(value_line) = self.lines.next() else {
                return Err(Error::new(ErrorKind::UnexpectedEnd, self.lines.position()));
            };
            let (value_section, values) = split_prefix(&value_line)?;
            if value_section != section {
                return Err(Error::new(ErrorKind::BadLine, value_line.offset));
            }
            self.section = section;
            self.names = Some((names, values));
        }
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Counter<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.step() {
            Ok(c) => c.map(Ok),
            Err(e) => {
                self.failed = true;
                Some(crate::text::cut_aware_input(self.input, Err(e)))
            }
        }
    }
}

macro_rules! snmp_sections {
    ($( $(#[$smeta:meta])* $section:ident = $key:literal { $( $(#[$fmeta:meta])* $field:ident = $name:literal, )+ } )+) => {
        $(
            $(#[$smeta])*
            #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
            #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
            #[cfg_attr(feature = "defmt", derive(defmt::Format))]
            pub struct $section {
                $( $(#[$fmeta])* pub $field: Option<i64>, )+
            }

            impl $section {
                fn set(&mut self, name: &[u8], value: i64) {
                    match name {
                        $( $name => self.$field = Some(value), )+
                        _ => {}
                    }
                }
            }
        )+

        /// The counters a monitor needs, by section. Absent sections or columns are `None`.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[allow(non_snake_case)]
        pub struct Snmp {
            $( #[doc = concat!("The `", stringify!($section), "` section.")] pub $section: $section, )+
        }

    };
}

snmp_sections! {
    /// `Ip:` counters (RFC 4293 ipSystemStats).
    Ip = b"Ip" {
        /// `Forwarding`: 1 forwarding, 2 not.
        forwarding = b"Forwarding",
        /// `InReceives`.
        in_receives = b"InReceives",
        /// `InHdrErrors`.
        in_hdr_errors = b"InHdrErrors",
        /// `InAddrErrors`.
        in_addr_errors = b"InAddrErrors",
        /// `ForwDatagrams`.
        forw_datagrams = b"ForwDatagrams",
        /// `InDiscards`.
        in_discards = b"InDiscards",
        /// `InDelivers`.
        in_delivers = b"InDelivers",
        /// `OutRequests`.
        out_requests = b"OutRequests",
        /// `OutDiscards`.
        out_discards = b"OutDiscards",
        /// `OutNoRoutes`.
        out_no_routes = b"OutNoRoutes",
    }
    /// `Icmp:` counters.
    Icmp = b"Icmp" {
        /// `InMsgs`.
        in_msgs = b"InMsgs",
        /// `InErrors`.
        in_errors = b"InErrors",
        /// `InDestUnreachs`.
        in_dest_unreachs = b"InDestUnreachs",
        /// `OutMsgs`.
        out_msgs = b"OutMsgs",
        /// `OutErrors`.
        out_errors = b"OutErrors",
        /// `OutDestUnreachs`.
        out_dest_unreachs = b"OutDestUnreachs",
    }
    /// `Tcp:` counters (RFC 4022).
    Tcp = b"Tcp" {
        /// `ActiveOpens`.
        active_opens = b"ActiveOpens",
        /// `PassiveOpens`.
        passive_opens = b"PassiveOpens",
        /// `AttemptFails`.
        attempt_fails = b"AttemptFails",
        /// `EstabResets`.
        estab_resets = b"EstabResets",
        /// `CurrEstab`: a gauge.
        curr_estab = b"CurrEstab",
        /// `InSegs`.
        in_segs = b"InSegs",
        /// `OutSegs`.
        out_segs = b"OutSegs",
        /// `RetransSegs`.
        retrans_segs = b"RetransSegs",
        /// `InErrs`.
        in_errs = b"InErrs",
        /// `OutRsts`.
        out_rsts = b"OutRsts",
        /// `InCsumErrors`.
        in_csum_errors = b"InCsumErrors",
        /// `MaxConn`: -1 means no limit.
        max_conn = b"MaxConn",
    }
    /// `Udp:` counters (RFC 4113).
    Udp = b"Udp" {
        /// `InDatagrams`.
        in_datagrams = b"InDatagrams",
        /// `NoPorts`.
        no_ports = b"NoPorts",
        /// `InErrors`.
        in_errors = b"InErrors",
        /// `OutDatagrams`.
        out_datagrams = b"OutDatagrams",
        /// `RcvbufErrors`.
        rcvbuf_errors = b"RcvbufErrors",
        /// `SndbufErrors`.
        sndbuf_errors = b"SndbufErrors",
        /// `InCsumErrors`.
        in_csum_errors = b"InCsumErrors",
        /// `IgnoredMulti` (since 3.19).
        ignored_multi = b"IgnoredMulti",
    }
}

/// Parses `/proc/net/snmp`.
///
/// # Errors
/// `UnexpectedEnd` for empty or cut input; `LengthMismatch` when a value line has more
/// values than its header has names; `BadLine`/`BadInteger`/`MissingField` otherwise.
///
/// ```
/// let s = ferrostat_core::procfs::net_snmp::parse(b"Tcp: MaxConn CurrEstab\nTcp: -1 4\n")?;
/// assert_eq!((s.Tcp.max_conn, s.Tcp.curr_estab, s.Udp.in_datagrams), (Some(-1), Some(4), None));
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
pub fn parse(input: &[u8]) -> Result<Snmp> {
    crate::text::cut_aware_input(input, parse_whole(input))
}

fn parse_whole(input: &[u8]) -> Result<Snmp> {
    if input.is_empty() {
        return Err(Error::new(ErrorKind::UnexpectedEnd, 0));
    }
    let mut out = Snmp::default();
    let mut lines = Lines::new(input);
    while let Some(header) = lines.next() {
        if header.bytes.is_empty() {
            continue;
        }
        let (section, names) = split_prefix(&header)?;
        let value_line = lines
            .next()
            .ok_or(Error::new(ErrorKind::UnexpectedEnd, input.len()))?;
        let (value_section, values) = split_prefix(&value_line)?;
        if value_section != section {
            return Err(Error::new(ErrorKind::BadLine, value_line.offset));
        }
        // The section is chosen once per pair, not once per counter.
        let set = setter(section);
        fill(names, values, |n, v| set(&mut out, n, v))?;
    }
    Ok(out)
}

/// Where a section's counters go: its struct's `set`, or nowhere for the sections the
/// struct does not keep (`IcmpMsg`, `UdpLite`).
fn setter(section: &[u8]) -> fn(&mut Snmp, &[u8], i64) {
    match section {
        b"Ip" => |o, n, v| o.Ip.set(n, v),
        b"Icmp" => |o, n, v| o.Icmp.set(n, v),
        b"Tcp" => |o, n, v| o.Tcp.set(n, v),
        b"Udp" => |o, n, v| o.Udp.set(n, v),
        _ => |_, _, _| {},
    }
}

/// Pairs each name with its value, which must match in number.
fn fill(
    mut names: Fields<'_>,
    mut values: Fields<'_>,
    mut set: impl FnMut(&[u8], i64),
) -> Result<()> {
    loop {
        match (names.next_token(), values.next_token()) {
            (Some((_, name)), Some((at, v))) => set(name, value(v, at)?),
            (None, None) => return Ok(()),
            (Some(_), None) => return Err(values.missing()),
            (None, Some((at, _))) => return Err(Error::new(ErrorKind::LengthMismatch, at)),
        }
    }
}

/// A counter value; u64 counters above i64::MAX keep their bits.
fn value(v: &[u8], at: usize) -> Result<i64> {
    parse_i64(v)
        .or_else(|| parse_u64(v).map(|u| u as i64))
        .ok_or(Error::new(ErrorKind::BadInteger, at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_corpus::{files, with};

    #[test]
    fn real_files_and_edge_shapes() {
        let corpus = files("snmp", |d| d.ends_with("net"));
        let real = corpus.len();
        assert!(real >= 5, "{real}");
        let inputs = with(
            corpus,
            &[
                b"Tcp: MaxConn CurrEstab\nTcp: -1 7\n",
                b"Tcp: MaxConn CurrEstab\nTcp: -1 7 8\n",
                b"Tcp: MaxConn CurrEstab\nTcp: -1\n",
                b"Tcp: MaxConn CurrEstab\nUdp: -1 7\n",
                b"Tcp: MaxConn  CurrEstab\nTcp: -1 7\n",
                b"Tcp: MaxConn\tCurrEstab\nTcp: -1 7\n",
                b"Tcp: MaxConn CurrEstab\nTcp: -1 18446744073709551615\n",
                b"Tcp: MaxConn CurrEstab\nTcp: -9223372036854775809 1\n",
                b"Tcp: MaxConn CurrEstab\nTcp: -1 7",
                b"Tcp: MaxConn CurrEstab\n",
                b"",
            ],
        );
        // Every kernel-written file, and the well-formed hostile ones.
        let parsed = inputs.iter().filter(|i| parse(i).is_ok()).count();
        assert!(parsed >= real + 2, "{parsed}");
        let s = parse(b"Tcp: MaxConn CurrEstab\nTcp: -1 18446744073709551615\n").unwrap();
        assert_eq!((s.Tcp.max_conn, s.Tcp.curr_estab), (Some(-1), Some(-1)));
    }
}
