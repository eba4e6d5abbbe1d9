//! The server's configuration: flags, then FERROSTAT_* environment variables (both via
//! clap), then the optional TOML file, then defaults.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::cli::ServeArgs;

/// What the TOML file may set; the keys are the long flag names.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<Vec<SocketAddr>>,
    token: Option<String>,
    insecure: Option<bool>,
    proc_root: Option<PathBuf>,
    rootfs: Option<PathBuf>,
    sys_root: Option<PathBuf>,
    cache_ms: Option<u64>,
    allow_kill: Option<bool>,
    max_connections: Option<usize>,
    max_http_connections: Option<usize>,
    max_http_connections_per_address: Option<usize>,
    max_connections_per_address: Option<usize>,
    header_timeout_ms: Option<u64>,
    idle_timeout_ms: Option<u64>,
    websocket_idle_ms: Option<u64>,
    allowed_host: Option<Vec<String>>,
    write_timeout_ms: Option<u64>,
    stats_interval_ms: Option<u64>,
    data_dir: Option<PathBuf>,
    tls: Option<bool>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    tls_san: Option<Vec<String>>,
    no_gpu: Option<bool>,
    no_temperature: Option<bool>,
    socktop_metrics_ttl_ms: Option<u64>,
    socktop_disks_ttl_ms: Option<u64>,
    socktop_processes_ttl_ms: Option<u64>,
    sflow: Option<SocketAddr>,
    sflow_allow: Option<Vec<ipnet::IpNet>>,
    history_raw_hours: Option<u64>,
    history_minute_hours: Option<u64>,
    history_retention_days: Option<u64>,
    history_queue: Option<usize>,
    remote_host_expiry_s: Option<u64>,
    remote_host_limit: Option<usize>,
    gateway_listen: Option<SocketAddr>,
    ssh_key: Option<PathBuf>,
    ssh_known_hosts: Option<PathBuf>,
    ssh_require_known_hosts: Option<bool>,
    ssh_watch: Option<Vec<String>>,
}

/// The sFlow collector's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SflowConfig {
    /// The UDP address to receive on.
    pub listen: SocketAddr,
    /// Source networks accepted (empty: any).
    pub allow: Vec<ipnet::IpNet>,
}

/// Where the served certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// Generated once in `<data dir>/tls` with these names beyond the defaults.
    Generated {
        /// Extra DNS names or addresses.
        extra_names: Vec<String>,
    },
    /// The user's PEM files.
    Files {
        /// Certificate chain.
        cert: PathBuf,
        /// Private key.
        key: PathBuf,
    },
}

/// The settings the server runs with.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Listening addresses.
    pub listen: Vec<SocketAddr>,
    /// The token clients must present, if any.
    pub token: Option<String>,
    /// Whether a non-loopback listener may run without a token.
    pub insecure: bool,
    /// The procfs mount.
    pub proc_root: PathBuf,
    /// The root other system files are read under (`/etc/os-release`).
    pub rootfs: PathBuf,
    /// How long a collected value is shared by all clients.
    pub cache: Duration,
    /// Whether psiod's `process.kill` may kill.
    pub allow_kill: bool,
    /// WebSocket sessions served at once.
    pub max_connections: usize,
    /// HTTP connections open at once; more are closed when accepted.
    pub max_http_connections: usize,
    /// HTTP connections open at once from one address.
    pub max_http_connections_per_address: usize,
    /// WebSocket sessions open at once from one address.
    pub max_connections_per_address: usize,
    /// How long a request's headers may take to arrive, from their first byte.
    pub header_timeout: Duration,
    /// How long a keep-alive connection may wait idle for its next request.
    pub idle_timeout: Duration,
    /// How long a WebSocket client may say nothing before its session is closed.
    pub websocket_idle: Duration,
    /// Host names requests may name beyond the built-in ones.
    pub allowed_hosts: Vec<String>,
    /// How long a write may wait on a client that reads nothing.
    pub write_timeout: Duration,
    /// How often the stats stream pushes sysStats and idxStats.
    pub stats_interval: Duration,
    /// The state directory.
    pub data_dir: PathBuf,
    /// TLS on every listener, or plain HTTP.
    pub tls: Option<TlsSource>,
    /// Whether NVML may be loaded.
    pub gpu: bool,
    /// socktop's reply caches and temperature switch.
    pub socktop: SocktopSettings,
    /// The sFlow collector, when enabled.
    pub sflow: Option<SflowConfig>,
    /// The gateway uplink's TCP address, when enabled.
    pub gateway_listen: Option<SocketAddr>,
    /// History retention tiers (sFlow and gateway samples).
    pub history_retention: crate::state::history::Retention,
    /// History queue bound, in samples.
    pub history_queue: usize,
    /// How many remote hosts and VMs are listed, and how long after they fall silent.
    pub remote: crate::registry::Limits,
    /// The agent's own SSH key.
    pub ssh_key: Option<PathBuf>,
    /// The known-hosts file (None: <data dir>/ssh/known_hosts).
    pub ssh_known_hosts: Option<PathBuf>,
    /// No trust on first use.
    pub ssh_require_known_hosts: bool,
    /// Hosts watched over SSH from startup, with the agent's key.
    pub ssh_watch: Vec<crate::ssh::session::Target>,
    /// node_exporter's collector switches for `/metrics`.
    pub collectors: crate::cli::CollectorSwitches,
}

