//! The sFlow collector from outside: a real agent with `--sflow`, the corpus captures
//! sent over loopback UDP (IPv4 and IPv6), and the JSON-RPC API checked against what
//! sflowtool decoded from the same captures (`*.sflowtool.jsonl`). The README's own
//! Python client (jsonrpclib-pelix) and sqlite3 are real peers.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use common::sflow::{
    check_api, expected, http, metric, payloads, rpc, sflowtool, wait_committed, Expected,
};
use common::{start, Agent};
use serde_json::{json, Value};

const HARNESS: &str = "libsflow-harness-virt-ipv4";
const LIVE: &str = "hsflowd-live";

/// Sends a corpus capture from 127.0.0.1 to the agent's collector; returns how many
/// samples of it the history will hold (sflowtool's count).
fn replay(agent: &Agent, capture: &str) -> usize {
    send_all(agent, "127.0.0.1:0", agent.sflow_addr(), &payloads(capture));
    expected(&sflowtool(capture), None).1
}

/// Sends datagrams from `from`, 32 at a time, each batch only once the collector has
/// taken the one before: a loaded machine must not overflow the socket buffer and turn
/// exact counts into luck.
fn send_all(agent: &Agent, from: &str, to: SocketAddr, datagrams: &[Vec<u8>]) {
    let socket = UdpSocket::bind(from).unwrap();
    let label = format!("source=\"{}\"", socket.local_addr().unwrap().ip());
    let taken = || {
        metric(agent, "ferrostat_sflow_datagrams_total", &label)
            + metric(agent, "ferrostat_sflow_allowlist_drops_total", &label)
    };
    let mut want = taken();
    for batch in datagrams.chunks(32) {
        for d in batch {
            socket.send_to(d, to).unwrap();
        }
        want += batch.len() as f64;
        let deadline = Instant::now() + Duration::from_secs(20);
        while taken() < want {
            assert!(
                Instant::now() < deadline,
                "collector took {} of {want}",
                taken()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Every field of every host and VM sample of the two host captures, over IPv4, then
/// the same datagrams re-addressed to an IPv6 agent and sent from ::1, answer as
/// sflowtool decoded them; `host.description`, `virt.description`, `/metrics` with a
/// host label and the stats stream's backends show them.
#[test]
fn replayed_captures_answer_as_sflowtool_decoded_them_over_ipv4_and_ipv6() {
    let agent = start(&["--sflow", "[::]:0"]);
    let port = agent.sflow_addr().port();
    let v4: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut sent = payloads(HARNESS);
    sent.extend(payloads(LIVE));
    send_all(&agent, "127.0.0.1:0", v4, &sent);
    let mut decoded = sflowtool(HARNESS);
    decoded.extend(sflowtool(LIVE));
    let (expected_v4, stored) = expected(&decoded, None);
    wait_committed(&agent, stored as f64);
    check_api(&agent, &expected_v4, "192.0.2.5");

    let described = rpc(&agent, "host.description", json!({}));
    assert_eq!(
        described,
        json!([
            {"host_ip": "192.0.2.5", "hostname": "hypervisor-01.example", "machine_type": "x86_64", "os_name": "linux", "os_release": "6.1.0-18-amd64"},
            {"host_ip": "192.0.2.2", "hostname": "vm", "machine_type": "x86_64", "os_name": "linux", "os_release": "6.18.44-fc-v769"},
        ])
    );
    assert_eq!(
        rpc(&agent, "virt.description", json!({})),
        json!([{"host_ip": "192.0.2.5", "hostname": "vm-0001"}])
    );

    // The harness again from an IPv6 agent: its host rows are its own; the VM moves.
    let v6_agent = "2001:db8::5";
    let harness_v6: Vec<Vec<u8>> = payloads(HARNESS)
        .iter()
        .map(|d| readdress_v6(d, v6_agent.parse().unwrap()))
        .collect();
    let v6: SocketAddr = format!("[::1]:{port}").parse().unwrap();
    send_all(&agent, "[::1]:0", v6, &harness_v6);
    let (expected_v6, stored_v6) = expected(&sflowtool(HARNESS), Some(v6_agent));
    wait_committed(&agent, (stored + stored_v6) as f64);
    let host_only: Expected = expected_v6
        .into_iter()
        .filter(|((m, _), _)| m.starts_with("host."))
        .collect();
    check_api(&agent, &host_only, v6_agent);
    let vm = rpc(&agent, "virt.memory", json!({"hostname": "vm-0001"}));
    let hosts: Vec<&str> = vm
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["host_ip"].as_str().unwrap())
        .collect();
    assert_eq!(hosts.last(), Some(&v6_agent), "{vm}");
    assert!(hosts.contains(&"192.0.2.5"));
    assert_eq!(
        rpc(&agent, "virt.description", json!({})),
        json!([{"host_ip": v6_agent, "hostname": "vm-0001"}])
    );

    // /metrics: remote hosts under their own names, and the collector's counters.
    assert_eq!(
        metric(&agent, "ferrostat_sflow_memory_bytes", "host=\"hypervisor-01.example\",agent=\"192.0.2.5\",sub_agent=\"100000\",kind=\"total\""),
        68_719_476_736.0
    );
    assert_eq!(
        metric(
            &agent,
            "ferrostat_sflow_vm_memory_bytes",
            "vm=\"vm-0001\",host=\"hypervisor-01.example\",kind=\"max\""
        ),
        8_589_934_592.0
    );
    assert_eq!(
        metric(
            &agent,
            "ferrostat_sflow_datagrams_total",
            "source=\"127.0.0.1\""
        ),
        sent.len() as f64
    );
    assert_eq!(
        metric(&agent, "ferrostat_sflow_datagrams_total", "source=\"::1\""),
        harness_v6.len() as f64
    );
    let samples: usize = decoded
        .iter()
        .map(|d| d["samples"].as_array().unwrap().len())
        .sum();
    assert_eq!(
        metric(
            &agent,
            "ferrostat_sflow_samples_total",
            "source=\"127.0.0.1\""
        ),
        samples as f64
    );
    assert_eq!(
        metric(&agent, "ferrostat_history_queue_drops_total", ""),
        0.0
    );
    assert_eq!(
        metric(&agent, "ferrostat_sflow_decode_errors_total", ""),
        0.0
    );
    promtool_accepts(&agent);
}

/// The harness datagram with its IPv4 agent address replaced by an IPv6 one.
fn readdress_v6(d: &[u8], agent: std::net::Ipv6Addr) -> Vec<u8> {
    assert_eq!(&d[4..8], &[0, 0, 0, 1]);
    let mut out = d[..4].to_vec();
    out.extend_from_slice(&[0, 0, 0, 2]);
    out.extend_from_slice(&agent.octets());
    out.extend_from_slice(&d[12..]);
    out
}

fn promtool_accepts(agent: &Agent) {
    let (_, page, _) = http("GET", &format!("{}/metrics", agent.base()), "");
    common::promtool_accepts(&page);
}

/// JSON-RPC 2.0 as the README shows it and as the spec says: errors, notifications,
/// batches, positional params, ranges, steps and rates.
#[test]
fn json_rpc_errors_batches_ranges_and_rates() {
    let agent = start(&["--sflow", "127.0.0.1:0"]);
    let stored = replay(&agent, LIVE);
    wait_committed(&agent, stored as f64);
    let url = format!("{}/api", agent.base());
    let post = |body: &str| {
        let (status, text, _) = http("POST", &url, body);
        (status, text)
    };
    let json = |body: &str| -> Value {
        let (status, text) = post(body);
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    };
    // The README's three error examples, with the README's codes.
    assert_eq!(
        json(r#"{"jsonrpc": "2.0", "method": "foobar", "id": "1"}"#),
        json!({"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"})
    );
    assert_eq!(
        json(r#"{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]"#),
        json!({"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null})
    );
    assert_eq!(
        json(r#"{"jsonrpc": "2.0", "method": "foobar", "params": "bar"}"#),
        json!({"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null})
    );
    // Invalid params say which.
    let missing = json(r#"{"jsonrpc":"2.0","method":"host.cpu","id":3}"#);
    assert_eq!(missing["error"]["code"], -32602);
    assert_eq!(
        missing["error"]["message"],
        "missing required parameter `ip`"
    );
    let bad_ts = json(
        r#"{"jsonrpc":"2.0","method":"host.cpu","params":{"ip":"192.0.2.2","timestamp":"noon"},"id":4}"#,
    );
    assert_eq!(bad_ts["error"]["code"], -32602);
    assert!(bad_ts["error"]["message"]
        .as_str()
        .unwrap()
        .contains("timestamp"));
    // Not 2.0, a non-string method: invalid requests.
    assert_eq!(
        json(r#"{"jsonrpc":"1.0","method":"host.cpu","id":5}"#)["error"]["code"],
        -32600
    );
    assert_eq!(
        json(r#"{"jsonrpc":"2.0","method":5,"id":5}"#)["error"]["code"],
        -32600
    );
    // A notification gets nothing back.
    assert_eq!(
        post(r#"{"jsonrpc":"2.0","method":"host.description"}"#),
        (204, String::new())
    );
    // A batch: one reply per call with an id, in order; an empty batch is invalid.
    let batch = json(
        r#"[{"jsonrpc":"2.0","method":"host.description","id":1},
            {"jsonrpc":"2.0","method":"host.description"},
            {"jsonrpc":"2.0","method":"nope","id":2},
            7]"#,
    );
    let replies = batch.as_array().unwrap();
    assert_eq!(replies.len(), 3, "{batch}");
    assert_eq!(replies[0]["result"][0]["hostname"], "vm");
    assert_eq!(replies[1]["error"]["code"], -32601);
    assert_eq!(replies[2]["error"]["code"], -32600);
    assert_eq!(json("[]")["error"]["code"], -32600);
    // An oversize body is refused on its Content-Length, before any of it is read.
    {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&agent.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "POST /api HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json-rpc\r\nContent-Length: {}\r\n\r\n",
            agent.addr,
            2 << 20
        )
        .unwrap();
        let mut head = [0u8; 12];
        s.read_exact(&mut head).unwrap();
        assert_eq!(&head, b"HTTP/1.1 413");
    }

    // Positional params, the timestamp window and from/to/step/rates.
    let rows = rpc(&agent, "host.cpu", json!(["192.0.2.2"]));
    let rows = rows.as_array().unwrap();
    let n = rows.len();
    assert_eq!(
        n, stored,
        "one host sample per stored sample in this capture"
    );
    let first = rows[0]["timestamp"].as_i64().unwrap();
    let last = rows[n - 1]["timestamp"].as_i64().unwrap();
    assert_eq!(
        rpc(
            &agent,
            "host.cpu",
            json!({"ip": "192.0.2.2", "timestamp": first - 1})
        ),
        json!([])
    );
    assert_eq!(
        rpc(
            &agent,
            "host.cpu",
            json!({"ip": "192.0.2.2", "timestamp": last + 600_000})
        )
        .as_array()
        .unwrap()
        .len(),
        0,
        "the window is 10 minutes"
    );
    let ranged = rpc(
        &agent,
        "host.cpu",
        json!({"ip": "192.0.2.2", "from": first - 1, "to": last}),
    );
    assert_eq!(ranged.as_array().unwrap().len(), n);
    let stepped = rpc(
        &agent,
        "host.cpu",
        json!({"ip": "192.0.2.2", "from": first - 1, "to": last, "step": 3_600_000}),
    );
    let stepped = stepped.as_array().unwrap();
    assert!(
        stepped.len() <= 2,
        "one row per hour bucket: {}",
        stepped.len()
    );
    assert_eq!(
        stepped.last().unwrap()["cpu_user"],
        rows[n - 1]["cpu_user"],
        "a bucket keeps its last sample"
    );
    let with_rates = rpc(
        &agent,
        "host.net",
        json!({"ip": "192.0.2.2", "from": first - 1, "to": last, "rates": true}),
    );
    let with_rates = with_rates.as_array().unwrap();
    assert!(
        with_rates[0]["bytes_in_per_s"].is_null(),
        "no rate without a previous row"
    );
    for pair in with_rates.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let dt = b["timestamp"].as_i64().unwrap() - a["timestamp"].as_i64().unwrap();
        let d = b["bytes_in"].as_u64().unwrap() - a["bytes_in"].as_u64().unwrap();
        if dt > 0 {
            let want = d as f64 * 1000.0 / dt as f64;
            assert!((b["bytes_in_per_s"].as_f64().unwrap() - want).abs() < 1e-6 * want.max(1.0));
        }
    }
    assert!(with_rates[0].get("mem_total_per_s").is_none());
    // Unknown host: empty, not an error (as sflow-monitor).
    assert_eq!(
        rpc(&agent, "host.memory", json!({"ip": "198.51.100.9"})),
        json!([])
    );
}

/// The README's own client, as the README uses it: Python jsonrpclib-pelix.
#[test]
fn readme_client_jsonrpclib_pelix() {
    let agent = start(&["--sflow", "127.0.0.1:0"]);
    let stored = replay(&agent, HARNESS);
    wait_committed(&agent, stored as f64);
    let script = format!(
        r#"
import json, jsonrpclib
server = jsonrpclib.ServerProxy('{base}/api')
print(json.dumps({{
    "memory": server.virt.memory(hostname = 'vm-0001'),
    "hosts": server.host.description(),
    "cpu": server.host.cpu(ip = '192.0.2.5'),
}}))
try:
    server.foobar()
    print("no error")
except jsonrpclib.jsonrpc.ProtocolError as e:
    print(json.dumps({{"error": str(e)}}))
"#,
        base = agent.base()
    );
    let text = common::python(&script, &[]);
    let mut lines = text.lines();
    let v: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    let memory = v["memory"].as_array().unwrap();
    assert_eq!(memory.len(), 4, "one row per datagram of the capture: {v}");
    for row in memory {
        assert_eq!(row["host_ip"], "192.0.2.5");
        assert_eq!(row["hostname"], "vm-0001");
        assert_eq!(row["vmem_memory"], 4_294_967_296u64);
        assert_eq!(row["vmem_max_memory"], 8_589_934_592u64);
        assert!(row["timestamp"].as_i64().unwrap() > 1_700_000_000_000);
    }
    assert_eq!(v["hosts"][0]["hostname"], "hypervisor-01.example");
    assert_eq!(v["cpu"][0]["cpu_load_one"], 0.25);
    assert_eq!(
        v["cpu"][0]["cpu_load_fifteen"], -1.0,
        "host_cpu's unknown load"
    );
    let err: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert!(err["error"].as_str().unwrap().contains("-32601"), "{err}");
}

fn sqlite3(db: &std::path::Path, sql: &str) -> String {
    let out = std::process::Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .expect("sqlite3 (Debian package sqlite3; scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// SIGKILL in the middle of ingest loses nothing that was committed: sqlite3 finds the
/// file intact and every committed sample in it, and a restarted agent carries on
/// writing to it.
#[test]
fn committed_samples_survive_sigkill_and_ingest_resumes() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let dir = common::temp_dir("durable");
    let dir_arg = dir.to_str().unwrap().to_owned();
    let mut agent = start(&["--sflow", "127.0.0.1:0", "--data-dir", &dir_arg]);
    let to = agent.sflow_addr();
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let stop = stop.clone();
        let datagrams = payloads(LIVE);
        std::thread::spawn(move || {
            let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let _ = socket.send_to(&datagrams[i % datagrams.len()], to);
                i += 1;
                if i.is_multiple_of(64) {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            i
        })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let committed = loop {
        let c = metric(&agent, "ferrostat_history_samples_committed_total", "");
        if c >= 3000.0 {
            break c;
        }
        assert!(Instant::now() < deadline, "only {c} committed");
        std::thread::sleep(Duration::from_millis(20));
    };
    agent.kill();
    let sent = {
        stop.store(true, Ordering::Relaxed);
        sender.join().unwrap()
    };
    assert!(sent > 0);
    let db = dir.join("sflow-history.sqlite3");
    assert_eq!(sqlite3(&db, "PRAGMA integrity_check;"), "ok");
    let count = || -> f64 {
        sqlite3(
            &db,
            "SELECT (SELECT count(*) FROM host_samples) + (SELECT count(*) FROM vm_samples);",
        )
        .parse()
        .unwrap()
    };
    let after_kill = count();
    assert!(
        after_kill >= committed,
        "{after_kill} stored < {committed} committed before the kill"
    );

    // Restarted on the same directory: the history is there and grows.
    let agent = start(&["--sflow", "127.0.0.1:0", "--data-dir", &dir_arg]);
    let before = rpc(&agent, "host.cpu", json!({"ip": "192.0.2.2"}))
        .as_array()
        .unwrap()
        .len();
    assert!(before as f64 >= committed.min(after_kill), "{before}");
    let stored = replay(&agent, HARNESS);
    wait_committed(&agent, stored as f64);
    assert_eq!(count(), after_kill + stored as f64);
    drop(agent);
    assert_eq!(sqlite3(&db, "PRAGMA integrity_check;"), "ok");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Malformed captures of the corpus and random garbage: counted by kind, logged once
/// per source, and the collector carries on ingesting.
#[test]
fn malformed_datagrams_and_garbage_are_counted_and_logged_once() {
    let agent = start(&["--sflow", "127.0.0.1:0"]);
    let to = agent.sflow_addr();
    // Rejected at the sample level (a sample length that overruns the datagram).
    let rejected = [
        "goflow2/goflow2__TestSFlowDecodeDropExtendedFunction__5",
        "gopacket/gopacket__SFlowTestPacket11",
    ];
    // Malformed inside flow samples, which a counter collector skips unread.
    let skipped = [
        "gopacket/gopacket__SFlowTestPacket5",
        "gopacket/gopacket__SFlowTestPacket8",
        "vflow/vflow__TestsFlowRawPacketWithPaddingAfterSample",
    ];
    let mut bad: Vec<Vec<u8>> = rejected.iter().flat_map(|n| payloads(n)).collect();
    // Random bytes (a fixed xorshift sequence), the same with a v5 header in front,
    // an empty datagram, and a real datagram cut short.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..400u32 {
        let len = (next() % 1400) as usize;
        let mut d: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if i.is_multiple_of(2) && d.len() >= 8 {
            d[..8].copy_from_slice(&[0, 0, 0, 5, 0, 0, 0, 9]);
        }
        if d.len() >= 4 && d[..4] == [0, 0, 0, 5] && i % 2 == 1 {
            d[3] = 4;
        }
        bad.push(d);
    }
    bad.push(Vec::new());
    bad.push(payloads(LIVE)[0][..40].to_vec());
    send_all(&agent, "127.0.0.1:0", to, &bad);
    let fine: Vec<Vec<u8>> = skipped.iter().flat_map(|n| payloads(n)).collect();
    send_all(&agent, "127.0.0.1:0", to, &fine);
    // Still ingesting.
    let stored = replay(&agent, HARNESS);
    wait_committed(&agent, stored as f64);
    let errors = metric(
        &agent,
        "ferrostat_sflow_decode_errors_total",
        "source=\"127.0.0.1\"",
    );
    assert_eq!(errors, bad.len() as f64);
    assert!(
        metric(
            &agent,
            "ferrostat_sflow_decode_errors_total",
            "kind=\"length_mismatch\""
        ) >= 2.0
    );
    assert!(
        metric(
            &agent,
            "ferrostat_sflow_decode_errors_total",
            "kind=\"bad_version\""
        ) >= 150.0
    );
    assert!(
        metric(
            &agent,
            "ferrostat_sflow_decode_errors_total",
            "kind=\"unexpected_end\""
        ) >= 1.0
    );
    assert_eq!(
        metric(
            &agent,
            "ferrostat_sflow_datagrams_total",
            "source=\"127.0.0.1\""
        ),
        (bad.len() + fine.len() + payloads(HARNESS).len()) as f64
    );
    let log = agent.stderr();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("rejected")).collect();
    assert_eq!(lines.len(), 1, "logged once a minute per source: {log}");
    assert!(
        lines[0].contains("127.0.0.1") && lines[0].contains("length mismatch"),
        "{}",
        lines[0]
    );
    let (status, body, _) = http("GET", &format!("{}/healthz", agent.base()), "");
    assert_eq!((status, body.as_str()), (200, "ok\n"));
}

/// Garbage from thirty sources at once: every datagram counted under its source, and
/// ten lines in the log, not thirty.
#[test]
fn a_flood_from_many_sources_is_logged_ten_lines_a_minute() {
    let agent = start(&["--sflow", "127.0.0.1:0"]);
    let to = agent.sflow_addr();
    for i in 1..=30 {
        let socket = UdpSocket::bind(format!("127.4.0.{i}:0")).unwrap();
        socket.send_to(b"not sflow at all", to).unwrap();
    }
    let errors = || metric(&agent, "ferrostat_sflow_decode_errors_total", "127.4.0.");
    let deadline = Instant::now() + Duration::from_secs(20);
    while errors() < 30.0 {
        assert!(Instant::now() < deadline, "counted {}", errors());
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        metric(
            &agent,
            "ferrostat_sflow_decode_errors_total",
            "source=\"127.4.0.30\",kind=\"bad_version\""
        ),
        1.0
    );
    let log = agent.stderr();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("rejected")).collect();
    assert_eq!(lines.len(), 10, "{log}");
    assert!(lines[0].contains("from 127.4.0.1 rejected"), "{}", lines[0]);
}

/// Sources outside the allowlist are counted and dropped; missing sequence numbers are
/// counted as lost datagrams.
#[test]
fn allowlist_drops_and_sequence_gaps_are_counted() {
    let agent = start(&[
        "--sflow",
        "127.0.0.1:0",
        "--sflow-allow",
        "127.0.0.2/32,::1/128",
    ]);
    let to = agent.sflow_addr();
    let live = payloads(LIVE);
    send_all(&agent, "127.0.0.1:0", to, &live[..5]);
    // From the allowed address, without datagrams 4 and 8 (sequence numbers 4 and 8).
    let kept: Vec<Vec<u8>> = live
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 7)
        .map(|(_, d)| d.clone())
        .collect();
    send_all(&agent, "127.0.0.2:0", to, &kept);
    let decoded: Vec<Value> = sflowtool(LIVE)
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 7)
        .map(|(_, d)| d)
        .collect();
    let (_, stored) = expected(&decoded, None);
    wait_committed(&agent, stored as f64);
    assert_eq!(
        metric(
            &agent,
            "ferrostat_sflow_allowlist_drops_total",
            "source=\"127.0.0.1\""
        ),
        5.0
    );
    assert_eq!(
        metric(
            &agent,
            "ferrostat_sflow_datagrams_total",
            "source=\"127.0.0.1\""
        ),
        0.0
    );
    assert_eq!(
        metric(
            &agent,
            "ferrostat_sflow_datagrams_total",
            "source=\"127.0.0.2\""
        ),
        kept.len() as f64
    );
    assert_eq!(
        metric(
            &agent,
            "ferrostat_sflow_sequence_gaps_total",
            "source=\"127.0.0.2\""
        ),
        2.0
    );
}

/// Without `--sflow` there is no collector and `/api` says so.
#[test]
fn api_without_collector_is_not_found() {
    let agent = start(&[]);
    let (status, body, _) = http("POST", &format!("{}/api", agent.base()), "{}");
    assert_eq!(status, 404);
    assert!(body.contains("--sflow"), "{body}");
}

/// `/api` carries fleet data: it follows the token rules of every endpoint.
#[test]
fn api_requires_the_token() {
    let agent = start(&["--sflow", "127.0.0.1:0", "--token", "s3cret"]);
    let url = format!("{}/api", agent.base());
    let body = r#"{"jsonrpc":"2.0","method":"host.description","id":1}"#;
    let (status, _, _) = http("POST", &url, body);
    assert_eq!(status, 401);
    let (status, text, _) = http("POST", &format!("{url}?token=s3cret"), body);
    assert_eq!(
        (status, text.as_str()),
        (200, r#"{"jsonrpc":"2.0","result":[],"id":1}"#)
    );
}

/// `sflow replay` into the collector: three renumbered agents, round after round of the
/// live capture, arrive as three hosts with no sequence gap; the same replay without
/// `--renumber` repeats the capture's sequence numbers, which the collector takes as
/// agent restarts, not loss.
#[test]
fn the_replay_command_feeds_the_collector_a_renumbered_fleet() {
    let agent = start(&["--sflow", "127.0.0.1:0"]);
    let fleet = ["--agent", "10.9.0.1", "--agents", "3", "--count", "132"];
    let datagrams = || metric(&agent, "ferrostat_sflow_datagrams_total", "127.0.0.1");
    let gaps = || metric(&agent, "ferrostat_sflow_sequence_gaps_total", "127.0.0.1");
    replay_live(&agent, &[&fleet[..], &["--renumber"]].concat(), 132.0);
    assert_eq!((datagrams(), gaps()), (132.0, 0.0));
    assert_eq!(history_hosts(&agent), ["10.9.0.1", "10.9.0.2", "10.9.0.3"]);
    // The capture's own numbers, twice over: each round starts over, and the collector
    // counts no loss for a step back.
    replay_live(&agent, &fleet, 264.0);
    assert_eq!((datagrams(), gaps()), (264.0, 0.0));
}

/// Runs `sflow replay` of the live capture into the agent's collector with `args`,
/// 1,000 datagrams a second, and waits until the collector has taken `total` in all.
fn replay_live(agent: &Agent, args: &[&str], total: f64) {
    let capture = format!("{}{LIVE}.pcap", common::sflow::DATA);
    let to = agent.sflow_addr().to_string();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ferrostat-agent"))
        .args(["sflow", "replay", &capture, "--to", &to, "--rate", "1000"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let datagrams = || metric(agent, "ferrostat_sflow_datagrams_total", "127.0.0.1");
    let deadline = Instant::now() + Duration::from_secs(20);
    while datagrams() < total {
        assert!(Instant::now() < deadline, "collector took {}", datagrams());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The agents `host.description` lists: every host in the history.
fn history_hosts(agent: &Agent) -> Vec<String> {
    rpc(agent, "host.description", json!({}))
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["host_ip"].as_str().unwrap().to_owned())
        .collect()
}

/// The agents `/metrics` shows remote-host series for, by their `agent` label.
fn listed_agents(agent: &Agent) -> std::collections::BTreeSet<String> {
    let (_, page, _) = http("GET", &format!("{}/metrics", agent.base()), "");
    page.lines()
        .filter(|l| l.starts_with("ferrostat_sflow_"))
        .filter_map(|l| l.split_once("agent=\"")?.1.split_once('"'))
        .map(|(a, _)| a.to_owned())
        .collect()
}

/// With room for two hosts, a third agent is refused and counted, though its samples
/// are stored; once the two fall silent for the expiry they leave `/metrics`, and the
/// third, heard again, takes a place.
#[test]
fn silent_agents_are_forgotten_and_make_room_for_new_ones() {
    const EXPIRY_S: u64 = 6;
    let expiry = EXPIRY_S.to_string();
    let agent = start(&[
        "--sflow",
        "127.0.0.1:0",
        "--remote-host-limit",
        "2",
        "--remote-host-expiry-s",
        &expiry,
    ]);
    let refused = || metric(&agent, "ferrostat_sflow_registry_refused_total", "");
    let expired = || metric(&agent, "ferrostat_sflow_registry_expired_total", "");
    let fleet = ["--agent", "10.9.0.1", "--agents", "3", "--renumber"];
    let sent = Instant::now();
    replay_live(&agent, &fleet, 66.0);
    let listed = listed_agents(&agent);
    assert!(
        sent.elapsed() < Duration::from_secs(EXPIRY_S),
        "too slow to see the fleet before it expires"
    );
    assert_eq!(listed, ["10.9.0.1", "10.9.0.2"].map(String::from).into());
    // Each listed host says when it was last heard: during the replay, by this clock.
    let epoch_s = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
    };
    let heard = metric(
        &agent,
        "ferrostat_sflow_last_seen_timestamp_seconds",
        "agent=\"10.9.0.2\"",
    );
    let now = epoch_s();
    let sending = now - sent.elapsed().as_secs_f64();
    assert!(
        (sending - 0.01..=now).contains(&heard),
        "{heard} not in {sending}..{now}"
    );
    // Each of the third agent's counter samples was refused a place.
    let samples = metric(&agent, "ferrostat_sflow_samples_total", "127.0.0.1");
    let flows = metric(
        &agent,
        "ferrostat_sflow_flow_samples_skipped_total",
        "127.0.0.1",
    );
    assert_eq!(refused(), (samples - flows) / 3.0);
    assert_eq!(expired(), 0.0);
    assert_eq!(history_hosts(&agent), ["10.9.0.1", "10.9.0.2", "10.9.0.3"]);
    // Silent past the expiry: unlisted, counted once each, however often scraped.
    let deadline = Instant::now() + Duration::from_secs(EXPIRY_S + 20);
    while !listed_agents(&agent).is_empty() {
        assert!(
            Instant::now() < deadline,
            "{:?} still listed",
            listed_agents(&agent)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!((expired(), expired()), (2.0, 2.0));
    // The third agent, heard again, takes a place; nothing more is refused.
    let before = refused();
    replay_live(&agent, &["--agent", "10.9.0.3"], 88.0);
    assert_eq!(listed_agents(&agent), ["10.9.0.3"].map(String::from).into());
    assert_eq!((refused(), expired()), (before, 2.0));
}

/// The collector counts 4,096 UDP sources one by one, and more together under `::`;
/// once those fall silent past the expiry, a new source has its own counters again.
#[test]
fn a_full_source_table_makes_room_once_sources_fall_silent() {
    // Long enough for a debug build to fill the table while the other tests of this file
    // load both cores (10 s was not, once: the first sources expired mid-fill).
    const EXPIRY_S: u64 = 20;
    let expiry = EXPIRY_S.to_string();
    let agent = start(&["--sflow", "127.0.0.1:0", "--remote-host-expiry-s", &expiry]);
    let to = agent.sflow_addr();
    let datagram = &payloads(LIVE)[0];
    let total = || metric(&agent, "ferrostat_sflow_datagrams_total", "");
    let send_from = |addrs: &[String]| {
        let want = total() + addrs.len() as f64;
        for a in addrs {
            UdpSocket::bind(format!("{a}:0"))
                .unwrap()
                .send_to(datagram, to)
                .unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while total() < want {
            assert!(
                Instant::now() < deadline,
                "collector took {} of {want}",
                total()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    let fleet: Vec<String> = (0..4096)
        .map(|i| format!("127.1.{}.{}", i / 256, i % 256))
        .collect();
    let started = Instant::now();
    for batch in fleet.chunks(256) {
        send_from(batch);
    }
    let sources = |agent: &Agent| {
        let (_, page, _) = http("GET", &format!("{}/metrics", agent.base()), "");
        page.lines()
            .filter(|l| l.starts_with("ferrostat_sflow_datagrams_total{"))
            .count()
    };
    assert_eq!(sources(&agent), 4096);
    // All of them still live: the new source is counted under `::`.
    send_from(&["127.2.0.1".into()]);
    assert!(
        started.elapsed() < Duration::from_secs(EXPIRY_S),
        "too slow to fill the table within the expiry"
    );
    assert_eq!(
        metric(&agent, "ferrostat_sflow_datagrams_total", "source=\"::\""),
        1.0
    );
    // Silent past the expiry, they make room, `::` included; the table starts over.
    std::thread::sleep(Duration::from_secs(EXPIRY_S) + Duration::from_millis(500));
    let socket = UdpSocket::bind("127.2.0.2:0").unwrap();
    socket.send_to(datagram, to).unwrap();
    let own = || {
        metric(
            &agent,
            "ferrostat_sflow_datagrams_total",
            "source=\"127.2.0.2\"",
        )
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while own() < 1.0 {
        assert!(Instant::now() < deadline, "127.2.0.2 not counted");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!((own(), sources(&agent)), (1.0, 1));
}
