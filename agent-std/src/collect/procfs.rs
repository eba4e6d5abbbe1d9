//! Reading /proc: one open descriptor and one reused buffer per file, read from offset 0
//! with pread each time, so a poll costs one syscall per file (more only when the file
//! outgrew the buffer) and no allocation once warm.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

/// The longest file [`ProcFile::read`] takes. /proc's largest are a few MB (mountinfo of
/// a host with thousands of container mounts); a longer one is not a /proc file (a
/// `--proc-root` that points elsewhere, a device that never ends) and must not take all
/// memory.
pub const MAX_PROC_FILE: usize = 64 << 20;

/// A /proc file kept open and re-read from the start on every [`ProcFile::read`].
#[derive(Debug)]
pub struct ProcFile {
    file: File,
    buf: Vec<u8>,
    /// Bytes of `buf` the last read filled.
    len: usize,
}

impl ProcFile {
    /// Opens `path`; the buffer starts at one page and grows to fit the file.
    pub fn open(path: impl Into<PathBuf>) -> io::Result<Self> {
        let file = File::open(path.into())?;
        Ok(ProcFile {
            file,
            buf: vec![0; 4096],
            len: 0,
        })
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
                        format!("longer than {} MiB, not a /proc file", MAX_PROC_FILE >> 20),
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
