//! Did-you-mean: the likely intended word for a typo, and the one phrase that offers it.
//!
//! A leaf module (it imports nothing of the crate) so suite loading, `environments.yaml`, YAML
//! error text and the command line can all use it without an import cycle.

/// The closest of `options` to `word`, when one is close enough to be a likely typo.
///
/// The work is bounded whatever a suite holds (a typo is in a short word; a list of check names
/// can be long): no suggestion for a word over 64 characters or among more than 1 000 options, and
/// options whose length alone rules them out are skipped. Ties go to the first in sort order.
pub fn closest<'a>(word: &str, options: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    const MAX_WORD: usize = 64;
    const MAX_OPTIONS: usize = 1000;
    let len = word.chars().count();
    let options: Vec<&str> = options.into_iter().take(MAX_OPTIONS + 1).collect();
    if len > MAX_WORD || options.len() > MAX_OPTIONS {
        return None;
    }
    let limit = (len / 3).max(2);
    let word = word.to_ascii_lowercase();
    options
        .into_iter()
        // A char is at most 4 bytes: the byte test spares counting the chars of a huge option.
        .filter(|o| o.len() <= 4 * (len + limit) && o.chars().count().abs_diff(len) <= limit)
        .map(|o| (levenshtein(&word, &o.to_ascii_lowercase()), o))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, o)| o)
}

/// The suggestion as messages word it: ``did you mean `x`?``. Each kind of message puts it after
/// its own separator (`, ` after serde's "unknown field", `; ` after a suite value's error,
/// ` (…)` in `environments` errors).
pub fn did_you_mean(best: &str) -> String {
    format!("did you mean `{best}`?")
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_suggests_typos_only() {
        assert_eq!(closest("pth", ["path", "url", "method"]), Some("path"));
        assert_eq!(closest("lenght", ["length", "min_length"]), Some("length"));
        assert_eq!(closest("zebra", ["path", "url"]), None);
        assert_eq!(closest("prod", ["production", "preview"]), None);
        assert_eq!(closest("stagign", ["production", "staging"]), Some("staging"));
        // Bounded: long words and long lists get no suggestion; ties are deterministic.
        assert_eq!(closest(&"a".repeat(65), ["a".repeat(65).as_str()]), None);
        let many: Vec<String> = (0..1001).map(|i| format!("c{i}")).collect();
        assert_eq!(closest("c1", many.iter().map(String::as_str)), None);
        assert_eq!(closest("c", ["b", "a"]), Some("a"));
    }
}
