//! Watched hosts, shared: one SSH connection and one poller per `user@host:port`,
//! whatever number of clients watch it, closed a few seconds after the last one leaves.
//! A failed connection is retried with backoff and every subscriber is told why.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::broadcast;

use super::poll::State;
use super::session::{HostKeys, Remote, RemoteError, Secret, Target, Timeouts};
use crate::collect::shared::ProcCache;

/// How long a host stays connected after its last subscriber leaves.
const LINGER: Duration = Duration::from_secs(5);
/// The fast events' period.
const FAST: Duration = Duration::from_secs(2);
/// The process list's period.
const PROCESSES: Duration = Duration::from_secs(5);
/// cpuinfo's period.
const CPU_INFO: Duration = Duration::from_secs(10);
/// Hosts watched at once, counting those being dialled.
const MAX_TARGETS: usize = 1024;
/// Connections being set up at once (TCP, key exchange, login): each holds a
/// descriptor and a task however slow the host, so a burst of requests queues here.
const MAX_DIALS: usize = 64;

/// One event for the subscribers of a host.
#[derive(Debug)]
pub struct Notice {
    /// The host.
    pub target: Target,
    /// camelCase event name, or `error`.
    pub event: &'static str,
    /// The payload (without the target fields).
    pub message: Value,
}

struct Watch {
    notices: broadcast::Sender<Arc<Notice>>,
    listeners: AtomicUsize,
    /// Hash of the secret it logged in with: a later subscriber with other credentials
    /// must prove them before sharing the connection.
    secret_hash: [u8; 32],
    /// The host's files as last polled, for the other endpoints.
    mirror: Arc<ProcCache>,
    /// Why the last poll or connect failed; `None` while polls succeed.
    error: Mutex<Option<String>>,
}

/// A watched host as the other endpoints see it.
#[derive(Clone)]
pub struct WatchedHost {
    /// Who it is.
    pub target: Target,
    /// Its files as last polled.
    pub mirror: Arc<ProcCache>,
    /// Why it is not being polled now, if it is not.
    pub error: Option<String>,
}

impl WatchedHost {
    /// The name it is listed by: `user@host:port`.
    pub fn name(&self) -> String {
        self.target.to_string()
    }
}

/// Every watched host.
pub struct Hub {
    watches: Mutex<HashMap<Target, Arc<Watch>>>,
    keys: HostKeys,
    timeouts: Timeouts,
    /// Dials under way or waiting for a slot, counted against `MAX_TARGETS`.
    dialling: Arc<AtomicUsize>,
    /// Slots for dials in progress.
    dial_slots: tokio::sync::Semaphore,
}

/// A dial's place among the watched hosts, given back when it ends.
struct DialPlace(Arc<AtomicUsize>);

impl Drop for DialPlace {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn hash(secret: &Secret) -> [u8; 32] {
    let mut h = Sha256::new();
    match secret {
        Secret::Password(p) => {
            h.update(b"password\0");
            h.update(p.as_bytes());
        }
        Secret::Key(k) => {
            h.update(b"key\0");
            h.update(k.as_bytes());
        }
        Secret::AgentKey(path) => {
            h.update(b"agent-key\0");
            h.update(path.to_string_lossy().as_bytes());
        }
    }
    h.finalize().into()
}

impl Hub {
    /// A hub checking host keys with `keys`.
    pub fn new(keys: HostKeys, timeouts: Timeouts) -> Self {
        Hub {
            watches: Mutex::new(HashMap::new()),
            keys,
            timeouts,
            dialling: Arc::new(AtomicUsize::new(0)),
            dial_slots: tokio::sync::Semaphore::new(MAX_DIALS),
        }
    }

