//! `parse KIND FILE`: one /proc file through its ferrostat-core parser, printed as JSON.
//! Users debug their hosts with it, and it checks the parsers from outside.

use std::io::Read;

use ferrostat_core::procfs::*;
use ferrostat_core::Table;
use serde::Serialize;

use super::{print_json, CommandError};
use crate::cli::{Kind, ParseArgs};

/// Capacities generous enough for any real machine; the JSON reports `dropped` anyway.
const MAX_CPUS: usize = 8192;
const MAX_ROWS: usize = 4096;

/// `cpuinfo` with its topology counts alongside the processors.
#[derive(Serialize)]
struct CpuinfoView<'a, 'i> {
    logical: u32,
    cores: u32,
    sockets: u32,
    #[serde(flatten)]
    info: &'a cpuinfo::CpuInfo<'i, MAX_CPUS>,
}

/// Reads the input, parses it as `args.kind` and prints it.
#[inline(never)] // see commands/mod.rs
pub fn run(args: &ParseArgs) -> Result<(), CommandError> {
    let name = args.file.display().to_string();
    let input = read_input(args).map_err(|e| CommandError::Io(name.clone(), e))?;
    let fail = |e| CommandError::Parse(name.clone(), e);
    let c = args.compact;
    match args.kind {
        Kind::Stat => {
            let mut s = Box::<stat::Stat<MAX_CPUS>>::default();
            stat::parse_into(&input, &mut s).map_err(fail)?;
            print_json(&*s, c)
        }
        Kind::Meminfo => print_json(&meminfo::parse(&input).map_err(fail)?, c),
        Kind::Loadavg => print_json(&loadavg::parse(&input).map_err(fail)?, c),
        Kind::Uptime => print_json(&uptime::parse(&input).map_err(fail)?, c),
        Kind::NetDev => {
            let mut t = Box::new(Table::<_, MAX_ROWS>::new());
            net_dev::parse_into(&input, &mut t).map_err(fail)?;
            print_json(&*t, c)
        }
        Kind::Diskstats => {
            let mut t = Box::new(Table::<_, MAX_ROWS>::new());
            diskstats::parse_into(&input, &mut t).map_err(fail)?;
            print_json(&*t, c)
        }
        Kind::Cpuinfo => {
            let mut info = Box::<cpuinfo::CpuInfo<MAX_CPUS>>::default();
            cpuinfo::parse_into(&input, &mut info).map_err(fail)?;
            let view = CpuinfoView {
                logical: info.logical(),
                cores: info.cores(),
                sockets: info.sockets(),
                info: &info,
            };
            print_json(&view, c)
        }
        Kind::PidStat => print_json(&pid_stat::parse(&input).map_err(fail)?, c),
        Kind::PidStatus => print_json(&pid_status::parse(&input).map_err(fail)?, c),
        Kind::PidStatm => print_json(&pid_statm::parse(&input).map_err(fail)?, c),
        Kind::PidIo => print_json(&pid_io::parse(&input).map_err(fail)?, c),
        Kind::Mountinfo => {
            let mut t = Box::new(Table::<_, MAX_ROWS>::new());
            mountinfo::parse_into(&input, &mut t).map_err(fail)?;
            print_json(&*t, c)
        }
        Kind::Mounts => {
            let mut t = Box::new(Table::<_, MAX_ROWS>::new());
            mounts::parse_into(&input, &mut t).map_err(fail)?;
            print_json(&*t, c)
        }
        Kind::Pressure => print_json(&pressure::parse(&input).map_err(fail)?, c),
        Kind::Snmp => print_json(&net_snmp::parse(&input).map_err(fail)?, c),
        Kind::Vmstat => print_json(&vmstat::parse(&input).map_err(fail)?, c),
    }
}

/// The most `parse` reads: far above any /proc file (a cpuinfo of 8,192 CPUs is about
/// 12 MB), and it stops `parse stat /dev/zero` or an endless pipe from taking all memory.
const MAX_INPUT: u64 = 64 << 20;

/// The whole file, or all of standard input for `-`, up to [`MAX_INPUT`] bytes; more is
/// an error rather than a silently cut parse.
fn read_input(args: &ParseArgs) -> std::io::Result<Vec<u8>> {
    // read_to_end loops to EOF, so /proc files (which the kernel hands out a page or so
    // per read) come back whole.
    let mut buf = Vec::new();
    super::open_input(&args.file)?
        .take(MAX_INPUT + 1)
        .read_to_end(&mut buf)?;
    if buf.len() as u64 > MAX_INPUT {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "more than {} MiB; no /proc file is this large",
                MAX_INPUT >> 20
            ),
        ));
    }
    Ok(buf)
}
