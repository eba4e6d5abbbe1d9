//! The HTTP server: every listener serves every endpoint by path, behind the token check.

use std::io::Write as _;
use std::sync::Arc;

use axum::extract::{FromRef, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use subtle::ConstantTimeEq;

use crate::cli::ServeArgs;
use crate::collect::gpu::Gpus;
use crate::collect::shared::ProcCache;
use crate::commands::CommandError;
use crate::config::{ServeConfig, TlsSource};
use crate::endpoint;
use crate::http_listener;
use crate::registry::Registry;
use crate::request_guard::{self, HostPolicy};
use crate::sflow::collector::{Collector, CollectorStats};
use crate::state::history::History;
use crate::state::tls::TlsIdentity;

/// What every request handler shares.
pub struct AppState {
    /// The token clients must present, if any.
    token: Option<String>,
    /// The collector layer every endpoint reads /proc through.
    pub proc: Arc<ProcCache>,
    /// How old a shared read may be for endpoints without a window of their own.
    pub cache: std::time::Duration,
    /// Whether psiod's `process.kill` may kill.
    pub allow_kill: bool,
    /// WebSocket sessions: how many, from where, how long silent.
    pub sessions: endpoint::ws::SessionLimits,
    /// socktop's shared caches.
    pub socktop: Arc<endpoint::socktop::Shared>,
    /// socktop's caches for watched hosts (`/ws?host=`).
    pub socktop_remote: Arc<endpoint::socktop::RemoteShared>,
    /// How often the stats stream pushes sysStats and idxStats.
    pub stats_interval: std::time::Duration,
    /// How long a request body may take to arrive once its headers have
    /// (`--header-timeout-ms`, the same bound as the headers').
    pub body_timeout: std::time::Duration,
    /// The Prometheus endpoint's collector and cache.
    pub metrics: Arc<endpoint::metrics::Source>,
    /// Remote hosts: the sFlow agents heard and the VMs they report.
    pub registry: Arc<Registry>,
    /// The sFlow history, when the collector is on.
    pub history: Option<Arc<History>>,
    /// The sFlow collector's per-source counters, when it is on.
    pub collector: Option<Arc<CollectorStats>>,
    /// Edge gateways' counters.
    pub gateways: Arc<endpoint::gateway::Gateways>,
    /// Hosts watched over SSH for `/monitor`.
    pub ssh: Arc<crate::ssh::hub::Hub>,
    /// The agent's own SSH key, if it has one.
    pub ssh_key: Option<std::path::PathBuf>,
}

/// Each endpoint takes the part of the state it needs (axum's `FromRef`), so endpoints
/// know nothing of the server and the server alone knows every endpoint.
impl FromRef<Arc<AppState>> for endpoint::psiod::Context {
    fn from_ref(s: &Arc<AppState>) -> Self {
        endpoint::psiod::Context {
            proc: s.proc.clone(),
            cache: s.cache,
            allow_kill: s.allow_kill,
            sessions: s.sessions.clone(),
            ssh: s.ssh.clone(),
        }
    }
}

impl FromRef<Arc<AppState>> for endpoint::socktop::Context {
    fn from_ref(s: &Arc<AppState>) -> Self {
        endpoint::socktop::Context {
            socktop: s.socktop.clone(),
            socktop_remote: s.socktop_remote.clone(),
            sessions: s.sessions.clone(),
            ssh: s.ssh.clone(),
        }
    }
}

impl FromRef<Arc<AppState>> for endpoint::stats_stream::Context {
    fn from_ref(s: &Arc<AppState>) -> Self {
        endpoint::stats_stream::Context {
            proc: s.proc.clone(),
            cache: s.cache,
            stats_interval: s.stats_interval,
            sessions: s.sessions.clone(),
            ssh: s.ssh.clone(),
            registry: s.registry.clone(),
            collector: s.collector.clone(),
        }
    }
}

impl FromRef<Arc<AppState>> for endpoint::sflow_api::Context {
    fn from_ref(s: &Arc<AppState>) -> Self {
        endpoint::sflow_api::Context {
            history: s.history.clone(),
            body_timeout: s.body_timeout,
        }
    }
}

impl FromRef<Arc<AppState>> for endpoint::argusyes::Context {
    fn from_ref(s: &Arc<AppState>) -> Self {
        endpoint::argusyes::Context {
            sessions: s.sessions.clone(),
            ssh: s.ssh.clone(),
            ssh_key: s.ssh_key.clone(),
        }
    }
}

impl FromRef<Arc<AppState>> for endpoint::metrics::Context {
    fn from_ref(s: &Arc<AppState>) -> Self {
        endpoint::metrics::Context {
            metrics: s.metrics.clone(),
            registry: s.registry.clone(),
            collector: s.collector.clone(),
            history: s.history.clone(),
            gateways: s.gateways.clone(),
            ssh: s.ssh.clone(),
        }
    }
}

/// Runs the server until SIGINT or SIGTERM.
#[inline(never)] // see commands/mod.rs
pub fn run_blocking(args: ServeArgs) -> Result<(), CommandError> {
    let config = ServeConfig::resolve(args).map_err(CommandError::Config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CommandError::Io("tokio runtime".into(), e))?;
    runtime.block_on(run(config))
}

async fn run(config: ServeConfig) -> Result<(), CommandError> {
    let collectors = endpoint::metrics::Collectors::from_switches(&config.collectors)
        .map_err(CommandError::Config)?;
    raise_open_file_limit();
    // Fail on a missing or foreign /proc now rather than on the first request.
    std::fs::metadata(config.proc_root.join("stat"))
        .map_err(|e| CommandError::Io(config.proc_root.join("stat").display().to_string(), e))?;
    crate::state::data_dir::create_private_dir(&config.data_dir).map_err(CommandError::Config)?;
    let mut certificate = None;
    let tls = match &config.tls {
        None => None,
        Some(source) => {
            let identity = match source {
                TlsSource::Files { cert, key } => TlsIdentity::load(cert, key),
                TlsSource::Generated { extra_names } => TlsIdentity::load_or_generate(
                    &config.data_dir.join("tls"),
                    &hostname(&config.proc_root),
                    extra_names,
                ),
            }
            .map_err(CommandError::Config)?;
            println!(
                "ferrostat-agent TLS certificate {} ({}) SHA-256 fingerprint {}",
                identity.cert_path.display(),
                if identity.generated {
                    "generated now"
                } else {
                    "loaded"
                },
                identity.fingerprint
            );
            certificate = Some(identity.leaf_der());
            Some(identity.server_config().map_err(CommandError::Config)?)
        }
    };
    let registry = Arc::new(Registry::new(config.remote));
    // The history opens when anything feeds it: the sFlow collector or gateways.
    let history = if config.sflow.is_some() || config.gateway_listen.is_some() {
        let (history, queue, writer) = crate::state::history::open(
            &config.data_dir,
            config.history_retention,
            config.history_queue,
        )
        .map_err(CommandError::Config)?;
        Some((Arc::new(history), queue, writer))
    } else {
        None
    };
    let collector = match (&config.sflow, &history) {
        (Some(sflow), Some((history, queue, _))) => {
            let collector = Collector::start(
                sflow.listen,
                sflow.allow.clone(),
                registry.clone(),
                queue.clone(),
            )
            .map_err(|e| CommandError::Io(format!("sflow on udp {}", sflow.listen), e))?;
            println!(
                "ferrostat-agent sflow collector on udp://{} history {}",
                collector.local,
                history.path().display()
            );
            Some(collector)
        }
        _ => None,
    };
    let gateways = Arc::new(endpoint::gateway::Gateways::default());
    if let Some(addr) = config.gateway_listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| CommandError::Io(format!("gateway uplink on {addr}"), e))?;
        let bound = listener
            .local_addr()
            .map_err(|e| CommandError::Io(format!("gateway uplink on {addr}"), e))?;
        println!("ferrostat-agent gateway uplink on tcp://{bound}");
        tokio::spawn(endpoint::gateway::serve(
            listener,
            endpoint::gateway::Uplink {
                token: config.token.clone(),
                registry: registry.clone(),
                queue: history.as_ref().map(|h| h.1.clone()),
                gateways: gateways.clone(),
                hello_deadline: config.header_timeout,
            },
        ));
    }
    let known_hosts = match &config.ssh_known_hosts {
        Some(path) => path.clone(),
        None => {
            let dir = config.data_dir.join("ssh");
            crate::state::data_dir::create_private_dir(&dir).map_err(CommandError::Config)?;
            dir.join("known_hosts")
        }
    };
    let ssh = Arc::new(crate::ssh::hub::Hub::new(
        crate::ssh::session::HostKeys {
            path: known_hosts,
            require_known: config.ssh_require_known_hosts,
        },
        crate::ssh::session::Timeouts::default(),
    ));
    if let Some(key) = &config.ssh_key {
        for target in &config.ssh_watch {
            ssh.keep(
                target.clone(),
                crate::ssh::session::Secret::AgentKey(key.clone()),
            );
        }
    }
    let proc = Arc::new(
        ProcCache::new(&config.proc_root)
            .with_sys_root(&config.socktop.sys_root)
            .with_rootfs(&config.rootfs),
    );
    let gpus = config.gpu.then(|| Arc::new(Gpus::new()));
    let state = Arc::new(AppState {
        token: config.token.clone(),
        proc: proc.clone(),
        cache: config.cache,
        allow_kill: config.allow_kill,
        sessions: endpoint::ws::SessionLimits::new(
            config.max_connections,
            config.max_connections_per_address,
            config.websocket_idle,
        ),
        socktop: Arc::new(endpoint::socktop::Shared::new(
            proc.clone(),
            config.socktop.clone(),
            gpus.clone(),
        )),
        socktop_remote: Arc::default(),
        stats_interval: config.stats_interval,
        body_timeout: config.header_timeout,
        metrics: Arc::new(endpoint::metrics::Source::new(
            proc,
            gpus,
            config.cache,
            collectors,
        )),
        registry,
        history: history.as_ref().map(|h| h.0.clone()),
        collector: collector.as_ref().map(|c| c.stats.clone()),
        gateways,
        ssh,
        ssh_key: config.ssh_key.clone(),
    });
    let hosts = Arc::new(HostPolicy::new(
        &hostname(&config.proc_root),
        &config.allowed_hosts,
        certificate,
    ));
    // One limit over all listeners: it guards this process's descriptors and memory.
    let admission = http_listener::Admission::new(
        router(state, hosts),
        http_listener::Limits {
            total: config.max_http_connections,
            per_address: config.max_http_connections_per_address,
        },
    );
    let mut servers = tokio::task::JoinSet::new();
    for addr in &config.listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| CommandError::Io(format!("listen on {addr}"), e))?;
        let bound = listener
            .local_addr()
            .map_err(|e| CommandError::Io(format!("listen on {addr}"), e))?;
        // One line per listener on stdout, so supervisors and tests learn the port.
        let scheme = if tls.is_some() { "https" } else { "http" };
        println!("ferrostat-agent listening on {scheme}://{bound}");
        let _ = std::io::stdout().flush();
        let tls = tls.clone().map(tokio_rustls::TlsAcceptor::from);
        servers.spawn(http_listener::serve(
            listener,
            tls,
            admission.clone(),
            http_listener::Deadlines {
                header: config.header_timeout,
                idle: config.idle_timeout,
                write: config.write_timeout,
            },
            shutdown_signal(),
        ));
    }
    let mut outcome = Ok(());
    while let Some(done) = servers.join_next().await {
        if let (Err(e), Ok(())) = (done, &outcome) {
            outcome = Err(CommandError::Io(
                "server task".into(),
                std::io::Error::other(e),
            ));
        }
    }
    // Stop receiving, then let the writer commit what is queued before exiting.
    if let Some((_, queue, writer)) = history {
        tokio::task::spawn_blocking(move || {
            if let Some(c) = collector {
                c.stop();
            }
            // Gateway connections still hold queue handles; the writer commits what has
            // arrived within a second of each batch, so wait for it only briefly.
            drop(queue);
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
            while !writer.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        })
        .await
        .ok();
    }
    outcome
}

