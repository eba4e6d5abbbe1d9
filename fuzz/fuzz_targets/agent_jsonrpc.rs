#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ferrostat_agent::__fuzz::jsonrpc_body(data));
