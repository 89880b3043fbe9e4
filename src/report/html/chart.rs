//! A sampled check's latency histogram as inline SVG (docs/reports.md#html), drawn by `plotters`
//! with its SVG backend only: bars of the samples, the p50/p95/p99 marked, the latency limits
//! as dashed lines. Only figures go into the drawing, never text from the suite, so nothing in
//! it needs escaping; the check's name is in the HTML around it.

use crate::report::{LatencyHistogram, LatencyLimit, LatencyStats};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The drawing's size in CSS pixels; the page scales it down to the screen's width.
const SIZE: (u32, u32) = (720, 240);
/// Bars across the drawn range.
const BINS: usize = 40;
/// A limit further than this many times the slowest sample is named beside the chart instead
/// of drawn: drawn to scale, a 2 s limit would squeeze 40 ms samples into one bar.
const FAR_LIMIT: f64 = 3.0;

const BARS: RGBColor = RGBColor(70, 120, 190);
const LIMIT: RGBColor = RGBColor(200, 30, 30);
const INK: RGBColor = RGBColor(40, 40, 40);
/// p50, p95, p99 and their colours.
const MARKS: [(&str, RGBColor); 3] = [
    ("p50", RGBColor(20, 130, 70)),
    ("p95", RGBColor(200, 110, 0)),
    ("p99", RGBColor(140, 40, 160)),
];

/// The histogram as an `<svg>` element, and the limits too far out to draw; `None` when there
/// is nothing to draw (or the drawing failed: the figures table still says everything).
pub fn histogram(
    hist: &LatencyHistogram,
    stats: &LatencyStats,
    limits: &[LatencyLimit],
) -> Option<(String, Vec<LatencyLimit>)> {
    let (min, max) = (hist.min_ms()?, hist.max_ms()?);
    let (drawn, far): (Vec<LatencyLimit>, Vec<LatencyLimit>) =
        limits.iter().partition(|l| l.ms <= max * FAR_LIMIT);
    let top = drawn.iter().map(|l| l.ms).fold(max, f64::max) * 1.05;
    // Start at zero unless the samples sit far from it, so the bars keep their width.
    let bottom = if min < top * 0.5 {
        0.0
    } else {
        min - (top - min) * 0.1
    };
    let bins = rebin(hist, bottom, top);
    let mut svg = String::new();
    draw(&mut svg, (bottom, top), &bins, stats, &drawn).ok()?;
    Some((inline(&svg), far))
}

