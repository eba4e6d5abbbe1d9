//! Command-line interface (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Host telemetry for Linux servers: collects metrics from /proc on demand and serves
/// them over HTTP.
#[derive(Debug, Parser)]
#[command(name = "ferrostat-agent", version, about)]
pub struct Cli {
    /// What to do; without one, serves (as `serve` with its defaults and FERROSTAT_*
    /// environment variables).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve metrics over HTTP(S) and WebSocket: `/metrics` (Prometheus, node_exporter
    /// names), `/ws` (socktop), `/` (psiod), `/ws/stats` and `/api/ws/stats` (the stats
    /// stream), `/monitor` (Argusyes's agentless SSH monitor), `POST /api`
    /// (sflow-monitor's JSON-RPC API, with --sflow) and `/healthz`. Flags override
    /// environment variables, which override the configuration file.
    Serve(Box<ServeArgs>),
    /// Print one host sample (CPU, memory, load, network, disks, pressure) as JSON.
    Snapshot(SnapshotArgs),
    /// Parse one /proc file with ferrostat-core and print it as JSON.
    ///
    /// Names are decoded (octal and C escapes undone, invalid UTF-8 shown as U+FFFD).
    /// A parse error exits with status 2 and reports the error kind and byte offset.
    Parse(ParseArgs),
    /// sFlow tools.
    #[command(subcommand)]
    Sflow(SflowCommand),
}

/// `sflow` subcommands.
#[derive(Debug, Subcommand)]
pub enum SflowCommand {
    /// Decode sFlow v5 datagrams from a pcap or pcapng capture, or one raw datagram, and
    /// print one JSON object per datagram.
    ///
    /// A datagram that does not decode is reported on stderr with its index and the
    /// error, and decoding carries on; the exit status is then 2.
    Decode(SflowDecodeArgs),
    /// Send the sFlow datagrams of captures over UDP, as agents would: for tests,
    /// benchmarks and trying a collector.
    Replay(SflowReplayArgs),
}

/// Arguments of `sflow replay`.
#[derive(Debug, Args)]
pub struct SflowReplayArgs {
    /// pcap or pcapng captures (`-`: standard input), read as they are sent; their
    /// datagrams go out in order, each to every agent address before the next.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The collector.
    #[arg(long)]
    pub to: std::net::SocketAddr,
    /// Address to send from (default: any on the collector's family).
    #[arg(long)]
    pub from: Option<std::net::SocketAddr>,
    /// Datagrams to send in all (default: each datagram once to each agent address).
    /// Past the end of the captures they are sent again, round after round, from memory.
    #[arg(long)]
    pub count: Option<u64>,
    /// Datagrams per second (default 0: as fast as the socket takes them).
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
    /// Rewrite the agent address to this one (IPv4 or IPv6) ...
    #[arg(long)]
    pub agent: Option<std::net::IpAddr>,
    /// ... and spread datagrams over this many consecutive agent addresses from it.
    #[arg(long, default_value_t = 1, requires = "agent")]
    pub agents: u32,
    /// Number each agent's datagrams 1, 2, 3, ... so the collector's sequence-gap count
    /// shows exactly what was lost on the way.
    #[arg(long)]
    pub renumber: bool,
    /// UDP destination port of the sFlow datagrams in the captures (0: any UDP).
    #[arg(long, default_value_t = 6343)]
    pub port: u16,
}

/// Arguments of `sflow decode`.
#[derive(Debug, Args)]
pub struct SflowDecodeArgs {
    /// A pcap or pcapng file, or a file holding one raw datagram (`-` for stdin).
    pub file: PathBuf,
    /// Print in the structure, field names and value formatting of `sflowtool -j`.
    #[arg(long)]
    pub sflowtool: bool,
    /// UDP destination port of the sFlow datagrams in a capture (0: any UDP).
    #[arg(long, default_value_t = 6343)]
    pub port: u16,
}

