//! The sFlow decoder against hostile input, the encoder against the decoder (property
//! tests), and the conversion of host-sflow records into host samples.

#[path = "common/sflow.rs"]
mod sflow_files;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ferrostat_core::metrics::ServerHostSample;
use ferrostat_core::sflow::counter::*;
use ferrostat_core::sflow::xdr::Writer;
use ferrostat_core::sflow::{sample, CountersSample, Datagram, Sample, SourceId};
use ferrostat_core::ErrorKind;
use proptest::prelude::*;
use sflow_files::*;

/// Every record of every sample, for a datagram known to be valid.
fn counter_records(payload: &[u8]) -> Vec<(SourceId, CounterRecord<'_>)> {
    let d = Datagram::parse(payload).unwrap();
    let mut out = Vec::new();
    for s in d.samples() {
        if let Sample::Counters(c) = s.unwrap() {
            for r in c.records() {
                out.push((c.source_id, r.unwrap()));
            }
        }
    }
    out
}

#[test]
fn hsflowd_host_counters_become_a_host_sample() {
    let payloads = udp_payloads(&sflow_root().join("hsflowd-live.pcap"));
    let lines = sflowtool_lines(&sflow_root().join("hsflowd-live.pcap"));
    let mut s = Box::<ServerHostSample>::default();
    let (payload, line) = (&payloads[0], lines[0].as_ref().unwrap());
    for (source, r) in counter_records(payload) {
        if source == (SourceId { class: 2, index: 1 }) {
            s.apply_sflow(&r);
        }
    }
    let field = |tag: &str, name: &str| -> u64 {
        let e = line["samples"][0]["elements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["counterBlock_tag"] == tag)
            .unwrap();
        e[name].as_str().unwrap().parse().unwrap()
    };
    assert_eq!(s.cpu.user_ms, field("0:2003", "cpu_user"));
    assert_eq!(s.cpu.steal_ms, field("0:2003", "cpu_steal"));
    assert_eq!(s.memory.total_bytes, field("0:2004", "mem_total"));
    assert_eq!(s.memory.cached_bytes, field("0:2004", "mem_cached"));
    assert_eq!(s.load.total as u64, field("0:2003", "cpu_proc_total"));
    assert_eq!(s.load.one, 3.62);
    let all = s.interfaces.iter().find(|i| i.name == "all").unwrap();
    assert_eq!(all.rx_bytes, field("0:2006", "nio_bytes_in"));
    let disk = s.disks.iter().find(|d| d.name == "all").unwrap();
    assert_eq!(disk.write_bytes, field("0:2005", "disk_bytes_written"));
    assert!(!s.hostname.is_empty());
}

#[test]
fn virtual_machines_become_host_samples_too() {
    let payloads = udp_payloads(&sflow_root().join("libsflow-harness-virt-ipv4.pcap"));
    let mut vm = Box::<ServerHostSample>::default();
    for (source, r) in counter_records(&payloads[0]) {
        if source == (SourceId { class: 3, index: 2 }) {
            vm.apply_sflow(&r);
        }
    }
    assert_eq!(vm.hostname, "vm-0001");
    assert_eq!(vm.cpu.user_ms, 987654);
    assert_eq!(vm.memory.total_bytes, 8589934592);
    assert_eq!(vm.memory.free_bytes, 8589934592 - 4294967296);
    let nic = vm.interfaces.iter().find(|i| i.name == "all").unwrap();
    assert_eq!((nic.rx_bytes, nic.tx_packets), (123456789012, 2000));
    // The physical host's all-ones bytes_in is unknown: 0 in the model, None in the repr.
    let host = counter_records(&payloads[0]);
    let nio = host.iter().find_map(|(_, r)| match r {
        CounterRecord::HostNetIo(n) => Some(*n),
        _ => None,
    });
    assert_eq!(nio.unwrap().bytes_in, None);
    let disk = host.iter().find_map(|(_, r)| match r {
        CounterRecord::HostDiskIo(d) => Some(*d),
        _ => None,
    });
    assert_eq!(disk.unwrap().part_max_used, Percent(None));
}

fn hsflowd_datagram() -> Vec<u8> {
    udp_payloads(&sflow_root().join("hsflowd-live.pcap")).swap_remove(0)
}

#[test]
fn lying_lengths_and_counts_stop_the_datagram_with_an_offset() {
    let good = hsflowd_datagram();
    // Header: 28 bytes (IPv4 agent); the first sample's length is at 32.
    let mut lying = good.clone();
    lying[32..36].copy_from_slice(&0xffff_fff0u32.to_be_bytes());
    let e = Datagram::parse(&lying)
        .unwrap()
        .samples()
        .next()
        .unwrap()
        .unwrap_err();
    assert_eq!((e.kind(), e.offset()), (ErrorKind::LengthMismatch, 32));

    // One more sample declared than sent.
    let mut count = good.clone();
    let n = u32::from_be_bytes(count[24..28].try_into().unwrap());
    count[24..28].copy_from_slice(&(n + 1).to_be_bytes());
    let d = Datagram::parse(&count).unwrap();
    let last = d.samples().last().unwrap().unwrap_err();
    assert_eq!(
        (last.kind(), last.offset()),
        (ErrorKind::UnexpectedEnd, good.len())
    );

    // A record count larger than the records there.
    let mut records = good.clone();
    // expanded counters sample: tag, length, seq, class, index, then num_records at 48.
    let r = u32::from_be_bytes(records[48..52].try_into().unwrap());
    records[48..52].copy_from_slice(&(r + 1).to_be_bytes());
    assert_eq!(
        Datagram::parse(&records)
            .unwrap()
            .validate()
            .unwrap_err()
            .kind(),
        ErrorKind::UnexpectedEnd
    );

    let mut version = good.clone();
    version[3] = 4;
    assert_eq!(
        Datagram::parse(&version).unwrap_err().kind(),
        ErrorKind::BadVersion
    );
    let mut agent = good.clone();
    agent[7] = 3;
    let e = Datagram::parse(&agent).unwrap_err();
    assert_eq!((e.kind(), e.offset()), (ErrorKind::BadValue, 4));
}

#[test]
fn every_truncation_is_an_error_never_a_panic() {
    let good = hsflowd_datagram();
    for cut in 0..good.len() {
        let r = Datagram::parse(&good[..cut]).and_then(|d| d.validate());
        let e = r.unwrap_err();
        assert!(
            matches!(
                e.kind(),
                ErrorKind::UnexpectedEnd | ErrorKind::LengthMismatch
            ),
            "cut {cut}: {e}"
        );
        assert!(e.offset() <= cut);
    }
    Datagram::parse(&good).unwrap().validate().unwrap();
}

#[test]
fn oversized_strings_and_adapter_counts_are_rejected() {
    let mut buf = [0u8; 256];
    let mut w = Writer::new(&mut buf);
    let len_at = w.begin_tlv(2000).unwrap();
    w.opaque_var(&[b'h'; 65]).unwrap(); // hostname<64>
    w.bytes(&[0; 16]).unwrap();
    w.u32(3).unwrap();
    w.u32(2).unwrap();
    w.opaque_var(b"6.1").unwrap();
    w.end_tlv(len_at);
    let n = w.len();
    let body = &buf[8..n];
    let d = datagram_with_records(&[(2000, body)]);
    let e = Datagram::parse(&d).unwrap().validate().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadValue);

    // host_adapters claiming 2^30 MACs.
    let mut adapters = Vec::new();
    adapters.extend_from_slice(&1u32.to_be_bytes());
    adapters.extend_from_slice(&4u32.to_be_bytes());
    adapters.extend_from_slice(&(1u32 << 30).to_be_bytes());
    adapters.extend_from_slice(&[0u8; 8]);
    let d = datagram_with_records(&[(2001, &adapters)]);
    assert_eq!(
        Datagram::parse(&d).unwrap().validate().unwrap_err().kind(),
        ErrorKind::LengthMismatch
    );
}

