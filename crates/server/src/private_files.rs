//! Folders and files that hold personal data or secrets: the data folder (voters, mail
//! addresses, login–credential bindings, sessions, the board key) and the mail outbox
//! (one-time codes).
//!
//! Invariants: such a folder is created with mode 0700 and its files with mode 0600; the
//! server refuses to start on an existing folder that other users can read or enter, and
//! says how to fix it, rather than widening or silently narrowing what an operator chose.

use std::io;
use std::path::Path;

/// Why a private folder cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PrivateDirError {
    /// The folder exists and other users may read or enter it.
    #[error(
        "{path} can be read by other users (mode {mode:04o}): it holds personal data; run `chmod 700 {path}` and start again"
    )]
    Exposed {
        /// The folder.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// Creating or inspecting it failed.
    #[error("{path}: {source}")]
    Io {
        /// The folder.
        path: String,
        /// The I/O error.
        source: io::Error,
    },
}

/// Creates `dir` (and missing parents) with mode 0700, or checks that the existing folder
/// is closed to other users.
pub fn ensure_private_dir(dir: &Path) -> Result<(), PrivateDirError> {
    let io_err = |source| PrivateDirError::Io {
        path: dir.display().to_string(),
        source,
    };
    if !dir.exists() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(io_err)?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir).map_err(io_err)?.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(PrivateDirError::Exposed {
                path: dir.display().to_string(),
                mode,
            });
        }
    }
    Ok(())
}

/// Creates `path` empty with mode 0600 if it does not exist, and narrows an existing file
/// to 0600 (it lives in a private folder, so nobody else could have opened it).
pub fn ensure_private_file(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata()?.permissions().mode() & 0o7777;
        if mode != 0o600 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

/// Writes `bytes` to a new file `path` with mode 0600 (replacing any file there).
pub async fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (path, bytes) = (path.to_owned(), bytes.to_vec());
    tokio::task::spawn_blocking(move || write_private_blocking(&path, &bytes))
        .await
        .map_err(io::Error::other)?
}

/// [`write_private`] on the calling thread (one that may block).
pub fn write_private_blocking(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let _ = std::fs::remove_file(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    std::io::Write::write_all(&mut file, bytes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[cfg(unix)]
    #[test]
    fn folders_and_files_are_closed_to_others() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        ensure_private_dir(&dir).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        let file = dir.join("f");
        std::fs::write(&file, b"x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        ensure_private_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(std::fs::read(&file).unwrap(), b"x");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let e = ensure_private_dir(&dir).unwrap_err().to_string();
        assert!(e.contains("chmod 700"), "{e}");
    }
}
