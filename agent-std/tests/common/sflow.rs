//! The sFlow replay oracle shared by the collector and gateway tests: what sflowtool
//! decoded from a capture, as the rows the JSON-RPC API must answer.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::Agent;

pub const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/data/sflow/");

pub fn payloads(name: &str) -> Vec<Vec<u8>> {
    super::pcap_udp_payloads(&format!("{DATA}{name}.pcap"))
}

pub fn sflowtool(name: &str) -> Vec<Value> {
    std::fs::read_to_string(format!("{DATA}{name}.sflowtool.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub fn http(method: &str, url: &str, body: &str) -> (u16, String, String) {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build(),
    );
    let mut resp = if method == "POST" {
        agent
            .post(url)
            .header("content-type", "application/json-rpc")
            .send(body)
            .unwrap()
    } else {
        agent.get(url).call().unwrap()
    };
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        resp.status().as_u16(),
        resp.body_mut().read_to_string().unwrap(),
        ctype,
    )
}

/// `/api` with the agent's token in the query when it has one.
pub fn rpc_at(url: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "method": method, "params": params, "id": 7});
    let (status, text, ctype) = http("POST", url, &body.to_string());
    assert_eq!(
        (status, ctype.as_str()),
        (200, "application/json-rpc"),
        "{text}"
    );
    let reply: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(reply["id"], 7, "{reply}");
    assert!(reply.get("error").is_none(), "{method}: {reply}");
    reply["result"].clone()
}

pub fn rpc(agent: &Agent, method: &str, params: Value) -> Value {
    rpc_at(
        &format!("{}/api{}", agent.base(), agent.query),
        method,
        params,
    )
}

/// A metric's value from `/metrics`, summed over its label sets that contain `labels`.
pub fn metric(agent: &Agent, name: &str, labels: &str) -> f64 {
    let (_, page, _) = http(
        "GET",
        &format!("{}/metrics{}", agent.base(), agent.query),
        "",
    );
    page.lines()
        .filter(|l| {
            l.starts_with(name)
                && matches!(l.as_bytes().get(name.len()), Some(b'{' | b' '))
                && l.contains(labels)
        })
        .map(|l| l.rsplit_once(' ').unwrap().1.parse::<f64>().unwrap())
        .sum()
}

