//! The server from outside: a real `ferrostat-agent serve` process on 127.0.0.1:0, real
//! HTTP clients, Prometheus's own `promtool` on `/metrics`, and Debian's
//! `prometheus-node-exporter` on the same machine as the reference for names and values.

mod common;

use std::collections::BTreeMap;

use common::{meminfo_bytes, promtool, start};
use std::process::{Command, Stdio};

fn get(url: &str, headers: &[(&str, &str)]) -> (u16, String, Option<String>) {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build(),
    );
    let mut req = agent.get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut resp = req.call().unwrap();
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, resp.body_mut().read_to_string().unwrap(), ctype)
}

/// `name{labels}` -> value, for every sample of an exposition page.
fn samples(page: &str) -> BTreeMap<String, f64> {
    page.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap();
            (k.to_owned(), v.parse().unwrap())
        })
        .collect()
}

fn family_names(page: &str) -> Vec<String> {
    page.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split(' ').next().unwrap().to_owned())
        .collect()
}

#[test]
fn metrics_page_has_live_values_and_passes_promtool() {
    let agent = start(&[]);
    let (status, page, ctype) = get(&format!("{}/metrics", agent.base()), &[]);
    assert_eq!(status, 200);
    assert_eq!(
        ctype.as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let s = samples(&page);
    assert_eq!(
        s["node_memory_MemTotal_bytes"],
        meminfo_bytes("MemTotal") as f64
    );
    let stat = std::fs::read_to_string("/proc/stat").unwrap();
    let btime: f64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(s["node_boot_time_seconds"], btime);
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) } as usize;
    let idle = s
        .keys()
        .filter(|k| k.starts_with("node_cpu_seconds_total{") && k.ends_with("mode=\"idle\"}"))
        .count();
    assert_eq!(idle, online);
    assert!(s.contains_key("node_network_receive_bytes_total{device=\"lo\"}"));

    // Prometheus's own linter reads the page as a scraper would: it must parse, and its
    // only remarks may be the camelCase of the node_memory_ names node_exporter uses too
    // (checked against node_exporter's own page below).
    common::promtool_accepts(&page);

    let (status, body, _) = get(&format!("{}/healthz", agent.base()), &[]);
    assert_eq!((status, body.as_str()), (200, "ok\n"));
}

