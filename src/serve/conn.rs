//! The credential server's connections and their limits: every client is a local process, but
//! a careless one (or a hostile one) can open sockets and say nothing, send its headers a byte
//! at a time, or stop reading its answers. Each connection therefore has a deadline for its
//! request head and for idling between requests ([`IDLE_TIMEOUT`]), and there are at most
//! [`limit`] connections: at the limit the server goes on accepting and closes the connection
//! that has been idle the longest, so a real request always gets through. Running out of file
//! descriptors (`EMFILE`) is handled the same way, and never ends the server.
//!
//! hyper keeps no list of connections, so this module does (hand-written: hyper-util's
//! `GracefulShutdown` counts connections but cannot choose one to close).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// How long a connection may go without a request in progress (since it was opened or since
/// its last answer) before the server closes it. It bounds idle keep-alive connections, and,
/// since a request starts only once its head is whole, the time a request head may take to
/// arrive (slow senders). SDKs fetch container credentials once every few minutes and open a
/// new connection when theirs is closed, so a short keep-alive costs them nothing.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// The most connections held open at once, whatever the file descriptor limit.
pub const MAX_CONNECTIONS: usize = 512;

/// How long the accept loop waits for a connection to close before it looks again.
const ROOM_WAIT: Duration = Duration::from_millis(100);

/// File descriptors left for everything else (the listener, stdio, the cache files a request
/// reads, connections to AWS) when the limit comes from `ulimit -n`.
const RESERVED_FDS: u64 = 64;

/// The fewest connections the limit allows, however low `ulimit -n` is.
const MIN_CONNECTIONS: usize = 16;

/// After an accept fails for want of file descriptors, the limit drops this far below the
/// connections then open, so that requests in progress can still open the files they read.
const EMFILE_MARGIN: usize = 8;

/// The connection limit for this process: [`MAX_CONNECTIONS`], or fewer when the soft limit on
/// open files (`ulimit -n`) leaves less room after [`RESERVED_FDS`].
pub fn limit() -> usize {
    #[cfg(unix)]
    {
        let nofile = rustix::process::getrlimit(rustix::process::Resource::Nofile);
        if let Some(soft) = nofile.current {
            let room = usize::try_from(soft.saturating_sub(RESERVED_FDS)).unwrap_or(usize::MAX);
            return room.clamp(MIN_CONNECTIONS, MAX_CONNECTIONS);
        }
    }
    MAX_CONNECTIONS
}

/// The open connections.
pub(super) struct Connections {
    /// The time that [`Conn::last`] counts from.
    epoch: Instant,
    /// How many may be open; lowered when the process runs out of file descriptors first.
    cap: AtomicUsize,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Conn>>>,
    /// Told each time a connection has closed.
    closed: Notify,
}

/// One connection as the limits see it.
pub(super) struct Conn {
    id: u64,
    epoch: Instant,
    /// Milliseconds from the epoch to when it opened, or when its last request started or
    /// was answered.
    last: AtomicU64,
    /// Requests in progress (0 or 1 on HTTP/1.1): a busy connection is never closed here.
    busy: AtomicU32,
    /// Chosen to be closed (at most once).
    closing: AtomicBool,
    close: Notify,
}