/// Waits (bounded) until the history has committed `n` samples in all.
pub fn wait_committed(agent: &Agent, n: f64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = metric(agent, "ferrostat_history_samples_committed_total", "");
        if got >= n {
            assert_eq!(got, n, "more samples committed than sent");
            return;
        }
        assert!(Instant::now() < deadline, "committed {got} of {n}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// sflowtool's field name → the API's, per record.
pub const FIELDS: &[(&str, &[(&str, &str)])] = &[
    (
        "0:2003",
        &[
            ("cpu_load_one", "cpu_load_one"),
            ("cpu_load_five", "cpu_load_five"),
            ("cpu_load_fifteen", "cpu_load_fifteen"),
            ("cpu_proc_run", "cpu_proc_run"),
            ("cpu_proc_total", "cpu_proc_total"),
            ("cpu_num", "cpu_num"),
            ("cpu_speed", "cpu_speed"),
            ("cpu_uptime", "cpu_uptime"),
            ("cpu_user", "cpu_user"),
            ("cpu_nice", "cpu_nice"),
            ("cpu_system", "cpu_system"),
            ("cpu_idle", "cpu_idle"),
            ("cpu_wio", "cpu_waiting_io"),
            ("cpuintr", "cpu_intr"),
            ("cpu_sintr", "cpu_sintr"),
            ("cpuinterrupts", "cpu_interrupts"),
            ("cpu_contexts", "cpu_contexts"),
        ],
    ),
    (
        "0:2004",
        &[
            ("mem_total", "mem_total"),
            ("mem_free", "mem_free"),
            ("mem_shared", "mem_shared"),
            ("mem_buffers", "mem_buffers"),
            ("mem_cached", "mem_cached"),
            ("swap_total", "swap_total"),
            ("swap_free", "swap_free"),
            ("page_in", "page_in"),
            ("page_out", "page_out"),
            ("swap_in", "swap_in"),
            ("swap_out", "swap_out"),
        ],
    ),
    (
        "0:2005",
        &[
            ("disk_total", "disk_total"),
            ("disk_free", "disk_free"),
            ("disk_partition_max_used", "part_max_used"),
            ("disk_reads", "reads"),
            ("disk_read_time", "read_time"),
            ("disk_writes", "writes"),
            ("disk_write_time", "write_time"),
            ("disk_bytes_read", "bytes_read"),
            ("disk_bytes_written", "bytes_written"),
        ],
    ),
    (
        "0:2006",
        &[
            ("nio_bytes_in", "bytes_in"),
            ("nio_bytes_out", "bytes_out"),
            ("nio_pkts_in", "packets_in"),
            ("nio_errs_in", "errs_in"),
            ("nio_drops_in", "drops_in"),
            ("nio_pkts_out", "packets_out"),
            ("nio_errs_out", "errs_out"),
            ("nio_drops_out", "drops_out"),
        ],
    ),
    (
        "0:2100",
        &[
            ("vnode_mhz", "vnode_mhz"),
            ("vnode_cpus", "vnode_cpus"),
            ("vnode_memory", "vnode_memory"),
            ("vnode_memory_free", "vnode_memory_free"),
            ("vnode_num_domains", "vnode_num_domains"),
        ],
    ),
    (
        "0:2101",
        &[
            ("vcpu_state", "vcpu_state"),
            ("vcpu_cpu_mS", "vcpu_cpu_time"),
            ("vcpu_cpuCount", "vcpu_cpu_count"),
        ],
    ),
    (
        "0:2102",
        &[
            ("vmem_memory", "vmem_memory"),
            ("vmem_maxMemory", "vmem_max_memory"),
        ],
    ),
    (
        "0:2103",
        &[
            ("vdsk_capacity", "vdsk_capacity"),
            ("vdsk_allocation", "vdsk_allocation"),
            ("vdsk_available", "vdsk_available"),
            ("vdsk_rd_req", "vdsk_rd_req"),
            ("vdsk_wr_req", "vdsk_wr_req"),
            ("vdsk_errs", "vdsk_errs"),
            ("vdsk_rd_bytes", "vdsk_rd_bytes"),
            ("vdsk_wr_bytes", "vdsk_wr_bytes"),
        ],
    ),
    (
        "0:2104",
        &[
            ("vnio_bytes_in", "vnio_bytes_in"),
            ("vnio_bytes_out", "vnio_bytes_out"),
            ("vnio_pkts_in", "vnio_packets_in"),
            ("vnio_errs_in", "vnio_errs_in"),
            ("vnio_drops_in", "vnio_drops_in"),
            ("vnio_pkts_out", "vnio_packets_out"),
            ("vnio_errs_out", "vnio_errs_out"),
            ("vnio_drops_out", "vnio_drops_out"),
        ],
    ),
];

pub const METHODS: &[(&str, &str)] = &[
    ("0:2003", "host.cpu"),
    ("0:2004", "host.memory"),
    ("0:2005", "host.disk"),
    ("0:2006", "host.net"),
    ("0:2100", "host.node"),
    ("0:2101", "virt.cpu"),
    ("0:2102", "virt.memory"),
    ("0:2103", "virt.disk"),
    ("0:2104", "virt.net"),
];

/// What the API must answer, from sflowtool's decoding: (method, key) → rows of
/// (API field, sflowtool text), in the order sent; and the number of samples stored.
pub type Expected = BTreeMap<(String, String), Vec<Vec<(String, String)>>>;

pub fn expected(decoded: &[Value], agent_override: Option<&str>) -> (Expected, usize) {
    let mut out = Expected::new();
    let mut stored = 0;
    for d in decoded {
        let agent = agent_override.unwrap_or(d["agent"].as_str().unwrap());
        for s in d["samples"].as_array().unwrap() {
            let Some(elements) = s["elements"].as_array() else {
                continue;
            };
            let tag = |e: &Value| e["counterBlock_tag"].as_str().unwrap_or("").to_owned();
            let is_vm = elements
                .iter()
                .any(|e| tag(e).starts_with("0:210") && tag(e) != "0:2100");
            let keeps = elements.iter().any(|e| {
                let t = tag(e);
                t == "0:2000" || FIELDS.iter().any(|(f, _)| *f == t)
            });
            if keeps {
                stored += 1;
            }
            let name = elements
                .iter()
                .find(|e| tag(e) == "0:2000")
                .and_then(|e| e["hostname"].as_str())
                .unwrap_or("")
                .to_owned();
            for e in elements {
                let t = tag(e);
                let Some((_, fields)) = FIELDS.iter().find(|(f, _)| *f == t) else {
                    continue;
                };
                let method = METHODS.iter().find(|(f, _)| *f == t).unwrap().1;
                let key = if is_vm {
                    name.clone()
                } else {
                    agent.to_owned()
                };
                let row = fields
                    .iter()
                    .map(|(theirs, ours)| {
                        (ours.to_string(), e[*theirs].as_str().unwrap().to_owned())
                    })
                    .collect();
                out.entry((method.to_owned(), key)).or_default().push(row);
            }
        }
    }
    (out, stored)
}

/// An API value equals sflowtool's text: all-ones and "unknown" are null; loads and
/// percentages to sflowtool's precision; counters exactly.
pub fn same(ours: &Value, theirs: &str) -> bool {
    match theirs {
        "4294967295" | "18446744073709551615" | "unknown" => ours.is_null(),
        t if t.contains('.') => {
            (ours.as_f64().unwrap_or(f64::NAN) - t.parse::<f64>().unwrap()).abs() < 5e-4
        }
        t => ours.as_u64() == Some(t.parse().unwrap()),
    }
}

pub fn check_api(agent: &Agent, expected: &Expected, host_ip: &str) {
    check_api_at(
        &format!("{}/api{}", agent.base(), agent.query),
        expected,
        host_ip,
    )
}

pub fn check_api_at(url: &str, expected: &Expected, host_ip: &str) {
    let mut checked = 0;
    for ((method, key), rows) in expected {
        let param = if method.starts_with("virt.") {
            json!({ "hostname": key })
        } else {
            json!({ "ip": key })
        };
        let got = rpc_at(url, method, param);
        let got = got.as_array().unwrap();
        assert_eq!(got.len(), rows.len(), "{method} {key}: {got:?}");
        for (ours, theirs) in got.iter().zip(rows) {
            if method.starts_with("virt.") {
                assert_eq!(ours["hostname"], key.as_str());
                assert_eq!(ours["host_ip"], host_ip);
            } else {
                assert_eq!(ours["host_ip"], key.as_str());
            }
            assert!(ours["timestamp"].as_i64().unwrap() > 1_700_000_000_000);
            for (field, text) in theirs {
                assert!(
                    same(&ours[field.as_str()], text),
                    "{method} {key} {field}: ours {} sflowtool {text}",
                    ours[field.as_str()]
                );
                checked += 1;
            }
            // Only the method's fields (and the keys) are in a row.
            let keys = 2 + usize::from(method.starts_with("virt.")) + theirs.len();
            assert_eq!(ours.as_object().unwrap().len(), keys, "{ours}");
        }
    }
    assert!(checked >= 100, "only {checked} values checked");
}
