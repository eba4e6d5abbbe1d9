//! Parses one corpus file `CALLS` times with a row parser (diskstats, pid/stat or
//! net/snmp), for counting instructions under valgrind as `stat_repeat` does for the
//! 256-CPU stat, and for timing two builds against each other: the difference between two
//! call counts is the parses' own.
//!
//! ```sh
//! cargo build --profile bench -p ferrostat-benches --example row_repeat
//! for n in 1000 2000; do
//!   valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
//!     target/release/examples/row_repeat diskstats node_exporter/proc/diskstats $n 2>&1 |
//!     grep 'I *refs'
//! done
//! ```

use std::hint::black_box;

use ferrostat_core::procfs::{diskstats, net_snmp, pid_stat};
use ferrostat_core::Table;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/data/proc/");

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [parser, file, calls] = args.as_slice() else {
        eprintln!(
            "usage: row_repeat diskstats|pid_stat|net_snmp FILE-UNDER-core/tests/data/proc CALLS"
        );
        std::process::exit(2);
    };
    let calls: u32 = calls.parse().expect("CALLS is a number");
    let input = std::fs::read(format!("{DATA}{file}")).expect("a corpus file");
    let mut disks = Box::new(Table::<diskstats::Disk<'_>, 256>::new());
    for _ in 0..calls {
        match parser.as_str() {
            "diskstats" => {
                black_box(diskstats::parse_into(black_box(&input), &mut disks).expect("parses"));
            }
            "pid_stat" => {
                black_box(pid_stat::parse(black_box(&input)).expect("parses"));
            }
            "net_snmp" => {
                black_box(net_snmp::parse(black_box(&input)).expect("parses"));
            }
            other => {
                eprintln!("unknown parser {other}");
                std::process::exit(2);
            }
        }
    }
}
