//! UDP datagrams out of packet captures (pcap and pcapng, read a block at a time with
//! pcap-parser) or a file holding one raw datagram.

use std::io::{Cursor, Read};
use std::net::IpAddr;
use std::ops::ControlFlow;

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{LegacyPcapReader, Linktype, PcapBlockOwned, PcapError, PcapNGReader};

/// One UDP datagram from a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured<'a> {
    /// Capture time (seconds, microseconds since the epoch); `None` for a raw file.
    pub timestamp: Option<(u64, u32)>,
    /// The UDP source address.
    pub source: Option<IpAddr>,
    /// The UDP payload.
    pub payload: &'a [u8],
}

/// What a capture held, beyond the datagrams.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Skipped {
    /// Frames that were not UDP to the wanted port.
    pub other_frames: usize,
    /// Frames of a link type this reader does not take apart.
    pub unknown_link: usize,
}

/// Why a capture could not be read.
#[derive(Debug)]
pub struct CaptureError(pub String);

impl From<std::io::Error> for CaptureError {
    fn from(e: std::io::Error) -> Self {
        CaptureError(e.to_string())
    }
}

/// A capture that cannot be read is input of the wrong form, for a command's I/O error.
impl From<CaptureError> for std::io::Error {
    fn from(e: CaptureError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e.0)
    }
}

impl std::fmt::Display for CaptureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The largest raw datagram: one UDP payload is never longer.
pub const MAX_DATAGRAM: usize = 65_535;

/// The largest capture block read: four times tcpdump's default snapshot length
/// (262,144), so every frame a capture tool writes fits, and a record header that lies
/// about its length is refused rather than read into memory.
pub const MAX_BLOCK: usize = 1 << 20;

/// The first four bytes of a pcap file (both byte orders, micro- and nanosecond
/// timestamps) and of a pcapng file's section header block.
const PCAP_MAGICS: [[u8; 4]; 4] = [
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    [0x4d, 0x3c, 0xb2, 0xa1],
];
const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// The most interfaces one pcapng section describes that are remembered: a real capture
/// has a few, and a section of nothing but descriptions must not grow memory unbounded.
const MAX_INTERFACES: usize = 4096;

/// A pcap file header's length.
const PCAP_HEADER: usize = 24;

