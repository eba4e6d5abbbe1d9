//! `/metrics`: Prometheus text exposition (format 0.0.4) with node_exporter's metric
//! names and labels where they overlap, so existing dashboards work.
//!
//! The page is rendered from /proc at most once per cache period and shared by every
//! scraper; nothing is read between scrapes.
//!
//! Hosts watched over SSH follow as `ferrostat_ssh_*` families (node_exporter's names
//! with `node_` replaced) labelled by `host`, from the files their pollers last read.
//! `/metrics?host=NAME` gives one watched host's page under node_exporter's own names,
//! for Prometheus's multi-target pattern (relabel `__param_host` to `instance`).

use std::fmt::Write as _;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ferrostat_core::metrics::{DiskSample, InterfaceSample};
use tokio::sync::Mutex;

use crate::collect::gpu::{read_off_thread, GpuReading, Gpus};
use crate::collect::host::{HostSnapshot, Parts};
use crate::collect::shared::ProcCache;
use crate::endpoint::gateway::GatewayStats;
use crate::registry::Registry;
use crate::registry::RemoteHost;
use crate::sflow::collector::CollectorStats;
use crate::sflow::collector::SourceStats;
use crate::sflow::columns::{
    Column, HostValues, Kind, Value as ColumnValue, Values, VmValues, HOST, VM,
};
use crate::ssh::hub::Hub;
use crate::state::history::History;

/// The content type Prometheus expects for the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The last page rendered and what rendering needs.
pub struct Source {
    inner: Mutex<Inner>,
    proc: Arc<ProcCache>,
    gpus: Option<Arc<Gpus>>,
    max_age: Duration,
    collectors: Collectors,
}

struct Inner {
    page: String,
    rendered_at: Option<Instant>,
}

impl Source {
    /// Renders `collectors` from `proc` (and `gpus`, when the agent may use NVML) at
    /// most once per `max_age`.
    pub fn new(
        proc: Arc<ProcCache>,
        gpus: Option<Arc<Gpus>>,
        max_age: Duration,
        collectors: Collectors,
    ) -> Self {
        Source {
            inner: Mutex::new(Inner {
                page: String::new(),
                rendered_at: None,
            }),
            proc,
            gpus,
            max_age,
            collectors,
        }
    }
}

/// The node_exporter collectors `/metrics` serves: every one by default, as
/// node_exporter's switches (`--collector.NAME`, `--no-collector.NAME`,
/// `--collector.disable-defaults`) leave them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Collectors(u32);

impl Default for Collectors {
    fn default() -> Self {
        Collectors((1 << COLLECTORS.len()) - 1)
    }
}

impl Collectors {
    /// The collectors `switches` leave on.
    ///
    /// # Errors
    /// A switch names a collector the agent does not have (or one of node_exporter's
    /// collector options, which it does not take yet).
    pub fn from_switches(switches: &crate::cli::CollectorSwitches) -> Result<Self, String> {
        let mut on = if switches.disable_defaults {
            Collectors(0)
        } else {
            Collectors::default()
        };
        for (name, enable) in &switches.set {
            let Some(i) = COLLECTORS.iter().position(|(c, _)| c == name) else {
                let known: Vec<&str> = COLLECTORS.iter().map(|(c, _)| *c).collect();
                return Err(format!(
                    "no collector {name:?} (this agent serves {})",
                    known.join(", ")
                ));
            };
            if *enable {
                on.0 |= 1 << i;
            } else {
                on.0 &= !(1 << i);
            }
        }
        Ok(on)
    }

    fn serves(self, index: usize) -> bool {
        self.0 & (1 << index) != 0
    }
}

/// What `/metrics` needs of the agent.
#[derive(Clone)]
pub struct Context {
    /// This host's page and its cache.
    pub metrics: Arc<Source>,
    /// Hosts reported by sFlow and their VMs.
    pub registry: Arc<Registry>,
    /// The sFlow collector's per-source counters, when it is on.
    pub collector: Option<Arc<CollectorStats>>,
    /// The sFlow history, when the collector is on.
    pub history: Option<Arc<History>>,
    /// Edge gateways' counters.
    pub gateways: Arc<super::gateway::Gateways>,
    /// Hosts watched over SSH.
    pub ssh: Arc<Hub>,
}

/// Query parameters.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Params {
    /// A host watched over SSH: its page alone, under node_exporter's names.
    host: Option<String>,
}

