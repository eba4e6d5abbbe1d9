//! One HTTP listener: accepts connections, plain or TLS, and serves the router on each
//! over HTTP/1.1, with upgrades for the WebSocket endpoints.
//!
//! Bounds keep clients from holding the agent's descriptors and memory, before any token
//! is checked:
//! - at most a fixed number of connections open at once over all listeners, and at most
//!   a share of them from one source address ([`Admission`]), with a few places beyond
//!   the limit kept for loopback, so an operator on the machine still gets in;
//! - a deadline for a request's head from its first byte, and for the first request from
//!   the accept (and for the TLS handshake);
//! - an idle bound for a connection between requests, long enough that a scraper
//!   polling every minute keeps its connection ([`ConnectionClock`]);
//! - a deadline for a write the client does not read ([`WriteDeadline`]).
//!
//! The gateway listener, which only reads, has bounds of its own (`endpoint::gateway`).
//!
//! The loop is ours rather than `axum::serve`'s or axum-server's because both serve
//! HTTP/2 to any client that opens with its preface, and hyper has no deadline for an
//! HTTP/2 connection that sends nothing: each would hold its place forever. No endpoint
//! needs HTTP/2.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
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
    /// For a request's head, from its first byte (for the first request, from the
    /// accept); it bounds the TLS handshake too.
    pub header: Duration,
    /// For a connection idle between requests, once it has made one.
    pub idle: Duration,
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
    // hyper's own header timer also runs while a keep-alive connection waits for its next
    // request, which would close a scraper's connection between scrapes: the connection
    // clock below keeps both bounds instead.
    builder.timer(TokioTimer::new()).header_read_timeout(None);
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
                None => serve_connection(&builder, stream, service, deadlines, stopped).await,
                Some(tls) => {
                    if let Ok(Ok(stream)) =
                        tokio::time::timeout(deadlines.header, tls.accept(stream)).await
                    {
                        serve_connection(&builder, stream, service, deadlines, stopped).await;
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
    mut service: Admitted,
    deadlines: Deadlines,
    mut stopped: watch::Receiver<()>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let clock = Arc::new(ConnectionClock::new(deadlines));
    service.clock = Some(clock.clone());
    let stream = Clocked {
        inner: stream,
        clock: clock.clone(),
    };
    // A client's protocol error or a closed socket ends only its own connection, and
    // says nothing the agent's operator can act on: the result is not logged.
    let connection = builder
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
        .with_upgrades();
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        // Past a deadline the connection is dropped, which closes it unanswered. Once it
        // is upgraded to a WebSocket session it has left hyper, and this with it.
        () = clock.expiry() => return,
        _ = stopped.changed() => connection.as_mut().graceful_shutdown(),
    }
    let _ = connection.await;
}

/// Where a connection stands, for its deadlines: set by its reads ([`Clocked`]) and by
/// the requests it makes ([`Admitted`]).
struct ConnectionClock {
    deadlines: Deadlines,
    state: std::sync::Mutex<ClockState>,
    /// Wakes [`ConnectionClock::expiry`] when the deadline may have come nearer.
    nearer: tokio::sync::Notify,
}

struct ClockState {
    accepted: Instant,
    /// Requests made.
    requests: u64,
    /// Requests whose reply head is not ready yet: a handler at work has no deadline
    /// here (its reads and writes have their own).
    in_flight: u32,
    /// When the first byte of a request head not yet complete arrived.
    head_started: Option<Instant>,
    /// The last reply ready or written.
    quiet_since: Instant,
}

