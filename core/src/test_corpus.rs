//! The corpus files of one name, for unit tests that compare two parse paths.

extern crate std;

use std::path::Path;
use std::vec::Vec;

/// The content of every file named `name` under `tests/data/proc` whose parent folder
/// passes `parent` (pid files sit in `<pid>/`, system-wide ones in `proc/`).
pub(crate) fn files(name: &str, parent: fn(&Path) -> bool) -> Vec<Vec<u8>> {
    fn walk(dir: &Path, name: &str, parent: fn(&Path) -> bool, out: &mut Vec<Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, name, parent, out);
            } else if p.file_name().is_some_and(|n| n == name) && p.parent().is_some_and(parent) {
                out.push(std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = Vec::new();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/proc");
    walk(Path::new(root), name, parent, &mut out);
    out
}

/// Checks a fast pass against its general parser: wherever the fast pass takes an input,
/// the general parser reads it to the same value. Returns how many inputs the fast pass
/// took, so a test can also check that it takes the real files.
pub(crate) fn check_fast_pass<T: PartialEq + core::fmt::Debug>(
    inputs: &[Vec<u8>],
    fast: fn(&[u8]) -> Option<T>,
    general: fn(&[u8]) -> crate::Result<T>,
) -> usize {
    let mut taken = 0;
    for input in inputs {
        if let Some(value) = fast(input) {
            let text = std::string::String::from_utf8_lossy(input);
            assert_eq!(general(input), Ok(value), "{text}");
            taken += 1;
        }
    }
    taken
}

/// `inputs` plus `extra`, owned.
pub(crate) fn with(mut inputs: Vec<Vec<u8>>, extra: &[&[u8]]) -> Vec<Vec<u8>> {
    inputs.extend(extra.iter().map(|e| e.to_vec()));
    inputs
}
