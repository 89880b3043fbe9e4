//! SIGINT and SIGTERM, watched from the first line of `main`: the first signal asks the tool to
//! stop cleanly (what finished is still reported); a second one exits at once.

use crate::exit::Code;
use tokio::sync::watch;

/// Why a run stopped early, if it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interruption {
    Sigint,
    Sigterm,
}

impl Interruption {
    /// The signal's name as the reports print it: `SIGINT`, `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            Interruption::Sigint => "SIGINT",
            Interruption::Sigterm => "SIGTERM",
        }
    }
}

impl From<Interruption> for Code {
    fn from(kind: Interruption) -> Code {
        match kind {
            Interruption::Sigint => Code::Interrupted,
            Interruption::Sigterm => Code::Terminated,
        }
    }
}

/// A handle on the signals received so far.
#[derive(Clone)]
pub struct Signals {
    rx: watch::Receiver<Option<Interruption>>,
}

impl Signals {
    /// Starts listening. Must run inside the tokio runtime.
    pub fn install() -> Signals {
        let (tx, rx) = watch::channel(None);
        let mut listener = Listener::new();
        tokio::spawn(async move {
            let mut received = 0;
            loop {
                let kind = listener.next().await;
                received += 1;
                if received > 1 {
                    // The user insists: no more waiting for in-flight requests or reports.
                    std::process::exit(Code::from(kind).as_i32());
                }
                let _ = tx.send(Some(kind));
            }
        });
        Signals { rx }
    }

    /// The first signal received, if any.
    pub fn received(&self) -> Option<Interruption> {
        *self.rx.borrow()
    }

    /// Completes when a signal arrives (at once if one already has).
    pub async fn wait(&self) -> Interruption {
        let mut rx = self.rx.clone();
        loop {
            if let Some(kind) = *rx.borrow_and_update() {
                return kind;
            }
            if rx.changed().await.is_err() {
                // The listener is gone: no signal will ever come.
                std::future::pending::<()>().await;
            }
        }
    }
}

/// The OS signal streams, registered once so no signal falls between two waits.
struct Listener {
    #[cfg(unix)]
    streams: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Listener {
    #[cfg(unix)]
    fn new() -> Listener {
        use tokio::signal::unix::{SignalKind, signal};
        let streams = signal(SignalKind::interrupt()).and_then(|i| Ok((i, signal(SignalKind::terminate())?)));
        Listener {
            streams: streams.ok(),
        }
    }

    #[cfg(unix)]
    async fn next(&mut self) -> Interruption {
        match &mut self.streams {
            Some((int, term)) => tokio::select! {
                _ = int.recv() => Interruption::Sigint,
                _ = term.recv() => Interruption::Sigterm,
            },
            // No handler could be installed: the default action (exit) stays in force.
            None => std::future::pending().await,
        }
    }

    #[cfg(not(unix))]
    fn new() -> Listener {
        Listener {}
    }

    #[cfg(not(unix))]
    async fn next(&mut self) -> Interruption {
        let _ = tokio::signal::ctrl_c().await;
        Interruption::Sigint
    }
}
