//! The one place secrets are masked (docs/reports.md). Every byte the tool prints or writes to a report goes
//! through a [`Redactor`], so no reporter, error message or `-v` dump can leak a secret.

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// Header names whose values are always secret.
pub const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "cookie",
    "set-cookie",
    "proxy-authorization",
    "x-api-key",
    "x-vercel-protection-bypass",
];

/// What a masked secret looks like.
pub const MASK: &str = "***";

/// True when a header carries a secret by its name alone.
pub fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// True when a variable's name marks its value as secret.
pub fn is_secret_variable(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["KEY", "TOKEN", "SECRET", "PASSWORD"]
        .iter()
        .any(|w| upper.contains(w))
}

/// The secret parts of a secret header's value: the value itself and, for a scheme and a
/// credential (`Bearer abc`), the credential alone, which is just as secret.
pub fn credential_parts(value: &str) -> impl Iterator<Item = &str> {
    let credential = value.split_once(' ').map(|(_, c)| c.trim());
    std::iter::once(value).chain(credential)
}

/// The set of secret values known so far. Shared and growable: captures and expanded headers
/// discover secrets while the run goes on.
///
/// In monitor mode each round is an epoch (docs/monitor.md): a secret found during a round (a
/// captured key, a `set-cookie`) is remembered with the last round that saw it, and forgotten
/// once every output of later rounds has been masked without needing it, so a monitor that
/// captures a new key every round for a day does not hold (and scan) a day of keys. Secrets
/// known before the first round (suite variables, the environment, webhook URLs) stay.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Arc<RwLock<Vec<Secret>>>,
    /// The round under way; 0 outside monitor mode and before its first round.
    epoch: Arc<AtomicU64>,
    /// Values of process environment variables the run read, and the variable each came from:
    /// a secret among them is written as that variable in the `curl` line of `-v` (docs/cli.md).
    origins: Arc<RwLock<Vec<(String, String)>>>,
}

