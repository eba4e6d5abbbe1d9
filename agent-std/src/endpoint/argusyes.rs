//! `/monitor` (WebSocket): Argusyes's agentless monitor (PROTOCOLS.md §1). A client asks
//! the agent to watch hosts over SSH (`ssh.start_monitor` as the README spells it, or
//! `ssh.startMonitor`, `ssh.startRoughMonitor` as later clients do) and gets
//! `ssh.notification` events until it stops or leaves.
//!
//! Payloads come in the spelling of the method the client used: snake_case with
//! `ssh_key` for README clients, camelCase with `port`/`host`/`user` for the others.
//! Requests carry credentials, so the endpoint follows the agent's token rules and a
//! browser page from another origin is refused.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;
use zeroize::Zeroizing;

use super::ws::Session;
use crate::ssh::events::{snake_case, snake_event};
use crate::ssh::hub::Hub;
use crate::ssh::hub::Notice;
use crate::ssh::session::{Secret, Target};

/// Largest request frame.
const MAX_FRAME: usize = 64 * 1024;
/// Hosts one client may watch (or be dialling) at once.
const MAX_HOSTS: usize = 256;

/// What Argusyes sessions need of the agent.
#[derive(Clone)]
pub struct Context {
    /// WebSocket places.
    pub sessions: super::ws::SessionLimits,
    /// The hosts watched over SSH, which sessions subscribe to.
    pub ssh: Arc<Hub>,
    /// The agent's own SSH key, if it has one.
    pub ssh_key: Option<std::path::PathBuf>,
}

/// Upgrades (503 at the session limits). A browser page from another origin never gets
/// here: the request guard refuses it first.
pub async fn handle(
    ws: WebSocketUpgrade,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    State(state): State<Context>,
) -> Response {
    let place = match state.sessions.admit(peer) {
        Ok(place) => place,
        Err(refused) => return axum::response::IntoResponse::into_response(refused),
    };
    let limits = state.sessions.clone();
    ws.max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .on_upgrade(move |socket| async move {
            session(limits.push_session(socket), state).await;
            drop(place);
        })
}

/// The spelling a client's payloads come in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Spelling {
    /// The README's: `ssh.start_monitor`, snake_case keys, `ssh_key`.
    Snake,
    /// Later clients': camelCase keys, `port`/`host`/`user`.
    Camel,
}

/// One watched host of this session.
struct Subscription {
    forward: tokio::task::JoinHandle<()>,
}

async fn session(mut socket: Session, state: Context) {
    let (tx, mut notices) = mpsc::channel::<String>(256);
    let mut subs: HashMap<(Target, bool), Subscription> = HashMap::new();
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Message::Text(text)) => {
                    if let Some(reply) = request(&state, &text, &tx, &mut subs).await {
                        if socket.send(Message::Text(reply.into())).await.is_err() {
                            break;
                        }
                    }
                }
                // Binary frames are ignored, as Argusyes does.
                Some(_) => {}
                None => break,
            },
            Some(n) = notices.recv() => {
                if socket.send(Message::Text(n.into())).await.is_err() {
                    break;
                }
            }
        }
    }
    let hub = &state.ssh;
    for ((target, _), sub) in subs {
        sub.forward.abort();
        hub.unsubscribe(&target);
    }
}

/// The `id` of a frame that is not JSON, found as Argusyes does (by pattern).
fn recover_id(text: &str) -> Option<String> {
    let at = text.find("\"id\"")?;
    let rest = text[at + 4..].trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_owned())
}

fn reply(id: &Value, result: Value, error: Value) -> String {
    json!({ "id": id, "error": error, "result": result }).to_string()
}

fn error(code: u16, message: String) -> Value {
    json!({ "code": code, "message": message })
}

