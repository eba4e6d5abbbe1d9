//! Replays the committed cargo-fuzz corpus of the agent's targets (fuzz/corpus/agent_*/)
//! through the same bodies the fuzzer runs, on stable, in every test run.

use std::path::Path;

#[test]
fn replay_committed_agent_fuzz_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    for (name, target) in ferrostat_agent::__fuzz::TARGETS {
        let dir = root.join(name);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut n = 0;
        for entry in entries {
            let data = std::fs::read(entry.unwrap().path()).unwrap();
            target(&data);
            // Every sixteenth prefix too: the shapes a fuzzer reaches first.
            for cut in (0..data.len()).step_by(data.len() / 16 + 1) {
                target(&data[..cut]);
            }
            n += 1;
        }
        assert!(n >= 5, "{n} seeds for fuzz target {name}");
    }
    assert_eq!(ferrostat_agent::__fuzz::TARGETS.len(), 8);
}
