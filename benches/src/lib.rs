//! Inputs shared by the benchmarks in `benches/` and the examples in `examples/`.

/// A 256-CPU /proc/stat in the current kernel's format, made from a real line shape, with
/// a 1024-entry `intr` line. Leaked, so parsers can borrow it into tables reused for the
/// whole run.
pub fn synthetic_stat_256() -> &'static [u8] {
    let mut s = String::from("cpu  10132153 290696 3084719 46828483 16683 0 25195 0 175628 0\n");
    for i in 0..256 {
        s.push_str(&format!(
            "cpu{i} {} {} {} {} {} 0 {} {} 0 0\n",
            1393280 + i * 7,
            32966 + i,
            572056 + i * 3,
            13343292 + i * 11,
            6130 + i,
            17875 + i,
            269 + i
        ));
    }
    s.push_str("intr 1462898");
    for i in 0..1024 {
        s.push_str(&format!(" {}", i % 97));
    }
    s.push_str(
        "\nctxt 115315\nbtime 769041601\nprocesses 86031\nprocs_running 6\nprocs_blocked 0\n",
    );
    s.push_str("softirq 2344 0 3 4 5 6 7 8 9 10 11\n");
    Box::leak(s.into_bytes().into_boxed_slice())
}
