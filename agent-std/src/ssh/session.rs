//! One SSH connection to a watched host, with one SFTP session over it: every remote
//! file is read through that session, so a poll starts no process on the host.
//!
//! Host keys are checked against `<data dir>/ssh/known_hosts` (OpenSSH's format): a host
//! seen for the first time is learned (trust on first use) unless the agent requires
//! known keys; a changed key is refused. Connect and authentication are bounded.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh_sftp::client::SftpSession;
use zeroize::Zeroizing;

use crate::collect::shared::Space;

/// A host to watch: `user@host:port`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    /// Host name or address.
    pub host: String,
    /// SSH port.
    pub port: u16,
    /// Login.
    pub user: String,
}

impl std::str::FromStr for Target {
    type Err = String;

    /// `user@host`, `user@host:port`, `user@[v6addr]:port`; the port defaults to 22.
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?}: expected user@host[:port]");
        let (user, rest) = s.split_once('@').ok_or_else(bad)?;
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(bad)?;
            match after.strip_prefix(':') {
                Some(p) => (host, Some(p)),
                None if after.is_empty() => (host, None),
                None => return Err(bad()),
            }
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            }
        };
        let port = match port {
            Some(p) => p.parse().map_err(|_| bad())?,
            None => 22,
        };
        if user.is_empty() || host.is_empty() || port == 0 {
            return Err(bad());
        }
        Ok(Target {
            host: host.to_owned(),
            port,
            user: user.to_owned(),
        })
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "{}@[{}]:{}", self.user, self.host, self.port)
        } else {
            write!(f, "{}@{}:{}", self.user, self.host, self.port)
        }
    }
}

/// How to log in. Held only while connecting; wiped when dropped.
#[derive(Clone)]
pub enum Secret {
    /// A password.
    Password(Zeroizing<String>),
    /// An OpenSSH private key (PEM text).
    Key(Zeroizing<String>),
    /// The agent's own key file (`--ssh-key`).
    AgentKey(PathBuf),
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret itself.
        f.write_str(match self {
            Secret::Password(_) => "Secret::Password(..)",
            Secret::Key(_) => "Secret::Key(..)",
            Secret::AgentKey(_) => "Secret::AgentKey(..)",
        })
    }
}

/// How host keys are trusted.
#[derive(Clone, Debug)]
pub struct HostKeys {
    /// The known-hosts file.
    pub path: PathBuf,
    /// Refuse hosts whose key is not already in the file.
    pub require_known: bool,
}

/// Bounds on each step.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// TCP connect and key exchange.
    pub connect: Duration,
    /// Authentication and opening SFTP.
    pub auth: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            auth: Duration::from_secs(10),
        }
    }
}

/// Why a host could not be watched, in words for the subscribers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteError {
    /// TCP connect failed (refused, unreachable, no such host).
    Connect(String),
    /// A step took too long.
    Timeout(&'static str),
    /// The host's key differs from the recorded one.
    HostKeyChanged(String),
    /// The host's key is not recorded and only known hosts are allowed.
    HostKeyUnknown(String),
    /// The server refused the credentials.
    AuthFailed,
    /// The agent's key or the given key could not be read.
    BadKey(String),
    /// The SSH or SFTP conversation failed.
    Protocol(String),
}

impl std::fmt::Display for RemoteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RemoteError::Connect(e) => write!(f, "connect failed: {e}"),
            RemoteError::Timeout(step) => write!(f, "{step} timed out"),
            RemoteError::HostKeyChanged(fp) => write!(
                f,
                "host key changed (now {fp}): refusing to connect; remove the old key from the agent's known_hosts if the change is expected"
            ),
            RemoteError::HostKeyUnknown(fp) => write!(
                f,
                "host key {fp} is not known and the agent requires known host keys"
            ),
            RemoteError::AuthFailed => f.write_str("authentication failed"),
            RemoteError::BadKey(e) => write!(f, "private key unusable: {e}"),
            RemoteError::Protocol(e) => write!(f, "ssh: {e}"),
        }
    }
}

