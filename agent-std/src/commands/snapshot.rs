//! `snapshot`: one live host sample as JSON.

use super::{print_json, CommandError};
use crate::cli::SnapshotArgs;
use crate::collect::host::{read_now, Parts};

/// Collects and prints one sample.
#[inline(never)] // see commands/mod.rs
pub fn run(args: &SnapshotArgs) -> Result<(), CommandError> {
    // The error names the file.
    let snapshot = read_now(&args.proc_root, Parts::SUMMARY)
        .map_err(|e| CommandError::Io("snapshot".into(), std::io::Error::other(e)))?;
    print_json(&*snapshot.sample, args.compact)
}
