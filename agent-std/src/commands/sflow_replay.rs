//! `sflow replay FILE... --to ADDR`: sends the sFlow datagrams of captures over UDP,
//! optionally paced, re-addressed to a fleet of agents and renumbered.
//!
//! The captures are read as they are sent, a block at a time, so one pass over an
//! endless pipe (`tcpdump -U -w - | ferrostat-agent sflow replay - --to ...`) runs in
//! constant memory. Only `--count` past the end of the first pass needs the datagrams
//! again; the first pass then keeps them (as many as `--count` can still use).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use super::CommandError;
use crate::cli::SflowReplayArgs;
use crate::collect::capture;

/// Sends and prints what was sent.
#[inline(never)] // see commands/mod.rs
pub fn run(args: &SflowReplayArgs) -> Result<(), CommandError> {
    let mut sender = Sender::connect(args)?;
    // Each datagram goes to every agent address before the next datagram: a fleet whose
    // agents report at the same interval, not one agent's whole capture after another's.
    // The addresses are worked out as they are used: `--agents` may be in the millions.
    let agents = || {
        let base = args.agent;
        let count = if base.is_some() {
            args.agents.max(1)
        } else {
            1
        };
        (0..count).map(move |i| base.map(|base| nth_address(base, i)))
    };
    let mut kept: Vec<Vec<u8>> = Vec::new();
    let mut read = 0u64;
    for file in &args.files {
        if read > 0 && sender.done() {
            break;
        }
        let name = file.display().to_string();
        let input = super::open_input(file).map_err(|e| CommandError::Io(name.clone(), e))?;
        let mut failed = None;
        capture::for_each_udp_datagram(input, args.port, |d| {
            read += 1;
            match sender.send_to_each(d.payload, agents()) {
                Err(e) => {
                    failed = Some(e);
                    ControlFlow::Break(())
                }
                Ok(()) if sender.done() => ControlFlow::Break(()),
                Ok(()) => {
                    if args.count.is_some() {
                        kept.push(d.payload.to_vec());
                    }
                    ControlFlow::Continue(())
                }
            }
        })
        .map_err(|e| CommandError::Io(name.clone(), e.into()))?;
        if let Some(e) = failed {
            return Err(e);
        }
    }
    if read == 0 {
        return Err(CommandError::Config(
            "the captures hold no UDP datagrams".into(),
        ));
    }
    // `--count` past the first pass: round after round of what it kept (nothing without
    // a count, when the one pass is the whole replay).
    while !kept.is_empty() && !sender.done() {
        for d in &kept {
            sender.send_to_each(d, agents())?;
            if sender.done() {
                break;
            }
        }
    }
    sender.report();
    Ok(())
}

/// The socket, the pacing and the per-agent sequence numbers of one replay.
struct Sender<'a> {
    args: &'a SflowReplayArgs,
    socket: UdpSocket,
    started: Instant,
    sent: u64,
    /// `--count`, or no end.
    total: u64,
    refused: u64,
    /// Each agent's (address and sub-agent) last sequence number, for `--renumber`.
    sequences: HashMap<Vec<u8>, u32>,
    /// The datagram being sent, when it is rewritten.
    buf: Vec<u8>,
}

