//! `--listen ADDR` (docs/monitor.md#listen): while the monitor runs, an HTTP server on its own
//! task serves the latest round: `/metrics`, `/status`, `/healthz` and `/`.
//!
//! The monitor only ever sends the latest [`Published`] round into a `watch` channel; the server
//! reads the newest value when a request comes in. A scrape therefore never waits for a round and
//! a round never waits for a scrape (a slow reader holds one connection, nothing else). Each
//! round's answers are rendered once, on the blocking pool, on the first request that wants
//! them, and kept until the next round replaces them, so memory holds one round's renderings.
//!
//! Every answer goes through the one masking path: the report is masked before it is rendered
//! (`report::mask`) and the bytes pass the redacting writer, as a report file's do.

use super::publish::{Published, Subscriber};
use crate::error::Error;
use crate::redact::Redactor;
use crate::report::{self, RunReport};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use std::future::Future;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// The content type of `/metrics` (OpenMetrics 1.0, which Prometheus asks for first).
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The shortest `Refresh` the `/` page asks a browser for, however short `--every` is.
const MIN_REFRESH: Duration = Duration::from_secs(5);

/// `--listen ADDR`, read as Prometheus exporters read it: `HOST:PORT` with an IP address
/// (`127.0.0.1:9464`, `[::1]:9464`), `localhost:PORT`, or `:PORT` for every interface. Names
/// other than `localhost` are refused rather than looked up: a listening address is a local fact.
pub fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    let bad = |why: &str| {
        format!(
            "--listen {text}: {why}; expected HOST:PORT such as 127.0.0.1:9464, [::1]:9464, or :9464 for every interface"
        )
    };
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let (host, port) = text.rsplit_once(':').ok_or_else(|| bad("no port"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| bad("the port is not a number from 0 to 65535"))?;
    let ip = match host {
        "" => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        h if h.eq_ignore_ascii_case("localhost") => IpAddr::V4(Ipv4Addr::LOCALHOST),
        h => h
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| bad("the host is not an IP address"))?,
    };
    Ok(SocketAddr::new(ip, port))
}

/// A bound socket, not yet serving: binding comes first, so a taken port or a bad address is a
/// usage error (exit 2) before the safety delay and before any request is sent.
pub struct Listener {
    socket: tokio::net::TcpListener,
    addr: SocketAddr,
}

impl Listener {
    /// Binds `--listen ADDR`.
    pub async fn bind(text: &str) -> Result<Listener, Error> {
        let wanted = parse_addr(text).map_err(Error::Usage)?;
        let socket = tokio::net::TcpListener::bind(wanted)
            .await
            .map_err(|e| Error::Usage(bind_error(text, &e)))?;
        let addr = socket
            .local_addr()
            .map_err(|e| Error::Usage(bind_error(text, &e)))?;
        Ok(Listener { socket, addr })
    }

