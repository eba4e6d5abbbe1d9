//! node_exporter's own end-to-end suite: the agent serves `/metrics` from node_exporter's
//! fixtures (`tests/data/node_exporter/`, its `collector/fixtures` at commit a7dcc3a0,
//! Apache-2.0) and the page is compared sample by sample with the page node_exporter
//! serves from them (`e2e-output.txt`), under the flags and skips of its
//! `end-to-end-test.sh`. The test prints the conformance over node_exporter's
//! collectors that are enabled by default on Linux, and holds each collector the agent
//! serves to every sample the fixture has for it.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::start;

/// Collectors node_exporter enables by default on Linux (its `registerCollector(...,
/// defaultEnabled)` calls), that its end-to-end script runs; filesystem, timex and uname
/// are default too but the script turns them off.
const DEFAULT_COLLECTORS: &[&str] = &[
    "arp",
    "bcache",
    "bonding",
    "btrfs",
    "conntrack",
    "cpu",
    "cpufreq",
    "diskstats",
    "dmi",
    "edac",
    "entropy",
    "fibrechannel",
    "filefd",
    "hwmon",
    "infiniband",
    "ipvs",
    "loadavg",
    "mdadm",
    "meminfo",
    "netclass",
    "netdev",
    "netstat",
    "nfs",
    "nfsd",
    "nvme",
    "os",
    "powersupplyclass",
    "pressure",
    "rapl",
    "schedstat",
    "sockstat",
    "softnet",
    "stat",
    "tapestats",
    "textfile",
    "thermal_zone",
    "time",
    "udp_queues",
    "vmstat",
    "watchdog",
    "xfs",
    "zfs",
];

/// Collectors the agent serves in full: every fixture sample of each must match.
const SERVED: &[&str] = &[
    "entropy", "filefd", "loadavg", "meminfo", "pressure", "vmstat",
];

/// The collector a family belongs to, by name (node_exporter's collector sources);
/// the first matching prefix wins, so the specific ones come first.
fn collector_of(name: &str) -> &'static str {
    const PREFIXES: &[(&str, &str)] = &[
        ("node_cpu_frequency_", "cpufreq"),
        ("node_cpu_scaling_", "cpufreq"),
        ("node_cpu_vulnerabilities", "cpu_vulnerabilities"),
        ("node_cpu_", "cpu"),
        ("node_boot_time_seconds", "stat"),
        ("node_context_switches_total", "stat"),
        ("node_forks_total", "stat"),
        ("node_intr_total", "stat"),
        ("node_procs_", "stat"),
        ("node_softirqs_total", "stat"),
        ("node_memory_numa_", "meminfo_numa"),
        ("node_memory_", "meminfo"),
        ("node_load", "loadavg"),
        ("node_network_receive_", "netdev"),
        ("node_network_transmit_", "netdev"),
        ("node_network_", "netclass"),
        ("node_disk_", "diskstats"),
        ("node_pressure_", "pressure"),
        ("node_arp_", "arp"),
        ("node_bcachefs_", "bcachefs"),
        ("node_bcache_", "bcache"),
        ("node_bonding_", "bonding"),
        ("node_btrfs_", "btrfs"),
        ("node_nf_conntrack_", "conntrack"),
        ("node_dmi_", "dmi"),
        ("node_edac_", "edac"),
        ("node_entropy_", "entropy"),
        ("node_fibrechannel_", "fibrechannel"),
        ("node_filefd_", "filefd"),
        ("node_filesystem_", "filesystem"),
        ("node_hwmon_", "hwmon"),
        ("node_infiniband_", "infiniband"),
        ("node_ipvs_", "ipvs"),
        ("node_md_", "mdadm"),
        ("node_netstat_", "netstat"),
        ("node_nfsd_", "nfsd"),
        ("node_nfs_", "nfs"),
        ("node_nvme_", "nvme"),
        ("node_os_", "os"),
        ("node_power_supply_", "powersupplyclass"),
        ("node_rapl_", "rapl"),
        ("node_schedstat_", "schedstat"),
        ("node_sockstat_", "sockstat"),
        ("node_softnet_", "softnet"),
        ("node_tape_", "tapestats"),
        ("node_textfile_", "textfile"),
        ("testmetric", "textfile"),
        ("node_thermal_zone_", "thermal_zone"),
        ("node_cooling_device_", "thermal_zone"),
        ("node_time_", "time"),
        ("node_timex_", "timex"),
        ("node_uname_", "uname"),
        ("node_udp_queues", "udp_queues"),
        ("node_vmstat_", "vmstat"),
        ("node_watchdog_", "watchdog"),
        ("node_xfs_", "xfs"),
        ("node_zfs_", "zfs"),
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _)| name.starts_with(prefix))
        .map_or("other", |(_, c)| c)
}

/// end-to-end-test.sh's `skip_re`: what differs by machine or build.
fn skipped(name: &str) -> bool {
    [
        "go_",
        "node_exporter_build_info",
        "node_scrape_collector_duration_seconds",
        "process_",
        "node_textfile_mtime_seconds",
        "node_time_zone",
        "node_time_seconds",
    ]
    .iter()
    .any(|p| name.starts_with(p))
        || [
            "node_network_receive_bytes_total",
            "node_network_receive_packets_total",
            "node_network_transmit_bytes_total",
            "node_network_transmit_packets_total",
        ]
        .contains(&name)
}