/// The russh client handler: checks the host key.
struct Client {
    target: Target,
    keys: HostKeys,
    /// What the check found, for the error message.
    verdict: Arc<std::sync::Mutex<Option<RemoteError>>>,
}

impl russh::client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = key else {
            *self.verdict.lock().unwrap_or_else(|e| e.into_inner()) = Some(RemoteError::Protocol(
                "host certificates are not supported".into(),
            ));
            return Ok(false);
        };
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        let (host, port) = (self.target.host.as_str(), self.target.port);
        let verdict = match russh::keys::check_known_hosts_path(host, port, key, &self.keys.path) {
            Ok(true) => None,
            Ok(false) if self.keys.require_known => Some(RemoteError::HostKeyUnknown(fingerprint)),
            Ok(false) => {
                russh::keys::known_hosts::learn_known_hosts_path(host, port, key, &self.keys.path)
                    .err()
                    .map(|e| RemoteError::Protocol(format!("recording the host key: {e}")))
            }
            Err(russh::keys::Error::KeyChanged { .. }) => {
                Some(RemoteError::HostKeyChanged(fingerprint))
            }
            Err(e) => Some(RemoteError::Protocol(format!("known_hosts: {e}"))),
        };
        let ok = verdict.is_none();
        *self.verdict.lock().unwrap_or_else(|e| e.into_inner()) = verdict;
        Ok(ok)
    }
}

/// A connected host.
pub struct Remote {
    handle: russh::client::Handle<Client>,
    sftp: SftpSession,
}

impl Remote {
    /// Connects, checks the host key, logs in and opens SFTP.
    ///
    /// # Errors
    /// Which step failed and why.
    pub async fn connect(
        target: &Target,
        secret: &Secret,
        keys: &HostKeys,
        timeouts: Timeouts,
    ) -> Result<Remote, RemoteError> {
        let config = Arc::new(russh::client::Config {
            inactivity_timeout: Some(Duration::from_secs(60)),
            keepalive_interval: Some(Duration::from_secs(15)),
            keepalive_max: 3,
            nodelay: true,
            ..Default::default()
        });
        let verdict = Arc::new(std::sync::Mutex::new(None));
        let client = Client {
            target: target.clone(),
            keys: keys.clone(),
            verdict: verdict.clone(),
        };
        let connecting =
            russh::client::connect(config, (target.host.as_str(), target.port), client);
        let mut handle = match tokio::time::timeout(timeouts.connect, connecting).await {
            Err(_) => return Err(RemoteError::Timeout("connect")),
            Ok(Ok(h)) => h,
            Ok(Err(e)) => {
                if let Some(v) = verdict.lock().unwrap_or_else(|e| e.into_inner()).take() {
                    return Err(v);
                }
                return Err(match e {
                    russh::Error::IO(io) => RemoteError::Connect(io.to_string()),
                    other => RemoteError::Protocol(other.to_string()),
                });
            }
        };
        let login = async {
            let ok = match secret {
                Secret::Password(p) => handle
                    .authenticate_password(target.user.clone(), p.as_str())
                    .await
                    .map_err(|e| RemoteError::Protocol(e.to_string()))?
                    .success(),
                Secret::Key(pem) => {
                    let key = russh::keys::decode_secret_key(pem, None)
                        .map_err(|e| RemoteError::BadKey(e.to_string()))?;
                    publickey(&mut handle, &target.user, key).await?
                }
                Secret::AgentKey(path) => {
                    let key = load_key(path)?;
                    publickey(&mut handle, &target.user, key).await?
                }
            };
            if !ok {
                return Err(RemoteError::AuthFailed);
            }
            let channel = handle
                .channel_open_session()
                .await
                .map_err(|e| RemoteError::Protocol(e.to_string()))?;
            channel
                .request_subsystem(true, "sftp")
                .await
                .map_err(|e| RemoteError::Protocol(e.to_string()))?;
            // One read in flight per file: /proc files are small, and the default 16
            // would follow each file's data with 16 reads that all answer end-of-file.
            let config = russh_sftp::client::Config {
                max_concurrent_reads: 1,
                ..Default::default()
            };
            SftpSession::new_with_config(channel.into_stream(), config)
                .await
                .map_err(|e| RemoteError::Protocol(format!("sftp: {e}")))
        };
        let sftp = tokio::time::timeout(timeouts.auth, login)
            .await
            .map_err(|_| RemoteError::Timeout("authentication"))??;
        Ok(Remote { handle, sftp })
    }

