//! Parses the synthetic 256-CPU /proc/stat `CALLS` times with one parser, for counting
//! instructions under valgrind: the count is the same on every run, where a VM's timings
//! are not, and the difference between two call counts is the parses' own.
//!
//! ```sh
//! cargo build --profile bench -p ferrostat-benches --example stat_repeat
//! for p in ferrostat procfs; do for n in 100 200; do
//!   valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
//!     target/release/examples/stat_repeat $p $n 2>&1 | grep 'I *refs'
//! done; done
//! ```

use std::hint::black_box;

use ferrostat_benches::{procfs_kernel_stats, procfs_system_info, synthetic_stat_256};
use ferrostat_core::procfs::stat;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(parser), Some(Ok(calls))) = (args.next(), args.next().map(|n| n.parse::<u32>()))
    else {
        eprintln!("usage: stat_repeat ferrostat|procfs CALLS");
        std::process::exit(2);
    };
    let input = synthetic_stat_256();
    match parser.as_str() {
        "ferrostat" => {
            let mut out = Box::new(stat::Stat::<512>::default());
            for _ in 0..calls {
                stat::parse_into(black_box(input), &mut out).expect("the synthetic stat parses");
                black_box(&out);
            }
        }
        "procfs" => {
            let system = procfs_system_info();
            for _ in 0..calls {
                black_box(procfs_kernel_stats(black_box(input), &system));
            }
        }
        other => {
            eprintln!("unknown parser {other:?}: ferrostat or procfs");
            std::process::exit(2);
        }
    }
}
