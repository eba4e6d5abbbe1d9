//! socktop's protocol on `/ws`, with socktop's own client library (`socktop_connector`
//! 1.60.1, as the socktop TUI uses it) and, for the README's JSON requests and the bad
//! input the library never sends, Python's `websockets`. Values are checked against /proc.

mod common;

use common::{meminfo_bytes, start};
use serde_json::Value;
use socktop_connector::{connect_to_socktop_agent, AgentRequest, AgentResponse};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socktop_connector_gets_metrics_disks_processes_and_details() {
    let agent = start(&[]);
    let mut c = connect_to_socktop_agent(format!("ws://{}/ws", agent.addr))
        .await
        .unwrap();

    let AgentResponse::Metrics(m) = c.request(AgentRequest::Metrics).await.unwrap() else {
        panic!()
    };
    assert_eq!(m.mem_total, meminfo_bytes("MemTotal"));
    assert!(m.mem_used > 0 && m.mem_used < m.mem_total);
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) } as usize;
    assert_eq!(m.cpu_per_core.len(), online);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(m.hostname, host.trim());
    assert!(m.networks.iter().any(|n| n.name == "lo" && n.received > 0));
    assert!(m.sampled_at_ms.is_some());
    assert!(m.disks.is_empty() && m.top_processes.is_empty());
    // After the cache period the CPU shares are measured over the interval.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let AgentResponse::Metrics(m) = c.request(AgentRequest::Metrics).await.unwrap() else {
        panic!()
    };
    assert!((0.0..=100.0).contains(&m.cpu_total));

    let AgentResponse::Disks(disks) = c.request(AgentRequest::Disks).await.unwrap() else {
        panic!()
    };
    let st = rustix::fs::statvfs("/").unwrap();
    assert!(
        disks.iter().any(|d| d.total == st.f_blocks * st.f_frsize),
        "the root filesystem's device is listed: {disks:?}"
    );

    // The process list is protobuf (gzip above 768 bytes): the connector decodes it.
    let AgentResponse::Processes(p) = c.request(AgentRequest::Processes).await.unwrap() else {
        panic!()
    };
    assert_eq!(p.process_count, p.top_processes.len());
    let me = p
        .top_processes
        .iter()
        .find(|r| r.pid == std::process::id())
        .expect("this test is listed");
    assert!(me.mem_bytes > 1 << 20);
    assert!((0.0..=100.0).contains(&me.cpu_usage));

    match c
        .request(AgentRequest::ProcessMetrics {
            pid: std::process::id(),
        })
        .await
        .unwrap()
    {
        AgentResponse::ProcessMetrics(r) => {
            assert_eq!(r.process.pid, std::process::id());
            assert!(r.process.thread_count >= 2);
            // The count (stat) and the list (task/) are read apart, and this test binary
            // starts and ends threads meanwhile: the list is there, with the main thread.
            assert!(r.process.threads.len() >= 2, "{:?}", r.process.threads);
            assert!(r
                .process
                .threads
                .iter()
                .any(|t| t.tid == std::process::id()));
            assert_eq!(r.process.user_id, rustix::process::getuid().as_raw());
            assert!(r.process.executable_path.unwrap().contains("socktop"));
        }
        other => panic!("{other:?}"),
    }
}

/// Sends each request as a text frame and prints each reply: text as is, binary as
/// `{"binary": hex}`.
const CLIENT: &str = r#"
import asyncio, json, sys
import websockets

async def main(url, requests):
    async with websockets.connect(url) as ws:
        for req in requests:
            await ws.send(req)
            reply = await asyncio.wait_for(ws.recv(), timeout=10)
            if isinstance(reply, bytes):
                print(json.dumps({"binary": reply.hex()}), flush=True)
            else:
                print(reply, flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2:]))
"#;