/// Serves the page, rendering it first when the cached one is older than the cache
/// period. The agent's own counters follow, always current.
pub async fn handle(
    headers: HeaderMap,
    Query(params): Query<Params>,
    State(state): State<Context>,
) -> Response {
    let gzip = accepts_gzip(&headers);
    if let Some(name) = &params.host {
        let Some(host) = state.ssh.find(name) else {
            return super::no_such_host(name);
        };
        let mut page = String::new();
        return match render(
            &host.mirror,
            Duration::ZERO,
            state.metrics.collectors,
            &mut page,
        ) {
            Ok(()) => page_response(page, gzip).await,
            Err(e) => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("{name}: not polled yet or unreadable: {e}\n"),
            )
                .into_response(),
        };
    }
    let source = &state.metrics;
    let mut inner = source.inner.lock().await;
    let fresh = inner
        .rendered_at
        .is_some_and(|t| t.elapsed() < source.max_age);
    if !fresh {
        let page = &mut inner.page;
        page.clear();
        let rendered = render(&source.proc, source.max_age, source.collectors, page);
        if let Err(e) = rendered {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("collecting metrics failed: {e}\n"),
            )
                .into_response();
        }
        // Only when the page is rendered: a cached page needs no driver calls.
        let gpus = read_off_thread(source.gpus.as_ref()).await;
        render_gpus(&gpus, &mut Page(page));
        inner.rendered_at = Some(Instant::now());
    }
    let mut body = inner.page.clone();
    drop(inner);
    render_self(&source.proc, &mut Page(&mut body));
    render_remote(&state, &mut Page(&mut body));
    render_watched(&state, &mut body);
    page_response(body, gzip).await
}

/// Whether the client takes gzip, as Prometheus asks by default: `gzip` (or `*`) in
/// Accept-Encoding with a weight above zero (RFC 9110, section 12.5.3).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let weight = parts
                .filter_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            (name.eq_ignore_ascii_case("gzip") || name == "*") && weight > 0.0
        })
}

/// The page, gzip-compressed off the async threads when the client takes it: with many
/// sFlow hosts a page runs to megabytes, and its text compresses about tenfold.
async fn page_response(page: String, gzip: bool) -> Response {
    let vary = (header::VARY, "Accept-Encoding");
    if !gzip {
        return ([(header::CONTENT_TYPE, CONTENT_TYPE), vary], page).into_response();
    }
    match tokio::task::spawn_blocking(move || super::gzip(page.as_bytes())).await {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, CONTENT_TYPE),
                (header::CONTENT_ENCODING, "gzip"),
                vary,
            ],
            body,
        )
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("compressing the page failed: {e}\n"),
        )
            .into_response(),
    }
}

/// Hosts watched over SSH: whether each is polled, then every node_exporter family of
/// each, renamed `ferrostat_ssh_*` and labelled `host`, all hosts' samples of a family
/// together (the exposition format wants each family in one piece).
fn render_watched(state: &Context, out: &mut String) {
    let hosts = state.ssh.hosts();
    if hosts.is_empty() {
        return;
    }
    let mut page = Page(out);
    let name = "ferrostat_ssh_up";
    page.family(
        name,
        "gauge",
        "Whether the host watched over SSH answered its last poll.",
    );
    for h in &hosts {
        page.sample(
            name,
            &[("host", &h.name())],
            f64::from(u8::from(h.error.is_none())),
        );
    }
    // (family, HELP and TYPE lines, samples), in the order families first appear.
    let mut families: Vec<(String, String, Vec<String>)> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for h in &hosts {
        let mut one = String::new();
        if render(
            &h.mirror,
            Duration::ZERO,
            state.metrics.collectors,
            &mut one,
        )
        .is_err()
        {
            continue; // not polled yet: only its ferrostat_ssh_up
        }
        let mut label = String::from("host=\"");
        escape_label(&mut label, &h.name());
        label.push('"');
        for line in one.lines() {
            if let Some(rest) = line.strip_prefix("# HELP node_") {
                let family = rest.split(' ').next().unwrap_or_default().to_owned();
                if !index.contains_key(&family) {
                    let help = format!("# HELP ferrostat_ssh_{rest}\n");
                    index.insert(family.clone(), families.len());
                    families.push((family, help, Vec::new()));
                }
            } else if let Some(rest) = line.strip_prefix("# TYPE node_") {
                if let Some(f) = families.last_mut().filter(|f| f.1.lines().count() == 1) {
                    f.1.push_str(&format!("# TYPE ferrostat_ssh_{rest}\n"));
                }
            } else if let Some(rest) = line.strip_prefix("node_") {
                let cut = rest.find(['{', ' ']).unwrap_or(rest.len());
                let (metric, tail) = rest.split_at(cut);
                let sample = match tail.strip_prefix('{') {
                    Some(labels) => format!("ferrostat_ssh_{metric}{{{label},{labels}"),
                    None => format!("ferrostat_ssh_{metric}{{{label}}}{tail}"),
                };
                if let Some(&at) = index.get(metric) {
                    families[at].2.push(sample);
                }
            }
        }
    }
    for (_, head, samples) in families {
        page.0.push_str(&head);
        for s in samples {
            page.0.push_str(&s);
            page.0.push('\n');
        }
    }
}

/// NVIDIA GPUs, under ferrostat's own names (node_exporter has none).
fn render_gpus(gpus: &[GpuReading], page: &mut Page<'_>) {
    type Get = fn(&GpuReading) -> Option<f64>;
    let families: [(&str, &str, Get); 4] = [
        (
            "ferrostat_gpu_utilization_ratio",
            "Fraction of the last sample period a kernel ran on the GPU.",
            |g| g.utilization_pct.map(|p| f64::from(p) / 100.0),
        ),
        (
            "ferrostat_gpu_memory_used_bytes",
            "GPU framebuffer memory allocated.",
            |g| g.mem_used_bytes.map(|b| b as f64),
        ),
        (
            "ferrostat_gpu_memory_total_bytes",
            "GPU framebuffer memory installed.",
            |g| g.mem_total_bytes.map(|b| b as f64),
        ),
        (
            "ferrostat_gpu_temperature_celsius",
            "GPU die temperature.",
            |g| g.temperature_c.map(f64::from),
        ),
    ];
    for (name, help, get) in families {
        if gpus.iter().all(|g| get(g).is_none()) {
            continue;
        }
        page.family(name, "gauge", help);
        for g in gpus {
            if let Some(v) = get(g) {
                page.sample(name, &[("gpu", &g.index.to_string()), ("name", &g.name)], v);
            }
        }
    }
}