    /// Dials `target`, once a place among `MAX_TARGETS` (watches and dials together) and
    /// a dial slot are free: the place is refused at once, the slot waited for.
    async fn dial(&self, target: &Target, secret: &Secret) -> Result<Remote, RemoteError> {
        let _place = {
            let watches = self.watches();
            if watches.len() + self.dialling.load(Ordering::SeqCst) >= MAX_TARGETS {
                return Err(RemoteError::Protocol(format!(
                    "the agent already watches or dials {MAX_TARGETS} hosts"
                )));
            }
            self.dialling.fetch_add(1, Ordering::SeqCst);
            DialPlace(self.dialling.clone())
        };
        let _slot = self
            .dial_slots
            .acquire()
            .await
            .map_err(|_| RemoteError::Protocol("the agent is stopping".into()))?;
        Remote::connect(target, secret, &self.keys, self.timeouts).await
    }

    fn watches(&self) -> std::sync::MutexGuard<'_, HashMap<Target, Arc<Watch>>> {
        self.watches.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts watching `target` for one more subscriber: connects first if nobody
    /// watches it yet (so the caller learns at once whether it worked).
    ///
    /// # Errors
    /// Why the host could not be reached or logged into.
    pub async fn subscribe(
        self: &Arc<Self>,
        target: &Target,
        secret: Secret,
    ) -> Result<broadcast::Receiver<Arc<Notice>>, RemoteError> {
        let secret_hash = hash(&secret);
        let same = self
            .watches()
            .get(target)
            .map(|w| w.secret_hash == secret_hash);
        if same == Some(false) {
            // Other credentials: prove them on a connection of their own before sharing.
            self.dial(target, &secret).await?.close().await;
        }
        if same.is_some() {
            // Counted under the lock, so a poller about to let go sees the newcomer.
            let watches = self.watches();
            if let Some(watch) = watches.get(target) {
                watch.listeners.fetch_add(1, Ordering::SeqCst);
                return Ok(watch.notices.subscribe());
            }
        }
        let remote = self.dial(target, &secret).await?;
        // Another subscriber may have connected meanwhile: share theirs.
        let shared = {
            let mut watches = self.watches();
            match watches.get(target) {
                Some(watch) => {
                    watch.listeners.fetch_add(1, Ordering::SeqCst);
                    Err(watch.notices.subscribe())
                }
                None => {
                    let (tx, rx) = broadcast::channel(256);
                    let watch = Arc::new(Watch {
                        notices: tx,
                        listeners: AtomicUsize::new(1),
                        secret_hash,
                        mirror: Arc::new(ProcCache::mirror()),
                        error: Mutex::new(None),
                    });
                    watches.insert(target.clone(), watch.clone());
                    Ok((watch, rx))
                }
            }
        };
        let (watch, rx) = match shared {
            Ok(new) => new,
            Err(rx) => {
                remote.close().await;
                return Ok(rx);
            }
        };
        tokio::spawn(poll(self.clone(), target.clone(), watch, remote, secret));
        Ok(rx)
    }

    /// One subscriber fewer; the host is let go `LINGER` after the last.
    pub fn unsubscribe(&self, target: &Target) -> bool {
        let watches = self.watches();
        let Some(watch) = watches.get(target) else {
            return false;
        };
        let _ = watch
            .listeners
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        true
    }

    /// Hosts watched now.
    pub fn watched(&self) -> Vec<Target> {
        let mut v: Vec<Target> = self.watches().keys().cloned().collect();
        v.sort();
        v
    }

    /// Every watched host with its mirror, sorted.
    pub fn hosts(&self) -> Vec<WatchedHost> {
        let mut v: Vec<WatchedHost> = self
            .watches()
            .iter()
            .map(|(target, w)| WatchedHost {
                target: target.clone(),
                mirror: w.mirror.clone(),
                error: w.error.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            })
            .collect();
        v.sort_by(|a, b| a.target.cmp(&b.target));
        v
    }

    /// The watched host a client names: `user@host:port`, or `host:port` or `host` when
    /// only one watched host matches.
    pub fn find(&self, name: &str) -> Option<WatchedHost> {
        let hosts = self.hosts();
        if let Some(h) = hosts.iter().find(|h| h.name() == name) {
            return Some(h.clone());
        }
        let mut matching = hosts.into_iter().filter(|h| {
            let t = &h.target;
            name == t.host || name == format!("{}:{}", t.host, t.port)
        });
        let first = matching.next()?;
        matching.next().is_none().then_some(first)
    }

