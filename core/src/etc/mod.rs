//! Parsers for configuration files the system describes itself in, one module per file
//! format. Like [`crate::procfs`], none allocates and none needs the bytes to be UTF-8.

pub mod os_release;
