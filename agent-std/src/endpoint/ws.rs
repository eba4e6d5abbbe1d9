//! What every WebSocket endpoint does the same way: admitting a session within the
//! limits, in all and per source address, and ending it properly.
//!
//! A [`Session`] pings its client and closes it once the client has said nothing, not
//! even a pong, for the idle bound: a client that never reads or writes would otherwise
//! hold its place forever, since small replies fit in the kernel's buffers and the write
//! deadline never starts. Request-reply protocols (socktop, psiod), whose clients poll,
//! are also closed after a longer time without a request. A client's Close frame is
//! answered with one before the connection ends (RFC 6455, section 5.5.1), so a normal
//! disconnect reads as clean (1000) to the client, not as abnormal (1006).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::time::Instant;

use crate::http_listener::{Place, Refusal, SourceCounts};

/// How long a session may stay silent, and how many sessions may be open.
#[derive(Clone)]
pub struct SessionLimits {
    counts: Arc<SourceCounts>,
    /// Sessions in all.
    pub total: usize,
    /// Sessions from one source address (an IPv6 /64).
    pub per_address: usize,
    /// How long a client may send nothing at all, not even a pong to the pings sent
    /// every third of it.
    pub idle: Duration,
}

/// A polling client's session is closed after this many idle bounds without a request.
const REQUESTS_EVERY_IDLE: u32 = 5;

impl SessionLimits {
    /// `total` sessions, `per_address` from one source, each closed after `idle` of
    /// silence.
    pub fn new(total: usize, per_address: usize, idle: Duration) -> Self {
        SessionLimits {
            counts: Arc::new(SourceCounts::default()),
            total,
            per_address,
            idle,
        }
    }

    /// A place for a session from `peer`, or which limit it met.
    pub fn admit(&self, peer: SocketAddr) -> Result<Place, SessionsFull> {
        self.counts
            .take(peer.ip(), self.per_address, self.total, 0)
            .map_err(SessionsFull)
    }

    /// A session on `socket` for a push protocol (only silence ends it).
    pub fn push_session(&self, socket: WebSocket) -> Session {
        Session::new(socket, self.idle, None)
    }

    /// A session on `socket` for a request-reply protocol, which also ends after a
    /// long time without a request.
    pub fn polled_session(&self, socket: WebSocket) -> Session {
        Session::new(socket, self.idle, Some(self.idle * REQUESTS_EVERY_IDLE))
    }
}

/// No place for another session: answered with 503 and which limit it met.
#[derive(Debug)]
pub struct SessionsFull(Refusal);

impl IntoResponse for SessionsFull {
    fn into_response(self) -> Response {
        let why = match self.0 {
            Refusal::Source => "too many connections from your address\n",
            Refusal::Total => "too many connections\n",
        };
        (StatusCode::SERVICE_UNAVAILABLE, why).into_response()
    }
}

/// One WebSocket session, as its endpoint reads and writes it.
pub struct Session {
    socket: WebSocket,
    idle: Duration,
    request_idle: Option<Duration>,
    heard: Instant,
    asked: Instant,
    ping: tokio::time::Interval,
}

impl Session {
    fn new(socket: WebSocket, idle: Duration, request_idle: Option<Duration>) -> Self {
        let every = (idle / 3).max(Duration::from_millis(10));
        let now = Instant::now();
        Session {
            socket,
            idle,
            request_idle,
            heard: now,
            asked: now,
            ping: tokio::time::interval_at(now + every, every),
        }
    }

    /// The client's next text or binary message, or `None` once the session is over:
    /// the client closed it (and was answered), went silent past the bound, broke the
    /// protocol or sent a message over the limit (each then told why with a Close
    /// frame). Pings are answered and pongs noted on the way. Safe to cancel, as in a
    /// `select!` beside other work.
    pub async fn recv(&mut self) -> Option<Message> {
        loop {
            let deadline = match self.request_idle {
                Some(bound) => (self.heard + self.idle).min(self.asked + bound),
                None => self.heard + self.idle,
            };
            tokio::select! {
                incoming = self.socket.recv() => match incoming {
                    None => return None,
                    Some(Err(e)) => {
                        let frame = super::close_for_read_error(e);
                        let _ = self.socket.send(Message::Close(Some(frame))).await;
                        return None;
                    }
                    Some(Ok(message)) => {
                        self.heard = Instant::now();
                        match message {
                            Message::Close(_) => {
                                self.finish().await;
                                return None;
                            }
                            Message::Ping(_) | Message::Pong(_) => continue,
                            other => {
                                self.asked = self.heard;
                                return Some(other);
                            }
                        }
                    }
                },
                _ = self.ping.tick() => {
                    if self.socket.send(Message::Ping(Default::default())).await.is_err() {
                        return None;
                    }
                }
                () = tokio::time::sleep_until(deadline) => {
                    let reason = if Instant::now() >= self.heard + self.idle {
                        format!("silent for {} ms: no message or pong", self.idle.as_millis())
                    } else {
                        "no request for too long".to_owned()
                    };
                    self.close(1008, reason).await;
                    return None;
                }
            }
        }
    }

    /// Sends a message.
    ///
    /// # Errors
    /// The connection failed or was closed.
    pub async fn send(&mut self, message: Message) -> Result<(), axum::Error> {
        self.socket.send(message).await
    }

    /// Closes with `code` and `reason`, the agent's own decision.
    pub async fn close(&mut self, code: u16, reason: impl Into<String>) {
        let frame = CloseFrame {
            code,
            reason: reason.into().into(),
        };
        let _ = self.socket.send(Message::Close(Some(frame))).await;
    }

    /// After the client's Close: tungstenite has queued the reply, and reading once more
    /// writes it and sees the session end.
    async fn finish(&mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(1), self.socket.recv()).await;
    }
}
