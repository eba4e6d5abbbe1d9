//! One module per subcommand.
//!
//! Every command's `run` is `#[inline(never)]`: some build large fixed-capacity core
//! structures on the stack (a server-sized host sample, a 4096-CPU stat table), and
//! inlined into `main` their frames (about 800 KB together) would be touched at start-up
//! by every command, the long-running server's resident memory included.

pub mod parse;
pub mod sflow_decode;
pub mod sflow_replay;
pub mod snapshot;

use std::fmt;
use std::io::Read;
use std::path::Path;

/// Whether `path` names standard input: `-`.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The command's input: standard input for `-`, else the named file.
pub fn open_input(path: &Path) -> std::io::Result<Box<dyn Read>> {
    if is_stdin(path) {
        Ok(Box::new(std::io::stdin().lock()))
    } else {
        Ok(Box::new(std::fs::File::open(path)?))
    }
}

/// Why a command failed, and the exit status that says so.
#[derive(Debug)]
pub enum CommandError {
    /// Reading input or writing output failed (exit 1).
    Io(String, std::io::Error),
    /// The input is not valid for its format (exit 2).
    Parse(String, ferrostat_core::Error),
    /// Some of several inputs were rejected, each already reported (exit 2).
    Rejected(String),
    /// The configuration is invalid or unsafe (exit 2).
    Config(String),
}

impl CommandError {
    /// 1 for I/O failures, 2 for malformed input.
    pub fn exit_code(&self) -> u8 {
        match self {
            CommandError::Io(..) => 1,
            CommandError::Parse(..) | CommandError::Rejected(..) | CommandError::Config(..) => 2,
        }
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::Io(what, e) => write!(f, "{what}: {e}"),
            CommandError::Rejected(what) => f.write_str(what),
            CommandError::Config(what) => write!(f, "configuration: {what}"),
            CommandError::Parse(what, e) => write!(
                f,
                "{what}: parse error: {} at byte {}",
                e.kind().as_str(),
                e.offset()
            ),
        }
    }
}

/// Writes `value` as JSON to standard output, followed by a newline.
pub fn print_json<T: serde::Serialize>(value: &T, compact: bool) -> Result<(), CommandError> {
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = if compact {
        serde_json::to_writer(&mut out, value)
    } else {
        serde_json::to_writer_pretty(&mut out, value)
    };
    match written
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(out))
    {
        // A closed pipe (`| head`) is the reader's choice, not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|e| CommandError::Io("stdout".into(), e)),
    }
}
