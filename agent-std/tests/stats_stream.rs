//! The stats stream on `/ws/stats`, with a browser-style client: Python's `websockets`
//! sending an Origin header and the token as the WebSocket sub-protocol, the way the
//! Gravwell web client passes it. Values are checked against /proc.

mod common;

use common::{meminfo_bytes, start};
use serde_json::Value;

/// Connects (with an Origin and, when given, the token as sub-protocol), sends `subs`
/// (a JSON text) and prints every message received during `seconds`, one per line; on a
/// refused handshake prints {"status": code}. With a sixth argument, sends that many
/// bytes as one more text message once the server has answered, and prints
/// {"closed": code} when the server closes.
const CLIENT: &str = r#"
import asyncio, json, sys
import websockets

async def main(url, origin, token, subs, seconds, big=None):
    protocols = [token] if token else None
    try:
        ws = await websockets.connect(url, origin=origin, subprotocols=protocols)
    except websockets.InvalidStatus as e:
        print(json.dumps({"status": e.response.status_code}), flush=True)
        return
    async with ws:
        print(json.dumps({"subprotocol": ws.subprotocol}), flush=True)
        await ws.send(subs)
        loop = asyncio.get_running_loop()
        end = loop.time() + float(seconds)
        sent_big = False
        try:
            while loop.time() < end:
                msg = await asyncio.wait_for(ws.recv(), timeout=end - loop.time())
                print(msg, flush=True)
                if big and not sent_big:
                    await ws.send("x" * int(big))
                    sent_big = True
        except websockets.ConnectionClosed as e:
            if sent_big:
                print(json.dumps({"closed": e.rcvd.code if e.rcvd else None}), flush=True)
        except asyncio.TimeoutError:
            pass

asyncio.run(main(*sys.argv[1:]))
"#;

fn run(url: &str, origin: &str, token: &str, subs: &str, seconds: f64) -> Vec<Value> {
    run_with(url, origin, token, subs, seconds, &[])
}

fn run_with(
    url: &str,
    origin: &str,
    token: &str,
    subs: &str,
    seconds: f64,
    more: &[&str],
) -> Vec<Value> {
    let seconds = seconds.to_string();
    let args = [&[url, origin, token, subs, seconds.as_str()], more].concat();
    common::json_lines(&common::python(CLIENT, &args))
}

/// Waits (at most 10 s) until the agent's /metrics page has the line `want`.
fn wait_for_metrics_line(agent: &common::Agent, want: &str) {
    let metrics = format!("{}/metrics", agent.base());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let page = ureq::get(&metrics)
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        if page.lines().any(|l| l == want) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no `{want}` in {page}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

const ALL: &str = r#"{"Subs": ["ping", "idxStats", "sysStats", "sysDesc"]}"#;

#[test]
fn handshake_then_sysdesc_first_then_pushes() {
    let agent = start(&["--token", "jwt-like.token", "--stats-interval-ms", "300"]);
    let url = format!("ws://{}/ws/stats", agent.addr);
    let origin = format!("http://{}", agent.addr);
    let msgs = run(&url, &origin, "jwt-like.token", ALL, 1.2);
    assert_eq!(
        msgs[0]["subprotocol"], "jwt-like.token",
        "the token sub-protocol is echoed"
    );
    assert_eq!(msgs[1], serde_json::json!({ "Resp": "ACK" }));
    assert_eq!(msgs[2]["type"], "sysDesc", "sysDesc always comes first");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_owned();
    let desc = &msgs[2]["data"][&host];
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) } as u64;
    assert_eq!(desc["CPUCount"], online);
    assert_eq!(
        desc["TotalMemoryMB"],
        meminfo_bytes("MemTotal") / 1024 / 1024
    );
    assert!(desc["SystemVersion"]
        .as_str()
        .unwrap()
        .starts_with("Linux "));
    let kinds: Vec<&str> = msgs[2..]
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"ping") && kinds.contains(&"idxStats"));
    let stats: Vec<&Value> = msgs.iter().filter(|m| m["type"] == "sysStats").collect();
    assert!(stats.len() >= 3, "pushed every 300 ms: {kinds:?}");
    let last = &stats[stats.len() - 1]["data"]["Stats"][0];
    assert_eq!(last["Name"], host);
    assert_eq!(last["Host"]["TotalMemory"], meminfo_bytes("MemTotal"));
    assert!((0.0..=100.0).contains(&last["Host"]["CPUUsage"].as_f64().unwrap()));
    let ping = msgs.iter().find(|m| m["type"] == "ping").unwrap();
    assert_eq!(
        ping["data"]["States"][0],
        serde_json::json!({ "Addr": host, "State": "OK" })
    );
}

