//! Benchmark of `portico serve` on a warm cache (not a test; `cargo bench --bench serve`):
//! requests per second and p50/p99 latency for 20 concurrent clients, each on its own
//! keep-alive connection, and one warm request beside one warm `portico credentials` run
//! (a credential_process call), measured alternately so both see the same machine.
//!
//! Everything runs here: the emulator in-process, a throw-away HOME signed in to it, the real
//! `portico` binary. The HTTP client is a few lines over `TcpStream`, so that the number is the
//! server's and not a client library's. Bounded: a fixed number of requests, then it stops.

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CLIENTS: usize = 20;
const REQUESTS_PER_CLIENT: usize = 2_000;
const SIDE_BY_SIDE: usize = 50;

fn main() {
    let env = common::TestEnv::new(idc_emulator::Config::default());
    env.login();

    let mut server = env
        .portico()
        .args(["serve", "--profile", "dev"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("portico serve starts");
    let mut printed = String::new();
    server
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut printed)
        .unwrap();
    let var = |name: &str| -> String {
        printed
            .lines()
            .find_map(|l| l.strip_prefix(&format!("export {name}=")))
            .unwrap_or_else(|| panic!("{name} not printed: {printed}"))
            .to_string()
    };
    let uri = var("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    let token = var("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    let rest = uri.strip_prefix("http://").unwrap();
    let (addr, path) = rest.split_at(rest.find('/').unwrap());
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\nAuthorization: {token}\r\n\r\n"
    );

    // Warm the cache (one GetRoleCredentials), then the concurrent run.
    let mut warmup = Connection::open(addr);
    warmup.get(&request);
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (addr, request) = (addr.to_string(), request.clone());
            std::thread::spawn(move || {
                let mut conn = Connection::open(&addr);
                (0..REQUESTS_PER_CLIENT)
                    .map(|_| {
                        let t = Instant::now();
                        conn.get(&request);
                        t.elapsed()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    let wall = started.elapsed();
    latencies.sort_unstable();
    let total = latencies.len();
    println!(
        "portico serve, warm cache, {CLIENTS} concurrent keep-alive clients, {total} requests:"
    );
    println!(
        "  {:.0} requests/s   p50 {}   p99 {}   max {}",
        total as f64 / wall.as_secs_f64(),
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 99.0)),
        ms(*latencies.last().unwrap()),
    );

    // One warm request (a new connection, as an SDK refreshing once) against one warm
    // credential_process run, alternately.
    let mut request_times = Vec::new();
    let mut process_times = Vec::new();
    for _ in 0..SIDE_BY_SIDE {
        let t = Instant::now();
        Connection::open(addr).get(&request);
        request_times.push(t.elapsed());
        let t = Instant::now();
        let out = env
            .portico()
            .args(["credentials", "--profile", "dev"])
            .stderr(Stdio::null())
            .output()
            .unwrap();
        process_times.push(t.elapsed());
        assert!(out.status.success());
    }
    request_times.sort_unstable();
    process_times.sort_unstable();
    let (request, process) = (
        percentile(&request_times, 50.0),
        percentile(&process_times, 50.0),
    );
    println!("one warm request vs one warm credential_process run ({SIDE_BY_SIDE} each, medians):");
    println!(
        "  request {}   credential_process {}   ratio {:.3} (the request takes {:.1}% of the run; {:.0}x faster)",
        ms(request),
        ms(process),
        request.as_secs_f64() / process.as_secs_f64(),
        100.0 * request.as_secs_f64() / process.as_secs_f64(),
        process.as_secs_f64() / request.as_secs_f64(),
    );
    assert_eq!(env.stat("GetRoleCredentials"), 1, "all warm");

    let _ = Command::new("kill").arg(server.id().to_string()).status();
    let _ = server.wait();
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[i.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// One keep-alive HTTP/1.1 connection; `get` sends a request and reads the whole answer.
struct Connection {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Connection {
    fn open(addr: &str) -> Connection {
        let stream = TcpStream::connect(addr).expect("the server listens");
        stream.set_nodelay(true).unwrap();
        Connection {
            writer: stream.try_clone().unwrap(),
            reader: BufReader::new(stream),
        }
    }

    fn get(&mut self, request: &str) {
        self.writer.write_all(request.as_bytes()).unwrap();
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        assert!(line.starts_with("HTTP/1.1 200"), "{line}");
        let mut length = 0;
        loop {
            line.clear();
            self.reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap();
                }
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).unwrap();
    }
}
