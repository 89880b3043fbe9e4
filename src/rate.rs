//! A request rate, as `rate:` and `--rate` write it: `20/s`, `600/m`, `1000/h`
//! (docs/suites.md#rate). Under a rate, samples are sent open-loop: sample k is due at
//! start + k / rate, whether or not the earlier ones have answered.

use std::fmt;
use std::time::Duration;

/// Requests per second, and the form the user wrote, for messages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    per_second: f64,
    count: f64,
    unit: Unit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Second,
    Minute,
    Hour,
}

impl Unit {
    fn seconds(self) -> f64 {
        match self {
            Unit::Second => 1.0,
            Unit::Minute => 60.0,
            Unit::Hour => 3600.0,
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Unit::Second => "s",
            Unit::Minute => "m",
            Unit::Hour => "h",
        }
    }
}

/// Below this share of the asked rate, the check fails (docs/suites.md#rate).
pub const REACHED_SHARE: f64 = 0.9;

impl Rate {
    /// Parses `N/s`, `N/m` or `N/h` (N a positive number), or says what is wrong.
    pub fn parse(text: &str) -> Result<Rate, String> {
        let bad = || format!("invalid rate {text:?} (write e.g. 20/s, 600/m, 1000/h)");
        let (count, unit) = text.trim().split_once('/').ok_or_else(bad)?;
        let count: f64 = count.trim().parse().map_err(|_| bad())?;
        let unit = match unit.trim() {
            "s" => Unit::Second,
            "m" => Unit::Minute,
            "h" => Unit::Hour,
            _ => return Err(bad()),
        };
        if !(count.is_finite() && count > 0.0 && count <= 1.0e7) {
            return Err(bad());
        }
        Ok(Rate {
            per_second: count / unit.seconds(),
            count,
            unit,
        })
    }

    pub fn per_second(self) -> f64 {
        self.per_second
    }

    /// When sample `k` (from 0) is due, after the first.
    pub fn due(self, k: usize) -> Duration {
        Duration::from_secs_f64(k as f64 / self.per_second)
    }

    /// The same rate, shown in this one's unit (`143/s`).
    pub fn show_per_second(self, per_second: f64) -> String {
        let value = per_second * self.unit.seconds();
        let shown = if value >= 100.0 || (value - value.round()).abs() < 0.05 {
            format!("{}", value.round() as u64)
        } else {
            format!("{value:.1}")
        };
        format!("{shown}/{}", self.unit.suffix())
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.show_per_second(self.per_second))
    }
}

/// Samples per second: `sent` samples over `span`, from the first due time to the last send.
pub fn achieved(sent: usize, span: Duration) -> f64 {
    sent as f64 / span.as_secs_f64().max(f64::MIN_POSITIVE)
}

/// `rate 200/s not reached: 143/s` when `sent` samples over `span` (first due time to last
/// send) fall below [`REACHED_SHARE`] of `asked`.
pub fn not_reached(asked: Rate, sent: usize, span: Duration) -> Option<String> {
    if sent < 2 {
        return None;
    }
    let achieved = achieved(sent, span);
    (achieved < asked.per_second * REACHED_SHARE)
        .then(|| format!("rate {asked} not reached: {}", asked.show_per_second(achieved)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_in_three_units() {
        assert_eq!(Rate::parse("20/s").unwrap().per_second(), 20.0);
        assert_eq!(Rate::parse("600/m").unwrap().per_second(), 10.0);
        assert_eq!(Rate::parse("3600/h").unwrap().per_second(), 1.0);
        assert_eq!(Rate::parse(" 2.5/s ").unwrap().to_string(), "2.5/s");
        assert_eq!(Rate::parse("600/m").unwrap().to_string(), "600/m");
        for bad in ["20", "0/s", "-1/s", "x/s", "20/d", "/s", "inf/s"] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn samples_are_due_on_the_schedule() {
        let r = Rate::parse("20/s").unwrap();
        assert_eq!(r.due(0), Duration::ZERO);
        assert_eq!(r.due(10), Duration::from_millis(500));
    }

    #[test]
    fn a_rate_below_ninety_percent_is_not_reached() {
        let r = Rate::parse("200/s").unwrap();
        assert_eq!(
            not_reached(r, 143, Duration::from_secs(1)).as_deref(),
            Some("rate 200/s not reached: 143/s")
        );
        assert_eq!(not_reached(r, 180, Duration::from_secs(1)), None);
        assert_eq!(not_reached(r, 1, Duration::ZERO), None);
    }
}