/// One sample: its name, its labels sorted by name, and its value.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

impl Sample {
    fn key(&self) -> String {
        let labels: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        format!("{}{{{}}}", self.name, labels.join(","))
    }

    /// The collector: its family's, or for node_scrape_collector_success the one it names.
    fn collector(&self) -> String {
        if self.name.starts_with("node_scrape_collector_") {
            return self
                .labels
                .iter()
                .find(|(k, _)| k == "collector")
                .map_or_else(String::new, |(_, v)| v.clone());
        }
        collector_of(&self.name).to_owned()
    }
}

/// The samples of a Prometheus text page.
fn parse_page(page: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in page.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (head, value) = match line.rfind('}') {
            Some(close) => (&line[..=close], line[close + 1..].trim()),
            None => line.split_once(' ').unwrap(),
        };
        let value = value.split(' ').next().unwrap();
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("value in {line:?}")),
        };
        let (name, labels) = match head.split_once('{') {
            Some((name, rest)) => (name, parse_labels(rest.strip_suffix('}').unwrap())),
            None => (head.trim(), Vec::new()),
        };
        out.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    out
}

fn parse_labels(text: &str) -> Vec<(String, String)> {
    let mut labels = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if name.trim().is_empty() {
            break;
        }
        assert_eq!(chars.next(), Some('"'));
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(c) => value.push(c),
                    None => break,
                },
                '"' => break,
                c => value.push(c),
            }
        }
        labels.push((name.trim().trim_start_matches(',').to_owned(), value));
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    labels.sort();
    labels
}

fn same(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()) || (a.is_nan() && b.is_nan())
}

/// node_exporter's sysfs fixture, unpacked with its own `ttar` script.
fn unpack_sys(data: &Path) -> PathBuf {
    let dir = common::temp_dir("node-exporter-sys");
    std::fs::create_dir_all(&dir).unwrap();
    let status = Command::new("bash")
        .arg(data.join("ttar"))
        .arg("-C")
        .arg(&dir)
        .arg("-x")
        .arg("-f")
        .arg(data.join("collector/fixtures/sys.ttar"))
        .status()
        .expect("bash");
    assert!(status.success(), "ttar");
    dir.join("sys")
}

#[test]
fn node_exporter_end_to_end_fixtures() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/node_exporter");
    let fixtures = data.join("collector/fixtures");
    let sys = unpack_sys(&data);
    let proc_root = fixtures.join("proc");
    let agent = start(&[
        "--rootfs",
        fixtures.to_str().unwrap(),
        "--proc-root",
        proc_root.to_str().unwrap(),
        "--sys-root",
        sys.to_str().unwrap(),
        "--cache-ms",
        "0",
    ]);
    let mut response = ureq::get(&format!("{}/metrics", agent.base()))
        .call()
        .unwrap();
    let ours = parse_page(&response.body_mut().read_to_string().unwrap());
    let expected_page = std::fs::read_to_string(fixtures.join("e2e-output.txt")).unwrap();
    let theirs = parse_page(&expected_page);

    let ours_by_key: BTreeMap<String, f64> = ours.iter().map(|s| (s.key(), s.value)).collect();
    // Per collector: (matched, fixture samples, mismatches).
    let mut tally: BTreeMap<String, (usize, usize, Vec<String>)> = BTreeMap::new();
    for s in theirs.iter().filter(|s| !skipped(&s.name)) {
        let entry = tally.entry(s.collector()).or_default();
        entry.1 += 1;
        match ours_by_key.get(&s.key()) {
            Some(v) if same(*v, s.value) => entry.0 += 1,
            Some(v) => entry
                .2
                .push(format!("{} = {v}, node_exporter {}", s.key(), s.value)),
            None => entry.2.push(format!("{} missing", s.key())),
        }
    }
    let (mut matched, mut total) = (0, 0);
    for c in DEFAULT_COLLECTORS {
        let (m, t, _) = tally.get(*c).cloned().unwrap_or_default();
        println!("{c:>18}: {m:>4} / {t:>4}");
        matched += m;
        total += t;
    }
    println!(
        "conformance: {matched} of {total} samples of node_exporter's default Linux collectors ({:.1} %)",
        100.0 * matched as f64 / total.max(1) as f64
    );

    for c in SERVED {
        let (m, t, misses) = &tally[*c];
        assert!(*t > 0, "{c}: the fixture has samples");
        assert!(misses.is_empty(), "{c}: {m} of {t} match; {misses:#?}");
    }
    // What the agent serves of a collector in full, node_exporter serves too: no extra
    // samples under its names.
    let theirs_keys: Vec<String> = theirs.iter().map(Sample::key).collect();
    let extra: Vec<String> = ours
        .iter()
        .filter(|s| SERVED.contains(&s.collector().as_str()) && !skipped(&s.name))
        .map(Sample::key)
        .filter(|k| !theirs_keys.contains(k))
        .collect();
    assert!(
        extra.is_empty(),
        "samples node_exporter does not serve: {extra:#?}"
    );
}