#[test]
fn current_shapes_on_the_api_path() {
    let agent = start(&["--stats-interval-ms", "200"]);
    let url = format!("ws://{}/api/ws/stats?format=current", agent.addr);
    let msgs = run(
        &url,
        &format!("http://{}", agent.addr),
        "",
        r#"{"Subs": ["sysStats", "ping"]}"#,
        0.7,
    );
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_owned();
    let stats: Vec<&Value> = msgs.iter().filter(|m| m["type"] == "sysStats").collect();
    let s = &stats.last().unwrap()["data"]["Stats"][&host]["Stats"];
    assert_eq!(s["TotalMemory"], meminfo_bytes("MemTotal"));
    assert!(s["LoadAverage"]["load1"].as_f64().is_some());
    assert!(
        msgs.iter().all(|m| m["type"] != "sysDesc"),
        "only what was subscribed"
    );
    let ping = msgs.iter().find(|m| m["type"] == "ping").unwrap();
    assert_eq!(ping["data"]["States"][&host], "OK");
}

#[test]
fn refusals() {
    let agent = start(&["--token", "t0ken"]);
    let url = format!("ws://{}/ws/stats", agent.addr);
    let same = format!("http://{}", agent.addr);
    // A page on another site may not read this host's stats, token or not.
    assert_eq!(
        run(&url, "http://evil.example", "t0ken", ALL, 0.2)[0]["status"],
        403
    );
    // Wrong token: 401 before the upgrade.
    assert_eq!(run(&url, &same, "wrong", ALL, 0.2)[0]["status"], 401);
    // An empty subscription list: ERROR, then the server closes.
    let msgs = run(&url, &same, "t0ken", r#"{"Subs": []}"#, 1.0);
    assert_eq!(msgs[1], serde_json::json!({ "Resp": "ERROR" }));
    assert_eq!(msgs.len(), 2);
    let msgs = run(&url, &same, "t0ken", "not json", 1.0);
    assert_eq!(msgs[1], serde_json::json!({ "Resp": "ERROR" }));
    // The stream is push-only, but a client that sends more than 4 KiB in one message
    // is closed with 1009 (message too big), after its ACK.
    let msgs = run_with(&url, &same, "t0ken", ALL, 5.0, &["10000"]);
    assert_eq!(msgs[1], serde_json::json!({ "Resp": "ACK" }));
    assert_eq!(msgs.last().unwrap()["closed"], 1009, "{msgs:?}");
}

/// Hosts heard over sFlow are backends of the stream: in sysDesc, in ping's states and
/// in sysStats with their values and the collector's counters for their source.
#[test]
fn sflow_hosts_are_backends() {
    let agent = start(&["--sflow", "127.0.0.1:0", "--stats-interval-ms", "300"]);
    let capture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../core/tests/data/sflow/libsflow-harness-virt-ipv4.pcap"
    );
    let datagrams = common::pcap_udp_payloads(capture);
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for d in &datagrams {
        socket.send_to(d, agent.sflow_addr()).unwrap();
    }
    // The registry takes a datagram as it is received; wait until the last one is in.
    let want = format!(
        "ferrostat_sflow_datagrams_total{{source=\"127.0.0.1\"}} {}",
        datagrams.len()
    );
    wait_for_metrics_line(&agent, &want);
    let url = format!("ws://{}/ws/stats", agent.addr);
    let messages = run(&url, &format!("http://{}", agent.addr), "", ALL, 1.5);
    let of = |kind: &str| -> Vec<&Value> {
        messages
            .iter()
            .filter(|m| m["type"] == kind)
            .map(|m| &m["data"])
            .collect()
    };
    let desc = &of("sysDesc")[0]["hypervisor-01.example"];
    assert_eq!(desc["CPUCount"], 16);
    assert_eq!(desc["TotalMemoryMB"], 65536);
    assert_eq!(desc["CPUMhz"], "2400");
    assert_eq!(desc["SystemVersion"], "linux 6.1.0-18-amd64");
    let states = of("ping")[0]["States"].as_array().unwrap();
    assert!(
        states
            .iter()
            .any(|s| s["Addr"] == "hypervisor-01.example" && s["State"] == "OK"),
        "{states:?}"
    );
    let stats = of("sysStats");
    let remote = stats[0]["Stats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Name"] == "hypervisor-01.example")
        .expect("remote backend in sysStats");
    assert_eq!(remote["Error"], "");
    assert_eq!(remote["Host"]["TotalMemory"], 68_719_476_736u64);
    assert_eq!(remote["Host"]["FreeMemory"], 34_359_738_368u64);
    assert_eq!(remote["Host"]["Uptime"], 864_000);
    assert_eq!(remote["Host"]["Disks"][0]["Total"], 1_000_204_886_016u64);
    assert_eq!(remote["Sflow"]["Datagrams"], datagrams.len());
    assert_eq!(remote["Sflow"]["DecodeErrors"], 0);
}

