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
    cache_ms: Option<u64>,
    allow_kill: Option<bool>,
    max_connections: Option<usize>,
    stats_interval_ms: Option<u64>,
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
    /// How long a collected value is shared by all clients.
    pub cache: Duration,
    /// Whether psiod's `process.kill` may kill.
    pub allow_kill: bool,
    /// WebSocket sessions served at once.
    pub max_connections: usize,
    /// How often the stats stream pushes sysStats and idxStats.
    pub stats_interval: Duration,
}

/// The default listener: loopback only.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 3000);

impl ServeConfig {
    /// Merges flags and environment (already in `args`) over the file over defaults.
    ///
    /// # Errors
    /// An unreadable or invalid configuration file, or an insecure setup: a non-loopback
    /// listener without a token and without `insecure`.
    pub fn resolve(args: ServeArgs) -> Result<Self, String> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| format!("{}: {e}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let listen = if args.listen.is_empty() {
            file.listen.unwrap_or_else(|| vec![DEFAULT_LISTEN])
        } else {
            args.listen
        };
        let config = ServeConfig {
            listen,
            token: args.token.or(file.token).filter(|t| !t.is_empty()),
            insecure: args.insecure || file.insecure.unwrap_or(false),
            proc_root: args
                .proc_root
                .or(file.proc_root)
                .unwrap_or_else(|| PathBuf::from("/proc")),
            cache: Duration::from_millis(args.cache_ms.or(file.cache_ms).unwrap_or(500)),
            allow_kill: args.allow_kill || file.allow_kill.unwrap_or(false),
            max_connections: args
                .max_connections
                .or(file.max_connections)
                .unwrap_or(256)
                .max(1),
            stats_interval: Duration::from_millis(
                args.stats_interval_ms
                    .or(file.stats_interval_ms)
                    .unwrap_or(2000)
                    .max(100),
            ),
        };
        config.check_exposure()?;
        Ok(config)
    }

    /// Refuses to expose an unauthenticated agent beyond this machine.
    fn check_exposure(&self) -> Result<(), String> {
        if self.token.is_some() || self.insecure {
            return Ok(());
        }
        match self.listen.iter().find(|a| !a.ip().is_loopback()) {
            Some(addr) => Err(format!(
                "refusing to listen on {addr} without a token: set --token (or FERROSTAT_TOKEN), or pass --insecure"
            )),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(listen: &[&str]) -> ServeArgs {
        ServeArgs {
            listen: listen.iter().map(|a| a.parse().unwrap()).collect(),
            ..ServeArgs::default()
        }
    }

    #[test]
    fn loopback_needs_no_token_the_rest_does() {
        assert!(ServeConfig::resolve(args(&[])).is_ok());
        assert!(ServeConfig::resolve(args(&["[::1]:9097", "127.0.0.2:1"])).is_ok());
        let e = ServeConfig::resolve(args(&["0.0.0.0:3000"])).unwrap_err();
        assert!(
            e.contains("refusing to listen on 0.0.0.0:3000 without a token"),
            "{e}"
        );
        let mut with_token = args(&["0.0.0.0:3000"]);
        with_token.token = Some("s3cret".into());
        assert!(ServeConfig::resolve(with_token).is_ok());
        let mut insecure = args(&["[::]:3000"]);
        insecure.insecure = true;
        assert!(ServeConfig::resolve(insecure).is_ok());
    }

    #[test]
    fn file_fills_what_flags_leave_open() {
        let dir = std::env::temp_dir().join(format!("ferrostat-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("agent.toml");
        std::fs::write(
            &path,
            "listen = [\"127.0.0.1:9097\"]\ncache_ms = 250\ntoken = \"t\"\n",
        )
        .unwrap();
        let mut a = args(&[]);
        a.config = Some(path.clone());
        let c = ServeConfig::resolve(a).unwrap();
        assert_eq!(c.listen, vec!["127.0.0.1:9097".parse().unwrap()]);
        assert_eq!(
            (c.cache, c.token.as_deref()),
            (Duration::from_millis(250), Some("t"))
        );
        let mut a = args(&["127.0.0.1:1"]);
        a.config = Some(path.clone());
        a.cache_ms = Some(10);
        let c = ServeConfig::resolve(a).unwrap();
        assert_eq!(
            (c.listen[0].port(), c.cache),
            (1, Duration::from_millis(10))
        );
        std::fs::write(&path, "listen = 3\n").unwrap();
        let mut a = args(&[]);
        a.config = Some(path.clone());
        assert!(ServeConfig::resolve(a).unwrap_err().contains("agent.toml"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
