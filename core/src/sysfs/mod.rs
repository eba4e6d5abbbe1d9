//! Parsers for Linux sysfs attributes, one module per attribute family
//! (Documentation/ABI/testing/sysfs-*). Like [`crate::procfs`], none allocates and none
//! needs the bytes to be UTF-8.

pub mod clocksource;
pub mod thermal;
