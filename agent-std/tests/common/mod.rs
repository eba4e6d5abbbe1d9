//! Shared by the agent's endpoint tests: a real `ferrostat-agent serve` process on a
//! loopback port the kernel picks, and /proc values read independently.
#![allow(dead_code)]

pub mod sflow;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// A running agent, killed when dropped.
pub struct Agent {
    child: Child,
    /// `127.0.0.1:PORT` it listens on.
    pub addr: String,
    /// `http` or `https`.
    pub scheme: String,
    /// What it printed before its listening line (the TLS fingerprint line).
    pub banner: Vec<String>,
    /// Its private data directory, removed when dropped.
    pub data_dir: PathBuf,
    /// Where its standard error goes.
    pub stderr_path: PathBuf,
    /// A query string the tests' helpers add to URLs (`?token=...`).
    pub query: String,
}

impl Agent {
    /// `http://127.0.0.1:PORT` (or https).
    pub fn base(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The agent process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it wrote to standard error so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// SIGKILL, and wait for it to be gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, as a service manager stops it: its exit status once it has exited.
    /// Panics if it is still running 30 s later (it is then killed on drop).
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let asked = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                asked.elapsed() < std::time::Duration::from_secs(30),
                "still running 30 s after SIGTERM"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// The sFlow collector's UDP address, from its banner line.
    pub fn sflow_addr(&self) -> std::net::SocketAddr {
        self.banner
            .iter()
            .find_map(|l| l.split_once("sflow collector on udp://"))
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .expect("no sflow banner line")
            .parse()
            .unwrap()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
        let _ = std::fs::remove_file(&self.stderr_path);
    }
}

/// A fresh directory under the temp dir, unique to this test process and call.
pub fn temp_dir(tag: &str) -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ferrostat-{tag}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Starts `serve --listen 127.0.0.1:0` with `extra` flags and reads the address it
/// announces on stdout.
pub fn start(extra: &[&str]) -> Agent {
    start_with(extra, &[])
}

/// [`start`] with environment variables set (and every FERROSTAT_* / SOCKTOP_* variable
/// of the test's own environment removed), in a private data directory unless `extra`
/// names one.
pub fn start_with(extra: &[&str], env: &[(&str, &str)]) -> Agent {
    start_under(&[], extra, env)
}

/// [`start_with`] with the agent run by `wrapper` (a command and its arguments, to which
/// the agent's path and arguments are appended), e.g. a shell that sets limits first.
// A panic here fails the test, whose process exit reaps the child.
#[allow(clippy::zombie_processes)]
pub fn start_under(wrapper: &[&str], extra: &[&str], env: &[(&str, &str)]) -> Agent {
    let data_dir = temp_dir("agent");
    let agent = env!("CARGO_BIN_EXE_ferrostat-agent");
    let mut command = match wrapper {
        [] => Command::new(agent),
        [program, args @ ..] => {
            let mut c = Command::new(program);
            c.args(args).arg(agent);
            c
        }
    };
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra);
    if !extra.contains(&"--data-dir") {
        command.arg("--data-dir").arg(&data_dir);
    }
    for (k, _) in std::env::vars() {
        if k.starts_with("FERROSTAT_") || k.starts_with("SOCKTOP_") {
            command.env_remove(k);
        }
    }
    let stderr_path = temp_dir("stderr");
    let stderr = std::fs::File::create(&stderr_path).unwrap();
    let mut child = command
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut banner = Vec::new();
    loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "agent exited: {banner:?} {}",
            std::fs::read_to_string(&stderr_path).unwrap_or_default()
        );
        if let Some((_, rest)) = line.trim().split_once("listening on ") {
            let (scheme, addr) = rest.split_once("://").unwrap();
            assert!(addr.starts_with("127.0.0.1:"), "{line}");
            // Keep draining stdout so the agent never blocks on a full pipe.
            std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
            return Agent {
                child,
                addr: addr.to_owned(),
                scheme: scheme.to_owned(),
                banner,
                data_dir,
                stderr_path,
                query: String::new(),
            };
        }
        banner.push(line.trim().to_owned());
    }
}

