//! The gateway's two network tasks, written against embassy-net only, so the same code
//! runs on a board, under QEMU and on the host: the sFlow listener and the uplink. And
//! an in-memory Ethernet cable that joins two stacks, for tests and the QEMU image.
//!
//! Lessons from embassy-net users (EMBEDDED.md): wait for the network config before
//! connecting; after a failed write, abort and flush before reconnecting, with backoff;
//! socket buffers live in the task, not on a deep stack.

use core::cell::RefCell;

use embassy_futures::select::{select, Either};
use embassy_net::tcp::TcpSocket;
use embassy_net::udp::{PacketMetadata, UdpSocket};
use embassy_net::{IpEndpoint, Stack};
use embassy_net_driver_channel as channel;
use embassy_sync::blocking_mutex::raw::RawMutex;
use embassy_sync::blocking_mutex::Mutex;
use embassy_time::{Duration, Instant, Timer};
use embedded_io_async::Write;

use crate::{Gateway, FRAME_CAPACITY};

/// The gateway state both tasks share.
pub type Shared<M, const Q: usize> = Mutex<M, RefCell<Gateway<Q>>>;

/// The standard sFlow port.
pub const SFLOW_PORT: u16 = 6343;

/// Receives sFlow on `port` forever and feeds each datagram to the gateway, decoded
/// straight from the socket's buffer.
pub async fn sflow_listener<M: RawMutex, const Q: usize>(
    stack: Stack<'_>,
    gateway: &Shared<M, Q>,
    port: u16,
) -> ! {
    let mut rx_meta = [PacketMetadata::EMPTY; 4];
    // Room for one full-size datagram and a small one behind it.
    let mut rx = [0u8; 2048];
    let mut tx_meta = [PacketMetadata::EMPTY; 1];
    let mut tx = [0u8; 64];
    let mut socket = UdpSocket::new(stack, &mut rx_meta, &mut rx, &mut tx_meta, &mut tx);
    // Binding a fresh socket to a port cannot fail but for a port of 0.
    let _ = socket.bind(port);
    loop {
        socket
            .recv_from_with(|datagram, _| {
                gateway.lock(|g| g.borrow_mut().on_datagram(datagram));
            })
            .await;
    }
}

/// How the uplink behaves.
#[derive(Clone, Copy, Debug)]
pub struct UplinkConfig {
    /// The agent's gateway port.
    pub agent: IpEndpoint,
    /// How often a heartbeat goes out.
    pub heartbeat: Duration,
    /// How often the queue is checked for samples.
    pub poll: Duration,
    /// First wait before reconnecting; doubles up to `max_backoff`.
    pub backoff: Duration,
    /// Longest wait before reconnecting.
    pub max_backoff: Duration,
}

impl UplinkConfig {
    /// Defaults for `agent`: heartbeat 5 s, poll 100 ms, backoff 1 s up to 30 s.
    pub const fn new(agent: IpEndpoint) -> Self {
        UplinkConfig {
            agent,
            heartbeat: Duration::from_secs(5),
            poll: Duration::from_millis(100),
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// Connects to the agent, says hello, then streams samples and heartbeats; reconnects
/// with backoff whenever the connection fails. Samples wait in the gateway's queue while
/// the link is down.
pub async fn uplink<M: RawMutex, const Q: usize>(
    stack: Stack<'_>,
    gateway: &Shared<M, Q>,
    config: UplinkConfig,
) -> ! {
    let booted = Instant::now();
    let mut backoff = config.backoff;
    let mut rx = [0u8; 128];
    let mut tx = [0u8; 1024];
    let mut frame = [0u8; FRAME_CAPACITY];
    loop {
        stack.wait_config_up().await;
        let mut socket = TcpSocket::new(stack, &mut rx, &mut tx);
        socket.set_timeout(Some(Duration::from_secs(30)));
        if socket.connect(config.agent).await.is_ok() {
            backoff = config.backoff;
            let mut said_hello = false;
            let mut next_beat = Instant::now();
            // One write point for every kind of frame keeps the task's state machine
            // (and the firmware) small.
            loop {
                let link = stack.is_link_up();
                let next = gateway.lock(|g| {
                    let mut g = g.borrow_mut();
                    if !said_hello {
                        return Some((Next::Hello, g.hello_frame(&mut frame)));
                    }
                    if let Some(f) = g.peek_frame(&mut frame) {
                        return Some((Next::Sample, f));
                    }
                    (Instant::now() >= next_beat).then(|| {
                        let uptime = booted.elapsed().as_millis();
                        (Next::Beat, g.heartbeat_frame(uptime, link, &mut frame))
                    })
                });
                let Some((kind, encoded)) = next else {
                    if socket.flush().await.is_err() {
                        break;
                    }
                    Timer::after(config.poll).await;
                    continue;
                };
                // A frame that cannot be encoded is skipped, never retried forever.
                if let Ok(n) = encoded {
                    if socket.write_all(&frame[..n]).await.is_err() {
                        break;
                    }
                }
                match kind {
                    Next::Hello => said_hello = true,
                    Next::Sample => gateway.lock(|g| g.borrow_mut().sent()),
                    Next::Beat => next_beat = Instant::now() + config.heartbeat,
                }
            }
            socket.abort();
            let _ = socket.flush().await;
        }
        Timer::after(backoff).await;
        backoff = (backoff * 2).min(config.max_backoff);
    }
}

/// What the uplink writes next.
enum Next {
    Hello,
    Sample,
    Beat,
}

/// The Ethernet frame size the cable carries.
pub const MTU: usize = 1514;

/// One end of an in-memory Ethernet cable: the channel driver's runner side.
pub type CableEnd<'d> = channel::Runner<'d, MTU>;

/// Moves frames both ways between two channel drivers, with both links up, forever.
pub async fn cable(a: CableEnd<'_>, b: CableEnd<'_>) -> ! {
    let (a_state, mut a_rx, mut a_tx) = a.split();
    let (b_state, mut b_rx, mut b_tx) = b.split();
    a_state.set_link_state(embassy_net::driver::LinkState::Up);
    b_state.set_link_state(embassy_net::driver::LinkState::Up);
    loop {
        match select(a_tx.tx_buf(), b_tx.tx_buf()).await {
            Either::First(src) => {
                let dst = b_rx.rx_buf().await;
                let len = src.len().min(dst.len());
                dst[..len].copy_from_slice(&src[..len]);
                b_rx.rx_done(len);
                a_tx.tx_done();
            }
            Either::Second(src) => {
                let dst = a_rx.rx_buf().await;
                let len = src.len().min(dst.len());
                dst[..len].copy_from_slice(&src[..len]);
                a_rx.rx_done(len);
                b_tx.tx_done();
            }
        }
    }
}
