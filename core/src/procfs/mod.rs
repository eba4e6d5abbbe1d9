//! Parsers for Linux /proc files, one module per file (proc(5)).
//!
//! Each module has a borrowed record iterator (`records`) over `&[u8]` where the file is
//! a list, and a whole-file parser (`parse` or `parse_into` a fixed-capacity aggregate
//! that counts what did not fit). None allocates, none needs the bytes to be UTF-8.

pub mod cpuinfo;
pub mod diskstats;
pub mod loadavg;
pub mod meminfo;
pub mod mountinfo;
pub mod mounts;
pub mod net_dev;
pub mod net_snmp;
pub mod net_snmp6;
pub mod pid_io;
pub mod pid_stat;
pub mod pid_statm;
pub mod pid_status;
pub mod pressure;
pub mod stat;
pub mod sysctl;
pub mod uptime;
pub mod vmstat;
