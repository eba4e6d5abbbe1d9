//! # ferrostat-core
//!
//! Allocation-free parsers for Linux /proc files, and fixed-capacity metric structs that
//! serialize to JSON and postcard. `#![no_std]`, no allocator, no `unsafe`: the same code
//! runs in the Linux agent and on a microcontroller.
//!
//! Every parser reads `&[u8]` (no UTF-8 pass), borrows from it, and reports errors as a
//! small `Copy` [`Error`] with an [`ErrorKind`] and a byte offset. List-shaped files have a
//! record iterator (`records`) and a whole-file parser into a [`Table`] of fixed capacity
//! that counts what did not fit instead of failing or truncating silently.
//!
//! ```
//! use ferrostat_core::procfs::{meminfo, stat};
//! use ferrostat_core::metrics::ServerHostSample;
//!
//! let mut cpu = stat::Stat::<512>::default();
//! stat::parse_into(b"cpu  100 0 50 850\ncpu0 100 0 50 850\n", &mut cpu)?;
//! let mem = meminfo::parse(b"MemTotal: 2048 kB\nMemAvailable: 1024 kB\n")?;
//!
//! let mut sample = ServerHostSample::default();
//! sample.set_cpu(&cpu, 100);
//! sample.set_memory(&mem);
//! assert_eq!(sample.cpu.user_ms, 1000);
//! assert_eq!(sample.memory.available_bytes, 1024 * 1024);
//! # Ok::<(), ferrostat_core::Error>(())
//! ```
//!
//! Features: `serde` (Serialize for records, encoders in [`metrics::encode`]), `defmt`,
//! `std` (nothing but std's `Error` conveniences).
//!
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "std")]
extern crate std;

mod error;
pub mod etc;
#[cfg(feature = "serde")]
pub mod gateway;
pub mod metrics;
pub mod procfs;
pub mod sflow;
pub mod sysfs;
mod table;
#[cfg(test)]
mod test_corpus;
pub mod text;
pub mod time;

pub use error::{Error, ErrorKind, Result};
pub use table::{Summary, Table};

#[doc(hidden)]
pub mod __fuzz;
