//! The sFlow decoder on real captures: datagrams per second and bytes per second.
//! `cargo bench -p ferrostat-benches --bench sflow`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ferrostat_core::metrics::ServerHostSample;
use ferrostat_core::sflow::{Datagram, Sample};

#[path = "../../core/tests/common/sflow.rs"]
mod sflow_files;

/// Decodes a datagram completely: header, every sample, every record.
fn decode(payload: &[u8]) -> usize {
    let Ok(d) = Datagram::parse(payload) else {
        return 0;
    };
    let mut n = 0;
    for s in d.samples() {
        match s {
            Ok(Sample::Counters(c)) => n += c.records().filter(Result::is_ok).count(),
            Ok(Sample::Flow(f)) => n += f.records().filter(Result::is_ok).count(),
            Ok(Sample::Unknown { .. }) => n += 1,
            Err(_) => break,
        }
    }
    n
}

/// Decodes and folds every counter record into a host sample, as the collector does.
fn decode_into(payload: &[u8], host: &mut ServerHostSample) -> usize {
    let Ok(d) = Datagram::parse(payload) else {
        return 0;
    };
    let mut n = 0;
    for s in d.samples().flatten() {
        if let Sample::Counters(c) = s {
            for r in c.records().flatten() {
                n += usize::from(host.apply_sflow(&r));
            }
        }
    }
    n
}

fn captures(c: &mut Criterion) {
    let root = sflow_files::sflow_root();
    let sets = [
        ("hsflowd_host_counters", "hsflowd-live.pcap"),
        ("libsflow_virt_counters", "libsflow-harness-virt-ipv4.pcap"),
        ("switch_counters_and_flows", "misc/overflowd__sflow.pcap"),
    ];
    let mut group = c.benchmark_group("sflow_decode");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    let mut host = Box::<ServerHostSample>::default();
    for (label, file) in sets {
        let payloads = sflow_files::udp_payloads(&root.join(file));
        let bytes: usize = payloads.iter().map(Vec::len).sum();
        group.throughput(Throughput::Elements(payloads.len() as u64));
        group.bench_function(format!("{label}/datagrams"), |b| {
            b.iter(|| payloads.iter().map(|p| decode(black_box(p))).sum::<usize>())
        });
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_function(format!("{label}/bytes"), |b| {
            b.iter(|| payloads.iter().map(|p| decode(black_box(p))).sum::<usize>())
        });
        group.throughput(Throughput::Elements(payloads.len() as u64));
        group.bench_function(format!("{label}/into_host_sample"), |b| {
            b.iter(|| {
                payloads
                    .iter()
                    .map(|p| decode_into(black_box(p), &mut host))
                    .sum::<usize>()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, captures);
criterion_main!(benches);
