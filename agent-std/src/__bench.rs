//! What `benches/benches/collection.rs` measures of the agent: one host's collection end
//! to end, as the endpoints pay for it. Not an API.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::collect::host::Parts;
use crate::collect::procfs::ProcFile;
use crate::collect::shared::ProcCache;

/// The files a full host sample and a `/metrics` page are made of, relative to /proc.
pub const FILES: [&str; 12] = [
    "stat",
    "meminfo",
    "vmstat",
    "loadavg",
    "uptime",
    "net/dev",
    "diskstats",
    "sys/kernel/hostname",
    "pressure/cpu",
    "pressure/memory",
    "pressure/io",
    "filesystems",
];

/// A host whose files are already in memory (a mirror holding a copy of real files):
/// what parsing and mapping cost without the kernel writing the text.
pub struct InMemoryHost(Arc<ProcCache>);

impl InMemoryHost {
    /// Holds `files` as (path relative to /proc, content).
    pub fn new(files: &[(&str, &[u8])]) -> Self {
        let cache = ProcCache::mirror();
        for (rel, bytes) in files {
            cache.store(rel, bytes, Instant::now());
        }
        cache.mark_polled();
        InMemoryHost(Arc::new(cache))
    }

    /// A full host sample built from the files; returns its interface count.
    pub fn sample(&self) -> usize {
        let snapshot = self.0.host(Parts::SUMMARY, Duration::ZERO);
        snapshot.map_or(0, |s| s.sample.interfaces.len())
    }

    /// The node_exporter part of `/metrics` rendered into `page`; returns its length.
    pub fn metrics_page(&self, page: &mut String) -> usize {
        page.clear();
        // The collectors whose files the in-memory host has (those /metrics served
        // when the benchmark was written).
        let switches = crate::cli::CollectorSwitches {
            disable_defaults: true,
            set: [
                "cpu",
                "stat",
                "meminfo",
                "loadavg",
                "netdev",
                "diskstats",
                "pressure",
            ]
            .map(|c| (c.to_owned(), true))
            .into(),
        };
        let collectors =
            crate::endpoint::metrics::Collectors::from_switches(&switches).unwrap_or_default();
        let _ = crate::endpoint::metrics::render(&self.0, Duration::ZERO, collectors, page);
        page.len()
    }
}

/// This machine's /proc, read afresh on every call.
pub struct LiveHost {
    cache: ProcCache,
    files: Vec<ProcFile>,
}

impl LiveHost {
    /// Opens the files of [`FILES`] that this machine has.
    pub fn new() -> Self {
        let root = Path::new("/proc");
        LiveHost {
            cache: ProcCache::new(root),
            files: FILES
                .iter()
                .filter_map(|rel| ProcFile::open(root.join(rel)).ok())
                .collect(),
        }
    }

    /// Reads every file once and nothing else: the kernel's share of a sample.
    pub fn read_only(&mut self) -> usize {
        self.files
            .iter_mut()
            .map(|f| f.read().map_or(0, <[u8]>::len))
            .sum()
    }

    /// A full host sample, every file read now.
    pub fn sample(&self) -> usize {
        let snapshot = self.cache.host(Parts::SUMMARY, Duration::ZERO);
        snapshot.map_or(0, |s| s.sample.interfaces.len())
    }
}

impl Default for LiveHost {
    fn default() -> Self {
        Self::new()
    }
}
