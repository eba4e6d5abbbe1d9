//! The gateway's real network tasks on two embassy-net stacks joined by the in-memory
//! cable, in one process, no privileges: a test collector on one stack sends hsflowd's
//! real datagrams to the gateway's sFlow port and reads what the gateway streams back to
//! it over TCP.

mod common;

use std::cell::RefCell;

use common::{payloads, LIVE};
use embassy_futures::join::join5;
use embassy_futures::select::{select, Either};
use embassy_net::tcp::TcpSocket;
use embassy_net::udp::{PacketMetadata, UdpSocket};
use embassy_net::{Config, IpEndpoint, Ipv4Address, Ipv4Cidr, StackResources, StaticConfigV4};
use embassy_net_driver_channel as channel;
use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embassy_sync::blocking_mutex::Mutex;
use embassy_time::{Duration, Timer};
use ferrostat_embassy::net::{cable, sflow_listener, uplink, UplinkConfig, MTU, SFLOW_PORT};
use ferrostat_embassy::{decode, Agent, Gateway, Message};

const AGENT_PORT: u16 = 7343;

fn config(last: u8) -> Config {
    Config::ipv4_static(StaticConfigV4 {
        address: Ipv4Cidr::new(Ipv4Address::new(10, 0, 0, last), 24),
        gateway: None,
        dns_servers: Default::default(),
    })
}

/// Two stacks on the cable, the gateway's tasks on one, `collector` on the other; returns
/// what `collector` returns.
fn run_rig<F, T>(
    uplink_config: UplinkConfig,
    collector: impl FnOnce(embassy_net::Stack<'static>) -> F,
) -> T
where
    F: core::future::Future<Output = T>,
{
    let gateway_state = Box::leak(Box::new(channel::State::<MTU, 4, 4>::new()));
    let collector_state = Box::leak(Box::new(channel::State::<MTU, 4, 4>::new()));
    let (gw_end, gw_device) = channel::new(
        gateway_state,
        embassy_net::driver::HardwareAddress::Ethernet([2, 0, 0, 0, 0, 2]),
    );
    let (col_end, col_device) = channel::new(
        collector_state,
        embassy_net::driver::HardwareAddress::Ethernet([2, 0, 0, 0, 0, 1]),
    );
    let gw_resources = Box::leak(Box::new(StackResources::<4>::new()));
    let col_resources = Box::leak(Box::new(StackResources::<4>::new()));
    let (gw_stack, mut gw_runner) = embassy_net::new(gw_device, config(2), gw_resources, 7);
    let (col_stack, mut col_runner) = embassy_net::new(col_device, config(1), col_resources, 11);
    let gateway: &'static ferrostat_embassy::net::Shared<NoopRawMutex, 32> = Box::leak(Box::new(
        Mutex::new(RefCell::new(Gateway::new("shelf-3", "0.1.0", "s3cret"))),
    ));
    embassy_futures::block_on(async {
        match select(
            collector(col_stack),
            join5(
                gw_runner.run(),
                col_runner.run(),
                cable(gw_end, col_end),
                uplink(gw_stack, gateway, uplink_config),
                sflow_listener(gw_stack, gateway, SFLOW_PORT),
            ),
        )
        .await
        {
            Either::First(m) => m,
        }
    })
}

fn test_uplink_config() -> UplinkConfig {
    let mut c = UplinkConfig::new(IpEndpoint::new(
        Ipv4Address::new(10, 0, 0, 1).into(),
        AGENT_PORT,
    ));
    c.heartbeat = Duration::from_millis(50);
    c.poll = Duration::from_millis(5);
    c.backoff = Duration::from_millis(20);
    c
}

