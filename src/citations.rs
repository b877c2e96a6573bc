//! Citation syntax: Pandoc's bracketed citations, parsed from the exact source text of a
//! bracket (`[@bcg2020]`, `[@bcg2020, p. 4]`, `[see @usgs2024; @iea2023, table 2]`, `[-@x]`).
//!
//! In: the text between `[` and `]`. Out: the cited items (prefix, key, locator) or why the
//! bracket is a broken citation. Pure; resolving keys against sources happens in `markdown`.

/// One cited source inside a bracket.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
/// (Kept for every citation of the site to the end of a build, hence `Box<str>`.)
pub struct CiteItem {
    /// Text before the key (`see`), possibly empty.
    pub prefix: Box<str>,
    pub key: Box<str>,
    /// Text after the key's comma (`p. 4`), possibly empty.
    pub locator: Box<str>,
    /// Byte offset of the `@` inside the bracket's inner text.
    #[serde(skip)]
    pub at: u32,
}

/// What a bracket turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub enum Bracket {
    /// Not a citation at all (`[email me @ home]` is just text).
    NotCitation,
    /// A citation: one or more items.
    Citation(Vec<CiteItem>),
    /// Looks like a citation but is broken (`[@]`, `[@a; ]`): the message.
    Broken(String),
}

/// Characters a source key may contain (after the first, which must be a letter or digit).
pub fn is_key_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')
}

/// Is `key` a well-formed source key: letters, digits, `_ - . :`, starting with a letter or
/// digit, not ending with `.` or `:`, no `..`?
pub fn is_valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(char::is_alphanumeric)
        && key.chars().all(is_key_char)
        && !key.ends_with(['.', ':'])
        && !key.contains("..")
}

/// The keys of every `[...@key...]` bracket in raw Markdown, sorted, without duplicates: a
/// quick reading of the whole text that does not know code spans or links, so it may name a
/// key the Markdown parser would not see as cited (the caller checks against the parse).
pub fn keys_in_text(text: &str) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find([']', '[']) else {
            break;
        };
        if rest.as_bytes()[close] == b'[' {
            rest = &rest[close..];
            continue;
        }
        let inner = &rest[..close];
        if let Bracket::Citation(items) = parse_bracket(inner) {
            keys.extend(items.into_iter().map(|it| String::from(it.key)));
        }
        rest = &rest[close + 1..];
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Parses the inner text of a bracket (without `[` and `]`).
pub fn parse_bracket(inner: &str) -> Bracket {
    if !inner.contains('@') {
        return Bracket::NotCitation;
    }
    let mut items = Vec::new();
    let mut offset = 0;
    let parts: Vec<&str> = inner.split(';').collect();
    let mut any_key = false;
    let mut broken = None;
    for part in &parts {
        let start = offset;
        offset += part.len() + 1;
        match parse_item(part) {
            Some(Ok((prefix, key, locator, at))) => {
                any_key = true;
                items.push(CiteItem {
                    prefix: prefix.into(),
                    key: key.into(),
                    locator: locator.into(),
                    at: u32::try_from(start + at).unwrap_or(u32::MAX),
                });
            }
            Some(Err(msg)) => broken = broken.or(Some(msg)),
            None => {
                if part.trim().is_empty() && parts.len() > 1 {
                    broken = broken.or(Some("empty item between `;`".to_string()));
                } else if !part.contains('@') && parts.len() > 1 {
                    broken = broken.or(Some(format!(
                        "`{}` names no source (write `@key`)",
                        part.trim()
                    )));
                } else {
                    return Bracket::NotCitation;
                }
            }
        }
    }
    match (broken, any_key) {
        (Some(msg), _) => Bracket::Broken(msg),
        (None, true) => Bracket::Citation(items),
        (None, false) => Bracket::NotCitation,
    }
}

type Item = (String, String, String, usize);

