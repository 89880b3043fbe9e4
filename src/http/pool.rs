//! The run's connections (docs/behaviour.md#the-http-client): one pool over hyper's connection API, as
//! oha drives it. A request checks a connection out for itself (HTTP/1.1) or shares one
//! (HTTP/2, chosen by ALPN), and an HTTP/1.1 connection comes back once its answer's body was
//! read whole, so the next sample takes it at once. hyper-util's pooled client did the same with
//! a keyed map, waiter queues and a race between checkout and connect on every request; a run has
//! a handful of origins and one request per connection at a time, so a short list under a lock
//! is all it needs (BENCHMARKS.md, "The measuring engine with its own pool").

use super::connect::{Connector, Established, Stream};
use super::error::{self, ConnectError};
use bytes::Bytes;
use http::uri::{Authority, Uri};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use reqwest::header::HeaderValue;
use std::sync::{Arc, Mutex};

type Body = Full<Bytes>;

/// Which connections can carry a request: same scheme, same host and port, as
/// `scheme://authority` in lower case, worked out once per prepared request (compared on every
/// checkout, so a plain byte comparison rather than `Authority`'s case-blind one).
#[derive(Debug, Clone)]
pub(crate) struct Origin(Arc<str>);

impl Origin {
    pub fn of(uri: &Uri) -> Option<Origin> {
        let scheme = uri.scheme_str().unwrap_or("http");
        let authority: &Authority = uri.authority()?;
        Some(Origin(
            format!("{scheme}://{authority}").to_ascii_lowercase().into(),
        ))
    }
}

