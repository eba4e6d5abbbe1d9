//! Shared by the agent's endpoint tests: a real `ferrostat-agent serve` process on a
//! loopback port the kernel picks, and /proc values read independently.
#![allow(dead_code)]

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
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
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
// A panic here fails the test, whose process exit reaps the child.
#[allow(clippy::zombie_processes)]
pub fn start_with(extra: &[&str], env: &[(&str, &str)]) -> Agent {
    let data_dir = temp_dir("agent");
    let mut command = Command::new(env!("CARGO_BIN_EXE_ferrostat-agent"));
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
    let mut child = command
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut banner = Vec::new();
    loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "agent exited: {banner:?}"
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
            };
        }
        banner.push(line.trim().to_owned());
    }
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