/// What the agent itself did: reads per /proc file and process scans, which show that N
/// clients cost about what one does.
fn render_self(proc: &ProcCache, page: &mut Page<'_>) {
    let name = "ferrostat_agent_proc_reads_total";
    page.family(
        name,
        "counter",
        "Reads of each /proc file since the agent started (cache misses).",
    );
    for (file, reads) in proc.reads() {
        page.sample(name, &[("file", &file)], reads as f64);
    }
    page.single(
        "ferrostat_agent_process_scans_total",
        "counter",
        "Scans of every /proc/<pid> since the agent started.",
        proc.scans() as f64,
    );
}

/// The labels of a remote host's series: its name, agent address and sub-agent.
fn host_labels(h: &RemoteHost) -> Vec<(&'static str, String)> {
    vec![
        ("host", h.name()),
        ("agent", h.key.agent.to_string()),
        ("sub_agent", h.key.sub_agent.to_string()),
    ]
}

/// Remote hosts and VMs heard over sFlow, labelled by host, and what the collector and
/// the history writer did. Read from memory on every scrape: nothing here touches /proc.
fn render_remote(state: &Context, page: &mut Page<'_>) {
    let hosts = state.registry.hosts();
    let host_values: Vec<(Vec<(&str, String)>, &HostValues)> = hosts
        .iter()
        .filter_map(|h| h.latest.as_ref().map(|(_, v)| (host_labels(h), v)))
        .collect();
    render_columns(page, HOST, &host_values);
    // When each was last heard, gateways included: a silent host can be alerted on
    // (`time() - ... > 120`) long before it expires from the registry.
    if !hosts.is_empty() {
        let name = "ferrostat_sflow_last_seen_timestamp_seconds";
        page.family(
            name,
            "gauge",
            "When the host's latest sample arrived, in seconds since the epoch.",
        );
        for h in &hosts {
            let labels = host_labels(h);
            let labels: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
            page.sample(name, &labels, h.last_seen_ms as f64 / 1000.0);
        }
    }
    let vms = state.registry.vms();
    let vm_values: Vec<(Vec<(&str, String)>, &VmValues)> = vms
        .iter()
        .filter_map(|(vm, host)| {
            let labels = vec![("vm", vm.name.clone()), ("host", host.clone())];
            vm.latest.as_ref().map(|(_, v)| (labels, v))
        })
        .collect();
    render_columns(page, VM, &vm_values);
    render_gateways(&state.gateways, page);
    page.single(
        "ferrostat_ssh_watched_hosts",
        "gauge",
        "Hosts watched over SSH for /monitor (one connection each, shared by every client).",
        state.ssh.watched().len() as f64,
    );
    if let Some(history) = &state.history {
        use std::sync::atomic::Ordering::Relaxed;
        let h = &history.stats;
        for (name, help, v) in [
            (
                "ferrostat_history_samples_queued_total",
                "sFlow samples queued for the history store.",
                &h.queued,
            ),
            (
                "ferrostat_history_samples_committed_total",
                "sFlow samples committed to the history store.",
                &h.committed,
            ),
            (
                "ferrostat_history_queue_drops_total",
                "sFlow samples dropped because the history queue was full.",
                &h.queue_drops,
            ),
            (
                "ferrostat_history_write_errors_total",
                "sFlow samples lost to a failed history write.",
                &h.write_errors,
            ),
            (
                "ferrostat_history_samples_deleted_total",
                "sFlow samples removed by retention and downsampling.",
                &h.deleted,
            ),
        ] {
            page.single(name, "counter", help, v.load(Relaxed) as f64);
        }
    }
    let Some(collector) = &state.collector else {
        return;
    };
    let sources = collector.sources();
    type Get = fn(&SourceStats) -> u64;
    let families: [(&str, &str, Get); 6] = [
        ("ferrostat_sflow_datagrams_total", "sFlow datagrams received, by UDP source.", |s| s.datagrams),
        ("ferrostat_sflow_samples_total", "sFlow samples of every type, by UDP source.", |s| s.samples),
        ("ferrostat_sflow_flow_samples_skipped_total", "sFlow flow samples counted and skipped, by UDP source.", |s| s.flow_samples),
        ("ferrostat_sflow_records_total", "sFlow counter records, by UDP source.", |s| s.records),
        ("ferrostat_sflow_sequence_gaps_total", "sFlow datagrams lost on the way (gaps in the agents' sequence numbers), by UDP source.", |s| s.sequence_gaps),
        ("ferrostat_sflow_allowlist_drops_total", "sFlow datagrams dropped because their source is not allowed, by UDP source.", |s| s.allowlist_drops),
    ];
    for (name, help, get) in families {
        page.family(name, "counter", help);
        for (source, s) in &sources {
            page.sample(name, &[("source", &source.to_string())], get(s) as f64);
        }
    }
    let name = "ferrostat_sflow_decode_errors_total";
    page.family(
        name,
        "counter",
        "sFlow datagrams rejected as malformed, by UDP source and error kind.",
    );
    for (source, s) in &sources {
        for (kind, n) in &s.errors {
            page.sample(
                name,
                &[("source", &source.to_string()), ("kind", kind)],
                *n as f64,
            );
        }
    }
    page.single(
        "ferrostat_sflow_registry_refused_total",
        "counter",
        "New hosts or VMs not listed because the registry was full.",
        state.registry.refused() as f64,
    );
    page.single(
        "ferrostat_sflow_registry_expired_total",
        "counter",
        "Hosts and VMs forgotten after --remote-host-expiry-s without a sample.",
        state.registry.expired() as f64,
    );
}

