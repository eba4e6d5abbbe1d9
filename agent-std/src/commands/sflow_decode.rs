//! `sflow decode FILE`: every sFlow datagram of a capture as one JSON line, in
//! ferrostat's own form or, with `--sflowtool`, in `sflowtool -j`'s.

use std::io::Write;
use std::ops::ControlFlow;

use ferrostat_core::sflow::sflowtool::{write_datagram, CaptureInfo};
use ferrostat_core::sflow::Datagram;

use super::CommandError;
use crate::cli::SflowDecodeArgs;
use crate::collect::capture;

/// Decodes and prints each datagram as it is read; rejected datagrams go to stderr and
/// make the exit status 2.
#[inline(never)] // see commands/mod.rs
pub fn run(args: &SflowDecodeArgs) -> Result<(), CommandError> {
    let name = args.file.display().to_string();
    let input = super::open_input(&args.file).map_err(|e| CommandError::Io(name.clone(), e))?;
    // A live capture on standard input is shown datagram by datagram, not a buffer at a
    // time.
    let live = super::is_stdin(&args.file);

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut line = String::new();
    let mut seen = 0;
    let mut rejected = 0;
    let mut write_error = None;
    let read = capture::for_each_udp_datagram(input, args.port, |d| {
        let index = seen;
        seen += 1;
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
                let written =
                    writeln!(out, "{line}").and_then(|()| if live { out.flush() } else { Ok(()) });
                if let Err(e) = written {
                    write_error = Some(e);
                    return ControlFlow::Break(());
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
        ControlFlow::Continue(())
    });
    let written = match write_error {
        Some(e) => Err(e),
        None => out.flush(),
    };
    match written {
        // A closed pipe (`| head`) is the reader's choice, not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
        Err(e) => return Err(CommandError::Io("stdout".into(), e)),
        Ok(()) => {}
    }
    let skipped = read.map_err(|e| CommandError::Io(name.clone(), e.into()))?;
    if seen == 0 {
        // Nothing on stdout: say why, so a wrong --port or an empty file is not a mystery.
        eprintln!("{name}: {}", nothing_decoded(args.port, skipped));
    }
    if rejected > 0 {
        return Err(CommandError::Rejected(format!(
            "{name}: {rejected} of {seen} datagrams rejected"
        )));
    }
    Ok(())
}

/// Why a capture gave no datagram: what it held instead.
fn nothing_decoded(port: u16, skipped: capture::Skipped) -> String {
    let mut why = String::from("no UDP datagrams");
    if port != 0 {
        why += &format!(" to port {port}");
    }
    let mut held = Vec::new();
    if skipped.other_frames > 0 {
        held.push(format!("{} other frames", skipped.other_frames));
    }
    if skipped.unknown_link > 0 {
        held.push(format!(
            "{} frames of a link type not read",
            skipped.unknown_link
        ));
    }
    if !held.is_empty() {
        why += &format!(" ({})", held.join(", "));
    }
    why
}
