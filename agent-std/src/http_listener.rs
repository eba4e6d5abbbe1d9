//! One HTTP listener: accepts connections, plain or TLS, and serves the router on each
//! over HTTP/1.1, with upgrades for the WebSocket endpoints.
//!
//! Three bounds keep clients from holding the agent's descriptors and memory, before any
//! token is checked: at most a fixed number of connections open at once (over all
//! listeners), a deadline for a request's headers (and for the TLS handshake), and one
//! for a write the client does not read ([`WriteDeadline`]). The gateway listener, which
//! only reads, has the first two (`endpoint::gateway`).
//!
//! The loop is ours rather than `axum::serve`'s or axum-server's because both serve
//! HTTP/2 to any client that opens with its preface, and hyper has no deadline for an
//! HTTP/2 connection that sends nothing: each would hold its place forever. No endpoint
//! needs HTTP/2.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::routing::future::RouteFuture;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tower_service::Service;

use crate::write_deadline::WriteDeadline;

/// How long connections may finish their requests once shutdown begins.
const DRAIN: Duration = Duration::from_secs(5);

/// TCP keepalive on every accepted connection, as Go's net/http sets it (probes after
/// 15 s idle, then every 15 s; the kernel's 9 unanswered ones close it): a client that
/// vanished without closing, its host powered off or its link cut, frees its place in
/// about 2.5 minutes. Nothing else notices a silent peer of a WebSocket session that
/// only answers requests.
const KEEPALIVE: socket2::TcpKeepalive = socket2::TcpKeepalive::new()
    .with_time(Duration::from_secs(15))
    .with_interval(Duration::from_secs(15));

/// How long a client may keep the agent waiting.
#[derive(Clone, Copy, Debug)]
pub struct Deadlines {
    /// For a request's headers. hyper starts it whenever it waits for a request head, so
    /// it also closes a keep-alive connection left idle that long; it bounds the TLS
    /// handshake too.
    pub header: Duration,
    /// For a write, a reply's or a WebSocket session's, that the client does not read.
    pub write: Duration,
}

/// Serves `admission`'s router on `listener` until `shutdown` completes, then lets open
/// connections finish for up to [`DRAIN`].
pub async fn serve(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    admission: Admission,
    deadlines: Deadlines,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(deadlines.header);
    let (stop, stopped) = watch::channel(());
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of descriptors for the moment, or a connection reset before it was
                // taken: the open ones go on, and closing them frees what accept needs.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
            // Finished connections leave the set, so it holds only open ones.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let Some(service) = admission.admit(peer) else {
            continue;
        };
        // Best effort: a socket that refuses it is served all the same.
        let _ = socket2::SockRef::from(&stream).set_tcp_keepalive(&KEEPALIVE);
        // Under TLS, so the handshake's writes are bounded as well.
        let stream = WriteDeadline::new(stream, deadlines.write);
        let builder = builder.clone();
        let tls = tls.clone();
        let stopped = stopped.clone();
        connections.spawn(async move {
            match tls {
                None => serve_connection(&builder, stream, service, stopped).await,
                Some(tls) => {
                    if let Ok(Ok(stream)) =
                        tokio::time::timeout(deadlines.header, tls.accept(stream)).await
                    {
                        serve_connection(&builder, stream, service, stopped).await;
                    }
                }
            }
        });
    }
    drop(listener);
    drop(stop);
    let _ = tokio::time::timeout(DRAIN, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}

/// Serves one connection until the client or hyper closes it, or the agent stops: then
/// the request in progress is finished and the connection closed.
async fn serve_connection<S>(
    builder: &http1::Builder,
    stream: S,
    service: Admitted,
    mut stopped: watch::Receiver<()>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // A client's protocol error or a closed socket ends only its own connection, and
    // says nothing the agent's operator can act on: the result is not logged.
    let connection = builder
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
        .with_upgrades();
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        _ = stopped.changed() => connection.as_mut().graceful_shutdown(),
    }
    let _ = connection.await;
}

/// Lets a connection in while fewer than the limit are open. Past it, the connection is
/// closed at once: answering it would take the very resources the limit protects.
#[derive(Clone)]
pub struct Admission {
    app: Router,
    open: Arc<Semaphore>,
    /// Whether the last connection was turned away, so a full agent logs once a spell
    /// rather than once a connection.
    full: Arc<AtomicBool>,
    limit: usize,
}

impl Admission {
    /// Serves `app` on at most `limit` connections at once, however many listeners share
    /// this admission.
    pub fn new(app: Router, limit: usize) -> Self {
        Self {
            app,
            open: Arc::new(Semaphore::new(limit)),
            full: Arc::new(AtomicBool::new(false)),
            limit,
        }
    }

    /// The router for the connection from `peer`, or `None` when the limit is reached.
    fn admit(&self, peer: SocketAddr) -> Option<Admitted> {
        match self.open.clone().try_acquire_owned() {
            Ok(permit) => {
                self.full.store(false, Ordering::Relaxed);
                Some(Admitted {
                    app: self.app.clone(),
                    _open: Arc::new(permit),
                })
            }
            Err(_) => {
                if !self.full.swap(true, Ordering::Relaxed) {
                    eprintln!(
                        "ferrostat-agent: {} HTTP connections open (--max-http-connections); closing new ones, from {peer} on, until some end",
                        self.limit
                    );
                }
                None
            }
        }
    }
}

/// The router for one connection, holding its place among the open connections until
/// hyper drops it: when the connection closes, or hands its socket to a WebSocket
/// session (which `--max-connections` then counts).
#[derive(Clone)]
struct Admitted {
    app: Router,
    _open: Arc<OwnedSemaphorePermit>,
}

impl Service<Request<Incoming>> for Admitted {
    type Response = axum::response::Response;
    type Error = Infallible;
    type Future = RouteFuture<Infallible>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Service::<Request<Incoming>>::poll_ready(&mut self.app, cx)
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        self.app.call(request)
    }
}
