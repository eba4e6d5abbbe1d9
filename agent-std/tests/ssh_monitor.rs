//! `/monitor` from outside: a real OpenSSH server (Debian's `sshd`, started here on a
//! loopback port with a throwaway host key and a test user with a password and a key),
//! a real agent watching this machine through it, and a client written the way the
//! README's browser example is: a plain WebSocket sending JSON (Python `websockets`).
//! Event values are checked against /proc read locally.

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::{meminfo_bytes, start, temp_dir};
use serde_json::{json, Value};

const USER: &str = "ferrostat-ssh";
const PASSWORD: &str = "Ferrostat-Test-7";

/// A running sshd, killed when dropped.
struct Sshd {
    child: Child,
    port: u16,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A fresh working folder named after `tag`, the test user (created once, with a
/// password), and a fresh key pair for it in that folder: the folder and the private key.
fn test_user(tag: &str) -> (std::path::PathBuf, String) {
    let dir = temp_dir(tag);
    std::fs::create_dir_all(&dir).unwrap();
    let exists = Command::new("id")
        .arg(USER)
        .output()
        .unwrap()
        .status
        .success();
    if !exists {
        run(Command::new("useradd").args(["--create-home", "--shell", "/bin/sh", USER]));
    }
    let mut chpasswd = Command::new("chpasswd")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("chpasswd (the tests run as root, as CI does)");
    use std::io::Write;
    writeln!(chpasswd.stdin.take().unwrap(), "{USER}:{PASSWORD}").unwrap();
    assert!(chpasswd.wait().unwrap().success());
    let key = dir.join("user_key");
    run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", ""])
        .arg("-f")
        .arg(&key));
    std::fs::copy(dir.join("user_key.pub"), dir.join("authorized_keys")).unwrap();
    let private_key = std::fs::read_to_string(key).unwrap();
    (dir, private_key)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// sshd on `port` with the host key `host_key` (made if missing).
fn sshd(dir: &Path, port: u16, host_key: &str) -> Sshd {
    sshd_on(dir, &[port], host_key)
}

/// sshd on every port of `ports`.
fn sshd_on(dir: &Path, ports: &[u16], host_key: &str) -> Sshd {
    let port = ports[0];
    let key = dir.join(host_key);
    if !key.exists() {
        run(Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", ""])
            .arg("-f")
            .arg(&key));
    }
    std::fs::create_dir_all("/run/sshd").unwrap();
    let config = dir.join(format!("sshd_{port}.config"));
    std::fs::write(
        &config,
        format!(
            "{ports}ListenAddress 127.0.0.1\nHostKey {key}\nPidFile {dir}/sshd_{port}.pid\n\
             PasswordAuthentication yes\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
             AuthorizedKeysFile {dir}/authorized_keys\nUsePAM no\nStrictModes no\n\
             AllowUsers {USER}\nSubsystem sftp /usr/lib/openssh/sftp-server\n",
            ports = ports.iter().map(|p| format!("Port {p}\n")).collect::<String>(),
            key = key.display(),
            dir = dir.display(),
        ),
    )
    .unwrap();
    let child = Command::new("/usr/sbin/sshd")
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .stderr(std::fs::File::create(dir.join(format!("sshd_{port}.log"))).unwrap())
        .spawn()
        .expect("sshd (Debian package openssh-server; scripts/test.sh installs it)");
    let deadline = Instant::now() + Duration::from_secs(10);
    for p in ports {
        while std::net::TcpStream::connect(("127.0.0.1", *p)).is_err() {
            assert!(Instant::now() < deadline, "sshd did not listen on {p}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    Sshd { child, port }
}

/// The README's browser client, in Python: sends each request (a JSON text) in turn,
/// then prints every frame received for `seconds`, one per line.
const CLIENT: &str = r#"
import asyncio, json, sys
import websockets

async def main(url, seconds, *requests):
    async with websockets.connect(url, max_size=None) as ws:
        for r in requests:
            await ws.send(r)
        loop = asyncio.get_running_loop()
        end = loop.time() + float(seconds)
        try:
            while loop.time() < end:
                msg = await asyncio.wait_for(ws.recv(), timeout=end - loop.time())
                print(msg, flush=True)
        except (asyncio.TimeoutError, websockets.ConnectionClosed):
            pass

asyncio.run(main(*sys.argv[1:]))
"#;

fn client(url: &str, seconds: f64, requests: &[Value]) -> Vec<Value> {
    let mut args = vec![url.to_owned(), seconds.to_string()];
    args.extend(requests.iter().map(Value::to_string));
    python_client(CLIENT, &args)
}

/// Runs a Python client `script` with `args` and reads each line it prints as JSON.
fn python_client(script: &str, args: &[String]) -> Vec<Value> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::json_lines(&common::python(script, &args))
}

fn events<'a>(frames: &'a [Value], name: &str) -> Vec<&'a Value> {
    frames
        .iter()
        .filter(|f| f["method"] == "ssh.notification" && f["params"][0]["event"] == name)
        .map(|f| &f["params"][0]["message"])
        .collect()
}

fn human(bytes: f64) -> (f64, &'static str) {
    let mut v = bytes;
    for unit in ["B", "KB", "MB", "GB"] {
        if v < 1024.0 {
            return ((v * 100.0).round() / 100.0, unit);
        }
        v /= 1024.0;
    }
    ((v * 100.0).round() / 100.0, "TB")
}

/// This machine through its own sshd: every event of the spec (temperature where the
/// machine has thermal zones), with values from this machine's /proc, camelCase for
/// `ssh.startMonitor`, snake_case with `ssh_key` for the README's `ssh.start_monitor`,
/// `rough` only for `ssh.startRoughMonitor`; one SSH connection for all of them.
#[test]
fn watches_this_machine_through_real_sshd() {
    let (dir, _) = test_user("sshd");
    let sshd = sshd(&dir, free_port(), "host_key");
    let agent = start(&[]);
    let url = format!("ws://{}/monitor", agent.addr);
    let host = json!({"host": "127.0.0.1", "port": sshd.port, "user": USER, "passwd": PASSWORD});
    let frames = client(
        &url,
        7.0,
        &[json!({"id": "c1", "method": "ssh.startMonitor", "params": [host]})],
    );
    let reply = frames.iter().find(|f| f["id"] == "c1").expect("reply");
    assert_eq!(
        reply["result"],
        json!([{"port": sshd.port, "host": "127.0.0.1", "user": USER, "monitor": true, "error": null}]),
        "{reply}"
    );
    assert_eq!(reply["error"], Value::Null);
    for name in [
        "cpuInfo",
        "cpuPerformance",
        "memoryPerformance",
        "uptime",
        "loadavg",
        "netDev",
        "netStat",
        "disk",
        "process",
    ] {
        let seen = events(&frames, name);
        assert!(
            !seen.is_empty(),
            "no {name} event in {} frames",
            frames.len()
        );
        assert_eq!(seen[0]["host"], "127.0.0.1");
        assert_eq!(seen[0]["user"], USER);
        assert_eq!(seen[0]["port"], sshd.port);
    }
    assert!(
        events(&frames, "rough").is_empty(),
        "rough goes to rough subscribers only"
    );
    let has_thermal = Path::new("/sys/class/thermal/thermal_zone0/temp").exists();
    assert_eq!(!events(&frames, "temp").is_empty(), has_thermal);

    // Values, against this machine's own /proc.
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap();
    let processors = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let info = &events(&frames, "cpuInfo")[0]["cpuInfo"];
    let counted: usize = info
        .as_object()
        .unwrap()
        .values()
        .flat_map(|s| s["cpuCoreInfo"].as_object().unwrap().values())
        .map(|c| c["cpuProcessorInfo"].as_object().unwrap().len())
        .sum();
    assert_eq!(counted, processors);
    let mem = &events(&frames, "memoryPerformance")[0]["memory"];
    let (total, unit) = human(meminfo_bytes("MemTotal") as f64);
    assert_eq!(
        (
            mem["totalMem"].as_f64().unwrap(),
            mem["totalMemUnit"].as_str().unwrap()
        ),
        (total, unit)
    );
    let up = &events(&frames, "uptime")[0]["uptime"];
    let secs = up["upDay"].as_u64().unwrap() * 86_400
        + up["UpHour"].as_u64().unwrap() * 3_600
        + up["upMin"].as_u64().unwrap() * 60
        + up["upSec"].as_u64().unwrap();
    let local: f64 = std::fs::read_to_string("/proc/uptime")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (local - secs as f64).abs() < 30.0,
        "uptime {secs} vs {local}"
    );
    let tcp = &events(&frames, "netStat")[0]["netTCP"];
    assert!(
        tcp["currConn"].as_u64().unwrap() >= 1,
        "the SSH connection itself"
    );
    let perf = events(&frames, "cpuPerformance");
    assert_eq!(
        perf[0]["cpuPerformance"].as_object().unwrap().len(),
        processors
    );
    let u = perf[0]["total"]["utilization"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&u));
    let processes = events(&frames, "process");
    let list = processes[0]["process"].as_array().unwrap();
    assert!(list.len() <= 50 && !list.is_empty());
    assert!(
        list.iter().all(|p| p["PID"].as_i64().unwrap() > 0),
        "no zero padding"
    );
    assert!(
        list.iter().any(|p| p["name"] == "(sshd)"),
        "sshd serves us: {list:?}"
    );
    let load = &events(&frames, "loadavg")[0]["loadavg"];
    assert!(load["active"].as_u64().unwrap() > 0);
    let net = &events(&frames, "netDev")[0];
    assert!(net["netDev"].get("lo").is_some() && net["netDev"]["lo"]["virtual"] == true);
    assert!(
        net["netDev"]["lo"]["ip"]
            .as_array()
            .unwrap()
            .contains(&json!("127.0.0.1")),
        "{}",
        net["netDev"]["lo"]
    );

