//! Latency figures: percentiles by the nearest-rank method (README, "Samples and SLA").

/// Latency figures over the samples that got a full response, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct LatencyStats {
    pub min: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

/// The p-th percentile of `sorted` (ascending): the value at rank `ceil(p/100 × n)`.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, n) - 1])
}

/// min/p50/p90/p95/p99/max over latencies in milliseconds (sorted here).
pub fn latency_stats(latencies_ms: &mut [f64]) -> Option<LatencyStats> {
    latencies_ms.sort_by(|a, b| a.total_cmp(b));
    let s = &*latencies_ms;
    Some(LatencyStats {
        min: *s.first()?,
        p50: percentile(s, 50.0)?,
        p90: percentile(s, 90.0)?,
        p95: percentile(s, 95.0)?,
        p99: percentile(s, 99.0)?,
        max: *s.last()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_on_known_vectors() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7.0], 50.0), Some(7.0));
        assert_eq!(percentile(&[7.0], 99.0), Some(7.0));
        // n = 2: p50 is rank 1, p90 rank 2.
        assert_eq!(percentile(&[1.0, 2.0], 50.0), Some(1.0));
        assert_eq!(percentile(&[1.0, 2.0], 90.0), Some(2.0));
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&ten, 50.0), Some(5.0));
        assert_eq!(percentile(&ten, 90.0), Some(9.0));
        assert_eq!(percentile(&ten, 95.0), Some(10.0));
        assert_eq!(percentile(&ten, 99.0), Some(10.0));
        let hundred: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&hundred, 50.0), Some(50.0));
        assert_eq!(percentile(&hundred, 95.0), Some(95.0));
        assert_eq!(percentile(&hundred, 99.0), Some(99.0));
        assert_eq!(percentile(&hundred, 100.0), Some(100.0));
    }

    #[test]
    fn ties_and_unsorted_input() {
        let mut v = vec![5.0, 1.0, 5.0, 5.0, 2.0];
        let s = latency_stats(&mut v).unwrap();
        assert_eq!((s.min, s.p50, s.p90, s.max), (1.0, 5.0, 5.0, 5.0));
        assert_eq!(latency_stats(&mut []), None);
    }
}
