//! The hosts the agent knows besides its own: every sFlow agent the collector hears,
//! with its description and its last two samples, and the VMs they report. Endpoints
//! read it to show remote hosts (`/metrics` with a `host` label, `/ws/stats` backends).
//!
//! A host or VM not heard from for the expiry is forgotten, as sFlow collectors time out
//! agents: VMs come and go, and a gone one must neither hold its last values in
//! `/metrics` forever nor, once the registry is full, keep a new one out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::RwLock;
use std::time::Duration;

use crate::clock::now_ms;
use crate::sflow::columns::{HostValues, VmValues};
use crate::sflow::sample::{Description, Entity, HostKey, Ingest};

/// A sample and when it arrived (epoch ms).
pub type Stamped<T> = (i64, T);

/// A remote host.
#[derive(Clone, Debug)]
pub struct RemoteHost {
    /// Agent address and sub-agent.
    pub key: HostKey,
    /// UDP source of its latest datagram.
    pub source: IpAddr,
    /// Its host_descr, once seen.
    pub descr: Option<Description>,
    /// Epoch ms of its latest datagram.
    pub last_seen_ms: i64,
    /// Its latest host sample and the one before (for rates).
    pub latest: Option<Stamped<HostValues>>,
    /// The host sample before `latest`.
    pub previous: Option<Stamped<HostValues>>,
}

impl RemoteHost {
    /// The name it is shown by: its hostname, else its agent address.
    pub fn name(&self) -> String {
        match &self.descr {
            Some(d) if !d.hostname.is_empty() => d.hostname.to_string(),
            _ => self.key.agent.to_string(),
        }
    }
}

/// A VM reported by a remote host.
#[derive(Clone, Debug)]
pub struct RemoteVm {
    /// Its name (its own host_descr hostname).
    pub name: String,
    /// The host that reported it last.
    pub host: HostKey,
    /// Its host_descr, once seen.
    pub descr: Option<Description>,
    /// Its latest sample.
    pub latest: Option<Stamped<VmValues>>,
    /// Epoch ms of its latest sample.
    pub last_seen_ms: i64,
}

/// How many hosts and VMs are kept, and for how long after the last word from them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Hosts at most, and as many VMs; new ones past it are refused and counted.
    pub capacity: usize,
    /// A host or VM silent for longer is forgotten.
    pub expiry: Duration,
}

impl Default for Limits {
    /// 65,536 of each; ten minutes, twenty of hsflowd's default 30 s polling intervals.
    fn default() -> Self {
        Limits {
            capacity: 65_536,
            expiry: Duration::from_secs(600),
        }
    }
}

/// Hosts and VMs, bounded: past `capacity` entries new ones are refused and counted,
/// and those silent past `expiry` are dropped.
pub struct Registry {
    inner: RwLock<Inner>,
    limits: Limits,
    /// `limits.expiry` in the epoch-ms arithmetic of the last-seen times.
    expiry_ms: i64,
}

struct Inner {
    hosts: HashMap<HostKey, RemoteHost>,
    vms: HashMap<String, RemoteVm>,
    refused: u64,
    expired: u64,
    /// No entry was last seen before this (epoch ms): while it is within the expiry, no
    /// sweep can free anything. Exact after a sweep; later entries only lower it, and a
    /// refreshed entry leaves it low, which the next sweep corrects.
    oldest_ms: i64,
    /// When the expired were last dropped (epoch ms).
    swept_at_ms: i64,
    /// When a sweep last freed nothing, its bound having been low.
    idle_sweep_at_ms: i64,
}

/// How soon after a sweep that freed nothing another may run: a flood of new agents
/// into a full registry must not cost a pass over 65,536 hosts per datagram.
const IDLE_SWEEP_PAUSE_MS: i64 = 1000;

impl Inner {
    fn new(now_ms: i64) -> Self {
        Inner {
            hosts: HashMap::new(),
            vms: HashMap::new(),
            refused: 0,
            expired: 0,
            oldest_ms: i64::MAX,
            swept_at_ms: now_ms,
            idle_sweep_at_ms: i64::MIN,
        }
    }

    /// Drops every host and VM last heard before `cut` (epoch ms).
    fn sweep(&mut self, now_ms: i64, cut: i64) {
        let before = self.hosts.len() + self.vms.len();
        self.hosts.retain(|_, h| h.last_seen_ms >= cut);
        self.vms.retain(|_, vm| vm.last_seen_ms >= cut);
        let freed = before - self.hosts.len() - self.vms.len();
        self.expired += freed as u64;
        self.oldest_ms = (self.hosts.values().map(|h| h.last_seen_ms))
            .chain(self.vms.values().map(|vm| vm.last_seen_ms))
            .min()
            .unwrap_or(i64::MAX);
        self.swept_at_ms = now_ms;
        if freed == 0 {
            self.idle_sweep_at_ms = now_ms;
        }
    }
}