    // The README's spelling, and rough, on two more clients at once: still one
    // connection to the host.
    let snake = json!({"id": "s1", "method": "ssh.start_monitor", "params": [host]});
    let rough = json!({"id": "r1", "method": "ssh.startRoughMonitor", "params": [host]});
    let url2 = url.clone();
    let rough_client = std::thread::spawn(move || client(&url2, 5.0, &[rough]));
    let snake_frames = client(&url, 5.0, &[snake]);
    let rough_frames = rough_client.join().unwrap();
    let reply = snake_frames.iter().find(|f| f["id"] == "s1").unwrap();
    assert_eq!(reply["error"], Value::Null, "{reply}");
    assert_eq!(reply["result"], Value::Null, "the README's response shape");
    let info = events(&snake_frames, "cpu_info");
    assert!(!info.is_empty(), "README event name");
    assert_eq!(
        info[0]["ssh_key"],
        format!("{USER}@127.0.0.1:{}", sshd.port)
    );
    assert!(
        info[0]["cpu_info"]["0"].get("cpu_core_info").is_some(),
        "{}",
        info[0]
    );
    assert!(info[0].get("host").is_none());
    let r = events(&rough_frames, "rough");
    assert!(!r.is_empty());
    assert!(
        r[0]["CPU"].get("utilization").is_some() && r[0]["Memory"].get("usedMemOccupy").is_some(),
        "{}",
        r[0]
    );
    assert!(events(&rough_frames, "cpuInfo").is_empty());
    let page = ureq::get(&format!("{}/metrics", agent.base()))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(
        page.contains("ferrostat_ssh_watched_hosts 1")
            || page.contains("ferrostat_ssh_watched_hosts 0"),
        "one shared connection at most: {}",
        page.lines()
            .find(|l| l.starts_with("ferrostat_ssh_watched_hosts"))
            .unwrap_or("")
    );
    drop(sshd);
    let _ = std::fs::remove_dir_all(dir);
}