/// Sends the capture's datagrams to the gateway's sFlow port, one at a time.
async fn send_capture(stack: embassy_net::Stack<'static>, datagrams: &[Vec<u8>]) {
    let mut rx_meta = [PacketMetadata::EMPTY; 2];
    let mut tx_meta = [PacketMetadata::EMPTY; 2];
    let (mut urx, mut utx) = ([0u8; 256], [0u8; 2048]);
    let mut udp = UdpSocket::new(stack, &mut rx_meta, &mut urx, &mut tx_meta, &mut utx);
    udp.bind(40_000).unwrap();
    let to = IpEndpoint::new(Ipv4Address::new(10, 0, 0, 2).into(), SFLOW_PORT);
    for d in datagrams {
        udp.send_to(d, to).await.unwrap();
        // One datagram in flight at a time: the gateway's socket holds a couple.
        Timer::after(Duration::from_millis(2)).await;
    }
}

/// Reads frames until a heartbeat reports `datagrams` datagrams heard.
async fn read_until_heartbeat(tcp: &mut TcpSocket<'_>, datagrams: u32) -> Vec<Message> {
    let mut stream: Vec<u8> = Vec::new();
    let mut messages = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let n = tcp.read(&mut buf).await.unwrap();
        assert!(n > 0, "gateway closed the uplink");
        stream.extend_from_slice(&buf[..n]);
        while let Some(end) = stream.iter().position(|b| *b == 0) {
            let mut frame: Vec<u8> = stream.drain(..=end).collect();
            frame.pop();
            messages.push(decode(&mut frame).unwrap());
        }
        if matches!(messages.last(), Some(Message::Heartbeat(h)) if h.datagrams == datagrams) {
            return messages;
        }
    }
}

#[test]
fn gateway_streams_real_samples_to_a_collector_over_embassy_net() {
    let datagrams = payloads(LIVE);
    let messages = run_rig(test_uplink_config(), |stack| async move {
        let (mut rx, mut tx) = ([0u8; 16384], [0u8; 64]);
        let mut tcp = TcpSocket::new(stack, &mut rx, &mut tx);
        tcp.accept(AGENT_PORT).await.unwrap();
        send_capture(stack, &datagrams).await;
        read_until_heartbeat(&mut tcp, 22).await
    });
    let Message::Hello(hello) = &messages[0] else {
        panic!("first frame {:?}", messages[0]);
    };
    assert_eq!(
        (hello.gateway_id.as_str(), hello.token.as_str()),
        ("shelf-3", "s3cret")
    );
    let counters: Vec<_> = messages
        .iter()
        .filter_map(|m| match m {
            Message::Counters(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(
        counters.len(),
        15,
        "every host sample of the capture, none twice"
    );
    assert!(counters
        .iter()
        .all(|c| c.agent == Agent::V4([192, 0, 2, 2]) && c.hostname == "vm"));
    let Message::Heartbeat(last) = messages.last().unwrap() else {
        unreachable!()
    };
    assert_eq!(
        (last.datagrams, last.decode_errors, last.queue_drops),
        (22, 0, 0)
    );
    assert!(last.link_up);
    assert!(last.frames_sent >= 16);
}

/// The agent drops the connection: the gateway reconnects (with backoff), says hello
/// again, and the samples heard meanwhile are all delivered.
#[test]
fn gateway_reconnects_and_delivers_what_it_queued() {
    let datagrams = payloads(LIVE);
    let messages = run_rig(test_uplink_config(), |stack| async move {
        let (mut rx, mut tx) = ([0u8; 16384], [0u8; 64]);
        {
            let mut first = TcpSocket::new(stack, &mut rx, &mut tx);
            first.accept(AGENT_PORT).await.unwrap();
            let mut buf = [0u8; 64];
            let n = first.read(&mut buf).await.unwrap();
            assert!(n > 0);
            first.abort();
            let _ = first.flush().await;
        }
        // Heard while no agent listens: queued.
        send_capture(stack, &datagrams).await;
        let mut second = TcpSocket::new(stack, &mut rx, &mut tx);
        second.accept(AGENT_PORT).await.unwrap();
        read_until_heartbeat(&mut second, 22).await
    });
    assert!(matches!(&messages[0], Message::Hello(h) if h.gateway_id == "shelf-3"));
    let counters = messages
        .iter()
        .filter(|m| matches!(m, Message::Counters(_)))
        .count();
    assert_eq!(
        counters, 15,
        "every sample queued while disconnected arrives once"
    );
}
