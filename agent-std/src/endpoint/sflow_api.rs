//! `POST /api`: sflow-monitor's JSON-RPC 2.0 API over the sFlow history (PROTOCOLS.md
//! §3). The eleven methods with their names, fields, units and 10-minute window; beyond
//! them a `from`/`to`/`step` range, `rates`, positional params and batches.
//!
//! Errors follow JSON-RPC 2.0: -32700 for a body that is not JSON, -32600 for a request
//! that is not a request object (id null), -32601 for an unknown method, -32602 for a
//! parameter missing or of the wrong type (the message names it), -32603 when the store
//! fails. A request without an id is a notification and gets no reply.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ferrostat_core::metrics::rates::{rate_per_sec, CounterWidth};
use serde_json::{Map, Value};

use crate::clock::now_ms;
use crate::sflow::columns::{Column, Kind, Method, Value as ColumnValue, HOST, VM};
use crate::state::history::{History, Row};

/// The content type sflow-monitor answers with.
pub const CONTENT_TYPE: &str = "application/json-rpc";
/// The window every sample method looks back over from `timestamp`.
const WINDOW_MS: i64 = 600_000;
/// Most samples one call reads; a longer range must be narrowed or stepped.
const MAX_ROWS: usize = 200_000;

/// A JSON-RPC error: code and message.
type RpcError = (i64, String);

fn invalid_params(message: impl Into<String>) -> RpcError {
    (-32602, message.into())
}

/// The largest body.
pub const BODY_LIMIT: usize = 1 << 20;
/// Calls one batch may hold: every call can read many samples, so the batch, not the
/// body's size, bounds the work one request asks for.
pub const MAX_BATCH: usize = 100;
/// The largest reply, over all calls of a batch; no reply past it is built.
pub const MAX_REPLY: usize = 16 << 20;
/// The error a call gets once the reply would pass [`MAX_REPLY`] (JSON-RPC 2.0 leaves
/// -32000 to -32099 to the server).
const REPLY_TOO_LARGE: i64 = -32000;

fn reply_too_large() -> RpcError {
    (
        REPLY_TOO_LARGE,
        format!(
            "the reply would pass {} MiB: ask for fewer calls, a narrower `from`/`to` or a `step`",
            MAX_REPLY >> 20
        ),
    )
}

/// What the JSON-RPC API needs of the agent.
#[derive(Clone)]
pub struct Context {
    /// The sFlow history, when the collector is on.
    pub history: Option<Arc<History>>,
    /// How long a request body may take to arrive once its headers have.
    pub body_timeout: std::time::Duration,
}