/// Calls `each` with every UDP datagram to `port` (0: any) in `input`, in order, until
/// the input ends or `each` breaks. `input` is a pcap or pcapng capture, recognised by
/// its magic number, or else one raw datagram of at most [`MAX_DATAGRAM`] bytes.
///
/// A capture is read a block at a time through pcap-parser's streaming readers, so
/// memory stays at one [`MAX_BLOCK`] buffer whatever the capture's length, and a live
/// capture (`tcpdump -U -w - | ferrostat-agent sflow decode -`) is decoded as it arrives.
/// A capture cut short inside a block, or with a block longer than [`MAX_BLOCK`], is an
/// error naming the block's byte offset, after every datagram before it.
pub fn for_each_udp_datagram(
    mut input: impl Read,
    port: u16,
    mut each: impl FnMut(Captured<'_>) -> ControlFlow<()>,
) -> Result<Skipped, CaptureError> {
    let mut head = Vec::new();
    input.by_ref().take(4).read_to_end(&mut head)?;
    let magic: Option<[u8; 4]> = head.as_slice().try_into().ok();
    match magic {
        Some(m) if PCAP_MAGICS.contains(&m) => {
            read_head(&mut input, &mut head, PCAP_HEADER)?;
            let reader = LegacyPcapReader::new(MAX_BLOCK, Cursor::new(head).chain(input))
                .map_err(|e| unreadable(0, &e))?;
            drain(reader, port, each)
        }
        Some(PCAPNG_MAGIC) => {
            // The section header's length, in the byte order its byte-order magic gives.
            read_head(&mut input, &mut head, 12)?;
            let length = [head[4], head[5], head[6], head[7]];
            let length = match head[8..12] {
                [0x1a, 0x2b, 0x3c, 0x4d] => u32::from_be_bytes(length),
                _ => u32::from_le_bytes(length),
            } as usize;
            if length > MAX_BLOCK {
                return Err(too_long(0));
            }
            read_head(&mut input, &mut head, length.max(12))?;
            let reader = PcapNGReader::new(MAX_BLOCK, Cursor::new(head).chain(input))
                .map_err(|e| unreadable(0, &e))?;
            drain(reader, port, each)
        }
        _ => {
            input
                .take((MAX_DATAGRAM + 1 - head.len()) as u64)
                .read_to_end(&mut head)?;
            if head.len() > MAX_DATAGRAM {
                return Err(CaptureError(format!(
                    "neither a pcap nor a pcapng capture, and longer than one datagram can be \
                     ({MAX_DATAGRAM} bytes)"
                )));
            }
            // An empty input holds no datagram, rather than one of no bytes.
            if !head.is_empty() {
                let _ = each(Captured {
                    timestamp: None,
                    source: None,
                    payload: &head,
                });
            }
            Ok(Skipped::default())
        }
    }
}

/// Reads `input` until `head` holds `len` bytes or the input ends. The streaming readers
/// parse the file header from their first `read`, which a pipe may answer with a few
/// bytes; the header read here is handed to them whole.
fn read_head(input: &mut impl Read, head: &mut Vec<u8>, len: usize) -> Result<(), CaptureError> {
    let missing = len.saturating_sub(head.len()) as u64;
    input.take(missing).read_to_end(head)?;
    if head.len() < len {
        return Err(cut_short(0));
    }
    Ok(())
}

/// Every block of a capture through `take`, refilling the reader's buffer as it drains.
fn drain(
    mut reader: impl PcapReaderIterator,
    port: u16,
    mut each: impl FnMut(Captured<'_>) -> ControlFlow<()>,
) -> Result<Skipped, CaptureError> {
    let mut skipped = Skipped::default();
    // pcap: the file's link type and whether its timestamps are in nanoseconds.
    let mut link = Linktype::NULL;
    let mut nanos = false;
    // pcapng: each interface's link type, timestamp offset and resolution, by index,
    // for the current section.
    let mut interfaces = Vec::new();
    loop {
        let at = reader.consumed();
        let buffered = reader.data().len();
        match reader.next() {
            Ok((size, block)) => {
                let captured = match block {
                    PcapBlockOwned::LegacyHeader(header) => {
                        link = header.network;
                        nanos = header.is_nanosecond_precision();
                        None
                    }
                    PcapBlockOwned::Legacy(frame) => {
                        let usecs = if nanos {
                            frame.ts_usec / 1000
                        } else {
                            frame.ts_usec
                        };
                        let ts = (frame.ts_sec as u64, usecs);
                        take(&mut skipped, link, frame.data, ts, port)
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => {
                        interfaces.clear();
                        None
                    }
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        // Packets of interfaces past the cap count as of unknown link.
                        if interfaces.len() < MAX_INTERFACES {
                            interfaces.push((
                                idb.linktype,
                                idb.ts_offset(),
                                ts_resolution(idb.if_tsresol),
                            ));
                        }
                        None
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        match interfaces.get(epb.if_id as usize) {
                            Some(&(link, offset, resolution)) => {
                                let time = epb_time(epb.ts_high, epb.ts_low, offset, resolution);
                                // The captured bytes, not the block's padding after them.
                                let caplen = (epb.caplen as usize).min(epb.data.len());
                                take(&mut skipped, link, &epb.data[..caplen], time, port)
                            }
                            None => {
                                skipped.unknown_link += 1;
                                None
                            }
                        }
                    }
                    PcapBlockOwned::NG(_) => None,
                };
                let flow = captured.map_or(ControlFlow::Continue(()), &mut each);
                reader.consume(size);
                if flow.is_break() {
                    return Ok(skipped);
                }
            }
            Err(PcapError::Eof) => return Ok(skipped),
            Err(PcapError::Incomplete(_)) => {
                reader
                    .refill()
                    .map_err(|_| CaptureError(format!("reading the block at byte {at} failed")))?;
                // A refill that read nothing, the input not at its end: the buffer is
                // full and still holds no whole block. Say so rather than ask again.
                if reader.data().len() == buffered && !reader.reader_exhausted() {
                    return Err(too_long(at));
                }
            }
            Err(PcapError::UnexpectedEof) => return Err(cut_short(at)),
            Err(PcapError::BufferTooSmall) => return Err(too_long(at)),
            Err(e) => return Err(unreadable(at, &e)),
        }
    }
}

/// Units a second of an interface's timestamps, from its `if_tsresol` option (pcapng
/// §4.2: a power of ten, or of two where the top bit is set). Ours, because
/// pcap-parser's `ts_resolution` refuses every power of two (it range-checks the byte
/// with its flag bit). A value no `u64` holds is taken as the default, microseconds.
fn ts_resolution(tsresol: u8) -> u64 {
    let exponent = u32::from(tsresol & 0x7f);
    let units = if tsresol & 0x80 == 0 {
        10u64.checked_pow(exponent)
    } else {
        1u64.checked_shl(exponent)
    };
    units.unwrap_or(1_000_000)
}

/// An Enhanced Packet Block's time as (seconds, microseconds) since the epoch: its
/// 64-bit count of `resolution` units a second, plus the interface's `if_tsoffset`
/// seconds (pcapng, draft-ietf-opsawg-pcapng §4.2 and §4.3). Our own, because
/// pcap-parser's `decode_ts` adds a negative offset as a `u64`, which overflows.
fn epb_time(high: u32, low: u32, offset: i64, resolution: u64) -> (u64, u32) {
    let units = (u64::from(high) << 32) | u64::from(low);
    let resolution = resolution.max(1);
    let secs = (units / resolution).saturating_add_signed(offset);
    let usecs = u128::from(units % resolution) * 1_000_000 / u128::from(resolution);
    // Below 1_000_000: the remainder is below the resolution.
    (secs, usecs as u32)
}

fn cut_short(at: usize) -> CaptureError {
    CaptureError(format!(
        "the capture is cut short inside the block at byte {at}"
    ))
}

fn too_long(at: usize) -> CaptureError {
    CaptureError(format!(
        "the block at byte {at} is longer than {MAX_BLOCK} bytes"
    ))
}

/// pcap-parser's error, without the rest of the input its parse errors carry.
fn unreadable<I>(at: usize, e: &PcapError<I>) -> CaptureError {
    let why = match e {
        PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
            format!("{kind:?}")
        }
        PcapError::HeaderNotRecognized => "header not recognised".into(),
        PcapError::ReadError => "read error".into(),
        PcapError::Eof | PcapError::UnexpectedEof | PcapError::Incomplete(_) => {
            return cut_short(at)
        }
        PcapError::BufferTooSmall => return too_long(at),
    };
    CaptureError(format!("not a readable capture at byte {at}: {why}"))
}

/// The UDP datagram to `port` in one captured frame, if it is one.
fn take<'a>(
    skipped: &mut Skipped,
    link: Linktype,
    frame: &'a [u8],
    timestamp: (u64, u32),
    port: u16,
) -> Option<Captured<'a>> {
    let sliced = match link {
        Linktype::ETHERNET => SlicedPacket::from_ethernet(frame),
        Linktype::RAW | Linktype::IPV4 | Linktype::IPV6 => SlicedPacket::from_ip(frame),
        Linktype::LINUX_SLL => SlicedPacket::from_linux_sll(frame),
        // BSD loopback: a 4-byte address family, then IP.
        Linktype::NULL | Linktype::LOOP if frame.len() > 4 => SlicedPacket::from_ip(&frame[4..]),
        // Linux cooked v2: a 20-byte header, then IP.
        Linktype::LINUX_SLL2 if frame.len() > 20 => SlicedPacket::from_ip(&frame[20..]),
        _ => {
            skipped.unknown_link += 1;
            return None;
        }
    };
    let Ok(packet) = sliced else {
        skipped.other_frames += 1;
        return None;
    };
    let source = match &packet.net {
        Some(NetSlice::Ipv4(ip)) => Some(IpAddr::V4(ip.header().source_addr())),
        Some(NetSlice::Ipv6(ip)) => Some(IpAddr::V6(ip.header().source_addr())),
        _ => None,
    };
    match packet.transport {
        Some(TransportSlice::Udp(udp)) if port == 0 || udp.destination_port() == port => {
            Some(Captured {
                timestamp: Some(timestamp),
                source,
                payload: udp.payload(),
            })
        }
        _ => {
            skipped.other_frames += 1;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// hsflowd's real datagrams: 22 Ethernet frames in a little-endian microsecond pcap.
    const CAPTURE: &[u8] = include_bytes!("../../../core/tests/data/sflow/hsflowd-live.pcap");

    /// A datagram as the reader gave it, kept past the call.
    #[derive(Debug, PartialEq)]
    struct Taken {
        timestamp: Option<(u64, u32)>,
        payload: Vec<u8>,
    }

    fn read_all(input: &[u8]) -> (Vec<Taken>, Result<Skipped, CaptureError>) {
        let mut got = Vec::new();
        let result = for_each_udp_datagram(input, 6343, |d| {
            got.push(Taken {
                timestamp: d.timestamp,
                payload: d.payload.to_vec(),
            });
            ControlFlow::Continue(())
        });
        (got, result)
    }

    /// Where each record of `CAPTURE` ends, the file header's end first.
    fn block_ends() -> Vec<usize> {
        let mut ends = vec![PCAP_HEADER];
        let mut at = PCAP_HEADER;
        while at < CAPTURE.len() {
            let caplen = u32::from_le_bytes(CAPTURE[at + 8..at + 12].try_into().unwrap());
            at += 16 + caplen as usize;
            ends.push(at);
        }
        ends
    }

    /// A little-endian pcapng: a section header, one Ethernet interface with the option
    /// bytes `idb_options` (each option already padded, before the end of options),
    /// and `frames`, each stamped `units` of the interface's resolution.
    fn pcapng(idb_options: &[u8], frames: &[&[u8]], units: u64) -> Vec<u8> {
        fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
            let len = (12 + body.len()) as u32;
            out.extend_from_slice(&kind.to_le_bytes());
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(&len.to_le_bytes());
        }
        let mut out = Vec::new();
        let mut shb = 0x1a2b_3c4d_u32.to_le_bytes().to_vec();
        shb.extend_from_slice(&[1, 0, 0, 0]);
        shb.extend_from_slice(&(-1i64).to_le_bytes());
        block(&mut out, 0x0a0d_0d0a, &shb);
        let mut idb = vec![1, 0, 0, 0, 0, 0, 4, 0];
        idb.extend_from_slice(idb_options);
        idb.extend_from_slice(&[0, 0, 0, 0]);
        block(&mut out, 1, &idb);
        for frame in frames {
            let mut epb = 0u32.to_le_bytes().to_vec();
            epb.extend_from_slice(&((units >> 32) as u32).to_le_bytes());
            epb.extend_from_slice(&(units as u32).to_le_bytes());
            epb.extend_from_slice(&(frame.len() as u32).to_le_bytes());
            epb.extend_from_slice(&(frame.len() as u32).to_le_bytes());
            epb.extend_from_slice(frame);
            epb.resize(epb.len().div_ceil(4) * 4, 0);
            block(&mut out, 6, &epb);
        }
        out
    }

    /// The Ethernet frames of `CAPTURE`.
    fn frames() -> Vec<&'static [u8]> {
        block_ends()
            .windows(2)
            .map(|w| &CAPTURE[w[0] + 16..w[1]])
            .collect()
    }

    #[test]
    fn every_cut_gives_the_whole_datagrams_before_it_then_says_where() {
        let (all, result) = read_all(CAPTURE);
        assert_eq!((all.len(), result.unwrap()), (22, Skipped::default()));
        let ends = block_ends();
        for cut in 0..CAPTURE.len() {
            let (got, result) = read_all(&CAPTURE[..cut]);
            if cut < 4 {
                // Too short for a magic number: the bytes are one raw datagram, if any.
                assert_eq!(got.len(), usize::from(cut > 0), "cut at {cut}");
                continue;
            }
            let whole = ends
                .iter()
                .filter(|&&end| end <= cut)
                .count()
                .saturating_sub(1);
            assert!(
                got[..] == all[..whole],
                "cut at {cut}: {} datagrams",
                got.len()
            );
            let block_start = ends.iter().rev().find(|&&end| end <= cut).copied();
            match result {
                Ok(_) => assert_eq!(block_start, Some(cut), "cut at {cut} is not an error"),
                Err(e) => assert_eq!(
                    e.to_string(),
                    format!(
                        "the capture is cut short inside the block at byte {}",
                        block_start.unwrap_or(0)
                    ),
                    "cut at {cut}"
                ),
            }
        }
    }

    #[test]
    fn pcapng_time_is_read_at_any_resolution_and_offset() {
        let frame = frames()[0];
        // Nanoseconds (if_tsresol 9) and an offset of -10 s (if_tsoffset): pcapng
        // timestamps are `units / resolution + offset` seconds.
        let mut options = vec![9, 0, 1, 0, 9, 0, 0, 0];
        options.extend_from_slice(&[14, 0, 8, 0]);
        options.extend_from_slice(&(-10i64).to_le_bytes());
        let units = 1_700_000_000_123_456_789;
        let (got, result) = read_all(&pcapng(&options, &[frame], units));
        result.unwrap();
        assert_eq!(got[0].timestamp, Some((1_699_999_990, 123_456)));
        assert!(got[0].payload == read_all(CAPTURE).0[0].payload);
        // Units of 2^-63 s, the finest pcapng can say, with the count near its top.
        let options = [9, 0, 1, 0, 0x80 | 63, 0, 0, 0];
        let (got, result) = read_all(&pcapng(&options, &[frame], u64::MAX));
        result.unwrap();
        assert_eq!(got[0].timestamp, Some((1, 999_999)));
        // An offset further back than the epoch stops at it.
        let mut options = vec![14, 0, 8, 0];
        options.extend_from_slice(&i64::MIN.to_le_bytes());
        let (got, result) = read_all(&pcapng(&options, &[frame], 5_000_000));
        result.unwrap();
        assert_eq!(got[0].timestamp, Some((0, 0)));
    }

    /// Bytes changed at random (a fixed seed) in the headers and the frames of both
    /// formats: every call returns, with datagrams or an error, and never a panic.
    #[test]
    fn corrupted_captures_are_read_or_refused_never_a_panic() {
        let ng = pcapng(&[], &frames(), 0);
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            // xorshift64*
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_f491_4f6c_dd1d)
        };
        let (mut read, mut refused) = (0, 0);
        for round in 0..4000 {
            let mut input = if round % 2 == 0 {
                CAPTURE.to_vec()
            } else {
                ng.clone()
            };
            for _ in 0..1 + next() % 4 {
                // Half the changes in the first 200 bytes, where the headers are.
                let span = if next() % 2 == 0 { 200 } else { input.len() };
                let at = (next() % span as u64) as usize;
                input[at] = next() as u8;
            }
            let (got, result) = read_all(&input);
            assert!(got.len() <= 22 && got.iter().all(|d| d.payload.len() <= MAX_DATAGRAM));
            match result {
                Ok(_) => read += 1,
                Err(_) => refused += 1,
            }
        }
        // Both outcomes happen: the corruption reaches the headers and the frames.
        assert!(
            read > 100 && refused > 100,
            "{read} read, {refused} refused"
        );
    }
}
