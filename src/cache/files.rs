//! Writing files that hold secrets: a private directory (0700), a temporary file in it (0600),
//! `sync_all`, then a rename over the old file, so a reader sees the old file or the new one,
//! never half of one, and a crash or Ctrl-C leaves no partial file behind.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};

/// Creates `dir` (and parents) if needed; `dir` itself ends up mode 0700.
/// Parents that already exist are left as they are.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(dir)?;
    #[cfg(unix)]
    {
        let mode = fs::metadata(dir)?.permissions().mode() & 0o777;
        if mode != 0o700 {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
        }
    }
    Ok(())
}

/// Atomically replaces `path` with `contents`, mode 0600, in a private directory.
pub fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no directory"))?;
    ensure_private_dir(dir)?;
    // tempfile creates the file with mode 0600 and removes it if we fail before persisting.
    let mut tmp = tempfile::Builder::new()
        .prefix(".portico-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    #[cfg(unix)]
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(0o600))?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Removes `path`; a file that is already gone is not an error. Returns whether it existed.
pub fn remove_if_exists(path: &Path) -> io::Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Deletes the files in `dir` for which `matches` holds and returns them, sorted. A missing
/// `dir` is nothing to do; a file already gone is not counted.
pub fn remove_where(dir: &Path, matches: impl Fn(&Path) -> bool) -> io::Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut removed = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if matches(&path) && remove_if_exists(&path)? {
            removed.push(path);
        }
    }
    removed.sort();
    Ok(removed)
}

/// Says once per process, at `-v`, that portico's cache in `dir` cannot be written and that it
/// carries on without it. Caches and the locks around them only save work: a read-only HOME, a
/// full disk or a directory owned by someone else must not stop a command whose real work
/// (a valid token, a network call) can still be done.
pub fn note_unwritable(dir: &Path, error: &io::Error) {
    static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !SAID.swap(true, std::sync::atomic::Ordering::Relaxed) {
        crate::info!(
            "cannot write portico's cache in {} ({error}); carrying on without caching or locking",
            dir.display()
        );
    }
}

/// Lowercase hex SHA-1 of `text`: the AWS CLI's cache file naming.
pub fn sha1_hex(text: &str) -> String {
    use sha1::Digest;
    let digest = sha1::Sha1::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_0600_in_a_0700_dir_and_replaces_atomically() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        let file = dir.join("token.json");
        write_private(&file, b"one").unwrap();
        write_private(&file, b"two").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"two");
        #[cfg(unix)]
        {
            assert_eq!(
                fs::metadata(&file).unwrap().permissions().mode() & 0o777,
                0o600
            );
            assert_eq!(
                fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
                0o700
            );
        }
        let leftovers: Vec<_> = fs::read_dir(&dir).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary files are left behind");
    }

    #[cfg(unix)]
    #[test]
    fn tightens_an_existing_loose_dir() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("cache");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        write_private(&dir.join("x"), b"x").unwrap();
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }

    #[test]
    fn remove_reports_whether_it_existed() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("f");
        assert!(!remove_if_exists(&file).unwrap());
        fs::write(&file, "x").unwrap();
        assert!(remove_if_exists(&file).unwrap());
    }

    #[test]
    fn sha1_matches_the_aws_cli_file_names() {
        // botocore: hashlib.sha1("my-sso".encode()).hexdigest()
        assert_eq!(
            sha1_hex("my-sso"),
            "0ad374308c5a4e22f723adf10145eafad7c4031c"
        );
        assert_eq!(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }
}
