//! UDP datagrams out of packet captures (pcap and pcapng, with pcap-parser) or a file
//! holding one raw datagram.

use std::io::Read;
use std::net::IpAddr;

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use pcap_parser::pcapng::Block;
use pcap_parser::Linktype;

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

impl std::fmt::Display for CaptureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The largest raw datagram: one UDP payload is never longer.
pub const MAX_DATAGRAM: usize = 65_535;

/// The first four bytes of a pcap file (both byte orders, micro- and nanosecond
/// timestamps) and of a pcapng file's section header block.
const PCAP_MAGICS: [[u8; 4]; 4] = [
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    [0x4d, 0x3c, 0xb2, 0xa1],
];
const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// A capture file, read whole for [`udp_datagrams`]. Input that does not start like a
/// pcap or pcapng capture is one raw datagram, so at most [`MAX_DATAGRAM`] bytes of it are
/// read: `sflow decode /dev/zero` is an error at once rather than a read that lasts until
/// memory runs out.
pub fn read(mut reader: impl Read) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.by_ref().take(4).read_to_end(&mut bytes)?;
    let magic = bytes.as_slice().try_into().ok();
    if magic.is_some_and(|m| PCAP_MAGICS.contains(&m) || m == PCAPNG_MAGIC) {
        reader.read_to_end(&mut bytes)?;
        return Ok(bytes);
    }
    reader
        .take((MAX_DATAGRAM + 1 - bytes.len()) as u64)
        .read_to_end(&mut bytes)?;
    if bytes.len() > MAX_DATAGRAM {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "neither a pcap nor a pcapng capture, and longer than one datagram can be \
                 ({MAX_DATAGRAM} bytes)"
            ),
        ));
    }
    Ok(bytes)
}

/// The UDP datagrams to `port` (0: any) in `file`: a pcap or pcapng capture, recognised by
/// its magic number, or else one raw datagram.
pub fn udp_datagrams(file: &[u8], port: u16) -> Result<(Vec<Captured<'_>>, Skipped), CaptureError> {
    let mut out = Vec::new();
    let mut skipped = Skipped::default();
    let magic: Option<[u8; 4]> = file.get(..4).and_then(|m| m.try_into().ok());
    match magic {
        Some(m) if PCAP_MAGICS.contains(&m) => {
            let (_, capture) = pcap_parser::parse_pcap(file)
                .map_err(|e| CaptureError(format!("not a readable pcap file: {e:?}")))?;
            let nanos = capture.header.is_nanosecond_precision();
            for frame in &capture.blocks {
                let usecs = if nanos {
                    frame.ts_usec / 1000
                } else {
                    frame.ts_usec
                };
                let ts = (frame.ts_sec as u64, usecs);
                take(
                    &mut out,
                    &mut skipped,
                    capture.header.network,
                    frame.data,
                    ts,
                    port,
                );
            }
        }
        Some(PCAPNG_MAGIC) => {
            let (_, capture) = pcap_parser::parse_pcapng(file)
                .map_err(|e| CaptureError(format!("not a readable pcapng file: {e:?}")))?;
            for section in &capture.sections {
                let mut interfaces = Vec::new();
                for block in &section.blocks {
                    match block {
                        Block::InterfaceDescription(idb) => interfaces.push((
                            idb.linktype,
                            idb.ts_offset(),
                            idb.ts_resolution().unwrap_or(1_000_000),
                        )),
                        Block::EnhancedPacket(epb) => {
                            let Some(&(link, offset, resolution)) =
                                interfaces.get(epb.if_id as usize)
                            else {
                                skipped.unknown_link += 1;
                                continue;
                            };
                            let (secs, frac) = epb.decode_ts(offset as u64, resolution);
                            let usecs = (frac as u64 * 1_000_000 / resolution.max(1)) as u32;
                            take(
                                &mut out,
                                &mut skipped,
                                link,
                                epb.data,
                                (secs as u64, usecs),
                                port,
                            );
                        }
                        _ => {}
                    }
                }
            }
        }
        _ => out.push(Captured {
            timestamp: None,
            source: None,
            payload: file,
        }),
    }
    Ok((out, skipped))
}

fn take<'a>(
    out: &mut Vec<Captured<'a>>,
    skipped: &mut Skipped,
    link: Linktype,
    frame: &'a [u8],
    timestamp: (u64, u32),
    port: u16,
) {
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
            return;
        }
    };
    let Ok(packet) = sliced else {
        skipped.other_frames += 1;
        return;
    };
    let source = match &packet.net {
        Some(NetSlice::Ipv4(ip)) => Some(IpAddr::V4(ip.header().source_addr())),
        Some(NetSlice::Ipv6(ip)) => Some(IpAddr::V6(ip.header().source_addr())),
        _ => None,
    };
    match packet.transport {
        Some(TransportSlice::Udp(udp)) if port == 0 || udp.destination_port() == port => {
            out.push(Captured {
                timestamp: Some(timestamp),
                source,
                payload: udp.payload(),
            })
        }
        _ => skipped.other_frames += 1,
    }
}