/// Edge gateways: what they sent and what their heartbeats say.
fn render_gateways(gateways: &crate::endpoint::gateway::Gateways, page: &mut Page<'_>) {
    let list = gateways.list();
    let refused = gateways.refused();
    if list.is_empty() && refused.is_empty() {
        return;
    }
    type Get = fn(&GatewayStats) -> Option<f64>;
    let families: [(&str, &str, &str, Get); 8] = [
        (
            "ferrostat_gateway_connected",
            "gauge",
            "Whether the gateway's uplink is connected.",
            |s| Some(f64::from(u8::from(s.connected))),
        ),
        (
            "ferrostat_gateway_frames_total",
            "counter",
            "Frames decoded from the gateway.",
            |s| Some(s.frames as f64),
        ),
        (
            "ferrostat_gateway_samples_total",
            "counter",
            "Host samples the gateway forwarded.",
            |s| Some(s.samples as f64),
        ),
        (
            "ferrostat_gateway_uptime_seconds",
            "gauge",
            "Gateway uptime, from its heartbeat.",
            |s| s.health.map(|h| h.uptime_ms as f64 / 1000.0),
        ),
        (
            "ferrostat_gateway_link_up",
            "gauge",
            "Gateway Ethernet link state, from its heartbeat.",
            |s| s.health.map(|h| f64::from(u8::from(h.link_up))),
        ),
        (
            "ferrostat_gateway_sflow_datagrams_total",
            "counter",
            "sFlow datagrams the gateway received, from its heartbeat.",
            |s| s.health.map(|h| f64::from(h.datagrams)),
        ),
        (
            "ferrostat_gateway_sflow_decode_errors_total",
            "counter",
            "sFlow datagrams the gateway could not decode, from its heartbeat.",
            |s| s.health.map(|h| f64::from(h.decode_errors)),
        ),
        (
            "ferrostat_gateway_queue_drops_total",
            "counter",
            "Samples the gateway dropped from its queue, from its heartbeat.",
            |s| s.health.map(|h| f64::from(h.queue_drops)),
        ),
    ];
    for (name, kind, help, get) in families {
        page.family(name, kind, help);
        for (id, s) in &list {
            if let Some(v) = get(s) {
                page.sample(name, &[("gateway", id)], v);
            }
        }
    }
    let name = "ferrostat_gateway_bad_frames_total";
    page.family(
        name,
        "counter",
        "Frames rejected (and skipped to the next delimiter), by gateway and reason.",
    );
    for (id, s) in &list {
        for (kind, n) in &s.bad_frames {
            page.sample(name, &[("gateway", id), ("kind", kind)], *n as f64);
        }
    }
    let name = "ferrostat_gateway_refused_total";
    page.family(name, "counter", "Gateway connections refused, by reason.");
    for (reason, n) in &refused {
        page.sample(name, &[("reason", reason)], *n as f64);
    }
}

/// One family per metric name of `columns` (columns of a family are adjacent), one
/// sample per entity that knows the value.
fn render_columns<const N: usize>(
    page: &mut Page<'_>,
    columns: &[Column],
    entities: &[(Vec<(&str, String)>, &Values<N>)],
) {
    let mut start = 0;
    while start < columns.len() {
        let metric = columns[start].metric;
        let end = columns[start..]
            .iter()
            .position(|c| c.metric != metric)
            .map_or(columns.len(), |n| start + n);
        let value = |v: &Values<N>, at: usize| -> Option<f64> {
            let x = match v.get(columns, at)? {
                ColumnValue::Int(i) => i as f64,
                // host_cpu's -1 load means unknown.
                ColumnValue::Real(f) if f < 0.0 => return None,
                ColumnValue::Real(f) => f,
            };
            Some(x * columns[at].scale)
        };
        let known = entities
            .iter()
            .any(|(_, v)| (start..end).any(|at| value(v, at).is_some()));
        if known {
            let c = &columns[start];
            let kind = match c.kind {
                Kind::Counter32 | Kind::Counter64 => "counter",
                _ => "gauge",
            };
            page.family(metric, kind, c.help);
            for (labels, v) in entities {
                for (at, column) in columns.iter().enumerate().take(end).skip(start) {
                    let Some(x) = value(v, at) else { continue };
                    let mut l: Vec<(&str, &str)> =
                        labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    if let Some(extra) = column.label {
                        l.push(extra);
                    }
                    page.sample(metric, &l, x);
                }
            }
        }
        start = end;
    }
}

