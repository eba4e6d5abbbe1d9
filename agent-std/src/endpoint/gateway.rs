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
use crate::sflow::columns::{HostValues, Method, H};
use crate::sflow::sample::{Description, Entity, HostKey, Ingest, Name};
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

/// A gateway's host sample as the collector's own: the same columns, all-ones unknown.
pub fn ingest(c: &HostCounters, source: IpAddr) -> Ingest {
    let agent = match c.agent {
        Agent::V4(a) => IpAddr::from(a),
        Agent::V6(a) => IpAddr::from(a),
    };
    let mut v = HostValues::default();
    let u32v = |x: u32| (x != u32::MAX).then_some(u64::from(x));
    let u64v = |x: u64| (x != u64::MAX).then_some(x);
    if let Some(cpu) = c.cpu {
        v.record_mask |= Method::HostCpu.bit();
        let load = |l: f32| Some((f64::from(l) * 1e6).round() / 1e6);
        v.set_real(H::cpu_load_one as usize, load(cpu.load_one));
        v.set_real(H::cpu_load_five as usize, load(cpu.load_five));
        v.set_real(H::cpu_load_fifteen as usize, load(cpu.load_fifteen));
        for (at, x) in [
            (H::cpu_proc_run, cpu.proc_run),
            (H::cpu_proc_total, cpu.proc_total),
            (H::cpu_num, cpu.cpu_num),
            (H::cpu_speed, cpu.cpu_speed),
            (H::cpu_uptime, cpu.uptime),
            (H::cpu_user, cpu.user),
            (H::cpu_nice, cpu.nice),
            (H::cpu_system, cpu.system),
            (H::cpu_idle, cpu.idle),
            (H::cpu_waiting_io, cpu.wio),
            (H::cpu_intr, cpu.intr),
            (H::cpu_sintr, cpu.sintr),
            (H::cpu_interrupts, cpu.interrupts),
            (H::cpu_contexts, cpu.contexts),
        ] {
            v.set_int(at as usize, u32v(x));
        }
    }
    if let Some(m) = c.memory {
        v.record_mask |= Method::HostMemory.bit();
        for (at, x) in [
            (H::mem_total, m.total),
            (H::mem_free, m.free),
            (H::mem_shared, m.shared),
            (H::mem_buffers, m.buffers),
            (H::mem_cached, m.cached),
            (H::swap_total, m.swap_total),
            (H::swap_free, m.swap_free),
        ] {
            v.set_int(at as usize, u64v(x));
        }
        for (at, x) in [
            (H::page_in, m.page_in),
            (H::page_out, m.page_out),
            (H::swap_in, m.swap_in),
            (H::swap_out, m.swap_out),
        ] {
            v.set_int(at as usize, u32v(x));
        }
    }
    if let Some(d) = c.disk {
        v.record_mask |= Method::HostDisk.bit();
        v.set_int(H::disk_total as usize, u64v(d.total));
        v.set_int(H::disk_free as usize, u64v(d.free));
        v.set_real(
            H::part_max_used as usize,
            (d.part_max_used >= 0).then(|| f64::from(d.part_max_used) / 100.0),
        );
        v.set_int(H::reads as usize, u32v(d.reads));
        v.set_int(H::read_time as usize, u32v(d.read_time));
        v.set_int(H::writes as usize, u32v(d.writes));
        v.set_int(H::write_time as usize, u32v(d.write_time));
        v.set_int(H::bytes_read as usize, u64v(d.bytes_read));
        v.set_int(H::bytes_written as usize, u64v(d.bytes_written));
    }
    if let Some(n) = c.net {
        v.record_mask |= Method::HostNet.bit();
        v.set_int(H::bytes_in as usize, u64v(n.bytes_in));
        v.set_int(H::bytes_out as usize, u64v(n.bytes_out));
        for (at, x) in [
            (H::packets_in, n.pkts_in),
            (H::errs_in, n.errs_in),
            (H::drops_in, n.drops_in),
            (H::packets_out, n.pkts_out),
            (H::errs_out, n.errs_out),
            (H::drops_out, n.drops_out),
        ] {
            v.set_int(at as usize, u32v(x));
        }
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
