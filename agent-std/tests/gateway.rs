//! The gateway uplink from outside: a real agent with `--gateway-listen`, a client that
//! streams frames made by the same core encoder the firmware uses, from the corpus's
//! real sFlow captures, and the JSON-RPC API checked against sflowtool's decoding.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::sflow::{
    check_api_at, expected, metric, payloads, sflowtool, wait_committed, Expected,
};
use common::start;
use ferrostat_core::gateway::{
    encode, Agent, Health, Hello, HostCounters, Message, FRAME_CAPACITY,
};
use ferrostat_core::sflow::{Datagram, Sample};

fn frame(m: &Message) -> Vec<u8> {
    let mut out = [0u8; FRAME_CAPACITY];
    let n = encode(m, &mut out).unwrap();
    out[..n].to_vec()
}

fn hello(id: &str, token: &str) -> Message {
    let mut h = Hello::default();
    h.gateway_id.push_str(id).unwrap();
    h.firmware.push_str("0.1.0").unwrap();
    h.token.push_str(token).unwrap();
    Message::Hello(h)
}

/// What a gateway makes of a capture: one Counters message per host sample.
fn counters(capture: &str) -> Vec<Message> {
    let mut out = Vec::new();
    for d in payloads(capture) {
        let datagram = Datagram::parse(&d).unwrap();
        let agent = match datagram.agent {
            std::net::IpAddr::V4(a) => Agent::V4(a.octets()),
            std::net::IpAddr::V6(a) => Agent::V6(a.octets()),
        };
        for s in datagram.samples() {
            if let Sample::Counters(c) = s.unwrap() {
                if let Some(h) =
                    HostCounters::from_sample(agent, datagram.sub_agent_id, &c).unwrap()
                {
                    out.push(Message::Counters(h));
                }
            }
        }
    }
    out
}

/// Host records only: the uplink carries host_cpu, memory, disk and net.
fn host_only(e: Expected) -> Expected {
    e.into_iter()
        .filter(|((m, _), _)| {
            ["host.cpu", "host.memory", "host.disk", "host.net"].contains(&m.as_str())
        })
        .collect()
}

fn uplink_addr(agent: &common::Agent) -> String {
    agent
        .banner
        .iter()
        .find_map(|l| l.split_once("gateway uplink on tcp://"))
        .map(|(_, a)| a.trim().to_owned())
        .expect("gateway banner line")
}

/// A gateway's stream, with a corrupt frame, an overlong one and a heartbeat among the
/// samples: every sample lands in the history and answers as sflowtool decoded the
/// capture; the bad frames are counted and the stream goes on after each.
#[test]
fn gateway_samples_reach_the_api_and_bad_frames_resync() {
    let mut agent = start(&["--gateway-listen", "127.0.0.1:0", "--token", "s3cret"]);
    agent.query = "?token=s3cret".into();
    let mut stream = TcpStream::connect(uplink_addr(&agent)).unwrap();
    let mut wire = frame(&hello("shelf-3", "s3cret"));
    let messages: Vec<Message> = counters("libsflow-harness-virt-ipv4")
        .into_iter()
        .chain(counters("hsflowd-live"))
        .collect();
    for (i, m) in messages.iter().enumerate() {
        let mut f = frame(m);
        if i == 2 {
            // A corrupt copy first (one flipped bit), then the real one.
            let mut bad = f.clone();
            bad[10] ^= 0x04;
            wire.extend_from_slice(&bad);
            // And a run of bytes longer than any frame, then its delimiter.
            wire.extend(std::iter::repeat_n(0x55, FRAME_CAPACITY * 3));
            wire.push(0);
        }
        wire.append(&mut f);
    }
    wire.extend(frame(&Message::Heartbeat(Health {
        uptime_ms: 42_000,
        link_up: true,
        datagrams: 26,
        decode_errors: 1,
        queue_drops: 3,
        frames_sent: messages.len() as u32,
    })));
    // Sent in odd-sized pieces, as TCP may deliver them.
    for piece in wire.chunks(97) {
        stream.write_all(piece).unwrap();
    }
    stream.flush().unwrap();
    wait_committed(&agent, messages.len() as f64);
    let mut decoded = sflowtool("libsflow-harness-virt-ipv4");
    decoded.extend(sflowtool("hsflowd-live"));
    let (want, _) = expected(&decoded, None);
    let url = format!("{}/api{}", agent.base(), agent.query);
    check_api_at(&url, &host_only(want), "unused for host rows");

    let m = |name: &str, labels: &str| metric(&agent, name, labels);
    let g = "gateway=\"shelf-3\"";
    assert_eq!(
        m("ferrostat_gateway_samples_total", g),
        messages.len() as f64
    );
    assert_eq!(
        m(
            "ferrostat_gateway_bad_frames_total",
            "kind=\"bad_checksum\""
        ),
        1.0
    );
    assert_eq!(
        m("ferrostat_gateway_bad_frames_total", "kind=\"overlong\""),
        1.0
    );
    // The heartbeat is the last frame: wait for it, then read it back.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while m("ferrostat_gateway_uptime_seconds", g) != 42.0 {
        assert!(std::time::Instant::now() < deadline, "heartbeat not seen");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(m("ferrostat_gateway_link_up", g), 1.0);
    assert_eq!(m("ferrostat_gateway_queue_drops_total", g), 3.0);
    assert_eq!(m("ferrostat_gateway_connected", g), 1.0);
    // The hosts it reported are hosts of the registry: /metrics with a host label.
    assert_eq!(
        m("ferrostat_sflow_memory_bytes", "host=\"hypervisor-01.example\",agent=\"192.0.2.5\",sub_agent=\"100000\",kind=\"total\""),
        68_719_476_736.0
    );
    drop(stream);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while m("ferrostat_gateway_connected", g) != 0.0 {
        assert!(std::time::Instant::now() < deadline, "disconnect not seen");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A wrong token, or anything but a hello first, closes the connection and is counted.
#[test]
fn gateways_without_the_token_are_refused() {
    let mut agent = start(&["--gateway-listen", "127.0.0.1:0", "--token", "s3cret"]);
    agent.query = "?token=s3cret".into();
    let closed = |wire: Vec<u8>| {
        let mut s = TcpStream::connect(uplink_addr(&agent)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(&wire).unwrap();
        let mut buf = [0u8; 16];
        // The agent closes: end of stream (or a reset), never a timeout.
        match s.read(&mut buf) {
            Ok(0) => {}
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
            Ok(n) => panic!("agent sent {n} bytes"),
        }
    };
    closed(frame(&hello("intruder", "guess")));
    let first = counters("hsflowd-live").remove(0);
    closed(frame(&first));
    assert_eq!(
        metric(
            &agent,
            "ferrostat_gateway_refused_total",
            "reason=\"bad_token\""
        ),
        1.0
    );
    assert_eq!(
        metric(
            &agent,
            "ferrostat_gateway_refused_total",
            "reason=\"no_hello\""
        ),
        1.0
    );
    assert_eq!(
        metric(&agent, "ferrostat_history_samples_committed_total", ""),
        0.0
    );
}