/// A secret and the last epoch that saw it (0: kept for good).
struct Secret {
    text: String,
    epoch: AtomicU64,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the values themselves, not even in a debug dump.
        write!(
            f,
            "Redactor({} secrets)",
            self.secrets.read().map(|s| s.len()).unwrap_or(0)
        )
    }
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a secret value; empty values are ignored (docs/reports.md), and so is anything already known.
    /// The forms a secret takes inside a URL or a JSON string are added with it, so a secret
    /// sent as a query parameter is masked in the URL that shows it.
    pub fn add(&self, secret: impl AsRef<str>) {
        let secret = secret.as_ref();
        if secret.is_empty() {
            return;
        }
        let epoch = self.epoch.load(Ordering::Relaxed);
        // Called for every sample that sends or receives a secret header: a known secret costs
        // one shared read, not the encodings and a write lock.
        if let Some(known) = self
            .secrets
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|s| s.text == secret)
        {
            // Seen again: kept as long as the latest round that saw it (never shortened to 0's "for good").
            let _ = known
                .epoch
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |e| {
                    (e != 0).then_some(epoch.max(e))
                });
            return;
        }
        let mut secrets = self.secrets.write().unwrap_or_else(|e| e.into_inner());
        let mut added = false;
        for form in encoded_forms(secret) {
            match secrets.iter().find(|s| s.text == form) {
                Some(known) => {
                    let _ = known
                        .epoch
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |e| {
                            (e != 0).then_some(epoch.max(e))
                        });
                }
                None => {
                    secrets.push(Secret {
                        text: form,
                        epoch: AtomicU64::new(epoch),
                    });
                    added = true;
                }
            }
        }
        if added {
            // Longest first, so a secret that contains another is masked whole.
            secrets.sort_by_key(|s| std::cmp::Reverse(s.text.len()));
        }
    }

    /// Starts epoch `n` (a monitor's round, from 1): secrets found from now on belong to it.
    pub fn begin_epoch(&self, n: u64) {
        self.epoch.store(n, Ordering::Relaxed);
    }

    /// Forgets the secrets last seen before epoch `n` (those known before epoch 1 stay).
    pub fn forget_before(&self, n: u64) {
        let mut secrets = self.secrets.write().unwrap_or_else(|e| e.into_inner());
        secrets.retain(|s| {
            let e = s.epoch.load(Ordering::Relaxed);
            e == 0 || e >= n
        });
    }

    /// How many secret forms are known (for tests of the above).
    pub fn len(&self) -> usize {
        self.secrets.read().map(|s| s.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Masks every occurrence of every secret in `text`.
    pub fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let secrets = self.secrets.read().unwrap_or_else(|e| e.into_inner());
        let mut out = Cow::Borrowed(text);
        for secret in secrets.iter() {
            if out.contains(secret.text.as_str()) {
                out = Cow::Owned(out.replace(secret.text.as_str(), MASK));
            }
        }
        out
    }

    /// Notes that `value` is the value of the environment variable `variable`. It does not make
    /// the value a secret; a secret that has this value is shown as the variable in [`Self::for_shell`].
    pub fn note_origin(&self, variable: &str, value: &str) {
        if value.is_empty() {
            return;
        }
        let mut origins = self.origins.write().unwrap_or_else(|e| e.into_inner());
        if !origins.iter().any(|(v, _)| v == value) {
            origins.push((value.to_string(), variable.to_string()));
        }
    }

    /// The environment variable a value came from, when one did.
    fn origin(&self, value: &str) -> Option<String> {
        let origins = self.origins.read().unwrap_or_else(|e| e.into_inner());
        origins.iter().find(|(v, _)| v == value).map(|(_, n)| n.clone())
    }

    /// `text` for the inside of a shell's double quotes: `"`, `\`, `$` and `` ` `` escaped, and
    /// every secret written as the environment variable it came from (`$AUDIO1_API_KEY`), or,
    /// when it came from none, as `***`. `Bearer <secret>` keeps its scheme word.
    pub fn for_shell(&self, text: &str) -> String {
        let secrets = self.secrets.read().unwrap_or_else(|e| e.into_inner());
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            // Longest first (the list is kept so), as `mask` does.
            let Some(secret) = secrets
                .iter()
                .map(|s| s.text.as_str())
                .find(|s| rest.starts_with(s))
            else {
                shell_escape_into(&mut out, c);
                rest = &rest[c.len_utf8()..];
                continue;
            };
            rest = &rest[secret.len()..];
            let glued = rest
                .chars()
                .next()
                .is_some_and(|n| n.is_ascii_alphanumeric() || n == '_');
            let reference = |name: String| match glued {
                true => format!("${{{name}}}"),
                false => format!("${name}"),
            };
            if let Some(name) = self.origin(secret) {
                out.push_str(&reference(name));
            } else if let Some((scheme, credential)) = secret.split_once(' ')
                && let Some(name) = self.origin(credential.trim())
                && !scheme.is_empty()
            {
                scheme.chars().for_each(|c| shell_escape_into(&mut out, c));
                out.push(' ');
                out.push_str(&reference(name));
            } else {
                out.push_str(MASK);
            }
        }
        out
    }

    /// Wraps a writer so everything written through it is masked.
    pub fn writer<W: Write>(&self, inner: W) -> RedactingWriter<W> {
        RedactingWriter {
            redactor: self.clone(),
            inner,
            pending: Vec::new(),
        }
    }
}

/// One character of literal text inside double quotes.
fn shell_escape_into(out: &mut String, c: char) {
    if matches!(c, '"' | '\\' | '$' | '`') {
        out.push('\\');
    }
    out.push(c);
}

