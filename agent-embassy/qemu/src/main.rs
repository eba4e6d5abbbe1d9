//! The gateway firmware under QEMU (mps2-an386): the real gateway tasks of
//! ferrostat-embassy on the embassy executor, and a test peer on a second embassy-net
//! stack across the in-memory cable. The peer sends hsflowd's real datagrams (the
//! corpus capture, built into the image) to the gateway's sFlow port, accepts its
//! uplink, decodes every frame with ferrostat-core and checks the samples; the image
//! prints PASS and exits 0 through semihosting, or says what failed and exits 1.
#![no_std]
#![no_main]

mod time_driver;

use core::cell::RefCell;

use cortex_m_semihosting::{debug, hprintln};
use embassy_executor::Spawner;
use embassy_net::tcp::TcpSocket;
use embassy_net::udp::{PacketMetadata, UdpSocket};
use embassy_net::{
    Config, IpEndpoint, Ipv4Address, Ipv4Cidr, Stack, StackResources, StaticConfigV4,
};
use embassy_net_driver_channel as channel;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::blocking_mutex::Mutex;
use embassy_time::{Duration, Timer};
use ferrostat_embassy::net::{
    cable, sflow_listener, uplink, CableEnd, Shared, UplinkConfig, MTU, SFLOW_PORT,
};
use ferrostat_embassy::{decode, Agent, Gateway, Message};
use panic_semihosting as _;
use static_cell::StaticCell;

type GatewayState = Shared<CriticalSectionRawMutex, 32>;
type Device = channel::Device<'static, MTU>;

const CAPTURE: &[u8] = include_bytes!("../../../core/tests/data/sflow/hsflowd-live.pcap");
const AGENT_PORT: u16 = 7343;

/// The UDP payloads of the classic pcap of Ethernet/IPv4/UDP frames.
fn datagrams() -> impl Iterator<Item = &'static [u8]> {
    let mut at = 24;
    core::iter::from_fn(move || {
        let header = CAPTURE.get(at..at + 16)?;
        let len = u32::from_le_bytes([header[8], header[9], header[10], header[11]]) as usize;
        let frame = CAPTURE.get(at + 16..at + 16 + len)?;
        at += 16 + len;
        let udp = 14 + usize::from(frame[14] & 0x0f) * 4;
        let udp_len = usize::from(u16::from_be_bytes([frame[udp + 4], frame[udp + 5]]));
        frame.get(udp + 8..udp + udp_len)
    })
}

#[embassy_executor::task(pool_size = 2)]
async fn net_task(mut runner: embassy_net::Runner<'static, Device>) -> ! {
    runner.run().await
}

#[embassy_executor::task]
async fn cable_task(a: CableEnd<'static>, b: CableEnd<'static>) -> ! {
    cable(a, b).await
}

#[embassy_executor::task]
async fn uplink_task(
    stack: Stack<'static>,
    gateway: &'static GatewayState,
    config: UplinkConfig,
) -> ! {
    uplink(stack, gateway, config).await
}

#[embassy_executor::task]
async fn sflow_task(stack: Stack<'static>, gateway: &'static GatewayState) -> ! {
    sflow_listener(stack, gateway, SFLOW_PORT).await
}

