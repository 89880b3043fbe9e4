//! Latency figures: exact percentiles by the nearest-rank method (docs/suites.md#samples-and-sla),
//! and [`LatencyHistogram`], the mergeable record of every sample that reports carry so runs
//! from many places combine into one verdict.

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

/// Every sample's latency as an HdrHistogram: microseconds, 3 significant digits, 1 µs to 1 hour.
/// Its standard V2 deflate interchange form (base64) is what any HdrHistogram library reads.
/// Shared until written to: reports are cloned whole (to mask them, per monitor round) and a
/// copy of the counts each time was most of what a clone cost.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyHistogram(std::sync::Arc<hdrhistogram::Histogram<u64>>);

/// The tag of the interchange form in a report (`"encoding"`).
pub const HISTOGRAM_ENCODING: &str = "hdr-v2-deflate-base64";

/// The histogram's range and precision: 1 µs to 1 hour, 3 significant digits.
const HIGHEST_US: u64 = 3_600_000_000;
const SIGNIFICANT_DIGITS: u8 = 3;

/// The V2 interchange format (HdrHistogram's standard): the cookie of its deflated form, and
/// where the highest trackable value sits in the uncompressed header (after the cookie, the
/// payload length, the normalizing offset, the digits and the lowest value).
const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9304 | 0x10;
const V2_HIGHEST: std::ops::Range<usize> = 24..32;

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram::new()
    }
}

impl LatencyHistogram {
    /// An empty histogram that grows to the largest latency recorded: allocating 1 µs to 1 hour
    /// up front costs ~360 KB per check (a suite of 200 checks spent most of its CPU clearing
    /// and copying them). Its buckets are the same (they depend on the lowest value and the
    /// digits only), and [`LatencyHistogram::encode`] writes the full range.
    pub fn new() -> Self {
        let h = hdrhistogram::Histogram::new(SIGNIFICANT_DIGITS).expect("3 digits are valid");
        LatencyHistogram(std::sync::Arc::new(h))
    }

    /// Records one latency; anything beyond the range counts at its edge, so no sample is lost.
    pub fn record_ms(&mut self, ms: f64) {
        let us = (ms * 1000.0).round().clamp(1.0, HIGHEST_US as f64) as u64;
        self.record_us(us, 1);
    }

    /// `n` samples of `us` microseconds (already in range). Recording grows the histogram; the
    /// saturating form would pin the value to the current top instead.
    fn record_us(&mut self, us: u64, n: u64) {
        let h = std::sync::Arc::make_mut(&mut self.0);
        if h.record_n(us, n).is_err() {
            h.saturating_record_n(us, n);
        }
    }

    /// Samples recorded.
    pub fn len(&self) -> u64 {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds every sample of `other`, as if they had been recorded here.
    pub fn add(&mut self, other: &LatencyHistogram) {
        // The same buckets on both sides, and this one grows: adding cannot fail.
        let _ = std::sync::Arc::make_mut(&mut self.0).add(&*other.0);
    }

    /// The p-th percentile (0–100) in milliseconds, exact to the histogram's 3 digits.
    pub fn percentile_ms(&self, p: f64) -> Option<f64> {
        (!self.is_empty()).then(|| self.0.value_at_percentile(p) as f64 / 1000.0)
    }

    pub fn min_ms(&self) -> Option<f64> {
        (!self.is_empty()).then(|| self.0.min() as f64 / 1000.0)
    }

    pub fn max_ms(&self) -> Option<f64> {
        (!self.is_empty()).then(|| self.0.max() as f64 / 1000.0)
    }

    /// The counts, bucket by bucket: (highest value in the bucket in ms, samples in it).
    pub fn buckets_ms(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        self.0
            .iter_recorded()
            .map(|v| (v.value_iterated_to() as f64 / 1000.0, v.count_at_value()))
    }

    /// The recorded counts as (microseconds, samples) pairs, one per bucket that holds any: a
    /// compact copy, for keeping many rounds of a monitor's window (docs/monitor.md#window).
    pub fn counts_us(&self) -> Vec<(u64, u64)> {
        self.0
            .iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect()
    }

    /// Adds counts as [`LatencyHistogram::counts_us`] gave them: each lands in the bucket it came from.
    pub fn record_counts_us(&mut self, counts: &[(u64, u64)]) {
        for &(us, n) in counts {
            self.record_us(us.clamp(1, HIGHEST_US), n);
        }
    }

    /// The standard V2 deflate interchange form, base64, declaring 1 µs to 1 hour (docs/merge.md)
    /// whatever this one has grown to.
    ///
    /// The V2 payload is the header and the counts up to the largest value recorded, and a
    /// histogram's buckets depend on its lowest value and digits only: so this one's payload with
    /// the header's highest value set to an hour is, bit for bit, that of a copy covering the
    /// whole range (a test holds it to that) — without allocating and clearing ~360 KB per check
    /// for every report written.
    pub fn encode(&self) -> String {
        use base64::Engine;
        use hdrhistogram::serialization::{Serializer, V2Serializer};
        let mut payload = Vec::new();
        V2Serializer::new()
            .serialize(&self.0, &mut payload)
            .expect("serializing into memory does not fail");
        payload[V2_HIGHEST].copy_from_slice(&HIGHEST_US.to_be_bytes());
        let mut bytes = Vec::with_capacity(64 + payload.len());
        bytes.extend_from_slice(&V2_COMPRESSED_COOKIE.to_be_bytes());
        bytes.extend_from_slice(&[0; 4]);
        deflate(&payload, &mut bytes);
        let compressed = (bytes.len() - 8) as u32;
        bytes[4..8].copy_from_slice(&compressed.to_be_bytes());
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// Reads the interchange form back, or says why it is not one.
    pub fn decode(text: &str) -> Result<LatencyHistogram, String> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| format!("histogram is not base64: {e}"))?;
        let h: hdrhistogram::Histogram<u64> = hdrhistogram::serialization::Deserializer::new()
            .deserialize(&mut &bytes[..])
            .map_err(|e| format!("not an HdrHistogram: {e:?}"))?;
        if h.max() > h.highest_equivalent(HIGHEST_US) {
            return Err(format!(
                "histogram out of range: a value of {} µs (1 µs to 1 hour)",
                h.max()
            ));
        }
        let mut out = LatencyHistogram::new();
        std::sync::Arc::make_mut(&mut out.0)
            .add(&h)
            .map_err(|e| format!("histogram out of range: {e:?}"))?;
        Ok(out)
    }
}