/// node_exporter's collector switches as given, in order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CollectorSwitches {
    /// `--collector.disable-defaults`: only the collectors turned on are served.
    pub disable_defaults: bool,
    /// `--collector.NAME` (true) and `--no-collector.NAME` (false).
    pub set: Vec<(String, bool)>,
}

/// Takes node_exporter's collector switches out of a command line, so a unit file
/// written for node_exporter works unchanged: their names are open-ended, which clap's
/// declared flags are not. Everything else is returned as it came, for clap.
pub fn take_collector_switches(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> (Vec<std::ffi::OsString>, CollectorSwitches) {
    let mut rest = Vec::new();
    let mut switches = CollectorSwitches::default();
    for arg in args {
        match arg.to_str() {
            Some("--collector.disable-defaults") => switches.disable_defaults = true,
            Some(a) if a.starts_with("--collector.") && !a.contains('=') => {
                switches
                    .set
                    .push((a["--collector.".len()..].to_owned(), true));
            }
            Some(a) if a.starts_with("--no-collector.") => {
                switches
                    .set
                    .push((a["--no-collector.".len()..].to_owned(), false));
            }
            _ => rest.push(arg),
        }
    }
    (rest, switches)
}

/// A listen address: `host:port`, or node_exporter's `:port` for every IPv4 address.
fn listen_address(text: &str) -> Result<std::net::SocketAddr, String> {
    let full = match text.strip_prefix(':') {
        Some(port) => format!("0.0.0.0:{port}"),
        None => text.to_owned(),
    };
    full.parse()
        .map_err(|e| format!("{text:?} is not an address and port: {e}"))
}

/// Arguments of `serve`. Every one is optional here so the configuration file can fill
/// in what neither a flag nor the environment gave.
#[derive(Debug, Default, Args)]
pub struct ServeArgs {
    /// Address to listen on; repeat for several (default 127.0.0.1:3000). Also spelled
    /// as node_exporter's `--web.listen-address`, whose `:9100` means every IPv4 address.
    #[arg(
        long,
        env = "FERROSTAT_LISTEN",
        value_delimiter = ',',
        alias = "web.listen-address",
        value_parser = listen_address
    )]
    pub listen: Vec<std::net::SocketAddr>,
    /// Token clients must present (`Authorization: Bearer`, `?token=` or the WebSocket
    /// sub-protocol). Required to listen on a non-loopback address. SOCKTOP_TOKEN is
    /// read when this is not set.
    #[arg(long, env = "FERROSTAT_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Allow a non-loopback listener without a token.
    #[arg(long, env = "FERROSTAT_INSECURE")]
    pub insecure: bool,
    /// TOML configuration file (keys as the long flags with `_` for `-`: listen, token,
    /// insecure, proc_root, sys_root, rootfs, cache_ms, allow_kill, max_connections,
    /// max_http_connections, max_http_connections_per_address,
    /// max_connections_per_address, header_timeout_ms, idle_timeout_ms,
    /// websocket_idle_ms, allowed_host, write_timeout_ms, stats_interval_ms,
    /// data_dir, tls, tls_cert, tls_key, tls_san, no_gpu, no_temperature,
    /// socktop_metrics_ttl_ms, socktop_disks_ttl_ms, socktop_processes_ttl_ms, sflow,
    /// sflow_allow, history_raw_hours, history_minute_hours, history_retention_days,
    /// history_queue, remote_host_expiry_s, remote_host_limit, gateway_listen, ssh_key,
    /// ssh_known_hosts, ssh_require_known_hosts, ssh_watch).
    #[arg(long, env = "FERROSTAT_CONFIG")]
    pub config: Option<PathBuf>,
    /// The procfs mount to read (default /proc; node_exporter's `--path.procfs`).
    #[arg(long, env = "FERROSTAT_PROC_ROOT", alias = "path.procfs")]
    pub proc_root: Option<PathBuf>,
    /// The sysfs mount to read sensors, block devices and clock sources from (default
    /// /sys; node_exporter's `--path.sysfs`).
    #[arg(long, env = "FERROSTAT_SYS_ROOT", alias = "path.sysfs")]
    pub sys_root: Option<PathBuf>,
    /// The root filesystem other system files are read under (`/etc/os-release`;
    /// default /; node_exporter's `--path.rootfs`), for an agent in a container that
    /// reports its host.
    #[arg(long, env = "FERROSTAT_ROOTFS", alias = "path.rootfs")]
    pub rootfs: Option<PathBuf>,
    /// How long a collected value is served to every client before /proc is read again,
    /// in milliseconds (default 500).
    #[arg(long, env = "FERROSTAT_CACHE_MS")]
    pub cache_ms: Option<u64>,
    /// Let psiod clients kill processes (`process.kill`); refused by default.
    #[arg(long, env = "FERROSTAT_ALLOW_KILL")]
    pub allow_kill: bool,
    /// WebSocket sessions served at once; more get 503 (default 256).
    #[arg(long, env = "FERROSTAT_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// HTTP connections open at once, waiting for a request or serving one; more are
    /// closed as they are accepted (default 1024).
    #[arg(long, env = "FERROSTAT_MAX_HTTP_CONNECTIONS")]
    pub max_http_connections: Option<usize>,
    /// HTTP connections open at once from one address (an IPv6 /64), so one client
    /// cannot hold every place (default 64).
    #[arg(long, env = "FERROSTAT_MAX_HTTP_CONNECTIONS_PER_ADDRESS")]
    pub max_http_connections_per_address: Option<usize>,
    /// WebSocket sessions open at once from one address (an IPv6 /64) (default 32).
    #[arg(long, env = "FERROSTAT_MAX_CONNECTIONS_PER_ADDRESS")]
    pub max_connections_per_address: Option<usize>,
    /// How long a client may take to send a request's headers (from their first byte;
    /// for a new connection, from its accept), then its body, in milliseconds (default
    /// 10000).
    #[arg(long, env = "FERROSTAT_HEADER_TIMEOUT_MS")]
    pub header_timeout_ms: Option<u64>,
    /// How long a keep-alive connection that has made a request may wait idle for the
    /// next, in milliseconds (default 120000: longer than scrape intervals of 1 min).
    #[arg(long, env = "FERROSTAT_IDLE_TIMEOUT_MS")]
    pub idle_timeout_ms: Option<u64>,
    /// How long a WebSocket client may send nothing, not even a pong to the agent's
    /// pings, before its session is closed, in milliseconds (default 60000); socktop
    /// and psiod sessions are also closed after five times this without a request.
    #[arg(long, env = "FERROSTAT_WEBSOCKET_IDLE_MS")]
    pub websocket_idle_ms: Option<u64>,
    /// Host names (beyond IP addresses, localhost, this machine's hostname and the TLS
    /// certificate's names) requests may be addressed to, e.g. the name of a reverse
    /// proxy; `*.example.com` allows its subdomains. Requests naming any other host are
    /// refused (DNS rebinding).
    #[arg(long, env = "FERROSTAT_ALLOWED_HOST", value_delimiter = ',')]
    pub allowed_host: Vec<String>,
    /// How long a write to a client may wait, without any of it being read, before the
    /// connection is closed, in milliseconds (default 30000); WebSocket sessions too.
    #[arg(long, env = "FERROSTAT_WRITE_TIMEOUT_MS")]
    pub write_timeout_ms: Option<u64>,
    /// How often `/ws/stats` pushes sysStats and idxStats, in milliseconds (default 2000).
    #[arg(long, env = "FERROSTAT_STATS_INTERVAL_MS")]
    pub stats_interval_ms: Option<u64>,
    /// Where the agent keeps its state: TLS certificate and key, known hosts, history
    /// (default $XDG_DATA_HOME/ferrostat, else ~/.local/share/ferrostat).
    #[arg(long, env = "FERROSTAT_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Serve HTTPS and WSS on every listener. Without --tls-cert/--tls-key a self-signed
    /// certificate is generated once in <data dir>/tls and its SHA-256 fingerprint printed
    /// for pinning. SOCKTOP_ENABLE_SSL=1 (and socktop_agent's --enableSSL) turn it on too.
    #[arg(long, alias = "enableSSL", env = "FERROSTAT_TLS")]
    pub tls: bool,
    /// PEM certificate chain to serve instead of the generated one (implies --tls).
    #[arg(long, env = "FERROSTAT_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "FERROSTAT_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Extra names (DNS or IP) for the generated certificate, beyond the hostname,
    /// localhost, 127.0.0.1 and ::1; repeat or separate with commas (also
    /// SOCKTOP_AGENT_EXTRA_SANS).
    #[arg(long, env = "FERROSTAT_TLS_SANS", value_delimiter = ',')]
    pub tls_san: Vec<String>,
    /// Do not load NVML or report GPUs (also SOCKTOP_AGENT_GPU=0).
    #[arg(long, env = "FERROSTAT_NO_GPU")]
    pub no_gpu: bool,
    /// Do not read CPU temperature sensors (also SOCKTOP_AGENT_TEMP=0).
    #[arg(long, env = "FERROSTAT_NO_TEMPERATURE")]
    pub no_temperature: bool,
    /// How long socktop's `get_metrics` reply is shared, in milliseconds (default 250).
    #[arg(long, env = "SOCKTOP_AGENT_METRICS_TTL_MS")]
    pub socktop_metrics_ttl_ms: Option<u64>,
    /// How long socktop's `get_disks` reply is shared, in milliseconds (default 1000).
    #[arg(long, env = "SOCKTOP_AGENT_DISKS_TTL_MS")]
    pub socktop_disks_ttl_ms: Option<u64>,
    /// How long socktop's `get_processes` reply is shared, in milliseconds (default 1500).
    #[arg(long, env = "SOCKTOP_AGENT_PROCESSES_TTL_MS")]
    pub socktop_processes_ttl_ms: Option<u64>,
    /// Collect sFlow v5 on this UDP address (e.g. 0.0.0.0:6343; off by default), keep
    /// the history in <data dir>/sflow-history.sqlite3 and serve sflow-monitor's
    /// JSON-RPC API on POST /api.
    #[arg(long, env = "FERROSTAT_SFLOW")]
    pub sflow: Option<std::net::SocketAddr>,
    /// Networks sFlow datagrams may come from (CIDR, repeat or separate with commas);
    /// others are counted and dropped. Default: any.
    #[arg(long, env = "FERROSTAT_SFLOW_ALLOW", value_delimiter = ',')]
    pub sflow_allow: Vec<ipnet::IpNet>,
    /// Keep every sFlow sample this many hours (default 6), ...
    #[arg(long, env = "FERROSTAT_HISTORY_RAW_HOURS")]
    pub history_raw_hours: Option<u64>,
    /// ... then one per host per minute until this age in hours (default 48), ...
    #[arg(long, env = "FERROSTAT_HISTORY_MINUTE_HOURS")]
    pub history_minute_hours: Option<u64>,
    /// ... then one per hour until this age in days (default 7), then delete.
    #[arg(long, env = "FERROSTAT_HISTORY_RETENTION_DAYS")]
    pub history_retention_days: Option<u64>,
    /// sFlow samples waiting for the history writer before new ones are dropped (and
    /// counted; default 16384).
    #[arg(long, env = "FERROSTAT_HISTORY_QUEUE")]
    pub history_queue: Option<usize>,
    /// Forget an sFlow agent, VM or edge gateway not heard from for this many seconds
    /// (default 600): it leaves /metrics and /ws/stats and its place goes to a new one;
    /// its history stays.
    #[arg(long, env = "FERROSTAT_REMOTE_HOST_EXPIRY_S")]
    pub remote_host_expiry_s: Option<u64>,
    /// sFlow agents and gateways listed at once, and as many VMs (default 65536); new
    /// ones past it are counted in ferrostat_sflow_registry_refused_total.
    #[arg(long, env = "FERROSTAT_REMOTE_HOST_LIMIT")]
    pub remote_host_limit: Option<usize>,
    /// Accept edge gateways' sample streams on this TCP address (off by default; see
    /// agent-embassy/PROTOCOL.md). Their hello must carry the agent's token.
    #[arg(long, env = "FERROSTAT_GATEWAY_LISTEN")]
    pub gateway_listen: Option<std::net::SocketAddr>,
    /// node_exporter's collector switches (`--collector.NAME`, `--no-collector.NAME`,
    /// `--collector.disable-defaults`), taken from the command line before the rest is
    /// parsed: see [`take_collector_switches`].
    #[arg(skip)]
    pub collectors: CollectorSwitches,
    /// The agent's own SSH private key, for `/monitor` requests with `agentKey: true`.
    #[arg(long, env = "FERROSTAT_SSH_KEY")]
    pub ssh_key: Option<PathBuf>,
    /// Where watched hosts' keys are recorded (default <data dir>/ssh/known_hosts).
    #[arg(long, env = "FERROSTAT_SSH_KNOWN_HOSTS")]
    pub ssh_known_hosts: Option<PathBuf>,
    /// Watch only hosts whose key is already in the known-hosts file (no trust on
    /// first use).
    #[arg(long, env = "FERROSTAT_SSH_REQUIRE_KNOWN_HOSTS")]
    pub ssh_require_known_hosts: bool,
    /// Hosts to watch over SSH from startup, logging in with --ssh-key
    /// (user@host[:port], repeat or separate with commas). Each is served at
    /// /metrics, /ws/stats, /ws?host= and /?host= whether or not a /monitor client
    /// watches it.
    #[arg(long, env = "FERROSTAT_SSH_WATCH", value_delimiter = ',')]
    pub ssh_watch: Vec<crate::ssh::session::Target>,
}

