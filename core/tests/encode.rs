//! Round trips of the metric model through JSON (serde-json-core), postcard and
//! COBS-framed postcard, built from real /proc files, into fixed caller buffers.
#![cfg(feature = "serde")]

mod common;

use common::*;
use ferrostat_core::metrics::encode::{self, EncodeError};
use ferrostat_core::metrics::{McuHostSample, ServerHostSample};
use ferrostat_core::procfs::*;
use ferrostat_core::Table;

fn server_sample(root: &str) -> Box<ServerHostSample> {
    let mut s = Box::<ServerHostSample>::default();
    s.timestamp_ms = 1_795_351_748_123;
    s.hostname.push_str("vm").unwrap();
    let mut st = Box::new(stat::Stat::<512>::default());
    stat::parse_into(&read(&format!("{root}/stat")), &mut st).unwrap();
    s.set_cpu(&st, 100);
    s.set_memory(&meminfo::parse(&read(&format!("{root}/meminfo"))).unwrap());
    s.set_load(&loadavg::parse(&read(&format!("{root}/loadavg"))).unwrap());
    s.uptime_secs = uptime::parse(&read(&format!("{root}/uptime")))
        .unwrap()
        .uptime_secs;
    let dev = read(&format!("{root}/net/dev"));
    let mut nics = Table::<_, 64>::new();
    net_dev::parse_into(&dev, &mut nics).unwrap();
    s.set_interfaces(&nics);
    let disks_bytes = read(&format!("{root}/diskstats"));
    let mut disks = Table::<_, 128>::new();
    diskstats::parse_into(&disks_bytes, &mut disks).unwrap();
    s.set_disks(&disks);
    let p = |f: &str| pressure::parse(&read(&format!("{root}/pressure/{f}"))).unwrap();
    s.set_pressure(&p("cpu"), &p("memory"), &p("io"));
    s
}

#[test]
fn host_sample_from_real_files_has_real_values() {
    let s = server_sample("local/proc");
    assert_eq!(s.cpu.user_ms, 288670); // 28867 ticks at 100 Hz
    assert_eq!(s.cpus.len(), 2);
    assert_eq!(s.memory.total_bytes, 24683656 * 1024);
    assert_eq!(s.memory.available_bytes, 23706380 * 1024);
    assert_eq!(s.load.one, 4.04);
    let eth0 = s.interfaces.iter().find(|i| i.name == "eth0").unwrap();
    assert_eq!(eth0.rx_bytes, 200826382);
    assert_eq!(s.disks.len(), 10);
    assert!(s.pressure.is_some());
}

#[test]
fn host_sample_keeps_every_counter_of_the_files() {
    // What node_exporter serves of net/dev, diskstats and PSI, kept by the model.
    let s = server_sample("sysstat/root1/proc");
    let virbr0 = s.interfaces.iter().find(|i| i.name == "virbr0").unwrap();
    assert_eq!(
        (virbr0.rx_frame, virbr0.rx_multicast, virbr0.tx_collisions),
        (10, 80, 50)
    );
    let sda = s.disks.iter().find(|d| d.name == "sda").unwrap();
    assert_eq!(
        (sda.reads_merged, sda.writes_merged, sda.weighted_io_time_ms),
        (2822, 9784, 714408)
    );
    let local = server_sample("local/proc");
    let p = local.pressure.unwrap();
    assert_eq!(p.io_some_total_us, 5405898);
    assert_eq!(
        (p.memory_full_total_us, p.io_full_total_us),
        (Some(0), Some(1679921))
    );

    // Every meminfo line, under its own name.
    let bytes = read("local/proc/meminfo");
    let mut fields = ferrostat_core::metrics::MemoryFields::<128>::default();
    for record in meminfo::records(&bytes) {
        ferrostat_core::metrics::host::push_memory_field(&mut fields, &record.unwrap());
    }
    assert_eq!(fields.len(), 54);
    assert_eq!(fields.dropped(), 0);
    let anon = fields.iter().find(|f| f.name == "Active(anon)").unwrap();
    assert_eq!((anon.value, anon.bytes), (1604 * 1024, true));
    let huge = fields.iter().find(|f| f.name == "HugePages_Total").unwrap();
    assert_eq!((huge.value, huge.bytes), (0, false));
}