    /// The address bound, with the port the system picked for port 0.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, as the `Listening on` line shows it.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

fn bind_error(text: &str, e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    let why = match e.kind() {
        ErrorKind::AddrInUse => {
            "the address is already in use (another process listens on that port)".to_string()
        }
        ErrorKind::AddrNotAvailable => "the address is not one of this machine's".to_string(),
        ErrorKind::PermissionDenied => "permission denied (ports below 1024 need privileges)".to_string(),
        _ => e.to_string(),
    };
    format!("--listen {text}: cannot listen: {why}")
}

/// The server task; it stops when this is dropped (connections kept alive by a scraper must not
/// hold the monitor's exit).
pub struct Server {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts serving on its own task until `shutdown` completes (or the [`Server`] is dropped).
/// `every` is `--every`: the `/` page asks the browser to reload that often (at least every 5 s).
pub fn serve(
    listener: Listener,
    latest: Subscriber,
    redactor: Redactor,
    every: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Server {
    let state = Arc::new(Endpoints {
        latest,
        redactor,
        refresh: refresh_seconds(every),
        rendered: Mutex::new(None),
    });
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/status", get(status))
        .route("/healthz", get(healthz))
        .route("/", get(page))
        .fallback(not_found)
        .with_state(state);
    let task = tokio::spawn(async move {
        // Not a graceful shutdown: a scraper's kept-alive connection must not hold the exit.
        // An accept error is retried by axum, so serving only ends here.
        tokio::select! {
            _ = axum::serve(listener.socket, app) => {}
            _ = shutdown => {}
        }
    });
    Server { task }
}

fn refresh_seconds(every: Duration) -> u64 {
    every.max(MIN_REFRESH).as_secs_f64().ceil() as u64
}

/// What the handlers share.
struct Endpoints {
    latest: Subscriber,
    redactor: Redactor,
    refresh: u64,
    /// The renderings of the round last asked for.
    rendered: Mutex<Option<Arc<Rendered>>>,
}

impl Endpoints {
    /// The latest round's renderings (made on first use), or `None` before the first round.
    fn current(&self) -> Option<Arc<Rendered>> {
        let latest = self.latest.borrow().clone()?;
        let mut slot = self.rendered.lock().unwrap_or_else(|e| e.into_inner());
        match slot.as_ref() {
            Some(r) if Arc::ptr_eq(&r.published, &latest) => Some(r.clone()),
            _ => {
                let fresh = Arc::new(Rendered {
                    published: latest,
                    redactor: self.redactor.clone(),
                    masked: OnceLock::new(),
                    status: OnceLock::new(),
                    page: OnceLock::new(),
                    metrics: OnceLock::new(),
                });
                *slot = Some(fresh.clone());
                Some(fresh)
            }
        }
    }
}

/// One round's answers, each rendered at most once.
struct Rendered {
    published: Arc<Published>,
    redactor: Redactor,
    masked: OnceLock<RunReport>,
    status: OnceLock<Bytes>,
    page: OnceLock<Bytes>,
    metrics: OnceLock<Bytes>,
}

#[derive(Clone, Copy)]
enum Kind {
    Status,
    Page,
    Metrics,
}

impl Rendered {
    fn masked(&self) -> &RunReport {
        self.masked
            .get_or_init(|| report::mask::masked(&self.published.report, &self.redactor))
    }

    fn get(&self, kind: Kind) -> Bytes {
        let (cell, render): (_, &Render) = match kind {
            Kind::Status => (&self.status, &|w| report::json::render(self.masked(), w)),
            Kind::Page => (&self.page, &|w| report::html::render(self.masked(), w)),
            Kind::Metrics => (&self.metrics, &|w| w.write_all(self.published.metrics.as_bytes())),
        };
        cell.get_or_init(|| masked_bytes(&self.redactor, render)).clone()
    }
}

/// A reporter writing one rendering.
type Render<'a> = dyn Fn(&mut dyn Write) -> std::io::Result<()> + 'a;

/// What `render` writes, through the redacting writer (the second line of defence).
fn masked_bytes(redactor: &Redactor, render: &Render) -> Bytes {
    let mut buf = Vec::new();
    {
        let mut w = redactor.writer(&mut buf);
        // Writing into memory fails only if a renderer does; what was written is still served.
        let _ = render(&mut w);
        let _ = w.flush();
    }
    Bytes::from(buf)
}

/// The latest round's `kind`, rendered off the async workers so a big page never stalls a round.
async fn rendered(state: &Endpoints, kind: Kind) -> Option<Bytes> {
    let current = state.current()?;
    tokio::task::spawn_blocking(move || current.get(kind)).await.ok()
}

fn answer(status: StatusCode, content_type: &'static str, body: impl Into<axum::body::Body>) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body.into(),
    )
        .into_response()
}

const TEXT: &str = "text/plain; charset=utf-8";
const NO_ROUND_YET: &str = "no round has finished yet\n";

/// Before the first round: every family's `# TYPE`/`# HELP` and no sample, so the scrape
/// succeeds (`up` is 1: the monitor is alive) and nothing unmeasured reads as a value.
async fn metrics(State(state): State<Arc<Endpoints>>) -> Response {
    match rendered(&state, Kind::Metrics).await {
        Some(body) => answer(StatusCode::OK, OPENMETRICS, body),
        None => answer(
            StatusCode::OK,
            OPENMETRICS,
            report::metrics::openmetrics_unmeasured(),
        ),
    }
}

async fn status(State(state): State<Arc<Endpoints>>) -> Response {
    match rendered(&state, Kind::Status).await {
        Some(body) => answer(StatusCode::OK, "application/json", body),
        None => answer(StatusCode::SERVICE_UNAVAILABLE, TEXT, NO_ROUND_YET),
    }
}

async fn healthz(State(state): State<Arc<Endpoints>>) -> Response {
    let round = state.latest.borrow().as_ref().map(|p| p.round);
    match round {
        Some(round) => answer(StatusCode::OK, TEXT, format!("ok: round {round} finished\n")),
        None => answer(StatusCode::SERVICE_UNAVAILABLE, TEXT, NO_ROUND_YET),
    }
}

async fn page(State(state): State<Arc<Endpoints>>) -> Response {
    let mut response = match rendered(&state, Kind::Page).await {
        Some(body) => answer(StatusCode::OK, "text/html; charset=utf-8", body),
        None => answer(StatusCode::OK, "text/html; charset=utf-8", WAITING_PAGE),
    };
    // The page follows the rounds without a script: browsers reload on a `Refresh` header.
    if let Ok(v) = HeaderValue::from_str(&state.refresh.to_string()) {
        response.headers_mut().insert("refresh", v);
    }
    response
}

async fn not_found() -> Response {
    answer(
        StatusCode::NOT_FOUND,
        TEXT,
        "not found; this monitor serves /, /status, /metrics and /healthz\n",
    )
}

/// `/` before the first round.
const WAITING_PAGE: &str = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"color-scheme\" content=\"light dark\"><title>endpoint-check monitor</title></head>\
<body><h1>endpoint-check monitor</h1><p>No round has finished yet; this page reloads by itself.</p>\
</body></html>\n";

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::watch;

