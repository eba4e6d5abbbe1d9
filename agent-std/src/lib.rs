//! `ferrostat-agent` as a library: the modules the binary (`main.rs`) wires together,
//! and the entry points of the fuzz targets (`__fuzz`).
#![forbid(unsafe_code)]

pub mod cli;
mod clock;
mod collect;
pub mod commands;
mod config;
mod endpoint;
mod http_listener;
mod log_budget;
mod registry;
mod request_guard;
pub mod server;
mod sflow;
mod ssh;
mod state;
mod write_deadline;

#[doc(hidden)]
pub mod __bench;
#[doc(hidden)]
pub mod __fuzz;
