//! The collector layer: many clients of different endpoints polling at once cost one
//! read of each /proc file and one process scan per cache period, and nothing is read
//! while nobody asks. The agent's own counters in `/metrics` are the oracle.

mod common;

use common::start_with;

/// Opens `n` psiod and `n` socktop sessions at once; each asks for memory and processes.
const CLIENTS: &str = r#"
import asyncio, json, sys
import websockets

async def psiod(url):
    async with websockets.connect(url) as ws:
        for name in ["memory.getall", "process.getall"]:
            await ws.send(json.dumps({"type": "command", "data": {"name": name}}))
            reply = json.loads(await asyncio.wait_for(ws.recv(), timeout=30))
            assert reply["type"] == "response", reply

async def socktop(url):
    async with websockets.connect(url) as ws:
        for req in ["get_metrics", "get_processes"]:
            await ws.send(req)
            await asyncio.wait_for(ws.recv(), timeout=30)

async def main(base, n):
    await asyncio.gather(*[psiod(base + "/") for _ in range(n)],
                         *[socktop(base + "/ws") for _ in range(n)])

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"#;

fn counter(page: &str, series: &str) -> u64 {
    page.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse::<f64>().ok())
        .unwrap_or_else(|| panic!("{series} missing from:\n{page}")) as u64
}

fn scrape(base: &str) -> String {
    ureq::get(&format!("{base}/metrics"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap()
}

#[test]
fn sixteen_clients_cost_one_read_each() {
    let agent = start_with(
        &["--cache-ms", "60000"],
        &[
            ("SOCKTOP_AGENT_METRICS_TTL_MS", "60000"),
            ("SOCKTOP_AGENT_PROCESSES_TTL_MS", "60000"),
        ],
    );
    let base = format!("ws://{}", agent.addr);
    common::python(CLIENTS, &[&base, "8"]);

    let page = scrape(&agent.base());
    // psiod needs owners (status), socktop does not: a scan with owners serves both, one
    // without serves socktop only, so whichever comes first there are one or two scans
    // for all sixteen sessions.
    let scans = counter(&page, "ferrostat_agent_process_scans_total");
    assert!((1..=2).contains(&scans), "{scans} scans");
    for file in ["meminfo", "net/dev", "sys/kernel/hostname", "vmstat"] {
        let series = format!("ferrostat_agent_proc_reads_total{{file=\"{file}\"}}");
        assert_eq!(counter(&page, &series), 1, "{file}");
    }

    // Idle: no background sampling, so a second later nothing more was read.
    std::thread::sleep(std::time::Duration::from_secs(1));
    let later = scrape(&agent.base());
    let reads = |p: &str| -> Vec<String> {
        p.lines()
            .filter(|l| l.starts_with("ferrostat_agent_"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(reads(&later), reads(&page));
}
