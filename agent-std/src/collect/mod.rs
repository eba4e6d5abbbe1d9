//! Collectors: read kernel files with reused buffers and hand the bytes to
//! ferrostat-core's parsers; `shared` is the cached layer every endpoint reads through.

pub mod capture;
pub mod gpu;
pub mod host;
pub mod process;
pub mod procfs;
pub mod shared;
