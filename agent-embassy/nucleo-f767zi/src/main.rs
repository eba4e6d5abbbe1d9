//! The gateway on a NUCLEO-F767ZI: the board's RMII Ethernet (LAN8742A PHY) through
//! embassy-stm32, DHCP, the sFlow listener on UDP 6343 and the uplink to the agent at
//! [`AGENT_IP`]:[`AGENT_PORT`] with the build-time token `FERROSTAT_GATEWAY_TOKEN`. No logging: panics halt. Built in CI for its size
//! (`arm-none-eabi-size`); the same tasks run under QEMU in `../qemu`.
#![no_std]
#![no_main]

use core::cell::RefCell;

use embassy_executor::Spawner;
use embassy_net::{IpEndpoint, Ipv4Address, Stack, StackResources};
use embassy_stm32::eth::{Ethernet, GenericPhy, PacketQueue, Sma};
use embassy_stm32::peripherals::{ETH, ETH_SMA};
use embassy_stm32::time::Hertz;
use embassy_stm32::{bind_interrupts, eth, Config};
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::blocking_mutex::Mutex;
use ferrostat_embassy::net::{sflow_listener, uplink, Shared, UplinkConfig, SFLOW_PORT};
use ferrostat_embassy::Gateway;
use panic_halt as _;
use static_cell::StaticCell;

bind_interrupts!(struct Irqs {
    ETH => eth::InterruptHandler;
});

type Device = Ethernet<'static, ETH, GenericPhy<Sma<'static, ETH_SMA>>>;
/// Eight samples wait while the uplink is down; older ones are dropped and counted.
type GatewayState = Shared<CriticalSectionRawMutex, 8>;

const TOKEN: &str = match option_env!("FERROSTAT_GATEWAY_TOKEN") {
    Some(t) => t,
    None => "change-me",
};

/// The agent's gateway listener: set these for your network.
const AGENT_IP: [u8; 4] = [192, 168, 1, 10];
/// Its port (`ferrostat-agent serve --gateway-listen 0.0.0.0:7343`).
const AGENT_PORT: u16 = 7343;

fn agent() -> IpEndpoint {
    let [a, b, c, d] = AGENT_IP;
    IpEndpoint::new(Ipv4Address::new(a, b, c, d).into(), AGENT_PORT)
}

#[embassy_executor::task]
async fn net_task(mut runner: embassy_net::Runner<'static, Device>) -> ! {
    runner.run().await
}

#[embassy_executor::task]
async fn uplink_task(stack: Stack<'static>, gateway: &'static GatewayState) -> ! {
    uplink(stack, gateway, UplinkConfig::new(agent())).await
}

#[embassy_executor::task]
async fn sflow_task(stack: Stack<'static>, gateway: &'static GatewayState) -> ! {
    sflow_listener(stack, gateway, SFLOW_PORT).await
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    let mut config = Config::default();
    {
        use embassy_stm32::rcc::*;
        // The ST-LINK's 8 MHz clock, to 216 MHz: Ethernet needs HCLK of 25 MHz or more.
        config.rcc.hse = Some(Hse {
            freq: Hertz(8_000_000),
            mode: HseMode::Bypass,
        });
        config.rcc.pll_src = PllSource::HSE;
        config.rcc.pll = Some(Pll {
            prediv: PllPreDiv::DIV4,
            mul: PllMul::MUL216,
            divp: Some(PllPDiv::DIV2),
            divq: None,
            divr: None,
        });
        config.rcc.ahb_pre = AHBPrescaler::DIV1;
        config.rcc.apb1_pre = APBPrescaler::DIV4;
        config.rcc.apb2_pre = APBPrescaler::DIV2;
        config.rcc.sys = Sysclk::PLL1_P;
    }
    let p = embassy_stm32::init(config);

    // A locally administered MAC and the stack's seed from the chip's unique id.
    let uid = embassy_stm32::uid::uid();
    let mac = [0x02, uid[0], uid[1], uid[2], uid[3], uid[4]];
    let seed = u64::from_le_bytes([
        uid[4], uid[5], uid[6], uid[7], uid[8], uid[9], uid[10], uid[11],
    ]);

    static PACKETS: StaticCell<PacketQueue<4, 4>> = StaticCell::new();
    let device = Ethernet::new(
        PACKETS.init(PacketQueue::new()),
        p.ETH,
        Irqs,
        p.PA1,  // REF_CLK
        p.PA7,  // CRS_DV
        p.PC4,  // RXD0
        p.PC5,  // RXD1
        p.PG13, // TXD0
        p.PB13, // TXD1
        p.PG11, // TX_EN
        mac,
        p.ETH_SMA,
        p.PA2, // MDIO
        p.PC1, // MDC
    );

    static SOCKETS: StaticCell<StackResources<3>> = StaticCell::new();
    let (stack, runner) = embassy_net::new(
        device,
        embassy_net::Config::dhcpv4(Default::default()),
        SOCKETS.init(StackResources::new()),
        seed,
    );
    static GATEWAY: StaticCell<GatewayState> = StaticCell::new();
    let gateway: &'static GatewayState = GATEWAY.init(Mutex::new(RefCell::new(Gateway::new(
        "nucleo-f767zi",
        env!("CARGO_PKG_VERSION"),
        TOKEN,
    ))));

    spawner.spawn(net_task(runner).expect("one net task"));
    spawner.spawn(sflow_task(stack, gateway).expect("one sflow task"));
    spawner.spawn(uplink_task(stack, gateway).expect("one uplink task"));
}
