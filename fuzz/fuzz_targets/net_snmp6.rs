#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ferrostat_core::__fuzz::net_snmp6(data));