impl<'a> Sender<'a> {
    fn connect(args: &'a SflowReplayArgs) -> Result<Self, CommandError> {
        let bind = args.from.unwrap_or(match args.to {
            SocketAddr::V4(_) => SocketAddr::from((std::net::Ipv4Addr::UNSPECIFIED, 0)),
            SocketAddr::V6(_) => SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 0)),
        });
        let socket = UdpSocket::bind(bind).map_err(|e| udp_error(args, e))?;
        socket.connect(args.to).map_err(|e| udp_error(args, e))?;
        Ok(Sender {
            args,
            socket,
            started: Instant::now(),
            sent: 0,
            total: args.count.unwrap_or(u64::MAX),
            refused: 0,
            sequences: HashMap::new(),
            buf: Vec::new(),
        })
    }

    /// Whether `--count` datagrams have been sent.
    fn done(&self) -> bool {
        self.sent >= self.total
    }

    /// Sends `datagram` to each of `agents` in turn, stopping at `--count`.
    fn send_to_each(
        &mut self,
        datagram: &[u8],
        agents: impl Iterator<Item = Option<IpAddr>>,
    ) -> Result<(), CommandError> {
        for agent in agents {
            if self.done() {
                break;
            }
            self.send(datagram, agent)?;
        }
        Ok(())
    }

    /// Sends `datagram`, re-addressed to `agent` and renumbered as asked, when its turn
    /// under `--rate` comes.
    fn send(&mut self, datagram: &[u8], agent: Option<IpAddr>) -> Result<(), CommandError> {
        if self.args.rate > 0 {
            // Pace against the start: no drift, bursts of at most a millisecond's worth.
            let due = Duration::from_secs_f64(self.sent as f64 / self.args.rate as f64);
            loop {
                let elapsed = self.started.elapsed();
                if due <= elapsed {
                    break;
                }
                std::thread::sleep((due - elapsed).min(Duration::from_millis(1)));
            }
        }
        let payload: &[u8] = if agent.is_none() && !self.args.renumber {
            datagram
        } else {
            match agent {
                Some(agent) => readdress_into(datagram, agent, &mut self.buf),
                None => {
                    self.buf.clear();
                    self.buf.extend_from_slice(datagram);
                }
            }
            if self.args.renumber {
                if let Some((key, at)) = sequence_field(&self.buf) {
                    // The key is copied only for an agent not seen before.
                    let n = match self.sequences.get_mut(key) {
                        Some(n) => {
                            *n = n.wrapping_add(1);
                            *n
                        }
                        None => {
                            self.sequences.insert(key.to_vec(), 1);
                            1
                        }
                    };
                    self.buf[at..at + 4].copy_from_slice(&n.to_be_bytes());
                }
            }
            &self.buf
        };
        // A port with nothing listening answers a datagram with ICMP port unreachable,
        // and the connected socket reports it on the next send, which then sends
        // nothing. The report is about an earlier datagram: counted, and this one is
        // sent again, or every other datagram would be lost.
        for _ in 0..3 {
            match self.socket.send(payload) {
                Ok(_) => break,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => self.refused += 1,
                Err(e) => return Err(udp_error(self.args, e)),
            }
        }
        self.sent += 1;
        Ok(())
    }

    fn report(&self) {
        let secs = self.started.elapsed().as_secs_f64();
        println!(
            "sent {} datagrams in {secs:.3} s ({:.0} per second){}",
            self.sent,
            self.sent as f64 / secs.max(1e-9),
            if self.refused > 0 {
                format!(", {} answered port unreachable", self.refused)
            } else {
                String::new()
            }
        );
    }
}

fn udp_error(args: &SflowReplayArgs, e: std::io::Error) -> CommandError {
    CommandError::Io(format!("udp to {}", args.to), e)
}

/// The `i`th address after `base`.
fn nth_address(base: IpAddr, i: u32) -> IpAddr {
    match base {
        IpAddr::V4(a) => IpAddr::V4(u32::from(a).wrapping_add(i).into()),
        IpAddr::V6(a) => IpAddr::V6(u128::from(a).wrapping_add(u128::from(i)).into()),
    }
}

/// `d` with its agent address replaced (sFlow v5 header: version, address type,
/// address, ...), into `out`. Anything that is not a v5 header is sent as it was.
fn readdress_into(d: &[u8], agent: IpAddr, out: &mut Vec<u8>) {
    out.clear();
    let old_len = match d.get(4..8) {
        Some([0, 0, 0, 1]) => 4,
        Some([0, 0, 0, 2]) => 16,
        _ => 0,
    };
    if old_len == 0 || d.len() < 8 + old_len {
        out.extend_from_slice(d);
        return;
    }
    out.extend_from_slice(&d[..4]);
    match agent {
        IpAddr::V4(a) => {
            out.extend_from_slice(&1u32.to_be_bytes());
            out.extend_from_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            out.extend_from_slice(&2u32.to_be_bytes());
            out.extend_from_slice(&a.octets());
        }
    }
    out.extend_from_slice(&d[8 + old_len..]);
}

/// The agent address and sub-agent (as bytes, a key) and the offset of the sequence
/// number.
fn sequence_field(d: &[u8]) -> Option<(&[u8], usize)> {
    let len = match d.get(4..8)? {
        [0, 0, 0, 1] => 4,
        [0, 0, 0, 2] => 16,
        _ => return None,
    };
    let at = 8 + len + 4;
    d.get(at..at + 4)?;
    Some((&d[4..at], at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrostat_core::sflow::Datagram;

    #[test]
    fn readdressed_datagrams_decode_with_the_new_agent() {
        let v4 = [
            0, 0, 0, 5, 0, 0, 0, 1, 192, 0, 2, 1, 0, 0, 0, 9, 0, 0, 0, 7, 0, 0, 3, 232, 0, 0, 0, 0,
        ];
        let agent: IpAddr = "2001:db8::5".parse().unwrap();
        let mut v6 = Vec::new();
        readdress_into(&v4, agent, &mut v6);
        let d = Datagram::parse(&v6).unwrap();
        assert_eq!((d.agent, d.sub_agent_id, d.sequence_number), (agent, 9, 7));
        let (_, at) = sequence_field(&v6).unwrap();
        assert_eq!(&v6[at..at + 4], &[0, 0, 0, 7]);
        assert_eq!(
            nth_address("10.0.0.255".parse().unwrap(), 2),
            "10.0.1.1".parse::<IpAddr>().unwrap()
        );
    }
}