/// Writes metric families into a page.
struct Page<'p>(&'p mut String);

impl Page<'_> {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{k}=\"");
                escape_label(self.0, v);
                self.0.push('"');
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }

    /// A family with one unlabelled sample.
    fn single(&mut self, name: &str, kind: &str, help: &str, value: f64) {
        self.family(name, kind, help);
        self.sample(name, &[], value);
    }
}

/// Label values escape backslash, double quote and newline (exposition format spec).
fn escape_label(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// The node_exporter collectors `/metrics` serves, each with the part of the model it
/// maps: a collector whose part failed is left out and reported unsuccessful.
const COLLECTORS: [(&str, Parts); 14] = [
    ("cpu", Parts::CPU),
    ("diskstats", Parts::DISKS),
    ("entropy", Parts::ENTROPY),
    ("filefd", Parts::FILE_HANDLES),
    ("loadavg", Parts::LOAD),
    ("meminfo", Parts::MEMORY_FIELDS),
    ("netdev", Parts::INTERFACES),
    ("netstat", Parts::NETSTAT_FIELDS),
    ("os", Parts::OS_RELEASE),
    ("pressure", Parts::PRESSURE),
    ("stat", Parts::CPU),
    ("time", Parts::CLOCKSOURCES),
    ("uname", Parts::UNAME),
    ("vmstat", Parts::VMSTAT_FIELDS),
];

/// This host's (or a mirror's) node_exporter families. Each collector succeeds or fails
/// on its own, as node_exporter's do (`node_scrape_collector_success`); an error only
/// when every one failed (nothing read yet from a watched host).
pub(crate) fn render(
    proc: &ProcCache,
    max_age: Duration,
    collectors: Collectors,
    out: &mut String,
) -> io::Result<()> {
    // A watched host's page once its files are all there, not a few collectors early.
    if !proc.polled() {
        return Err(io::Error::new(io::ErrorKind::NotFound, "not polled yet"));
    }
    let mut page = Page(out);
    let mut parts = Parts::default();
    for (i, (_, part)) in COLLECTORS.iter().enumerate() {
        if collectors.serves(i) {
            parts = parts | *part;
        }
    }
    let model = proc.host_partial(parts, max_age);
    let ok = |part: Parts| parts.contains(part) && model.error(part).is_none();
    // A collector is rendered when it is on and its part was read.
    let on = |name: &str| {
        COLLECTORS
            .iter()
            .position(|(c, _)| *c == name)
            .is_some_and(|i| collectors.serves(i) && ok(COLLECTORS[i].1))
    };
    if parts != Parts::default() && !COLLECTORS.iter().any(|(_, part)| ok(*part)) {
        let why = model.error(parts).unwrap_or_default();
        return Err(io::Error::new(io::ErrorKind::InvalidData, why.to_owned()));
    }
    if on("cpu") {
        render_cpu(&model, &mut page);
    }
    if on("stat") {
        render_stat(&model, &mut page);
    }
    if on("meminfo") {
        render_meminfo(&model, &mut page);
    }
    if on("loadavg") {
        let [one, five, fifteen] = model.sample.load.averages();
        page.single("node_load1", "gauge", "1m load average.", one);
        page.single("node_load5", "gauge", "5m load average.", five);
        page.single("node_load15", "gauge", "15m load average.", fifteen);
    }
    if on("netdev") {
        render_netdev(&model, &mut page);
    }
    if on("diskstats") {
        render_diskstats(&model, &mut page);
    }
    let limits = &model.sample.kernel_limits;
    let kernel_limits = [
        (
            "entropy",
            "node_entropy_available_bits",
            "Bits of available entropy.",
            limits.entropy_bits,
        ),
        (
            "entropy",
            "node_entropy_pool_size_bits",
            "Bits of entropy pool.",
            limits.entropy_pool_bits,
        ),
        (
            "filefd",
            "node_filefd_allocated",
            "File descriptor statistics: allocated.",
            limits.file_handles,
        ),
        (
            "filefd",
            "node_filefd_maximum",
            "File descriptor statistics: maximum.",
            limits.file_handles_max,
        ),
    ];
    for (collector, name, help, value) in kernel_limits {
        if on(collector) {
            page.single(name, "gauge", help, value.unwrap_or(0) as f64);
        }
    }
    if let (true, Some(u)) = (on("uname"), &model.uname) {
        page.family(
            "node_uname_info",
            "gauge",
            "Labeled system information as provided by the uname system call.",
        );
        let labels = [
            ("domainname", u.domainname.as_str()),
            ("machine", &u.machine),
            ("nodename", &u.nodename),
            ("release", &u.release),
            ("sysname", &u.sysname),
            ("version", &u.version),
        ];
        page.sample("node_uname_info", &labels, 1.0);
    }
    if on("vmstat") {
        render_vmstat(&model, &mut page);
    }
    if on("time") {
        render_time(&model, &mut page);
    }
    if on("os") {
        render_os(&model, &mut page);
    }
    if on("netstat") {
        render_netstat(&model, &mut page);
    }
    // Kernels without CONFIG_PSI have no pressure files: no families, and the collector
    // reports no success, as node_exporter's does.
    let pressure = on("pressure") && model.sample.pressure.is_some();
    if pressure {
        render_pressure(&model, &mut page);
    }
    page.family(
        "node_scrape_collector_success",
        "gauge",
        "node_exporter: Whether a collector succeeded.",
    );
    for (i, (collector, part)) in COLLECTORS.into_iter().enumerate() {
        if !collectors.serves(i) {
            continue;
        }
        let success = ok(part) && (part != Parts::PRESSURE || pressure);
        page.sample(
            "node_scrape_collector_success",
            &[("collector", collector)],
            if success { 1.0 } else { 0.0 },
        );
    }
    Ok(())
}

fn render_cpu(model: &HostSnapshot, page: &mut Page<'_>) {
    let cpus = &model.sample.cpus;
    let seconds = |ms: u64| ms as f64 / 1000.0;
    page.family(
        "node_cpu_seconds_total",
        "counter",
        "Seconds the CPUs spent in each mode.",
    );
    for cpu in cpus {
        let id = cpu.id.to_string();
        let t = cpu.counters;
        for (mode, ms) in [
            ("idle", t.idle_ms),
            ("iowait", t.iowait_ms),
            ("irq", t.irq_ms),
            ("nice", t.nice_ms),
            ("softirq", t.softirq_ms),
            ("steal", t.steal_ms),
            ("system", t.system_ms),
            ("user", t.user_ms),
        ] {
            page.sample(
                "node_cpu_seconds_total",
                &[("cpu", &id), ("mode", mode)],
                seconds(ms),
            );
        }
    }
    page.family(
        "node_cpu_guest_seconds_total",
        "counter",
        "Seconds the CPUs spent in guests (VMs) for each mode.",
    );
    for cpu in cpus {
        let id = cpu.id.to_string();
        page.sample(
            "node_cpu_guest_seconds_total",
            &[("cpu", &id), ("mode", "nice")],
            seconds(cpu.counters.guest_nice_ms),
        );
        page.sample(
            "node_cpu_guest_seconds_total",
            &[("cpu", &id), ("mode", "user")],
            seconds(cpu.counters.guest_ms),
        );
    }
}

/// node_exporter's stat collector: the scheduler counters of /proc/stat.
fn render_stat(model: &HostSnapshot, page: &mut Page<'_>) {
    let s = &model.sample.kernel;
    let scalars = [
        (
            "node_boot_time_seconds",
            "gauge",
            "Node boot time, in unixtime.",
            s.boot_time_secs,
        ),
        (
            "node_context_switches_total",
            "counter",
            "Total number of context switches.",
            s.context_switches,
        ),
        (
            "node_forks_total",
            "counter",
            "Total number of forks.",
            s.forks,
        ),
        (
            "node_intr_total",
            "counter",
            "Total number of interrupts serviced.",
            s.interrupts,
        ),
        (
            "node_procs_running",
            "gauge",
            "Number of processes in runnable state.",
            s.procs_running,
        ),
        (
            "node_procs_blocked",
            "gauge",
            "Number of processes blocked waiting for I/O to complete.",
            s.procs_blocked,
        ),
    ];
    for (name, kind, help, value) in scalars {
        if let Some(v) = value {
            page.single(name, kind, help, v as f64);
        }
    }
}

/// Every meminfo line, named as node_exporter names it.
fn render_meminfo(model: &HostSnapshot, page: &mut Page<'_>) {
    let mut metric = String::new();
    for field in &*model.memory_fields {
        metric.clear();
        metric.push_str("node_memory_");
        for c in field.name.chars() {
            match c {
                '(' => metric.push('_'),
                ')' => {}
                c => metric.push(c),
            }
        }
        if field.bytes {
            metric.push_str("_bytes");
        }
        page.single(
            &metric,
            "gauge",
            &format!("Memory information field {}.", field.name),
            field.value as f64,
        );
    }
}

/// node_exporter's netstat collector with its default `--collector.netstat.fields`:
/// `^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts|TCPOFOQueue|TCPRcvQDrop)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$`.
fn render_netstat(model: &HostSnapshot, page: &mut Page<'_>) {
    let default_field = |name: &str| {
        let Some((section, field)) = name.split_once('_') else {
            return false;
        };
        let any = |list: &[&str]| list.contains(&field);
        any(&["InErrors", "InErrs"])
            || name == "Ip_Forwarding"
            || (matches!(section, "Ip6" | "IpExt") && any(&["InOctets", "OutOctets"]))
            || (matches!(section, "Icmp" | "Icmp6") && any(&["InMsgs", "OutMsgs"]))
            || (section == "TcpExt"
                && (field.starts_with("Listen")
                    || field.starts_with("Syncookies")
                    || any(&["TCPSynRetrans", "TCPTimeouts", "TCPOFOQueue", "TCPRcvQDrop"])))
            || (section == "Tcp"
                && any(&[
                    "ActiveOpens",
                    "InSegs",
                    "OutSegs",
                    "OutRsts",
                    "PassiveOpens",
                    "RetransSegs",
                    "CurrEstab",
                ]))
            || (matches!(section, "Udp" | "Udp6")
                && any(&[
                    "InDatagrams",
                    "OutDatagrams",
                    "NoPorts",
                    "RcvbufErrors",
                    "SndbufErrors",
                ]))
    };
    for (name, value) in &model.netstat_fields {
        if default_field(name) {
            page.single(
                &format!("node_netstat_{name}"),
                "untyped",
                &format!("Statistic {}.", name.replace('_', "")),
                *value as f64,
            );
        }
    }
}

/// node_exporter's os collector: os-release's identification as labels, and the
/// major.minor of `VERSION_ID` as a number.
fn render_os(model: &HostSnapshot, page: &mut Page<'_>) {
    let get = |key: &str| {
        model
            .os_release
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    };
    let keys = [
        ("build_id", "BUILD_ID"),
        ("id", "ID"),
        ("id_like", "ID_LIKE"),
        ("image_id", "IMAGE_ID"),
        ("image_version", "IMAGE_VERSION"),
        ("name", "NAME"),
        ("pretty_name", "PRETTY_NAME"),
        ("variant", "VARIANT"),
        ("variant_id", "VARIANT_ID"),
        ("version", "VERSION"),
        ("version_codename", "VERSION_CODENAME"),
        ("version_id", "VERSION_ID"),
    ];
    let labels: Vec<(&str, &str)> = keys.iter().map(|(l, k)| (*l, get(k))).collect();
    page.family(
        "node_os_info",
        "gauge",
        "A metric with a constant '1' value labeled by build_id, id, id_like, image_id, image_version, name, pretty_name, variant, variant_id, version, version_codename, version_id.",
    );
    page.sample("node_os_info", &labels, 1.0);
    // node_exporter's `^[0-9]+\.?[0-9]*`: the leading digits and at most one dot.
    let version_id = get("VERSION_ID");
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let major = digits(version_id);
    let mut end = major;
    if major > 0 && version_id[major..].starts_with('.') {
        end = major + 1 + digits(&version_id[major + 1..]);
    }
    if let Ok(version) = version_id[..end].trim_end_matches('.').parse::<f64>() {
        page.family(
            "node_os_version",
            "gauge",
            "Metric containing the major.minor part of the OS version.",
        );
        let labels = [
            ("id", get("ID")),
            ("id_like", get("ID_LIKE")),
            ("name", get("NAME")),
        ];
        page.sample("node_os_version", &labels, version);
    }
}

/// node_exporter's time collector: the clock now and the clock sources.
fn render_time(model: &HostSnapshot, page: &mut Page<'_>) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    page.single(
        "node_time_seconds",
        "gauge",
        "System time in seconds since epoch (1970).",
        now,
    );
    for (name, help, current_only) in [
        (
            "node_time_clocksource_available_info",
            "Available clocksources read from '/sys/devices/system/clocksource'.",
            false,
        ),
        (
            "node_time_clocksource_current_info",
            "Current clocksource read from '/sys/devices/system/clocksource'.",
            true,
        ),
    ] {
        page.family(name, "gauge", help);
        for c in model
            .clocksources
            .iter()
            .filter(|c| c.current || !current_only)
        {
            let device = c.device.to_string();
            page.sample(name, &[("clocksource", &c.name), ("device", &device)], 1.0);
        }
    }
}