impl Connections {
    pub(super) fn new(cap: usize) -> Connections {
        Connections {
            epoch: Instant::now(),
            cap: AtomicUsize::new(cap.max(1)),
            next_id: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
            closed: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a new connection; [`Connections::serve`] forgets it when it ends.
    pub(super) fn open(&self) -> Arc<Conn> {
        let conn = Arc::new(Conn {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            epoch: self.epoch,
            last: AtomicU64::new(0),
            busy: AtomicU32::new(0),
            closing: AtomicBool::new(false),
            close: Notify::new(),
        });
        conn.touch();
        self.lock().insert(conn.id, conn.clone());
        conn
    }

    /// Whether as many connections are open as allowed, counting those being closed: their
    /// sockets hold file descriptors until their tasks have run.
    pub(super) fn at_limit(&self) -> bool {
        self.lock().len() >= self.cap.load(Ordering::Relaxed)
    }

    /// Whether a connection chosen to close has not closed yet.
    pub(super) fn closing(&self) -> bool {
        self.lock()
            .values()
            .any(|c| c.closing.load(Ordering::Relaxed))
    }

    /// Closes the connection idle the longest (none with a request in progress); false when
    /// there is none.
    pub(super) fn close_longest_idle(&self) -> bool {
        let open = self.lock();
        let chosen = open
            .values()
            .filter(|c| !c.closing.load(Ordering::Relaxed) && c.busy.load(Ordering::Acquire) == 0)
            .min_by_key(|c| c.last.load(Ordering::Relaxed));
        match chosen {
            Some(conn) => {
                conn.closing.store(true, Ordering::Relaxed);
                // A stored permit: the connection's task sees it even if not waiting yet.
                conn.close.notify_one();
                true
            }
            None => false,
        }
    }

    /// The process is out of file descriptors with the connections now open: allow a few
    /// fewer from now on (the descriptors are held elsewhere too, and requests in progress need
    /// some for the files they read), and close idle ones down to that. False when none could
    /// be closed.
    pub(super) fn out_of_descriptors(&self) -> bool {
        let open = self.lock().len();
        let lower = open.saturating_sub(EMFILE_MARGIN).max(1);
        self.cap.fetch_min(lower, Ordering::Relaxed);
        let mut closed_any = false;
        loop {
            let staying = {
                let open = self.lock();
                open.values()
                    .filter(|c| !c.closing.load(Ordering::Relaxed))
                    .count()
            };
            if staying <= self.cap() || !self.close_longest_idle() {
                break;
            }
            closed_any = true;
        }
        closed_any || self.close_longest_idle()
    }

    /// Resolves when a connection has closed since the last call (or at once, if one closed
    /// while nobody waited).
    pub(super) async fn one_closed(&self) {
        self.closed.notified().await;
    }

    /// Waits until a connection has closed, or [`ROOM_WAIT`] at most (the descriptors may be
    /// held elsewhere, or a busy connection may finish without closing): the accept loop then
    /// looks again.
    pub(super) async fn wait_for_room(&self) {
        let _ = tokio::time::timeout(ROOM_WAIT, self.one_closed()).await;
    }

    /// The current limit.
    pub(super) fn cap(&self) -> usize {
        self.cap.load(Ordering::Relaxed)
    }

    /// Drives `connection` (hyper's future for it) until it ends, is idle for
    /// [`IDLE_TIMEOUT`], or is chosen to close; then drops it, which closes the socket.
    pub(super) async fn serve<F: std::future::Future>(&self, conn: Arc<Conn>, connection: F) {
        // On the heap, so that dropping it below really closes the socket before the
        // connection is forgotten and the accept loop told.
        let mut connection = Box::pin(connection);
        loop {
            // A connection with a request in progress is not idle: look again a full timeout
            // later (its passed deadline would wake this loop at once, over and over, for as
            // long as a slow fetch lasts).
            let idle_until = if conn.busy.load(Ordering::Acquire) > 0 {
                Instant::now() + IDLE_TIMEOUT
            } else {
                conn.idle_deadline()
            };
            tokio::select! {
                _ = &mut connection => break,
                () = conn.close.notified() => break,
                () = tokio::time::sleep_until(idle_until) => {
                    // Unless a request started or ended meanwhile (the deadline moved).
                    let busy = conn.busy.load(Ordering::Acquire) > 0;
                    if !busy && conn.idle_deadline() <= Instant::now() {
                        break;
                    }
                }
            }
        }
        drop(connection);
        self.lock().remove(&conn.id);
        self.closed.notify_one();
    }
}

impl Conn {
    fn touch(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(ms, Ordering::Relaxed);
    }

    fn idle_deadline(&self) -> Instant {
        self.epoch + Duration::from_millis(self.last.load(Ordering::Relaxed)) + IDLE_TIMEOUT
    }

    /// Marks a request in progress until the guard is dropped (answered, or abandoned when
    /// the client hung up).
    pub(super) fn request(self: &Arc<Conn>) -> Busy {
        self.busy.fetch_add(1, Ordering::AcqRel);
        self.touch();
        Busy(self.clone())
    }
}

/// A request in progress on a connection.
pub(super) struct Busy(Arc<Conn>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_limit_the_longest_idle_connection_is_chosen_never_a_busy_one() {
        let conns = Connections::new(2);
        let oldest = conns.open();
        let busy = conns.open();
        let newest = conns.open();
        // Make the order explicit rather than relying on the clock's resolution.
        oldest.last.store(1, Ordering::Relaxed);
        busy.last.store(0, Ordering::Relaxed);
        newest.last.store(5, Ordering::Relaxed);
        let guard = busy.request();
        busy.last.store(0, Ordering::Relaxed);
        assert!(conns.at_limit());
        assert!(!conns.closing());
        assert!(conns.close_longest_idle());
        assert!(oldest.closing.load(Ordering::Relaxed));
        assert!(!busy.closing.load(Ordering::Relaxed));
        assert!(conns.closing());
        assert!(conns.at_limit(), "a closing one counts until it has closed");
        assert!(conns.close_longest_idle());
        assert!(newest.closing.load(Ordering::Relaxed));
        assert!(!conns.close_longest_idle(), "only the busy one is left");
        drop(guard);
        assert!(conns.close_longest_idle(), "idle again once answered");
    }

    #[test]
    fn running_out_of_descriptors_lowers_the_limit_below_what_is_open() {
        let conns = Connections::new(100);
        let open: Vec<_> = (0..20).map(|_| conns.open()).collect();
        assert!(conns.out_of_descriptors());
        assert_eq!(conns.cap(), 20 - EMFILE_MARGIN);
        let closing = open
            .iter()
            .filter(|c| c.closing.load(Ordering::Relaxed))
            .count();
        assert_eq!(closing, EMFILE_MARGIN);
    }

    #[test]
    fn the_limit_follows_the_open_files_limit() {
        let n = limit();
        assert!((MIN_CONNECTIONS..=MAX_CONNECTIONS).contains(&n));
    }
}
