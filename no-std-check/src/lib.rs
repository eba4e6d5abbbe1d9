//! Calls every ferrostat-core parser from a `#![no_std]` library with no allocator.
#![no_std]

use ferrostat_core::procfs::*;
use ferrostat_core::Table;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}

/// Parses `input` with the parser selected by `kind`; returns records parsed or -1.
#[no_mangle]
pub extern "C" fn ferrostat_parse(kind: u32, ptr: &[u8; 4096], len: usize) -> i64 {
    let input = &ptr[..len.min(4096)];
    let n: Result<usize, ferrostat_core::Error> = match kind {
        0 => stat::parse_into(input, &mut stat::Stat::<4>::default()).map(|s| s.parsed as usize),
        1 => meminfo::parse(input).map(|m| m.other_fields() as usize),
        2 => loadavg::parse(input).map(|l| l.total as usize),
        3 => uptime::parse(input).map(|u| u.uptime_secs as usize),
        4 => net_dev::parse_into(input, &mut Table::<_, 4>::new()).map(|s| s.parsed as usize),
        5 => diskstats::parse_into(input, &mut Table::<_, 4>::new()).map(|s| s.parsed as usize),
        6 => cpuinfo::parse_into(input, &mut cpuinfo::CpuInfo::<4>::default()).map(|s| s.parsed as usize),
        7 => pid_stat::parse(input).map(|s| s.utime as usize),
        8 => pid_status::parse(input).map(|s| s.other_fields as usize),
        9 => pid_statm::parse(input).map(|s| s.resident as usize),
        10 => pid_io::parse(input).map(|s| s.rchar.unwrap_or(0) as usize),
        11 => mountinfo::parse_into(input, &mut Table::<_, 4>::new()).map(|s| s.parsed as usize),
        12 => mounts::parse_into(input, &mut Table::<_, 4>::new()).map(|s| s.parsed as usize),
        13 => pressure::parse(input).map(|p| p.some.map_or(0, |s| s.total_us as usize)),
        14 => net_snmp::parse(input).map(|s| s.Tcp.curr_estab.unwrap_or(0) as usize),
        15 => vmstat::parse(input).map(|v| v.pgfault().unwrap_or(0) as usize),
        16 => sflow_round_trip(input),
        _ => Ok(0),
    };
    n.map_or(-1, |n| n as i64)
}

/// Encodes a host sample, exercising serde-json-core and postcard without alloc.
#[cfg(feature = "serde")]
#[no_mangle]
pub extern "C" fn ferrostat_encode(out: &mut [u8; 2048]) -> i64 {
    let sample = ferrostat_core::metrics::McuHostSample::default();
    match ferrostat_core::metrics::encode::to_json(&sample, out) {
        Ok(n) => n as i64,
        Err(_) => -1,
    }
}

/// Decodes an sFlow datagram and encodes its counter samples again.
fn sflow_round_trip(input: &[u8]) -> Result<usize, ferrostat_core::Error> {
    use ferrostat_core::sflow::{sample, xdr::Writer, CounterRecord, DataFormat, Datagram, Sample};
    let d = Datagram::parse(input)?;
    d.validate()?;
    let mut out = [0u8; 1500];
    let mut w = Writer::new(&mut out);
    d.emit_header(&mut w)?;
    let mut host = ferrostat_core::metrics::McuHostSample::default();
    for s in d.samples() {
        if let Sample::Counters(c) = s? {
            let mut records = [CounterRecord::Unknown { format: DataFormat::standard(0), data: &[] }; 8];
            let mut n = 0;
            for r in c.records().take(8) {
                let r = r?;
                host.apply_sflow(&r);
                records[n] = r;
                n += 1;
            }
            sample::emit_counters(&mut w, &c, &records[..n])?;
        }
    }
    Ok(w.len())
}
