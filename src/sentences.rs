//! Sentences in plain text: where the sentence around an offset starts and ends.
//!
//! Sentence ends are `.`, `!`, `?` (followed by a space or the end, and not closing an
//! abbreviation such as `U.S.` or `p.`) and the CJK `。！？；`. Used to quote a citing sentence
//! on a source's page and to decide which citation backs which figure.

use std::ops::Range;

const CJK_ENDS: &[char] = &['。', '！', '？', '；'];
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "st", "no", "nos", "vs", "etc", "inc", "corp", "co", "ltd",
    "jr", "sr", "p", "pp", "para", "fig", "vol", "ch", "sec", "art", "approx", "est", "jan", "feb",
    "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "e.g", "i.e", "cf",
    "al",
];

/// Is the character at byte `i` of `text` the end of a sentence?
fn is_end(text: &str, i: usize, c: char) -> bool {
    if CJK_ENDS.contains(&c) {
        return true;
    }
    if !matches!(c, '.' | '!' | '?') {
        return false;
    }
    let after = &text[i + c.len_utf8()..];
    // Closing quotes and brackets may follow the mark.
    let after = after.trim_start_matches(['"', '\'', '\u{201d}', '\u{2019}', ')', ']']);
    let next = after.chars().next();
    if next.is_some_and(|n| !n.is_whitespace()) {
        return false;
    }
    if c != '.' {
        return true;
    }
    // `U.S.`, `p.`, `e.g.`: a short word or an abbreviation before the period.
    // The last (up to 12) letters, digits and periods before it, taken in place.
    let mut from = i;
    for (j, ch) in text[..i].char_indices().rev().take(12) {
        if !(ch.is_alphanumeric() || ch == '.') {
            break;
        }
        from = j;
    }
    let word = &text[from..i];
    let abbreviation = if word.is_ascii() {
        ABBREVIATIONS.iter().any(|a| a.eq_ignore_ascii_case(word))
    } else {
        ABBREVIATIONS.contains(&word.to_lowercase().as_str())
    };
    if abbreviation || (word.contains('.') && word.len() <= 5) {
        return false;
    }
    if word.chars().count() == 1 && word.chars().all(|ch| ch.is_uppercase()) {
        return false; // an initial: "A. Analyst"
    }
    // A lowercase continuation is not a new sentence.
    let following = after.trim_start().chars().next();
    !following.is_some_and(|f| f.is_lowercase())
}

/// The byte range of the sentence containing byte `offset` (trimmed of surrounding spaces).
pub fn around(text: &str, offset: usize) -> Range<usize> {
    let bounds = bounds(text);
    let i = bounds.partition_point(|r| r.end <= offset.min(text.len().saturating_sub(1)));
    bounds
        .get(i)
        .cloned()
        .map_or(text.len()..text.len(), |r| trim(text, r))
}

/// Untrimmed sentence ranges covering the whole text, in one pass.
pub fn bounds(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut at = |i: usize| {
        let Some(c) = text[i..].chars().next() else {
            return;
        };
        if is_end(text, i, c) {
            let end = i + c.len_utf8();
            out.push(start..end);
            start = end;
        }
    };
    // Only `.`, `!`, `?` and the CJK marks (which start with byte 0xE3 or 0xEF in UTF-8) can
    // end a sentence: other bytes are skipped without decoding their characters. Text without
    // the CJK marks' lead bytes (most English prose) is searched for the three ASCII marks
    // with memchr, a few bytes per instruction.
    let bytes = text.as_bytes();
    if memchr::memchr2(0xE3, 0xEF, bytes).is_none() {
        memchr::memchr3_iter(b'.', b'!', b'?', bytes).for_each(&mut at);
    } else {
        for (i, &b) in bytes.iter().enumerate() {
            if matches!(b, b'.' | b'!' | b'?' | 0xE3 | 0xEF) {
                at(i);
            }
        }
    }
    if start < text.len() || out.is_empty() {
        out.push(start..text.len());
    }
    out
}

