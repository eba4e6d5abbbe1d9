//! `snapshot`: one live host sample as JSON.

use ferrostat_core::metrics::ServerHostSample;

use super::{print_json, CommandError};
use crate::cli::SnapshotArgs;
use crate::collect::procfs::HostCollector;

/// Collects and prints one sample.
#[inline(never)] // see commands/mod.rs
pub fn run(args: &SnapshotArgs) -> Result<(), CommandError> {
    // The error names the file.
    let io = |e| CommandError::Io("snapshot".into(), e);
    let mut collector = HostCollector::open(&args.proc_root).map_err(io)?;
    let mut sample = Box::<ServerHostSample>::default();
    collector.sample(&mut sample).map_err(io)?;
    print_json(&*sample, args.compact)
}
