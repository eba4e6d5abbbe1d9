//! The sFlow v5 datagram header (sFlow v5 spec §5, "sample_datagram_v5") and the
//! iterator over its samples.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::{Error, ErrorKind, Result};
use crate::sflow::sample::{self, Sample};
use crate::sflow::xdr::{Reader, Writer};

/// Shortest possible datagram: version, IPv4 agent, sub-agent, sequence, uptime, count.
pub const MIN_LEN: usize = 28;

/// A datagram's header, borrowing its samples from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Datagram<'a> {
    /// Address of the sFlow agent (IPv4 or IPv6).
    pub agent: IpAddr,
    /// Sub-agent id (hsflowd uses 100000).
    pub sub_agent_id: u32,
    /// Datagram sequence number, per (agent, sub-agent).
    pub sequence_number: u32,
    /// Milliseconds since the agent booted (wraps after 49.7 days).
    pub uptime_ms: u32,
    /// Samples the header declares.
    pub num_samples: u32,
    samples: &'a [u8],
    samples_at: usize,
}

impl<'a> Datagram<'a> {
    /// Parses the header of a datagram. The samples are parsed lazily by
    /// [`Datagram::samples`].
    ///
    /// # Errors
    /// `BadVersion` unless the version is 5; `BadValue` for an agent address type other
    /// than 1 (IPv4) or 2 (IPv6); `UnexpectedEnd` for a header cut short.
    ///
    /// ```
    /// use ferrostat_core::sflow::Datagram;
    /// let bytes = [0, 0, 0, 5, 0, 0, 0, 1, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 3, 232, 0, 0, 0, 0];
    /// let d = Datagram::parse(&bytes)?;
    /// assert_eq!((d.agent.to_string(), d.sequence_number, d.uptime_ms), ("192.0.2.1".into(), 7, 1000));
    /// assert_eq!(d.samples().count(), 0);
    /// # Ok::<(), ferrostat_core::Error>(())
    /// ```
    pub fn parse(input: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(input, 0);
        let version = r.u32()?;
        if version != 5 {
            return Err(Error::new(ErrorKind::BadVersion, 0));
        }
        let agent = match r.u32()? {
            1 => {
                let b = r.take(4)?;
                IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
            }
            2 => {
                let b = r.take(16)?;
                let mut octets = [0u8; 16];
                octets.copy_from_slice(b);
                IpAddr::V6(Ipv6Addr::from(octets))
            }
            _ => return Err(Error::new(ErrorKind::BadValue, 4)),
        };
        let sub_agent_id = r.u32()?;
        let sequence_number = r.u32()?;
        let uptime_ms = r.u32()?;
        let num_samples = r.u32()?;
        let samples_at = r.offset();
        Ok(Datagram {
            agent,
            sub_agent_id,
            sequence_number,
            uptime_ms,
            num_samples,
            samples: r.rest(),
            samples_at,
        })
    }

    /// The samples, in order. The iterator stops after `num_samples` samples or at the
    /// first error; bytes after the declared samples are left to
    /// [`Samples::trailing`].
    pub fn samples(&self) -> Samples<'a> {
        Samples {
            reader: Reader::new(self.samples, self.samples_at),
            left: self.num_samples,
            failed: false,
        }
    }

    /// Checks the whole datagram: every sample and every record decodes.
    ///
    /// # Errors
    /// The first error of any sample or record.
    pub fn validate(&self) -> Result<()> {
        for s in self.samples() {
            match s? {
                Sample::Counters(c) => {
                    for r in c.records() {
                        r?;
                    }
                }
                Sample::Flow(f) => {
                    for r in f.records() {
                        r?;
                    }
                }
                Sample::Unknown { .. } => {}
            }
        }
        Ok(())
    }

    /// Writes a datagram header with `num_samples` (patch it later with
    /// [`Writer::patch_u32`] at the returned offset), leaving the writer after it.
    pub fn emit_header(&self, w: &mut Writer<'_>) -> Result<usize> {
        w.u32(5)?;
        match self.agent {
            IpAddr::V4(a) => {
                w.u32(1)?;
                w.bytes(&a.octets())?;
            }
            IpAddr::V6(a) => {
                w.u32(2)?;
                w.bytes(&a.octets())?;
            }
        }
        w.u32(self.sub_agent_id)?;
        w.u32(self.sequence_number)?;
        w.u32(self.uptime_ms)?;
        let count_at = w.len();
        w.u32(self.num_samples)?;
        Ok(count_at)
    }

    /// A header for the encoder: samples are added by [`sample::emit_counters`] and
    /// friends after [`Datagram::emit_header`].
    pub fn header(agent: IpAddr, sub_agent_id: u32, sequence_number: u32, uptime_ms: u32) -> Self {
        Datagram {
            agent,
            sub_agent_id,
            sequence_number,
            uptime_ms,
            num_samples: 0,
            samples: &[],
            samples_at: 0,
        }
    }
}

/// Iterator over the samples of a datagram.
#[derive(Clone, Debug)]
pub struct Samples<'a> {
    reader: Reader<'a>,
    left: u32,
    failed: bool,
}

impl<'a> Samples<'a> {
    /// Bytes after the last declared sample. Some agents and edited captures carry them
    /// (cistern's flow_samples_2, akvorado's edited files); they are reported here, not
    /// treated as an error, since every declared sample decoded.
    pub fn trailing(&self) -> usize {
        if self.left == 0 && !self.failed {
            self.reader.remaining()
        } else {
            0
        }
    }
}

impl<'a> Iterator for Samples<'a> {
    type Item = Result<Sample<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.left == 0 {
            return None;
        }
        self.left -= 1;
        let r = self
            .reader
            .tlv()
            .and_then(|(format, body, at)| sample::parse(format, body, at));
        if r.is_err() {
            self.failed = true;
        }
        Some(r)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Datagram<'_> {
    /// The header and every sample; serialize a datagram after [`Datagram::validate`]
    /// (samples stop at the first that does not decode).
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Datagram", 6)?;
        st.serialize_field("agent", &self.agent)?;
        st.serialize_field("sub_agent_id", &self.sub_agent_id)?;
        st.serialize_field("sequence_number", &self.sequence_number)?;
        st.serialize_field("uptime_ms", &self.uptime_ms)?;
        st.serialize_field("num_samples", &self.num_samples)?;
        st.serialize_field("samples", &crate::sflow::sample::Seq(self.samples()))?;
        st.end()
    }
}