/// Raises the soft limit on open files to the hard limit, as Go's runtime does for every
/// Go exporter: each client is a descriptor, and the soft limit of 1024 that shells and
/// service managers commonly leave is below what `--max-http-connections`, the WebSocket
/// sessions and the gateways allow together. Where it cannot be raised, the agent runs
/// with what it has.
fn raise_open_file_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        limit.current = limit.maximum;
        let _ = setrlimit(Resource::Nofile, limit);
    }
}

/// Every endpoint, by path, behind the Host and Origin checks (all of them) and the
/// token (all but `/healthz`).
pub fn router(state: Arc<AppState>, hosts: Arc<HostPolicy>) -> Router {
    Router::new()
        .route("/metrics", get(endpoint::metrics::handle))
        .route("/", get(endpoint::psiod::handle))
        .route("/ws", get(endpoint::socktop::handle))
        .route("/ws/stats", get(endpoint::stats_stream::handle))
        .route("/api/ws/stats", get(endpoint::stats_stream::handle))
        .route("/api", axum::routing::post(endpoint::sflow_api::handle))
        .route("/monitor", get(endpoint::argusyes::handle))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token))
        // Health checks come from probes that hold no token; they learn nothing else.
        .route("/healthz", get(endpoint::healthz::handle))
        .layer(middleware::from_fn_with_state(hosts, request_guard::check))
        .with_state(state)
}