/// `input` zlib-compressed at the default level onto the end of `out`, as HdrHistogram's V2
/// deflate form has it. The compressor is kept per thread and reset: a new one allocates and
/// clears ~300 KB, which a report of many checks paid once per check.
fn deflate(input: &[u8], out: &mut Vec<u8>) {
    use flate2::{Compress, Compression, FlushCompress, Status};
    thread_local! {
        static ZLIB: std::cell::RefCell<Compress> = std::cell::RefCell::new(Compress::new(Compression::default(), true));
    }
    ZLIB.with_borrow_mut(|zlib| {
        zlib.reset();
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(input.len().max(64));
            }
            let read = zlib.total_in() as usize;
            match zlib.compress_vec(&input[read..], out, FlushCompress::Finish) {
                Ok(Status::StreamEnd) => return,
                Ok(_) => {}
                Err(e) => unreachable!("compressing into memory does not fail: {e}"),
            }
        }
    });
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

    #[test]
    fn a_histogram_round_trips_bit_for_bit_and_merges() {
        let mut h = LatencyHistogram::new();
        for ms in [0.0004, 1.0, 2.5, 41.0, 88.0, 120.0, 5_000_000.0] {
            h.record_ms(ms);
        }
        let text = h.encode();
        let back = LatencyHistogram::decode(&text).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.encode(), text);
        let mut twice = back.clone();
        twice.add(&h);
        assert_eq!(twice.len(), 2 * h.len());
        assert_eq!(twice.percentile_ms(50.0), h.percentile_ms(50.0));
        let mut again = LatencyHistogram::new();
        again.record_counts_us(&h.counts_us());
        assert_eq!(again.encode(), h.encode());
        assert!(LatencyHistogram::decode("not base64!").is_err());
        assert!(LatencyHistogram::decode("aGVsbG8=").is_err());
    }

    #[test]
    fn a_histogram_grows_as_needed_but_declares_the_full_range() {
        let mut h = LatencyHistogram::new();
        h.record_ms(60.0);
        // Buckets up to 60 ms only, not the 45 000 of 1 µs to 1 hour.
        assert!(h.0.distinct_values() < 8_000, "{}", h.0.distinct_values());
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(h.encode())
            .unwrap();
        let read: hdrhistogram::Histogram<u64> = hdrhistogram::serialization::Deserializer::new()
            .deserialize(&mut &bytes[..])
            .unwrap();
        assert_eq!((read.low(), read.high(), read.sigfig()), (1, HIGHEST_US, 3));
        assert_eq!(read.len(), 1);
        // A value beyond an hour cannot come in through a report either.
        let mut huge = hdrhistogram::Histogram::<u64>::new(3).unwrap();
        huge.record(2 * HIGHEST_US).unwrap();
        let mut raw = Vec::new();
        use hdrhistogram::serialization::Serializer;
        hdrhistogram::serialization::V2DeflateSerializer::new()
            .serialize(&huge, &mut raw)
            .unwrap();
        let text = base64::engine::general_purpose::STANDARD.encode(raw);
        assert!(
            LatencyHistogram::decode(&text)
                .unwrap_err()
                .contains("out of range")
        );
    }

    /// What [`LatencyHistogram::encode`] must equal: the whole range's histogram, serialized
    /// by the crate's own deflate serializer.
    fn encoded_the_long_way(h: &LatencyHistogram) -> String {
        use base64::Engine;
        use hdrhistogram::serialization::Serializer;
        let mut full =
            hdrhistogram::Histogram::<u64>::new_with_bounds(1, HIGHEST_US, SIGNIFICANT_DIGITS).unwrap();
        full.add(&*h.0).unwrap();
        let mut bytes = Vec::new();
        hdrhistogram::serialization::V2DeflateSerializer::new()
            .serialize(&full, &mut bytes)
            .unwrap();
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn encoding_is_that_of_the_whole_range_bit_for_bit() {
        let mut cases = vec![LatencyHistogram::new()];
        for values in [
            &[0.0004][..],
            &[1.0, 2.5, 41.0, 88.0, 120.0],
            &[0.2, 15.0, 15.0, 3_000.0, 5_000_000.0],
        ] {
            let mut h = LatencyHistogram::new();
            for ms in values {
                h.record_ms(*ms);
            }
            cases.push(h);
        }
        let mut many = LatencyHistogram::new();
        for i in 0..20_000u32 {
            many.record_ms(f64::from(i % 997) * 1.37 + f64::from(i / 1000));
        }
        cases.push(many);
        for h in &cases {
            assert_eq!(h.encode(), encoded_the_long_way(h), "{} samples", h.len());
        }
    }
}
