//! What the poller of one watched host reads over SFTP on each period: the /proc and
//! /sys files its model is made of go into the host's mirror ([`ProcCache::mirror`]),
//! and Argusyes's events are rendered from the mirror's model by [`super::events`].
//! The poller parses nothing the model holds.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::events::{Events, InterfaceNotes, Renderer};
use super::session::{Remote, RemoteError};
use crate::collect::host::Parts;
use crate::collect::process::ProcessInfo;
use crate::collect::shared::ProcCache;
use ferrostat_core::procfs::pid_stat;

/// The page size assumed for remote hosts (rss is counted in pages): 4 KiB, as on
/// every x86-64 and most arm64 kernels.
const REMOTE_PAGE: u64 = 4096;
/// The remote kernel's `USER_HZ`, as its mirror converts /proc/stat with it.
const REMOTE_TICKS_PER_SEC: u64 = crate::collect::shared::MIRROR_TICKS_PER_SEC;
/// Thermal zones read, at most (the model keeps 16 and counts the rest).
const THERMAL_ZONES: usize = 64;

/// What the fast events show of a host.
pub(super) const FAST_PARTS: Parts = Parts::CPU
    .union(Parts::MEMORY)
    .union(Parts::UPTIME)
    .union(Parts::LOAD)
    .union(Parts::INTERFACES)
    .union(Parts::DISKS)
    .union(Parts::TRANSPORT)
    .union(Parts::TEMPERATURES)
    .union(Parts::FILESYSTEMS);

/// One connection's poller: the mirror it fills and the events' memory.
pub struct State {
    mirror: Arc<ProcCache>,
    /// Whether the files that do not change while connected were read.
    identity_read: bool,
    /// Whether those only `/metrics` shows were.
    metrics_identity_read: bool,
    notes: InterfaceNotes,
    events: Renderer,
}

impl State {
    /// A fresh state (a new connection) keeping what it reads in `mirror`.
    pub fn new(mirror: Arc<ProcCache>) -> Self {
        State {
            mirror,
            identity_read: false,
            metrics_identity_read: false,
            notes: InterfaceNotes::default(),
            events: Renderer::default(),
        }
    }

    /// A remote file, kept in the mirror under its path below `/proc/` (or its whole
    /// path for other files).
    async fn fetch(&self, remote: &Remote, path: &str) -> Result<Vec<u8>, RemoteError> {
        let bytes = remote.read(path).await?;
        let rel = path.strip_prefix("/proc/").unwrap_or(path);
        self.mirror.store(rel, &bytes, Instant::now());
        Ok(bytes)
    }

    /// What does not change while connected: names, kernel, filesystem types, users.
    async fn identity(&mut self, remote: &Remote) {
        for path in [
            "/proc/sys/kernel/hostname",
            "/proc/sys/kernel/ostype",
            "/proc/sys/kernel/osrelease",
            "/proc/filesystems",
        ] {
            let _ = self.fetch(remote, path).await;
        }
        if let Ok(passwd) = remote.read("/etc/passwd").await {
            let users = crate::collect::process::parse_passwd(&String::from_utf8_lossy(&passwd));
            self.mirror.store_users(users);
        }
        self.identity_read = true;
    }

    /// `cpuInfo` (every 10 s); the first poll of a connection also reads its identity.
    ///
    /// # Errors
    /// The file cannot be read.
    pub async fn cpu_info(&mut self, remote: &Remote) -> Result<Events, RemoteError> {
        if !self.identity_read {
            self.identity(remote).await;
        }
        let bytes = self.fetch(remote, "/proc/cpuinfo").await?;
        Ok(vec![self.events.cpu_info(&bytes)])
    }

    /// The 2-second events: the files of [`FAST_PARTS`] into the mirror, then the
    /// events from its model.
    ///
    /// # Errors
    /// A file every host has cannot be read (the connection is then retried).
    pub async fn fast(&mut self, remote: &Remote) -> Result<Events, RemoteError> {
        for path in [
            "/proc/stat",
            "/proc/meminfo",
            "/proc/uptime",
            "/proc/loadavg",
            "/proc/net/dev",
            "/proc/net/snmp",
            "/proc/diskstats",
            "/proc/mounts",
        ] {
            self.fetch(remote, path).await?;
        }
        for zone in 0..THERMAL_ZONES {
            let path = format!("/sys/class/thermal/thermal_zone{zone}/temp");
            if self.fetch(remote, &path).await.is_err() {
                break;
            }
        }
        // The space of every device-backed mount, for the model's filesystems.
        if let Ok(listed) = self.mirror.host(Parts::FILESYSTEMS, Duration::ZERO) {
            for f in &listed.filesystems {
                if let Some(space) = remote.space(&f.mount_point).await {
                    self.mirror.store_space(&f.mount_point, space);
                }
            }
        }
        self.notes.virtual_names = remote
            .list("/sys/devices/virtual/net")
            .await
            .unwrap_or_default()
            .into_iter()
            .collect();
        let fib = remote.read("/proc/net/fib_trie").await.unwrap_or_default();
        let routes = remote.read("/proc/net/route").await.unwrap_or_default();
        self.notes.addresses = interface_addresses(&fib, &routes);
        self.mirror.mark_polled();
        // A file that does not parse is the host's fault, not the connection's: its
        // events are left out with an error event, and the next poll tries again.
        let model = self.mirror.host_partial(FAST_PARTS, Duration::ZERO);
        Ok(self.events.fast(&model, &self.notes))
    }