/// The default listener: loopback only.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 3000);

/// A period in milliseconds, flag or file value else `default`, raised to 100 ms (shorter
/// deadlines and intervals would close or poll connections faster than is any use) and
/// held to a day (a longer one is no bound, and timer arithmetic on it can overflow).
fn at_least_100_ms(set: Option<u64>, default: u64) -> Duration {
    Duration::from_millis(set.unwrap_or(default).clamp(100, MAX_PERIOD_MS))
}

/// The longest period any setting takes: a day.
const MAX_PERIOD_MS: u64 = 86_400_000;

/// The longest history kept, and the longest a silent host is remembered: a hundred
/// years, within the milliseconds since the epoch that the store's times count in.
const MAX_RETENTION_HOURS: u64 = 100 * 366 * 24;

/// The most places any connection or queue limit takes: more than descriptors a process
/// gets, and within what the semaphores and channels behind them can count.
const MAX_COUNT: usize = 1 << 20;

/// A count limit, flag or file value else `default`, held to 1..=[`MAX_COUNT`].
fn count(set: Option<usize>, default: usize) -> usize {
    set.unwrap_or(default).clamp(1, MAX_COUNT)
}

impl ServeConfig {
    /// Merges flags and environment (already in `args`) over the file over defaults.
    ///
    /// # Errors
    /// An unreadable or invalid configuration file, or an insecure setup: a non-loopback
    /// listener without a token and without `insecure`.
    pub fn resolve(args: ServeArgs) -> Result<Self, String> {
        Self::resolve_with(args, |k| std::env::var(k).ok())
    }

