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

use crate::registry::Registry;
use crate::sflow::columns::HostValues;
use crate::sflow::sample::{apply_host_record, Description, Entity, HostKey, Ingest, Name};
use crate::state::history::{now_ms, Queue};

/// How long a gateway may stay silent.
const IDLE: Duration = Duration::from_secs(90);
/// Gateways connected at once.
const MAX_GATEWAYS: usize = 1024;

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
#[derive(Default)]
pub struct Gateways {
    by_id: Mutex<HashMap<String, GatewayStats>>,
    refused: Mutex<BTreeMap<&'static str, u64>>,
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

    fn refuse(&self, why: &'static str) {
        *self
            .refused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(why)
            .or_default() += 1;
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
}

/// Accepts gateways until the listener fails.
pub async fn serve(listener: TcpListener, uplink: Uplink) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_GATEWAYS));
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            uplink.gateways.refuse("too_many");
            continue;
        };
        let uplink = uplink.clone();
        tokio::spawn(async move {
            connection(stream, peer, &uplink).await;
            drop(permit);
        });
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
    let mut frame: Vec<u8> = Vec::with_capacity(FRAME_CAPACITY);
    let mut overlong = false;
    let mut id: Option<String> = None;
    let mut buf = [0u8; 4096];
    loop {
        let n = match tokio::time::timeout(IDLE, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => break,
        };
        for &byte in &buf[..n] {
            if byte != 0 {
                if frame.len() < FRAME_CAPACITY {
                    frame.push(byte);
                } else {
                    overlong = true;
                }
                continue;
            }
            let decoded = if overlong {
                Err("overlong")
            } else {
                gateway::decode(&mut frame).map_err(|e| kind(&e))
            };
            frame.clear();
            overlong = false;
            match (&id, decoded) {
                (None, Ok(Message::Hello(hello))) => {
                    let ok = match &uplink.token {
                        None => true,
                        Some(t) => bool::from(t.as_bytes().ct_eq(hello.token.as_bytes())),
                    };
                    if !ok {
                        uplink.gateways.refuse("bad_token");
                        eprintln!("ferrostat-agent: gateway from {peer}: wrong token, closed");
                        return;
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
                }
                (None, _) => {
                    uplink.gateways.refuse("no_hello");
                    eprintln!(
                        "ferrostat-agent: gateway from {peer}: first frame is not a hello, closed"
                    );
                    return;
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
                }
                (Some(name), Ok(Message::Hello(_))) => {
                    uplink.gateways.update(name, |s| s.frames += 1);
                }
                (Some(name), Err(why)) => {
                    uplink.gateways.update(name, |s| {
                        *s.bad_frames.entry(why).or_default() += 1;
                    });
                }
            }
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
