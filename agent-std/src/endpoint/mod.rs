//! One module per endpoint.

pub mod argusyes;
pub mod gateway;
pub mod healthz;
pub mod metrics;
pub mod psiod;
pub mod sflow_api;
pub mod socktop;
pub mod stats_stream;