/// This host's name, for the generated certificate.
fn hostname(proc_root: &std::path::Path) -> String {
    std::fs::read_to_string(proc_root.join("sys/kernel/hostname"))
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// Lets a request through when the agent has no token or the request presents it, in the
/// `Authorization: Bearer` header, the `token` query parameter or the WebSocket
/// sub-protocol header; answers 401 otherwise.
async fn require_token(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(expected) = state.token.as_deref() else {
        return next.run(request).await;
    };
    let presented = presented_tokens(request.headers(), request.uri().query());
    // Every candidate is compared in constant time, and all of them are compared.
    let ok = presented.iter().fold(0u8, |acc, t| {
        acc | t.as_bytes().ct_eq(expected.as_bytes()).unwrap_u8()
    });
    if ok == 1 {
        next.run(request).await
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "missing or wrong token\n",
        )
            .into_response()
    }
}

/// Sub-protocols and query values taken as token candidates: a browser offers one, so a
/// few are plenty, and one request cannot try thousands of guesses.
const MAX_CANDIDATES: usize = 2;

fn presented_tokens(headers: &HeaderMap, query: Option<&str>) -> Vec<String> {
    let mut tokens = Vec::new();
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        // The scheme is case-insensitive (RFC 7235, section 2.1).
        if let Some((scheme, t)) = v.trim_start().split_once(' ') {
            if scheme.eq_ignore_ascii_case("bearer") {
                tokens.push(t.trim().to_owned());
            }
        }
    }
    tokens.extend(
        headers
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|p| p.trim().to_owned())
            .take(MAX_CANDIDATES),
    );
    if let Some(q) = query {
        tokens.extend(
            q.split('&')
                .filter_map(|pair| pair.strip_prefix("token="))
                .map(percent_decode)
                .take(MAX_CANDIDATES),
        );
    }
    tokens
}

/// Undoes %XX escapes (and `+` for space) in a query value.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    out.push((hi * 16 + lo) as u8);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_from_every_place_a_client_puts_them() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        h.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            "proto, def".parse().unwrap(),
        );
        let t = presented_tokens(&h, Some("x=1&token=g%2Fh+i"));
        assert_eq!(t, ["abc", "proto", "def", "g/h i"]);
        // The scheme in any case; only the first few sub-protocols and query values.
        h.insert(header::AUTHORIZATION, "bEaReR abc".parse().unwrap());
        let many = (0..10_000)
            .map(|i| format!("guess{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        h.insert(header::SEC_WEBSOCKET_PROTOCOL, many.parse().unwrap());
        let t = presented_tokens(&h, Some("token=a&token=b&token=c"));
        assert_eq!(t, ["abc", "guess0", "guess1", "a", "b"]);
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
