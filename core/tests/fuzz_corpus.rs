//! Replays the committed cargo-fuzz corpus (fuzz/corpus/<target>/) through the same target
//! bodies the fuzzer runs, on stable, in every test run.

use std::path::Path;

#[test]
fn replay_committed_fuzz_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let mut total = 0;
    #[cfg(feature = "serde")]
    let gateway = ferrostat_core::__fuzz::GATEWAY_TARGETS;
    #[cfg(not(feature = "serde"))]
    let gateway: &[(&str, ferrostat_core::__fuzz::Target)] = &[];
    let targets = ferrostat_core::__fuzz::PROC_TARGETS
        .iter()
        .chain(ferrostat_core::__fuzz::LATER_PROC_TARGETS)
        .chain(ferrostat_core::__fuzz::ETC_TARGETS)
        .chain(ferrostat_core::__fuzz::SYSFS_TARGETS)
        .chain(ferrostat_core::__fuzz::SFLOW_TARGETS)
        .chain(gateway);
    for (name, target) in targets {
        let dir = root.join(name);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut n = 0;
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            target(&data);
            // Every prefix too: the shapes a fuzzer reaches first.
            for cut in (0..data.len()).step_by(data.len() / 16 + 1) {
                target(&data[..cut]);
            }
            n += 1;
        }
        assert!(n > 0, "no seeds for fuzz target {name}");
        total += n;
    }
    assert_eq!(ferrostat_core::__fuzz::PROC_TARGETS.len(), 16);
    assert_eq!(ferrostat_core::__fuzz::SFLOW_TARGETS.len(), 2);
    assert!(total >= 100, "{total} seeds");
}