/// Runs `f` with a 64 MiB stack: serde-json-core and postcard deserialize a server
/// sample (about 100 KB) with deep by-value copies in debug builds.
fn on_big_stack(f: fn()) {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn json_round_trip_and_buffer_full() {
    on_big_stack(json_round_trip)
}

fn json_round_trip() {
    // Every corpus root that has all the files a host sample is made of.
    for root in [
        "local/proc",
        "sysstat/root1/proc",
        "sysstat/root3/proc",
        "sysstat/root5/proc",
    ] {
        let s = server_sample(root);
        let mut buf = vec![0u8; 1 << 20];
        let n = encode::to_json(&*s, &mut buf).unwrap();
        let back: Box<ServerHostSample> = Box::new(encode::from_json(&buf[..n]).unwrap());
        assert_eq!(back, s, "{root}");
        // serde_json (std) reads what serde-json-core wrote.
        let v: serde_json::Value = serde_json::from_slice(&buf[..n]).unwrap();
        assert_eq!(v["memory"]["total_bytes"], s.memory.total_bytes);
        let mut small = [0u8; 64];
        assert_eq!(
            encode::to_json(&*s, &mut small),
            Err(EncodeError::BufferFull)
        );
    }
}

#[test]
fn postcard_and_cobs_round_trip() {
    on_big_stack(postcard_round_trip)
}

fn postcard_round_trip() {
    let s = server_sample("local/proc");
    let mut buf = vec![0u8; 64 * 1024];
    let n = encode::to_postcard(&*s, &mut buf).unwrap().len();
    let json_len = encode::to_json(&*s, &mut vec![0u8; 1 << 20]).unwrap();
    assert!(n < json_len / 3, "postcard {n} bytes vs JSON {json_len}");
    let back: ServerHostSample = encode::from_postcard(&buf[..n]).unwrap();
    assert_eq!(&back, &*s);

    let frame = encode::to_postcard_cobs(&*s, &mut buf).unwrap();
    assert_eq!(frame.last(), Some(&0));
    assert!(
        !frame[..frame.len() - 1].contains(&0),
        "COBS leaves no zero inside a frame"
    );
    let mut frame = frame.to_vec();
    let back: ServerHostSample = encode::from_postcard_cobs(&mut frame).unwrap();
    assert_eq!(&back, &*s);

    // A corrupt frame is an error, not a panic.
    let mut bad = frame.clone();
    bad.truncate(bad.len() / 2);
    assert!(encode::from_postcard_cobs::<ServerHostSample>(&mut bad).is_err());
}

#[test]
fn microcontroller_sample_counts_what_does_not_fit() {
    let dev = read("sysstat/root3/proc/net/dev");
    let mut nics = Table::<_, 64>::new();
    net_dev::parse_into(&dev, &mut nics).unwrap();
    let mut st = stat::Stat::<64>::default();
    stat::parse_into(&read("sysstat/root3/proc/stat"), &mut st).unwrap();
    let mut s = McuHostSample::default();
    s.set_interfaces(&nics);
    s.set_cpu(&st, 100);
    assert_eq!(
        s.interfaces.len() as u32 + s.interfaces.dropped(),
        nics.len() as u32
    );
    assert_eq!((s.cpus.len(), s.cpus.dropped()), (7, 0));
    let mut buf = [0u8; 1024];
    let n = encode::to_postcard(&s, &mut buf).unwrap().len();
    let back: McuHostSample = encode::from_postcard(&buf[..n]).unwrap();
    assert_eq!(back.interfaces.dropped(), s.interfaces.dropped());
}
