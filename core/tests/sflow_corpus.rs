//! Every real sFlow capture (tests/data/sflow, see its INDEX.md) through the decoder,
//! checked against sflowtool's own decode of the same datagram, field by field; the
//! captures sflowtool rejects are rejected with a precise error; emitting a decoded
//! datagram gives back its bytes.

#[path = "common/sflow.rs"]
mod sflow_files;

use ferrostat_core::sflow::sflowtool::{write_datagram, CaptureInfo};
use ferrostat_core::sflow::xdr::Writer;
use ferrostat_core::sflow::{sample, CounterRecord, Datagram, FlowRecord, Sample};
use ferrostat_core::ErrorKind;
use serde_json::Value;
use sflow_files::*;

/// Captures sflowtool rejects, with the error ours gives (kind, byte offset).
const REJECTED: &[(&str, ErrorKind, usize)] = &[
    // A 6-byte string in a 10-byte record: its padding would run past the record.
    (
        "goflow2/goflow2__TestSFlowDecodeDropExtendedFunction__5.pcap",
        ErrorKind::LengthMismatch,
        32,
    ),
    // The counters sample claims 116 bytes; 76 are there.
    (
        "gopacket/gopacket__SFlowTestPacket11.pcap",
        ErrorKind::LengthMismatch,
        32,
    ),
    // The flow sample claims 52 bytes, its records need 56 / 68.
    (
        "gopacket/gopacket__SFlowTestPacket5.pcap",
        ErrorKind::LengthMismatch,
        72,
    ),
    (
        "gopacket/gopacket__SFlowTestPacket8.pcap",
        ErrorKind::LengthMismatch,
        72,
    ),
];

/// Captures sflowtool rejects that this decoder accepts on purpose: Brocade's 4 bytes of
/// padding inside a flow sample after its last record (sflowtool#8). The spec says to
/// skip by the opaque length, so the records decode and the 4 bytes are reported as the
/// sample's trailing bytes.
const ACCEPTED_QUIRKS: &[&str] = &["vflow/vflow__TestsFlowRawPacketWithPaddingAfterSample.pcap"];

fn rel(path: &std::path::Path) -> String {
    path.strip_prefix(sflow_root())
        .unwrap()
        .display()
        .to_string()
}

/// Compares one datagram with sflowtool's decode; returns the number of values compared.
fn compare(ours: &Value, theirs: &Value, at: &str) -> usize {
    let mut n = 0;
    let (o, t) = (ours.as_object().unwrap(), theirs.as_object().unwrap());
    for (k, v) in o {
        if k == "samples" {
            continue;
        }
        assert_eq!(Some(v), t.get(k), "{at}: {k}");
        n += 1;
    }
    let (os, ts) = (
        o["samples"].as_array().unwrap(),
        t["samples"].as_array().unwrap(),
    );
    assert_eq!(os.len(), ts.len(), "{at}: samples");
    for (i, (s, ts)) in os.iter().zip(ts).enumerate() {
        let at = format!("{at} sample {i}");
        for (k, v) in s.as_object().unwrap() {
            if k != "elements" {
                assert_eq!(Some(v), ts.get(k), "{at}: {k}");
                n += 1;
            }
        }
        let (Some(oe), Some(te)) = (s.get("elements"), ts.get("elements")) else {
            continue;
        };
        let (oe, te) = (oe.as_array().unwrap(), te.as_array().unwrap());
        assert_eq!(oe.len(), te.len(), "{at}: elements");
        for (e, te) in oe.iter().zip(te) {
            let e = e.as_object().unwrap();
            if e.len() > 1 && e.contains_key("counterBlock_tag") {
                // A record we decode: every field sflowtool prints, and no other.
                assert_eq!(Some(e), te.as_object(), "{at}");
                n += e.len();
            } else {
                for (k, v) in e {
                    assert_eq!(Some(v), te.get(k), "{at}: {k}");
                    n += 1;
                }
            }
        }
    }
    n
}

#[test]
fn every_capture_agrees_with_sflowtool_field_by_field() {
    let mut compared = 0;
    let mut datagrams = 0;
    let mut counter_records = 0;
    for cap in captures() {
        let name = rel(&cap);
        let captured = udp_datagrams(&cap);
        let lines = sflowtool_lines(&cap);
        assert_eq!(captured.len(), lines.len(), "{name}");
        let rejected = REJECTED.iter().find(|(f, _, _)| *f == name);
        for (i, (c, line)) in captured.iter().zip(&lines).enumerate() {
            let info = CaptureInfo {
                source: None,
                timestamp: Some(c.timestamp),
            };
            let mut text = String::new();
            let result = write_datagram(&mut text, &c.payload, &info);
            if let Some((_, kind, offset)) = rejected {
                let e = result.unwrap_err();
                assert_eq!((e.kind(), e.offset()), (*kind, *offset), "{name}");
                assert!(sflowtool_rejected(&cap).is_some(), "{name}");
                assert!(text.is_empty(), "a rejected datagram writes nothing");
                continue;
            }
            result.unwrap_or_else(|e| panic!("{name} #{i}: {e}"));
            let ours: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
            if ACCEPTED_QUIRKS.contains(&name.as_str()) {
                assert!(sflowtool_rejected(&cap).is_some());
                continue;
            }
            let theirs = line
                .as_ref()
                .unwrap_or_else(|| panic!("{name} #{i}: sflowtool line is not JSON"));
            compared += compare(&ours, theirs, &format!("{name} #{i}"));
            datagrams += 1;
            let d = Datagram::parse(&c.payload).unwrap();
            for s in d.samples() {
                if let Sample::Counters(cs) = s.unwrap() {
                    counter_records += cs.records().count();
                }
            }
        }
    }
    println!("{datagrams} datagrams, {counter_records} counter records, {compared} values equal to sflowtool's");
    assert!(datagrams > 2500, "{datagrams}");
    assert!(compared > 100_000, "{compared}");
}