#[test]
fn readme_json_requests_and_bad_input_get_answers() {
    let agent = start(&[]);
    let url = format!("ws://{}/ws", agent.addr);
    let replies = common::json_lines(&common::python(
        CLIENT,
        &[
            &url,
            r#"{"type":"metrics"}"#,
            r#"{"type":"processes"}"#,
            "get_nonsense",
            "get_process_metrics:abc",
            "get_process_metrics:4294967295",
            "get_journal_entries:1",
            "get_metrics",
        ],
    ));
    assert_eq!(replies.len(), 7, "one reply per request, in order");
    let metrics = |v: &Value| -> Value {
        match v.get("binary") {
            // Over 768 bytes: gzip.
            Some(hex) => {
                let bytes: Vec<u8> = (0..hex.as_str().unwrap().len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex.as_str().unwrap()[i..i + 2], 16).unwrap())
                    .collect();
                assert_eq!(&bytes[..2], &[0x1f, 0x8b]);
                let mut text = String::new();
                std::io::Read::read_to_string(
                    &mut flate2::read::GzDecoder::new(&bytes[..]),
                    &mut text,
                )
                .unwrap();
                serde_json::from_str(&text).unwrap()
            }
            None => v.clone(),
        }
    };
    assert_eq!(metrics(&replies[0])["mem_total"], meminfo_bytes("MemTotal"));
    let procs = replies[1]["binary"]
        .as_str()
        .expect("processes come as a binary frame");
    assert!(
        procs.starts_with("1f8b") || procs.starts_with("08"),
        "gzip or a protobuf field 1 varint"
    );
    assert!(replies[2]["error"]
        .as_str()
        .unwrap()
        .starts_with("unknown request"));
    assert_eq!(replies[2]["request"], "get_nonsense");
    assert_eq!(replies[3]["request"], "get_process_metrics");
    assert_eq!(replies[4]["error"], "Process 4294967295 not found");
    assert_eq!(replies[4]["pid"], 4294967295u64);
    let journal = &replies[5];
    assert!(
        journal.get("entries").is_some() || journal["request"] == "get_journal_entries",
        "{journal}"
    );
    assert!(
        metrics(&replies[6]).get("cpu_total").is_some(),
        "the session carried on"
    );
}

/// The sysfs tree with a CPU package sensor (42.5 °C) this VM lacks.
fn sensors() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/sysfs").to_owned()
}

async fn metrics(addr: &str) -> socktop_connector::Metrics {
    let mut c = connect_to_socktop_agent(format!("ws://{addr}/ws"))
        .await
        .unwrap();
    match c.request(AgentRequest::Metrics).await.unwrap() {
        AgentResponse::Metrics(m) => m,
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temperature_gpus_and_socktops_environment_toggles() {
    let on = start(&["--sys-root", &sensors()]);
    let m = metrics(&on.addr).await;
    assert_eq!(
        m.cpu_temp_c,
        Some(42.5),
        "the package sensor, not the NVMe one"
    );
    // GPUs through NVML where the driver is, listed as nvidia-smi lists them; the field
    // is omitted (not an error) where it is not.
    let smi = common::nvidia_smi();
    match &m.gpus {
        None => assert!(smi.is_empty(), "nvidia-smi sees {smi:?}, the agent none"),
        Some(gpus) => {
            assert_eq!(gpus.len(), smi.len());
            for (g, theirs) in gpus.iter().zip(&smi) {
                assert_eq!(g.name.as_deref(), Some(theirs.name.as_str()));
                assert_eq!(g.mem_total.unwrap() / (1 << 20), theirs.memory_total_mib);
                assert!(g.mem_used.unwrap() <= g.mem_total.unwrap());
                assert!((0.0..=100.0).contains(&g.utilization.unwrap()));
                assert!(g.temp.is_some_and(|t| t > 0.0 && t < 120.0));
            }
        }
    }
    // The metrics reply is shared for 250 ms, then collected afresh.
    let first = m.sampled_at_ms.unwrap();
    assert_eq!(metrics(&on.addr).await.sampled_at_ms.unwrap(), first);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(metrics(&on.addr).await.sampled_at_ms.unwrap() > first);
    drop(on);

    let off = common::start_with(
        &["--sys-root", &sensors()],
        &[
            ("SOCKTOP_AGENT_TEMP", "0"),
            ("SOCKTOP_AGENT_GPU", "0"),
            ("SOCKTOP_AGENT_METRICS_TTL_MS", "60000"),
        ],
    );
    let m = metrics(&off.addr).await;
    assert_eq!((m.cpu_temp_c, m.gpus.is_none()), (None, true));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        metrics(&off.addr).await.sampled_at_ms,
        m.sampled_at_ms,
        "a 60 s TTL keeps the reply"
    );
}
