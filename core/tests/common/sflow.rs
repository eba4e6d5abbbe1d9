//! The real sFlow captures (tests/data/sflow, see its INDEX.md): their UDP payloads and
//! sflowtool's decode of each.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};

/// The copied sFlow corpus.
pub fn sflow_root() -> PathBuf {
    // From core's tests and from the benches alike.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/data/sflow")
}

/// Every capture, sorted.
pub fn captures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![sflow_root()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "pcap") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The UDP payloads of a classic pcap file (every corpus capture is one), in order.
pub fn udp_payloads(path: &Path) -> Vec<Vec<u8>> {
    udp_datagrams(path).into_iter().map(|d| d.payload).collect()
}

/// One captured UDP datagram.
pub struct Captured {
    /// Capture time: seconds and microseconds since the epoch.
    pub timestamp: (u64, u32),
    /// The UDP payload.
    pub payload: Vec<u8>,
}

/// The UDP datagrams of a classic pcap file, with their capture times.
pub fn udp_datagrams(path: &Path) -> Vec<Captured> {
    let file = std::fs::read(path).unwrap();
    let little = match file[..4] {
        [0xd4, 0xc3, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] => false,
        _ => panic!("{}: not a classic pcap", path.display()),
    };
    let u32_at = |at: usize| {
        let b = [file[at], file[at + 1], file[at + 2], file[at + 3]];
        if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    let mut out = Vec::new();
    let mut pos = 24;
    while pos + 16 <= file.len() {
        let timestamp = (u32_at(pos) as u64, u32_at(pos + 4));
        let caplen = u32_at(pos + 8) as usize;
        let frame = &file[pos + 16..pos + 16 + caplen];
        pos += 16 + caplen;
        let packet = etherparse::SlicedPacket::from_ethernet(frame).unwrap();
        match packet.transport {
            Some(etherparse::TransportSlice::Udp(udp)) => out.push(Captured {
                timestamp,
                payload: udp.payload().to_vec(),
            }),
            _ => panic!("{}: frame without UDP", path.display()),
        }
    }
    out
}

/// sflowtool's decode beside a capture: one JSON value per datagram, or `None` for a
/// line sflowtool itself wrote as invalid JSON (it does on the datagrams it rejects).
pub fn sflowtool_lines(capture: &Path) -> Vec<Option<serde_json::Value>> {
    let stem = capture.with_extension("");
    let plain = PathBuf::from(format!("{}.sflowtool.jsonl", stem.display()));
    let text = if plain.exists() {
        std::fs::read_to_string(&plain).unwrap()
    } else {
        let gz = PathBuf::from(format!("{}.sflowtool.jsonl.gz", stem.display()));
        let mut s = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&gz).unwrap())
            .read_to_string(&mut s)
            .unwrap();
        s
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// True when sflowtool rejected the capture (a `.sflowtool.err` beside it).
pub fn sflowtool_rejected(capture: &Path) -> Option<String> {
    let err = PathBuf::from(format!(
        "{}.sflowtool.err",
        capture.with_extension("").display()
    ));
    std::fs::read_to_string(err).ok()
}
