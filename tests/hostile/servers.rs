//! Loopback servers for the hardening tests: a well-behaved axum app that records what it is sent,
//! raw `TcpListener`s that misbehave on purpose, and a TLS port with a self-signed certificate.
//! They all run on a runtime of their own, so the binary under test never shares a thread with them.

use axum::Router;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

/// A runtime for servers, apart from the test thread.
pub fn runtime(workers: usize) -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("server runtime")
}

/// What the well-behaved app saw.
#[derive(Default)]
pub struct Seen {
    /// Every request: (path, headers), in arrival order.
    pub requests: Mutex<Vec<(String, HeaderMap)>>,
    /// Arrivals at `/hold/*`, with when they came.
    pub held: Mutex<Vec<(String, Instant)>>,
    arrivals: Mutex<Option<mpsc::Sender<String>>>,
    /// Releases every `/hold/*` request.
    pub release: CancellationToken,
    in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
    pub served: AtomicUsize,
}

impl Seen {
    /// Paths requested so far.
    pub fn paths(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// Headers of the first request to `path`.
    pub fn headers_of(&self, path: &str) -> Option<HeaderMap> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, h)| h.clone())
    }

    /// A channel that receives the name of each `/hold/{name}` request as it arrives.
    pub fn arrivals(&self) -> mpsc::Receiver<String> {
        let (tx, rx) = mpsc::channel();
        *self.arrivals.lock().unwrap() = Some(tx);
        rx
    }
}

/// The well-behaved app on 127.0.0.1.
pub struct App {
    pub addr: SocketAddr,
    pub seen: Arc<Seen>,
}

impl App {
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// Routes:
/// - `/ok`: 200 `ok`;
/// - `/record/{name}`: 200, remembers the headers;
/// - `/redirect?to=URL`: 302 to URL (remembered too);
/// - `/loop`: 302 to itself;
/// - `/hold/{name}`: reports its arrival, then answers once `release` fires (30 s at most);
/// - `/count`: 200 after a few milliseconds, counting requests in flight at the server.
pub fn app(rt: &Runtime) -> App {
    let seen = Arc::new(Seen::default());
    let router = Router::new()
        .route("/ok", get(|| async { "ok" }))
        .route("/record/{name}", get(record))
        .route("/redirect", get(redirect))
        .route("/loop", get(redirect_loop))
        .route("/hold/{name}", get(hold))
        .route("/count", get(count))
        .with_state(seen.clone());
    let listener = rt
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    App { addr, seen }
}

fn remember(seen: &Seen, path: String, headers: &HeaderMap) {
    seen.requests.lock().unwrap().push((path, headers.clone()));
}

async fn record(
    State(seen): State<Arc<Seen>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> &'static str {
    remember(&seen, format!("/record/{name}"), &headers);
    "recorded"
}

async fn redirect(
    State(seen): State<Arc<Seen>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    remember(&seen, "/redirect".into(), &headers);
    let to = q.get("to").cloned().unwrap_or_else(|| "/ok".into());
    (StatusCode::FOUND, [(header::LOCATION, to)], "").into_response()
}

async fn redirect_loop(State(seen): State<Arc<Seen>>, headers: HeaderMap) -> Response {
    remember(&seen, "/loop".into(), &headers);
    (StatusCode::FOUND, [(header::LOCATION, "/loop")], "").into_response()
}

async fn hold(
    State(seen): State<Arc<Seen>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> &'static str {
    remember(&seen, format!("/hold/{name}"), &headers);
    seen.held.lock().unwrap().push((name.clone(), Instant::now()));
    if let Some(tx) = seen.arrivals.lock().unwrap().as_ref() {
        let _ = tx.send(name);
    }
    tokio::select! {
        _ = seen.release.cancelled() => {}
        _ = tokio::time::sleep(Duration::from_secs(30)) => {}
    }
    "held"
}

async fn count(State(seen): State<Arc<Seen>>) -> &'static str {
    let now = seen.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    seen.max_in_flight.fetch_max(now, Ordering::SeqCst);
    // Long enough for two overlapping requests to be seen overlapping.
    tokio::time::sleep(Duration::from_millis(2)).await;
    seen.in_flight.fetch_sub(1, Ordering::SeqCst);
    seen.served.fetch_add(1, Ordering::SeqCst);
    "ok"
}

/// A raw TCP server: `behave` gets every accepted connection.
pub fn raw<F, Fut>(rt: &Runtime, behave: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = rt
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().unwrap();
    let behave = Arc::new(behave);
    rt.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let behave = behave.clone();
            tokio::spawn(async move { behave(stream).await });
        }
    });
    addr
}

/// Reads a request head (up to the blank line), 64 KiB at most.
pub async fn read_head<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) -> Vec<u8> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    head
}

