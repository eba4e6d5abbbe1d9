//! The bodies of the agent's fuzz targets (`fuzz/fuzz_targets/agent_*.rs`): what the
//! agent reads from the network, from the first byte a client controls. Each takes any
//! bytes and must return without a panic, a hang or unbounded memory. The stable test
//! `tests/fuzz_corpus.rs` replays the committed corpus through the same functions.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::collect::shared::ProcCache;
use crate::endpoint::{argusyes, gateway, psiod, sflow_api, socktop, stats_stream};
use crate::state::history::{History, Retention};

/// A psiod text frame, answered from a host with nothing read yet (every command's
/// parsing and error paths, and no process is ever signalled).
pub fn psiod_request(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let proc = Arc::new(ProcCache::mirror());
    let mut conn = psiod::Connection::new(proc, Duration::from_secs(1), true);
    let _ = conn.request(text);
}

/// A socktop text frame as the session reads it.
pub fn socktop_request(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = socktop::Request::parse(text);
    }
}

/// The stats stream's first message.
pub fn stats_subscription(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = stats_stream::subscriptions(text);
    }
}

/// An Argusyes `/monitor` request, as a client watching a few hosts sends it.
pub fn monitor_request(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = argusyes::parse_request(text, 3, Some(std::path::Path::new("/nonexistent")));
    }
}

/// A JSON-RPC body for `POST /api`, against an empty history.
pub fn jsonrpc_body(data: &[u8]) {
    static HISTORY: OnceLock<Option<History>> = OnceLock::new();
    let history = HISTORY.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("ferrostat-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        let (history, queue, writer) =
            crate::state::history::open(&dir, Retention::default(), 16).ok()?;
        // Nothing is ever queued: the writer may stop.
        drop(queue);
        let _ = writer.join();
        Some(history)
    });
    if let Some(history) = history {
        let _ = sflow_api::respond(history, data, 1_700_000_000_000);
    }
}

/// Bytes from a gateway connection: frames cut at each 0x00 and decoded, each host
/// sample mapped as the uplink maps it.
pub fn gateway_stream(data: &[u8]) {
    let mut reader = gateway::FrameReader::default();
    reader.feed(data, |frame| {
        if let Ok(ferrostat_core::gateway::Message::Counters(c)) = frame {
            let _ = gateway::ingest(&c, std::net::IpAddr::from([127, 0, 0, 1]));
        }
        true
    });
}

/// The TOML configuration file's text.
pub fn config_file(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::config::ServeConfig::from_file_text(text);
    }
}

/// A request's `Host` and `Origin` headers (one per line).
pub fn host_and_origin(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (host, origin) = text.split_once('\n').unwrap_or((text, ""));
    let policy = crate::request_guard::HostPolicy::new("web1", &["*.lan".to_owned()], None);
    let mut headers = axum::http::HeaderMap::new();
    if let Ok(h) = host.parse() {
        headers.insert(axum::http::header::HOST, h);
    }
    if let Ok(o) = origin.parse() {
        headers.insert(axum::http::header::ORIGIN, o);
    }
    let _ = crate::request_guard::refusal(&policy, &headers);
}

/// A fuzz target body.
pub type Target = fn(&[u8]);

/// Every agent target by its cargo-fuzz name (`fuzz/fuzz_targets/<name>.rs`, its corpus
/// in `fuzz/corpus/<name>/`).
pub const TARGETS: &[(&str, Target)] = &[
    ("agent_psiod", psiod_request),
    ("agent_socktop", socktop_request),
    ("agent_stats_subs", stats_subscription),
    ("agent_monitor", monitor_request),
    ("agent_jsonrpc", jsonrpc_body),
    ("agent_gateway_stream", gateway_stream),
    ("agent_config", config_file),
    ("agent_host_origin", host_and_origin),
];
