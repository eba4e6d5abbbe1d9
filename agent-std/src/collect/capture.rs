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
            let _ = each(Captured {
                timestamp: None,
                source: None,
                payload: &head,
            });
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
                        interfaces.push((
                            idb.linktype,
                            idb.ts_offset(),
                            idb.ts_resolution().unwrap_or(1_000_000),
                        ));
                        None
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        match interfaces.get(epb.if_id as usize) {
                            Some(&(link, offset, resolution)) => {
                                let (secs, frac) = epb.decode_ts(offset as u64, resolution);
                                let usecs = (frac as u64 * 1_000_000 / resolution.max(1)) as u32;
                                take(&mut skipped, link, epb.data, (secs as u64, usecs), port)
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
