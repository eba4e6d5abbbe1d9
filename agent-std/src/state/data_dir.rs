//! The one directory the agent keeps state in: its TLS pair today, known hosts and
//! history later. `--data-dir` names it; by default it is `ferrostat` under the user's
//! XDG data directory (`$XDG_DATA_HOME`, else `~/.local/share`).

use std::fs;
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

/// `$XDG_DATA_HOME/ferrostat` or `~/.local/share/ferrostat`; `None` without a home.
pub fn default_dir() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("ferrostat"))
}

/// Creates `dir` (and missing parents) readable by its owner only; an existing
/// directory open to group or others is narrowed to 0700, since it holds keys.
///
/// # Errors
/// The directory cannot be created or its mode set.
pub fn create_private_dir(dir: &Path) -> Result<(), String> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let mode = fs::metadata(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_private_and_narrowed_if_open() {
        let base = std::env::temp_dir().join(format!("ferrostat-data-{}", std::process::id()));
        let dir = base.join("a/b");
        create_private_dir(&dir).unwrap();
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir(&dir).unwrap();
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        fs::remove_dir_all(&base).unwrap();
        assert!(default_dir().is_some_and(|d| d.ends_with("ferrostat")));
    }
}