    /// [`ServeConfig::resolve`] with the environment given: socktop_agent's variables
    /// (SOCKTOP_TOKEN, SOCKTOP_ENABLE_SSL, SOCKTOP_AGENT_EXTRA_SANS, SOCKTOP_AGENT_GPU,
    /// SOCKTOP_AGENT_TEMP) apply where neither a flag nor FERROSTAT_* said otherwise, so
    /// a socktop_agent unit file works unchanged. (Its TTL variables are read by clap.)
    pub fn resolve_with(
        args: ServeArgs,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let file = match &args.config {
            Some(path) => {
                let text = read_config(path).map_err(|e| format!("{}: {e}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| format!("{}: {e}", path.display()))?
            }
            None => FileConfig::default(),
        };
        Self::merge(args, file, env)
    }

    /// The configuration a file's text gives with no flags and no environment (for the
    /// fuzz target: any text is a configuration or an error, never a panic).
    pub fn from_file_text(text: &str) -> Result<Self, String> {
        let file = toml::from_str::<FileConfig>(text).map_err(|e| e.to_string())?;
        Self::merge(ServeArgs::default(), file, |_| None)
    }

    fn merge(
        args: ServeArgs,
        file: FileConfig,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let env_on = |k: &str| {
            env(k).is_some_and(|v| v.trim() == "1" || v.trim().eq_ignore_ascii_case("true"))
        };
        let env_off = |k: &str| {
            env(k).is_some_and(|v| v.trim() == "0" || v.trim().eq_ignore_ascii_case("false"))
        };
        let listen = if args.listen.is_empty() {
            file.listen.unwrap_or_else(|| vec![DEFAULT_LISTEN])
        } else {
            args.listen
        };
        let config = ServeConfig {
            listen,
            sflow: None,
            gateway_listen: None,
            history_retention: crate::state::history::Retention::default(),
            history_queue: 16_384,
            remote: crate::registry::Limits::default(),
            ssh_key: None,
            ssh_known_hosts: None,
            ssh_require_known_hosts: false,
            ssh_watch: Vec::new(),
            collectors: args.collectors.clone(),
            token: args
                .token
                .or_else(|| env("SOCKTOP_TOKEN"))
                .or(file.token)
                .filter(|t| !t.is_empty()),
            insecure: args.insecure || file.insecure.unwrap_or(false),
            proc_root: args
                .proc_root
                .or(file.proc_root)
                .unwrap_or_else(|| PathBuf::from("/proc")),
            rootfs: args
                .rootfs
                .or(file.rootfs)
                .unwrap_or_else(|| PathBuf::from("/")),
            cache: Duration::from_millis(
                args.cache_ms
                    .or(file.cache_ms)
                    .unwrap_or(500)
                    .min(MAX_PERIOD_MS),
            ),
            allow_kill: args.allow_kill || file.allow_kill.unwrap_or(false),
            max_connections: count(args.max_connections.or(file.max_connections), 256),
            max_http_connections: count(
                args.max_http_connections.or(file.max_http_connections),
                1024,
            ),
            max_http_connections_per_address: count(
                args.max_http_connections_per_address
                    .or(file.max_http_connections_per_address),
                64,
            ),
            max_connections_per_address: count(
                args.max_connections_per_address
                    .or(file.max_connections_per_address),
                32,
            ),
            header_timeout: at_least_100_ms(
                args.header_timeout_ms.or(file.header_timeout_ms),
                10_000,
            ),
            idle_timeout: at_least_100_ms(args.idle_timeout_ms.or(file.idle_timeout_ms), 120_000),
            websocket_idle: at_least_100_ms(
                args.websocket_idle_ms.or(file.websocket_idle_ms),
                60_000,
            ),
            allowed_hosts: if args.allowed_host.is_empty() {
                file.allowed_host.unwrap_or_default()
            } else {
                args.allowed_host
            },
            write_timeout: at_least_100_ms(args.write_timeout_ms.or(file.write_timeout_ms), 30_000),
            stats_interval: at_least_100_ms(
                args.stats_interval_ms.or(file.stats_interval_ms),
                2000,
            ),
            data_dir: match args.data_dir.or(file.data_dir) {
                Some(d) => d,
                None => crate::state::data_dir::default_dir().ok_or(
                    "no home directory to keep state in: set --data-dir (or FERROSTAT_DATA_DIR)",
                )?,
            },
            tls: {
                let cert = args.tls_cert.or(file.tls_cert);
                let key = args.tls_key.or(file.tls_key);
                let mut extra_names = args.tls_san;
                if extra_names.is_empty() {
                    extra_names = env("SOCKTOP_AGENT_EXTRA_SANS")
                        .map(|v| v.split(',').map(|n| n.trim().to_owned()).collect())
                        .or(file.tls_san)
                        .unwrap_or_default();
                }
                match (cert, key) {
                    (Some(cert), Some(key)) => Some(TlsSource::Files { cert, key }),
                    (None, None) => {
                        (args.tls || env_on("SOCKTOP_ENABLE_SSL") || file.tls.unwrap_or(false))
                            .then_some(TlsSource::Generated { extra_names })
                    }
                    _ => {
                        return Err("tls_cert and tls_key go together: give both or neither".into())
                    }
                }
            },
            gpu: !(args.no_gpu || env_off("SOCKTOP_AGENT_GPU") || file.no_gpu.unwrap_or(false)),
            socktop: {
                let ms = |flag: Option<u64>, file: Option<u64>, default: Duration| {
                    flag.or(file)
                        .map_or(default, |ms| Duration::from_millis(ms.min(MAX_PERIOD_MS)))
                };
                let d = SocktopSettings::default();
                SocktopSettings {
                    metrics_ttl: ms(
                        args.socktop_metrics_ttl_ms,
                        file.socktop_metrics_ttl_ms,
                        d.metrics_ttl,
                    ),
                    disks_ttl: ms(
                        args.socktop_disks_ttl_ms,
                        file.socktop_disks_ttl_ms,
                        d.disks_ttl,
                    ),
                    processes_ttl: ms(
                        args.socktop_processes_ttl_ms,
                        file.socktop_processes_ttl_ms,
                        d.processes_ttl,
                    ),
                    sys_root: args.sys_root.or(file.sys_root).unwrap_or(d.sys_root),
                    temperature: !(args.no_temperature
                        || env_off("SOCKTOP_AGENT_TEMP")
                        || file.no_temperature.unwrap_or(false)),
                }
            },
        };
        let hours = |flag: Option<u64>, file: Option<u64>, default: Duration| {
            flag.or(file).map_or(default, |h| {
                Duration::from_secs(h.min(MAX_RETENTION_HOURS).saturating_mul(3600))
            })
        };
        let d = crate::state::history::Retention::default();
        let history_retention = crate::state::history::Retention {
            raw: hours(args.history_raw_hours, file.history_raw_hours, d.raw),
            minute: hours(
                args.history_minute_hours,
                file.history_minute_hours,
                d.minute,
            ),
            keep: hours(
                args.history_retention_days.map(|x| x.saturating_mul(24)),
                file.history_retention_days.map(|x| x.saturating_mul(24)),
                d.keep,
            ),
        };
        let r = history_retention;
        if !(r.raw <= r.minute && r.minute <= r.keep) {
            return Err(
                "history tiers must grow: raw hours <= minute hours <= retention days".into(),
            );
        }
        let sflow = args.sflow.or(file.sflow).map(|listen| {
            let mut allow = args.sflow_allow;
            if allow.is_empty() {
                allow = file.sflow_allow.unwrap_or_default();
            }
            SflowConfig { listen, allow }
        });
        let ssh_watch = if args.ssh_watch.is_empty() {
            file.ssh_watch
                .unwrap_or_default()
                .iter()
                .map(|t| t.parse())
                .collect::<Result<Vec<_>, String>>()
                .map_err(|e| format!("ssh_watch: {e}"))?
        } else {
            args.ssh_watch
        };
        let ssh_key = args.ssh_key.or(file.ssh_key);
        if !ssh_watch.is_empty() && ssh_key.is_none() {
            return Err("--ssh-watch logs in with the agent's key: set --ssh-key too".into());
        }
        let d = crate::registry::Limits::default();
        let remote = crate::registry::Limits {
            capacity: count(
                args.remote_host_limit.or(file.remote_host_limit),
                d.capacity,
            ),
            expiry: args
                .remote_host_expiry_s
                .or(file.remote_host_expiry_s)
                .map_or(d.expiry, |s| {
                    Duration::from_secs(s.clamp(1, MAX_RETENTION_HOURS * 3600))
                }),
        };
        let config = ServeConfig {
            sflow,
            ssh_watch,
            remote,
            gateway_listen: args.gateway_listen.or(file.gateway_listen),
            ssh_key,
            ssh_known_hosts: args.ssh_known_hosts.or(file.ssh_known_hosts),
            ssh_require_known_hosts: args.ssh_require_known_hosts
                || file.ssh_require_known_hosts.unwrap_or(false),
            history_retention,
            history_queue: count(args.history_queue.or(file.history_queue), 16_384),
            ..config
        };
        config.check_exposure()?;
        Ok(config)
    }

    /// Refuses to expose an unauthenticated agent beyond this machine.
    fn check_exposure(&self) -> Result<(), String> {
        if self.token.is_some() || self.insecure {
            return Ok(());
        }
        match self
            .listen
            .iter()
            .chain(&self.gateway_listen)
            .find(|a| !a.ip().is_loopback())
        {
            Some(addr) => Err(format!(
                "refusing to listen on {addr} without a token: set --token (or FERROSTAT_TOKEN), or pass --insecure"
            )),
            None => Ok(()),
        }
    }
}

/// The longest config file read: a real one is a few hundred bytes, and a path given by
/// mistake (a log, `/dev/zero`) must not be read into memory whole.
const MAX_CONFIG: u64 = 1 << 20;

/// The config file's text, at most [`MAX_CONFIG`] bytes of it.
fn read_config(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_CONFIG + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_CONFIG {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("longer than {} MiB, not a config file", MAX_CONFIG >> 20),
        ));
    }
    Ok(text)
}

