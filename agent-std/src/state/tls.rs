//! The agent's TLS identity: a user's certificate and key, or a self-signed pair made
//! on first start in `<data dir>/tls` and reused afterwards, so the fingerprint clients
//! pin stays put across restarts.
//!
//! The generated pair follows socktop_agent's (PROTOCOLS.md §2.11), so its clients'
//! pinning works unchanged: ECDSA P-256 with SHA-256, not a CA, CN = hostname, SANs the
//! hostname, `localhost`, 127.0.0.1, ::1 and any extra names, valid 397 days from five
//! minutes ago. The key file is created with mode 0600 and never widened.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest as _, Sha256};

/// A certificate chain and key, ready to serve.
#[derive(Debug)]
pub struct TlsIdentity {
    /// Where the certificate lives (what an operator copies to clients for pinning).
    pub cert_path: PathBuf,
    /// SHA-256 of the end-entity certificate's DER, as colon-separated hex.
    pub fingerprint: String,
    /// Whether this start generated the pair.
    pub generated: bool,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

/// The certificate's SHA-256 fingerprint in the `AB:CD:...` form browsers and
/// `openssl x509 -fingerprint -sha256` print.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

impl TlsIdentity {
    /// Loads a user's PEM certificate chain and private key.
    ///
    /// # Errors
    /// A file that cannot be read, holds no certificate or no key.
    pub fn load(cert: &Path, key: &Path) -> Result<Self, String> {
        let chain = CertificateDer::pem_file_iter(cert)
            .and_then(|i| i.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("{}: {e}", cert.display()))?;
        let Some(first) = chain.first() else {
            return Err(format!("{}: no certificate in the file", cert.display()));
        };
        let fingerprint = fingerprint(first);
        let key =
            PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
        Ok(TlsIdentity {
            cert_path: cert.to_owned(),
            fingerprint,
            generated: false,
            chain,
            key,
        })
    }

    /// The pair in `dir` (`cert.pem`, `key.pem`), generated there first if missing.
    ///
    /// # Errors
    /// The directory or files cannot be created or read; only one of the two exists.
    pub fn load_or_generate(
        dir: &Path,
        hostname: &str,
        extra_names: &[String],
    ) -> Result<Self, String> {
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        match (cert.exists(), key.exists()) {
            (true, true) => {
                tighten_key_mode(&key)?;
                return Self::load(&cert, &key);
            }
            (false, false) => {}
            _ => {
                return Err(format!(
                    "{}: holds only one of cert.pem and key.pem; remove it to generate a new pair",
                    dir.display()
                ))
            }
        }
        super::data_dir::create_private_dir(dir)?;
        let (cert_pem, key_pem) = generate(hostname, extra_names)?;
        write_new(&key, key_pem.as_bytes(), 0o600)?;
        write_new(&cert, cert_pem.as_bytes(), 0o644)?;
        let mut identity = Self::load(&cert, &key)?;
        identity.generated = true;
        Ok(identity)
    }

    /// The served certificate (the chain's first), DER.
    pub fn leaf_der(&self) -> Vec<u8> {
        self.chain.first().map(|c| c.to_vec()).unwrap_or_default()
    }

    /// A rustls server configuration serving this identity (TLS 1.2 and 1.3, ring).
    ///
    /// # Errors
    /// The key does not match a supported algorithm.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key.clone_key())
            .map_err(|e| format!("{}: {e}", self.cert_path.display()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// A self-signed certificate and its key, both PEM.
fn generate(hostname: &str, extra_names: &[String]) -> Result<(String, String), String> {
    let mut names = vec![
        hostname.to_owned(),
        "localhost".into(),
        "127.0.0.1".into(),
        "::1".into(),
    ];
    for n in extra_names
        .iter()
        .map(|n| n.trim())
        .filter(|n| !n.is_empty())
    {
        if !names.iter().any(|m| m == n) {
            names.push(n.to_owned());
        }
    }
    // rcgen makes an IP SAN of every name that parses as an address.
    let mut params =
        rcgen::CertificateParams::new(names).map_err(|e| format!("certificate: {e}"))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, hostname);
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::minutes(5);
    params.not_after = now + time::Duration::days(397);
    let key = rcgen::KeyPair::generate().map_err(|e| format!("key: {e}"))?;
    let cert = params
        .self_signed(&key)
        .map_err(|e| format!("certificate: {e}"))?;
    Ok((cert.pem(), key.serialize_pem()))
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), String> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// A key readable by group or others is narrowed to 0600, as socktop_agent does.
fn tighten_key_mode(key: &Path) -> Result<(), String> {
    let meta = fs::metadata(key).map_err(|e| format!("{}: {e}", key.display()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        fs::set_permissions(key, fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("{}: {e}", key.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file's permission bits.
    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn generates_once_with_a_private_key_then_reuses_the_pair() {
        let dir = std::env::temp_dir().join(format!("ferrostat-tls-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let a = TlsIdentity::load_or_generate(
            &dir,
            "testhost",
            &["10.1.2.3".into(), "agent.example".into()],
        )
        .unwrap();
        assert!(a.generated);
        assert_eq!(mode(&dir.join("key.pem")), 0o600);
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(a.fingerprint.len(), 32 * 3 - 1);
        let b = TlsIdentity::load_or_generate(&dir, "testhost", &[]).unwrap();
        assert!(!b.generated);
        assert_eq!(a.fingerprint, b.fingerprint);
        assert!(b.server_config().is_ok());
        // A key someone widened is narrowed again on the next start.
        fs::set_permissions(dir.join("key.pem"), fs::Permissions::from_mode(0o644)).unwrap();
        TlsIdentity::load_or_generate(&dir, "testhost", &[]).unwrap();
        assert_eq!(mode(&dir.join("key.pem")), 0o600);
        // Half a pair is an error, not a silent regeneration that changes the pin.
        fs::remove_file(dir.join("key.pem")).unwrap();
        let e = TlsIdentity::load_or_generate(&dir, "testhost", &[]).unwrap_err();
        assert!(e.contains("only one of"), "{e}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn fingerprint_is_colon_hex_of_sha256() {
        assert_eq!(&fingerprint(b"abc")[..11], "BA:78:16:BF",);
    }
}
