//! A deadline on a connection's writes: a client that stops reading, so that the socket's
//! buffers fill and every write waits, is cut off once a write has waited that long.
//!
//! The header deadline cannot see this client: it sent its request, and hyper (or a
//! WebSocket session) is busy writing the reply, not waiting for a request. TCP keepalive
//! cannot either: the peer's kernel still acknowledges, with a zero window. Without this,
//! such a client holds its place among `--max-http-connections` for as long as it likes,
//! and a few of them hold all of them.
//!
//! The deadline runs only while a write waits, and any progress resets it, as nginx's
//! `send_timeout` does: a slow reader on a slow link is served, a stalled one is not.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// `inner` with its writes, flushes and shutdown bounded by the deadline.
pub struct WriteDeadline<S> {
    inner: S,
    limit: Duration,
    /// The timer of the write now waiting; allocated once, re-armed on each wait.
    timer: Pin<Box<Sleep>>,
    /// Whether a write is waiting, so `timer` counts from when it began to.
    waiting: bool,
}

impl<S> WriteDeadline<S> {
    /// Wraps `inner`: a write that makes no progress for `limit` fails with `TimedOut`.
    pub fn new(inner: S, limit: Duration) -> Self {
        Self {
            inner,
            limit,
            timer: Box::pin(tokio::time::sleep(limit)),
            waiting: false,
        }
    }

    /// Passes a ready result on and disarms the timer; a pending one arms it (when the
    /// wait begins) and turns into `TimedOut` once it has run out.
    fn bound<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if poll.is_ready() {
            self.waiting = false;
            return poll;
        }
        if !self.waiting {
            self.waiting = true;
            self.timer.as_mut().reset(Instant::now() + self.limit);
        }
        match self.timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the peer read nothing for {} ms (--write-timeout-ms)",
                    self.limit.as_millis()
                ),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteDeadline<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.bound(cx, poll)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.bound(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_flush(cx);
        this.bound(cx, poll)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.bound(cx, poll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Over tokio's in-memory pipe, whose 64-byte buffer fills as a socket's does.
    #[tokio::test]
    async fn a_stalled_reader_fails_the_write_a_slow_one_does_not() {
        let limit = Duration::from_millis(500);
        let (near, mut far) = tokio::io::duplex(64);
        let mut writer = WriteDeadline::new(near, limit);

        // A reader that takes 64 bytes every 50 ms: each wait is far shorter than the
        // deadline, though the whole write takes longer than it.
        let slow = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut buf = [0u8; 64];
            while got.len() < 1024 {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let n = far.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            (far, got)
        });
        let reply: Vec<u8> = (0..1024u32).map(|i| (i % 251) as u8).collect();
        writer.write_all(&reply).await.unwrap();
        let (far, got) = slow.await.unwrap();
        assert_eq!(got, reply);

        // Now the reader stops: the buffer fills, and the write fails at the deadline,
        // not before it, with the reason.
        let started = Instant::now();
        let e = writer.write_all(&[7u8; 1024]).await.unwrap_err();
        let waited = started.elapsed();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert!(e.to_string().contains("read nothing for 500 ms"), "{e}");
        assert!(waited >= limit && waited < limit * 4, "{waited:?}");
        drop(far);
    }

    #[tokio::test]
    async fn reads_pass_through_untimed() {
        let (near, mut far) = tokio::io::duplex(64);
        let mut wrapped = WriteDeadline::new(near, Duration::from_millis(50));
        // A read may wait far past the write deadline: that is the header deadline's
        // business, not this one's.
        let late = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            far.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
            far
        });
        let mut buf = [0u8; 16];
        wrapped.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"GET / HTTP/1.1\r\n");
        drop(late.await.unwrap());
    }
}