impl Registry {
    /// An empty registry within `limits`.
    pub fn new(limits: Limits) -> Self {
        Registry {
            inner: RwLock::new(Inner::new(now_ms())),
            limits,
            expiry_ms: i64::try_from(limits.expiry.as_millis()).unwrap_or(i64::MAX),
        }
    }

    /// Its capacity and expiry, which the collector's own per-agent tables follow.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The oldest last-seen time (epoch ms) still listed at `now_ms`.
    fn cut(&self, now_ms: i64) -> i64 {
        now_ms.saturating_sub(self.expiry_ms)
    }

    /// Drops the expired when some may be: at once while the registry is `full`, so a
    /// silent host makes room for a new one; else once a minute (or expiry), so memory
    /// follows what is listed.
    fn sweep_if_due(&self, inner: &mut Inner, now_ms: i64, full: bool) {
        let cut = self.cut(now_ms);
        let due = inner.oldest_ms < cut
            && (full || now_ms.saturating_sub(inner.swept_at_ms) >= self.expiry_ms.min(60_000))
            && now_ms.saturating_sub(inner.idle_sweep_at_ms) >= IDLE_SWEEP_PAUSE_MS;
        if due {
            inner.sweep(now_ms, cut);
        }
    }

    /// Takes in a sample. Returns false when it names a new host or VM and the registry
    /// is full (the sample is still stored; the host is just not listed).
    pub fn record(&self, sample: &Ingest) -> bool {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let vm = match &sample.entity {
            Entity::Vm { name, .. } => Some(name.as_str()),
            _ => None,
        };
        let host_room = |inner: &Inner| {
            inner.hosts.len() < self.limits.capacity || inner.hosts.contains_key(&sample.host)
        };
        let vm_room = |inner: &Inner| {
            vm.is_none_or(|n| inner.vms.len() < self.limits.capacity || inner.vms.contains_key(n))
        };
        let full = !host_room(&inner) || !vm_room(&inner);
        self.sweep_if_due(&mut inner, now_ms().max(sample.at_ms), full);
        if !host_room(&inner) {
            inner.refused += 1;
            return false;
        }
        inner.oldest_ms = inner.oldest_ms.min(sample.at_ms);
        let host = inner
            .hosts
            .entry(sample.host)
            .or_insert_with(|| RemoteHost {
                key: sample.host,
                source: sample.source,
                descr: None,
                last_seen_ms: sample.at_ms,
                latest: None,
                previous: None,
            });
        host.source = sample.source;
        host.last_seen_ms = host.last_seen_ms.max(sample.at_ms);
        match &sample.entity {
            Entity::Host(values) => {
                if let Some(d) = &sample.descr {
                    if host.descr.as_ref() != Some(d) {
                        host.descr = Some(d.clone());
                    }
                }
                host.previous = host.latest.take();
                host.latest = Some((sample.at_ms, *values));
            }
            Entity::Vm { name, values } => {
                let vms_full = inner.vms.len() >= self.limits.capacity;
                match inner.vms.get_mut(name.as_str()) {
                    Some(vm) => {
                        vm.host = sample.host;
                        if sample.descr.is_some() && vm.descr != sample.descr {
                            vm.descr = sample.descr.clone();
                        }
                        vm.latest = Some((sample.at_ms, *values));
                        vm.last_seen_ms = vm.last_seen_ms.max(sample.at_ms);
                    }
                    None if vms_full => {
                        inner.refused += 1;
                        return false;
                    }
                    None => {
                        inner.vms.insert(
                            name.to_string(),
                            RemoteVm {
                                name: name.to_string(),
                                host: sample.host,
                                descr: sample.descr.clone(),
                                latest: Some((sample.at_ms, *values)),
                                last_seen_ms: sample.at_ms,
                            },
                        );
                    }
                }
            }
            Entity::Other => {}
        }
        true
    }

    /// Notes a source that sends no samples of its own (an edge gateway): listed under
    /// `name`, seen at `at_ms`. Returns false when it is new and the registry is full.
    pub fn touch(&self, key: HostKey, source: IpAddr, name: &str, at_ms: i64) -> bool {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let full = |inner: &Inner| {
            inner.hosts.len() >= self.limits.capacity && !inner.hosts.contains_key(&key)
        };
        let was_full = full(&inner);
        self.sweep_if_due(&mut inner, now_ms().max(at_ms), was_full);
        if full(&inner) {
            inner.refused += 1;
            return false;
        }
        inner.oldest_ms = inner.oldest_ms.min(at_ms);
        let host = inner.hosts.entry(key).or_insert_with(|| RemoteHost {
            key,
            source,
            descr: None,
            last_seen_ms: at_ms,
            latest: None,
            previous: None,
        });
        host.source = source;
        host.last_seen_ms = host.last_seen_ms.max(at_ms);
        if host.descr.as_ref().map(|d| d.hostname.as_str()) != Some(name) {
            host.descr = Some(Description {
                hostname: ferrostat_core::gateway::fit(name),
                ..Description::default()
            });
        }
        true
    }