/// One `prefix @key, locator` item. `None`: no `@` that starts a key (not a citation).
fn parse_item(part: &str) -> Option<Result<Item, String>> {
    // The `@` must start the part or follow a space (or `-` for author suppression).
    let bytes = part.as_bytes();
    let mut at = None;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'@' {
            let before_ok = i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'\n' | b'-');
            if before_ok {
                at = Some(i);
                break;
            }
        }
    }
    let at = at?;
    let prefix_end = if at > 0 && bytes[at - 1] == b'-' {
        at - 1
    } else {
        at
    };
    let prefix = part[..prefix_end].trim().to_string();
    let rest = &part[at + 1..];
    let key_len: usize = rest
        .char_indices()
        .take_while(|(_, c)| is_key_char(*c))
        .last()
        .map_or(0, |(i, c)| i + c.len_utf8());
    let mut key = &rest[..key_len];
    // Trailing `.` or `:` belongs to the sentence, not the key.
    while key.ends_with(['.', ':']) {
        key = &key[..key.len() - 1];
    }
    if key.is_empty() {
        // `[@]` or `[@a; @]` is a broken citation; `[write to me @ home]` is just text.
        return if prefix.is_empty() {
            Some(Err(
                "empty citation: `@` is not followed by a source key".to_string()
            ))
        } else {
            None
        };
    }
    if !is_valid_key(key) {
        return Some(Err(format!("`@{key}` is not a valid source key")));
    }
    let after = rest[key.len()..].trim_start();
    let locator = match after.strip_prefix(',') {
        Some(l) => l.trim().to_string(),
        None if after.trim().is_empty() => String::new(),
        None => after.trim().to_string(),
    };
    Some(Ok((prefix, key.to_string(), locator, at)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_text_keys_are_every_citing_bracket_sorted_once() {
        let text = "A [@b2; see @a1, p. 4]. [link](x) [email me @ home] [[@c3]] [@b2] [@d4";
        assert_eq!(keys_in_text(text), ["a1", "b2", "c3"]);
        assert!(keys_in_text("no brackets, or [only text]").is_empty());
    }

    fn keys(inner: &str) -> Vec<(String, String, String)> {
        match parse_bracket(inner) {
            Bracket::Citation(items) => items
                .into_iter()
                .map(|i| (i.prefix.into(), i.key.into(), i.locator.into()))
                .collect(),
            other => panic!("{inner}: {other:?}"),
        }
    }

    #[test]
    fn pandoc_forms() {
        let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
        assert_eq!(keys("@bcg2020"), [s("", "bcg2020", "")]);
        assert_eq!(keys("@bcg2020, p. 4"), [s("", "bcg2020", "p. 4")]);
        assert_eq!(
            keys("@usgs2024; @iea2023, table 2"),
            [s("", "usgs2024", ""), s("", "iea2023", "table 2")]
        );
        assert_eq!(
            keys("see @bcg2020, pp. 4-5; also @x"),
            [s("see", "bcg2020", "pp. 4-5"), s("also", "x", "")]
        );
        assert_eq!(keys("-@bcg2020"), [s("", "bcg2020", "")]);
        assert_eq!(keys("@doi:10.1000.x"), [s("", "doi:10.1000.x", "")]);
        assert_eq!(keys("@美國商務部2024"), [s("", "美國商務部2024", "")]);
    }

    #[test]
    fn not_citations() {
        for inner in [
            "email me at x@y.org",
            "just text",
            "a@b",
            "write to me @ home",
        ] {
            assert_eq!(parse_bracket(inner), Bracket::NotCitation, "{inner}");
        }
    }

    #[test]
    fn broken_citations() {
        for inner in ["@", "@ ", "@a; ", "@a; plain words", "@a..b"] {
            assert!(
                matches!(parse_bracket(inner), Bracket::Broken(_)),
                "{inner}: {:?}",
                parse_bracket(inner)
            );
        }
    }

    #[test]
    fn keys_are_checked() {
        assert!(is_valid_key("bcg2020"));
        assert!(is_valid_key("usitc-2023:p4"));
        assert!(!is_valid_key("../x"));
        assert!(!is_valid_key("a/b"));
        assert!(!is_valid_key(""));
        assert!(!is_valid_key("a..b"));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any bracket text: no panic; every item's `@` offset is inside the text and on `@`.
        #[test]
        fn brackets_never_panic(inner in "[@;,a-z0-9 .:\\-p\u{4e00}\u{20ac}]{0,40}") {
            if let Bracket::Citation(items) = parse_bracket(&inner) {
                for it in items {
                    prop_assert_eq!(inner.as_bytes().get(it.at as usize), Some(&b'@'));
                    prop_assert!(is_valid_key(&it.key));
                }
            }
        }
    }
}