/// A host of `params` and how to log in.
/// A host of `params`, and for a start how to log in (`agent_key`: the agent's own key,
/// if it has one).
fn parse_target(
    item: &Value,
    index: usize,
    start: bool,
    agent_key: Option<&std::path::Path>,
) -> Result<(Target, Option<Secret>), String> {
    let field = |name: &str| {
        item.get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let host = field("host").ok_or(format!("params[{index}].host is required"))?;
    let user = field("user").ok_or(format!("params[{index}].user is required"))?;
    let port = match item.get("port") {
        None | Some(Value::Null) => 22,
        Some(v) => match v.as_u64() {
            Some(0) => 22,
            Some(p) if p <= u64::from(u16::MAX) => p as u16,
            _ => return Err(format!("params[{index}].port must be a port number")),
        },
    };
    let target = Target {
        host: host.to_owned(),
        port,
        user: user.to_owned(),
    };
    if !start {
        return Ok((target, None));
    }
    let wants_agent_key = item
        .get("agentKey")
        .or_else(|| item.get("agent_key"))
        .and_then(Value::as_bool)
        == Some(true);
    let secret = if wants_agent_key {
        let path = agent_key.ok_or(format!(
            "params[{index}]: the agent has no key of its own (--ssh-key)"
        ))?;
        Secret::AgentKey(path.to_owned())
    } else if let Some(p) = item.get("passwd").and_then(Value::as_str) {
        Secret::Password(Zeroizing::new(p.to_owned()))
    } else if let Some(k) = item
        .get("privateKey")
        .or_else(|| item.get("private_key"))
        .and_then(Value::as_str)
    {
        Secret::Key(Zeroizing::new(k.to_owned()))
    } else {
        return Err(format!(
            "params[{index}]: give passwd, privateKey, or agentKey: true"
        ));
    };
    Ok((target, Some(secret)))
}

/// A request read and checked: what to do, for which hosts.
pub(crate) struct Parsed {
    id: Value,
    start: bool,
    rough: bool,
    spelling: Spelling,
    /// The hosts, and for a start how to log in.
    hosts: Vec<(Target, Option<Secret>)>,
}

/// Reads one text frame of a client already watching `watching` hosts: the request, or
/// the reply to send instead (`None`: nothing, as Argusyes answers only what has a
/// method). `agent_key` is the agent's own key, if it has one.
pub(crate) fn parse_request(
    text: &str,
    watching: usize,
    agent_key: Option<&std::path::Path>,
) -> Result<Parsed, Option<String>> {
    let v: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let id = recover_id(text).ok_or(None)?;
            return Err(Some(reply(
                &Value::String(id),
                Value::Null,
                error(400, format!("Json parse fail : {e}")),
            )));
        }
    };
    let id = v.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = v.get("method").and_then(Value::as_str) else {
        // Argusyes answers only what has a method (responses from clients are ignored).
        return Err(None);
    };
    let (start, rough, spelling) = match method {
        "ssh.start_monitor" => (true, false, Spelling::Snake),
        "ssh.stop_monitor" => (false, false, Spelling::Snake),
        "ssh.startMonitor" => (true, false, Spelling::Camel),
        "ssh.stopMonitor" => (false, false, Spelling::Camel),
        "ssh.startRoughMonitor" => (true, true, Spelling::Camel),
        "ssh.stopRoughMonitor" => (false, true, Spelling::Camel),
        other => {
            return Err(Some(reply(
                &id,
                Value::Null,
                error(404, format!("method not found: {other}")),
            )));
        }
    };
    let invalid = |message: String| {
        Err(Some(reply(
            &id,
            Value::Null,
            error(400, format!("message validate fail : {message}")),
        )))
    };
    let Some(params) = v.get("params").and_then(Value::as_array) else {
        return invalid("params must be an array of hosts".into());
    };
    // Counted with the hosts this client already watches: its dials and watches
    // together stay within its share, however it spreads them over requests.
    let watching = if start { watching } else { 0 };
    if watching + params.len() > MAX_HOSTS {
        return invalid(format!(
            "at most {MAX_HOSTS} hosts per client (it watches {watching})"
        ));
    }
    let mut hosts = Vec::with_capacity(params.len());
    for (i, item) in params.iter().enumerate() {
        match parse_target(item, i, start, agent_key) {
            Ok(p) => hosts.push(p),
            Err(e) => return invalid(e),
        }
    }
    Ok(Parsed {
        id,
        start,
        rough,
        spelling,
        hosts,
    })
}

