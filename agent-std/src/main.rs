//! `ferrostat-agent`: host telemetry for Linux servers. `main` only wires the command
//! line to the modules that do the work.
#![forbid(unsafe_code)]

use ferrostat_agent::{cli, commands, server};
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let (args, collectors) = cli::take_collector_switches(std::env::args_os());
    let cli = cli::Cli::parse_from(args);
    let result = match cli.command.unwrap_or_default() {
        cli::Command::Serve(mut args) => {
            args.collectors = collectors;
            server::run_blocking(*args)
        }
        cli::Command::Snapshot(args) => commands::snapshot::run(&args),
        cli::Command::Parse(args) => commands::parse::run(&args),
        cli::Command::Sflow(cli::SflowCommand::Decode(args)) => commands::sflow_decode::run(&args),
        cli::Command::Sflow(cli::SflowCommand::Replay(args)) => commands::sflow_replay::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ferrostat-agent: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
