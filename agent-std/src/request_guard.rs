//! Which requests reach an endpoint at all: the `Host` a request names and the `Origin`
//! a browser adds, checked on every request before the token.
//!
//! A page on any site can make the user's browser talk to the agent. Two checks stop it
//! from reading or driving the agent:
//! - **DNS rebinding**: the page's own name is made to resolve to 127.0.0.1, so the
//!   browser treats the agent as the page's origin. Its requests then carry that name in
//!   `Host`. Only names the agent knows are accepted: IP literals (a rebinding needs a
//!   name), `localhost` and `*.localhost` (RFC 6761 keeps them on loopback), this
//!   machine's hostname, the names of the TLS certificate and `--allowed-host`.
//! - **Cross-origin requests**: a browser names the page's origin in `Origin` on every
//!   WebSocket handshake and every cross-origin fetch. No endpoint serves CORS, so such a
//!   request could only act blindly; it is refused unless the origin is the agent's
//!   own address (`Origin` naming the `Host` asked for). Native clients send no `Origin`.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The names the agent answers to, beyond IP literals and `localhost`.
#[derive(Debug, Default)]
pub struct HostPolicy {
    /// Lower-case names without a trailing dot; `*.example.com` allows its subdomains.
    names: Vec<String>,
    /// The served certificate (DER), whose DNS names are accepted too.
    certificate: Option<Vec<u8>>,
}

impl HostPolicy {
    /// Accepts `hostname` (this machine's), each of `allowed` and the DNS names of
    /// `certificate`.
    pub fn new(hostname: &str, allowed: &[String], certificate: Option<Vec<u8>>) -> Self {
        let mut names: Vec<String> = std::iter::once(hostname)
            .chain(allowed.iter().map(String::as_str))
            .map(normalise)
            .filter(|n| !n.is_empty())
            .collect();
        names.sort();
        names.dedup();
        HostPolicy { names, certificate }
    }

    /// Whether a request naming `authority` in its `Host` header is for this agent.
    pub fn allows(&self, authority: &str) -> bool {
        let Some(host) = host_of(authority) else {
            return false;
        };
        if host.parse::<IpAddr>().is_ok() {
            return true;
        }
        let host = normalise(host);
        if host == "localhost" || host.ends_with(".localhost") {
            return true;
        }
        let listed = self.names.iter().any(|n| match n.strip_prefix("*.") {
            Some(domain) => host
                .strip_suffix(domain)
                .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
            None => *n == host,
        });
        listed
            || self
                .certificate
                .as_deref()
                .is_some_and(|der| certifies(der, &host))
    }
}

/// Whether the certificate `der` is valid for the DNS name `host` (webpki's own name
/// matching, wildcards included).
fn certifies(der: &[u8], host: &str) -> bool {
    let der = rustls::pki_types::CertificateDer::from(der);
    let Ok(cert) = webpki::EndEntityCert::try_from(&der) else {
        return false;
    };
    let Ok(name) = rustls::pki_types::ServerName::try_from(host) else {
        return false;
    };
    cert.verify_is_valid_for_subject_name(&name).is_ok()
}

fn normalise(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// The host of an authority (`name`, `name:port`, `1.2.3.4:port`, `[::1]:port`), or
/// `None` when it is not one.
fn host_of(authority: &str) -> Option<&str> {
    let authority = authority.trim();
    if let Some(rest) = authority.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        let port_ok = after.is_empty()
            || after
                .strip_prefix(':')
                .is_some_and(|p| p.parse::<u16>().is_ok());
        return (port_ok && v6.parse::<std::net::Ipv6Addr>().is_ok()).then_some(v6);
    }
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.parse::<u16>().is_ok() => host,
        Some(_) => return None,
        None => authority,
    };
    let valid = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    valid.then_some(host)
}