/// socktop_agent's tunables (its SOCKTOP_AGENT_* environment variables).
#[derive(Debug, Clone)]
pub struct SocktopSettings {
    /// How long a `get_metrics` reply is shared (SOCKTOP_AGENT_METRICS_TTL_MS, 250 ms).
    pub metrics_ttl: Duration,
    /// How long a `get_disks` reply is shared (SOCKTOP_AGENT_DISKS_TTL_MS, 1 s).
    pub disks_ttl: Duration,
    /// How long a `get_processes` reply is shared (SOCKTOP_AGENT_PROCESSES_TTL_MS, 1.5 s).
    pub processes_ttl: Duration,
    /// Whether `cpu_temp_c` is read (SOCKTOP_AGENT_TEMP=0 turns it off).
    pub temperature: bool,
    /// The sysfs mount sensors and block devices are read from (normally `/sys`).
    pub sys_root: PathBuf,
}

impl Default for SocktopSettings {
    fn default() -> Self {
        SocktopSettings {
            metrics_ttl: Duration::from_millis(250),
            disks_ttl: Duration::from_millis(1000),
            processes_ttl: Duration::from_millis(1500),
            temperature: true,
            sys_root: PathBuf::from("/sys"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(listen: &[&str]) -> ServeArgs {
        ServeArgs {
            listen: listen.iter().map(|a| a.parse().unwrap()).collect(),
            data_dir: Some("/tmp/ferrostat-test-data".into()),
            ..ServeArgs::default()
        }
    }

    fn resolve(args: ServeArgs) -> Result<ServeConfig, String> {
        ServeConfig::resolve_with(args, |_| None)
    }

    #[test]
    fn ssh_watch_needs_the_agents_key() {
        let mut a = args(&[]);
        a.ssh_watch = vec!["mon@web1:2222".parse().unwrap()];
        let e = resolve(a).unwrap_err();
        assert!(e.contains("--ssh-key"), "{e}");
        let mut a = args(&[]);
        a.ssh_watch = vec!["mon@web1:2222".parse().unwrap()];
        a.ssh_key = Some("/etc/ferrostat/id_ed25519".into());
        let c = resolve(a).unwrap();
        assert_eq!(c.ssh_watch[0].to_string(), "mon@web1:2222");
    }

    #[test]
    fn socktop_agent_environment_applies_under_our_own() {
        let env = |k: &str| {
            match k {
                "SOCKTOP_TOKEN" => Some("from-socktop"),
                "SOCKTOP_ENABLE_SSL" => Some("1"),
                "SOCKTOP_AGENT_EXTRA_SANS" => Some("10.0.0.7, agent.lan"),
                "SOCKTOP_AGENT_GPU" => Some("0"),
                "SOCKTOP_AGENT_TEMP" => Some("0"),
                _ => None,
            }
            .map(str::to_owned)
        };
        let c = ServeConfig::resolve_with(args(&[]), env).unwrap();
        assert_eq!(c.token.as_deref(), Some("from-socktop"));
        assert_eq!(
            c.tls,
            Some(TlsSource::Generated {
                extra_names: vec!["10.0.0.7".into(), "agent.lan".into()]
            })
        );
        assert!(!c.gpu && !c.socktop.temperature);
        let mut own = args(&[]);
        own.token = Some("ours".into());
        own.tls_san = vec!["x.lan".into()];
        let c = ServeConfig::resolve_with(own, env).unwrap();
        assert_eq!(c.token.as_deref(), Some("ours"));
        assert_eq!(
            c.tls,
            Some(TlsSource::Generated {
                extra_names: vec!["x.lan".into()]
            })
        );
        // Without any of it: plain HTTP, GPUs and temperatures on, socktop's TTLs.
        let c = resolve(args(&[])).unwrap();
        assert_eq!((c.tls, c.gpu, c.socktop.temperature), (None, true, true));
        assert_eq!(c.socktop.processes_ttl, Duration::from_millis(1500));
        assert_eq!(
            (c.header_timeout, c.write_timeout, c.max_http_connections),
            (Duration::from_secs(10), Duration::from_secs(30), 1024)
        );
        let mut files = args(&[]);
        files.tls_cert = Some("/c.pem".into());
        files.tls_key = Some("/k.pem".into());
        assert_eq!(
            resolve(files).unwrap().tls,
            Some(TlsSource::Files {
                cert: "/c.pem".into(),
                key: "/k.pem".into()
            })
        );
    }

    #[test]
    fn loopback_needs_no_token_the_rest_does() {
        assert!(resolve(args(&[])).is_ok());
        assert!(resolve(args(&["[::1]:9097", "127.0.0.2:1"])).is_ok());
        let e = resolve(args(&["0.0.0.0:3000"])).unwrap_err();
        assert!(
            e.contains("refusing to listen on 0.0.0.0:3000 without a token"),
            "{e}"
        );
        let mut with_token = args(&["0.0.0.0:3000"]);
        with_token.token = Some("s3cret".into());
        assert!(resolve(with_token).is_ok());
        let mut insecure = args(&["[::]:3000"]);
        insecure.insecure = true;
        assert!(resolve(insecure).is_ok());
    }

    #[test]
    fn file_fills_what_flags_leave_open() {
        let dir = std::env::temp_dir().join(format!("ferrostat-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("agent.toml");
        std::fs::write(
            &path,
            "listen = [\"127.0.0.1:9097\"]\ncache_ms = 250\ntoken = \"t\"\nheader_timeout_ms = 2500\nwrite_timeout_ms = 4000\nremote_host_expiry_s = 90\n",
        )
        .unwrap();
        let mut a = args(&[]);
        a.config = Some(path.clone());
        let c = resolve(a).unwrap();
        assert_eq!(c.listen, vec!["127.0.0.1:9097".parse().unwrap()]);
        assert_eq!(
            (c.header_timeout, c.write_timeout, c.max_http_connections),
            (
                Duration::from_millis(2500),
                Duration::from_millis(4000),
                1024
            )
        );
        assert_eq!(
            (c.cache, c.token.as_deref()),
            (Duration::from_millis(250), Some("t"))
        );
        assert_eq!(
            c.remote,
            crate::registry::Limits {
                capacity: 65_536,
                expiry: Duration::from_secs(90)
            }
        );
        let mut a = args(&["127.0.0.1:1"]);
        a.config = Some(path.clone());
        a.cache_ms = Some(10);
        (a.remote_host_expiry_s, a.remote_host_limit) = (Some(0), Some(3));
        let c = resolve(a).unwrap();
        assert_eq!(
            (c.listen[0].port(), c.cache),
            (1, Duration::from_millis(10))
        );
        // No expiry shorter than a second: a host would vanish between two datagrams.
        assert_eq!(
            (c.remote.capacity, c.remote.expiry),
            (3, Duration::from_secs(1))
        );
        std::fs::write(&path, "listen = 3\n").unwrap();
        let mut a = args(&[]);
        a.config = Some(path.clone());
        assert!(resolve(a).unwrap_err().contains("agent.toml"));
        // A file that never ends is refused after its first MiB.
        let mut a = args(&[]);
        a.config = Some("/dev/zero".into());
        assert_eq!(
            resolve(a).unwrap_err(),
            "/dev/zero: longer than 1 MiB, not a config file"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