fn static_config(last: u8) -> Config {
    Config::ipv4_static(StaticConfigV4 {
        address: Ipv4Cidr::new(Ipv4Address::new(10, 0, 0, last), 24),
        gateway: None,
        dns_servers: Default::default(),
    })
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    let peripherals = cortex_m::Peripherals::take().expect("first take");
    time_driver::start(peripherals.SYST);

    static GATEWAY_NIC: StaticCell<channel::State<MTU, 4, 4>> = StaticCell::new();
    static PEER_NIC: StaticCell<channel::State<MTU, 4, 4>> = StaticCell::new();
    static GATEWAY_SOCKETS: StaticCell<StackResources<4>> = StaticCell::new();
    static PEER_SOCKETS: StaticCell<StackResources<4>> = StaticCell::new();
    static GATEWAY: StaticCell<GatewayState> = StaticCell::new();

    let (gateway_end, gateway_device) = channel::new(
        GATEWAY_NIC.init(channel::State::new()),
        embassy_net::driver::HardwareAddress::Ethernet([2, 0, 0, 0, 0, 2]),
    );
    let (peer_end, peer_device) = channel::new(
        PEER_NIC.init(channel::State::new()),
        embassy_net::driver::HardwareAddress::Ethernet([2, 0, 0, 0, 0, 1]),
    );
    let (gateway_stack, gateway_runner) = embassy_net::new(
        gateway_device,
        static_config(2),
        GATEWAY_SOCKETS.init(StackResources::new()),
        7,
    );
    let (peer_stack, peer_runner) = embassy_net::new(
        peer_device,
        static_config(1),
        PEER_SOCKETS.init(StackResources::new()),
        11,
    );
    let gateway: &'static GatewayState = GATEWAY.init(Mutex::new(RefCell::new(Gateway::new(
        "qemu-gw", "0.1.0", "s3cret",
    ))));
    let mut config = UplinkConfig::new(IpEndpoint::new(
        Ipv4Address::new(10, 0, 0, 1).into(),
        AGENT_PORT,
    ));
    config.heartbeat = Duration::from_millis(200);
    config.poll = Duration::from_millis(10);

    spawner.spawn(net_task(gateway_runner).expect("pool"));
    spawner.spawn(net_task(peer_runner).expect("pool"));
    spawner.spawn(cable_task(gateway_end, peer_end).expect("pool"));
    spawner.spawn(uplink_task(gateway_stack, gateway, config).expect("pool"));
    spawner.spawn(sflow_task(gateway_stack, gateway).expect("pool"));

    match peer(peer_stack).await {
        Ok(samples) => {
            hprintln!(
                "PASS: {} host samples from 22 real datagrams streamed, decoded and checked",
                samples
            );
            debug::exit(debug::EXIT_SUCCESS);
        }
        Err(what) => {
            hprintln!("FAIL: {}", what);
            debug::exit(debug::EXIT_FAILURE);
        }
    }
    loop {
        cortex_m::asm::wfi();
    }
}

/// The test peer: what a collector sees of the gateway.
async fn peer(stack: Stack<'static>) -> Result<usize, &'static str> {
    let mut rx = [0u8; 8192];
    let mut tx = [0u8; 64];
    let mut tcp = TcpSocket::new(stack, &mut rx, &mut tx);
    tcp.accept(AGENT_PORT).await.map_err(|_| "accept")?;
    let mut rx_meta = [PacketMetadata::EMPTY; 2];
    let mut tx_meta = [PacketMetadata::EMPTY; 2];
    let mut urx = [0u8; 128];
    let mut utx = [0u8; 2048];
    let mut udp = UdpSocket::new(stack, &mut rx_meta, &mut urx, &mut tx_meta, &mut utx);
    udp.bind(40_000).map_err(|_| "bind")?;
    let to = IpEndpoint::new(Ipv4Address::new(10, 0, 0, 2).into(), SFLOW_PORT);
    for d in datagrams() {
        udp.send_to(d, to).await.map_err(|_| "send")?;
        Timer::after(Duration::from_millis(5)).await;
    }
    let mut pending = heapless::Vec::<u8, 2048>::new();
    let mut buf = [0u8; 512];
    let (mut hello, mut samples) = (false, 0usize);
    loop {
        let n = tcp.read(&mut buf).await.map_err(|_| "read")?;
        if n == 0 {
            return Err("uplink closed");
        }
        pending
            .extend_from_slice(&buf[..n])
            .map_err(|_| "frame longer than the buffer")?;
        while let Some(end) = pending.iter().position(|b| *b == 0) {
            let result = decode(&mut pending[..end]);
            let rest = pending.len() - end - 1;
            pending.copy_within(end + 1.., 0);
            pending.truncate(rest);
            match result.map_err(|_| "a frame did not decode")? {
                Message::Hello(h) if !hello => {
                    if h.gateway_id != "qemu-gw" || h.token != "s3cret" {
                        return Err("wrong hello");
                    }
                    hello = true;
                }
                Message::Counters(c) if hello => {
                    let cpu = c.cpu.ok_or("no host_cpu")?;
                    if c.agent != Agent::V4([192, 0, 2, 2])
                        || c.hostname != "vm"
                        || cpu.cpu_num != 2
                        || cpu.cpu_speed != 2445
                    {
                        return Err("a sample's values differ from the capture's");
                    }
                    samples += 1;
                }
                Message::Heartbeat(h) if hello => {
                    if h.datagrams == 22 {
                        if samples != 15 || h.decode_errors != 0 || h.queue_drops != 0 {
                            return Err("heartbeat after 22 datagrams: expected 15 samples, no errors, no drops");
                        }
                        return Ok(samples);
                    }
                }
                _ => return Err("frames out of order"),
            }
        }
    }
}