/// Answers one request or a batch. 404 when the agent runs without `--sflow`, 413 for a
/// body over [`BODY_LIMIT`] (on its Content-Length, before reading it, when it has one),
/// 408 for a body that has not all arrived within `--header-timeout-ms` of the headers:
/// the listener's header deadline ends where the body begins, and a client trickling a
/// body would otherwise hold its connection place for as long as it likes.
pub async fn handle(State(state): State<Context>, headers: HeaderMap, body: Body) -> Response {
    let Some(history) = state.history.clone() else {
        return (
            StatusCode::NOT_FOUND,
            "the sFlow collector is off: start the agent with --sflow ADDR\n",
        )
            .into_response();
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = (StatusCode::PAYLOAD_TOO_LARGE, "request body over 1 MiB\n");
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        return too_large.into_response();
    }
    let body = match tokio::time::timeout(
        state.body_timeout,
        axum::body::to_bytes(body, BODY_LIMIT),
    )
    .await
    {
        Ok(Ok(body)) => body,
        Ok(Err(e))
            if std::error::Error::source(&e)
                .is_some_and(|e| e.is::<http_body_util::LengthLimitError>()) =>
        {
            return too_large.into_response()
        }
        // A chunked body that breaks its own framing, or a client gone mid-body.
        Ok(Err(_)) => {
            return (StatusCode::BAD_REQUEST, "request body broken off\n").into_response()
        }
        Err(_) => {
            let late = (
                StatusCode::REQUEST_TIMEOUT,
                [(header::CONNECTION, "close")],
                "request body not received within --header-timeout-ms\n",
            );
            return late.into_response();
        }
    };
    match tokio::task::spawn_blocking(move || respond(&history, &body, now_ms())).await {
        Ok(Some(text)) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        // Only notifications: nothing to say.
        Ok(None) => StatusCode::NO_CONTENT.into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The reply to a body, or `None` when it held only notifications.
pub fn respond(history: &History, body: &[u8], now: i64) -> Option<String> {
    let request: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => return Some(reply(&Value::Null, Err((-32700, "Parse error".into())))),
    };
    match request {
        Value::Array(items) if items.is_empty() => {
            Some(reply(&Value::Null, Err((-32600, "Invalid Request".into()))))
        }
        Value::Array(items) if items.len() > MAX_BATCH => Some(reply(
            &Value::Null,
            Err((
                -32600,
                format!(
                    "Invalid Request: a batch of {} calls; at most {MAX_BATCH}",
                    items.len()
                ),
            )),
        )),
        Value::Array(items) => {
            let mut budget = MAX_REPLY;
            let replies: Vec<String> = items
                .iter()
                .filter_map(|item| {
                    let r = call(history, item, now, budget)?;
                    budget = budget.saturating_sub(r.len());
                    Some(r)
                })
                .collect();
            (!replies.is_empty()).then(|| format!("[{}]", replies.join(",")))
        }
        single => call(history, &single, now, MAX_REPLY),
    }
}

/// A response object with a result (JSON text) or an error.
fn reply(id: &Value, result: Result<String, RpcError>) -> String {
    match result {
        Ok(r) => format!("{{\"jsonrpc\":\"2.0\",\"result\":{r},\"id\":{id}}}"),
        Err((code, message)) => format!(
            "{{\"jsonrpc\":\"2.0\",\"error\":{{\"code\":{code},\"message\":{}}},\"id\":{id}}}",
            Value::String(message)
        ),
    }
}

/// One call's response object, its result within `budget` bytes (else the error that
/// says so).
fn call(history: &History, request: &Value, now: i64, budget: usize) -> Option<String> {
    let invalid = || Some(reply(&Value::Null, Err((-32600, "Invalid Request".into()))));
    let Some(object) = request.as_object() else {
        return invalid();
    };
    let id = object.get("id");
    let id_ok = id.is_none_or(|i| matches!(i, Value::String(_) | Value::Number(_) | Value::Null));
    let params = object.get("params");
    let params_ok = params.is_none_or(|p| p.is_object() || p.is_array());
    let (Some("2.0"), Some(Value::String(method)), true, true) = (
        object.get("jsonrpc").and_then(Value::as_str),
        object.get("method"),
        id_ok,
        params_ok,
    ) else {
        return invalid();
    };
    let result = dispatch(history, method, params, now, budget).and_then(|r| {
        if r.len() > budget {
            Err(reply_too_large())
        } else {
            Ok(r)
        }
    });
    // No id: a notification, done and not answered.
    id.map(|id| reply(id, result))
}

fn dispatch(
    history: &History,
    method: &str,
    params: Option<&Value>,
    now: i64,
    budget: usize,
) -> Result<String, RpcError> {
    let internal = |e: rusqlite::Error| (-32603, format!("Internal error: {e}"));
    match method {
        "host.description" => {
            no_params(params)?;
            let rows = history.host_descriptions().map_err(internal)?;
            let rows: Vec<Value> = rows
                .into_iter()
                .map(|r| {
                    object([
                        ("host_ip", r.host_ip.into()),
                        ("hostname", r.hostname.into()),
                        ("machine_type", r.machine_type.into()),
                        ("os_name", r.os_name.into()),
                        ("os_release", r.os_release.into()),
                    ])
                })
                .collect();
            Ok(Value::Array(rows).to_string())
        }
        "virt.description" => {
            no_params(params)?;
            let rows = history.vm_descriptions().map_err(internal)?;
            let rows: Vec<Value> = rows
                .into_iter()
                .map(|(host_ip, hostname)| {
                    object([("host_ip", host_ip.into()), ("hostname", hostname.into())])
                })
                .collect();
            Ok(Value::Array(rows).to_string())
        }
        name => {
            let Some(&(method, _)) = Method::ALL.iter().find(|(_, n)| *n == name) else {
                return Err((-32601, "Method not found".into()));
            };
            let query = Query::parse(method, params, now)?;
            if method.is_virt() {
                let rows = history
                    .vm_rows(&query.key, method, query.from, query.to, MAX_ROWS + 1)
                    .map_err(internal)?;
                render_rows::<{ crate::sflow::columns::VM_COLUMNS }>(
                    rows, method, VM, &query, budget,
                )
            } else {
                let rows = history
                    .host_rows(&query.key, method, query.from, query.to, MAX_ROWS + 1)
                    .map_err(internal)?;
                render_rows::<{ crate::sflow::columns::HOST_COLUMNS }>(
                    rows, method, HOST, &query, budget,
                )
            }
        }
    }
}

/// A JSON object with its keys in the given order (serde_json's map sorts them).
fn object<const K: usize>(fields: [(&str, Value); K]) -> Value {
    Value::Object(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<Map<_, _>>(),
    )
}

fn no_params(params: Option<&Value>) -> Result<(), RpcError> {
    let empty = match params {
        None => true,
        Some(Value::Object(o)) => o.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    };
    if empty {
        Ok(())
    } else {
        Err(invalid_params("this method takes no parameters"))
    }
}

/// What a sample method was asked for.
#[derive(Debug, PartialEq)]
struct Query {
    /// `ip` (host.*) or `hostname` (virt.*).
    key: String,
    /// Samples with `from < timestamp <= to`.
    from: i64,
    to: i64,
    /// Keep the last sample of each `step` ms.
    step: Option<i64>,
    /// Add per-second rates of the counters.
    rates: bool,
}

impl Query {
    fn parse(method: Method, params: Option<&Value>, now: i64) -> Result<Self, RpcError> {
        let key_name = if method.is_virt() { "hostname" } else { "ip" };
        let mut named = Map::new();
        match params {
            None => {}
            Some(Value::Object(o)) => named = o.clone(),
            // Positional: the key, then the timestamp.
            Some(Value::Array(a)) => {
                if a.len() > 2 {
                    return Err(invalid_params(format!(
                        "positional params are [{key_name}, timestamp]; got {} values",
                        a.len()
                    )));
                }
                for (name, v) in [key_name, "timestamp"].into_iter().zip(a) {
                    named.insert(name.to_owned(), v.clone());
                }
            }
            Some(_) => return Err(invalid_params("params must be an object or an array")),
        }
        for k in named.keys() {
            if ![key_name, "timestamp", "from", "to", "step", "rates"].contains(&k.as_str()) {
                return Err(invalid_params(format!(
                    "unknown parameter `{k}` (this method takes {key_name}, timestamp, from, to, step, rates)"
                )));
            }
        }
        let key = match named.get(key_name) {
            None => {
                return Err(invalid_params(format!(
                    "missing required parameter `{key_name}`"
                )))
            }
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(invalid_params(format!("`{key_name}` must be a string"))),
        };
        let millis = |name: &str| -> Result<Option<i64>, RpcError> {
            match named.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) if n.as_i64().is_some() => Ok(n.as_i64()),
                // sflow-monitor reads its params as text: "1494484658661" works there too.
                Some(Value::String(s)) if s.trim().parse::<i64>().is_ok() => {
                    Ok(s.trim().parse().ok())
                }
                Some(_) => Err(invalid_params(format!(
                    "`{name}` must be epoch milliseconds (an integer)"
                ))),
            }
        };
        let timestamp = millis("timestamp")?;
        let (from, to) = match (timestamp, millis("from")?, millis("to")?) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(invalid_params(
                    "give either `timestamp` or `from`/`to`, not both",
                ))
            }
            (Some(t), None, None) => (t.saturating_sub(WINDOW_MS), t),
            (None, None, None) => (now.saturating_sub(WINDOW_MS), now),
            (None, from, to) => {
                let to = to.unwrap_or(now);
                (from.unwrap_or(to.saturating_sub(WINDOW_MS)), to)
            }
        };
        if from >= to {
            return Err(invalid_params("`from` must be before `to`"));
        }
        let step = match millis("step")? {
            Some(s) if s <= 0 => {
                return Err(invalid_params(
                    "`step` must be a positive number of milliseconds",
                ))
            }
            s => s,
        };
        let rates = match named.get("rates") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(invalid_params("`rates` must be true or false")),
        };
        Ok(Query {
            key,
            from,
            to,
            step,
            rates,
        })
    }
}

