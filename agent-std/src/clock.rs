//! Wall-clock time as the wire formats carry it.

/// Now, milliseconds since the Unix epoch (0 for a clock set before 1970).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// [`now_ms`] for fields that are unsigned.
pub fn now_ms_unsigned() -> u64 {
    now_ms().max(0).unsigned_abs()
}