impl ConnectionClock {
    fn new(deadlines: Deadlines) -> Self {
        let now = Instant::now();
        ConnectionClock {
            deadlines,
            state: std::sync::Mutex::new(ClockState {
                accepted: now,
                requests: 0,
                in_flight: 0,
                head_started: None,
                quiet_since: now,
            }),
            nearer: tokio::sync::Notify::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ClockState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// When the connection is to be closed as it stands, or `None` while a request is
    /// being answered.
    fn deadline(&self) -> Option<Instant> {
        let s = self.state();
        if s.in_flight > 0 {
            return None;
        }
        Some(match s.head_started {
            Some(at) => at + self.deadlines.header,
            None if s.requests == 0 => s.accepted + self.deadlines.header,
            None => s.quiet_since + self.deadlines.idle,
        })
    }

    /// Completes once the connection has passed its deadline. Sleeps until each deadline
    /// (or until told it came nearer) and looks again, since progress moves it: no timer
    /// ticks while a client is quiet.
    async fn expiry(&self) {
        loop {
            let at = match self.deadline() {
                Some(at) if Instant::now() >= at => return,
                Some(at) => at,
                None => Instant::now() + self.deadlines.header,
            };
            tokio::select! {
                () = tokio::time::sleep_until(at.into()) => {}
                () = self.nearer.notified() => {}
            }
        }
    }

    fn bytes_read(&self) {
        let mut s = self.state();
        if s.in_flight == 0 && s.head_started.is_none() {
            s.head_started = Some(Instant::now());
            drop(s);
            self.nearer.notify_one();
        }
    }

    fn bytes_written(&self) {
        self.state().quiet_since = Instant::now();
    }

    fn request_started(&self) {
        let mut s = self.state();
        s.requests += 1;
        s.in_flight += 1;
        s.head_started = None;
    }

    fn reply_ready(&self) {
        let mut s = self.state();
        s.in_flight = s.in_flight.saturating_sub(1);
        s.quiet_since = Instant::now();
        drop(s);
        self.nearer.notify_one();
    }
}

/// A connection's stream, telling its clock of the bytes that pass.
struct Clocked<S> {
    inner: S,
    clock: Arc<ConnectionClock>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Clocked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.clock.bytes_read();
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Clocked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.clock.bytes_written();
        }
        poll
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.clock.bytes_written();
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// How many connections may be open, in all and from one source.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Over all listeners.
    pub total: usize,
    /// From one IPv4 address or one IPv6 /64 (one host's share of addresses).
    pub per_address: usize,
}

/// Places beyond the total, a sixty-fourth of it (16 of the default 1024), for loopback
/// sources that hold few connections: an operator on the machine reaches `/healthz` and
/// `/metrics` while other clients hold every other place (a source holding many is the
/// flood, not the operator).
pub const LOOPBACK_RESERVE_SHARE: usize = 64;
/// A loopback source holding fewer than this may use the reserve.
const LOOPBACK_LIGHT: usize = 4;

/// Lets a connection in while its source holds fewer than its share and fewer than the
/// limit are open in all. Past either, the connection is closed at once: answering it
/// would take the very resources the limit protects.
#[derive(Clone)]
pub struct Admission {
    app: Router,
    open: Arc<SourceCounts>,
    limits: Limits,
}

impl Admission {
    /// Serves `app` within `limits`, however many listeners share this admission.
    pub fn new(app: Router, limits: Limits) -> Self {
        Self {
            app,
            open: Arc::new(SourceCounts::default()),
            limits,
        }
    }

    /// The router for the connection from `peer`, or `None` past a limit.
    fn admit(&self, peer: SocketAddr) -> Option<Admitted> {
        let ip = peer.ip().to_canonical();
        let reserve = if ip.is_loopback() {
            self.limits.total / LOOPBACK_RESERVE_SHARE
        } else {
            0
        };
        match self
            .open
            .take(ip, self.limits.per_address, self.limits.total, reserve)
        {
            Ok(place) => Some(Admitted {
                app: self.app.clone(),
                _place: Arc::new(place),
                clock: None,
                peer,
            }),
            Err(refusal) => {
                let why = match refusal {
                    Refusal::Source => format!(
                        "{} HTTP connections open from {} (--max-http-connections-per-address)",
                        self.limits.per_address,
                        source_key(ip)
                    ),
                    Refusal::Total => format!(
                        "{} HTTP connections open (--max-http-connections)",
                        self.limits.total
                    ),
                };
                self.open.log_refusal(&why, peer);
                None
            }
        }
    }
}

/// Why a place was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The source holds its share.
    Source,
    /// Every place is taken.
    Total,
}

/// Places held, in all and by source: shared by the HTTP listeners and, separately, by
/// the WebSocket sessions.
#[derive(Default)]
pub struct SourceCounts {
    inner: std::sync::Mutex<Counts>,
    /// Whether the last one was turned away, so a full agent logs once a spell rather
    /// than once a connection.
    full: AtomicBool,
}

#[derive(Default)]
struct Counts {
    total: usize,
    by_source: std::collections::HashMap<IpAddr, usize>,
}

impl SourceCounts {
    /// A place for a client at `ip`, while its source holds fewer than `per_source` and
    /// fewer than `total` are held in all (`total + reserve` for a source holding fewer
    /// than a few); released when dropped.
    pub fn take(
        self: &Arc<Self>,
        ip: IpAddr,
        per_source: usize,
        total: usize,
        reserve: usize,
    ) -> Result<Place, Refusal> {
        let key = source_key(ip);
        let mut c = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let held = c.by_source.get(&key).copied().unwrap_or(0);
        if held >= per_source {
            return Err(Refusal::Source);
        }
        let room = if held < LOOPBACK_LIGHT {
            total.saturating_add(reserve)
        } else {
            total
        };
        if c.total >= room {
            return Err(Refusal::Total);
        }
        c.total += 1;
        *c.by_source.entry(key).or_default() += 1;
        self.full.store(false, Ordering::Relaxed);
        Ok(Place {
            counts: self.clone(),
            key,
        })
    }

