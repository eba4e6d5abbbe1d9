//! What the agent keeps between runs, all under one data directory.

pub mod data_dir;
pub mod history;
pub mod tls;
