//! `sflow replay FILE... --to ADDR`: sends the sFlow datagrams of captures over UDP,
//! optionally paced, re-addressed to a fleet of agents and renumbered.

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
    let mut datagrams: Vec<Vec<u8>> = Vec::new();
    for file in &args.files {
        let name = file.display().to_string();
        let input = super::open_input(file).map_err(|e| CommandError::Io(name.clone(), e))?;
        capture::for_each_udp_datagram(input, args.port, |d| {
            datagrams.push(d.payload.to_vec());
            ControlFlow::Continue(())
        })
        .map_err(|e| CommandError::Io(name.clone(), e.into()))?;
    }
    if datagrams.is_empty() {
        return Err(CommandError::Config(
            "the captures hold no UDP datagrams".into(),
        ));
    }
    // Re-addressing makes new datagrams; do it once per (datagram, agent) up front so the
    // send loop only sends.
    let agents = args.agents.max(1);
    let variants: Vec<Vec<u8>> = match args.agent {
        None => datagrams,
        Some(base) => (0..agents)
            .flat_map(|i| {
                let agent = nth_address(base, i);
                datagrams.iter().map(move |d| readdress(d, agent))
            })
            .collect(),
    };
    let total = args.count.unwrap_or(variants.len() as u64);
    let bind = args.from.unwrap_or(match args.to {
        SocketAddr::V4(_) => SocketAddr::from((std::net::Ipv4Addr::UNSPECIFIED, 0)),
        SocketAddr::V6(_) => SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 0)),
    });
    let io = |e| CommandError::Io(format!("udp to {}", args.to), e);
    let socket = UdpSocket::bind(bind).map_err(io)?;
    socket.connect(args.to).map_err(io)?;
    let mut sequences: HashMap<Vec<u8>, u32> = HashMap::new();
    let started = Instant::now();
    let mut sent = 0u64;
    let mut refused = 0u64;
    let mut buf = Vec::new();
    while sent < total {
        if args.rate > 0 {
            // Pace against the start: no drift, bursts of at most a millisecond's worth.
            let due = Duration::from_secs_f64(sent as f64 / args.rate as f64);
            let elapsed = started.elapsed();
            if due > elapsed {
                std::thread::sleep((due - elapsed).min(Duration::from_millis(1)));
                continue;
            }
        }
        let d = &variants[(sent % variants.len() as u64) as usize];
        let payload: &[u8] = if args.renumber {
            buf.clear();
            buf.extend_from_slice(d);
            if let Some((key, at)) = sequence_field(&buf) {
                let n = sequences.entry(key).or_insert(0);
                *n = n.wrapping_add(1);
                buf[at..at + 4].copy_from_slice(&n.to_be_bytes());
            }
            &buf
        } else {
            d
        };
        match socket.send(payload) {
            Ok(_) => {}
            // Nothing listening yet answers with ICMP: counted, not fatal.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => refused += 1,
            Err(e) => return Err(io(e)),
        }
        sent += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "sent {sent} datagrams in {secs:.3} s ({:.0} per second){}",
        sent as f64 / secs.max(1e-9),
        if refused > 0 {
            format!(", {refused} refused")
        } else {
            String::new()
        }
    );
    Ok(())
}

/// The `i`th address after `base`.
fn nth_address(base: IpAddr, i: u32) -> IpAddr {
    match base {
        IpAddr::V4(a) => IpAddr::V4(u32::from(a).wrapping_add(i).into()),
        IpAddr::V6(a) => IpAddr::V6(u128::from(a).wrapping_add(u128::from(i)).into()),
    }
}

/// The datagram with its agent address replaced (sFlow v5 header: version, address
/// type, address, ...). Anything that is not a v5 header is sent as it was.
fn readdress(d: &[u8], agent: IpAddr) -> Vec<u8> {
    let old_len = match d.get(4..8) {
        Some([0, 0, 0, 1]) => 4,
        Some([0, 0, 0, 2]) => 16,
        _ => return d.to_vec(),
    };
    if d.len() < 8 + old_len {
        return d.to_vec();
    }
    let mut out = Vec::with_capacity(d.len() + 12);
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
    out
}

/// The agent address and sub-agent (as bytes, a key) and the offset of the sequence
/// number.
fn sequence_field(d: &[u8]) -> Option<(Vec<u8>, usize)> {
    let len = match d.get(4..8)? {
        [0, 0, 0, 1] => 4,
        [0, 0, 0, 2] => 16,
        _ => return None,
    };
    let at = 8 + len + 4;
    d.get(at..at + 4)?;
    Some((d[4..at].to_vec(), at))
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
        let v6 = readdress(&v4, agent);
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