/// A datagram with one expanded counters sample holding raw records.
fn datagram_with_records(records: &[(u32, &[u8])]) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let mut w = Writer::new(&mut buf);
    let header = Datagram::header(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9)), 0, 1, 1000);
    let count_at = header.emit_header(&mut w).unwrap();
    let sample_at = w.begin_tlv(4).unwrap();
    for v in [1u32, 2, 1, records.len() as u32] {
        w.u32(v).unwrap();
    }
    for (format, body) in records {
        let at = w.begin_tlv(*format).unwrap();
        w.bytes(body).unwrap();
        w.end_tlv(at);
    }
    w.end_tlv(sample_at);
    w.patch_u32(count_at, 1);
    let n = w.len();
    buf.truncate(n);
    buf
}

fn opt32() -> impl Strategy<Value = Option<u32>> {
    prop_oneof![Just(None), (0..u32::MAX).prop_map(Some)]
}

fn opt64() -> impl Strategy<Value = Option<u64>> {
    prop_oneof![Just(None), (0..u64::MAX).prop_map(Some)]
}

fn host_cpu() -> impl Strategy<Value = HostCpu> {
    let load = prop_oneof![
        Just(Load(None)),
        (0.0f32..512.0).prop_map(|v| Load(Some(v)))
    ];
    (
        (load.clone(), load.clone(), load),
        prop::collection::vec(opt32(), 14),
        prop::option::of(prop::collection::vec(opt32(), 3)),
    )
        .prop_map(|((l1, l5, l15), v, extra)| HostCpu {
            base: HostCpuBase {
                load_one: l1,
                load_five: l5,
                load_fifteen: l15,
                proc_run: v[0],
                proc_total: v[1],
                cpu_num: v[2],
                cpu_speed: v[3],
                uptime: v[4],
                cpu_user: v[5],
                cpu_nice: v[6],
                cpu_system: v[7],
                cpu_idle: v[8],
                cpu_wio: v[9],
                cpu_intr: v[10],
                cpu_sintr: v[11],
                interrupts: v[12],
                contexts: v[13],
            },
            extra: extra.map(|e| HostCpuExtra {
                cpu_steal: e[0],
                cpu_guest: e[1],
                cpu_guest_nice: e[2],
            }),
        })
}

