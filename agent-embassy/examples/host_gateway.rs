//! The gateway on the host: the same tasks as the firmware, on embassy's std executor and
//! an embassy-net stack over a TAP device (root; `scripts/gateway-e2e.sh` makes one in a
//! network namespace of its own).
//!
//! ```text
//! host_gateway TAP GATEWAY_IP/PREFIX AGENT_IP:PORT TOKEN
//! host_gateway fstap0 10.77.0.2/24 10.77.0.1:7343 s3cret
//! ```

use std::cell::RefCell;
use std::net::{Ipv4Addr, SocketAddrV4};

use embassy_executor::Spawner;
use embassy_net::{
    Config, IpEndpoint, Ipv4Address, Ipv4Cidr, Stack, StackResources, StaticConfigV4,
};
use embassy_net_tuntap::TunTapDevice;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::blocking_mutex::Mutex;
use ferrostat_embassy::net::{sflow_listener, uplink, Shared, UplinkConfig, SFLOW_PORT};
use ferrostat_embassy::Gateway;
use static_cell::StaticCell;

type GatewayState = Shared<CriticalSectionRawMutex, 64>;

#[embassy_executor::task]
async fn net_task(mut runner: embassy_net::Runner<'static, TunTapDevice>) -> ! {
    runner.run().await
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

fn usage() -> ! {
    eprintln!("usage: host_gateway TAP GATEWAY_IP/PREFIX AGENT_IP:PORT TOKEN");
    std::process::exit(2)
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [tap, address, agent, token] = args.as_slice() else {
        usage()
    };
    let Some((ip, prefix)) = address.split_once('/') else {
        usage()
    };
    let (Ok(ip), Ok(prefix)) = (ip.parse::<Ipv4Addr>(), prefix.parse::<u8>()) else {
        usage()
    };
    let Ok(agent) = agent.parse::<SocketAddrV4>() else {
        usage()
    };
    let device = TunTapDevice::new(tap).unwrap_or_else(|e| {
        eprintln!("host_gateway: TAP device {tap}: {e}");
        std::process::exit(1)
    });
    let config = Config::ipv4_static(StaticConfigV4 {
        address: Ipv4Cidr::new(Ipv4Address::from(ip.octets()), prefix),
        gateway: None,
        dns_servers: Default::default(),
    });
    static SOCKETS: StaticCell<StackResources<4>> = StaticCell::new();
    let (stack, runner) =
        embassy_net::new(device, config, SOCKETS.init(StackResources::new()), 0x5eed);
    static GATEWAY: StaticCell<GatewayState> = StaticCell::new();
    let gateway: &'static GatewayState = GATEWAY.init(Mutex::new(RefCell::new(Gateway::new(
        "host-gw",
        env!("CARGO_PKG_VERSION"),
        token,
    ))));
    let mut uplink_config = UplinkConfig::new(IpEndpoint::new(
        Ipv4Address::from(agent.ip().octets()).into(),
        agent.port(),
    ));
    uplink_config.heartbeat = embassy_time::Duration::from_secs(1);
    println!("host_gateway: {ip}/{prefix} on {tap}, sFlow on {ip}:{SFLOW_PORT}, uplink to {agent}");
    spawner.spawn(net_task(runner).expect("one net task"));
    spawner.spawn(sflow_task(stack, gateway).expect("one sflow task"));
    spawner.spawn(uplink_task(stack, gateway, uplink_config).expect("one uplink task"));
}