/// The sentence range without surrounding white space.
pub fn trim(text: &str, r: Range<usize>) -> Range<usize> {
    let slice = &text[r.clone()];
    let lead = slice.len() - slice.trim_start().len();
    let trail = slice.len() - slice.trim_end().len();
    r.start + lead..(r.end - trail).max(r.start + lead)
}

/// Every sentence of `text`, as byte ranges.
pub fn split(text: &str) -> Vec<Range<usize>> {
    bounds(text)
        .into_iter()
        .map(|r| trim(text, r))
        .filter(|r| !r.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`is_end`] as it was written first (collecting the word before a period).
    fn is_end_reference(text: &str, i: usize, c: char) -> bool {
        if CJK_ENDS.contains(&c) {
            return true;
        }
        if !matches!(c, '.' | '!' | '?') {
            return false;
        }
        let after = &text[i + c.len_utf8()..];
        let after = after.trim_start_matches(['"', '\'', '\u{201d}', '\u{2019}', ')', ']']);
        if after.chars().next().is_some_and(|n| !n.is_whitespace()) {
            return false;
        }
        if c != '.' {
            return true;
        }
        let word: String = text[..i]
            .chars()
            .rev()
            .take_while(|ch| ch.is_alphanumeric() || *ch == '.')
            .take(12)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let lower = word.to_lowercase();
        if ABBREVIATIONS.contains(&lower.as_str()) || (word.contains('.') && word.len() <= 5) {
            return false;
        }
        if word.chars().count() == 1 && word.chars().all(|ch| ch.is_uppercase()) {
            return false;
        }
        let following = after.trim_start().chars().next();
        !following.is_some_and(|f| f.is_lowercase())
    }

    /// The same as [`bounds`], looking at every character.
    fn bounds_char_by_char(text: &str) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut start = 0;
        for (i, c) in text.char_indices() {
            if is_end_reference(text, i, c) {
                let end = i + c.len_utf8();
                out.push(start..end);
                start = end;
            }
        }
        if start < text.len() || out.is_empty() {
            out.push(start..text.len());
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

        #[test]
        fn the_quick_scan_finds_the_same_sentences(
            parts in proptest::collection::vec((
                proptest::sample::select(vec![
                    "Mr", "dr", "ETC", "Fig", "approx", "Sept", "U.S", "e.g", "A", "x", "Smith",
                    "rose", "5", "3.2", "五年", "計畫", "Ü", "\u{212A}", "é", "", "(note)",
                ]),
                proptest::sample::select(vec![
                    ". ", " ", "! ", "? ", ".", ".\" ", ") ", "。", "！", "？", "；", "\n", ".\n",
                ]),
            ), 0..24)
        ) {
            let text: String = parts.iter().flat_map(|(w, s)| [*w, *s]).collect();
            proptest::prop_assert_eq!(bounds(&text), bounds_char_by_char(&text));
        }
    }

    fn sentence(text: &str, needle: &str) -> String {
        let off = text.find(needle).unwrap();
        text[around(text, off)].to_string()
    }

    #[test]
    fn english() {
        let t = "First one. The U.S. share fell to 60% in 2023. Third, about 1.5 million tonnes!";
        assert_eq!(sentence(t, "60%"), "The U.S. share fell to 60% in 2023.");
        assert_eq!(sentence(t, "1.5"), "Third, about 1.5 million tonnes!");
        assert_eq!(sentence(t, "First"), "First one.");
        assert_eq!(sentence("See p. 4 of it. Next.", "4"), "See p. 4 of it.");
    }

    #[test]
    fn chinese() {
        let t = "美國對華出口管制擴大。中國的市占率達六成；其餘來自日本。";
        assert_eq!(sentence(t, "六成"), "中國的市占率達六成；");
        assert_eq!(sentence(t, "日本"), "其餘來自日本。");
    }

    #[test]
    fn splits_all() {
        let t = "One. Two! 三。";
        let parts: Vec<&str> = split(t).into_iter().map(|r| &t[r]).collect();
        assert_eq!(parts, ["One.", "Two!", "三。"]);
    }
}