/// The histogram's counts summed into [`BINS`] equal bars over `bottom..top`.
fn rebin(hist: &LatencyHistogram, bottom: f64, top: f64) -> Vec<u64> {
    let width = (top - bottom) / BINS as f64;
    let mut bins = vec![0u64; BINS];
    for (ms, count) in hist.buckets_ms() {
        let i = ((ms - bottom) / width).floor().clamp(0.0, (BINS - 1) as f64) as usize;
        bins[i] += count;
    }
    bins
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn draw(
    svg: &mut String,
    (bottom, top): (f64, f64),
    bins: &[u64],
    stats: &LatencyStats,
    limits: &[LatencyLimit],
) -> DrawResult {
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let tallest = bins.iter().copied().max().unwrap_or(1).max(1) as f64;
    // Headroom above the tallest bar for the marks' labels.
    let ceiling = tallest * 1.45;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(34)
        .y_label_area_size(44)
        .build_cartesian_2d(bottom..top, 0.0..ceiling)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .max_light_lines(0)
        .bold_line_style(RGBColor(225, 225, 225))
        .x_labels(8)
        .y_labels(5)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .x_desc("latency (ms)")
        .y_desc("samples")
        .label_style(("sans-serif", 15).into_font().color(&INK))
        .axis_style(INK)
        .draw()?;
    let width = (top - bottom) / bins.len() as f64;
    chart.draw_series(bins.iter().enumerate().filter(|(_, c)| **c > 0).map(|(i, c)| {
        let x = bottom + i as f64 * width;
        Rectangle::new([(x, 0.0), (x + width * 0.92, *c as f64)], BARS.filled())
    }))?;
    let values = [stats.p50, stats.p95, stats.p99];
    for (row, ((name, colour), ms)) in MARKS.iter().zip(values).enumerate() {
        let label_y = ceiling * (0.97 - 0.08 * row as f64);
        let style = ShapeStyle::from(colour).stroke_width(2);
        chart.draw_series(LineSeries::new([(ms, 0.0), (ms, label_y)], style))?;
        let text = format!("{name} {}", crate::duration::fmt_ms(ms));
        let (x, style) = label(*colour, ms, bottom, top);
        chart.draw_series([Text::new(text, (x, label_y), style)])?;
    }
    for (row, limit) in limits.iter().enumerate() {
        let label_y = ceiling * (0.70 - 0.08 * row as f64);
        let style = ShapeStyle::from(LIMIT).stroke_width(2);
        let line = [(limit.ms, 0.0), (limit.ms, ceiling)];
        chart.draw_series(DashedLineSeries::new(line, 6, 4, style))?;
        let text = format!("limit {} ≤ {}", limit.of, crate::duration::fmt_ms(limit.ms));
        let (x, style) = label(LIMIT, limit.ms, bottom, top);
        chart.draw_series([Text::new(text, (x, label_y), style)])?;
    }
    root.present()?;
    Ok(())
}

/// Where a mark's label goes, and its style: just right of its line, or just left of it in the
/// right third, so it stays inside the drawing and off the line.
fn label(colour: RGBColor, at: f64, bottom: f64, top: f64) -> (f64, TextStyle<'static>) {
    let gap = (top - bottom) * 0.006;
    let (x, side) = if at > bottom + (top - bottom) * 0.66 {
        (at - gap, HPos::Right)
    } else {
        (at + gap, HPos::Left)
    };
    let style = ("sans-serif", 14)
        .into_font()
        .color(&colour)
        .pos(Pos::new(side, VPos::Top));
    (x, style)
}

/// Ready to sit inside HTML: no namespace URL (an inline `<svg>` needs none, and the page names
/// no address but its own), and labelled for screen readers.
fn inline(svg: &str) -> String {
    svg.replacen(r#" xmlns="http://www.w3.org/2000/svg""#, "", 1)
        .replacen("<svg ", r#"<svg role="img" aria-label="Latency histogram" "#, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (LatencyHistogram, LatencyStats) {
        let mut h = LatencyHistogram::new();
        let mut all: Vec<f64> = (0..100).map(|i| 20.0 + (i % 30) as f64).collect();
        for ms in &all {
            h.record_ms(*ms);
        }
        (h, crate::stats::latency_stats(&mut all).unwrap())
    }

    #[test]
    fn draws_bars_marks_and_near_limits() {
        let (h, s) = sample();
        let limits = [
            LatencyLimit { of: "p95", ms: 60.0 },
            LatencyLimit {
                of: "each",
                ms: 2000.0,
            },
        ];
        let (svg, far) = histogram(&h, &s, &limits).unwrap();
        assert!(svg.starts_with("<svg role=\"img\""), "{svg}");
        assert!(!svg.contains("http"), "no URL in the drawing");
        for label in ["p50 ", "p95 ", "p99 ", "limit p95 ≤ 60 ms", "latency (ms)"] {
            assert!(svg.contains(label), "{label} in {svg}");
        }
        // Three marks are one polyline each; the dashed limit is drawn as many short ones.
        assert!(
            svg.matches("<polyline").count() > 6,
            "the limit is drawn dashed: {svg}"
        );
        assert_eq!(far, vec![limits[1]], "the 2 s limit is too far out to draw");
    }

    #[test]
    fn nothing_to_draw_without_samples() {
        let (_, s) = sample();
        assert!(histogram(&LatencyHistogram::new(), &s, &[]).is_none());
    }

    #[test]
    fn rebinning_keeps_every_sample() {
        let (h, _) = sample();
        let bins = rebin(&h, 0.0, 60.0);
        assert_eq!(bins.iter().sum::<u64>(), 100);
    }
}
