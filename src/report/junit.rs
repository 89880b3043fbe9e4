//! The JUnit XML report (docs/reports.md, `--format junit` / `--junit PATH`), in the dialect GitHub,
//! GitLab and Jenkins read:
//!
//! ```xml
//! <testsuites name="TITLE" tests="5" failures="1" errors="0" skipped="1" time="0.812">
//!   <testsuite name="SUITE TITLE" tests="5" failures="1" errors="0" skipped="1" time="2.410" file="suites/a.yaml">
//!     <testcase name="CHECK" classname="CUSTOMER" time="0.043" file="suites/a.yaml" line="12"/>
//!     <testcase ...><failure message="FIRST FAILURE">EVERY FAILURE, ONE A LINE</failure></testcase>
//!     <testcase ...><skipped message="REASON"/></testcase>
//!     <testcase ...><system-out>warned (optional check failed): ...</system-out></testcase>
//!   </testsuite>
//! </testsuites>
//! ```
//!
//! Times are seconds with three decimals. `<testsuites time>` is the run's wall-clock time; a
//! `<testsuite time>` is the sum of its checks' times (checks run concurrently, so suites overlap).
//! A warned check (optional, failed) passes in JUnit and carries its failures in `<system-out>`.
//! `errors` is always 0: a transport error is a failure of the check like any other.
//!
//! Text is escaped for XML 1.0 by hand: `&`, `<`, `>` everywhere, quotes and TAB/LF/CR in
//! attributes as character references (so a parser does not fold them into spaces), and the
//! characters XML 1.0 forbids or discourages (C0 controls other than TAB/LF/CR, DEL, C1 controls,
//! U+FFFE/U+FFFF) replaced by U+FFFD. Non-ASCII text is kept as is (the document is UTF-8).

use std::borrow::Cow;
use std::io::{self, Write};

use quick_xml::Writer;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::QName;

use super::{CheckReport, CheckStatus, RunReport, Summary};

/// True for the characters XML 1.0 does not allow (or, for DEL and C1, discourages) in a document.
fn unwanted_in_xml(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}'
        | '\u{7F}'..='\u{9F}' | '\u{FFFE}' | '\u{FFFF}')
}

/// Escapes `s` for an XML attribute value (`attr`) or element text.
pub(crate) fn xml_escape(s: &str, attr: bool) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\'' if attr => out.push_str("&apos;"),
            '\n' if attr => out.push_str("&#10;"),
            '\t' if attr => out.push_str("&#9;"),
            // A raw CR is turned into LF by every parser, in text too.
            '\r' => out.push_str("&#13;"),
            c if unwanted_in_xml(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn attr<'a>(key: &'a str, value: &str) -> Attribute<'a> {
    Attribute {
        key: QName(key.as_bytes()),
        value: Cow::Owned(xml_escape(value, true).into_bytes()),
    }
}

/// Milliseconds as JUnit seconds.
fn seconds(ms: f64) -> String {
    format!("{:.3}", ms.max(0.0) / 1000.0)
}

fn counts<'a>(el: &mut BytesStart<'a>, s: Summary) {
    el.push_attribute(attr("tests", &s.total.to_string()));
    el.push_attribute(attr("failures", &s.failed.to_string()));
    el.push_attribute(attr("errors", "0"));
    el.push_attribute(attr("skipped", &s.skipped.to_string()));
}

fn text(s: &str) -> Event<'static> {
    Event::Text(BytesText::from_escaped(xml_escape(s, false)))
}

fn testcase<W: Write>(w: &mut Writer<W>, customer: &str, file: &str, c: &CheckReport) -> io::Result<()> {
    let mut el = BytesStart::new("testcase");
    el.push_attribute(attr("name", &c.name));
    el.push_attribute(attr("classname", customer));
    el.push_attribute(attr("time", &seconds(c.duration_ms.unwrap_or(0.0))));
    el.push_attribute(attr("file", file));
    el.push_attribute(attr("line", &c.line.to_string()));
    match c.status {
        CheckStatus::Passed => w.write_event(Event::Empty(el)),
        CheckStatus::Failed => {
            let first = c.failures.first().map_or("check failed", String::as_str);
            let body = if c.failures.is_empty() {
                first.to_string()
            } else {
                c.failures.join("\n")
            };
            w.write_event(Event::Start(el))?;
            let mut failure = BytesStart::new("failure");
            failure.push_attribute(attr("message", first));
            w.write_event(Event::Start(failure))?;
            w.write_event(text(&body))?;
            w.write_event(Event::End(BytesEnd::new("failure")))?;
            w.write_event(Event::End(BytesEnd::new("testcase")))
        }
        CheckStatus::Skipped => {
            w.write_event(Event::Start(el))?;
            let mut skipped = BytesStart::new("skipped");
            let reason = c.skip_reason.as_deref().unwrap_or("skipped");
            skipped.push_attribute(attr("message", reason));
            w.write_event(Event::Empty(skipped))?;
            w.write_event(Event::End(BytesEnd::new("testcase")))
        }
        CheckStatus::Warned => {
            w.write_event(Event::Start(el))?;
            let mut out = String::from("warned (optional check failed):");
            for f in &c.failures {
                out.push('\n');
                out.push_str(f);
            }
            w.write_event(Event::Start(BytesStart::new("system-out")))?;
            w.write_event(text(&out))?;
            w.write_event(Event::End(BytesEnd::new("system-out")))?;
            w.write_event(Event::End(BytesEnd::new("testcase")))
        }
    }
}

/// Writes the JUnit XML report, with a trailing newline.
pub fn render(report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
    let mut w = Writer::new_with_indent(&mut *out, b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;

    let mut root = BytesStart::new("testsuites");
    root.push_attribute(attr("name", &report.title));
    counts(&mut root, report.summary());
    root.push_attribute(attr("time", &seconds(report.duration_ms)));
    w.write_event(Event::Start(root))?;

    for suite in &report.suites {
        let mut el = BytesStart::new("testsuite");
        el.push_attribute(attr("name", &suite.title));
        counts(&mut el, Summary::of(&suite.checks));
        let time: f64 = suite.checks.iter().filter_map(|c| c.duration_ms).sum();
        el.push_attribute(attr("time", &seconds(time)));
        el.push_attribute(attr("file", &suite.file));
        if suite.checks.is_empty() {
            w.write_event(Event::Empty(el))?;
            continue;
        }
        w.write_event(Event::Start(el))?;
        for c in &suite.checks {
            testcase(&mut w, &suite.customer, &suite.file, c)?;
        }
        w.write_event(Event::End(BytesEnd::new("testsuite")))?;
    }

    w.write_event(Event::End(BytesEnd::new("testsuites")))?;
    out.write_all(b"\n")?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_controls() {
        assert_eq!(
            xml_escape("a<b & \"c\" 'd'\n\u{1b}[31mé\r", true),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&#10;\u{FFFD}[31mé&#13;"
        );
        assert_eq!(
            xml_escape("a<b\n\t\"x\"\u{0}\u{FFFF}", false),
            "a&lt;b\n\t\"x\"\u{FFFD}\u{FFFD}"
        );
    }

    #[test]
    fn seconds_have_three_decimals() {
        assert_eq!(seconds(2310.25), "2.310");
        assert_eq!(seconds(43.0), "0.043");
        assert_eq!(seconds(-1.0), "0.000");
    }
}
