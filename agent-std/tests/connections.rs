//! The HTTP listeners' bounds from outside, on a real `ferrostat-agent serve`: clients
//! that connect and never finish a request's headers or body are closed at the header
//! deadline, those past the connection limit at once, and those that stop reading a
//! reply or a WebSocket session's messages at the write deadline; no client gets an
//! HTTP/2 session, which would have no deadline; WebSocket sessions outlive the header
//! deadline and the connection limit, as they must; and the agent raises its own
//! open-file limit so the limits, not the descriptors, are what binds.

mod common;

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use common::{start, start_under};

/// A connection to `addr` whose reads give up after 10 s: far beyond the deadlines the
/// tests set, so a read that times out means the agent left the connection open.
fn connect(addr: &str) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// Everything the agent sends on `stream` before closing it (a reset counts as closing).
fn until_closed(mut stream: TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return got,
            Err(e) => panic!(
                "the agent left the connection open ({e}) after sending {:?}",
                String::from_utf8_lossy(&got)
            ),
        }
    }
}

/// The agent's whole reply to `request` on a new connection, which it must then close.
/// The request may be cut short where the agent answers before reading all of it.
fn reply_to(addr: &str, request: &[u8]) -> String {
    let mut stream = connect(addr);
    for part in request.chunks(65_536) {
        if stream.write_all(part).is_err() {
            break;
        }
    }
    String::from_utf8(until_closed(stream)).unwrap()
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

fn healthz_status(addr: &str) -> String {
    let reply = reply_to(addr, HEALTHZ);
    reply.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn slow_idle_and_surplus_connections_are_closed() {
    let agent = start(&[
        "--header-timeout-ms",
        "500",
        "--idle-timeout-ms",
        "500",
        "--max-http-connections",
        "4",
    ]);
    let addr = agent.addr.as_str();
    // Four requests whose headers never end fill the limit.
    let slow: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut s = connect(addr);
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                .unwrap();
            s
        })
        .collect();
    // The kernel queues connections in order, so the fifth is taken after the four:
    // closed unanswered.
    let mut surplus = connect(addr);
    let _ = surplus.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assert_eq!(String::from_utf8_lossy(&until_closed(surplus)), "");
    assert!(
        agent
            .stderr()
            .contains("4 HTTP connections open (--max-http-connections)"),
        "{}",
        agent.stderr()
    );
    // The deadline closes the four without an answer to their half requests.
    for s in slow {
        let got = until_closed(s);
        assert!(!got.starts_with(b"HTTP/1.1 200"), "{got:?}");
    }
    // Their places are free again.
    assert_eq!(healthz_status(addr), "HTTP/1.1 200 OK");
    // A keep-alive connection is answered, then closed when left idle past the deadline.
    let mut idle = connect(addr);
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    let reply = String::from_utf8(until_closed(idle)).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    assert!(reply.ends_with("\r\n\r\nok\n"), "{reply}");
    // The HTTP/2 connection preface (RFC 9113, 3.4) gets no SETTINGS frame back, only
    // HTTP/1.1's refusal or a close.
    let mut h2 = connect(addr);
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").unwrap();
    let got = until_closed(h2);
    assert!(got.is_empty() || got.starts_with(b"HTTP/1.1 4"), "{got:?}");
}

/// Opens `n` sessions on `url` one after another with Python's `websockets`, subscribes
/// each to sysStats, and prints how many messages each received in its last second of
/// two.
const SESSIONS: &str = r#"
import asyncio, sys
import websockets

async def late_messages(ws):
    await ws.send('{"Subs": ["sysStats"]}')
    loop = asyncio.get_running_loop()
    end = loop.time() + 2
    late = 0
    while True:
        try:
            await asyncio.wait_for(ws.recv(), timeout=end - loop.time())
        except asyncio.TimeoutError:
            return late
        if loop.time() > end - 1:
            late += 1

async def main(url, n):
    sessions = [await websockets.connect(url) for _ in range(int(n))]
    print(" ".join(map(str, await asyncio.gather(*map(late_messages, sessions)))), flush=True)