/// An edge gateway is a backend too: after its hello it is in sysDesc and ping says OK.
#[test]
fn gateways_are_backends() {
    use ferrostat_core::gateway::{encode, Health, Hello, Message, FRAME_CAPACITY};
    use std::io::Write;
    let agent = start(&["--gateway-listen", "127.0.0.1:0"]);
    let uplink = agent
        .banner
        .iter()
        .find_map(|l| l.split_once("gateway uplink on tcp://"))
        .map(|(_, a)| a.trim().to_owned())
        .expect("gateway banner line");
    let mut hello = Hello::default();
    hello.gateway_id.push_str("shelf-9").unwrap();
    let mut wire = Vec::new();
    for m in [
        Message::Hello(hello),
        Message::Heartbeat(Health {
            uptime_ms: 1_000,
            link_up: true,
            ..Health::default()
        }),
    ] {
        let mut out = [0u8; FRAME_CAPACITY];
        let n = encode(&m, &mut out).unwrap();
        wire.extend_from_slice(&out[..n]);
    }
    let mut stream = std::net::TcpStream::connect(uplink).unwrap();
    stream.write_all(&wire).unwrap();
    // The registry has it once the agent counted the heartbeat.
    wait_for_metrics_line(
        &agent,
        "ferrostat_gateway_uptime_seconds{gateway=\"shelf-9\"} 1",
    );
    let url = format!("ws://{}/ws/stats", agent.addr);
    let messages = run(&url, &format!("http://{}", agent.addr), "", ALL, 0.5);
    let desc = messages.iter().find(|m| m["type"] == "sysDesc").unwrap();
    assert!(desc["data"].get("shelf-9").is_some(), "{desc}");
    let ping = messages.iter().find(|m| m["type"] == "ping").unwrap();
    let states = ping["data"]["States"].as_array().unwrap();
    assert!(
        states
            .iter()
            .any(|s| s["Addr"] == "shelf-9" && s["State"] == "OK"),
        "{states:?}"
    );
    drop(stream);
}