/// A secret as written and as it reads once encoded: in a query (`application/x-www-form-urlencoded`,
/// so the `+`, `/` and `=` of a base64 token become `%2B`, `%2F`, `%3D`), percent-encoded in a
/// URL, and escaped in a JSON string.
fn encoded_forms(secret: &str) -> Vec<String> {
    let mut form = String::new();
    let mut percent = String::new();
    for b in secret.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => form.push(b as char),
            b' ' => form.push('+'),
            _ => form.push_str(&format!("%{b:02X}")),
        }
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => percent.push(b as char),
            _ => percent.push_str(&format!("%{b:02X}")),
        }
    }
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json
        .strip_prefix('"')
        .and_then(|j| j.strip_suffix('"'))
        .unwrap_or(secret)
        .to_string();
    let mut forms = vec![secret.to_string()];
    let url_parser = URL_PARSER_SETS.iter().map(|set| url_parser_encode(secret, set));
    for f in [form, percent, json].into_iter().chain(url_parser) {
        if !forms.contains(&f) {
            forms.push(f);
        }
    }
    forms
}

/// The extra bytes each of the URL parser's percent-encode sets holds (WHATWG URL, as the `url`
/// crate applies them): fragment, path, query, query of a special scheme, userinfo. The parser
/// leaves most punctuation alone, so a secret in a path shows half-encoded (`a b/c` → `a%20b/c`),
/// a form neither full encoding above matches.
const URL_PARSER_SETS: &[&[u8]] = &[
    b" \"<>`",
    b" \"<>`#?{}",
    b" \"#<>",
    b" \"#<>'",
    b" \"<>`#?{}/:;=@[\\]^|",
];

