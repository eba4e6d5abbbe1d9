//! The hosts the agent knows besides its own: every sFlow agent the collector hears,
//! with its description and its last two samples, and the VMs they report. Endpoints
//! read it to show remote hosts (`/metrics` with a `host` label, `/ws/stats` backends).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::RwLock;

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
}

/// Hosts and VMs, bounded: past `capacity` entries new ones are refused and counted.
pub struct Registry {
    inner: RwLock<Inner>,
    capacity: usize,
}

#[derive(Default)]
struct Inner {
    hosts: HashMap<HostKey, RemoteHost>,
    vms: HashMap<String, RemoteVm>,
    refused: u64,
}

impl Registry {
    /// An empty registry holding at most `capacity` hosts and `capacity` VMs.
    pub fn new(capacity: usize) -> Self {
        Registry {
            inner: RwLock::new(Inner::default()),
            capacity,
        }
    }

    /// Takes in a sample. Returns false when it names a new host or VM and the registry
    /// is full (the sample is still stored; the host is just not listed).
    pub fn record(&self, sample: &Ingest) -> bool {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let full = inner.hosts.len() >= self.capacity;
        if full && !inner.hosts.contains_key(&sample.host) {
            inner.refused += 1;
            return false;
        }
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
                let vms_full = inner.vms.len() >= self.capacity;
                match inner.vms.get_mut(name.as_str()) {
                    Some(vm) => {
                        vm.host = sample.host;
                        if sample.descr.is_some() && vm.descr != sample.descr {
                            vm.descr = sample.descr.clone();
                        }
                        vm.latest = Some((sample.at_ms, *values));
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
        if inner.hosts.len() >= self.capacity && !inner.hosts.contains_key(&key) {
            inner.refused += 1;
            return false;
        }
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

    /// Every host, sorted by agent address.
    pub fn hosts(&self) -> Vec<RemoteHost> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let mut hosts: Vec<_> = inner.hosts.values().cloned().collect();
        hosts.sort_by_key(|h| h.key);
        hosts
    }

    /// Every VM with the name of the host that reported it, sorted by name.
    pub fn vms(&self) -> Vec<(RemoteVm, String)> {
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
}