/// Two clients at once: the first sends a frame over the endpoint's 64 KiB limit and
/// prints the close code it gets; the second then sends an unknown method and prints the
/// reply.
const OVERSIZE_CLIENT: &str = r#"
import asyncio, json, sys
import websockets

async def main(url):
    async with websockets.connect(url) as big, websockets.connect(url) as other:
        await big.send("x" * 100_000)
        try:
            await asyncio.wait_for(big.recv(), timeout=10)
            print(json.dumps({"closed": "no"}), flush=True)
        except websockets.ConnectionClosed as e:
            print(json.dumps({"closed": e.rcvd.code if e.rcvd else None}), flush=True)
        await other.send(json.dumps({"id": "after", "method": "no.such"}))
        print(await asyncio.wait_for(other.recv(), timeout=10), flush=True)

asyncio.run(main(sys.argv[1]))
"#;

#[test]
fn an_oversize_frame_closes_that_session_only() {
    let agent = start(&[]);
    let lines = python_client(OVERSIZE_CLIENT, &[format!("ws://{}/monitor", agent.addr)]);
    // 1009: message too big (RFC 6455), said before the agent closes.
    assert_eq!(lines[0]["closed"], 1009, "{lines:?}");
    assert_eq!(lines[1]["id"], "after");
    assert_eq!(lines[1]["error"]["code"], 404, "{}", lines[1]);
}

