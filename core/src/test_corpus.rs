//! The one walker of the copied /proc corpus (`tests/data/proc`), for the parsers' unit
//! tests here and, included by path, for the integration tests' `tests/common`.

extern crate std;

use std::path::{Path, PathBuf};
use std::vec::Vec;

/// Every file under `root`, sorted by path.
pub(crate) fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = std::vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("corpus directory") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The content of every file named `name` under `tests/data/proc` whose parent folder
/// passes `parent` (pid files sit in `<pid>/`, system-wide ones in `proc/`).
pub(crate) fn files(name: &str, parent: fn(&Path) -> bool) -> Vec<Vec<u8>> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/proc");
    walk(Path::new(root))
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == name) && p.parent().is_some_and(parent))
        .map(|p| std::fs::read(&p).unwrap())
        .collect()
}

/// `inputs` plus `extra`, owned.
pub(crate) fn with(mut inputs: Vec<Vec<u8>>, extra: &[&[u8]]) -> Vec<Vec<u8>> {
    inputs.extend(extra.iter().map(|e| e.to_vec()));
    inputs
}
