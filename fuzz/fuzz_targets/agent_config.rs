#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ferrostat_agent::__fuzz::config_file(data));
