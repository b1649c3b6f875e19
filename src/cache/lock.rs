//! One lock file per sso-session, so that many portico processes needing a refresh or a login
//! at the same moment do it once: the first takes the lock and works, the others wait, then
//! find the fresh token in the cache. Locks are advisory `flock`s (std's `File::lock`), released
//! by the kernel if a process dies.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use crate::cache::files::{ensure_private_dir, sha1_hex};

/// Held while a session's token is being refreshed or obtained; released on drop.
#[derive(Debug)]
pub struct SessionLock {
    _file: File,
    pub path: PathBuf,
}

/// Takes the lock for `key` in `dir`, calling `on_wait` once if another process holds it.
pub fn acquire(dir: &Path, key: &str, on_wait: impl FnOnce()) -> io::Result<SessionLock> {
    ensure_private_dir(dir)?;
    let path = dir.join(format!("{}.lock", sha1_hex(key)));
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            on_wait();
            file.lock()?;
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(e),
    }
    Ok(SessionLock { _file: file, path })
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
}