/// Percent-encodes control and non-ASCII bytes and those in `set`, as the URL parser does.
fn url_parser_encode(text: &str, set: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if !(0x20..0x7F).contains(&b) || set.contains(&b) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

/// A writer that masks secrets. It holds bytes back until a newline (or `flush`), so a secret
/// split across two `write` calls is still masked.
pub struct RedactingWriter<W: Write> {
    redactor: Redactor,
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> RedactingWriter<W> {
    fn emit(&mut self, upto: usize) -> io::Result<()> {
        let chunk: Vec<u8> = self.pending.drain(..upto).collect();
        let text = String::from_utf8_lossy(&chunk);
        self.inner.write_all(self.redactor.mask(&text).as_bytes())
    }
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let before = self.pending.len();
        self.pending.extend_from_slice(buf);
        // Only the new bytes can hold a newline: scanning all that is held back would make a
        // long line (a JSON Lines report) quadratic in its length.
        if let Some(last_newline) = buf.iter().rposition(|&b| b == b'\n') {
            self.emit(before + last_newline + 1)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let all = self.pending.len();
        if all > 0 {
            self.emit(all)?;
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for RedactingWriter<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Makes every panic message go through `redactor` (a panic is a bug, but its message may quote
/// a URL, a header or a body). Installed by `main` before anything else runs.
pub fn install_panic_hook(redactor: Redactor) {
    std::panic::set_hook(Box::new(move |info| {
        let text = format!("endpoint-check crashed (a bug; please report it): {info}");
        eprintln!("{}", redactor.mask(&text));
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_found_in_a_round_are_forgotten_once_no_later_round_saw_them() {
        let r = Redactor::new();
        r.add("for-good-secret");
        let base = r.len();
        r.begin_epoch(1);
        r.add("key-of-round-one");
        r.add("key-of-every-round");
        r.add("for-good-secret");
        r.begin_epoch(2);
        r.add("key-of-every-round");
        r.forget_before(2);
        assert_eq!(r.mask("key-of-round-one"), "key-of-round-one");
        assert_eq!(r.mask("key-of-every-round"), "***");
        assert_eq!(r.mask("for-good-secret"), "***");
        r.begin_epoch(3);
        r.forget_before(3);
        assert_eq!(
            r.len(),
            base,
            "only what was known before the first round is left"
        );
    }

    #[test]
    fn masks_every_occurrence_longest_first() {
        let r = Redactor::new();
        r.add("abc");
        r.add("abcdef");
        r.add("");
        assert_eq!(r.mask("x abcdef y abc z"), "x *** y *** z");
    }

    #[test]
    fn writer_masks_a_secret_split_across_writes() {
        let r = Redactor::new();
        r.add("s3cr3t");
        let mut out = Vec::new();
        {
            let mut w = r.writer(&mut out);
            w.write_all(b"token=s3").unwrap();
            w.write_all(b"cr3t\nnext s3cr3t").unwrap();
        }
        assert_eq!(String::from_utf8(out).unwrap(), "token=***\nnext ***");
    }

    #[test]
    fn masks_a_secret_encoded_in_a_url_or_json() {
        let r = Redactor::new();
        r.add("dG9r+ZW4/c2V=");
        r.add(r#"quo"te"#);
        assert_eq!(r.mask("?t=dG9r%2BZW4%2Fc2V%3D&u=dG9r+ZW4/c2V="), "?t=***&u=***");
        assert_eq!(r.mask(r#"{"p":"quo\"te"}"#), r#"{"p":"***"}"#);
    }

    #[test]
    fn masks_url_and_json_forms_of_a_secret() {
        let r = Redactor::new();
        r.add("p@ss word\"x");
        assert_eq!(r.mask("?k=p%40ss+word%22x"), "?k=***");
        assert_eq!(r.mask("/p%40ss%20word%22x/"), "/***/");
        assert_eq!(r.mask(r#"{"k":"p@ss word\"x"}"#), r#"{"k":"***"}"#);
    }

    #[test]
    fn masks_the_half_encoded_forms_the_url_parser_writes() {
        let r = Redactor::new();
        let secret = "Zm9v+YmFy/YmF6 cXV4==";
        r.add(secret);
        for text in [
            "Zm9v+YmFy/YmF6%20cXV4==",
            "Zm9v%2BYmFy%2FYmF6+cXV4%3D%3D",
            "Zm9v%2BYmFy%2FYmF6%20cXV4%3D%3D",
        ] {
            assert_eq!(r.mask(text), "***", "{text}");
        }
        let url = reqwest::Url::parse(&format!("http://h/p/{secret}?q={secret}#{secret}")).unwrap();
        assert_eq!(r.mask(url.as_str()), "http://h/p/***?q=***#***");
        let mut with_user = reqwest::Url::parse("http://h/").unwrap();
        with_user.set_username("u").unwrap();
        with_user.set_password(Some("pa ss/w:rd")).unwrap();
        r.add("pa ss/w:rd");
        assert_eq!(r.mask(with_user.as_str()), "http://u:***@h/");
    }

    #[test]
    fn for_shell_writes_secrets_as_their_variables() {
        let r = Redactor::new();
        r.add("k3y-from-env");
        r.note_origin("AUDIO1_API_KEY", "k3y-from-env");
        r.add("captured-token");
        r.add("Bearer t0k3n");
        r.add("t0k3n");
        r.note_origin("API_TOKEN", "t0k3n");
        r.note_origin("REGION", "eu");
        assert_eq!(
            r.for_shell("x-api-key: k3y-from-env"),
            "x-api-key: $AUDIO1_API_KEY"
        );
        assert_eq!(r.for_shell("k3y-from-env_2"), "${AUDIO1_API_KEY}_2");
        assert_eq!(
            r.for_shell("authorization: Bearer t0k3n"),
            "authorization: Bearer $API_TOKEN"
        );
        assert_eq!(r.for_shell("id captured-token"), "id ***");
        // A value that is no secret stays as it is, escaped for double quotes.
        assert_eq!(
            r.for_shell(r#"{"region":"eu","p":"$HOME `x` \"}"#),
            r#"{\"region\":\"eu\",\"p\":\"\$HOME \`x\` \\\"}"#
        );
        assert!(!format!("{r:?}").contains("eu"));
    }

    #[test]
    fn secret_names() {
        assert!(is_secret_variable("api_key"));
        assert!(is_secret_variable("VERCEL_TOKEN"));
        assert!(is_secret_variable("db_Password"));
        assert!(!is_secret_variable("region"));
        assert!(is_secret_header("Authorization"));
        assert!(!is_secret_header("accept"));
    }
}
