//! NVIDIA GPUs through NVML, loaded at run time from the driver's `libnvidia-ml.so.1`
//! (nvml-wrapper opens it with dlopen, so the agent builds and runs on machines without
//! the driver). The library is probed once, on the first request that wants GPUs; its
//! absence is remembered, so a GPU-less host pays for the probe once.

use std::sync::{Arc, OnceLock};

use nvml_wrapper::enum_wrappers::device::TemperatureSensor;
use nvml_wrapper::Nvml;

/// One GPU's readings at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct GpuReading {
    /// NVML's index.
    pub index: u32,
    /// Product name ("NVIDIA H100 80GB HBM3").
    pub name: String,
    /// Percent of the last sample period a kernel was running (0..=100).
    pub utilization_pct: Option<u32>,
    /// Framebuffer memory allocated, bytes.
    pub mem_used_bytes: Option<u64>,
    /// Framebuffer memory installed, bytes.
    pub mem_total_bytes: Option<u64>,
    /// Die temperature, °C.
    pub temperature_c: Option<u32>,
}

/// [`Gpus::read`] on a blocking thread, as NVML calls block; nothing without `gpus`, and
/// no hop at all once NVML is known to be absent, so GPU-less hosts pay nothing.
pub async fn read_off_thread(gpus: Option<&Arc<Gpus>>) -> Vec<GpuReading> {
    match gpus {
        Some(g) if !g.known_absent() => {
            let g = g.clone();
            tokio::task::spawn_blocking(move || g.read())
                .await
                .unwrap_or_default()
        }
        _ => Vec::new(),
    }
}

/// The GPUs of this host, or none.
#[derive(Debug, Default)]
pub struct Gpus {
    nvml: OnceLock<Option<Nvml>>,
}

impl Gpus {
    /// Nothing is loaded until the first [`Gpus::read`].
    pub fn new() -> Self {
        Gpus::default()
    }

    /// Whether NVML was probed and is not there.
    fn known_absent(&self) -> bool {
        matches!(self.nvml.get(), Some(None))
    }

    fn nvml(&self) -> Option<&Nvml> {
        self.nvml.get_or_init(|| Nvml::init().ok()).as_ref()
    }

    /// Every GPU NVML lists, in index order; empty without NVML. A reading NVML refuses
    /// for one GPU (a field the board does not support) is left out, not an error.
    /// Blocks for the driver calls: async callers use `spawn_blocking`.
    pub fn read(&self) -> Vec<GpuReading> {
        let Some(nvml) = self.nvml() else {
            return Vec::new();
        };
        let count = nvml.device_count().unwrap_or(0);
        (0..count)
            .filter_map(|index| {
                let device = nvml.device_by_index(index).ok()?;
                let memory = device.memory_info().ok();
                Some(GpuReading {
                    index,
                    name: device.name().unwrap_or_else(|_| format!("nvidia-{index}")),
                    utilization_pct: device.utilization_rates().ok().map(|u| u.gpu),
                    mem_used_bytes: memory.as_ref().map(|m| m.used),
                    mem_total_bytes: memory.as_ref().map(|m| m.total),
                    temperature_c: device.temperature(TemperatureSensor::Gpu).ok(),
                })
            })
            .collect()
    }
}