fn disk() -> impl Strategy<Value = HostDiskIo> {
    (
        opt64(),
        opt64(),
        prop_oneof![Just(None), (0..10_000i32).prop_map(Some)],
        opt32(),
        opt64(),
        opt32(),
        opt32(),
        opt64(),
        opt32(),
    )
        .prop_map(|(t, f, p, r, br, rt, w, bw, wt)| HostDiskIo {
            disk_total: t,
            disk_free: f,
            part_max_used: Percent(p),
            reads: r,
            bytes_read: br,
            read_time: rt,
            writes: w,
            bytes_written: bw,
            write_time: wt,
        })
}

proptest! {
    #[test]
    fn parse_of_emit_is_identity(
        cpu in host_cpu(),
        disk in disk(),
        hostname in prop::collection::vec(any::<u8>(), 0..=64),
        release in prop::collection::vec(any::<u8>(), 0..=32),
        uuid in any::<[u8; 16]>(),
        vcpu in (any::<u32>(), opt32(), opt32()),
        seq in any::<u32>(),
        v6 in any::<bool>(),
        expanded in any::<bool>(),
        index in 0u32..0x00ff_ffff,
    ) {
        let descr = HostDescription {
            hostname: ferrostat_core::text::Text(&hostname),
            uuid,
            machine_type: 3,
            os_name: 2,
            os_release: ferrostat_core::text::Text(&release),
        };
        let records = [
            CounterRecord::HostCpu(cpu),
            CounterRecord::HostDiskIo(disk),
            CounterRecord::HostDescription(descr),
            CounterRecord::VirtCpu(VirtCpu { state: vcpu.0, cpu_time: vcpu.1, nr_virt_cpu: vcpu.2 }),
        ];
        let agent = if v6 { IpAddr::V6(Ipv6Addr::LOCALHOST) } else { IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)) };
        let mut buf = [0u8; 2048];
        let mut w = Writer::new(&mut buf);
        let count_at = Datagram::header(agent, 7, seq, 99).emit_header(&mut w).unwrap();
        let sample = CountersSample::new(expanded, seq, SourceId { class: 2, index });
        sample::emit_counters(&mut w, &sample, &records).unwrap();
        w.patch_u32(count_at, 1);
        let n = w.len();
        let d = Datagram::parse(&buf[..n]).unwrap();
        prop_assert_eq!((d.agent, d.sequence_number, d.num_samples), (agent, seq, 1));
        let Sample::Counters(c) = d.samples().next().unwrap().unwrap() else { panic!() };
        prop_assert_eq!((c.expanded, c.source_id), (expanded, SourceId { class: 2, index }));
        let back: Vec<CounterRecord<'_>> = c.records().map(Result::unwrap).collect();
        prop_assert_eq!(&back[..], &records[..]);
    }
}