asyncio.run(main(*sys.argv[1:]))
"#;

#[test]
fn websocket_sessions_hold_no_connection_place_and_outlive_the_deadlines() {
    // Sessions whose client reads go on past both deadlines: the write deadline counts
    // only while a write waits.
    let agent = start(&[
        "--header-timeout-ms",
        "500",
        "--write-timeout-ms",
        "300",
        "--max-http-connections",
        "2",
        "--stats-interval-ms",
        "200",
    ]);
    let url = format!("ws://{}/ws/stats", agent.addr);
    let client = std::process::Command::new("python3")
        .args(["-c", SESSIONS, &url, "5"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 with `websockets` (scripts/test.sh installs it)");
    std::thread::sleep(Duration::from_millis(1500));
    // Five sessions are open, and plain requests still find a place.
    assert_eq!(healthz_status(&agent.addr), "HTTP/1.1 200 OK");
    let out = client.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every session still streams a second after the header deadline, and after many
    // times the write deadline.
    let late: Vec<u32> = String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(late.len(), 5);
    assert!(late.iter().all(|&n| n >= 2), "{late:?}");
    assert!(!agent.stderr().contains("HTTP connections open"));
}

/// The kernel's view of the agent's side of the connection from local port `client` to
/// `server`: `/proc/net/tcp`'s `tr` (2: the keepalive timer is pending) and `tm->when`
/// (clock ticks left on it), per proc(5).
fn server_side_timer(server: u16, client: u16) -> (u32, u64) {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let port =
        |address: &str| u16::from_str_radix(address.rsplit(':').next().unwrap(), 16).unwrap();
    table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| port(f[1]) == server && port(f[2]) == client)
        .map(|f| {
            let (tr, when) = f[5].split_once(':').unwrap();
            (tr.parse().unwrap(), u64::from_str_radix(when, 16).unwrap())
        })
        .expect("the agent's socket in /proc/net/tcp")
}

#[test]
fn accepted_connections_have_tcp_keepalive() {
    let agent = start(&[]);
    let server: u16 = agent.addr.rsplit(':').next().unwrap().parse().unwrap();
    let mut stream = connect(&agent.addr);
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    let client = stream.local_addr().unwrap().port();
    // Without SO_KEEPALIVE an idle socket has no timer (tr 0); with it, the first probe
    // is due within 15 s, 1500 ticks of USER_HZ 100.
    let (tr, when) = server_side_timer(server, client);
    assert_eq!(tr, 2, "no keepalive timer on the agent's socket");
    assert!(when <= 1500, "{when}");
}

#[test]
fn sigterm_stops_it_with_clients_still_connected() {
    let mut agent = start(&[]);
    let addr = agent.addr.clone();
    // A WebSocket session, an idle keep-alive connection and a half-sent request.
    let mut session = connect(&addr);
    session
        .write_all(
            b"GET /ws/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .unwrap();
    let mut head = [0u8; 12];
    session.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 101");
    let mut idle = connect(&addr);
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    idle.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    let mut half = connect(&addr);
    half.write_all(b"GET /healthz HTTP/1.1\r\n").unwrap();
    // Open connections get five seconds to finish; none keeps it running longer.
    let asked = std::time::Instant::now();
    assert!(agent.terminate().success());
    assert!(
        asked.elapsed() < Duration::from_secs(9),
        "{:?}",
        asked.elapsed()
    );
    // And it no longer listens.
    assert!(TcpStream::connect(&addr).is_err());
}

#[test]
fn a_tls_handshake_has_the_header_deadline() {
    let agent = start(&["--tls", "--header-timeout-ms", "500"]);
    assert_eq!(agent.scheme, "https");
    // Connected, and no ClientHello: closed at the deadline, not held.
    assert!(until_closed(connect(&agent.addr)).is_empty());
}

/// Over TLS with Python's `ssl`: a client with a 4 KiB receive buffer pipelines 400
/// scrapes and reads nothing; meanwhile `/healthz` is asked for on new connections until
/// one is answered. Prints the seconds that took, or exits 1 after 10 s.
const TLS_STALL: &str = r#"
import socket, ssl, sys, time
host, port = sys.argv[1].rsplit(":", 1)
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
raw = socket.socket()
raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
raw.connect((host, int(port)))
stalled = context.wrap_socket(raw)
stalled.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 400)
start = time.monotonic()
while time.monotonic() - start < 10:
    try:
        with context.wrap_socket(socket.create_connection((host, int(port)))) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            if s.recv(64).startswith(b"HTTP/1.1 200 OK"):
                print(round(time.monotonic() - start, 2))
                sys.exit(0)
    except (OSError, ssl.SSLError):
        pass
    time.sleep(0.05)
sys.exit(1)
"#;

#[test]
fn a_tls_client_that_reads_nothing_is_closed_at_the_write_deadline() {
    let agent = start(&[&["--tls"], STALL_FLAGS.as_slice()].concat());
    let out = std::process::Command::new("python3")
        .args(["-c", TLS_STALL, &agent.addr])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "the stalled TLS client still held the place after 10 s: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn raises_its_open_file_limit_to_the_hard_limit() {
    // The soft limit many service managers leave is 1024; start lower than any, under a
    // hard limit of our choosing.
    let agent = start_under(
        &[
            "sh",
            "-c",
            "ulimit -S -n 256 && ulimit -H -n 4096 && exec \"$0\" \"$@\"",
        ],
        &[],
        &[],
    );
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", agent.pid())).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let [soft, hard] = [3, 4].map(|i| line.split_whitespace().nth(i).unwrap().to_owned());
    assert_eq!((soft.as_str(), hard.as_str()), ("4096", "4096"), "{line}");
    // It still serves.
    assert_eq!(healthz_status(&agent.addr), "HTTP/1.1 200 OK");
}

/// [`reply_to`] on an agent that allows one connection: the connection answered just
/// before may still hold the place for a moment after the client sees it closed, and
/// then this one is closed as it is accepted, with no reply. So an empty reply is tried
/// again, every 50 ms for up to `patience`.
fn reply_when_free(addr: &str, request: &[u8], patience: Duration) -> String {
    let asked = std::time::Instant::now();
    loop {
        let reply = reply_to(addr, request);
        if !reply.is_empty() {
            return reply;
        }
        assert!(
            asked.elapsed() < patience,
            "every connection was closed unanswered for {patience:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_request_body_has_the_header_deadline_too() {
    let agent = start(&[
        "--sflow",
        "127.0.0.1:0",
        "--header-timeout-ms",
        "500",
        "--max-http-connections",
        "1",
    ]);
    let addr = agent.addr.as_str();
    // The headers arrive in time; of the 100 bytes of body promised, 10 do.
    let asked = std::time::Instant::now();
    let reply = reply_to(
        addr,
        b"POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json-rpc\r\n\
          Content-Length: 100\r\n\r\n{\"jsonrpc\"",
    );
    let waited = asked.elapsed();
    assert!(
        reply.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
        "{reply}"
    );
    assert!(
        reply.ends_with("\r\n\r\nrequest body not received within --header-timeout-ms\n"),
        "{reply}"
    );
    assert!(
        waited >= Duration::from_millis(450) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    // The one connection place is free again.
    let reply = reply_when_free(addr, HEALTHZ, Duration::from_secs(2));
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");

    // A chunked body (no Content-Length to refuse early) that grows past 1 MiB.
    let mut chunked =
        b"POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..17 {
        chunked.extend_from_slice(b"10000\r\n");
        chunked.extend_from_slice(&[b' '; 65_536]);
        chunked.extend_from_slice(b"\r\n");
    }
    let reply = reply_when_free(addr, &chunked, Duration::from_secs(2));
    assert!(reply.starts_with("HTTP/1.1 413 "), "{reply}");
    assert!(
        reply.ends_with("\r\n\r\nrequest body over 1 MiB\n"),
        "{reply}"
    );

    // A chunk size that is not hexadecimal breaks the body's framing.
    let reply = reply_when_free(
        addr,
        b"POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        Duration::from_secs(2),
    );
    assert!(reply.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{reply}");
    assert!(
        reply.ends_with("\r\n\r\nrequest body broken off\n"),
        "{reply}"
    );

    // A whole body in time is answered as ever.
    let reply = reply_when_free(
        addr,
        b"POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 40\r\n\r\n\
          {\"jsonrpc\":\"2.0\",\"method\":\"nope\",\"id\":1}",
        Duration::from_secs(2),
    );
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    assert!(reply.contains("\"code\":-32601"), "{reply}");
}

/// [`connect`] with a 4 KiB receive buffer, set before connecting so the window stays
/// small: a client that stops reading soon leaves the agent's writes waiting.
fn connect_small_window(addr: &str) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let peer: std::net::SocketAddr = addr.parse().unwrap();
    socket.connect(&peer.into()).unwrap();
    let stream: TcpStream = socket.into();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// One connection place, a short write deadline and a header deadline a minute away, so
/// only the write deadline can end a stalled connection within a test.
const STALL_FLAGS: [&str; 6] = [
    "--write-timeout-ms",
    "500",
    "--header-timeout-ms",
    "60000",
    "--max-http-connections",
    "1",
];

#[test]
fn a_client_that_reads_nothing_is_closed_at_the_write_deadline() {
    let agent = start(&STALL_FLAGS);
    let addr = agent.addr.as_str();
    // A client sends 400 pipelined scrapes and reads no reply: far more than the two
    // sockets' buffers hold, so the agent's writes wait.
    let mut stalled = connect_small_window(addr);
    const SCRAPES: usize = 400;
    stalled
        .write_all(&b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".repeat(SCRAPES))
        .unwrap();
    // It holds the agent's one connection place until the deadline frees it.
    let reply = reply_when_free(addr, HEALTHZ, Duration::from_secs(10));
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    // The stalled client was closed part way: what its buffer held, not 400 replies.
    let got = until_closed(stalled);
    let replies = got.windows(15).filter(|w| w == b"HTTP/1.1 200 OK").count();
    assert!(replies < SCRAPES, "{replies} replies");
}

/// Opens a WebSocket session on socktop's `/ws` over [`connect_small_window`]: the
/// status line of the agent's answer to the upgrade, and the socket.
fn socktop_upgrade(addr: &str) -> (String, TcpStream) {
    let mut stream = connect_small_window(addr);
    stream
        .write_all(
            b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .unwrap();
    // Byte by byte up to the blank line, so no frame after it is taken with the head.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    let status = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    (status, stream)
}

#[test]
fn a_websocket_client_that_reads_nothing_is_closed_at_the_write_deadline() {
    let agent = start(&["--write-timeout-ms", "500", "--max-connections", "1"]);
    let addr = agent.addr.as_str();
    let (status, stalled) = socktop_upgrade(addr);
    assert_eq!(status, "HTTP/1.1 101 Switching Protocols");
    // Its one session place is taken.
    assert_eq!(socktop_upgrade(addr).0, "HTTP/1.1 503 Service Unavailable");
    // The client asks for metrics without pause and reads no reply, until the agent
    // stops taking its requests. A client frame is masked (RFC 6455, 5.3); a zero key
    // leaves the payload as written.
    let mut frame = vec![0x81, 0x80 | 11, 0, 0, 0, 0];
    frame.extend_from_slice(b"get_metrics");
    let frames = frame.repeat(100);
    let mut sender = stalled.try_clone().unwrap();
    sender
        .set_write_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let asking = std::thread::spawn(move || while sender.write_all(&frames).is_ok() {});
    // The deadline ends the session once the agent's writes wait, and the place is
    // free for the next.
    let asked = std::time::Instant::now();
    loop {
        let status = socktop_upgrade(addr).0;
        if status == "HTTP/1.1 101 Switching Protocols" {
            break;
        }
        assert_eq!(status, "HTTP/1.1 503 Service Unavailable");
        assert!(
            asked.elapsed() < Duration::from_secs(20),
            "the stalled session still holds the place after 20 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(stalled);
    asking.join().unwrap();
}