#[test]
fn brocade_padding_is_accepted_and_reported() {
    let cap = sflow_root().join(ACCEPTED_QUIRKS[0]);
    let payload = &udp_payloads(&cap)[0];
    let d = Datagram::parse(payload).unwrap();
    let mut padded = 0;
    for s in d.samples() {
        if let Sample::Flow(f) = s.unwrap() {
            let mut records = f.records();
            for r in records.by_ref() {
                r.unwrap();
            }
            if records.trailing() == 4 {
                padded += 1;
            }
        }
    }
    // Three of its five flow samples carry the 4 extra bytes.
    assert_eq!(padded, 3);
}

#[test]
fn trailing_bytes_after_the_declared_samples_are_reported() {
    for (file, bytes) in [
        ("akvorado/data-discard-interface.pcap", 964),
        ("goflow2/goflow2__TestExpandedSFlowDecode__2.pcap", 332),
    ] {
        let payload = &udp_payloads(&sflow_root().join(file))[0];
        let d = Datagram::parse(payload).unwrap();
        let mut samples = d.samples();
        assert_eq!(
            samples.by_ref().filter(|s| s.is_ok()).count() as u32,
            d.num_samples
        );
        assert_eq!(samples.trailing(), bytes, "{file}");
    }
}

/// Re-encodes a decoded datagram with the encoder.
fn reemit(payload: &[u8], out: &mut [u8]) -> usize {
    let d = Datagram::parse(payload).unwrap();
    let mut w = Writer::new(out);
    let count_at = d.emit_header(&mut w).unwrap();
    let mut n = 0;
    for s in d.samples() {
        match s.unwrap() {
            Sample::Counters(c) => {
                let records: Vec<CounterRecord<'_>> = c.records().map(Result::unwrap).collect();
                sample::emit_counters(&mut w, &c, &records).unwrap();
            }
            Sample::Flow(f) => {
                let records: Vec<FlowRecord<'_>> = f.records().map(Result::unwrap).collect();
                sample::emit_flow(&mut w, &f, &records).unwrap();
            }
            Sample::Unknown { format, data } => sample::emit_unknown(&mut w, format, data).unwrap(),
        }
        n += 1;
    }
    w.patch_u32(count_at, n);
    w.len()
}

#[test]
fn emitting_a_decoded_datagram_reproduces_its_bytes() {
    let (mut exact, mut padding_only) = (0, 0);
    for cap in captures() {
        let name = rel(&cap);
        if REJECTED.iter().any(|(f, _, _)| *f == name) || ACCEPTED_QUIRKS.contains(&name.as_str()) {
            continue;
        }
        for payload in udp_payloads(&cap) {
            let d = Datagram::parse(&payload).unwrap();
            let mut samples = d.samples();
            for s in samples.by_ref() {
                s.unwrap();
            }
            let used = payload.len() - samples.trailing();
            let mut out = vec![0u8; 65_536];
            let n = reemit(&payload, &mut out);
            assert_eq!(n, used, "{name}");
            if out[..n] == payload[..used] {
                exact += 1;
            } else {
                // Some agents leave packet bytes in XDR padding; the encoder writes zeros
                // there, and only there.
                for (i, (a, b)) in out[..n].iter().zip(&payload[..used]).enumerate() {
                    assert!(
                        a == b || *a == 0,
                        "{name}: byte {i} differs outside padding"
                    );
                }
                let mut again = String::new();
                let mut first = String::new();
                let info = CaptureInfo::default();
                write_datagram(&mut again, &out[..n], &info).unwrap();
                write_datagram(&mut first, &payload, &info).unwrap();
                assert_eq!(
                    first.replace(&format!("\"datagramSize\":\"{}\"", payload.len()), ""),
                    again.replace(&format!("\"datagramSize\":\"{n}\""), "")
                );
                padding_only += 1;
            }
        }
    }
    println!(
        "{exact} datagrams re-emitted byte for byte, {padding_only} equal but for non-zero padding"
    );
    assert!(exact > 2400, "{exact}");
}
