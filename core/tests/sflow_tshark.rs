//! Every sFlow capture of the corpus through tshark (Wireshark's sFlow dissector, run by
//! the test) and through the core's decoder: the datagram headers, every sample's header,
//! and the interface counter and raw packet header records must agree. sflowtool's
//! stored decodes check every field (`sflow_corpus.rs`); this is a second, independent
//! decoder, run live.
//!
//! tshark 4.0 misreads one thing in this corpus (the corpus INDEX marks those captures
//! "malformed"): it does not skip a 0:1005 port name record, hsflowd's interface name,
//! by its length, and loses the interface counters that follow it. Those records are
//! counted apart, and the test fails if tshark does decode them.

#[path = "common/sflow.rs"]
mod sflow_files;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::path::Path;
use std::process::Command;

use ferrostat_core::sflow::sample::Interface;
use ferrostat_core::sflow::{CounterRecord, Datagram, FlowRecord, Sample};
use serde_json::Value;
use sflow_files::*;

/// Each field tshark prints, in the order it meets them in one datagram.
type Fields = BTreeMap<String, Vec<String>>;

/// tshark's sFlow layer of every frame of a capture, as `-T ek` flattens it: a field seen
/// once is a value, one seen more often a list.
fn tshark_frames(capture: &Path) -> Vec<Fields> {
    let out = Command::new("tshark")
        .args(["-n", "-T", "ek", "-r"])
        .arg(capture)
        .output()
        .expect("tshark runs (scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            let layer = v.get("layers")?.get("sflow")?.as_object()?.clone();
            let text = |v: &Value| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Some(
                layer
                    .into_iter()
                    .map(|(k, v)| {
                        let values = match &v {
                            Value::Array(items) => items.iter().map(text).collect(),
                            other => vec![text(other)],
                        };
                        (k, values)
                    })
                    .collect(),
            )
        })
        .collect()
}

