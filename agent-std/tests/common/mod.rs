//! Shared by the agent's endpoint tests: a real `ferrostat-agent serve` process on a
//! loopback port the kernel picks, and /proc values read independently.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A running agent, killed when dropped.
pub struct Agent {
    child: Child,
    /// `127.0.0.1:PORT` it listens on.
    pub addr: String,
}

impl Agent {
    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `serve --listen 127.0.0.1:0` with `extra` flags and reads the address it
/// announces on stdout.
pub fn start(extra: &[&str]) -> Agent {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferrostat-agent"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .env_remove("FERROSTAT_TOKEN")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line.trim().rsplit("http://").next().unwrap().to_owned();
    assert!(addr.starts_with("127.0.0.1:"), "{line}");
    Agent { child, addr }
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
