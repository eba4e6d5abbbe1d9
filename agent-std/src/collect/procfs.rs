//! Reading /proc: one open descriptor and one reused buffer per file, read from offset 0
//! with pread each time, so a poll costs one syscall per file (more only when the file
//! outgrew the buffer) and no allocation once warm.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use ferrostat_core::metrics::ServerHostSample;
use ferrostat_core::procfs::{diskstats, loadavg, meminfo, net_dev, pressure, stat, uptime};
use ferrostat_core::Table;

/// The longest file [`ProcFile::read`] takes. /proc's largest are a few MB (mountinfo of
/// a host with thousands of container mounts); a longer one is not a /proc file (a
/// `--proc-root` that points elsewhere, a device that never ends) and must not take all
/// memory.
pub const MAX_PROC_FILE: usize = 64 << 20;

/// A /proc file kept open and re-read from the start on every [`ProcFile::read`].
#[derive(Debug)]
pub struct ProcFile {
    path: PathBuf,
    file: File,
    buf: Vec<u8>,
    /// Bytes of `buf` the last read filled.
    len: usize,
}

impl ProcFile {
    /// Opens `path`; the buffer starts at one page and grows to fit the file.
    pub fn open(path: impl Into<PathBuf>) -> io::Result<Self> {
        let path = path.into();
        let file = File::open(&path)?;
        Ok(ProcFile {
            path,
            file,
            buf: vec![0; 4096],
            len: 0,
        })
    }

    /// Reads the file and parses it, naming the file in the error.
    pub fn parse<T>(
        &mut self,
        parse: impl FnOnce(&[u8]) -> ferrostat_core::Result<T>,
    ) -> io::Result<T> {
        self.read()?;
        let Self { path, buf, len, .. } = self;
        parse(&buf[..*len]).map_err(|e| invalid(path, e))
    }

    /// The whole current content. Reads until EOF, so the parsers always see complete
    /// lines; a file that outgrows the buffer doubles it (the 132 KB /proc/stat of a big
    /// machine needs a few polls' growth once, then none).
    pub fn read(&mut self) -> io::Result<&[u8]> {
        let mut len = 0;
        self.len = 0;
        loop {
            if len == self.buf.len() {
                if len >= MAX_PROC_FILE {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "{}: longer than {} MiB, not a /proc file",
                            self.path.display(),
                            MAX_PROC_FILE >> 20
                        ),
                    ));
                }
                let grown = self.buf.len() * 2;
                self.buf.resize(grown, 0);
            }
            match self.file.read_at(&mut self.buf[len..], len as u64) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        self.len = len;
        Ok(&self.buf[..len])
    }
}

/// Turns a parse error into an I/O error naming the file.
fn invalid(path: &Path, e: ferrostat_core::Error) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "{}: {} at byte {}",
            path.display(),
            e.kind().as_str(),
            e.offset()
        ),
    )
}

/// The `cpu` line and every `cpuN` line of /proc/stat, in a Vec as long as the machine
/// has CPUs (a fixed `Stat<N>` big enough for any machine would cost every request a
/// few hundred KB of zeroing).
pub fn cpu_lines(bytes: &[u8]) -> ferrostat_core::Result<(stat::CpuTimes, Vec<stat::CpuLine>)> {
    let mut total = stat::CpuTimes::default();
    let mut cpus = Vec::new();
    for record in stat::records(bytes) {
        match record? {
            stat::Record::CpuTotal(t) => total = t,
            stat::Record::Cpu(line) => cpus.push(line),
            _ => {}
        }
    }
    Ok((total, cpus))
}

/// `pressure/{cpu,memory,io}`, or `None` on kernels without CONFIG_PSI.
pub fn open_pressure(proc_root: &Path) -> Option<[ProcFile; 3]> {
    let p = |rel: &str| ProcFile::open(proc_root.join(rel)).ok();
    Some([p("pressure/cpu")?, p("pressure/memory")?, p("pressure/io")?])
}

/// The files a host sample is made of, kept open between samples.
#[derive(Debug)]
pub struct HostCollector {
    stat: ProcFile,
    meminfo: ProcFile,
    loadavg: ProcFile,
    uptime: ProcFile,
    net_dev: ProcFile,
    diskstats: ProcFile,
    hostname: ProcFile,
    /// cpu, memory, io; absent without CONFIG_PSI.
    pressure: Option<[ProcFile; 3]>,
    ticks_per_sec: u64,
    stat_parsed: Box<stat::Stat<512>>,
}

impl HostCollector {
    /// Opens the files under `proc_root` (normally `/proc`).
    pub fn open(proc_root: &Path) -> io::Result<Self> {
        let p = |rel: &str| {
            let path = proc_root.join(rel);
            ProcFile::open(&path)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
        };
        let pressure = open_pressure(proc_root);
        Ok(HostCollector {
            stat: p("stat")?,
            meminfo: p("meminfo")?,
            loadavg: p("loadavg")?,
            uptime: p("uptime")?,
            net_dev: p("net/dev")?,
            diskstats: p("diskstats")?,
            hostname: p("sys/kernel/hostname")?,
            pressure,
            ticks_per_sec: rustix::param::clock_ticks_per_second(),
            stat_parsed: Box::default(),
        })
    }

    /// Reads every file once and fills `sample`.
    pub fn sample(&mut self, sample: &mut ServerHostSample) -> io::Result<()> {
        sample.timestamp_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);

        let name = self.hostname.read()?;
        sample.hostname =
            ferrostat_core::metrics::host::fixed_name(name.trim_ascii()).unwrap_or_default();

        let parsed = &mut self.stat_parsed;
        self.stat.parse(|b| stat::parse_into(b, parsed))?;
        sample.set_cpu(&self.stat_parsed, self.ticks_per_sec);
        sample.set_memory(&self.meminfo.parse(meminfo::parse)?);
        sample.set_load(&self.loadavg.parse(loadavg::parse)?);
        sample.uptime_secs = self.uptime.parse(uptime::parse)?.uptime_secs;
        self.net_dev.parse(|b| {
            let mut nics = Table::<_, 64>::new();
            net_dev::parse_into(b, &mut nics)?;
            sample.set_interfaces(&nics);
            Ok(())
        })?;
        self.diskstats.parse(|b| {
            let mut disks = Table::<_, 128>::new();
            diskstats::parse_into(b, &mut disks)?;
            sample.set_disks(&disks);
            Ok(())
        })?;
        if let Some([cpu, memory, io]) = self.pressure.as_mut() {
            let (c, m, i) = (
                cpu.parse(pressure::parse)?,
                memory.parse(pressure::parse)?,
                io.parse(pressure::parse)?,
            );
            sample.set_pressure(&c, &m, &i);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_whole_files_larger_than_the_first_buffer() {
        let mut f = ProcFile::open("/proc/self/maps").unwrap();
        f.buf = vec![0; 16]; // force several growths
        let a = f.read().unwrap().to_vec();
        assert!(a.len() > 16);
        assert!(a.ends_with(b"\n"));
        // Re-reading starts from the top again.
        let b = f.read().unwrap();
        assert_eq!(&b[..20], &a[..20]);
    }
}
