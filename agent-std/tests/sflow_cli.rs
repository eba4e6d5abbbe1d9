//! `ferrostat-agent sflow decode` from outside, on the real captures: pcap, pcapng and
//! raw input, sflowtool's format, and rejected datagrams.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn agent() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ferrostat-agent"))
}

fn sflow(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/data/sflow")
        .join(rel)
}

fn decode(args: &[&str]) -> (Vec<Value>, String, Option<i32>) {
    let out = agent()
        .arg("sflow")
        .arg("decode")
        .args(args)
        .output()
        .unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

fn sflowtool_reference(rel: &str) -> Vec<Value> {
    let path = sflow(rel).with_extension("sflowtool.jsonl");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn sflowtool_format_matches_sflowtool_on_host_and_vm_captures() {
    for rel in [
        "hsflowd-live.pcap",
        "libsflow-harness-virt-ipv4.pcap",
        "cistern/host_sample.pcap",
        "cistern/counter_sample.pcap",
    ] {
        let path = sflow(rel);
        let (ours, stderr, code) = decode(&["--sflowtool", path.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{rel}: {stderr}");
        let theirs = sflowtool_reference(rel);
        assert_eq!(ours.len(), theirs.len(), "{rel}");
        for (o, t) in ours.iter().zip(&theirs) {
            // Counter-only captures: sflowtool's whole object, field for field.
            assert_eq!(o, t, "{rel}");
        }
    }
}

#[test]
fn native_json_has_the_decoded_values() {
    let path = sflow("libsflow-harness-virt-ipv4.pcap");
    let (lines, _, code) = decode(&[path.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    assert_eq!(lines.len(), 4);
    let d = &lines[0];
    assert_eq!(d["agent"], "192.0.2.5");
    let vm = &d["samples"][0]["Counters"];
    assert_eq!(vm["source_id"]["class"], 3);
    let records = vm["records"].as_array().unwrap();
    let net = records.iter().find_map(|r| r.get("VirtNetIo")).unwrap();
    assert_eq!(net["rx_bytes"], 123456789012u64);
    let host = &d["samples"][1]["Counters"]["records"];
    let nio = host
        .as_array()
        .unwrap()
        .iter()
        .find_map(|r| r.get("HostNetIo"))
        .unwrap();
    assert!(nio["bytes_in"].is_null(), "all-ones is unknown: {nio}");
}

/// Writes the payloads as a little pcapng capture (SHB, one Ethernet IDB, EPBs), the
/// format tshark and dumpcap write by default.
fn pcapng_of(frames: &[Vec<u8>]) -> Vec<u8> {
    fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
        let len = 12 + body.len().div_ceil(4) * 4;
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&(len as u32).to_le_bytes());
        out.extend_from_slice(body);
        out.resize(out.len() + (len - 12 - body.len()), 0);
        out.extend_from_slice(&(len as u32).to_le_bytes());
    }
    let mut out = Vec::new();
    let mut shb = 0x1a2b3c4du32.to_le_bytes().to_vec();
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    block(&mut out, 0x0a0d0d0a, &shb);
    let mut idb = 1u16.to_le_bytes().to_vec(); // LINKTYPE_ETHERNET
    idb.extend_from_slice(&0u16.to_le_bytes());
    idb.extend_from_slice(&65535u32.to_le_bytes());
    block(&mut out, 1, &idb);
    for (i, frame) in frames.iter().enumerate() {
        let ts: u64 = 1_700_000_000_000_000 + i as u64; // microseconds
        let mut epb = 0u32.to_le_bytes().to_vec();
        epb.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ts as u32).to_le_bytes());
        epb.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        epb.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        epb.extend_from_slice(frame);
        epb.resize(20 + frame.len().div_ceil(4) * 4, 0);
        block(&mut out, 6, &epb);
    }
    out
}

/// The Ethernet frames of a classic little-endian pcap.
fn frames_of(pcap: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut pos = 24;
    while pos + 16 <= pcap.len() {
        let caplen = u32::from_le_bytes(pcap[pos + 8..pos + 12].try_into().unwrap()) as usize;
        out.push(pcap[pos + 16..pos + 16 + caplen].to_vec());
        pos += 16 + caplen;
    }
    out
}

#[test]
fn pcapng_and_raw_datagrams_decode_like_pcap() {
    let pcap = std::fs::read(sflow("hsflowd-live.pcap")).unwrap();
    let frames = frames_of(&pcap);
    let dir = std::env::temp_dir().join(format!("ferrostat-sflow-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ng = dir.join("hsflowd.pcapng");
    std::fs::write(&ng, pcapng_of(&frames)).unwrap();
    let (from_ng, stderr, code) = decode(&["--sflowtool", ng.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    let (from_pcap, _, _) = decode(&["--sflowtool", sflow("hsflowd-live.pcap").to_str().unwrap()]);
    assert_eq!(from_ng.len(), 22);
    for (a, b) in from_ng.iter().zip(&from_pcap) {
        assert_eq!(a["samples"], b["samples"]);
    }
    assert_eq!(from_ng[1]["pcapTimestamp"], "2023-11-14T22:13:20+0000");
    assert_eq!(from_ng[1]["pcapTimestamp_uS"], "1");

    // One raw datagram: the UDP payload of the first frame (Ethernet 14 + IPv4 20 + UDP 8).
    let raw = dir.join("one.bin");
    std::fs::write(&raw, &frames[0][42..]).unwrap();
    let (one, _, code) = decode(&["--sflowtool", raw.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["samples"], from_pcap[0]["samples"]);
    assert!(one[0].get("pcapTimestamp").is_none());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_rejected_datagram_is_reported_and_decoding_carries_on() {
    // A capture with a malformed datagram between two good ones.
    let good = frames_of(&std::fs::read(sflow("cistern/host_sample.pcap")).unwrap()).remove(0);
    let bad =
        frames_of(&std::fs::read(sflow("gopacket/gopacket__SFlowTestPacket11.pcap")).unwrap())
            .remove(0);
    let mut pcap = std::fs::read(sflow("cistern/host_sample.pcap")).unwrap()[..24].to_vec();
    for frame in [&good, &bad, &good] {
        pcap.extend_from_slice(&1_700_000_000u32.to_le_bytes());
        pcap.extend_from_slice(&0u32.to_le_bytes());
        pcap.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        pcap.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        pcap.extend_from_slice(frame);
    }
    let path = std::env::temp_dir().join(format!("ferrostat-mixed-{}.pcap", std::process::id()));
    std::fs::write(&path, &pcap).unwrap();
    for extra in [&["--sflowtool"][..], &[]] {
        let mut args = extra.to_vec();
        args.push(path.to_str().unwrap());
        let (lines, stderr, code) = decode(&args);
        assert_eq!(lines.len(), 2, "{stderr}");
        assert!(
            stderr.contains("datagram 1: length mismatch at byte 32"),
            "{stderr}"
        );
        assert!(stderr.contains("1 of 3 datagrams rejected"), "{stderr}");
        assert_eq!(code, Some(2));
    }
    std::fs::remove_file(&path).ok();
    // Random bytes are one raw datagram that does not decode: an error, not a crash.
    let junk = std::env::temp_dir().join(format!("ferrostat-junk-{}.bin", std::process::id()));
    std::fs::write(&junk, [0xde, 0xad, 0xbe, 0xef, 1, 2, 3]).unwrap();
    let (lines, stderr, code) = decode(&[junk.to_str().unwrap()]);
    assert!(lines.is_empty());
    assert!(
        stderr.contains("datagram 0: unsupported version at byte 0"),
        "{stderr}"
    );
    assert_eq!(code, Some(2));
    std::fs::remove_file(&junk).ok();
    // An endless input that is not a capture is cut off after one datagram's worth.
    let (lines, stderr, code) = decode(&["/dev/zero"]);
    assert!(lines.is_empty());
    assert!(
        stderr.contains("/dev/zero: neither a pcap nor a pcapng capture, and longer than one datagram can be (65535 bytes)"),
        "{stderr}"
    );
    assert_eq!(code, Some(1));
    let out = agent()
        .args(["sflow", "replay", "/dev/zero", "--to", "127.0.0.1:9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("longer than one datagram can be"));
}
