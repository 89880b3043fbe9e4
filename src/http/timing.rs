//! The phases of one exchange (docs/behaviour.md#phases): name lookup, TCP connect, TLS
//! handshake, time to first byte and transfer, from timestamps taken where they happen (the
//! connector's, and the client's when the response head and the body's end arrive). Each phase
//! starts where the one before ended, so the phases add up to the exchange's latency.

use super::connect::Established;
use std::time::{Duration, Instant};

/// The phases of an exchange; a phase that did not happen is `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// Name lookup; `None` for an IP address or a reused connection.
    pub dns: Option<Duration>,
    /// TCP connect (and a proxy's CONNECT tunnel); `None` on a reused connection.
    pub connect: Option<Duration>,
    /// TLS handshake; `None` on `http://` or a reused connection.
    pub tls: Option<Duration>,
    /// From the connection being ready (the request written) to the response head.
    pub ttfb: Duration,
    /// From the response head to the end of the body.
    pub transfer: Duration,
    /// No new connection was opened for the exchange.
    pub reused: bool,
}

/// The names of the phases, in order, as reports and `expect.timings` write them.
pub const PHASES: [&str; 5] = ["dns", "connect", "tls", "ttfb", "transfer"];

impl Timings {
    /// The phase named `name` (one of [`PHASES`]), `None` when it did not happen.
    pub fn phase(&self, name: &str) -> Option<Duration> {
        match name {
            "dns" => self.dns,
            "connect" => self.connect,
            "tls" => self.tls,
            "ttfb" => Some(self.ttfb),
            "transfer" => Some(self.transfer),
            _ => None,
        }
    }

    /// Every phase with its name, `None` for those that did not happen.
    pub fn phases(&self) -> [(&'static str, Option<Duration>); 5] {
        PHASES.map(|name| (name, self.phase(name)))
    }

    /// The sum of the phases.
    pub fn total(&self) -> Duration {
        // Every sample asks: summed directly, not through the phases' names.
        let setup = [self.dns, self.connect, self.tls];
        setup.into_iter().flatten().sum::<Duration>() + self.ttfb + self.transfer
    }

    /// The `-v` line: `dns 1.2 ms, connect 0.4 ms, tls 9.8 ms, first byte 41 ms, transfer 2.0 ms`,
    /// or `reused connection, first byte 41 ms, transfer 2.0 ms`.
    pub fn describe(&self) -> String {
        let ms = |d: Duration| crate::duration::fmt_phase_ms(d.as_secs_f64() * 1000.0);
        let mut parts = Vec::new();
        if self.reused {
            parts.push("reused connection".to_string());
        }
        for (label, phase) in [("dns", self.dns), ("connect", self.connect), ("tls", self.tls)] {
            if let Some(d) = phase {
                parts.push(format!("{label} {}", ms(d)));
            }
        }
        parts.push(format!("first byte {}", ms(self.ttfb)));
        parts.push(format!("transfer {}", ms(self.transfer)));
        parts.join(", ")
    }

    /// Adds the phases of a later redirect hop: the exchange's phases are the sums over its hops.
    pub(crate) fn then(self, hop: Timings) -> Timings {
        let add = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or_default() + b.unwrap_or_default()),
        };
        Timings {
            dns: add(self.dns, hop.dns),
            connect: add(self.connect, hop.connect),
            tls: add(self.tls, hop.tls),
            ttfb: self.ttfb + hop.ttfb,
            transfer: self.transfer + hop.transfer,
            reused: self.reused && hop.reused,
        }
    }
}

/// The phases of one request up to its response head: it was handed to the client at
/// `started`, on a connection set up as `conn` says (`reused` when the pool had it idle rather
/// than opening it for this request), and its head came at `head`. The time before the
/// connector started (the pool's, or a dead kept connection's) counts in the first phase that
/// happened.
pub(crate) fn up_to_head(started: Instant, conn: &Established, reused: bool, head: Instant) -> Timings {
    let since = |later: Instant, earlier: Instant| later.saturating_duration_since(earlier);
    if reused {
        return Timings {
            ttfb: since(head, started),
            reused: true,
            ..Timings::default()
        };
    }
    let dns = conn.resolved.map(|at| since(at, started));
    let connect_from = conn.resolved.unwrap_or(started);
    let ready = conn.secured.unwrap_or(conn.connected);
    Timings {
        dns,
        connect: Some(since(conn.connected, connect_from)),
        tls: conn.secured.map(|at| since(at, conn.connected)),
        ttfb: since(head, ready),
        transfer: Duration::ZERO,
        reused: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hops_add_up_and_reuse_needs_every_hop_reused() {
        let ms = Duration::from_millis;
        let first = Timings {
            dns: None,
            connect: Some(ms(1)),
            tls: None,
            ttfb: ms(10),
            transfer: ms(0),
            reused: false,
        };
        let second = Timings {
            ttfb: ms(5),
            transfer: ms(2),
            reused: true,
            ..Timings::default()
        };
        let both = first.then(second);
        assert_eq!(both.connect, Some(ms(1)));
        assert_eq!(both.dns, None);
        assert_eq!(both.total(), ms(18));
        assert!(!both.reused);
        assert_eq!(
            second.describe(),
            "reused connection, first byte 5.0 ms, transfer 2.0 ms"
        );
        assert_eq!(
            first.describe(),
            "connect 1.0 ms, first byte 10 ms, transfer 0.0 ms"
        );
    }
}