    /// Logs `why` unless the previous admission was refused too.
    pub fn log_refusal(&self, why: &str, peer: SocketAddr) {
        if !self.full.swap(true, Ordering::Relaxed) {
            eprintln!("ferrostat-agent: {why}; closing new ones, from {peer} on, until some end");
        }
    }
}

/// The source a client is counted under: its IPv4 address, or its IPv6 /64 (a host
/// commonly holds a whole /64, so per-address counting would not bound it).
pub fn source_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) if !v6.is_loopback() => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        other => other,
    }
}

/// One place held, given back when dropped.
pub struct Place {
    counts: Arc<SourceCounts>,
    key: IpAddr,
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut c = self.counts.inner.lock().unwrap_or_else(|e| e.into_inner());
        c.total = c.total.saturating_sub(1);
        if let std::collections::hash_map::Entry::Occupied(mut e) = c.by_source.entry(self.key) {
            *e.get_mut() -= 1;
            if *e.get() == 0 {
                e.remove();
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
    _place: Arc<Place>,
    clock: Option<Arc<ConnectionClock>>,
    /// The client, given to handlers as axum's `ConnectInfo`.
    peer: SocketAddr,
}

/// Tells the clock that a request's reply is ready when dropped: when the handler
/// returns, or its future is dropped with the connection.
struct InFlight(Option<Arc<ConnectionClock>>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(clock) = &self.0 {
            clock.reply_ready();
        }
    }
}

impl Service<Request<Incoming>> for Admitted {
    type Response = axum::response::Response;
    type Error = Infallible;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Infallible>> + Send>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Service::<Request<Incoming>>::poll_ready(&mut self.app, cx)
    }

    fn call(&mut self, mut request: Request<Incoming>) -> Self::Future {
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(self.peer));
        if let Some(clock) = &self.clock {
            clock.request_started();
        }
        let in_flight = InFlight(self.clock.clone());
        let reply = self.app.call(request);
        Box::pin(async move {
            let reply = reply.await;
            drop(in_flight);
            reply
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_source_gets_a_share_and_places_come_back() {
        let counts = Arc::new(SourceCounts::default());
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "::ffff:10.0.0.2".parse().unwrap();
        let held: Vec<Place> = (0..3).map(|_| counts.take(a, 3, 5, 0).unwrap()).collect();
        assert_eq!(counts.take(a, 3, 5, 0).err(), Some(Refusal::Source));
        let b1 = counts.take(b, 3, 5, 0).unwrap();
        let _b2 = counts.take(b, 3, 5, 0).unwrap();
        assert_eq!(counts.take(b, 3, 5, 0).err(), Some(Refusal::Total));
        drop(b1);
        let _b3 = counts.take(b, 3, 5, 0).unwrap();
        drop(held);
        assert!(counts.take(a, 3, 5, 0).is_ok());
    }

    #[test]
    fn the_reserve_is_for_sources_holding_few() {
        let counts = Arc::new(SourceCounts::default());
        let flood: IpAddr = "127.0.0.2".parse().unwrap();
        let operator: IpAddr = "127.0.0.1".parse().unwrap();
        let mut held: Vec<Place> = (0..4)
            .map(|_| counts.take(flood, 100, 4, 2).unwrap())
            .collect();
        // The flood holds the total and is past "few": no reserve for it.
        assert_eq!(counts.take(flood, 100, 4, 2).err(), Some(Refusal::Total));
        held.push(counts.take(operator, 100, 4, 2).unwrap());
        held.push(counts.take(operator, 100, 4, 2).unwrap());
        assert_eq!(counts.take(operator, 100, 4, 2).err(), Some(Refusal::Total));
    }

    #[test]
    fn an_ipv6_host_is_one_source_per_64() {
        let k = |s: &str| source_key(s.parse().unwrap());
        assert_eq!(k("2001:db8:1:2::1"), k("2001:db8:1:2:ffff::9"));
        assert_ne!(k("2001:db8:1:2::1"), k("2001:db8:1:3::1"));
        assert_eq!(k("::ffff:192.0.2.1"), k("192.0.2.1"));
        assert_ne!(k("127.0.0.1"), k("127.0.0.2"));
        assert_eq!(k("::1"), "::1".parse::<IpAddr>().unwrap());
    }
}