/// A port that was bound and let go: connecting to it is refused.
pub fn refused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    listener.local_addr().unwrap().port()
}

/// Accepts, reads, never answers; holds the connection until the client leaves.
pub fn silent(rt: &Runtime) -> SocketAddr {
    raw(rt, |mut s| async move {
        let mut buf = [0u8; 4096];
        while let Ok(n) = s.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    })
}

/// Headers at once, then a 1000-byte body one byte every 100 ms.
pub fn dripping(rt: &Runtime) -> SocketAddr {
    raw(rt, |mut s| async move {
        read_head(&mut s).await;
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n";
        if s.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        for _ in 0..1000 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if s.write_all(b"x").await.is_err() || s.flush().await.is_err() {
                return;
            }
        }
    })
}

/// Headers announcing 100 000 bytes, 1000 of them, then a TCP reset (SO_LINGER 0).
pub fn resetting(rt: &Runtime) -> SocketAddr {
    raw(rt, |mut s| async move {
        read_head(&mut s).await;
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n";
        let _ = s.write_all(head.as_bytes()).await;
        let _ = s.write_all(&[b'x'; 1000]).await;
        let _ = s.flush().await;
        let _ = s.set_zero_linger();
        drop(s);
    })
}

/// 1 GiB announced and streamed, until the client goes away.
pub fn huge(rt: &Runtime) -> (SocketAddr, Arc<AtomicUsize>) {
    let written = Arc::new(AtomicUsize::new(0));
    let counter = written.clone();
    let addr = raw(rt, move |mut s| {
        let counter = counter.clone();
        async move {
            read_head(&mut s).await;
            let total: usize = 1 << 30;
            let head =
                format!("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {total}\r\n\r\n");
            if s.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = vec![b'a'; 64 * 1024];
            let mut sent = 0;
            while sent < total {
                if s.write_all(&chunk).await.is_err() {
                    return;
                }
                sent += chunk.len();
                counter.store(sent, Ordering::SeqCst);
            }
        }
    });
    (addr, written)
}

/// A gzip body of `decoded` zero bytes, as a single gzip member.
pub fn gzip_zeros(decoded: usize) -> Vec<u8> {
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    let block = vec![0u8; 1 << 20];
    let mut left = decoded;
    while left > 0 {
        let n = left.min(block.len());
        enc.write_all(&block[..n]).unwrap();
        left -= n;
    }
    enc.finish().unwrap()
}

/// Serves `body` with `Content-Encoding: gzip`.
pub fn gzip_server(rt: &Runtime, body: Vec<u8>) -> SocketAddr {
    let body = Arc::new(body);
    raw(rt, move |mut s| {
        let body = body.clone();
        async move {
            read_head(&mut s).await;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(&body).await;
            let _ = s.flush().await;
            // Let the client read, then close.
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
        }
    })
}

/// Answers every request with a 500 (keeping the connection), and reports it `after` that: the
/// client has had its answer for that long by the time the test hears of it.
pub fn failing(rt: &Runtime, after: Duration) -> (SocketAddr, mpsc::Receiver<()>, Arc<AtomicUsize>) {
    let (tx, rx) = mpsc::channel();
    let tx = Arc::new(Mutex::new(tx));
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    let addr = raw(rt, move |mut s| {
        let (tx, counter) = (tx.clone(), counter.clone());
        async move {
            while !read_head(&mut s).await.is_empty() {
                let answer = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nfail";
                if s.write_all(answer.as_bytes()).await.is_err() || s.flush().await.is_err() {
                    return;
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let tx = tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    let _ = tx.lock().unwrap().send(());
                });
            }
        }
    });
    (addr, rx, count)
}

/// Answers every request with bytes that are not HTTP.
pub fn garbage(rt: &Runtime) -> SocketAddr {
    raw(rt, |mut s| async move {
        read_head(&mut s).await;
        let _ = s
            .write_all(b"\x00\x17\xffSSH-2.0-not-http garbage \x01\x02\r\n\r\n")
            .await;
        let _ = s.flush().await;
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf).await;
    })
}

/// HTTPS on 127.0.0.1 with a self-signed certificate for `127.0.0.1` and `localhost`.
pub fn self_signed_tls(rt: &Runtime) -> SocketAddr {
    use tokio_rustls::rustls::{self, pki_types::PrivateKeyDer};
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .expect("self-signed certificate");
    let key = PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key)
            .expect("TLS server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    raw(rt, move |s| {
        let acceptor = acceptor.clone();
        async move {
            let Ok(mut tls) = acceptor.accept(s).await else {
                return;
            };
            read_head(&mut tls).await;
            let _ = tls
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecure")
                .await;
            let _ = tls.shutdown().await;
        }
    })
}