/// Runs one of the tests' Python clients (`python3 -c script args...`, most of them
/// speaking WebSocket through the `websockets` package that scripts/test.sh installs),
/// fails the test with the client's stderr if it fails, and returns what it printed.
pub fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .args(["-c", script])
        .args(args)
        .output()
        .expect("python3 with `websockets` (scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "the Python client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("the client prints UTF-8")
}

/// A client's output read as one JSON value a line.
pub fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// A /proc/meminfo field in bytes.
pub fn meminfo_bytes(key: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{key}:")))
        .unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        * 1024
}

/// The UDP payloads of a classic pcap capture of Ethernet (or Linux cooked) frames with
/// IPv4 and UDP, in order: the sFlow corpus captures.
pub fn pcap_udp_payloads(path: &str) -> Vec<Vec<u8>> {
    let b = std::fs::read(path).unwrap();
    let le = match &b[..4] {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        m => panic!("{path}: not a classic pcap ({m:?})"),
    };
    let u32_at = |at: usize| {
        let x: [u8; 4] = b[at..at + 4].try_into().unwrap();
        if le {
            u32::from_le_bytes(x)
        } else {
            u32::from_be_bytes(x)
        }
    };
    let link = u32_at(20);
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= b.len() {
        let len = u32_at(at + 8) as usize;
        let frame = &b[at + 16..at + 16 + len];
        at += 16 + len;
        let mut ip = match link {
            1 => 14,   // Ethernet
            113 => 16, // Linux cooked
            101 => 0,  // raw IP
            l => panic!("{path}: link type {l}"),
        };
        if link == 1 && frame[12..14] == [0x81, 0x00] {
            ip += 4;
        }
        if frame[ip] >> 4 != 4 || frame[ip + 9] != 17 {
            continue;
        }
        let udp = ip + usize::from(frame[ip] & 0x0f) * 4;
        let udp_len = usize::from(u16::from_be_bytes([frame[udp + 4], frame[udp + 5]]));
        out.push(frame[udp + 8..udp + udp_len].to_vec());
    }
    out
}

/// `promtool check metrics` on a page: its exit code and its findings, one per line.
pub fn promtool(page: &str) -> (i32, Vec<String>) {
    use std::io::Write;
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool (Debian package `prometheus`; scripts/test.sh installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code().unwrap_or(-1),
        text.lines()
            .map(str::to_owned)
            .filter(|l| !l.is_empty())
            .collect(),
    )
}

/// promtool parses the page, and its only remarks are those node_exporter's own page gets
/// for the same names (checked against it in tests/serve.rs): the camelCase of the
/// node_memory_ and node_netstat_ names (and the same names for hosts watched over
/// SSH), and the entropy counted in bits.
pub fn promtool_accepts(page: &str) {
    let (code, findings) = promtool(page);
    assert!(
        code == 0 || code == 3,
        "promtool could not parse the page: {findings:?}"
    );
    for f in &findings {
        let camel_memory = [
            "node_memory_",
            "node_netstat_",
            "ferrostat_ssh_memory_",
            "ferrostat_ssh_netstat_",
        ]
        .iter()
        .any(|p| f.starts_with(p))
            && f.ends_with("should be written in 'snake_case' not 'camelCase'");
        let entropy_bits = (f.starts_with("node_entropy_")
            || f.starts_with("ferrostat_ssh_entropy_"))
            && f.ends_with("use base unit \"bytes\" instead of \"bits\"");
        assert!(camel_memory || entropy_bits, "{f}");
    }
}

/// One NVIDIA GPU as `nvidia-smi` (NVIDIA's own NVML client) lists it.
#[derive(Debug)]
pub struct SmiGpu {
    pub index: u32,
    pub name: String,
    pub memory_total_mib: u64,
    pub memory_used_mib: u64,
}

/// The GPUs `nvidia-smi` lists; empty where there is no driver.
pub fn nvidia_smi() -> Vec<SmiGpu> {
    let Ok(out) = Command::new("nvidia-smi")
        .args([
            "--query-gpu=index,name,memory.total,memory.used",
            "--format=csv,noheader,nounits",
        ])
        .output()
    else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            Some(SmiGpu {
                index: f.first()?.parse().ok()?,
                name: f.get(1)?.to_string(),
                memory_total_mib: f.get(2)?.parse().ok()?,
                memory_used_mib: f.get(3)?.parse().ok()?,
            })
        })
        .collect()
}
