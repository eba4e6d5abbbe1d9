//! The gateway's queue and framing over the corpus's real datagrams, without a network.

mod common;

use common::{payloads, LIVE};
use ferrostat_embassy::{decode, Agent, Gateway, HostCounters, Message, FRAME_CAPACITY};

/// hsflowd's real datagrams become frames the core decoder reads back: the stream
/// a collector sees, with the host's real values.
#[test]
fn real_datagrams_become_frames_that_decode() {
    let mut g: Gateway<32> = Gateway::new("shelf-3", "0.1.0", "s3cret");
    let datagrams = payloads(LIVE);
    assert_eq!(datagrams.len(), 22);
    let queued: usize = datagrams.iter().map(|d| g.on_datagram(d)).sum();
    assert_eq!(queued, 15, "15 host samples in the capture");
    let mut wire = Vec::new();
    let mut buf = [0u8; FRAME_CAPACITY];
    let n = g.hello_frame(&mut buf).unwrap();
    wire.extend_from_slice(&buf[..n]);
    while let Some(frame) = g.peek_frame(&mut buf) {
        let n = frame.unwrap();
        wire.extend_from_slice(&buf[..n]);
        g.sent();
    }
    let n = g.heartbeat_frame(5_000, true, &mut buf).unwrap();
    wire.extend_from_slice(&buf[..n]);
    let mut messages = wire
        .split_mut(|b| *b == 0)
        .filter(|f| !f.is_empty())
        .map(|f| decode(f).unwrap());
    assert!(matches!(messages.next(), Some(Message::Hello(h)) if h.gateway_id == "shelf-3"));
    let counters: Vec<HostCounters> = messages
        .by_ref()
        .take(15)
        .map(|m| match m {
            Message::Counters(h) => h,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(counters
        .iter()
        .all(|h| h.agent == Agent::V4([192, 0, 2, 2]) && h.hostname == "vm"));
    // The first host sample's host_cpu and memory, as sflowtool printed them.
    let cpu = counters[0].cpu.unwrap();
    assert_eq!((cpu.cpu_num, cpu.cpu_speed), (2, 2445));
    assert!(counters[0].memory.unwrap().total > 0);
    match messages.next() {
        Some(Message::Heartbeat(h)) => {
            assert_eq!(
                (h.datagrams, h.decode_errors, h.queue_drops, h.frames_sent),
                (22, 0, 0, 15)
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(messages.next().is_none());
}

/// A full queue drops its oldest samples and counts them; a bad datagram is counted.
#[test]
fn full_queue_drops_oldest_and_bad_datagrams_count() {
    let mut g: Gateway<4> = Gateway::new("g", "0.1.0", "t");
    for d in payloads(LIVE) {
        g.on_datagram(&d);
    }
    assert_eq!(g.queued(), 4);
    assert_eq!(g.health().queue_drops, 11);
    assert_eq!(g.on_datagram(&[0, 0, 0, 4]), 0);
    assert_eq!(g.health().decode_errors, 1);
}
