//! Agentless monitoring over SSH: hosts are read through SFTP, nothing is installed or
//! run on them, and their /proc is parsed here with ferrostat-core.

pub mod events;
pub mod hub;
pub mod poll;
pub mod session;
