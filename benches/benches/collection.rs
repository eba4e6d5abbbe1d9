//! The agent's collection end to end, as issue #33 asks to judge the parsers by: a full
//! host sample and the node_exporter part of a `/metrics` page built from in-memory copies
//! of a real machine's files (parsing and mapping alone), beside this machine's live
//! /proc read bare and read into a full sample (what a caller pays, the kernel's text
//! generation included). A parser's second pass is worth keeping only if it could cut
//! the live sample by 10 %: it cannot where parsing and mapping the whole sample is less.
//! `cargo bench -p ferrostat-benches --bench collection`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use ferrostat_agent::__bench::{InMemoryHost, LiveHost, FILES};

const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../core/tests/data/proc/local/proc/"
);

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

/// The corpus machine's files (a 2-CPU VM); its hostname was not copied, so one is made up.
fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    FILES
        .iter()
        .filter_map(|rel| {
            let bytes = match *rel {
                "sys/kernel/hostname" => b"corpus-host\n".to_vec(),
                _ => std::fs::read(format!("{DATA}{rel}")).ok()?,
            };
            Some((*rel, bytes))
        })
        .collect()
}

fn collection(c: &mut Criterion) {
    let files = corpus();
    let borrowed: Vec<(&str, &[u8])> = files.iter().map(|(r, b)| (*r, b.as_slice())).collect();
    let in_memory = InMemoryHost::new(&borrowed);
    assert_eq!(
        in_memory.sample(),
        4,
        "the corpus machine has four interfaces"
    );
    let mut page = String::new();
    assert!(in_memory.metrics_page(&mut page) > 10_000);
    let mut live = LiveHost::new();
    assert!(live.sample() > 0, "this machine's /proc has interfaces");

    let mut g = c.benchmark_group("collection");
    g.bench_function("in_memory_sample", |b| {
        b.iter(|| black_box(in_memory.sample()))
    });
    g.bench_function("in_memory_metrics_page", |b| {
        b.iter(|| black_box(in_memory.metrics_page(&mut page)))
    });
    g.bench_function("live_read_only", |b| b.iter(|| black_box(live.read_only())));
    g.bench_function("live_sample", |b| b.iter(|| black_box(live.sample())));
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = collection
}
criterion_main!(benches);