impl Default for Command {
    fn default() -> Self {
        Command::Serve(Box::default())
    }
}

/// Arguments of `snapshot`.
#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// The procfs mount to read (for containers that mount the host's elsewhere).
    #[arg(long, default_value = "/proc")]
    pub proc_root: PathBuf,
    /// Print on one line instead of indented.
    #[arg(long)]
    pub compact: bool,
}

impl Default for SnapshotArgs {
    fn default() -> Self {
        SnapshotArgs {
            proc_root: PathBuf::from("/proc"),
            compact: false,
        }
    }
}

/// Arguments of `parse`.
#[derive(Debug, Args)]
pub struct ParseArgs {
    /// Which /proc file format the input is.
    pub kind: Kind,
    /// The file to parse, or `-` for standard input.
    pub file: PathBuf,
    /// Print on one line instead of indented.
    #[arg(long)]
    pub compact: bool,
}

/// The /proc formats `parse` understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// /proc/stat
    Stat,
    /// /proc/meminfo
    Meminfo,
    /// /proc/loadavg
    Loadavg,
    /// /proc/uptime
    Uptime,
    /// /proc/net/dev
    NetDev,
    /// /proc/diskstats
    Diskstats,
    /// /proc/cpuinfo
    Cpuinfo,
    /// /proc/PID/stat
    PidStat,
    /// /proc/PID/status
    PidStatus,
    /// /proc/PID/statm
    PidStatm,
    /// /proc/PID/io
    PidIo,
    /// /proc/PID/mountinfo
    Mountinfo,
    /// /proc/mounts
    Mounts,
    /// /proc/pressure/{cpu,memory,io,irq}
    Pressure,
    /// /proc/net/snmp
    Snmp,
    /// /proc/vmstat
    Vmstat,
}
