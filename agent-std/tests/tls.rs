//! TLS: the certificate generated on first start (its fingerprint as OpenSSL computes it,
//! its key private, the same pair on restart), a user's own pair, and socktop's pinning
//! client (`socktop_connector` with a CA file: exact certificate pinning) accepting the
//! agent's certificate and refusing any other.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use common::{start, start_with, temp_dir};
use socktop_connector::{connect_to_socktop_agent_with_tls, AgentRequest, AgentResponse};

/// `openssl x509 -fingerprint -sha256` of a PEM certificate, as `AB:CD:...`.
fn openssl_fingerprint(cert: &Path) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(cert)
        .output()
        .expect("openssl is installed by scripts/test.sh");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    text.trim().rsplit('=').next().unwrap().to_owned()
}

/// `openssl x509 -text` of a PEM certificate.
fn openssl_text(cert: &Path) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(cert)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// A self-signed P-256 pair made by OpenSSL, as a user would bring one.
fn openssl_pair(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let (cert, key) = (dir.join("user-cert.pem"), dir.join("user-key.pem"));
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    (cert, key)
}

fn fingerprint_in(banner: &[String]) -> String {
    let line = banner
        .iter()
        .find(|l| l.contains("SHA-256 fingerprint"))
        .unwrap_or_else(|| panic!("no fingerprint line in {banner:?}"));
    line.rsplit(' ').next().unwrap().to_owned()
}

async fn hostname_over_wss(addr: &str, pinned: &Path) -> Result<String, String> {
    hostname_over_wss_query(addr, "", pinned).await
}

async fn hostname_over_wss_query(addr: &str, query: &str, pinned: &Path) -> Result<String, String> {
    let mut c = connect_to_socktop_agent_with_tls(
        format!("wss://{addr}/ws{query}"),
        pinned.display().to_string(),
        false,
    )
    .await
    .map_err(|e| e.to_string())?;
    match c.request(AgentRequest::Metrics).await {
        Ok(AgentResponse::Metrics(m)) => Ok(m.hostname),
        other => Err(format!("{other:?}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_certificate_is_pinned_by_socktop_and_kept_across_restarts() {
    let data = temp_dir("tls-data");
    let data_arg = data.display().to_string();
    let agent = start(&["--tls", "--data-dir", &data_arg]);
    assert_eq!(agent.scheme, "https");
    let cert = data.join("tls/cert.pem");
    let printed = fingerprint_in(&agent.banner);
    assert_eq!(printed, openssl_fingerprint(&cert));
    assert!(
        agent.banner[0].contains("generated now"),
        "{:?}",
        agent.banner
    );
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data.join("tls/key.pem")), 0o600);
    assert_eq!(mode(&data), 0o700);
    let text = openssl_text(&cert);
    assert!(
        text.contains("ASN1 OID: prime256v1") && text.contains("ecdsa-with-SHA256"),
        "{text}"
    );
    assert!(
        text.contains("DNS:localhost") && text.contains("IP Address:127.0.0.1"),
        "{text}"
    );

    // The agent's own certificate, pinned: served.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(
        hostname_over_wss(&agent.addr, &cert).await.unwrap(),
        host.trim()
    );

    // Another certificate, pinned: the handshake is refused.
    let (other, _) = openssl_pair(&temp_dir("tls-other"));
    let e = hostname_over_wss(&agent.addr, &other).await.unwrap_err();
    assert!(
        e.to_lowercase().contains("certificate") || e.contains("pinned"),
        "{e}"
    );

    // Plain HTTP to the TLS port gets no page.
    let plain = ureq::get(&format!("http://{}/healthz", agent.addr)).call();
    assert!(plain.is_err());

    // A restart reuses the pair: the pin holds.
    drop(agent);
    let again = start(&["--tls", "--data-dir", &data_arg]);
    assert_eq!(fingerprint_in(&again.banner), printed);
    assert!(again.banner[0].contains("(loaded)"), "{:?}", again.banner);
    assert!(hostname_over_wss(&again.addr, &cert).await.is_ok());
    drop(again);
    std::fs::remove_dir_all(&data).unwrap();
    std::fs::remove_dir_all(other.parent().unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_certificate_and_socktops_environment() {
    let dir = temp_dir("tls-user");
    let (cert, key) = openssl_pair(&dir);
    let agent = start(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    assert_eq!(agent.scheme, "https");
    assert_eq!(fingerprint_in(&agent.banner), openssl_fingerprint(&cert));
    assert!(hostname_over_wss(&agent.addr, &cert).await.is_ok());
    drop(agent);

    // socktop_agent's variables: TLS on, extra names in the certificate, token required.
    let agent = start_with(
        &[],
        &[
            ("SOCKTOP_ENABLE_SSL", "1"),
            ("SOCKTOP_AGENT_EXTRA_SANS", "10.9.8.7,agent.example"),
            ("SOCKTOP_TOKEN", "pinned-and-secret"),
        ],
    );
    assert_eq!(agent.scheme, "https");
    let generated = agent.data_dir.join("tls/cert.pem");
    let text = openssl_text(&generated);
    assert!(
        text.contains("IP Address:10.9.8.7") && text.contains("DNS:agent.example"),
        "{text}"
    );
    let e = hostname_over_wss(&agent.addr, &generated)
        .await
        .unwrap_err();
    assert!(e.contains("401"), "no token: {e}");
    let query = "?token=pinned-and-secret";
    assert!(hostname_over_wss_query(&agent.addr, query, &generated)
        .await
        .is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}
