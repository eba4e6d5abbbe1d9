#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ferrostat_agent::__fuzz::psiod_request(data));