/// The /proc/vmstat counters node_exporter serves by default: its
/// `--collector.vmstat.fields` default, `^(oom_kill|pgpg|pswp|pg.*fault).*`.
fn render_vmstat(model: &HostSnapshot, page: &mut Page<'_>) {
    let default_field = |name: &str| {
        name.starts_with("oom_kill")
            || name.starts_with("pgpg")
            || name.starts_with("pswp")
            || name
                .strip_prefix("pg")
                .is_some_and(|rest| rest.contains("fault"))
    };
    for field in model.vmstat_fields.iter() {
        if default_field(&field.name) {
            page.single(
                &format!("node_vmstat_{}", field.name),
                "untyped",
                &format!("/proc/vmstat information field {}.", field.name),
                field.value as f64,
            );
        }
    }
}

fn render_netdev(model: &HostSnapshot, page: &mut Page<'_>) {
    type NicField = fn(&InterfaceSample) -> u64;
    let nic_fields: [(&str, &str, NicField); 16] = [
        ("receive_bytes", "bytes", |i| i.rx_bytes),
        ("receive_packets", "packets", |i| i.rx_packets),
        ("receive_errs", "errs", |i| i.rx_errors),
        ("receive_drop", "drop", |i| i.rx_drops),
        ("receive_fifo", "fifo", |i| i.rx_fifo),
        ("receive_frame", "frame", |i| i.rx_frame),
        ("receive_compressed", "compressed", |i| i.rx_compressed),
        ("receive_multicast", "multicast", |i| i.rx_multicast),
        ("transmit_bytes", "bytes", |i| i.tx_bytes),
        ("transmit_packets", "packets", |i| i.tx_packets),
        ("transmit_errs", "errs", |i| i.tx_errors),
        ("transmit_drop", "drop", |i| i.tx_drops),
        ("transmit_fifo", "fifo", |i| i.tx_fifo),
        ("transmit_colls", "colls", |i| i.tx_collisions),
        ("transmit_carrier", "carrier", |i| i.tx_carrier),
        ("transmit_compressed", "compressed", |i| i.tx_compressed),
    ];
    for (suffix, what, get) in nic_fields {
        let name = format!("node_network_{suffix}_total");
        let direction = suffix.split('_').next().unwrap_or_default();
        page.family(
            &name,
            "counter",
            &format!("Network device statistic {direction}_{what}."),
        );
        for nic in &model.sample.interfaces {
            page.sample(&name, &[("device", &nic.name)], get(nic) as f64);
        }
    }
}

