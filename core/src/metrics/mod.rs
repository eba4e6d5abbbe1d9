//! The metric model: fixed-capacity host samples that any source (/proc, sFlow, a
//! gateway) fills alike, the rates derived from two samples, and their encodings.

#[cfg(feature = "serde")]
pub mod encode;
pub mod host;
pub mod rates;

pub use host::{
    CoreCounters, CounterField, CounterFields, CpuCounters, DiskSample, HostSample,
    InterfaceSample, KernelCounters, KernelLimits, LoadSample, McuHostSample, MemoryField,
    MemoryFields, MemorySample, PressureSample, ServerHostSample, TemperatureSample,
};
