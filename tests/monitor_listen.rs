//! `--listen` in monitor mode (docs/monitor.md#endpoints) and the alert rules for a monitor's
//! `/metrics` (docs/prometheus/monitor-alerts.yml) under the real `promtool`.

mod support;

use std::path::Path;
use std::process::Command;
use support::prometheus;

fn rules_folder() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/prometheus")
}

#[test]
fn the_monitor_alert_rules_pass_promtool() {
    let (ok, out) = prometheus::check_rules(&rules_folder().join("monitor-alerts.yml"));
    assert!(ok, "{out}");
    assert!(out.contains("3 rules found"), "{out}");
}

#[test]
fn the_monitor_alert_rules_fire_on_the_seeds_conditions() {
    let promtool = prometheus::program("/usr/bin/promtool", "prometheus");
    let out = Command::new(promtool)
        .args(["test", "rules", "monitor-alerts.test.yml"])
        .current_dir(rules_folder())
        .output()
        .expect("run promtool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("SUCCESS"), "{text}");
}