/// The rows as the method's JSON array; past `budget` bytes, the error that says so
/// (the text stops growing there).
fn render_rows<const N: usize>(
    rows: Vec<Row<N>>,
    method: Method,
    columns: &[Column],
    query: &Query,
    budget: usize,
) -> Result<String, RpcError> {
    if rows.len() > MAX_ROWS {
        return Err(invalid_params(format!(
            "the range holds more than {MAX_ROWS} samples: narrow `from`/`to` or give a `step`"
        )));
    }
    let rows: Vec<Row<N>> = match query.step {
        None => rows,
        Some(step) => {
            // The last sample of each bucket: counters stay exact.
            let mut kept: Vec<Row<N>> = Vec::new();
            for r in rows {
                match kept.last_mut() {
                    Some(last)
                        if last.timestamp.div_euclid(step) == r.timestamp.div_euclid(step) =>
                    {
                        *last = r
                    }
                    _ => kept.push(r),
                }
            }
            kept
        }
    };
    let picked: Vec<(usize, &Column)> = method.columns().collect();
    let estimate = 64 + rows.len() * 40 * picked.len();
    let mut out = String::with_capacity(estimate.min(budget));
    out.push('[');
    let mut previous: Option<&Row<N>> = None;
    for (i, row) in rows.iter().enumerate() {
        if out.len() > budget {
            return Err(reply_too_large());
        }
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"host_ip\":{},\"timestamp\":{}",
            Value::String(row.host_ip.clone()),
            row.timestamp
        );
        if let Some(name) = &row.hostname {
            let _ = write!(out, ",\"hostname\":{}", Value::String(name.clone()));
        }
        for &(at, c) in &picked {
            let _ = write!(out, ",\"{}\":", c.name);
            write_value(&mut out, row.values.get(columns, at));
        }
        if query.rates {
            for &(at, c) in &picked {
                let width = match c.kind {
                    Kind::Counter32 => CounterWidth::Bits32,
                    Kind::Counter64 => CounterWidth::Bits64,
                    _ => continue,
                };
                let _ = write!(out, ",\"{}_per_s\":", c.name);
                let rate = previous.and_then(|p| {
                    let (a, b) = (p.values.int(at)?, row.values.int(at)?);
                    let elapsed = u64::try_from(row.timestamp.checked_sub(p.timestamp)?).ok()?;
                    (elapsed > 0).then(|| rate_per_sec(a, b, width, elapsed))
                });
                write_value(&mut out, rate.map(ColumnValue::Real));
            }
        }
        out.push('}');
        previous = Some(row);
    }
    out.push(']');
    Ok(out)
}

