//! [`OsmemServer`]: a local OpenSearch-compatible server (osmem-server, from PyPI's
//! `osmem-server` package, which `scripts/services.sh` installs) for one test: its own process on
//! a free loopback port, stopped and restarted on the same port to make outages, killed on drop.
//!
//! osmem keeps everything in memory: a restart starts empty (no template, no index, no
//! document). Tests that make an outage therefore ship nothing before it, as a real cluster,
//! whose data outlives a restart, would otherwise differ from it.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The variable that names the osmem-server binary (set by `scripts/services.sh`).
pub const OSMEM_ENV: &str = "AI_BILLING_TEST_OSMEM";

/// How long a start may take before the test fails.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The binary: `AI_BILLING_TEST_OSMEM`, or the one in python3's `osmem_server` package.
///
/// # Panics
/// When neither gives an existing file, naming `scripts/services.sh`, which installs it.
pub fn osmem_binary() -> PathBuf {
    if let Some(path) = std::env::var_os(OSMEM_ENV).filter(|path| !path.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "{OSMEM_ENV}={} is not a file: `source scripts/services.sh` sets it to the \
             osmem-server binary it installs",
            path.display()
        );
        return path;
    }
    let found = Command::new("python3")
        .args([
            "-c",
            "import osmem_server, os; print(os.path.join(os.path.dirname(osmem_server.__file__), \
             'bin', 'osmem-server'))",
        ])
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
        .filter(|path| path.is_file());
    found.unwrap_or_else(|| {
        panic!(
            "osmem-server was not found: {OSMEM_ENV} is unset and python3 cannot import \
             osmem_server. Run `source scripts/services.sh` (it pip-installs osmem-server==0.1.6 \
             and exports {OSMEM_ENV}), or `pip install osmem-server==0.1.6`."
        )
    })
}

/// A free TCP port on 127.0.0.1 (the kernel's choice, released at once).
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}

/// One osmem-server process for one test, on a fixed loopback port.
#[derive(Debug)]
pub struct OsmemServer {
    binary: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl OsmemServer {
    /// Starts a server on a free loopback port and waits until it answers.
    ///
    /// # Panics
    /// When the binary is missing (see [`osmem_binary`]) or the server does not answer within 20
    /// seconds.
    pub fn start() -> Self {
        let mut server = OsmemServer {
            binary: osmem_binary(),
            port: free_port(),
            child: None,
        };
        server.launch();
        server
    }

    /// The base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port, the same across restarts.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the server process is running.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Stops the server (connections to its port are refused from now on). Stopping a stopped
    /// server does nothing.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port, empty (osmem keeps nothing across a restart).
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    fn launch(&mut self) {
        let started = Instant::now();
        loop {
            let mut child = Command::new(&self.binary)
                .arg("-addr")
                .arg(format!("127.0.0.1:{}", self.port))
                .arg("-no-stdin-watch")
                .arg("-parent-pid")
                .arg(std::process::id().to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|error| {
                    panic!("cannot run osmem-server {}: {error}", self.binary.display())
                });
            loop {
                if self.answers() {
                    self.child = Some(child);
                    return;
                }
                if let Ok(Some(status)) = child.try_wait() {
                    // The port may still be held for a moment after a stop: try again.
                    assert!(
                        started.elapsed() < START_TIMEOUT,
                        "osmem-server on 127.0.0.1:{} exited with {status}",
                        self.port
                    );
                    std::thread::sleep(Duration::from_millis(100));
                    break;
                }
                if started.elapsed() >= START_TIMEOUT {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "osmem-server on 127.0.0.1:{} did not answer within {START_TIMEOUT:?}",
                        self.port
                    );
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Whether `GET /` answers 200.
    fn answers(&self) -> bool {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(200))
        else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        if stream
            .write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .is_err()
        {
            return false;
        }
        let mut head = [0_u8; 16];
        let mut read = 0;
        while read < head.len() {
            match stream.read(&mut head[read..]) {
                Ok(0) | Err(_) => break,
                Ok(n) => read += n,
            }
        }
        let head = String::from_utf8_lossy(&head[..read]);
        head.starts_with("HTTP/1.") && head.contains(" 200")
    }
}

impl Drop for OsmemServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Refreshes the sink's index (so what follows sees every write) and counts its documents.
pub async fn indexed_count(sink: &ai_billing::opensearch::OpenSearchSink) -> u64 {
    let index = sink.config().index.as_str();
    let client = sink.client();
    let refreshed = client
        .indices()
        .refresh(opensearch::indices::IndicesRefreshParts::Index(&[index]))
        .send()
        .await
        .expect("refresh");
    assert!(refreshed.status_code().is_success());
    let body: serde_json::Value = client
        .count(opensearch::CountParts::Index(&[index]))
        .send()
        .await
        .expect("count")
        .json()
        .await
        .expect("a count answer");
    body["count"].as_u64().expect("a count")
}

/// Every document of the sink's index (up to 10,000), as (`_id`, `_source.id`).
pub async fn indexed_documents(
    sink: &ai_billing::opensearch::OpenSearchSink,
) -> Vec<(String, String)> {
    let index = sink.config().index.as_str();
    let body: serde_json::Value = sink
        .client()
        .search(opensearch::SearchParts::Index(&[index]))
        .body(serde_json::json!({ "size": 10000, "query": { "match_all": {} } }))
        .send()
        .await
        .expect("search")
        .json()
        .await
        .expect("a search answer");
    body["hits"]["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|hit| {
            (
                hit["_id"].as_str().expect("an _id").to_owned(),
                hit["_source"]["id"]
                    .as_str()
                    .expect("a document's id")
                    .to_owned(),
            )
        })
        .collect()
}