fn render_diskstats(model: &HostSnapshot, page: &mut Page<'_>) {
    type DiskField = fn(&DiskSample) -> f64;
    let disk_fields: [(&str, &str, &str, DiskField); 11] = [
        (
            "node_disk_reads_completed_total",
            "counter",
            "The total number of reads completed successfully.",
            |d| d.reads as f64,
        ),
        (
            "node_disk_reads_merged_total",
            "counter",
            "The total number of reads merged.",
            |d| d.reads_merged as f64,
        ),
        (
            "node_disk_read_bytes_total",
            "counter",
            "The total number of bytes read successfully.",
            |d| d.read_bytes as f64,
        ),
        (
            "node_disk_read_time_seconds_total",
            "counter",
            "The total number of seconds spent by all reads.",
            |d| d.read_time_ms as f64 / 1000.0,
        ),
        (
            "node_disk_writes_completed_total",
            "counter",
            "The total number of writes completed successfully.",
            |d| d.writes as f64,
        ),
        (
            "node_disk_writes_merged_total",
            "counter",
            "The number of writes merged.",
            |d| d.writes_merged as f64,
        ),
        (
            "node_disk_written_bytes_total",
            "counter",
            "The total number of bytes written successfully.",
            |d| d.write_bytes as f64,
        ),
        (
            "node_disk_write_time_seconds_total",
            "counter",
            "This is the total number of seconds spent by all writes.",
            |d| d.write_time_ms as f64 / 1000.0,
        ),
        (
            "node_disk_io_now",
            "gauge",
            "The number of I/Os currently in progress.",
            |d| d.in_progress as f64,
        ),
        (
            "node_disk_io_time_seconds_total",
            "counter",
            "Total seconds spent doing I/Os.",
            |d| d.io_time_ms as f64 / 1000.0,
        ),
        (
            "node_disk_io_time_weighted_seconds_total",
            "counter",
            "The weighted # of seconds spent doing I/Os.",
            |d| d.weighted_io_time_ms as f64 / 1000.0,
        ),
    ];
    for (name, kind, help, get) in disk_fields {
        page.family(name, kind, help);
        for d in &model.sample.disks {
            page.sample(name, &[("device", &d.name)], get(d));
        }
    }
}