    /// A whole remote file (procfs files report size 0, so read to end of file).
    ///
    /// # Errors
    /// The file cannot be opened or read.
    pub async fn read(&self, path: &str) -> Result<Vec<u8>, RemoteError> {
        self.sftp
            .read(path)
            .await
            .map_err(|e| RemoteError::Protocol(format!("{path}: {e}")))
    }

    /// The names in a remote directory.
    ///
    /// # Errors
    /// The directory cannot be listed.
    pub async fn list(&self, path: &str) -> Result<Vec<String>, RemoteError> {
        let dir = self
            .sftp
            .read_dir(path)
            .await
            .map_err(|e| RemoteError::Protocol(format!("{path}: {e}")))?;
        Ok(dir.map(|e| e.file_name()).collect())
    }

    /// The names in a remote directory with each entry's owner (for `/proc`, a
    /// process's effective uid, without reading its status).
    ///
    /// # Errors
    /// The directory cannot be listed.
    pub async fn list_owned(&self, path: &str) -> Result<Vec<(String, Option<u32>)>, RemoteError> {
        let dir = self
            .sftp
            .read_dir(path)
            .await
            .map_err(|e| RemoteError::Protocol(format!("{path}: {e}")))?;
        Ok(dir.map(|e| (e.file_name(), e.metadata().uid)).collect())
    }

    /// `statvfs` of a remote mount (OpenSSH's statvfs@openssh.com).
    pub async fn space(&self, path: &str) -> Option<Space> {
        let s = self.sftp.fs_info(path).await.ok()??;
        Some(Space {
            total: s.blocks.saturating_mul(s.fragment_size),
            free: s.blocks_free.saturating_mul(s.fragment_size),
            available: s.blocks_avail.saturating_mul(s.fragment_size),
        })
    }

    /// Says goodbye.
    pub async fn close(self) {
        let _ = self.sftp.close().await;
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

async fn publickey(
    handle: &mut russh::client::Handle<Client>,
    user: &str,
    key: russh::keys::PrivateKey,
) -> Result<bool, RemoteError> {
    let hash = handle
        .best_supported_rsa_hash()
        .await
        .map_err(|e| RemoteError::Protocol(e.to_string()))?
        .flatten();
    let key = PrivateKeyWithHashAlg::new(Arc::new(key), hash);
    Ok(handle
        .authenticate_publickey(user.to_owned(), key)
        .await
        .map_err(|e| RemoteError::Protocol(e.to_string()))?
        .success())
}

fn load_key(path: &Path) -> Result<russh::keys::PrivateKey, RemoteError> {
    russh::keys::load_secret_key(path, None)
        .map_err(|e| RemoteError::BadKey(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_as_user_at_host_and_port() {
        let t: Target = "mon@web1".parse().unwrap();
        assert_eq!(
            (t.user.as_str(), t.host.as_str(), t.port),
            ("mon", "web1", 22)
        );
        let t: Target = "mon@10.0.0.7:2222".parse().unwrap();
        assert_eq!((t.host.as_str(), t.port), ("10.0.0.7", 2222));
        let t: Target = "mon@[::1]:2200".parse().unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 2200));
        assert_eq!(t.to_string(), "mon@[::1]:2200");
        assert_eq!("mon@[::1]".parse::<Target>().unwrap().port, 22);
        for bad in [
            "web1",
            "@web1",
            "mon@",
            "mon@web1:",
            "mon@web1:0",
            "mon@web1:x",
            "mon@[::1",
        ] {
            let e = bad.parse::<Target>().unwrap_err();
            assert!(e.contains("user@host[:port]"), "{bad}: {e}");
        }
    }
}
