//! Durations: read as users write them (`250ms`, `2s`, `1.5s`, `1m`; a bare integer means
//! milliseconds), and written for people in two forms: measured times spaced as a report shows
//! them ([`fmt_ms`]: `43 ms`, `2.31 s`) and settings as a user writes them ([`fmt_compact`]:
//! `250ms`, `1.5s`, `2m 5s`). Both write seconds by one number rule, [`decimal`].

use std::time::Duration;

/// Parses a duration, or says what is wrong with it.
pub fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let bad = || format!("invalid duration {text:?} (write e.g. 250ms, 2s, 1.5s, 1m)");
    if t.is_empty() {
        return Err(bad());
    }
    if let Ok(ms) = t.parse::<u64>() {
        return Ok(Duration::from_millis(ms));
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(bad)?;
    let (number, unit) = t.split_at(split);
    let value: f64 = number.parse().map_err(|_| bad())?;
    let scale = match unit.trim() {
        "ms" => 0.001,
        "s" | "sec" | "secs" => 1.0,
        "m" | "min" | "mins" => 60.0,
        "h" => 3600.0,
        "us" | "µs" => 0.000_001,
        // Compound forms like `1m30s` are humantime's.
        _ => return humantime::parse_duration(t).map_err(|_| bad()),
    };
    let secs = value * scale;
    if !secs.is_finite() || secs > 1.0e9 {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A duration from a YAML value: a string as [`parse`], or a number of milliseconds.
pub fn from_yaml(value: &serde_yaml::Value) -> Result<Duration, String> {
    match value {
        serde_yaml::Value::Number(n) => match n.as_u64() {
            Some(ms) => Ok(Duration::from_millis(ms)),
            None if n.is_f64() && n.as_f64().is_some_and(|v| v > 0.0) => Err(format!(
                "invalid duration {n}: a bare number means whole milliseconds; write `{n}s` for seconds"
            )),
            None => Err(format!(
                "invalid duration {n} (a whole, non-negative number of milliseconds)"
            )),
        },
        serde_yaml::Value::String(s) => parse(s),
        other => Err(format!(
            "invalid duration {} (write e.g. 250ms, 2s)",
            crate::yaml::kind(other)
        )),
    }
}

/// Milliseconds as a report shows a measured time: `0 ms`, `<1 ms`, `43 ms`, `2.31 s`.
pub fn fmt_ms(ms: f64) -> String {
    if ms < 1.0 {
        if ms <= 0.0 { "0 ms".into() } else { "<1 ms".into() }
    } else if ms < 1000.0 {
        format!("{} ms", ms.round() as u64)
    } else {
        format!("{} s", decimal(ms / 1000.0, 2))
    }
}

/// A phase of an exchange (docs/behaviour.md#phases): one decimal under 10 ms (`0.4 ms`,
/// `9.8 ms`), whole milliseconds under a second (`41 ms`), then as [`fmt_ms`] (`2.31 s`).
pub fn fmt_phase_ms(ms: f64) -> String {
    if ms < 10.0 {
        format!("{:.1} ms", ms.max(0.0))
    } else {
        fmt_ms(ms)
    }
}

/// A duration as [`fmt_ms`] writes it: `43 ms`, `2.31 s`.
pub fn fmt(d: Duration) -> String {
    fmt_ms(d.as_secs_f64() * 1000.0)
}

/// A duration in the compact form a user writes it in a flag or a suite (and [`parse`] reads
/// back): `250ms`, `1.5s`, `2s`, `2m 5s`.
pub fn fmt_compact(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{}s", decimal(d.as_secs_f64(), 1))
    } else if d.as_secs() < 3600 {
        let secs = d.as_secs();
        match secs % 60 {
            0 => format!("{}m", secs / 60),
            rest => format!("{}m {rest}s", secs / 60),
        }
    } else {
        // Hours and minutes: a monitor's window or a check failing since the night before.
        let mins = d.as_secs() / 60;
        match mins % 60 {
            0 => format!("{}h", mins / 60),
            rest => format!("{}h {rest}m", mins / 60),
        }
    }
}

/// The number rule for durations people read: rounded to at most `places` decimals, with
/// trailing zeros (and a bare point) dropped: `2.31`, `2.3`, `2`.
pub fn decimal(value: f64, places: usize) -> String {
    let text = format!("{value:.places$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measured_times_read_like_the_reports() {
        assert_eq!(fmt_ms(43.2), "43 ms");
        assert_eq!(fmt_ms(43.4), "43 ms");
        assert_eq!(fmt_ms(2310.2), "2.31 s");
        assert_eq!(fmt_ms(2000.0), "2 s");
        assert_eq!(fmt_ms(0.3), "<1 ms");
        assert_eq!(fmt_ms(0.0), "0 ms");
        assert_eq!(fmt(Duration::from_millis(1500)), "1.5 s");
    }

    #[test]
    fn settings_read_as_written() {
        assert_eq!(fmt_compact(Duration::from_millis(250)), "250ms");
        assert_eq!(fmt_compact(Duration::from_millis(1500)), "1.5s");
        assert_eq!(fmt_compact(Duration::from_millis(1270)), "1.3s");
        assert_eq!(fmt_compact(Duration::from_millis(2960)), "3s");
        assert_eq!(fmt_compact(Duration::from_secs(2)), "2s");
        assert_eq!(fmt_compact(Duration::from_secs(60)), "1m");
        assert_eq!(fmt_compact(Duration::from_secs(125)), "2m 5s");
        assert_eq!(fmt_compact(Duration::from_secs(3600)), "1h");
        assert_eq!(fmt_compact(Duration::from_secs(3600 * 26 + 300 + 7)), "26h 5m");
        for d in ["250ms", "1.5s", "2s", "1m", "2m 5s", "1h", "1h 5m"] {
            assert_eq!(fmt_compact(parse(d).unwrap()), d, "{d} reads back");
        }
    }

    #[test]
    fn forms() {
        assert_eq!(parse("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse("1m").unwrap(), Duration::from_secs(60));
        assert_eq!(parse("1500").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse("1m30s").unwrap(), Duration::from_secs(90));
        assert!(parse("fast").is_err());
        assert!(parse("-1s").is_err());
        assert!(parse("").is_err());
    }
}