    /// Drops the expired, if any may be, before a read: what is listed and counted
    /// agrees, and the expired count never goes back when a host speaks again.
    fn sweep_expired(&self) {
        let now = now_ms();
        let cut = self.cut(now);
        let oldest = self
            .inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .oldest_ms;
        if oldest >= cut {
            return;
        }
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if inner.oldest_ms < cut {
            inner.sweep(now, cut);
        }
    }

    /// Every host heard from within the expiry, sorted by agent address.
    pub fn hosts(&self) -> Vec<RemoteHost> {
        self.sweep_expired();
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let mut hosts: Vec<_> = inner.hosts.values().cloned().collect();
        hosts.sort_by_key(|h| h.key);
        hosts
    }

    /// Every VM heard from within the expiry, with the name of the host that reported
    /// it, sorted by name.
    pub fn vms(&self) -> Vec<(RemoteVm, String)> {
        self.sweep_expired();
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let mut vms: Vec<_> = inner
            .vms
            .values()
            .map(|vm| {
                let host = inner
                    .hosts
                    .get(&vm.host)
                    .map_or_else(|| vm.host.agent.to_string(), RemoteHost::name);
                (vm.clone(), host)
            })
            .collect();
        vms.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        vms
    }

    /// New hosts or VMs refused because the registry was full.
    pub fn refused(&self) -> u64 {
        self.inner.read().unwrap_or_else(|e| e.into_inner()).refused
    }

    /// Hosts and VMs dropped after the expiry.
    pub fn expired(&self) -> u64 {
        self.sweep_expired();
        self.inner.read().unwrap_or_else(|e| e.into_inner()).expired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(agent: &str, at_ms: i64) -> Ingest {
        Ingest::test_host(agent, at_ms, HostValues::default())
    }

    fn vm(agent: &str, name: &str, at_ms: i64) -> Ingest {
        Ingest::test_vm(agent, name, at_ms)
    }

    fn listed(r: &Registry) -> (Vec<String>, Vec<String>) {
        (
            r.hosts().iter().map(RemoteHost::name).collect(),
            r.vms().into_iter().map(|(vm, _)| vm.name).collect(),
        )
    }

    /// Times are the agent's own clock: a sample stamped two expiries ago is from a host
    /// that has been silent since.
    #[test]
    fn the_silent_are_unlisted_then_make_room() {
        let r = Registry::new(Limits {
            capacity: 2,
            expiry: Duration::from_secs(10),
        });
        let now = now_ms();
        let long_ago = now - 20_000;
        assert!(r.record(&host("192.0.2.1", long_ago)));
        assert!(r.record(&vm("192.0.2.1", "vm-gone", long_ago)));
        assert!(r.record(&host("192.0.2.2", now)));
        assert!(r.record(&vm("192.0.2.2", "vm-live", now)));
        assert_eq!(
            listed(&r),
            (vec!["192.0.2.2".into()], vec!["vm-live".into()])
        );
        assert_eq!((r.expired(), r.refused()), (2, 0));
        // Full of two hosts, one of them silent: a new host takes its place.
        assert!(r.record(&vm("192.0.2.3", "vm-new", now)));
        assert_eq!(
            listed(&r),
            (
                vec!["192.0.2.2".into(), "192.0.2.3".into()],
                vec!["vm-live".into(), "vm-new".into()]
            )
        );
        assert_eq!((r.expired(), r.refused()), (2, 0));
        // Full of two live hosts: a third is refused and counted, the two stay.
        assert!(!r.record(&host("192.0.2.4", now)));
        let gateway = host("192.0.2.5", now);
        assert!(!r.touch(gateway.host, gateway.source, "gw", now));
        assert_eq!(r.refused(), 2);
        assert_eq!(listed(&r).0.len(), 2);
        // A known host's new VM when the VMs are full: the host is still heard.
        assert!(!r.record(&vm("192.0.2.2", "vm-third", now + 1)));
        let h = r
            .hosts()
            .into_iter()
            .find(|h| h.name() == "192.0.2.2")
            .unwrap();
        assert_eq!((h.last_seen_ms, r.refused()), (now + 1, 3));
    }
}
