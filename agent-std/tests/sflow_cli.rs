//! `ferrostat-agent sflow decode` and `sflow replay` from outside, on the real
//! captures: pcap, pcapng and raw input, sflowtool's format, rejected datagrams, and
//! what replay puts on the wire.

mod common;

use std::net::{IpAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

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

/// The records of a classic little-endian pcap: each 16-byte record header and its frame.
fn records_of(pcap: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut out = Vec::new();
    let mut pos = 24;
    while pos + 16 <= pcap.len() {
        let caplen = u32::from_le_bytes(pcap[pos + 8..pos + 12].try_into().unwrap()) as usize;
        out.push((&pcap[pos..pos + 16], &pcap[pos + 16..pos + 16 + caplen]));
        pos += 16 + caplen;
    }
    out
}

/// The Ethernet frames of a classic little-endian pcap.
fn frames_of(pcap: &[u8]) -> Vec<Vec<u8>> {
    records_of(pcap)
        .into_iter()
        .map(|(_, frame)| frame.to_vec())
        .collect()
}

/// `hsflowd-live.pcap` in sflowtool's format: the 22 datagrams every other form of the
/// capture must decode to.
fn hsflowd_reference() -> Vec<Value> {
    let (lines, stderr, code) =
        decode(&["--sflowtool", sflow("hsflowd-live.pcap").to_str().unwrap()]);
    assert_eq!((lines.len(), code), (22, Some(0)), "{stderr}");
    lines
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

#[test]
fn a_capture_with_nothing_to_decode_says_what_it_held() {
    let capture = sflow("hsflowd-live.pcap");
    let (lines, stderr, code) = decode(&["--port", "9999", capture.to_str().unwrap()]);
    assert_eq!((lines.len(), code), (0, Some(0)));
    assert_eq!(
        stderr,
        format!(
            "{}: no UDP datagrams to port 9999 (22 other frames)\n",
            capture.display()
        )
    );
    let empty = std::env::temp_dir().join(format!("ferrostat-empty-{}", std::process::id()));
    std::fs::write(&empty, b"").unwrap();
    let (lines, stderr, code) = decode(&[empty.to_str().unwrap()]);
    assert_eq!((lines.len(), code), (0, Some(0)));
    assert_eq!(
        stderr,
        format!("{}: no UDP datagrams to port 6343\n", empty.display())
    );
    let out = agent()
        .args([
            "sflow",
            "replay",
            empty.to_str().unwrap(),
            "--to",
            "127.0.0.1:9",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the captures hold no UDP datagrams"));
    std::fs::remove_file(&empty).ok();
}

/// `pcap` with every header field in big-endian byte order, as a big-endian host's
/// libpcap writes it.
fn big_endian(pcap: &[u8]) -> Vec<u8> {
    let swap32 = |b: &[u8]| u32::from_le_bytes(b.try_into().unwrap()).to_be_bytes();
    let mut out = Vec::with_capacity(pcap.len());
    out.extend_from_slice(&swap32(&pcap[0..4]));
    for field in pcap[4..8].chunks(2) {
        out.extend_from_slice(&u16::from_le_bytes(field.try_into().unwrap()).to_be_bytes());
    }
    for field in pcap[8..24].chunks(4) {
        out.extend_from_slice(&swap32(field));
    }
    for (header, frame) in records_of(pcap) {
        for field in header.chunks(4) {
            out.extend_from_slice(&swap32(field));
        }
        out.extend_from_slice(frame);
    }
    out
}

/// The number of frames tshark reads in `capture`: proof that a capture the test made is
/// one that Wireshark takes.
fn tshark_frame_count(capture: &Path) -> usize {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(capture)
        .args(["-T", "fields", "-e", "frame.number"])
        .output()
        .expect("tshark runs (scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().lines().count()
}

#[test]
fn every_byte_order_precision_and_writer_decodes_alike() {
    let original = sflow("hsflowd-live.pcap");
    let reference = hsflowd_reference();
    let dir = std::env::temp_dir().join(format!("ferrostat-sflow-orders-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let be = dir.join("big-endian.pcap");
    std::fs::write(&be, big_endian(&std::fs::read(&original).unwrap())).unwrap();
    let nanos = dir.join("nanosecond.pcap");
    let ng = dir.join("editcap.pcapng");
    for (format, out) in [("nsecpcap", &nanos), ("pcapng", &ng)] {
        let status = Command::new("editcap")
            .args(["-F", format])
            .arg(&original)
            .arg(out)
            .status()
            .expect("editcap runs (it comes with tshark)");
        assert!(status.success(), "editcap -F {format}");
    }
    // 200 copies of the frames: 2.8 MB, more than the reader's 1 MiB buffer holds.
    let long = dir.join("long.pcap");
    let pcap = std::fs::read(&original).unwrap();
    let mut copies = pcap[..24].to_vec();
    for _ in 0..200 {
        copies.extend_from_slice(&pcap[24..]);
    }
    std::fs::write(&long, &copies).unwrap();
    let (lines, stderr, code) = decode(&["--sflowtool", long.to_str().unwrap()]);
    assert_eq!((lines.len(), code), (4400, Some(0)), "{stderr}");
    assert!(lines[4378..] == reference[..], "the last copy differs");

    for capture in [&be, &nanos, &ng] {
        assert_eq!(tshark_frame_count(capture), 22, "{}", capture.display());
        let (lines, stderr, code) = decode(&["--sflowtool", capture.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{}: {stderr}", capture.display());
        // Compared whole, reported short: a failure shows counts, not 22 datagrams twice.
        assert!(
            lines == reference,
            "{}: {} lines differ from the original's {}",
            capture.display(),
            lines.len(),
            reference.len()
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_capture_on_standard_input_is_decoded_as_it_arrives() {
    use std::io::{BufRead, Write};
    use std::process::Stdio;
    let pcap = std::fs::read(sflow("hsflowd-live.pcap")).unwrap();
    let first_frame_end = 24 + 16 + frames_of(&pcap)[0].len();
    let mut child = agent()
        .args(["sflow", "decode", "--sflowtool", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in stdout.lines() {
            lines_tx.send(line.unwrap()).unwrap();
        }
    });
    // The file header and one frame, with the pipe left open as tcpdump leaves it.
    stdin.write_all(&pcap[..first_frame_end]).unwrap();
    stdin.flush().unwrap();
    let first = lines_rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the first datagram's line, before the capture ends");
    let first: Value = serde_json::from_str(&first).unwrap();
    // Then the rest, and the end of the capture.
    stdin.write_all(&pcap[first_frame_end..]).unwrap();
    drop(stdin);
    let status = child.wait().unwrap();
    let rest: Vec<Value> = lines_rx
        .iter()
        .map(|l| serde_json::from_str(&l).unwrap())
        .collect();
    assert!(status.success());
    let reference = hsflowd_reference();
    assert!(first == reference[0], "the first datagram differs");
    assert!(
        rest == reference[1..],
        "{} more lines, 21 expected",
        rest.len()
    );
}

#[test]
fn a_cut_short_or_lying_capture_is_an_error_after_its_whole_datagrams() {
    let pcap = std::fs::read(sflow("hsflowd-live.pcap")).unwrap();
    let frames = frames_of(&pcap);
    let reference = hsflowd_reference();
    let dir = std::env::temp_dir().join(format!("ferrostat-sflow-cut-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    // tcpdump killed in the middle of writing its last frame.
    let last_frame_at = pcap.len() - 16 - frames.last().unwrap().len();
    let cut = pcap[..last_frame_at + 30].to_vec();
    // A record header that claims 4 GB: refused on its header, not read into memory.
    let second = 24 + 16 + frames[0].len();
    let mut lying = pcap[..second + 8].to_vec();
    lying.extend_from_slice(&u32::MAX.to_le_bytes());
    lying.extend_from_slice(&u32::MAX.to_le_bytes());
    lying.extend_from_slice(&[0; 4096]);
    let cases = [
        (
            "cut.pcap",
            cut,
            21,
            format!("the capture is cut short inside the block at byte {last_frame_at}"),
        ),
        (
            "lying.pcap",
            lying,
            1,
            format!("the block at byte {second} is longer than 1048576 bytes"),
        ),
    ];
    for (name, bytes, whole, error) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let (lines, stderr, code) = decode(&["--sflowtool", path.to_str().unwrap()]);
        assert!(lines == reference[..whole], "{name}: {} lines", lines.len());
        assert!(stderr.contains(&format!("{name}: {error}")), "{stderr}");
        assert_eq!(code, Some(1), "{name}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// The datagrams a `sflow replay` with `args` sends to a UDP socket of the test's:
/// `count` of them, and what the command printed.
fn replayed(args: &[&str], count: usize) -> (Vec<Vec<u8>>, String) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let to = socket.local_addr().unwrap().to_string();
    let child = agent()
        .args(["sflow", "replay", "--to", &to])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut buf = [0u8; 65536];
    let got = (0..count)
        .map(|i| {
            let n = socket
                .recv(&mut buf)
                .unwrap_or_else(|e| panic!("datagram {i} of {count}: {e}"));
            buf[..n].to_vec()
        })
        .collect();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    assert!(
        socket.recv(&mut buf).is_err(),
        "more than {count} datagrams"
    );
    (got, String::from_utf8(out.stdout).unwrap())
}

/// The bytes of an sFlow v5 datagram after its sequence number: what re-addressing and
/// renumbering leave as they were.
fn after_sequence(d: &[u8]) -> &[u8] {
    let address = match d[4..8] {
        [0, 0, 0, 1] => 4,
        [0, 0, 0, 2] => 16,
        _ => panic!("not an sFlow v5 header"),
    };
    &d[8 + address + 8..]
}

fn hsflowd_payloads() -> Vec<Vec<u8>> {
    let payloads = common::pcap_udp_payloads(sflow("hsflowd-live.pcap").to_str().unwrap());
    assert_eq!(payloads.len(), 22);
    payloads
}

#[test]
fn replay_sends_each_datagram_as_captured_or_readdressed_to_a_fleet() {
    let capture = sflow("hsflowd-live.pcap");
    let capture = capture.to_str().unwrap();
    let payloads = hsflowd_payloads();
    // By default: every datagram once, byte for byte.
    let (got, printed) = replayed(&[capture], 22);
    assert!(got == payloads, "the datagrams differ from the capture's");
    assert!(printed.starts_with("sent 22 datagrams in "), "{printed}");
    // To two IPv6 agents: each datagram to both before the next, the captured sequence
    // numbers kept, and nothing after them changed.
    let (got, _) = replayed(&[capture, "--agent", "2001:db8::7", "--agents", "2"], 44);
    for (k, d) in got.iter().enumerate() {
        let original = &payloads[k / 2];
        let ours = ferrostat_core::sflow::Datagram::parse(d).unwrap();
        let theirs = ferrostat_core::sflow::Datagram::parse(original).unwrap();
        let agent: IpAddr = ["2001:db8::7", "2001:db8::8"][k % 2].parse().unwrap();
        assert_eq!(ours.agent, agent, "datagram {k}");
        assert_eq!(ours.sequence_number, theirs.sequence_number, "datagram {k}");
        assert!(
            after_sequence(d) == after_sequence(original),
            "datagram {k}"
        );
    }
    // A fleet of four billion agents costs nothing up front: the addresses are made as
    // they are used, and `--count` stops after the first three.
    let (got, _) = replayed(
        &[
            capture,
            "--agent",
            "10.0.0.1",
            "--agents",
            "4000000000",
            "--count",
            "3",
        ],
        3,
    );
    let agents: Vec<IpAddr> = got
        .iter()
        .map(|d| ferrostat_core::sflow::Datagram::parse(d).unwrap().agent)
        .collect();
    assert_eq!(
        agents,
        ["10.0.0.1", "10.0.0.2", "10.0.0.3"].map(|a| a.parse::<IpAddr>().unwrap())
    );
}

#[test]
fn replay_renumbers_each_agent_and_repeats_the_capture_for_a_count() {
    let capture = sflow("hsflowd-live.pcap");
    let payloads = hsflowd_payloads();
    // 100 datagrams to three agents: one pass is 66, so the second round comes from
    // memory and stops a third of the way through.
    let (got, printed) = replayed(
        &[
            capture.to_str().unwrap(),
            "--agent",
            "10.9.0.1",
            "--agents",
            "3",
            "--renumber",
            "--count",
            "100",
            "--rate",
            "2000",
        ],
        100,
    );
    for (k, d) in got.iter().enumerate() {
        let original = &payloads[(k / 3) % 22];
        let ours = ferrostat_core::sflow::Datagram::parse(d).unwrap();
        let agent: IpAddr = ["10.9.0.1", "10.9.0.2", "10.9.0.3"][k % 3].parse().unwrap();
        assert_eq!(ours.agent, agent, "datagram {k}");
        assert_eq!(ours.sequence_number, (k / 3 + 1) as u32, "datagram {k}");
        assert!(
            after_sequence(d) == after_sequence(original),
            "datagram {k}"
        );
    }
    // Paced against its start: the 100th datagram is due 99/2000 s after the first.
    let secs: f64 = printed
        .strip_prefix("sent 100 datagrams in ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{printed}"));
    assert!(secs >= 0.0495, "{printed}");
}

#[test]
fn replay_sends_a_capture_on_standard_input_as_it_arrives() {
    use std::io::Write;
    use std::process::Stdio;
    let pcap = std::fs::read(sflow("hsflowd-live.pcap")).unwrap();
    let payloads = hsflowd_payloads();
    let first_frame_end = 24 + 16 + frames_of(&pcap)[0].len();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let to = socket.local_addr().unwrap().to_string();
    let mut child = agent()
        .args(["sflow", "replay", "-", "--to", &to])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // The file header and one frame, with the pipe left open as tcpdump leaves it.
    stdin.write_all(&pcap[..first_frame_end]).unwrap();
    stdin.flush().unwrap();
    let mut buf = [0u8; 65536];
    let n = socket
        .recv(&mut buf)
        .expect("the first datagram, sent before the capture ends");
    assert!(buf[..n] == payloads[0]);
    stdin.write_all(&pcap[first_frame_end..]).unwrap();
    drop(stdin);
    for (i, want) in payloads.iter().enumerate().skip(1) {
        let n = socket.recv(&mut buf).unwrap();
        assert!(buf[..n] == want[..], "datagram {i}");
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .starts_with("sent 22 datagrams in "));
}

/// The README's live pipeline with a real capture tool: tshark captures loopback as
/// pcapng on a pipe into `sflow decode -`, while `sflow replay` sends the hsflowd capture
/// to a port where nothing listens (each datagram draws an ICMP port unreachable, which
/// the socket reports on the next send). Every datagram is decoded while tshark is still
/// capturing, as sflowtool decoded the original, stamped with the time tshark gives it.
#[test]
fn a_live_tshark_capture_of_a_replay_decodes_as_it_happens() {
    use std::io::{BufRead, Read, Write};
    use std::process::Stdio;
    use std::sync::mpsc::channel;
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut tshark = Command::new("tshark")
        .args(["-i", "lo", "-f", &format!("udp dst port {port}")])
        .args(["-w", "-", "-F", "pcapng"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tshark (scripts/test.sh installs it)");
    // The capture goes to the decoder and is kept, for tshark to read back afterwards.
    let mut decode = agent()
        .args([
            "sflow",
            "decode",
            "--sflowtool",
            "--port",
            &port.to_string(),
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut capture_out = tshark.stdout.take().unwrap();
    let mut decode_in = decode.stdin.take().unwrap();
    let tee = std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = capture_out.read(&mut buf) {
            kept.extend_from_slice(&buf[..n]);
            if decode_in.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        kept
    });
    let (lines_tx, lines_rx) = channel();
    let stdout = std::io::BufReader::new(decode.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = lines_tx.send(serde_json::from_str::<Value>(&line).unwrap());
        }
    });
    // tshark's "Capturing on" can come before its capture sees packets: probe with the
    // first datagram, from another agent address, until one comes through.
    let probe_agent = "198.51.100.1";
    let mut probe = hsflowd_payloads()[0].clone();
    probe[8..12].copy_from_slice(&[198, 51, 100, 1]);
    let prober = UdpSocket::bind("127.0.0.1:0").unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        prober.send_to(&probe, ("127.0.0.1", port)).unwrap();
        match lines_rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) if line["agent"] == probe_agent => break,
            Ok(line) => panic!("not a probe: {line}"),
            Err(_) => assert!(
                std::time::Instant::now() < deadline,
                "tshark captured nothing"
            ),
        }
    }
    let capture = sflow("hsflowd-live.pcap");
    let out = agent()
        .args(["sflow", "replay", capture.to_str().unwrap()])
        .args(["--to", &format!("127.0.0.1:{port}"), "--rate", "200"])
        .output()
        .unwrap();
    let printed = String::from_utf8(out.stdout).unwrap();
    assert!(printed.starts_with("sent 22 datagrams in "), "{printed}");
    assert!(printed.contains("answered port unreachable"), "{printed}");
    let mut ours: Vec<Value> = Vec::new();
    while ours.len() < 22 {
        let Ok(line) = lines_rx.recv_timeout(Duration::from_secs(20)) else {
            let numbers: Vec<&Value> = ours.iter().map(|d| &d["packetSequenceNo"]).collect();
            panic!("decoded while tshark captures: only datagrams {numbers:?}");
        };
        // Probes sent before the first came through arrive before the replay.
        if line["agent"] != probe_agent {
            ours.push(line);
        }
    }
    tshark.kill().unwrap();
    tshark.wait().unwrap();
    let kept = tee.join().unwrap();
    decode.wait().unwrap();
    // Apart from when it was captured, each datagram is the original.
    let without_time = |v: &Value| {
        let mut v = v.clone();
        let o = v.as_object_mut().unwrap();
        o.remove("pcapTimestamp");
        o.remove("pcapTimestamp_uS");
        v
    };
    let reference = hsflowd_reference();
    for (i, (o, r)) in ours.iter().zip(&reference).enumerate() {
        assert!(without_time(o) == without_time(r), "datagram {i}");
    }
    // And when it was captured is the time tshark reads from the same capture: that of
    // its last 22 frames, after the probes.
    let file = std::env::temp_dir().join(format!("ferrostat-live-{port}.pcapng"));
    std::fs::write(&file, &kept).unwrap();
    let times = Command::new("tshark")
        .args([
            "-r",
            file.to_str().unwrap(),
            "-T",
            "fields",
            "-e",
            "frame.time_epoch",
        ])
        .output()
        .unwrap();
    std::fs::remove_file(&file).ok();
    let times = String::from_utf8(times.stdout).unwrap();
    let times: Vec<&str> = times.lines().collect();
    assert!(times.len() >= 23, "tshark's frames: {times:?}");
    for (o, epoch) in ours.iter().zip(&times[times.len() - 22..]) {
        let (secs, frac) = epoch.split_once('.').unwrap();
        let when = ferrostat_core::time::UtcDateTime::from_unix(secs.parse().unwrap());
        assert_eq!(o["pcapTimestamp"], format!("{when}+0000"), "{epoch}");
        let micros: u32 = frac[..6].parse().unwrap();
        assert_eq!(o["pcapTimestamp_uS"], micros.to_string(), "{epoch}");
    }
}