/// `None` when a request with these headers may go on, else why not. A request without
/// `Host` (HTTP/1.0) comes from no browser and goes on.
pub fn refusal(policy: &HostPolicy, headers: &HeaderMap) -> Option<&'static str> {
    let host = match headers.get(header::HOST) {
        None => None,
        Some(v) => match v.to_str() {
            Ok(h) if policy.allows(h) => Some(h),
            _ => return Some("the Host header names no address of this agent (DNS rebinding?): add the name with --allowed-host\n"),
        },
    };
    match headers.get(header::ORIGIN) {
        None => None,
        Some(origin) => {
            let same = match (origin.to_str(), host) {
                (Ok(origin), Some(host)) => same_origin(origin, host),
                _ => false,
            };
            (!same).then_some(
                "cross-origin request refused: only pages served by this agent may call it\n",
            )
        }
    }
}

/// Whether the serialised origin `origin` (`scheme://host[:port]`, RFC 6454) names the
/// authority `host`. The opaque origin `null` names none.
fn same_origin(origin: &str, host: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let authority = authority.trim_end_matches('/');
    if authority.eq_ignore_ascii_case(host) {
        return true;
    }
    // A default port is left out of the origin but may be written in Host.
    let default = match scheme {
        "http" | "ws" => ":80",
        "https" | "wss" => ":443",
        _ => return false,
    };
    host.strip_suffix(default)
        .is_some_and(|h| authority.eq_ignore_ascii_case(h))
}

/// Middleware: 403 for a request whose `Host` or `Origin` is not the agent's.
pub async fn check(
    State(policy): State<Arc<HostPolicy>>,
    request: Request,
    next: Next,
) -> Response {
    match refusal(&policy, request.headers()) {
        None => next.run(request).await,
        Some(why) => (StatusCode::FORBIDDEN, why).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn hosts_the_agent_answers_to() {
        let p = HostPolicy::new(
            "web1",
            &["Metrics.Example.COM.".into(), "*.lan".into()],
            None,
        );
        for ok in [
            "127.0.0.1:3000",
            "10.1.2.3",
            "[::1]:3000",
            "[fe80::1]",
            "localhost:3000",
            "LOCALHOST",
            "grafana.localhost:80",
            "web1:9100",
            "metrics.example.com",
            "metrics.example.com.:443",
            "box.lan:3000",
        ] {
            assert!(p.allows(ok), "{ok}");
        }
        for refused in [
            "evil.example:3000",
            "evil.example",
            "web1.evil.example",
            "localhost.evil.example",
            "lan",
            "x.lan.evil",
            "[::1",
            "[::1]x",
            "127.0.0.1:99999",
            "",
            "a b",
            "localhost:3000/x",
        ] {
            assert!(!p.allows(refused), "{refused}");
        }
    }

    #[test]
    fn origins_must_name_the_host() {
        let p = HostPolicy::new("web1", &[], None);
        let ok = |h: &[(&'static str, &str)]| refusal(&p, &headers(h)).is_none();
        assert!(ok(&[("host", "127.0.0.1:3000")]));
        assert!(ok(&[]));
        assert!(ok(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3000")
        ]));
        assert!(ok(&[("host", "web1:443"), ("origin", "https://web1")]));
        assert!(!ok(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://evil.example")
        ]));
        assert!(!ok(&[("host", "127.0.0.1:3000"), ("origin", "null")]));
        assert!(!ok(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3001")
        ]));
        assert!(!ok(&[("host", "web1:80"), ("origin", "https://web1")]));
        // Rebinding: both name the attacker's domain.
        assert!(!ok(&[
            ("host", "evil.example:3000"),
            ("origin", "http://evil.example:3000")
        ]));
        assert!(!ok(&[("host", "evil.example:3000")]));
    }

    #[test]
    fn names_of_the_certificate_are_accepted() {
        let cert = rcgen::generate_simple_self_signed(vec![
            "agent.example".to_owned(),
            "*.fleet.example".to_owned(),
        ])
        .unwrap();
        let p = HostPolicy::new("web1", &[], Some(cert.cert.der().to_vec()));
        assert!(p.allows("agent.example:3000"));
        assert!(p.allows("node7.fleet.example"));
        assert!(!p.allows("fleet.example"));
        assert!(!p.allows("evil.example"));
    }
}
