//! Collectors: read kernel files with reused buffers and hand the bytes to
//! ferrostat-core's parsers.

pub mod capture;
pub mod process;
pub mod procfs;
