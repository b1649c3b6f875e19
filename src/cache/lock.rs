//! One lock file per sso-session, so that many portico processes needing a refresh or a login
//! at the same moment do it once: the first takes the lock and works, the others wait, then
//! find the fresh token in the cache. Locks are advisory `flock`s (std's `File::lock`), released
//! by the kernel if a process dies. Lock files are created 0600, like every file portico makes.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

#[cfg(unix)]
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};

use crate::cache::files::{ensure_private_dir, note_unwritable, sha1_hex};

/// Held while a session's token is being refreshed or obtained; released on drop.
#[derive(Debug)]
pub struct SessionLock {
    /// `None` when the lock could not be taken and the caller carries on without it.
    file: Option<File>,
    pub path: PathBuf,
}

impl SessionLock {
    /// Whether the lock is really held (false after [`acquire_or_skip`] carried on without it).
    pub fn is_held(&self) -> bool {
        self.file.is_some()
    }
}

/// Takes the lock for `key` in `dir`, calling `on_wait` once if another process holds it.
pub fn acquire(dir: &Path, key: &str, on_wait: impl FnOnce()) -> io::Result<SessionLock> {
    ensure_private_dir(dir)?;
    let path = dir.join(format!("{}.lock", sha1_hex(key)));
    let file = open_private(&path)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            on_wait();
            file.lock()?;
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(e),
    }
    Ok(SessionLock {
        file: Some(file),
        path,
    })
}

/// [`acquire`] for locks that only save work (the role-credential cache): where the lock file
/// cannot be made (a read-only or full disk, a directory that is not ours), the caller carries
/// on without it, and `-v` says so once. At worst two processes then fetch the same thing.
pub fn acquire_or_skip(dir: &Path, key: &str, on_wait: impl FnOnce()) -> SessionLock {
    match acquire(dir, key, on_wait) {
        Ok(lock) => lock,
        Err(e) => {
            note_unwritable(dir, &e);
            SessionLock {
                file: None,
                path: dir.join(format!("{}.lock", sha1_hex(key))),
            }
        }
    }
}

/// Runs `take` — [`acquire`], [`acquire_or_skip`] or a caller's use of them, handed the
/// `on_wait` it gets — on a thread of its own, and says whether it had to wait (another
/// process held the lock, and so may have just done the work). The wait is a blocking `flock`:
/// on its own thread, the caller's future stays cancellable by Ctrl-C, and a thread left
/// waiting ends with the process (a `spawn_blocking` task would hold up the runtime's
/// shutdown). `None` if the thread ended without an answer.
pub async fn take_on_thread<T: Send + 'static>(
    take: impl FnOnce(&mut dyn FnMut()) -> T + Send + 'static,
) -> Option<(T, bool)> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut waited = false;
        let taken = take(&mut || waited = true);
        let _ = tx.send((taken, waited));
    });
    rx.await.ok()
}

/// Opens (creating if needed) a lock file, mode 0600 whatever the umask; a lock file left
/// 0644 by an older version is tightened.
fn open_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    options.mode(0o600);
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        let mode = file.metadata()?.permissions().mode() & 0o777;
        if mode != 0o600 {
            // Best effort: a lock file holds no secret, and another user's file cannot be changed.
            let _ = file.set_permissions(std::fs::Permissions::from_mode(0o600));
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[test]
    fn second_taker_waits_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = acquire(dir.path(), "corp", || panic!("nobody holds it yet")).unwrap();
        let waited = Arc::new(AtomicBool::new(false));
        let released = Arc::new(AtomicBool::new(false));
        let (w, r, d) = (waited.clone(), released.clone(), dir.path().to_path_buf());
        let (tx, rx) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            let _second = acquire(&d, "corp", || {
                w.store(true, Ordering::SeqCst);
                tx.send(()).unwrap();
            })
            .unwrap();
            assert!(r.load(Ordering::SeqCst), "got the lock only after release");
        });
        rx.recv().unwrap(); // the other thread is now blocked on the lock
        released.store(true, Ordering::SeqCst);
        drop(first);
        t.join().unwrap();
        assert!(waited.load(Ordering::SeqCst));
        // A different session never waits.
        let _a = acquire(dir.path(), "a", || {}).unwrap();
        let _b = acquire(dir.path(), "b", || panic!("different key")).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn lock_files_are_0600_and_a_loose_one_is_tightened() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let lock = acquire(dir.path(), "corp", || {}).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&lock.path), 0o600);
        drop(lock);
        let old = dir.path().join(format!("{}.lock", sha1_hex("old")));
        std::fs::write(&old, "").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        let lock = acquire(dir.path(), "old", || {}).unwrap();
        assert_eq!(lock.path, old);
        assert_eq!(mode(&old), 0o600);
    }

    #[test]
    fn a_lock_that_cannot_be_made_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the lock directory should be: creating the directory fails.
        let blocked = dir.path().join("not-a-dir");
        std::fs::write(&blocked, "").unwrap();
        assert!(acquire(&blocked, "corp", || {}).is_err());
        let lock = acquire_or_skip(&blocked, "corp", || panic!("nobody holds it"));
        assert!(!lock.is_held());
        assert!(acquire_or_skip(dir.path(), "corp", || {}).is_held());
    }
}
