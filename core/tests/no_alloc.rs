//! Runtime proof that the parsers never allocate: a counting global allocator wraps the
//! system one, and every parser runs over the whole corpus with the counter armed.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::*;
use ferrostat_core::procfs::*;
use ferrostat_core::Table;

struct Counting;

thread_local! {
    // Per thread, so the test harness's other threads do not disturb the count.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(|c| c.get());
    f();
    ALLOCATIONS.with(|c| c.get()) - before
}

/// The parsers' work on one file, with every aggregate on the stack or preallocated.
fn parse_everything(kind: Kind, b: &[u8], stat_out: &mut stat::Stat<1024>) {
    match kind {
        Kind::Stat => {
            let _ = stat::parse_into(b, stat_out);
            records_count(stat::records(b));
        }
        Kind::Meminfo => {
            let _ = meminfo::parse(b);
            records_count(meminfo::records(b));
        }
        Kind::Loadavg => drop(loadavg::parse(b)),
        Kind::Uptime => drop(uptime::parse(b)),
        Kind::NetDev => {
            let _ = net_dev::parse_into(b, &mut Table::<_, 64>::new());
        }
        Kind::Diskstats => {
            let _ = diskstats::parse_into(b, &mut Table::<_, 256>::new());
        }
        Kind::Cpuinfo => {
            let mut info = cpuinfo::CpuInfo::<1024>::default();
            let _ = cpuinfo::parse_into(b, &mut info);
            let _ = (info.cores(), info.sockets(), info.logical());
        }
        Kind::PidStat => drop(pid_stat::parse(b)),
        Kind::PidStatus => {
            if let Ok(s) = pid_status::parse(b) {
                let mut buf = [0u8; 64];
                let _ = s.name.map(|n| n.decode_into(&mut buf).map(|d| d.len()));
            }
        }
        Kind::PidStatm => drop(pid_statm::parse(b)),
        Kind::PidIo => drop(pid_io::parse(b)),
        Kind::Mountinfo => {
            let mut t = Table::<_, 256>::new();
            let _ = mountinfo::parse_into(b, &mut t);
            for m in t.iter() {
                let _ = m.mount_point.decoded().count();
            }
        }
        Kind::Mounts => {
            let _ = mounts::parse_into(b, &mut Table::<_, 256>::new());
        }
        Kind::Pressure => drop(pressure::parse(b)),
        Kind::NetSnmp => {
            let _ = net_snmp::parse(b);
            records_count(net_snmp::records(b));
        }
        Kind::Vmstat => {
            let _ = vmstat::parse(b);
        }
    }
}

fn records_count<T>(it: impl Iterator<Item = T>) -> usize {
    it.count()
}

#[test]
fn parsers_make_zero_allocations_over_the_whole_corpus() {
    // Read everything first: the I/O and the Vec it fills allocate, the parsing must not.
    let files: Vec<(Kind, Vec<u8>)> = corpus_files()
        .into_iter()
        .map(|(p, k)| (k, std::fs::read(p).unwrap()))
        .collect();
    let mut stat_out = Box::new(stat::Stat::<1024>::default());
    let n = allocations_during(|| {
        for (kind, bytes) in &files {
            parse_everything(*kind, bytes, &mut stat_out);
        }
    });
    assert_eq!(
        n,
        0,
        "parsers allocated {n} times over {} files",
        files.len()
    );
    assert!(files.len() >= 550);
}

#[cfg(feature = "serde")]
#[test]
fn metric_model_and_encoders_make_zero_allocations() {
    let stat_bytes = read("local/proc/stat");
    let mem_bytes = read("local/proc/meminfo");
    let dev_bytes = read("local/proc/net/dev");
    let disk_bytes = read("local/proc/diskstats");
    let mut sample = Box::new(ferrostat_core::metrics::ServerHostSample::default());
    let mut buf = vec![0u8; 256 * 1024];
    let mut stat_out = Box::new(stat::Stat::<512>::default());
    let n = allocations_during(|| {
        stat::parse_into(&stat_bytes, &mut stat_out).unwrap();
        sample.set_cpu(&stat_out, 100);
        sample.set_memory(&meminfo::parse(&mem_bytes).unwrap());
        let mut nics = Table::<_, 64>::new();
        net_dev::parse_into(&dev_bytes, &mut nics).unwrap();
        sample.set_interfaces(&nics);
        let mut disks = Table::<_, 128>::new();
        diskstats::parse_into(&disk_bytes, &mut disks).unwrap();
        sample.set_disks(&disks);
        ferrostat_core::metrics::encode::to_json(&*sample, &mut buf).unwrap();
        ferrostat_core::metrics::encode::to_postcard(&*sample, &mut buf).unwrap();
        ferrostat_core::metrics::encode::to_postcard_cobs(&*sample, &mut buf).unwrap();
    });
    assert_eq!(n, 0);
    assert_eq!(sample.interfaces.len(), 4);
}

#[test]
fn the_counter_sees_allocations() {
    // Guards the guard: if the allocator were not counting, the tests above would pass
    // for the wrong reason.
    let n = allocations_during(|| {
        let v = std::hint::black_box(vec![1u8; 100]);
        drop(v);
    });
    assert_eq!(n, 1);
}

#[path = "common/sflow.rs"]
mod sflow_files;

/// Counts what is written and keeps nothing.
struct Discard(usize);

impl std::fmt::Write for Discard {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

#[test]
fn sflow_decoder_encoder_and_sflowtool_writer_make_zero_allocations() {
    use ferrostat_core::sflow::sflowtool::{write_datagram, CaptureInfo};
    use ferrostat_core::sflow::xdr::Writer;
    use ferrostat_core::sflow::{sample, Datagram, Sample};

    let payloads: Vec<Vec<u8>> = sflow_files::captures()
        .iter()
        .flat_map(|c| sflow_files::udp_payloads(c))
        .collect();
    let mut out = vec![0u8; 65_536];
    let mut sample_model = Box::new(ferrostat_core::metrics::ServerHostSample::default());
    let mut text = Discard(0);
    let mut records_seen = 0usize;
    let n = allocations_during(|| {
        for p in &payloads {
            let _ = write_datagram(&mut text, p, &CaptureInfo::default());
            let Ok(d) = Datagram::parse(p) else { continue };
            let mut w = Writer::new(&mut out);
            let _ = d.emit_header(&mut w);
            for s in d.samples() {
                let Ok(s) = s else { break };
                if let Sample::Counters(c) = s {
                    for r in c.records().flatten() {
                        sample_model.apply_sflow(&r);
                        records_seen += 1;
                    }
                    // Re-emit straight from the decoding iterator: no collection needed.
                    let records = c.records().flatten();
                    let mut buf = [ferrostat_core::sflow::CounterRecord::Unknown {
                        format: ferrostat_core::sflow::DataFormat::standard(0),
                        data: &[],
                    }; 16];
                    let mut k = 0;
                    for r in records.take(16) {
                        buf[k] = r;
                        k += 1;
                    }
                    let _ = sample::emit_counters(&mut w, &c, &buf[..k]);
                }
            }
        }
    });
    assert_eq!(
        n,
        0,
        "sflow path allocated {n} times over {} datagrams",
        payloads.len()
    );
    assert!(records_seen > 1000 && text.0 > 1_000_000);
}
