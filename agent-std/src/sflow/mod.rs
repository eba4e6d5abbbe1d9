//! The sFlow collector side of the agent: what it keeps of each counters sample, and
//! the UDP listener that feeds the host registry and the history store.

pub mod collector;
pub mod columns;
pub mod sample;