async fn request(
    state: &Context,
    text: &str,
    tx: &mpsc::Sender<String>,
    subs: &mut HashMap<(Target, bool), Subscription>,
) -> Option<String> {
    let Parsed {
        id,
        start,
        rough,
        spelling,
        hosts: parsed,
    } = match parse_request(text, subs.len(), state.ssh_key.as_deref()) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let mut results = Vec::new();
    let mut failures = Vec::new();
    if start {
        // Hosts are dialled at once; results come back in request order.
        let mut dialling = tokio::task::JoinSet::new();
        for (i, (target, secret)) in parsed.into_iter().enumerate() {
            let hub = state.ssh.clone();
            // A start always carries a secret (parse_target).
            let Some(secret) = secret else { continue };
            dialling.spawn(async move {
                let r = hub.subscribe(&target, secret).await;
                (i, target, r)
            });
        }
        let mut done = Vec::new();
        while let Some(Ok(d)) = dialling.join_next().await {
            done.push(d);
        }
        done.sort_by_key(|d| d.0);
        for (_, target, r) in done {
            let key = (target.clone(), rough);
            match r {
                Ok(rx) => {
                    if let Some(old) = subs.remove(&key) {
                        // Asked twice: keep one subscription.
                        old.forward.abort();
                        state.ssh.unsubscribe(&target);
                    }
                    let forward = tokio::spawn(forward(rx, tx.clone(), rough, spelling));
                    subs.insert(key, Subscription { forward });
                    results.push(host_result(&target, spelling, "monitor", true, Value::Null));
                }
                Err(e) => {
                    failures.push(format!("{target}: {e}"));
                    results.push(host_result(
                        &target,
                        spelling,
                        "monitor",
                        false,
                        error(400, e.to_string()),
                    ));
                }
            }
        }
    } else {
        for (target, _) in parsed {
            if let Some(sub) = subs.remove(&(target.clone(), rough)) {
                sub.forward.abort();
                state.ssh.unsubscribe(&target);
            }
            results.push(host_result(
                &target,
                spelling,
                "unMonitor",
                true,
                Value::Null,
            ));
        }
    }
    let result = Value::Array(results);
    Some(match spelling {
        Spelling::Camel => reply(&id, result, Value::Null),
        // The README's shape: result null, error null or a string naming each host that
        // could not be watched and why.
        Spelling::Snake => {
            let err = if failures.is_empty() {
                Value::Null
            } else {
                Value::String(failures.join("; "))
            };
            reply(&id, Value::Null, err)
        }
    })
}

fn host_result(target: &Target, spelling: Spelling, flag: &str, ok: bool, err: Value) -> Value {
    let mut m = Map::new();
    m.insert("port".into(), target.port.into());
    m.insert("host".into(), target.host.clone().into());
    m.insert("user".into(), target.user.clone().into());
    if spelling == Spelling::Snake {
        m.insert("ssh_key".into(), target.to_string().into());
    }
    m.insert(flag.into(), ok.into());
    m.insert("error".into(), err);
    Value::Object(m)
}

/// Forwards one host's notices to the session, in the session's spelling; `rough`
/// subscriptions get only `rough` (and errors), the others everything else.
async fn forward(
    mut rx: tokio::sync::broadcast::Receiver<Arc<Notice>>,
    tx: mpsc::Sender<String>,
    rough: bool,
    spelling: Spelling,
) {
    loop {
        let notice = match rx.recv().await {
            Ok(n) => n,
            // A slow client skips what it missed rather than holding the poller.
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(_) => return,
        };
        if notice.event != "error" && (notice.event == "rough") != rough {
            continue;
        }
        let t = &notice.target;
        let mut message = Map::new();
        match spelling {
            Spelling::Camel => {
                message.insert("port".into(), t.port.into());
                message.insert("host".into(), t.host.clone().into());
                message.insert("user".into(), t.user.clone().into());
            }
            Spelling::Snake => {
                message.insert("ssh_key".into(), t.to_string().into());
            }
        }
        let payload = match spelling {
            Spelling::Camel => notice.message.clone(),
            Spelling::Snake => snake_case(&notice.message),
        };
        if let Value::Object(p) = payload {
            message.extend(p);
        }
        let event = match spelling {
            Spelling::Camel => notice.event.to_owned(),
            Spelling::Snake => snake_event(notice.event),
        };
        let text = json!({
            "id": null,
            "method": "ssh.notification",
            "params": [{ "event": event, "message": message }],
        })
        .to_string();
        if tx.try_send(text).is_err() && tx.is_closed() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_recovered_from_broken_json_and_params_checked() {
        assert_eq!(
            recover_id(r#"{"id": "ab12", "method": "ssh.start_monitor", "params": [}"#).as_deref(),
            Some("ab12")
        );
        assert_eq!(recover_id("{nonsense"), None);
        let (t, s) = parse_target(
            &json!({"host": "h", "user": "u", "passwd": "p"}),
            0,
            true,
            None,
        )
        .unwrap();
        assert_eq!(
            (t.to_string(), format!("{s:?}")),
            ("u@h:22".into(), "Some(Secret::Password(..))".into())
        );
        assert!(
            parse_target(&json!({"host": "h", "passwd": "p"}), 3, true, None)
                .unwrap_err()
                .contains("params[3].user")
        );
        assert!(
            parse_target(&json!({"host": "h", "user": "u"}), 0, true, None)
                .unwrap_err()
                .contains("passwd")
        );
        assert!(parse_target(
            &json!({"host": "h", "user": "u", "port": 70000}),
            0,
            false,
            None
        )
        .is_err());
    }
}