    #[test]
    fn addresses_read_as_exporters_read_them() {
        let ok = |s: &str| parse_addr(s).unwrap().to_string();
        assert_eq!(ok("127.0.0.1:9464"), "127.0.0.1:9464");
        assert_eq!(ok("[::1]:0"), "[::1]:0");
        assert_eq!(ok(":9464"), "0.0.0.0:9464");
        assert_eq!(ok("localhost:80"), "127.0.0.1:80");
        for bad in [
            "9464",
            "127.0.0.1",
            "127.0.0.1:99999",
            "example.com:80",
            "1.2.3:80",
        ] {
            let e = parse_addr(bad).unwrap_err();
            assert!(e.starts_with(&format!("--listen {bad}: ")), "{e}");
        }
    }

    /// GET `path` over HTTP/1.0: the status, the content type and the body.
    async fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).await.unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        let code = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        let content_type = head
            .lines()
            .find_map(|l| l.strip_prefix("content-type: "))
            .unwrap_or_default();
        (code, content_type.to_string(), body.to_string())
    }

    fn published(round: u64, secret: &str) -> Arc<Published> {
        let mut check =
            report::CheckReport::failed_unsent(format!("GET /x?key={secret}"), 3, false, "no".into());
        check.status = report::CheckStatus::Failed;
        let report = RunReport {
            title: "T".into(),
            environment: "production".into(),
            base_url: "http://127.0.0.1:1".into(),
            base_url_source: "--base-url".into(),
            duration_ms: 1.0,
            suites: vec![report::SuiteReport {
                customer: "acme".into(),
                title: "Acme".into(),
                file: "suites/acme.yaml".into(),
                checks: vec![check],
            }],
            interrupted: None,
            origin: report::across::Origin::now(None, "r".into()),
        };
        let metrics = format!("endpoint_check_check_success{{check=\"GET /x?key={secret}\"}} 0\n# EOF\n");
        Arc::new(Published {
            round,
            report: Arc::new(report),
            metrics,
        })
    }

    #[tokio::test]
    async fn before_and_after_the_first_round() {
        let secret = "s3cr3t-listen-value";
        let redactor = Redactor::new();
        redactor.add(secret);
        let (tx, rx) = watch::channel(None);
        let listener = Listener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.addr();
        assert_ne!(addr.port(), 0);
        let _server = serve(
            listener,
            rx,
            redactor,
            Duration::from_secs(1),
            std::future::pending(),
        );

        assert_eq!(get(addr, "/healthz").await.0, 503);
        assert_eq!(get(addr, "/status").await.0, 503);
        let (code, ty, body) = get(addr, "/metrics").await;
        assert_eq!((code, ty.as_str()), (200, OPENMETRICS));
        assert!(
            body.contains("# TYPE endpoint_check_check_success gauge"),
            "{body}"
        );
        assert_eq!(get(addr, "/").await.0, 200);
        assert_eq!(get(addr, "/nothing").await.0, 404);

        tx.send_replace(Some(published(1, secret)));
        let (code, _, body) = get(addr, "/healthz").await;
        assert_eq!((code, body.as_str()), (200, "ok: round 1 finished\n"));
        let (code, ty, body) = get(addr, "/status").await;
        assert_eq!((code, ty.as_str()), (200, "application/json"));
        let doc = report::read::parse(&body).unwrap();
        assert_eq!(doc.suites[0].checks[0].name, "GET /x?key=***");
        let (_, _, metrics) = get(addr, "/metrics").await;
        assert!(metrics.contains("key=***"), "{metrics}");
        let (_, ty, html) = get(addr, "/").await;
        assert_eq!(ty, "text/html; charset=utf-8");
        for body in [&metrics, &html] {
            assert!(!body.contains(secret), "{body}");
        }

        tx.send_replace(Some(published(2, secret)));
        assert_eq!(get(addr, "/healthz").await.2, "ok: round 2 finished\n");
    }

    #[tokio::test]
    async fn a_taken_port_is_a_usage_error() {
        let taken = Listener::bind("127.0.0.1:0").await.unwrap();
        let text = taken.addr().to_string();
        let Err(e) = Listener::bind(&text).await else {
            panic!("bound {text} twice")
        };
        assert_eq!(e.exit_code(), crate::exit::Code::Usage);
        assert!(e.to_string().contains("already in use"), "{e}");
    }

    #[test]
    fn the_page_reloads_at_most_every_five_seconds() {
        assert_eq!(refresh_seconds(Duration::from_millis(1)), 5);
        assert_eq!(refresh_seconds(Duration::from_millis(30_500)), 31);
    }
}