fn render_pressure(model: &HostSnapshot, page: &mut Page<'_>) {
    if let Some(p) = &model.sample.pressure {
        let secs = |us: u64| us as f64 / 1e6;
        let families = [
            (
                "node_pressure_cpu_waiting_seconds_total",
                "Total time in seconds that processes have waited for CPU time",
                Some(p.cpu_some_total_us),
            ),
            (
                "node_pressure_memory_waiting_seconds_total",
                "Total time in seconds that processes have waited for memory",
                Some(p.memory_some_total_us),
            ),
            (
                "node_pressure_memory_stalled_seconds_total",
                "Total time in seconds no process could make progress due to memory congestion",
                p.memory_full_total_us,
            ),
            (
                "node_pressure_io_waiting_seconds_total",
                "Total time in seconds that processes have waited due to IO congestion",
                Some(p.io_some_total_us),
            ),
            (
                "node_pressure_io_stalled_seconds_total",
                "Total time in seconds no process could make progress due to IO congestion",
                p.io_full_total_us,
            ),
            (
                "node_pressure_irq_stalled_seconds_total",
                "Total time in seconds no process could make progress due to IRQ congestion",
                p.irq_full_total_us,
            ),
        ];
        for (name, help, value) in families {
            if let Some(us) = value {
                page.single(name, "counter", help, secs(us));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepts(values: &[&str]) -> bool {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(header::ACCEPT_ENCODING, v.parse().unwrap());
        }
        accepts_gzip(&headers)
    }

    /// What Prometheus, curl and browsers send, and the ways of saying no.
    #[test]
    fn accept_encoding_weights() {
        assert!(accepts(&["gzip"]));
        assert!(accepts(&["deflate, gzip, br, zstd"]));
        assert!(accepts(&["br;q=1.0, GZIP;q=0.5"]));
        assert!(accepts(&["identity", "*"]));
        assert!(!accepts(&[]));
        assert!(!accepts(&["identity"]));
        assert!(!accepts(&["gzip;q=0"]));
        assert!(!accepts(&["gzip; q=0.000, br"]));
        assert!(!accepts(&["x-gzip-not"]));
    }
}
