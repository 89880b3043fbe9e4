//! Durations as users write them: `250ms`, `2s`, `1.5s`, `1m`; a bare integer means milliseconds.

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
            None => Err(format!(
                "invalid duration {n} (a whole, non-negative number of milliseconds)"
            )),
        },
        serde_yaml::Value::String(s) => parse(s),
        other => Err(format!(
            "invalid duration {} (write e.g. 250ms, 2s)",
            crate::suite::yaml_kind(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
