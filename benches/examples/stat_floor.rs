//! What converting the numbers of the synthetic 256-CPU /proc/stat costs by itself, set
//! against the whole parse and against procfs on the same bytes.
//!
//! #2 asks for 10 times procfs's speed on this input. The CPU lines hold 2,826 numbers.
//! Here every field's position is found beforehand, and only the conversion that
//! `stat::parse_into` does once it knows a field's end is timed
//! (`text::digits_ending_at`: the 8 bytes that end at the field, masked and converted
//! eight digits at a time). That time is a floor for any parse that converts with it:
//! nothing is left in it to find a field, check a separator or store a row. It is the
//! word-at-a-time path's conversion; on x86-64 `stat::parse_into` reads these lines with
//! SSE2 (`core/src/sse2.rs`), four numbers converted at once, and so runs under it.
//!
//! It also counts procfs's allocations on this input and times procfs's field work
//! without them (`split_whitespace` and `from_str_radix` over borrowed lines), which
//! shows how much of procfs's time the 10x target measures against is allocation.
//!
//! `cargo run --profile bench -p ferrostat-benches --example stat_floor`

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use ferrostat_benches::{
    best_ns, cpu_columns, procfs_kernel_stats, procfs_kernel_stats_ns, procfs_system_info,
    synthetic_stat_256,
};
use ferrostat_core::procfs::stat;
use ferrostat_core::text::digits_ending_at;

/// The system allocator, counting calls to `alloc` and `realloc`: how often procfs
/// allocates on this input.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on unchanged to `System`, which upholds the contract.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// What procfs does to each CPU line's fields, without its allocations: the file's
/// lines as borrowed `&str`s, then `split_whitespace` and `u64::from_str_radix` per
/// field (as `str::parse`), as `CpuTime::from_str` does. Returns the sum of the values, so none is skipped.
fn procfs_field_work(text: &str) -> u64 {
    let mut sum = 0;
    for line in text.lines().filter(|l| l.starts_with("cpu")) {
        for field in line.split_whitespace().skip(1) {
            // The same code as procfs's `from_str_radix(field, 10)`: `u64`'s `FromStr`.
            sum += field.parse::<u64>().unwrap_or(0);
        }
    }
    sum
}

/// `(end, len)` of every number, packed small as a parser's own indices would be, on the `cpu` lines, found by a plain byte walk.
fn cpu_fields(input: &[u8]) -> Vec<(u32, u32)> {
    let mut fields = Vec::new();
    let mut pos = 0;
    for line in input.split_inclusive(|&b| b == b'\n') {
        if let Some(rest) = line.strip_prefix(b"cpu") {
            let mut start = pos + 3;
            for (k, &b) in rest.iter().enumerate() {
                let at = pos + 3 + k;
                if !b.is_ascii_digit() {
                    if at > start {
                        fields.push((at as u32, (at - start) as u32));
                    }
                    start = at + 1;
                }
            }
        }
        pos += line.len();
    }
    fields
}

fn main() {
    let input = synthetic_stat_256();
    let fields = cpu_fields(input);
    let mut values = vec![0u64; fields.len()];

    let convert = |values: &mut [u64]| {
        for (value, &(end, len)) in values.iter_mut().zip(&fields) {
            *value = digits_ending_at(input, end as usize, len as usize).unwrap_or(u64::MAX);
        }
    };
    // The conversion is the parser's: check it reads every number the parser does.
    convert(&mut values);
    let mut parsed = Box::new(stat::Stat::<1024>::default());
    stat::parse_into(input, &mut parsed).expect("the synthetic file parses");
    let mut expected = cpu_columns(&parsed.total).to_vec();
    for cpu in parsed.cpus.iter() {
        expected.push(u64::from(cpu.id));
        expected.extend(cpu_columns(&cpu.times));
    }
    assert_eq!(
        values, expected,
        "converted numbers differ from the parser's"
    );

    let convert_ns = best_ns(2_000, || convert(black_box(&mut values)));
    let parse_ns = best_ns(2_000, || {
        black_box(stat::parse_into(black_box(input), &mut parsed).ok());
    });
    let procfs_ns = procfs_kernel_stats_ns(input);
    let text = std::str::from_utf8(input).expect("the synthetic file is ASCII");
    let fields_ns = best_ns(2_000, || {
        black_box(procfs_field_work(black_box(text)));
    });
    let si = procfs_system_info();
    let before = ALLOCATIONS.load(Relaxed);
    black_box(procfs_kernel_stats(input, &si));
    let procfs_allocations = ALLOCATIONS.load(Relaxed) - before;
    let lines = input.iter().filter(|&&b| b == b'\n').count();

    println!(
        "synthetic 256-CPU /proc/stat: {} bytes, {} numbers on its cpu lines",
        input.len(),
        fields.len()
    );
    println!(
        "converting them alone, positions known, one at a time: {convert_ns:8.0} ns ({:.2} ns a number)",
        convert_ns / fields.len() as f64
    );
    println!("stat::parse_into, the whole file:       {parse_ns:8.0} ns");
    println!(
        "procfs KernelStats, the whole file:     {procfs_ns:8.0} ns ({procfs_allocations} allocations for {lines} lines)"
    );
    println!(
        "procfs's field work alone (split_whitespace, from_str_radix; no String per line): {fields_ns:8.0} ns"
    );
    println!(
        "speed-up over procfs: parse {:.1}x; the scalar conversion alone {:.1}x, the ceiling of the word-at-a-time path",
        procfs_ns / parse_ns,
        procfs_ns / convert_ns
    );
    println!(
        "procfs's allocations and line reading are {:.0}% of its time; ten times procfs is {:.1}x its field work alone",
        100.0 * (procfs_ns - fields_ns) / procfs_ns,
        10.0 * fields_ns / procfs_ns
    );
}
