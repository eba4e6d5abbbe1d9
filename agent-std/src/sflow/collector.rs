//! The sFlow collector: one thread receives datagrams into one reused buffer, decodes
//! them in place with ferrostat-core, hands each counters sample to the host registry
//! and offers it to the history queue. Nothing is allocated per datagram once a source
//! is known.
//!
//! Per UDP source it counts datagrams, samples, records, decode errors by kind,
//! sequence gaps (datagrams lost on the way, sFlow v5 §5 `sequence_number`) and
//! allowlist drops; a malformed datagram is logged at most once a minute per source, and
//! at most ten such lines a minute in all.
//! Sources and agents are remembered while there is room; once a table is full, those
//! silent past the registry's expiry make room for new ones, so a fleet that changes
//! over the years is still counted one by one.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ferrostat_core::sflow::{Datagram, Sample};

use super::sample::{self, HostKey, Ingest};
use crate::clock::now_ms;
use crate::log_budget::{LogBudget, LOG_EVERY};
use crate::registry::Registry;
use crate::state::history::Queue;

/// Sources tracked one by one; datagrams from further live sources are counted together
/// under the unspecified address, so spoofed floods cannot grow the table.
const MAX_SOURCES: usize = 4096;
/// The socket buffer asked for: about a second of a busy fleet's datagrams.
const RECEIVE_BUFFER: usize = 32 << 20;

/// What one source sent.
#[derive(Clone, Debug, Default)]
pub struct SourceStats {
    /// Datagrams received (allowed ones).
    pub datagrams: u64,
    /// Samples of every type.
    pub samples: u64,
    /// Flow samples, counted and skipped.
    pub flow_samples: u64,
    /// Counter records.
    pub records: u64,
    /// Decode errors by kind.
    pub errors: BTreeMap<&'static str, u64>,
    /// Datagrams missing from the agents' sequence numbers.
    pub sequence_gaps: u64,
    /// Datagrams dropped because the source is not in the allowlist.
    pub allowlist_drops: u64,
    last_seen: Option<Instant>,
    last_log: Option<Instant>,
    unlogged: u64,
}

/// The collector's counters, shared with `/metrics` and the stats stream.
pub struct CollectorStats {
    sources: Mutex<Sources>,
    expiry: Duration,
}

struct Sources {
    by_address: HashMap<IpAddr, SourceStats>,
    swept: Instant,
}

impl CollectorStats {
    fn new(expiry: Duration) -> Self {
        CollectorStats {
            sources: Mutex::new(Sources {
                by_address: HashMap::new(),
                swept: Instant::now(),
            }),
            expiry,
        }
    }

    /// Every source's counters, sorted by address.
    pub fn sources(&self) -> Vec<(IpAddr, SourceStats)> {
        let sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        let mut v: Vec<_> = sources
            .by_address
            .iter()
            .map(|(a, s)| (*a, s.clone()))
            .collect();
        v.sort_by_key(|(a, _)| *a);
        v
    }
}