impl PartialEq for Origin {
    fn eq(&self, other: &Origin) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

/// What a connection tells the request sent on it.
#[derive(Clone)]
pub(crate) struct Wire {
    /// What setting the connection up took.
    pub established: Arc<Established>,
    /// HTTP/2: the URI goes whole, no `Host` header.
    pub h2: bool,
    /// Plain HTTP through a proxy: the URI goes whole (absolute form), with the proxy's
    /// credentials when its URL has some.
    pub proxy: Option<Proxied>,
}

/// A connection to a proxy that takes plain HTTP requests for other hosts.
#[derive(Clone)]
pub(crate) struct Proxied {
    pub auth: Option<HeaderValue>,
}

/// A connection checked out for one request.
pub(crate) struct Lease {
    sender: Sender,
    pub wire: Wire,
    origin: Origin,
    /// Taken from the idle list rather than opened for this request.
    pub reused: bool,
}

enum Sender {
    H1(http1::SendRequest<Body>),
    H2(http2::SendRequest<Body>),
}

struct Idle {
    origin: Origin,
    /// HTTP/1.1 connections nobody is using.
    h1: Vec<(http1::SendRequest<Body>, Wire)>,
    /// HTTP/2 connections, shared by every request to the origin (the first open one is used).
    h2: Vec<(http2::SendRequest<Body>, Wire)>,
}

pub(crate) struct Pool {
    connector: Connector,
    /// Idle HTTP/1.1 connections kept per origin; more are closed when they come back.
    max_idle: usize,
    idle: Mutex<Vec<Idle>>,
}

/// Why a request got no answer, and whether it may go again on another connection.
pub(crate) struct Failed {
    pub message: String,
    /// A reused connection turned out dead (the server's keep-alive ran out as the request came):
    /// the request never left, or it was idempotent and the connection closed or was reset
    /// before any answer. A fresh connection may carry it, as curl and browsers do
    /// (docs/behaviour.md#the-http-client).
    pub retry: bool,
}

impl Pool {
    pub fn new(connector: Connector, max_idle: usize) -> Pool {
        Pool {
            connector,
            max_idle: max_idle.max(1),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// An open connection to `uri`'s origin: an idle one, else a new one. `fresh` skips the idle
    /// ones (after one closed under a request).
    pub async fn checkout(&self, uri: &Uri, origin: &Origin, fresh: bool) -> Result<Lease, String> {
        while !fresh && let Some(mut lease) = self.take_idle(origin) {
            match &mut lease.sender {
                // Its last answer was read; hyper may not have marked it ready yet.
                Sender::H1(sender) => {
                    if sender.ready().await.is_ok() {
                        return Ok(lease);
                    }
                }
                Sender::H2(_) => return Ok(lease),
            }
        }
        self.connect(uri, origin.clone()).await
    }

    fn take_idle(&self, origin: &Origin) -> Option<Lease> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let entry = idle.iter_mut().find(|i| i.origin == *origin)?;
        entry.h2.retain(|(sender, _)| !sender.is_closed());
        if let Some((sender, wire)) = entry.h2.first() {
            return Some(Lease {
                sender: Sender::H2(sender.clone()),
                wire: wire.clone(),
                origin: origin.clone(),
                reused: true,
            });
        }
        while let Some((sender, wire)) = entry.h1.pop() {
            if !sender.is_closed() {
                return Some(Lease {
                    sender: Sender::H1(sender),
                    wire,
                    origin: origin.clone(),
                    reused: true,
                });
            }
        }
        None
    }

    async fn connect(&self, uri: &Uri, origin: Origin) -> Result<Lease, String> {
        let stream: Stream = self
            .connector
            .connect(uri)
            .await
            .map_err(|e: ConnectError| e.to_string())?;
        let wire = Wire {
            established: stream.established(),
            h2: stream.h2(),
            proxy: stream.proxied().then(|| Proxied {
                auth: stream.proxy_auth(),
            }),
        };
        let io = TokioIo::new(stream);
        let handshake_failed = |e: hyper::Error| error::describe_exchange(&e);
        let sender = if wire.h2 {
            let (sender, conn) = http2::Builder::new(TokioExecutor::new())
                .timer(TokioTimer::new())
                .handshake(io)
                .await
                .map_err(handshake_failed)?;
            tokio::spawn(conn);
            self.keep(&origin, |idle| idle.h2.push((sender.clone(), wire.clone())));
            Sender::H2(sender)
        } else {
            let (sender, conn) = http1::handshake(io).await.map_err(handshake_failed)?;
            tokio::spawn(conn);
            Sender::H1(sender)
        };
        Ok(Lease {
            sender,
            wire,
            origin,
            reused: false,
        })
    }

    /// An HTTP/1.1 connection whose answer was read whole goes back to the idle list; an HTTP/2
    /// one never left it.
    pub fn give_back(&self, lease: Lease) {
        let Sender::H1(sender) = lease.sender else {
            return;
        };
        if sender.is_closed() {
            return;
        }
        let max = self.max_idle;
        self.keep(&lease.origin, |idle| {
            if idle.h1.len() < max {
                idle.h1.push((sender, lease.wire));
            }
        });
    }

    fn keep(&self, origin: &Origin, put: impl FnOnce(&mut Idle)) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let at = match idle.iter().position(|i| i.origin == *origin) {
            Some(at) => at,
            None => {
                idle.push(Idle {
                    origin: origin.clone(),
                    h1: Vec::new(),
                    h2: Vec::new(),
                });
                idle.len() - 1
            }
        };
        put(&mut idle[at]);
    }
}

impl Lease {
    /// Sends `request` and waits for the answer's head.
    pub async fn send(&mut self, request: hyper::Request<Body>) -> Result<hyper::Response<Incoming>, Failed> {
        let idempotent = request.method().is_idempotent();
        let result = match &mut self.sender {
            Sender::H1(sender) => sender.try_send_request(request).await,
            Sender::H2(sender) => sender.try_send_request(request).await,
        };
        result.map_err(|mut e| {
            let unsent = e.take_message().is_some();
            let error = e.into_error();
            Failed {
                retry: self.reused && (unsent || (idempotent && died_before_answering(&error))),
                message: error::describe_exchange(&error),
            }
        })
    }
}

/// The connection ended, or was reset, before any of an answer came.
fn died_before_answering(e: &hyper::Error) -> bool {
    if e.is_incomplete_message() {
        return true;
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
            );
        }
        cause = c.source();
    }
    false
}