    /// Watches `target` for as long as the agent runs (`--ssh-watch`), whether or not a
    /// client does: the first connection is retried with backoff until it works.
    pub fn keep(self: &Arc<Self>, target: Target, secret: Secret) {
        let hub = self.clone();
        tokio::spawn(async move {
            let mut backoff = Duration::from_secs(1);
            loop {
                match hub.subscribe(&target, secret.clone()).await {
                    // The listener it counted is never given back; the receiver is not
                    // needed (a broadcast sender does not wait for its receivers).
                    Ok(_) => return,
                    Err(e) => {
                        eprintln!(
                            "ferrostat-agent: ssh watch {target}: {e}; retrying in {} s",
                            backoff.as_secs()
                        );
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(60));
                    }
                }
            }
        });
    }
}

/// The poller of one host: events on their periods, reconnection with backoff, and the
/// end once nobody has listened for `LINGER`. The secret lives here and goes with it.
async fn poll(hub: Arc<Hub>, target: Target, watch: Arc<Watch>, first: Remote, secret: Secret) {
    let send = |event: &'static str, message: Value| {
        let _ = watch.notices.send(Arc::new(Notice {
            target: target.clone(),
            event,
            message,
        }));
    };
    let set_error = |e: Option<String>| {
        *watch.error.lock().unwrap_or_else(|e| e.into_inner()) = e;
    };
    let mut remote = Some(first);
    let mut state = State::new(watch.mirror.clone());
    let mut backoff = Duration::from_secs(1);
    let (mut cpu_info_at, mut processes_at): (Option<Instant>, Option<Instant>) = (None, None);
    let mut idle_since: Option<Instant> = None;
    loop {
        if watch.listeners.load(Ordering::SeqCst) == 0 {
            let since = *idle_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= LINGER {
                let mut watches = hub.watches();
                if watch.listeners.load(Ordering::SeqCst) == 0 {
                    watches.remove(&target);
                    break;
                }
            }
        } else {
            idle_since = None;
        }
        let Some(r) = &remote else {
            match Remote::connect(&target, &secret, &hub.keys, hub.timeouts).await {
                Ok(r) => {
                    remote = Some(r);
                    backoff = Duration::from_secs(1);
                    state = State::new(watch.mirror.clone());
                    cpu_info_at = None;
                    processes_at = None;
                }
                Err(e) => {
                    let error = format!("{e}; retrying in {} s", backoff.as_secs());
                    set_error(Some(error.clone()));
                    send("error", json!({ "error": error }));
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
            continue;
        };
        let started = Instant::now();
        let mut result = Ok(());
        if cpu_info_at.is_none_or(|t| t.elapsed() >= CPU_INFO) {
            cpu_info_at = Some(Instant::now());
            result = state
                .cpu_info(r)
                .await
                .map(|evs| evs.into_iter().for_each(|(n, m)| send(n, m)));
        }
        if result.is_ok() {
            result = state
                .fast(r)
                .await
                .map(|evs| evs.into_iter().for_each(|(n, m)| send(n, m)));
        }
        if result.is_ok() && processes_at.is_none_or(|t| t.elapsed() >= PROCESSES) {
            processes_at = Some(Instant::now());
            result = state
                .processes(r)
                .await
                .map(|evs| evs.into_iter().for_each(|(n, m)| send(n, m)));
            if result.is_ok() {
                state.metrics_files(r).await;
            }
        }
        if let Err(e) = result {
            let error = format!("connection lost: {e}; reconnecting");
            set_error(Some(error.clone()));
            send("error", json!({ "error": error }));
            if let Some(r) = remote.take() {
                r.close().await;
            }
            continue;
        }
        set_error(None);
        tokio::time::sleep(FAST.saturating_sub(started.elapsed())).await;
    }
    if let Some(r) = remote {
        r.close().await;
    }
    // `secret` drops here; its Zeroizing contents are wiped.
}
