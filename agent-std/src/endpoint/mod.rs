//! One module per endpoint.

pub mod argusyes;
pub mod gateway;
pub mod healthz;
pub mod metrics;
pub mod psiod;
pub mod sflow_api;
pub mod socktop;
pub mod stats_stream;
pub mod ws;

use std::io::Write as _;

use axum::extract::ws::CloseFrame;

/// `bytes` gzip-compressed at level 1: socktop's replies and `/metrics` pages are
/// compressed as they are served, where speed matters more than the last few percent.
pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 3),
        flate2::Compression::fast(),
    );
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

/// 404 for a `?host=` that names no watched host.
pub(crate) fn no_such_host(name: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        axum::http::StatusCode::NOT_FOUND,
        format!("no host named {name:?} is watched over SSH (start it with --ssh-watch or a /monitor client)\n"),
    )
        .into_response()
}

/// The first sub-protocol a WebSocket client offers, to echo: socktop's connector and
/// browsers (which pass the token as one) fail unless one is.
pub(crate) fn first_subprotocol(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get(axum::http::header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
}

/// The close frame a WebSocket endpoint sends when reading from its client fails, so the
/// client learns why: 1009 (message too big) for a frame or message over the endpoint's
/// limit, 1002 (protocol error) for anything else (RFC 6455, section 7.4.1).
pub(crate) fn close_for_read_error(e: axum::Error) -> CloseFrame {
    let too_big = matches!(
        e.into_inner().downcast::<tungstenite::Error>().map(|e| *e),
        Ok(tungstenite::Error::Capacity(_))
    );
    if too_big {
        CloseFrame {
            code: 1009,
            reason: "message too big".into(),
        }
    } else {
        CloseFrame {
            code: 1002,
            reason: "protocol error".into(),
        }
    }
}
