//! The gateway uplink (`--gateway-listen`, TCP): edge gateways stream COBS-framed
//! postcard messages (`agent-embassy/PROTOCOL.md`, decoded by `ferrostat_core::gateway`).
//! The first frame must be a hello with the agent's token; then each `Counters` frame is
//! a host sample for the registry and the history, and each `Heartbeat` the gateway's
//! own health.
//!
//! A bad frame is counted and the stream resynchronises at the next `0x00`; a frame
//! longer than the protocol allows is discarded up to its delimiter, so one connection
//! never holds more than a frame and a read buffer. A gateway silent for 90 s is
//! dropped (heartbeats come every few seconds).

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferrostat_core::gateway::{self, Agent, HostCounters, Message, FRAME_CAPACITY};
use subtle::ConstantTimeEq;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

use crate::clock::now_ms;
use crate::http_listener::{Refusal, SourceCounts};
use crate::log_budget::LogBudget;
use crate::registry::Registry;
use crate::sflow::columns::HostValues;
use crate::sflow::sample::{apply_host_record, Description, Entity, HostKey, Ingest, Name};
use crate::state::history::Queue;

/// How long a gateway may stay silent.
const IDLE: Duration = Duration::from_secs(90);
/// Gateways connected at once.
const MAX_GATEWAYS: usize = 1024;
/// Gateways connected at once from one address (an IPv6 /64): a site behind NAT has
/// several, a flood from one address does not get every place.
const MAX_GATEWAYS_PER_ADDRESS: usize = 64;

/// What one gateway did and said about itself.
#[derive(Clone, Debug, Default)]
pub struct GatewayStats {
    /// Where it connects from.
    pub peer: Option<IpAddr>,
    /// Frames decoded.
    pub frames: u64,
    /// Host samples received.
    pub samples: u64,
    /// Frames rejected, by error kind.
    pub bad_frames: BTreeMap<&'static str, u64>,
    /// Its last heartbeat.
    pub health: Option<gateway::Health>,
    /// Whether it is connected now.
    pub connected: bool,
}

/// Every gateway's counters, and hellos refused.
pub struct Gateways {
    by_id: Mutex<HashMap<String, GatewayStats>>,
    refused: Mutex<BTreeMap<&'static str, u64>>,
    /// Lines about refused connections: a flood of them is a few lines a minute.
    log: Mutex<LogBudget>,
}

impl Default for Gateways {
    fn default() -> Self {
        Gateways {
            by_id: Mutex::default(),
            refused: Mutex::default(),
            log: Mutex::new(LogBudget::new(
                "gateway",
                "refused connections",
                "ferrostat_gateway_refused_total counts each",
            )),
        }
    }
}

impl Gateways {
    /// Every gateway by id.
    pub fn list(&self) -> Vec<(String, GatewayStats)> {
        let m = self.by_id.lock().unwrap_or_else(|e| e.into_inner());
        let mut v: Vec<_> = m.iter().map(|(k, s)| (k.clone(), s.clone())).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// Connections refused before or at the hello, by reason.
    pub fn refused(&self) -> Vec<(&'static str, u64)> {
        let m = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        m.iter().map(|(k, v)| (*k, *v)).collect()
    }

    /// Counts a refusal, and logs `line` within the log's budget.
    fn refuse(&self, why: &'static str, line: impl FnOnce() -> String) {
        *self
            .refused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(why)
            .or_default() += 1;
        self.log.lock().unwrap_or_else(|e| e.into_inner()).log(line);
    }

    fn update(&self, id: &str, f: impl FnOnce(&mut GatewayStats)) {
        let mut m = self.by_id.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = m.get_mut(id) {
            f(s);
        } else if m.len() < MAX_GATEWAYS * 4 {
            f(m.entry(id.to_owned()).or_default());
        }
    }
}

/// What a connection needs.
#[derive(Clone)]
pub struct Uplink {
    /// The token hellos must carry, if the agent has one.
    pub token: Option<String>,
    /// Where hosts go.
    pub registry: Arc<Registry>,
    /// The history, when the sFlow collector runs.
    pub queue: Option<Queue>,
    /// Counters.
    pub gateways: Arc<Gateways>,
    /// How long a new connection has to complete its hello (`--header-timeout-ms`): a
    /// gateway sends it at once, so a connection still without one is not a gateway and
    /// gives its place back.
    pub hello_deadline: Duration,
}

/// Accepts gateways until the listener fails.
pub async fn serve(listener: TcpListener, uplink: Uplink) {
    let slots = Arc::new(SourceCounts::default());
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let place = match slots.take(peer.ip(), MAX_GATEWAYS_PER_ADDRESS, MAX_GATEWAYS, 0) {
            Ok(place) => place,
            Err(Refusal::Source) => {
                uplink.gateways.refuse("too_many_from_address", || {
                    format!("{peer}: {MAX_GATEWAYS_PER_ADDRESS} connections open from its address, closed")
                });
                continue;
            }
            Err(Refusal::Total) => {
                uplink.gateways.refuse("too_many", || {
                    format!("{peer}: {MAX_GATEWAYS} gateway connections open, closed")
                });
                continue;
            }
        };
        let uplink = uplink.clone();
        tokio::spawn(async move {
            connection(stream, peer, &uplink).await;
            drop(place);
        });
    }
}

/// Cuts a byte stream into COBS frames at each `0x00`: at most [`FRAME_CAPACITY`] bytes
/// are kept, and a longer frame is reported as overlong at its delimiter.
#[derive(Default)]
pub struct FrameReader {
    frame: Vec<u8>,
    overlong: bool,
}

