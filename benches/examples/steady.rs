//! Best-of-batches times for the small inputs whose criterion medians sit near 1 GB/s.
//!
//! This project's VM has slow phases, from a fraction of a second to several seconds,
//! in which the same code runs up to 1.7 times slower (other guests on the host, as far
//! as can be told from inside). Criterion's median over a 3-second measurement can fall
//! inside one. Here each parser runs 200 short batches of 20,000 calls, and both the best batch
//! and the median batch are printed, so a slow phase shows as a gap between the two
//! instead of moving the figure. `benches/README.md` gives both next to criterion's.
//!
//! `cargo run --release -p ferrostat-benches --example steady`

use std::hint::black_box;

use ferrostat_benches::batch_times_ns;
use ferrostat_core::procfs::{loadavg, mountinfo, pid_io, pid_stat, pid_statm, pid_status, uptime};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/data/proc/");

/// A parser under test, reduced to one value so the parse cannot be optimised away.
type Parse = fn(&[u8]) -> u64;

fn main() {
    let status: Parse = |i| pid_status::parse(i).map_or(0, |s| s.vm_rss.unwrap_or(0));
    let stat: Parse = |i| pid_stat::parse(i).map_or(0, |s| s.utime);
    let inputs: [(&str, Parse); 10] = [
        ("local/proc/1/stat", stat),
        ("gopsutil/process/proc/68927/stat", stat),
        ("local/proc/1/statm", |i| {
            pid_statm::parse(i).map_or(0, |s| s.resident)
        }),
        ("local/proc/uptime", |i| {
            uptime::parse(i).map_or(0, |u| u.uptime_secs as u64)
        }),
        ("local/proc/loadavg", |i| {
            loadavg::parse(i).map_or(0, |l| u64::from(l.total))
        }),
        ("local/proc/2343/io", |i| {
            pid_io::parse(i).map_or(0, |io| io.rchar.unwrap_or(0))
        }),
        ("local/proc/1/status", status),
        ("prometheus-procfs/proc/26231/status", status),
        ("gopsutil/process/proc/1060/status", status),
        ("local/proc/1/mountinfo", |i| {
            let mut mounts = ferrostat_core::Table::<mountinfo::Mount<'_>, 64>::new();
            mountinfo::parse_into(i, &mut mounts).map_or(0, |s| u64::from(s.parsed))
        }),
    ];
    println!(
        "input                                 bytes  best ns  median ns   GB/s best / median"
    );
    for (rel, parse) in inputs {
        let file = std::fs::read(format!("{DATA}{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let times = batch_times_ns(200, 20_000, || {
            black_box(parse(black_box(&file)));
        });
        let (best, median) = (times[0], times[times.len() / 2]);
        let gbps = |ns: f64| file.len() as f64 / ns;
        println!(
            "{rel:36} {:6} {best:8.1} {median:10.1}   {:.2} / {:.2}",
            file.len(),
            gbps(best),
            gbps(median)
        );
    }
}