/// The core's decode of one datagram under tshark's field names, for the fields compared,
/// and how many 0:1 records follow a 0:1005 record in their sample; the error of a
/// datagram it rejects.
fn ours(payload: &[u8]) -> ferrostat_core::Result<(Fields, usize)> {
    let mut after_port_name = 0;
    let mut f = Fields::new();
    let mut put = |key: &str, value: &dyn Display| {
        f.entry(format!("sflow_sflow_{key}"))
            .or_default()
            .push(value.to_string());
    };
    let d = Datagram::parse(payload)?;
    put("245_version", &"5");
    put("245_agent", &d.agent);
    put("245_sub_agent_id", &d.sub_agent_id);
    put("245_sequence_number", &d.sequence_number);
    put("245_sysuptime", &d.uptime_ms);
    put("245_numsamples", &d.num_samples);
    let raw = |i: Interface| (i.format << 30) | i.value;
    let counter = |v: Option<u32>| v.unwrap_or(u32::MAX);
    for sample in d.samples() {
        match sample? {
            Sample::Flow(s) => {
                put("245_sampletype", &if s.expanded { "3" } else { "1" });
                put("flow_sample_sequence_number", &s.sequence_number);
                if s.expanded {
                    put("flow_sample_source_id_type", &s.source_id.class);
                    put("flow_sample_source_id_index", &s.source_id.index);
                    put("flow_sample_input_interface_format", &s.input.format);
                    put("flow_sample_input_interface_value", &s.input.value);
                } else {
                    put("flow_sample_source_id_class", &s.source_id.class);
                    put("flow_sample_index", &s.source_id.index);
                    put("flow_sample_input_interface", &raw(s.input));
                }
                put("flow_sample_sampling_rate", &s.sampling_rate);
                put("flow_sample_sample_pool", &s.sample_pool);
                put("flow_sample_dropped_packets", &s.drops);
                put("flow_sample_output_interface_format", &s.output.format);
                put("flow_sample_output_interface_value", &s.output.value);
                put("flow_sample_flow_record", &s.num_records);
                for record in s.records() {
                    if let FlowRecord::RawPacketHeader(h) = record? {
                        put("245_header_protocol", &h.protocol);
                        put("245_header_frame_length", &h.frame_length);
                        put("245_header_payload_stripped", &h.stripped);
                        put("245_header_sampled_header_length", &h.header.len());
                    }
                }
            }
            Sample::Counters(s) => {
                put("245_sampletype", &if s.expanded { "4" } else { "2" });
                put("counters_sample_sequence_number", &s.sequence_number);
                put("counters_sample_source_id_type", &s.source_id.class);
                put("counters_sample_source_id_index", &s.source_id.index);
                put("counters_sample_counters_records", &s.num_records);
                let mut port_name = false;
                for record in s.records() {
                    let record = record?;
                    port_name |= matches!(record, CounterRecord::PortName(_));
                    if port_name && matches!(record, CounterRecord::Interface(_)) {
                        after_port_name += 1;
                        continue;
                    }
                    if let CounterRecord::Interface(c) = record {
                        put("245_ifindex", &c.if_index);
                        put("245_iftype", &c.if_type);
                        put("245_ifspeed", &c.if_speed);
                        put("245_ifdirection", &c.if_direction);
                        put("245_ifadmin_status", &(c.if_status & 1 != 0));
                        put("245_ifoper_status", &(c.if_status & 2 != 0));
                        put("245_ifinoct", &c.in_octets.unwrap_or(u64::MAX));
                        put("245_ifinpkt", &counter(c.in_ucast_pkts));
                        put("245_ifinmcast", &counter(c.in_multicast_pkts));
                        put("245_ifinbcast", &counter(c.in_broadcast_pkts));
                        put("245_ifindisc", &counter(c.in_discards));
                        put("245_ifinerr", &counter(c.in_errors));
                        put("245_ifinunk", &counter(c.in_unknown_protos));
                        put("245_ifoutoct", &c.out_octets.unwrap_or(u64::MAX));
                        put("245_ifoutpkt", &counter(c.out_ucast_pkts));
                        put("245_ifoutmcast", &counter(c.out_multicast_pkts));
                        put("245_ifoutbcast", &counter(c.out_broadcast_pkts));
                        put("245_ifoutdisc", &counter(c.out_discards));
                        put("245_ifouterr", &counter(c.out_errors));
                        put("245_ifpromisc", &c.promiscuous_mode);
                    }
                }
            }
            Sample::Unknown { format, .. } => {
                put("245_sampletype", &format.format);
            }
        }
    }
    Ok((f, after_port_name))
}

#[test]
fn every_capture_agrees_with_tshark() {
    let mut found = BTreeSet::new();
    let (mut datagrams, mut rejected, mut compared, mut lost) = (0, 0, 0, 0);
    for capture in captures() {
        let name = capture
            .strip_prefix(sflow_root())
            .unwrap()
            .display()
            .to_string();
        let payloads = udp_payloads(&capture);
        let frames = tshark_frames(&capture);
        assert_eq!(
            frames.len(),
            payloads.len(),
            "{name}: frames tshark decoded"
        );
        for (i, (payload, theirs)) in payloads.iter().zip(&frames).enumerate() {
            let Ok((fields, after_port_name)) = ours(payload) else {
                // sflow_corpus.rs checks the errors of the captures the core rejects.
                rejected += 1;
                continue;
            };
            datagrams += 1;
            lost += after_port_name;
            for (key, values) in fields {
                compared += values.len();
                let tshark = theirs.get(&key).cloned().unwrap_or_default();
                if tshark != values {
                    found.insert(format!("{name} #{i}: {key}: {values:?} != {tshark:?}"));
                }
            }
        }
    }
    for f in &found {
        println!("{f}");
    }
    println!(
        "{datagrams} datagrams, {compared} values compared with tshark, \
         {lost} interface records after a port name left out"
    );
    assert_eq!(found, BTreeSet::new());
    // The four one-datagram captures sflowtool rejects too.
    assert_eq!(rejected, 4);
    // hsflowd-live (15 datagrams), gopacket's packets 9 and 12, telegraf's example.
    assert_eq!(lost, 18);
    assert!(
        datagrams > 2500 && compared > 100_000,
        "{datagrams} {compared}"
    );
}
