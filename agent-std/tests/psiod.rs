//! psiod's WebSocket protocol on `/`, driven by a real client: Python's `websockets`
//! library sending what psiod's frontend sends (the README's JavaScript example, made
//! valid: `JSON.stringify({type: 'command', data: {name}})`). Values are checked against
//! /proc and statvfs read here.

mod common;

use std::process::Command;

use common::{meminfo_bytes, start};
use serde_json::Value;

/// The client: sends each line of `requests` (text, or `BINARY` for a binary frame) and
/// prints every reply, one JSON per line; `PID` in a request is replaced by its own pid,
/// and a request prefixed `NOREPLY ` is sent without waiting for a reply.
const CLIENT: &str = r#"
import asyncio, json, os, sys
import websockets

async def main(url, requests):
    async with websockets.connect(url) as ws:
        for req in requests:
            if req == "BIG":
                await ws.send("x" * 100_000)
                try:
                    await asyncio.wait_for(ws.recv(), timeout=10)
                except websockets.ConnectionClosed as e:
                    print(json.dumps({"closed": e.rcvd.code if e.rcvd else None}), flush=True)
                break
            if req == "BINARY":
                await ws.send(b"\x00\xff garbage")
            elif req.startswith("NOREPLY "):
                await ws.send(req[len("NOREPLY "):])
                continue
            else:
                await ws.send(req.replace("PID", str(os.getpid())))
            reply = await asyncio.wait_for(ws.recv(), timeout=10)
            print(reply, flush=True)
    print(json.dumps({"pid": os.getpid()}), flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2:]))
"#;

fn client(addr: &str, requests: &[&str]) -> (Vec<Value>, u32) {
    let url = format!("ws://{addr}/");
    let args = [&[url.as_str()], requests].concat();
    let mut lines = common::json_lines(&common::python(CLIENT, &args));
    let pid = lines.pop().unwrap()["pid"].as_u64().unwrap() as u32;
    (lines, pid)
}

fn command(name: &str) -> String {
    format!(r#"{{"type":"command","data":{{"name":"{name}"}}}}"#)
}

#[test]
fn every_command_answers_with_psutil_names_and_live_values() {
    let agent = start(&[]);
    let names = [
        "process.getall",
        "cpu.getall",
        "cpu.getall",
        "memory.getall",
        "disk.getall",
        "disk.root.getstats",
        "network.getstats",
        "host.getstats",
    ];
    let mut requests: Vec<String> = names.iter().map(|n| command(n)).collect();
    requests.push(r#"{"type":"command","data":{"name":"process.get","pid":PID}}"#.to_owned());
    let refs: Vec<&str> = requests.iter().map(String::as_str).collect();
    let (replies, client_pid) = client(&agent.addr, &refs);
    assert_eq!(replies.len(), 9);
    for r in &replies {
        assert_eq!(r["type"], "response", "{r}");
    }

    let procs = replies[0]["data"].as_array().unwrap();
    let me = procs
        .iter()
        .find(|p| p["pid"] == client_pid)
        .expect("the client itself is listed");
    assert!(me["name"].as_str().unwrap().starts_with("python3"), "{me}");
    assert_eq!(me["username"], "root");
    assert_eq!(
        me["status"]
            .as_str()
            .map(|s| ["running", "sleeping"].contains(&s)),
        Some(true)
    );
    assert!(me["memory_info"][0].as_u64().unwrap() > 1 << 20, "rss");
    assert_eq!(me["memory_rss"], me["memory_info"][0]);
    assert!(me["cpu_times"][0].as_f64().is_some() && me["num_threads"].as_u64().unwrap() >= 1);
    assert!(
        procs.iter().any(|p| p["pid"] == 1),
        "every process, not only the agent's user's"
    );

    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) } as usize;
    let cpus = replies[2]["data"].as_array().unwrap();
    assert_eq!(cpus.len(), online);
    assert!(cpus
        .iter()
        .all(|c| (0.0..=100.0).contains(&c["usage"].as_f64().unwrap())));

    let mem = &replies[3];
    assert_eq!(mem["data"]["virtual"]["total"], meminfo_bytes("MemTotal"));
    // The README's bare form and the code's wrapped form in one object.
    assert_eq!(mem["virtual"], mem["data"]["virtual"]);
    assert_eq!(mem["swap"]["total"], meminfo_bytes("SwapTotal"));

    let disks = replies[4]["data"].as_array().unwrap();
    assert!(
        disks
            .iter()
            .all(|d| d["fstype"] != "proc" && d["fstype"] != "sysfs"),
        "device-backed only"
    );
    let root = &replies[5]["data"];
    let st = rustix::fs::statvfs("/").unwrap();
    assert_eq!(root["total"], st.f_blocks * st.f_frsize);
    assert!(replies[6]["data"]["bytes_received"].as_u64().is_some());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(replies[7]["data"]["hostname"], host.trim());
    assert_eq!(replies[8]["data"]["pid"], client_pid);
}

#[test]
fn bad_input_gets_an_error_reply_and_the_session_carries_on() {
    let agent = start(&[]);
    let kill = r#"{"type":"command","data":{"name":"process.kill","pid":1}}"#;
    let (replies, _) = client(
        &agent.addr,
        &[
            "{not json",
            "BINARY",
            &command("no.such.command"),
            r#"{"type":"command","data":{"name":"process.get"}}"#,
            kill,
            &command("host.getstats"),
        ],
    );
    let messages: Vec<String> = replies
        .iter()
        .map(|r| r["data"]["message"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(replies[0]["type"], "error");
    assert!(messages[0].starts_with("malformed JSON"), "{}", messages[0]);
    assert!(messages[1].contains("binary frames"), "{}", messages[1]);
    assert_eq!(
        (replies[2]["data"]["command"].as_str(), messages[2].as_str()),
        (Some("no.such.command"), "unknown command")
    );
    assert!(messages[3].contains("needs a numeric data.pid"));
    assert!(
        messages[4].contains("--allow-kill"),
        "kill refused by default: {}",
        messages[4]
    );
    assert_eq!(replies[5]["type"], "response", "the session survived");
}

#[test]
fn process_kill_works_only_when_allowed() {
    let agent = start(&["--allow-kill"]);
    let mut victim = Command::new("sleep").arg("30").spawn().unwrap();
    let kill = format!(
        r#"{{"type":"command","data":{{"name":"process.kill","pid":{}}}}}"#,
        victim.id()
    );
    // A kill that works gets no reply (as in psiod): the next reply is host.getstats's.
    let (replies, _) = client(
        &agent.addr,
        &[&format!("NOREPLY {kill}"), &command("host.getstats")],
    );
    assert_eq!(replies.len(), 1);
    assert!(replies[0]["data"]["hostname"].is_string(), "{}", replies[0]);
    let status = victim.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(9));
}

#[test]
fn an_oversize_frame_closes_that_session_only() {
    let agent = start(&[]);
    let (replies, _) = client(&agent.addr, &[&command("host.getstats"), "BIG"]);
    assert_eq!(replies[0]["type"], "response");
    // 1009: message too big (RFC 6455); the agent itself carries on.
    assert_eq!(replies[1]["closed"], 1009);
    let (replies, _) = client(&agent.addr, &[&command("host.getstats")]);
    assert_eq!(replies[0]["type"], "response");
}