/// A free loopback port (bound, then released for the child to take).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn names_and_values_agree_with_node_exporter() {
    let port = free_port();
    let mut exporter = Command::new("prometheus-node-exporter")
        .args([
            &format!("--web.listen-address=127.0.0.1:{port}"),
            "--collector.disable-defaults",
            "--collector.cpu",
            "--collector.stat",
            "--collector.meminfo",
            "--collector.loadavg",
            "--collector.netdev",
            "--collector.diskstats",
            "--collector.pressure",
            "--collector.entropy",
            "--collector.filefd",
            "--collector.vmstat",
            "--collector.uname",
            "--collector.time",
            "--collector.os",
            "--collector.netstat",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus-node-exporter (Debian package; scripts/test.sh installs it)");
    let agent = start(&["--cache-ms", "0"]);
    let theirs_url = format!("http://127.0.0.1:{port}/metrics");
    let mut theirs = String::new();
    for _ in 0..100 {
        if let Ok(mut r) = ureq::get(&theirs_url).call() {
            theirs = r.body_mut().read_to_string().unwrap();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (_, ours, _) = get(&format!("{}/metrics", agent.base()), &[]);
    let _ = exporter.kill();
    let _ = exporter.wait();
    assert!(!theirs.is_empty(), "node_exporter did not answer");

    // Every family we export under a node_ name, node_exporter exports too: Debian's
    // (1.5 here), or the newer one whose end-to-end page the agent follows (its netstat
    // fields gained TcpExt_TCPOFOQueue and TcpExt_TCPRcvQDrop since).
    let newer = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/node_exporter/collector/fixtures/e2e-output.txt"
    ))
    .unwrap();
    let newer_families = family_names(&newer);
    let their_families = family_names(&theirs);
    let both = |n: &String| their_families.contains(n) || newer_families.contains(n);
    let ours_node: Vec<String> = family_names(&ours)
        .into_iter()
        .filter(|n| n.starts_with("node_"))
        .collect();
    let missing: Vec<&String> = ours_node.iter().filter(|n| !both(n)).collect();
    assert!(
        missing.is_empty(),
        "names node_exporter does not have: {missing:?}"
    );
    assert!(ours_node.len() > 60, "{}", ours_node.len());

    // promtool says nothing about our page that it does not say about node_exporter's.
    let (_, our_findings) = promtool(&ours);
    let (_, their_findings) = promtool(&theirs);
    for f in &our_findings {
        // A name only the newer node_exporter has gets the remark its page would.
        let newer_name = f.split(' ').next().is_some_and(|n| {
            !their_families.contains(&n.to_owned()) && newer_families.contains(&n.to_owned())
        });
        assert!(
            their_findings.contains(f) || newer_name,
            "promtool on ours only: {f}"
        );
    }

    let (o, t) = (samples(&ours), samples(&theirs));
    // Same kernel numbers, read moments apart.
    for exact in [
        "node_memory_MemTotal_bytes",
        "node_memory_SwapTotal_bytes",
        "node_boot_time_seconds",
        "node_memory_HugePages_Total",
    ] {
        assert_eq!(o[exact], t[exact], "{exact}");
    }
    let close = |k: &str, tolerance: f64| {
        let (a, b) = (o[k], t[k]);
        assert!(
            (a - b).abs() <= tolerance,
            "{k}: ours {a}, node_exporter {b}"
        );
    };
    close("node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"}", 5.0);
    close("node_cpu_seconds_total{cpu=\"0\",mode=\"user\"}", 5.0);
    close(
        "node_context_switches_total",
        o["node_context_switches_total"] * 0.05,
    );
    close("node_memory_MemAvailable_bytes", 512.0 * 1024.0 * 1024.0);
    close("node_load15", 0.5);
    close("node_filefd_allocated", 4096.0);
    close("node_vmstat_pgfault", o["node_vmstat_pgfault"] * 0.05);
    for exact in [
        "node_filefd_maximum",
        "node_entropy_pool_size_bits",
        "node_vmstat_pswpin",
    ] {
        assert_eq!(o[exact], t[exact], "{exact}");
    }
    // The sample Node Exporter Full picks its hosts by: the same labels.
    let uname = |s: &BTreeMap<String, f64>| {
        s.keys()
            .find(|k| k.starts_with("node_uname_info{"))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(uname(&o), uname(&t));
    let clocksources = |s: &BTreeMap<String, f64>| -> Vec<String> {
        s.keys()
            .filter(|k| k.starts_with("node_time_clocksource_"))
            .cloned()
            .collect()
    };
    assert_eq!(clocksources(&o), clocksources(&t));
    let os = |s: &BTreeMap<String, f64>| -> Vec<(String, f64)> {
        s.iter()
            .filter(|(k, _)| k.starts_with("node_os_"))
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    };
    assert_eq!(os(&o), os(&t));
    // Every netstat counter node_exporter serves here (the newer one adds two), and the
    // slow-moving ones equal.
    for k in t.keys().filter(|k| k.starts_with("node_netstat_")) {
        assert!(o.contains_key(k), "{k}");
    }
    assert_eq!(
        o["node_netstat_Ip_Forwarding"],
        t["node_netstat_Ip_Forwarding"]
    );
    close("node_netstat_Tcp_ActiveOpens", 50.0);
    assert!(!os(&o).is_empty());
    close("node_time_seconds", 5.0);
    assert!(uname(&o).contains("sysname=\"Linux\""), "{}", uname(&o));
    // Labels agree too: every disk node_exporter reports (it filters partitions and
    // loop devices by default), we report with the same count of reads.
    for k in t
        .keys()
        .filter(|k| k.starts_with("node_disk_reads_completed_total{"))
    {
        close(k, 1000.0);
    }
    // And every interface it reports (it leaves out lo by default).
    let nics: Vec<&String> = t
        .keys()
        .filter(|k| k.starts_with("node_network_receive_bytes_total{"))
        .collect();
    assert!(!nics.is_empty());
    for k in nics {
        close(k, 16.0 * 1024.0 * 1024.0);
    }
}

#[test]
fn a_token_guards_every_endpoint_but_healthz() {
    let agent = start(&["--token", "s3cr3t/+token"]);
    let url = format!("{}/metrics", agent.base());
    let (status, body, _) = get(&url, &[]);
    assert_eq!(status, 401, "{body}");
    assert_eq!(get(&url, &[("Authorization", "Bearer wrong")]).0, 401);
    assert_eq!(
        get(&url, &[("Authorization", "Bearer s3cr3t/+token")]).0,
        200
    );
    assert_eq!(get(&format!("{url}?token=s3cr3t%2F%2Btoken"), &[]).0, 200);
    assert_eq!(get(&format!("{url}?token=s3cr3t"), &[]).0, 401);
    assert_eq!(
        get(
            &url,
            &[("Sec-WebSocket-Protocol", "ferrostat, s3cr3t/+token")]
        )
        .0,
        200
    );
    assert_eq!(get(&format!("{}/healthz", agent.base()), &[]).0, 200);
}

/// The page as Python's urllib gets it with `accept` as Accept-Encoding: the response's
/// Content-Encoding and Vary, and the body, gunzipped where it says gzip.
fn fetch_encoded(url: &str, accept: &str) -> (String, String, String) {
    let script = r#"
import gzip, sys, urllib.request
req = urllib.request.Request(sys.argv[1], headers={"Accept-Encoding": sys.argv[2]})
with urllib.request.urlopen(req) as r:
    body = r.read()
    coding = r.headers.get("Content-Encoding") or "identity"
    vary = r.headers.get("Vary") or ""
if coding == "gzip":
    body = gzip.decompress(body)
sys.stdout.write(coding + "\n" + vary + "\n" + body.decode())
"#;
    let out = common::python(script, &[url, accept]);
    let mut parts = out.splitn(3, '\n');
    let coding = parts.next().unwrap().to_owned();
    let vary = parts.next().unwrap().to_owned();
    (coding, vary, parts.next().unwrap().to_owned())
}

/// `/metrics` comes gzip-compressed to a client that asks, as Prometheus does, and plain
/// to one that does not or says `q=0`; both are the same page for promtool.
#[test]
fn metrics_are_gzip_compressed_when_asked() {
    let agent = start(&[]);
    let url = format!("{}/metrics", agent.base());
    let (coding, vary, page) = fetch_encoded(&url, "gzip");
    assert_eq!(
        (coding.as_str(), vary.as_str()),
        ("gzip", "Accept-Encoding")
    );
    common::promtool_accepts(&page);
    let total = format!("node_memory_MemTotal_bytes {}", meminfo_bytes("MemTotal"));
    assert!(page.lines().any(|l| l == total), "{total} not in the page");
    for refused in ["identity", "gzip;q=0, identity", "br"] {
        let (coding, _, plain) = fetch_encoded(&url, refused);
        assert_eq!(coding, "identity", "{refused}");
        assert_eq!(family_names(&plain), family_names(&page), "{refused}");
    }
}

/// Kills a child process when the test ends, passed or not.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Prometheus itself scrapes the agent every second, with the token as its bearer
/// credential and its own Accept-Encoding: the target is up, and what it stored is what
/// /proc says; a job with the wrong token is down.
#[test]
fn a_real_prometheus_scrapes_the_agent() {
    let agent = start(&["--token", "prom-s3cret"]);
    let target = agent.base().trim_start_matches("http://").to_owned();
    let dir = common::temp_dir("prometheus");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        [
            "global:",
            "  scrape_interval: 1s",
            "  scrape_timeout: 1s",
            "scrape_configs:",
            "  - job_name: ferrostat",
            "    authorization: {credentials: prom-s3cret}",
            "    static_configs: [{targets: ['TARGET']}]",
            "  - job_name: wrong-token",
            "    authorization: {credentials: nope}",
            "    static_configs: [{targets: ['TARGET']}]",
        ]
        .join("\n")
        .replace("TARGET", &target),
    )
    .unwrap();
    let port = free_port();
    let _prometheus = Reaped(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("log")).unwrap())
            .spawn()
            .expect("prometheus (scripts/test.sh installs it)"),
    );
    // The one value of an instant query, once Prometheus has it.
    let query = |expr: &str| -> Option<f64> {
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build(),
        );
        let mut resp = agent
            .get(&format!("http://127.0.0.1:{port}/api/v1/query"))
            .query("query", expr)
            .call()
            .ok()?;
        let body: serde_json::Value =
            serde_json::from_str(&resp.body_mut().read_to_string().ok()?).ok()?;
        let value = body["data"]["result"].get(0)?["value"][1].as_str()?;
        value.parse().ok()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let wait_for = |expr: &str| loop {
        if let Some(v) = query(expr) {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "Prometheus has no {expr}: {}",
            std::fs::read_to_string(dir.join("log")).unwrap_or_default()
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
    };
    assert_eq!(wait_for(r#"up{job="ferrostat"}"#), 1.0);
    assert_eq!(wait_for(r#"up{job="wrong-token"}"#), 0.0);
    assert_eq!(
        wait_for(r#"node_memory_MemTotal_bytes{job="ferrostat"}"#),
        meminfo_bytes("MemTotal") as f64
    );
    let ncpu = std::thread::available_parallelism().unwrap().get() as f64;
    assert_eq!(
        wait_for(r#"count(node_cpu_seconds_total{job="ferrostat",mode="idle"})"#),
        ncpu
    );
    assert!(wait_for(r#"scrape_samples_scraped{job="ferrostat"}"#) > 100.0);
    assert_eq!(
        wait_for(r#"count({job="wrong-token", __name__=~"node_.*"}) or vector(0)"#),
        0.0
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn refuses_to_expose_itself_without_a_token() {
    let out = Command::new(env!("CARGO_BIN_EXE_ferrostat-agent"))
        .args(["serve", "--listen", "0.0.0.0:0"])
        .env_remove("FERROSTAT_TOKEN")
        .env_remove("FERROSTAT_INSECURE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to listen on 0.0.0.0:0 without a token"),
        "{err}"
    );
    // The same through the environment and a config file.
    let out = Command::new(env!("CARGO_BIN_EXE_ferrostat-agent"))
        .arg("serve")
        .env("FERROSTAT_LISTEN", "127.0.0.1:0,[::]:0")
        .env_remove("FERROSTAT_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// The `ferrostat_gpu_*` gauges read through NVML where a driver is, checked against
/// `nvidia-smi` (its own NVML client); none at all, and not an error, where there is none.
#[test]
fn gpu_gauges_agree_with_nvidia_smi() {
    let agent = start(&[]);
    let (status, page, _) = get(&format!("{}/metrics", agent.base()), &[]);
    assert_eq!(status, 200);
    let s = samples(&page);
    let smi = common::nvidia_smi();
    let gauges = s.keys().filter(|k| k.starts_with("ferrostat_gpu_")).count();
    if smi.is_empty() {
        assert_eq!(gauges, 0, "no GPU here, yet: {page}");
        return;
    }
    assert_eq!(gauges, 4 * smi.len(), "{page}");
    const MIB: f64 = (1 << 20) as f64;
    for gpu in &smi {
        let key = |family: &str| {
            format!(
                "ferrostat_gpu_{family}{{gpu=\"{}\",name=\"{}\"}}",
                gpu.index, gpu.name
            )
        };
        let mib = |family: &str| s[&key(family)] / MIB;
        assert_eq!(mib("memory_total_bytes"), gpu.memory_total_mib as f64);
        // Memory can move between the two reads (it matched to the MiB on an idle H100
        // and under a load that held 17 GiB), so allow a little.
        let used = mib("memory_used_bytes");
        let theirs = gpu.memory_used_mib as f64;
        assert!((used - theirs).abs() <= 256.0, "{used} MiB vs {theirs}");
        assert!((0.0..=1.0).contains(&s[&key("utilization_ratio")]));
        let temp = s[&key("temperature_celsius")];
        assert!(temp > 0.0 && temp < 120.0, "{temp} °C");
    }
}

/// node_exporter's flag spellings, so a unit file swaps one agent for the other.
#[test]
fn node_exporter_flag_spellings() {
    let port = free_port();
    let fixtures = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/node_exporter/collector/fixtures"
    );
    let _agent = start(&[
        "--web.listen-address",
        &format!("127.0.0.1:{port}"),
        "--path.procfs",
        &format!("{fixtures}/proc"),
    ]);
    // The agent announces its listeners one by one: wait for this one.
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let (status, page, _) = get(&format!("http://127.0.0.1:{port}/metrics"), &[]);
    assert_eq!(status, 200);
    // The fixture's loadavg: 0.21 0.37 0.39.
    assert_eq!(samples(&page)["node_load1"], 0.21);

    // Its collector switches.
    let only = start(&[
        "--collector.disable-defaults",
        "--collector.loadavg",
        "--collector.meminfo",
        "--collector.vmstat",
        "--no-collector.vmstat",
    ]);
    let (_, page, _) = get(&format!("{}/metrics", only.base()), &[]);
    let families: Vec<String> = family_names(&page)
        .into_iter()
        .filter(|f| f.starts_with("node_"))
        .collect();
    assert!(
        families.iter().all(|f| f.starts_with("node_load")
            || f.starts_with("node_memory_")
            || f == "node_scrape_collector_success"),
        "{families:?}"
    );
    assert!(families.iter().any(|f| f == "node_load1"));
    let s = samples(&page);
    let collectors: Vec<&String> = s
        .keys()
        .filter(|k| k.starts_with("node_scrape_collector_success{"))
        .collect();
    assert_eq!(
        collectors,
        [
            "node_scrape_collector_success{collector=\"loadavg\"}",
            "node_scrape_collector_success{collector=\"meminfo\"}"
        ]
    );
    let without_vmstat = start(&["--no-collector.vmstat"]);
    let (_, page, _) = get(&format!("{}/metrics", without_vmstat.base()), &[]);
    assert!(!page.contains("node_vmstat_") && page.contains("node_filefd_allocated"));
    let out = Command::new(env!("CARGO_BIN_EXE_ferrostat-agent"))
        .args(["serve", "--collector.nosuch", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("no collector \"nosuch\"") && stderr.contains("vmstat"),
        "{stderr}"
    );

    // `:PORT` is every address: like any non-loopback listener, refused without a token.
    let out = Command::new(env!("CARGO_BIN_EXE_ferrostat-agent"))
        .args([
            "serve",
            "--web.listen-address",
            &format!(":{}", free_port()),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("0.0.0.0") && stderr.contains("token"),
        "{stderr}"
    );
}
