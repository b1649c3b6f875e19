//! A running `portico serve` (or `exec --serve`'s server): started, its printed variables read,
//! its stderr collected on a thread, stopped by a signal with a bounded wait, killed on drop.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{text, wait_until};

pub struct Serving {
    pub child: Child,
    /// The variables from stdout, in order.
    pub vars: Vec<(String, String)>,
    stderr: Arc<Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Serving {
    /// Starts `cmd` (a `portico serve`, format `env`) and reads the lines it prints; stdout
    /// closes once they are out, so this returns as soon as the server listens.
    pub fn start(mut cmd: Command) -> Serving {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = stderr.clone();
        let mut pipe = child.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let vars = stdout
            .lines()
            .map(|line| {
                let line = line.strip_prefix("export ").unwrap_or(line);
                let (k, v) = line
                    .split_once('=')
                    .unwrap_or_else(|| panic!("not a variable line: {line}"));
                // `env` quotes only what needs it (the `?` of a query) in single quotes.
                let v = v
                    .strip_prefix('\'')
                    .and_then(|v| v.strip_suffix('\''))
                    .unwrap_or(v);
                (k.to_string(), v.to_string())
            })
            .collect();
        Serving {
            child,
            vars,
            stderr,
            reader: Some(reader),
        }
    }

    /// A printed variable; fails showing what was printed and the server's stderr.
    pub fn var(&self, name: &str) -> &str {
        self.vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| {
                panic!(
                    "{name} not printed: {:?}; stderr: {}",
                    self.vars,
                    self.stderr()
                )
            })
    }

    /// GETs the printed URI with the printed token on a new connection (`Connection: close`)
    /// and returns the whole response, head and body.
    pub fn get(&self) -> String {
        use std::io::Write;
        let uri = self.var("AWS_CONTAINER_CREDENTIALS_FULL_URI");
        let token = self.var("AWS_CONTAINER_AUTHORIZATION_TOKEN");
        let rest = uri.strip_prefix("http://").unwrap();
        let (addr, path) = rest.split_at(rest.find('/').unwrap());
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {token}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    }

    /// What the server wrote on stderr so far.
    pub fn stderr(&self) -> String {
        text(&self.stderr.lock().unwrap())
    }

    pub fn signal(&self, signal: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_child(&self.child);
        rustix::process::kill_process(pid, signal).unwrap();
    }

    /// Waits (bounded) for the process to end; its status and all it wrote on stderr.
    pub fn wait(mut self) -> (ExitStatus, String) {
        let status = wait_until(Duration::from_secs(20), || self.child.try_wait().unwrap())
            .unwrap_or_else(|| panic!("portico serve did not end: {}", self.stderr()));
        self.reader.take().unwrap().join().unwrap();
        (status, self.stderr())
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