impl FrameReader {
    /// Feeds `bytes`, calling `on_frame` with each complete frame decoded (or the kind of
    /// error that kept it from decoding); stops early when `on_frame` returns `false`.
    pub fn feed(
        &mut self,
        bytes: &[u8],
        mut on_frame: impl FnMut(Result<Message, &'static str>) -> bool,
    ) -> bool {
        for &byte in bytes {
            if byte != 0 {
                if self.frame.len() < FRAME_CAPACITY {
                    self.frame.push(byte);
                } else {
                    self.overlong = true;
                }
                continue;
            }
            let go_on = if self.overlong {
                on_frame(Err("overlong"))
            } else {
                on_frame(gateway::decode(&mut self.frame).map_err(|e| kind(&e)))
            };
            self.frame.clear();
            self.overlong = false;
            if !go_on {
                return false;
            }
        }
        true
    }
}

/// A decode error's kind as a label.
fn kind(e: &ferrostat_core::Error) -> &'static str {
    use ferrostat_core::ErrorKind as K;
    match e.kind() {
        K::BadChecksum => "bad_checksum",
        K::BadVersion => "bad_version",
        K::UnexpectedEnd => "truncated",
        K::BadValue => "malformed",
        _ => "other",
    }
}

async fn connection(mut stream: TcpStream, peer: SocketAddr, uplink: &Uplink) {
    let peer_ip = peer.ip().to_canonical();
    let mut reader = FrameReader {
        frame: Vec::with_capacity(FRAME_CAPACITY),
        overlong: false,
    };
    let mut id: Option<String> = None;
    let mut buf = [0u8; 4096];
    let hello_by = tokio::time::Instant::now() + uplink.hello_deadline;
    loop {
        // Before the hello, the hello's deadline; after it, the idle bound.
        let wait = match id {
            None => hello_by.saturating_duration_since(tokio::time::Instant::now()),
            Some(_) => IDLE,
        };
        let n = match tokio::time::timeout(wait, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            Err(_) if id.is_none() => {
                uplink.gateways.refuse("no_hello_in_time", || {
                    format!(
                        "{peer}: no hello within {} ms (--header-timeout-ms), closed",
                        uplink.hello_deadline.as_millis()
                    )
                });
                return;
            }
            _ => break,
        };
        let go_on = reader.feed(&buf[..n], |decoded| match (&id, decoded) {
            (None, Ok(Message::Hello(hello))) => {
                let ok = match &uplink.token {
                    None => true,
                    Some(t) => bool::from(t.as_bytes().ct_eq(hello.token.as_bytes())),
                };
                if !ok {
                    uplink
                        .gateways
                        .refuse("bad_token", || format!("{peer}: wrong token, closed"));
                    return false;
                }
                let name = hello.gateway_id.to_string();
                uplink.gateways.update(&name, |s| {
                    s.peer = Some(peer_ip);
                    s.connected = true;
                    s.frames += 1;
                });
                uplink
                    .registry
                    .touch(gateway_key(peer_ip), peer_ip, &name, now_ms());
                id = Some(name);
                true
            }
            (None, _) => {
                uplink.gateways.refuse("no_hello", || {
                    format!("{peer}: first frame is not a hello, closed")
                });
                false
            }
            (Some(name), Ok(Message::Counters(c))) => {
                uplink.gateways.update(name, |s| {
                    s.frames += 1;
                    s.samples += 1;
                });
                let sample = ingest(&c, peer_ip);
                uplink.registry.record(&sample);
                if let Some(q) = &uplink.queue {
                    q.offer(sample);
                }
                true
            }
            (Some(name), Ok(Message::Heartbeat(h))) => {
                uplink.gateways.update(name, |s| {
                    s.frames += 1;
                    s.health = Some(h);
                });
                // Heartbeats keep the gateway "OK" among the stats stream's backends.
                uplink
                    .registry
                    .touch(gateway_key(peer_ip), peer_ip, name, now_ms());
                true
            }
            (Some(name), Ok(Message::Hello(_))) => {
                uplink.gateways.update(name, |s| s.frames += 1);
                true
            }
            (Some(name), Err(why)) => {
                uplink.gateways.update(name, |s| {
                    *s.bad_frames.entry(why).or_default() += 1;
                });
                true
            }
        });
        if !go_on {
            return;
        }
    }
    if let Some(name) = id {
        uplink.gateways.update(&name, |s| s.connected = false);
    }
}

/// A gateway's own entry in the registry: its address, and sub-agent 0 (sFlow agents
/// use their own sub-agent ids, hsflowd 100000).
fn gateway_key(peer: IpAddr) -> HostKey {
    HostKey {
        agent: peer,
        sub_agent: 0,
    }
}

/// A gateway's host sample as the collector's own: its records go through the same
/// mapping to columns.
pub fn ingest(c: &HostCounters, source: IpAddr) -> Ingest {
    let agent = match c.agent {
        Agent::V4(a) => IpAddr::from(a),
        Agent::V6(a) => IpAddr::from(a),
    };
    let mut v = HostValues::default();
    for record in c.records() {
        apply_host_record(&mut v, &record);
    }
    let descr = (!c.hostname.is_empty()).then(|| {
        let mut hostname = Name::new();
        let _ = hostname.push_str(&c.hostname);
        Description {
            hostname,
            ..Description::default()
        }
    });
    Ingest {
        at_ms: now_ms(),
        host: HostKey {
            agent,
            sub_agent: c.sub_agent,
        },
        source,
        descr,
        entity: Entity::Host(v),
    }
}
