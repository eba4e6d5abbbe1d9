//! Shared by the gateway's host tests: the corpus capture and its UDP payloads.
#![allow(dead_code)]

/// hsflowd 2.1.25's real datagrams (core/tests/data/sflow/PROVENANCE.md).
pub const LIVE: &[u8] = include_bytes!("../../../core/tests/data/sflow/hsflowd-live.pcap");

/// The UDP payloads of a classic pcap of Ethernet/IPv4/UDP frames.
pub fn payloads(pcap: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let len = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        let frame = &pcap[at + 16..at + 16 + len];
        at += 16 + len;
        let udp = 14 + usize::from(frame[14] & 0x0f) * 4;
        let udp_len = usize::from(u16::from_be_bytes([frame[udp + 4], frame[udp + 5]]));
        out.push(frame[udp + 8..udp + udp_len].to_vec());
    }
    out
}
