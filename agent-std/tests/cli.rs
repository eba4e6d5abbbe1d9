//! The `ferrostat-agent` binary from outside: `parse` on real corpus files, on standard
//! input and on live /proc, its error reporting, and `snapshot` of live /proc and of a
//! copied /proc tree.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn agent() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ferrostat-agent"))
}

fn corpus(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/data/proc")
        .join(rel)
}

fn run_ok(args: &[&str]) -> Value {
    let out = agent().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The names of a snapshot's network interfaces, in order.
fn interface_names(snapshot: &Value) -> Vec<&str> {
    snapshot["interfaces"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect()
}

fn parse_file(kind: &str, rel: &str) -> Value {
    run_ok(&["parse", kind, corpus(rel).to_str().unwrap()])
}

fn parse_stdin(kind: &str, input: &[u8]) -> Output {
    let mut child = agent()
        .args(["parse", kind, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn every_kind_on_a_real_file() {
    let v = parse_file("stat", "sysstat/root3/proc/stat");
    let ids: Vec<u64> = v["cpus"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [0, 1, 2, 3, 4, 5, 7]);
    assert_eq!(v["cpus"]["dropped"], 0);
    assert_eq!(v["total"]["nice"], 2584918);

    let v = parse_file("meminfo", "local/proc/meminfo");
    assert_eq!(v["mem_total"], 24683656);
    assert_eq!(v["huge_pages_total"], 0);
    let v = parse_file("loadavg", "local/proc/loadavg");
    assert_eq!(
        (v["one"].as_f64(), v["last_pid"].as_u64()),
        (Some(4.04), Some(9536))
    );
    let v = parse_file("uptime", "eminence-procfs/uptime/proc/uptime");
    assert_eq!(v["uptime_secs"], 2578790.61);
    let v = parse_file("net-dev", "local/proc/net/dev");
    assert_eq!(v["items"][3]["name"], "eth0");
    assert_eq!(v["items"][3]["rx_bytes"], 200826382u64);
    let v = parse_file("diskstats", "sysstat/root6/proc/diskstats");
    assert!(v["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["name"] == "cciss/c0d0"));
    let v = parse_file("cpuinfo", "util-linux/lscpu/x86_64-epyc_7451/proc/cpuinfo");
    assert_eq!(
        (
            v["logical"].as_u64(),
            v["cores"].as_u64(),
            v["sockets"].as_u64()
        ),
        (Some(96), Some(48), Some(2))
    );
    assert_eq!(
        v["processors"]["items"][95]["model"],
        "AMD EPYC 7451 24-Core Processor"
    );
    let v = parse_file("pid-stat", "prometheus-procfs/proc/26232/stat");
    assert_eq!(
        (
            v["comm"].as_str(),
            v["state"].as_str(),
            v["cutime"].as_i64()
        ),
        (Some("ata_sff"), Some("S"), Some(i64::MIN))
    );
    let v = parse_file("pid-status", "prometheus-procfs/proc/26231/status");
    assert_eq!(
        (v["name"].as_str(), v["vm_rss"].as_u64()),
        (Some("prometheus"), Some(6716))
    );
    let v = parse_file("pid-statm", "local/proc/1/statm");
    assert_eq!(v["resident"], 2888);
    let v = parse_file("pid-io", "prometheus-procfs/proc/26231/io");
    assert_eq!(v["cancelled_write_bytes"], -1024);
    let v = parse_file("mountinfo", "node_exporter/proc/1/mountinfo");
    let points: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mount_point"].as_str().unwrap())
        .collect();
    assert!(
        points
            .iter()
            .any(|p| p.contains("[vsanDatastore] bafb9e5a")),
        "octal escape undone"
    );
    assert!(points
        .iter()
        .any(|p| p.contains("[vsanDatastore]\tbafb9e5a")));
    let v = parse_file(
        "mounts",
        "eminence-procfs/mounts_pasta_empty_spec/proc/mounts",
    );
    assert_eq!(
        (
            v["items"][0]["spec"].as_str(),
            v["items"][0]["file"].as_str()
        ),
        (Some(""), Some("/"))
    );
    let v = parse_file("pressure", "prometheus-procfs/proc/pressure/cpu");
    assert_eq!(
        (v["some"]["avg300"].as_f64(), v["full"].is_null()),
        (Some(3.85), true)
    );
    let v = parse_file("snmp", "eminence-procfs/snmp_missing_icmpmsg/proc/net/snmp");
    assert_eq!(v["Tcp"]["max_conn"], -1);
    let v = parse_file("vmstat", "node_exporter/proc/vmstat");
    assert_eq!(v["pgfault"], 2320168809u64);
}

#[test]
fn standard_input_and_decoded_names() {
    // comm cut inside a UTF-8 character, fed on stdin: shown with U+FFFD.
    let mut line = b"42 (abcdefghijklmn\xc3) R 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 9 100 2 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1\n".to_vec();
    let out = parse_stdin("pid-stat", &line);
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["comm"], "abcdefghijklmn\u{FFFD}");
    assert_eq!(v["utime"], 7);

    // status escapes the newline; the JSON shows the real name.
    let out = parse_stdin(
        "pid-status",
        b"Name:\tfoo\\nbar) S 1\nState:\tR (running)\n",
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["name"], "foo\nbar) S 1");
    assert_eq!(v["state"], "R");

    line.clear();
    line.extend_from_slice(b"63 43 0:39 / /tmp/a\\040b\\134c rw,relatime - tmpfs  rw\n");
    let out = parse_stdin("mountinfo", &line);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["items"][0]["mount_point"], "/tmp/a b\\c");
    assert_eq!(v["items"][0]["source"], "");
}

#[test]
fn parse_errors_exit_2_with_kind_and_offset() {
    let out = agent()
        .args([
            "parse",
            "stat",
            corpus("gopsutil/cpu-times_empty/proc/stat")
                .to_str()
                .unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unexpected end of input at byte 0"), "{err}");
    assert!(out.stdout.is_empty());

    let out = parse_stdin("loadavg", b"0.10 0.20 x.30 1/100 42\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad decimal number at byte 10"));

    let out = parse_stdin("meminfo", b"MemTotal: 12 parsecs\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("malformed line at byte 13"));

    let out = agent()
        .args(["parse", "stat", "/nonexistent/stat"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // An endless file or pipe is cut off with an error, not read until memory runs out.
    let out = agent()
        .args(["parse", "stat", "/dev/zero"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/dev/zero: more than 64 MiB; no /proc file is this large"),
        "{err}"
    );
    let mut child = agent()
        .args(["parse", "meminfo", "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let chunk = vec![b'x'; 1 << 20];
    // The agent stops reading after 64 MiB and exits, which breaks this pipe.
    let mut sent = 0usize;
    while stdin.write_all(&chunk).is_ok() {
        sent += chunk.len();
        assert!(sent <= 128 << 20, "the agent read past its limit");
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("more than 64 MiB"));

    let out = agent()
        .args(["parse", "no-such-kind", "-"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn every_kind_on_live_proc() {
    let pid = std::process::id();
    let cases = [
        ("stat", "/proc/stat".to_string()),
        ("meminfo", "/proc/meminfo".into()),
        ("loadavg", "/proc/loadavg".into()),
        ("uptime", "/proc/uptime".into()),
        ("net-dev", "/proc/net/dev".into()),
        ("diskstats", "/proc/diskstats".into()),
        ("cpuinfo", "/proc/cpuinfo".into()),
        ("pid-stat", format!("/proc/{pid}/stat")),
        ("pid-status", format!("/proc/{pid}/status")),
        ("pid-statm", format!("/proc/{pid}/statm")),
        ("pid-io", format!("/proc/{pid}/io")),
        ("mountinfo", format!("/proc/{pid}/mountinfo")),
        ("mounts", "/proc/mounts".into()),
        ("snmp", "/proc/net/snmp".into()),
        ("vmstat", "/proc/vmstat".into()),
    ];
    for (kind, path) in cases {
        let v = run_ok(&["parse", kind, &path]);
        assert!(v.is_object(), "{kind}");
    }
    let v = run_ok(&["parse", "pid-status", &format!("/proc/{pid}/status")]);
    assert_eq!(v["tgid"], pid);
    if std::path::Path::new("/proc/pressure/cpu").exists() {
        let v = run_ok(&["parse", "pressure", "/proc/pressure/cpu"]);
        assert!(v["some"]["total_us"].as_u64().is_some());
    }
}

#[test]
fn snapshot_matches_live_proc() {
    let v = run_ok(&["snapshot", "--compact"]);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let total_kb: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(v["memory"]["total_bytes"], total_kb * 1024);
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) } as usize;
    assert_eq!(v["cpus"]["items"].as_array().unwrap().len(), online);
    let names = interface_names(&v);
    assert!(names.contains(&"lo"));
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(v["hostname"], host.trim());
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(now_ms - v["timestamp_ms"].as_u64().unwrap() < 10_000);
    assert!(v["uptime_secs"].as_f64().unwrap() > 0.0);
}

/// Copies a directory tree (files and directories only, as the corpus holds).
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// `snapshot --proc-root` (a container that mounts the host's /proc elsewhere) on a copy
/// of a real machine's /proc: the sample is that machine's, a missing file is named, and
/// a file that never ends is refused at 64 MiB rather than read into memory.
#[test]
fn snapshot_of_a_copied_proc_tree() {
    let root = common::temp_dir("proc-root");
    copy_tree(&corpus("local/proc"), &root);
    let snapshot = |root: &std::path::Path| {
        agent()
            .args([
                "snapshot",
                "--compact",
                "--proc-root",
                root.to_str().unwrap(),
            ])
            .output()
            .unwrap()
    };
    // Without sys/kernel/hostname (the corpus did not copy it).
    let out = snapshot(&root);
    assert_eq!(out.status.code(), Some(1));
    let hostname = root.join("sys/kernel/hostname");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "ferrostat-agent: snapshot: {}: No such file or directory (os error 2)\n",
            hostname.display()
        )
    );
    std::fs::create_dir_all(hostname.parent().unwrap()).unwrap();
    std::fs::write(&hostname, "corpus-host\n").unwrap();
    let out = snapshot(&root);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["hostname"], "corpus-host");
    // meminfo: MemTotal 24683656 kB; loadavg: 4.04 2.00 0.82 6/129; uptime: 393.72.
    assert_eq!(v["memory"]["total_bytes"], 24_683_656u64 * 1024);
    assert_eq!(v["memory"]["available_bytes"], 23_706_380u64 * 1024);
    assert_eq!(
        (
            &v["load"]["one"],
            &v["load"]["fifteen"],
            &v["load"]["running"],
            &v["load"]["total"]
        ),
        (
            &Value::from(4.04),
            &Value::from(0.82),
            &Value::from(6),
            &Value::from(129)
        )
    );
    assert_eq!(v["uptime_secs"], 393.72);
    // stat: two CPUs, cpu0's user time 13575 jiffies at the kernel's 100 Hz.
    let cpus = v["cpus"]["items"].as_array().unwrap();
    assert_eq!(cpus.len(), 2);
    assert_eq!(cpus[0]["counters"]["user_ms"], 135_750);
    let names = interface_names(&v);
    assert_eq!(names, ["lo", "ifb0", "ifb1", "eth0"]);
    // A stat that never ends.
    std::fs::remove_file(root.join("stat")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", root.join("stat")).unwrap();
    let out = snapshot(&root);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("/stat: longer than 64 MiB, not a /proc file"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&root).ok();
}
