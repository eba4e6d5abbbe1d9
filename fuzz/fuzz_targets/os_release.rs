#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ferrostat_core::__fuzz::os_release(data));