/// What a datagram amounted to, added to its source's counters under one lock.
#[derive(Default)]
struct Outcome {
    samples: u64,
    flow_samples: u64,
    records: u64,
    gap: u64,
    error: Option<(&'static str, String)>,
}

/// The running collector.
pub struct Collector {
    /// Its counters.
    pub stats: Arc<CollectorStats>,
    /// The bound address.
    pub local: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Collector {
    /// Binds `listen` and starts receiving.
    ///
    /// # Errors
    /// The address cannot be bound.
    pub fn start(
        listen: SocketAddr,
        allow: Vec<ipnet::IpNet>,
        registry: Arc<Registry>,
        queue: Queue,
    ) -> std::io::Result<Self> {
        let socket = bind(listen)?;
        let local = socket.local_addr()?;
        // A timeout so the thread notices shutdown.
        socket.set_read_timeout(Some(Duration::from_millis(250)))?;
        let expiry = registry.limits().expiry;
        let capacity = registry.limits().capacity;
        let stats = Arc::new(CollectorStats::new(expiry));
        let stop = Arc::new(AtomicBool::new(false));
        let mut receiver = Receiver {
            socket,
            allow,
            registry,
            queue,
            stats: stats.clone(),
            sequences: HashMap::new(),
            sequences_swept: Instant::now(),
            capacity,
            expiry,
            log_budget: LogBudget::new(
                "sflow",
                "rejected datagrams",
                "each source's count is in /metrics",
            ),
            stop: stop.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("sflow-collector".into())
            .spawn(move || receiver.run())?;
        Ok(Collector {
            stats,
            local,
            stop,
            thread: Some(thread),
        })
    }

    /// Stops receiving; returns once the thread has let go of the history queue.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn bind(listen: SocketAddr) -> std::io::Result<UdpSocket> {
    let domain = socket2::Domain::for_address(listen);
    let socket = socket2::Socket::new(domain, socket2::Type::DGRAM, Some(socket2::Protocol::UDP))?;
    if listen.is_ipv6() && listen.ip() == IpAddr::V6(Ipv6Addr::UNSPECIFIED) {
        // [::] takes IPv4 agents too.
        socket.set_only_v6(false)?;
    }
    // The kernel caps this at net.core.rmem_max; whatever it grants is used.
    let _ = socket.set_recv_buffer_size(RECEIVE_BUFFER);
    socket.bind(&listen.into())?;
    Ok(socket.into())
}

struct Receiver {
    socket: UdpSocket,
    allow: Vec<ipnet::IpNet>,
    registry: Arc<Registry>,
    queue: Queue,
    stats: Arc<CollectorStats>,
    /// Last sequence number per agent and sub-agent, for gap counting, and when it came.
    sequences: HashMap<HostKey, (u32, Instant)>,
    sequences_swept: Instant,
    /// Agents tracked for gaps at most (the registry's capacity).
    capacity: usize,
    expiry: Duration,
    log_budget: LogBudget,
    stop: Arc<AtomicBool>,
}

/// The most often a full table is searched for the silent to make room: a flood of new
/// addresses must not cost a pass over the table per datagram.
const SWEEP_WHEN_FULL: Duration = Duration::from_secs(1);

/// Whether `key` has a place in `table`, which holds at most `capacity`: it is there, or
/// there is room, or entries not `heard` from for `expiry` give theirs up. A full table
/// is searched for those at most once per `SWEEP_WHEN_FULL`, stamped in `swept`.
fn has_place<K: Eq + Hash, V>(
    table: &mut HashMap<K, V>,
    key: &K,
    capacity: usize,
    swept: &mut Instant,
    expiry: Duration,
    heard: impl Fn(&V) -> Option<Instant>,
) -> bool {
    let full = |t: &HashMap<K, V>| t.len() >= capacity && !t.contains_key(key);
    if full(table) && swept.elapsed() >= SWEEP_WHEN_FULL {
        table.retain(|_, v| heard(v).is_some_and(|t| t.elapsed() <= expiry));
        *swept = Instant::now();
    }
    !full(table)
}

impl Receiver {
    fn run(&mut self) {
        // The largest UDP payload: nothing is ever cut.
        let mut buf = vec![0u8; 65_536];
        while !self.stop.load(Ordering::Relaxed) {
            match self.socket.recv_from(&mut buf) {
                Ok((n, from)) => self.datagram(&buf[..n], from.ip().to_canonical()),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => {
                    eprintln!("ferrostat-agent: sflow: receive: {e}");
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }

    fn datagram(&mut self, bytes: &[u8], source: IpAddr) {
        if !self.allow.is_empty() && !self.allow.iter().any(|n| n.contains(&source)) {
            self.account(source, |s| s.allowlist_drops += 1);
            return;
        }
        let outcome = self.decode(bytes, source);
        let may_log = outcome.error.is_some() && self.log_budget.open();
        let (mut logged, mut held) = (false, false);
        self.account(source, |s| {
            s.datagrams += 1;
            s.samples += outcome.samples;
            s.flow_samples += outcome.flow_samples;
            s.records += outcome.records;
            s.sequence_gaps += outcome.gap;
            if let Some((kind, what)) = &outcome.error {
                *s.errors.entry(kind).or_default() += 1;
                let due = s.last_log.is_none_or(|t| t.elapsed() >= LOG_EVERY);
                if due && may_log {
                    let more = std::mem::take(&mut s.unlogged);
                    eprintln!(
                        "ferrostat-agent: sflow: datagram from {source} rejected: {what}{}",
                        if more > 0 {
                            format!(" ({more} more since the last report)")
                        } else {
                            String::new()
                        }
                    );
                    s.last_log = Some(Instant::now());
                    logged = true;
                } else {
                    s.unlogged += 1;
                    held = due;
                }
            }
        });
        self.log_budget.spent(logged, held);
    }

    /// Adds to `source`'s counters. Sources are kept for as long as there is room; when
    /// the table is full, those silent past the expiry make room, and past that the new
    /// are counted together under the unspecified address.
    fn account(&self, source: IpAddr, f: impl FnOnce(&mut SourceStats)) {
        let stats = &self.stats;
        let mut sources = stats.sources.lock().unwrap_or_else(|e| e.into_inner());
        let Sources { by_address, swept } = &mut *sources;
        let placed = has_place(by_address, &source, MAX_SOURCES, swept, stats.expiry, |s| {
            s.last_seen
        });
        let key = if placed {
            source
        } else {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        };
        let entry = by_address.entry(key).or_default();
        entry.last_seen = Some(Instant::now());
        f(entry);
    }

    /// Counts the datagrams missing between this agent's last sequence number and `seq`.
    /// Agents are remembered for as long as there is room, so loss across an outage is
    /// still counted; when the table is full, those silent past the expiry make room.
    fn sequence_gap(&mut self, key: HostKey, seq: u32) -> u64 {
        let placed = has_place(
            &mut self.sequences,
            &key,
            self.capacity,
            &mut self.sequences_swept,
            self.expiry,
            |(_, at)| Some(*at),
        );
        if !placed {
            return 0;
        }
        let now = Instant::now();
        match self.sequences.insert(key, (seq, now)) {
            Some((last, _)) => {
                let step = seq.wrapping_sub(last);
                // A step back or a huge jump is an agent restart, not loss.
                if step > 1 && step < 1 << 20 {
                    u64::from(step - 1)
                } else {
                    0
                }
            }
            None => 0,
        }
    }

    fn decode(&mut self, bytes: &[u8], source: IpAddr) -> Outcome {
        let mut out = Outcome::default();
        let datagram = match Datagram::parse(bytes) {
            Ok(d) => d,
            Err(e) => {
                out.error = Some((kind_label(e.kind()), e.to_string()));
                return out;
            }
        };
        let key = HostKey {
            agent: datagram.agent,
            sub_agent: datagram.sub_agent_id,
        };
        out.gap = self.sequence_gap(key, datagram.sequence_number);
        let at_ms = now_ms();
        for s in datagram.samples() {
            let s = match s {
                Ok(s) => s,
                Err(e) => {
                    out.error = Some((kind_label(e.kind()), e.to_string()));
                    break;
                }
            };
            out.samples += 1;
            match s {
                Sample::Counters(c) => match sample::decode(&c) {
                    Ok(decoded) => {
                        out.records += decoded.records;
                        let ingest = Ingest {
                            at_ms,
                            host: key,
                            source,
                            descr: decoded.descr,
                            entity: decoded.entity,
                        };
                        self.registry.record(&ingest);
                        if !matches!(ingest.entity, sample::Entity::Other) {
                            self.queue.offer(ingest);
                        }
                    }
                    Err(e) => {
                        out.error = Some((kind_label(e.kind()), e.to_string()));
                        break;
                    }
                },
                Sample::Flow(_) => out.flow_samples += 1,
                Sample::Unknown { .. } => {}
            }
        }
        out
    }
}

/// A decode error's kind as a metric label.
fn kind_label(kind: ferrostat_core::ErrorKind) -> &'static str {
    use ferrostat_core::ErrorKind as K;
    match kind {
        K::UnexpectedEnd => "unexpected_end",
        K::BadVersion => "bad_version",
        K::LengthMismatch => "length_mismatch",
        K::BadValue => "bad_value",
        _ => "other",
    }
}