/// A key instead of a password; a wrong password, a closed port and a changed host key
/// each give their own error, and the other hosts of the request still connect.
#[test]
fn keys_and_faults() {
    let (dir, private_key) = test_user("sshd-faults");
    let port = free_port();
    let sshd_a = sshd(&dir, port, "host_key_a");
    let agent = start(&[]);
    let url = format!("ws://{}/monitor", agent.addr);
    let closed = free_port();
    // A host that accepts the connection and then never says a word.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    // The silent host takes the connect timeout (5 s) to give up.
    let frames = client(
        &url,
        8.0,
        &[json!({"id": "k", "method": "ssh.startMonitor", "params": [
            {"host": "127.0.0.1", "port": port, "user": USER, "privateKey": private_key},
            {"host": "127.0.0.1", "port": port, "user": USER, "passwd": "wrong"},
            {"host": "127.0.0.1", "port": closed, "user": USER, "passwd": PASSWORD},
            {"host": "127.0.0.1", "port": silent_port, "user": USER, "passwd": PASSWORD},
        ]})],
    );
    let reply = frames.iter().find(|f| f["id"] == "k").unwrap();
    let r = reply["result"].as_array().unwrap();
    assert_eq!(r[0]["monitor"], true, "{reply}");
    assert_eq!(r[1]["monitor"], false);
    assert!(
        r[1]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("authentication failed"),
        "{reply}"
    );
    assert_eq!(r[2]["monitor"], false);
    assert!(
        r[2]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("connect failed"),
        "{reply}"
    );
    // The README's spelling says what failed in its error string.
    let frames = client(
        &url,
        1.5,
        &[
            json!({"id": "rw", "method": "ssh.start_monitor", "params": [
                {"host": "127.0.0.1", "port": port, "user": USER, "passwd": "wrong"},
            ]}),
        ],
    );
    let reply = frames.iter().find(|f| f["id"] == "rw").unwrap();
    assert_eq!(reply["result"], Value::Null);
    let said = reply["error"].as_str().unwrap();
    assert!(
        said.contains(&format!("{USER}@127.0.0.1:{port}"))
            && said.contains("authentication failed"),
        "{said}"
    );
    // Malformed requests and unknown methods get answers.
    let frames = client(
        &url,
        0.5,
        &[
            json!({"id": "m", "method": "ssh.fly", "params": []}),
            json!({"id": "v", "method": "ssh.startMonitor", "params": [{"host": "h"}]}),
        ],
    );
    let unknown = frames.iter().find(|f| f["id"] == "m").unwrap();
    assert!(unknown["error"]["message"]
        .as_str()
        .unwrap()
        .contains("method not found"));
    let invalid = frames.iter().find(|f| f["id"] == "v").unwrap();
    assert_eq!(invalid["error"]["code"], 400);
    // The same port, another host key: refused, and said so.
    drop(sshd_a);
    let _sshd_b = sshd(&dir, port, "host_key_b");
    let frames = client(
        &url,
        1.0,
        &[json!({"id": "c", "method": "ssh.startMonitor", "params": [
            {"host": "127.0.0.1", "port": port, "user": USER, "passwd": PASSWORD},
        ]})],
    );
    let reply = frames.iter().find(|f| f["id"] == "c").unwrap();
    assert_eq!(reply["result"][0]["monitor"], false);
    assert!(
        reply["result"][0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("host key changed"),
        "{reply}"
    );
    // The password never reaches the log.
    assert!(!agent.stderr().contains(PASSWORD));
    let _ = std::fs::remove_dir_all(dir);
}

/// The host's sshd dies mid-stream and comes back: the client sees an error event,
/// then data again, on the same subscription.
#[test]
fn sshd_restart_mid_stream() {
    let (dir, _) = test_user("sshd-restart");
    let port = free_port();
    let first = sshd(&dir, port, "host_key");
    let agent = start(&[]);
    let url = format!("ws://{}/monitor", agent.addr);
    let host = json!({"host": "127.0.0.1", "port": port, "user": USER, "passwd": PASSWORD});
    let watching = std::thread::spawn(move || {
        client(
            &url,
            16.0,
            &[json!({"id": "w", "method": "ssh.startMonitor", "params": [host]})],
        )
    });
    std::thread::sleep(Duration::from_secs(4));
    // The listener and every session process under it: the host is gone.
    kill_sessions(&first);
    drop(first);
    std::thread::sleep(Duration::from_secs(2));
    let _second = sshd(&dir, port, "host_key");
    let frames = watching.join().unwrap();
    let position = |pred: &dyn Fn(&Value) -> bool| frames.iter().position(pred);
    let error_at = position(&|f| f["params"][0]["event"] == "error").expect("an error event");
    let error = &frames[error_at]["params"][0]["message"];
    assert_eq!(error["host"], "127.0.0.1");
    assert!(!error["error"].as_str().unwrap().is_empty());
    let before = frames[..error_at]
        .iter()
        .filter(|f| f["params"][0]["event"] == "cpuPerformance")
        .count();
    let after = frames[error_at..]
        .iter()
        .filter(|f| f["params"][0]["event"] == "memoryPerformance")
        .count();
    assert!(before >= 1, "data before the restart");
    assert!(
        after >= 1,
        "data again after the restart: {} frames",
        frames.len()
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// Kills every session process under an sshd (the listener itself goes when dropped).
fn kill_sessions(sshd: &Sshd) {
    for pid in descendants(sshd.child.id()) {
        // One may have exited since the listing: nothing to say about it.
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// Every process under `root`, from /proc.
fn descendants(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let ppid = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let p = found[i];
        found.extend(parents.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    found.remove(0);
    found
}

/// Twenty hosts in one request, one of them dead: nineteen are watched and stream, the
/// dead one says why; when the client leaves, every connection is let go a few seconds
/// later.
#[test]
fn twenty_targets_one_dead_then_all_let_go() {
    let (dir, _) = test_user("sshd-twenty");
    let ports: Vec<u16> = (0..19).map(|_| free_port()).collect();
    // sshd listens on at most 16 sockets: two of them.
    let _a = sshd_on(&dir, &ports[..10], "host_key");
    let _b = sshd_on(&dir, &ports[10..], "host_key");
    let dead = free_port();
    let agent = start(&[]);
    let url = format!("ws://{}/monitor", agent.addr);
    let params: Vec<Value> = ports
        .iter()
        .chain([&dead])
        .map(|p| json!({"host": "127.0.0.1", "port": p, "user": USER, "passwd": PASSWORD}))
        .collect();
    // Long enough for 19 first polls on a 2-CPU machine running other tests.
    let frames = client(
        &url,
        15.0,
        &[json!({"id": "t", "method": "ssh.startMonitor", "params": params})],
    );
    let reply = frames.iter().find(|f| f["id"] == "t").unwrap();
    let results = reply["result"].as_array().unwrap();
    assert_eq!(results.len(), 20);
    for (r, p) in results.iter().zip(ports.iter().chain([&dead])) {
        assert_eq!(r["port"], *p);
        assert_eq!(r["monitor"], *p != dead, "{r}");
    }
    let streaming: std::collections::HashSet<u64> = events(&frames, "memoryPerformance")
        .iter()
        .map(|m| m["port"].as_u64().unwrap())
        .collect();
    assert_eq!(streaming.len(), 19, "every live host streams");
    // The client has gone: connections close after the linger.
    let metric = || {
        let page = ureq::get(&format!("{}/metrics", agent.base()))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        page.lines()
            .find_map(|l| l.strip_prefix("ferrostat_ssh_watched_hosts "))
            .unwrap()
            .parse::<f64>()
            .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while metric() != 0.0 {
        assert!(
            Instant::now() < deadline,
            "still watching {} hosts",
            metric()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// A query value: `user@host:port` percent-encoded.
fn encoded(name: &str) -> String {
    name.replace('@', "%40").replace(':', "%3A")
}

fn get(url: &str) -> Result<String, String> {
    match ureq::get(url).call() {
        Ok(mut r) => Ok(r.body_mut().read_to_string().unwrap()),
        Err(e) => Err(e.to_string()),
    }
}

/// The value of the first sample line of `page` that starts with `series` (a name and
/// maybe a label set).
fn sample(page: &str, series: &str) -> f64 {
    page.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .unwrap_or_else(|| panic!("no {series} in the page"))
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// A host named by `--ssh-watch` (logging in with the agent's own key) is watched from
/// startup with no `/monitor` client, and joins every other endpoint: `/metrics`
/// (`ferrostat_ssh_*` with a `host` label; `?host=` under node_exporter's names),
/// `/ws/stats` as a backend, socktop's `/ws?host=` through socktop's own client library,
/// psiod's `/?host=`. Values are this machine's, read locally.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watched_hosts_join_every_endpoint() {
    let (dir, _) = test_user("sshwatch");
    let sshd = sshd(&dir, free_port(), "host_key");
    let name = format!("{USER}@127.0.0.1:{}", sshd.port);
    let key = dir.join("user_key");
    let agent = start(&["--ssh-key", key.to_str().unwrap(), "--ssh-watch", &name]);
    let host_page = format!("{}/metrics?host={}", agent.base(), encoded(&name));
    let deadline = Instant::now() + Duration::from_secs(20);
    let page = loop {
        match get(&host_page) {
            Ok(page) => break page,
            Err(e) => {
                assert!(
                    Instant::now() < deadline,
                    "never polled: {e}\n{}",
                    agent.stderr()
                );
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    };
    let mem_total = meminfo_bytes("MemTotal");
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) } as usize;
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let hostname = hostname.trim();

    // Prometheus: the host's own page, and the agent's page with every watched host.
    assert_eq!(
        sample(&page, "node_memory_MemTotal_bytes"),
        mem_total as f64
    );
    assert!(page.contains("node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"}"));
    assert!(page.contains("node_network_receive_bytes_total{device=\"lo\"}"));
    common::promtool_accepts(&page);
    let main = get(&format!("{}/metrics", agent.base())).unwrap();
    let label = format!("{{host=\"{name}\"}}");
    assert_eq!(sample(&main, &format!("ferrostat_ssh_up{label}")), 1.0);
    assert_eq!(
        sample(
            &main,
            &format!("ferrostat_ssh_memory_MemTotal_bytes{label}")
        ),
        mem_total as f64
    );
    assert!(main.contains(&format!(
        "ferrostat_ssh_cpu_seconds_total{{host=\"{name}\",cpu=\"0\",mode=\"idle\"}}"
    )));
    common::promtool_accepts(&main);
    assert!(get(&format!(
        "{}/metrics?host=nobody%40nowhere%3A22",
        agent.base()
    ))
    .unwrap_err()
    .contains("404"));

    // Two polls, so rates have a previous reading.
    std::thread::sleep(Duration::from_millis(2500));

    // The stats stream: a backend named after the target, beside this host.
    let frames = client(
        &format!("ws://{}/ws/stats?format=current", agent.addr),
        3.0,
        &[json!({"Subs": ["sysDesc", "ping", "sysStats"]})],
    );
    let of = |kind: &str| {
        frames
            .iter()
            .find(|f| f["type"] == kind)
            .unwrap_or_else(|| panic!("no {kind} in {frames:?}"))["data"]
            .clone()
    };
    let desc = &of("sysDesc")[&name];
    assert_eq!(desc["CPUCount"], online, "{desc}");
    assert_eq!(desc["TotalMemoryMB"], mem_total >> 20);
    assert_eq!(of("ping")["States"][&name], "OK");
    let stats = &of("sysStats")["Stats"][&name];
    assert_eq!(stats["Error"], "", "{stats}");
    assert_eq!(stats["Stats"]["TotalMemory"], mem_total);
    assert_eq!(stats["Stats"]["CPUCount"], online);
    let cpu = stats["Stats"]["CPUUsage"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&cpu));
    assert!(
        of("sysStats")["Stats"].get(hostname).is_some(),
        "this host too"
    );

    // socktop's own client, on the watched host.
    let url = format!("ws://{}/ws?host={}", agent.addr, encoded(&name));
    let mut c = socktop_connector::connect_to_socktop_agent(url)
        .await
        .unwrap();
    use socktop_connector::{AgentRequest, AgentResponse};
    let AgentResponse::Metrics(m) = c.request(AgentRequest::Metrics).await.unwrap() else {
        panic!()
    };
    assert_eq!(m.mem_total, mem_total);
    assert_eq!(m.hostname, hostname);
    assert_eq!(m.cpu_per_core.len(), online);
    let AgentResponse::Disks(disks) = c.request(AgentRequest::Disks).await.unwrap() else {
        panic!()
    };
    let st = rustix::fs::statvfs("/").unwrap();
    assert!(
        disks.iter().any(|d| d.total == st.f_blocks * st.f_frsize),
        "the root filesystem, by statvfs over SFTP: {disks:?}"
    );
    let AgentResponse::Processes(p) = c.request(AgentRequest::Processes).await.unwrap() else {
        panic!()
    };
    assert!(
        p.top_processes.iter().any(|r| r.pid == sshd.child.id()),
        "the sshd serving us is listed"
    );

    // psiod, on the watched host.
    let psiod = |name: &str| json!({"type": "command", "data": {"name": name}});
    let frames = client(
        &format!("ws://{}/?host={}", agent.addr, encoded(&name)),
        2.0,
        &[
            psiod("host.getstats"),
            psiod("memory.getall"),
            psiod("disk.root.getstats"),
            psiod("process.getall"),
            json!({"type": "command", "data": {"name": "process.kill", "pid": 1}}),
        ],
    );
    assert_eq!(frames.len(), 5, "{frames:?}");
    assert_eq!(frames[0]["data"]["hostname"], hostname);
    assert_eq!(frames[1]["data"]["virtual"]["total"], mem_total);
    assert_eq!(frames[2]["data"]["total"], st.f_blocks * st.f_frsize);
    let sshd_row = frames[3]["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == sshd.child.id())
        .expect("sshd listed")
        .clone();
    assert_eq!(sshd_row["username"], "root", "{sshd_row}");
    assert_eq!(frames[4]["type"], "error");
    assert!(frames[4]["data"]["message"]
        .as_str()
        .unwrap()
        .contains("not available for a host watched over SSH"));

    // The host dies (the listener and its session processes): it stays listed, now
    // down, with why.
    kill_sessions(&sshd);
    drop(sshd);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let main = get(&format!("{}/metrics", agent.base())).unwrap();
        if main.contains(&format!("ferrostat_ssh_up{label} 0")) {
            break;
        }
        assert!(Instant::now() < deadline, "still up after sshd died");
        std::thread::sleep(Duration::from_millis(300));
    }
    let frames = client(
        &format!("ws://{}/ws/stats", agent.addr),
        1.5,
        &[json!({"Subs": ["ping"]})],
    );
    let ping = frames.iter().find(|f| f["type"] == "ping").unwrap();
    let state = ping["data"]["States"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Addr"] == name.as_str())
        .unwrap()
        .clone();
    assert_eq!(state["State"], "Disconnected");
    let _ = std::fs::remove_dir_all(dir);
}
