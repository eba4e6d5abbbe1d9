//! `sflow decode FILE`: every sFlow datagram of a capture as one JSON line, in
//! ferrostat's own form or, with `--sflowtool`, in `sflowtool -j`'s.

use std::io::Write;

use ferrostat_core::sflow::sflowtool::{write_datagram, CaptureInfo};
use ferrostat_core::sflow::Datagram;

use super::CommandError;
use crate::cli::SflowDecodeArgs;
use crate::collect::capture;

/// Decodes and prints; rejected datagrams go to stderr and make the exit status 2.
#[inline(never)] // see commands/mod.rs
pub fn run(args: &SflowDecodeArgs) -> Result<(), CommandError> {
    let name = args.file.display().to_string();
    let io = |e| CommandError::Io(name.clone(), e);
    let bytes = super::open_input(&args.file)
        .and_then(capture::read)
        .map_err(io)?;
    let (datagrams, _skipped) = capture::udp_datagrams(&bytes, args.port).map_err(|e| {
        CommandError::Io(
            name.clone(),
            std::io::Error::new(std::io::ErrorKind::InvalidData, e.0),
        )
    })?;

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut line = String::new();
    let mut rejected = 0;
    for (index, d) in datagrams.iter().enumerate() {
        line.clear();
        let result = if args.sflowtool {
            // sflowtool prints "-" as the source of datagrams read from a capture.
            let info = CaptureInfo {
                source: None,
                timestamp: d.timestamp,
            };
            write_datagram(&mut line, d.payload, &info)
        } else {
            Datagram::parse(d.payload).and_then(|datagram| {
                datagram.validate()?;
                line = serde_json::to_string(&datagram).unwrap_or_default();
                Ok(())
            })
        };
        match result {
            Ok(()) => {
                let written = writeln!(out, "{line}");
                if let Err(e) = written {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        return Ok(());
                    }
                    return Err(CommandError::Io("stdout".into(), e));
                }
            }
            Err(e) => {
                rejected += 1;
                eprintln!(
                    "{name}: datagram {index}: {} at byte {}",
                    e.kind().as_str(),
                    e.offset()
                );
            }
        }
    }
    out.flush()
        .map_err(|e| CommandError::Io("stdout".into(), e))?;
    if rejected > 0 {
        return Err(CommandError::Rejected(format!(
            "{name}: {rejected} of {} datagrams rejected",
            datagrams.len()
        )));
    }
    Ok(())
}