fn write_value(out: &mut String, v: Option<ColumnValue>) {
    match v {
        None => out.push_str("null"),
        Some(ColumnValue::Int(i)) => {
            let _ = write!(out, "{i}");
        }
        Some(ColumnValue::Real(f)) => {
            let _ = write!(out, "{}", Value::from(f));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sflow::columns::{HostValues, H};
    use crate::sflow::sample::Ingest;
    use serde_json::json;

    /// A history in a fresh directory holding `n` CPU samples of one host, one a second
    /// up to `now`, committed.
    fn history_with(n: i64, now: i64) -> (History, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("ferrostat-api-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (history, queue, _writer) =
            crate::state::history::open(&dir, crate::state::history::Retention::default(), 1 << 16)
                .unwrap();
        for i in 0..n {
            let mut v = HostValues::default();
            v.record_mask = Method::HostCpu.bit();
            v.set_int(H::cpu_user as usize, Some(i as u64));
            queue.offer(Ingest::test_host("192.0.2.7", now - (n - i) * 1000, v));
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while history
            .host_rows::<{ crate::sflow::columns::HOST_COLUMNS }>(
                "192.0.2.7",
                Method::HostCpu,
                0,
                now,
                1_000_000,
            )
            .unwrap()
            .len()
            < n as usize
        {
            assert!(
                std::time::Instant::now() < deadline,
                "samples not committed"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        (history, dir)
    }

    /// A batch asks for a bounded amount of work and gets a bounded reply: over
    /// MAX_BATCH calls is one error, and calls past MAX_REPLY bytes get -32000 instead of
    /// a reply that grows with the batch (2,000 calls once made 230 MB).
    #[test]
    fn batches_and_replies_are_bounded() {
        // The writer's retention runs on the real clock.
        let now = now_ms();
        let (history, dir) = history_with(1000, now);
        let one = json!({"jsonrpc": "2.0", "method": "host.cpu", "params": {"ip": "192.0.2.7", "from": 0, "to": now}, "id": 1});
        let single: Value =
            serde_json::from_str(&respond(&history, one.to_string().as_bytes(), now).unwrap())
                .unwrap();
        let row_bytes = single["result"].to_string().len();
        assert_eq!(single["result"].as_array().unwrap().len(), 1000);
        // Enough calls that their replies together pass the bound.
        let calls = (MAX_REPLY / row_bytes + 2).min(MAX_BATCH);
        assert!(calls * row_bytes > MAX_REPLY, "{calls} x {row_bytes} B");
        let batch = Value::Array(
            (0..calls)
                .map(|i| {
                    let mut c = one.clone();
                    c["id"] = json!(i);
                    c
                })
                .collect(),
        );
        let text = respond(&history, batch.to_string().as_bytes(), now).unwrap();
        assert!(
            text.len() <= MAX_REPLY + calls * 200,
            "{} bytes",
            text.len()
        );
        let replies: Vec<Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(replies.len(), calls);
        let served = replies.iter().filter(|r| r.get("result").is_some()).count();
        assert!(served > 0 && served < calls, "{served} of {calls}");
        assert!(served * row_bytes <= MAX_REPLY);
        // The first calls are served whole, every one after the bound is refused.
        assert!(replies[..served]
            .iter()
            .all(|r| r["result"].as_array().unwrap().len() == 1000));
        for r in &replies[served..] {
            assert_eq!(r["error"]["code"], REPLY_TOO_LARGE, "{r}");
            assert!(r["error"]["message"].as_str().unwrap().contains("16 MiB"));
        }
        // Past MAX_BATCH calls: one Invalid Request, nothing run.
        let too_many = Value::Array(vec![one.clone(); MAX_BATCH + 1]);
        let r: Value =
            serde_json::from_str(&respond(&history, too_many.to_string().as_bytes(), now).unwrap())
                .unwrap();
        assert_eq!(r["error"]["code"], -32600);
        assert_eq!(r["id"], Value::Null);
        assert!(
            r["error"]["message"]
                .as_str()
                .unwrap()
                .contains("at most 100"),
            "{r}"
        );
        drop(history);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn params_by_name_position_and_range() {
        let now = 10_000_000;
        let q = Query::parse(Method::HostCpu, Some(&json!({"ip": "10.0.0.1"})), now).unwrap();
        assert_eq!((q.from, q.to), (now - WINDOW_MS, now));
        let q = Query::parse(
            Method::VirtMemory,
            Some(&json!(["vm-1", "1494484658661"])),
            now,
        )
        .unwrap();
        assert_eq!(
            (q.key.as_str(), q.to, q.from),
            ("vm-1", 1_494_484_658_661, 1_494_484_658_661 - WINDOW_MS)
        );
        let q = Query::parse(
            Method::HostNet,
            Some(&json!({"ip": "::1", "from": 5, "to": 100, "step": 10, "rates": true})),
            now,
        )
        .unwrap();
        assert_eq!((q.from, q.to, q.step, q.rates), (5, 100, Some(10), true));
    }

    #[test]
    fn bad_params_say_which() {
        let err = |m, p: Value| Query::parse(m, Some(&p), 0).unwrap_err();
        assert_eq!(
            err(Method::HostCpu, json!({})).1,
            "missing required parameter `ip`"
        );
        assert_eq!(
            err(Method::VirtCpu, json!({"hostname": 7})).1,
            "`hostname` must be a string"
        );
        assert_eq!(
            err(Method::HostCpu, json!({"ip": "a", "timestamp": "soon"})).1,
            "`timestamp` must be epoch milliseconds (an integer)"
        );
        assert!(err(Method::HostCpu, json!({"ip": "a", "ipp": 1}))
            .1
            .contains("`ipp`"));
        assert!(err(Method::HostCpu, json!({"ip": "a", "from": 9, "to": 3}))
            .1
            .contains("before"));
        assert!(err(Method::HostCpu, json!({"ip": "a", "step": 0}))
            .1
            .contains("step"));
        assert_eq!(err(Method::VirtNet, json!({})).0, -32602);
        // Times at the ends of i64 do not overflow the window's arithmetic.
        let q = Query::parse(
            Method::HostCpu,
            Some(&json!({"ip": "a", "timestamp": i64::MIN + 1})),
            0,
        );
        assert_eq!(q.unwrap().from, i64::MIN);
        let q = Query::parse(
            Method::HostCpu,
            Some(&json!({"ip": "a", "to": i64::MIN + 5})),
            0,
        );
        assert_eq!(q.unwrap().from, i64::MIN);
    }
}