    /// What only the host's `/metrics` shows (vmstat, file handles, entropy, netstat,
    /// clock sources), read after the events of a poll were sent, on the process
    /// period: the events' latency does not pay for them. Kernels or containers may lack
    /// any of them.
    pub async fn metrics_files(&mut self, remote: &Remote) {
        if !self.metrics_identity_read {
            // What does not change while connected: uname's names, the pool size,
            // os-release.
            for path in [
                "/proc/sys/kernel/version",
                "/proc/sys/kernel/domainname",
                "/proc/sys/kernel/arch",
                "/proc/sys/kernel/random/poolsize",
                "/etc/os-release",
                "/usr/lib/os-release",
            ] {
                let _ = self.fetch(remote, path).await;
            }
            self.metrics_identity_read = true;
        }
        for path in [
            "/proc/net/netstat",
            "/proc/net/snmp6",
            "/proc/vmstat",
            "/proc/sys/fs/file-nr",
            "/proc/sys/kernel/random/entropy_avail",
            "/sys/devices/system/clocksource/clocksource0/available_clocksource",
            "/sys/devices/system/clocksource/clocksource0/current_clocksource",
        ] {
            let _ = self.fetch(remote, path).await;
        }
    }

    /// `process` (every 5 s): every process's stat into the mirror's process list, the
    /// machine's ticks those of the fast poll it follows (so /proc/stat is read once).
    ///
    /// # Errors
    /// The /proc listing cannot be read.
    pub async fn processes(&mut self, remote: &Remote) -> Result<Events, RemoteError> {
        let machine = self
            .mirror
            .host(Parts::CPU, Duration::MAX)
            .ok()
            .map(|m| m.sample.cpu.to_ticks(REMOTE_TICKS_PER_SEC));
        let mut list = Vec::new();
        for (name, uid) in remote.list_owned("/proc").await? {
            let Ok(pid) = name.parse::<u32>() else {
                continue;
            };
            // A process may end between the listing and the read: skip it. One read per
            // process: stat's rss is the resident size statm would give.
            let Ok(stat) = remote.read(&format!("/proc/{pid}/stat")).await else {
                continue;
            };
            let Ok(s) = pid_stat::parse(&stat) else {
                continue;
            };
            list.push(ProcessInfo {
                pid,
                name: s.comm.to_string(),
                state: s.state,
                nice: s.nice,
                num_threads: s.num_threads,
                utime: s.utime,
                stime: s.stime,
                rss_bytes: (s.rss.max(0) as u64).saturating_mul(REMOTE_PAGE),
                vms_bytes: s.vsize,
                uid,
            });
        }
        list.sort_by_key(|p| p.pid);
        self.mirror.store_processes(list, machine, Instant::now());
        Ok(self
            .mirror
            .processes(Duration::MAX, true)
            .map(|scan| vec![self.events.processes(&scan)])
            .unwrap_or_default())
    }
}

/// Each interface's IPv4 addresses, as Argusyes finds them: the host's own addresses
/// (`/32 host LOCAL` in /proc/net/fib_trie; link-local 169.254/16 left out), each given
/// to the interface whose route (/proc/net/route) covers it; 127/8 is `lo`'s.
fn interface_addresses(fib_trie: &[u8], route: &[u8]) -> HashMap<String, Vec<String>> {
    let fib = String::from_utf8_lossy(fib_trie);
    let mut local: Vec<std::net::Ipv4Addr> = Vec::new();
    let mut last: Option<std::net::Ipv4Addr> = None;
    for line in fib.lines() {
        let t = line.trim();
        if let Some(a) = t.strip_prefix("|-- ") {
            last = a.parse().ok();
        } else if t == "/32 host LOCAL" {
            if let Some(a) = last.filter(|a| !a.is_link_local() && !local.contains(a)) {
                local.push(a);
            }
        }
    }
    let routes: Vec<(String, u32, u32)> = String::from_utf8_lossy(route)
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let dest = u32::from_str_radix(f.get(1)?, 16).ok()?;
            let mask = u32::from_str_radix(f.get(7)?, 16).ok()?;
            // The kernel prints these in host (little-endian) byte order.
            Some((
                f[0].to_owned(),
                u32::from_be(dest.to_le()),
                u32::from_be(mask.to_le()),
            ))
        })
        .filter(|(_, _, mask)| *mask != 0)
        .collect();
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for a in local {
        let bits = u32::from(a);
        let iface = if a.is_loopback() {
            Some("lo".to_owned())
        } else {
            routes
                .iter()
                .filter(|(_, dest, mask)| bits & mask == *dest)
                .max_by_key(|(_, _, mask)| mask.count_ones())
                .map(|(i, _, _)| i.clone())
        };
        if let Some(i) = iface {
            out.entry(i).or_default().push(a.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_from_fib_trie_and_routes() {
        let fib = b"Local:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 127.0.0.1\n        /32 host LOCAL\n     |-- 192.0.2.2\n        /32 host LOCAL\n     |-- 192.0.2.255\n        /32 link BROADCAST\n     |-- 169.254.1.1\n        /32 host LOCAL\n";
        let route = b"Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\neth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
        let ips = interface_addresses(fib, route);
        assert_eq!(ips["eth0"], ["192.0.2.2"]);
        assert_eq!(ips["lo"], ["127.0.0.1"]);
        assert_eq!(ips.len(), 2, "link-local left out: {ips:?}");
    }
}
