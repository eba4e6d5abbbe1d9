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
