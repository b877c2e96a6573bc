//! Language tags: a syntax check for BCP 47 tags and per-language wording of dates.

/// A well-formed BCP 47 tag in the shapes sites use: `en`, `en-GB`, `zh-Hant`, `zh-Hant-TW`.
pub fn is_valid_lang(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let Some(primary) = parts.next() else {
        return false;
    };
    if !(2..=3).contains(&primary.len()) || !primary.chars().all(|c| c.is_ascii_alphabetic()) {
        return false;
    }
    parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Is this a Chinese, Japanese or Korean language tag?
pub fn is_cjk(tag: &str) -> bool {
    let primary = tag.split('-').next().unwrap_or("").to_ascii_lowercase();
    matches!(primary.as_str(), "zh" | "ja" | "ko")
}

/// English month names, January first.
pub const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A date as readers of `lang` write it: `2 November 2024`, `2024年11月2日`.
pub fn format_date(date: jiff::civil::Date, lang: &str) -> String {
    let (y, m, d) = (date.year(), date.month(), date.day());
    if is_cjk(lang) {
        format!("{y}年{m}月{d}日")
    } else {
        let month = MONTHS[usize::try_from(m - 1).unwrap_or(0).min(11)];
        format!("{d} {month} {y}")
    }
}

/// A Han, kana or hangul character (counted as one word each).
#[inline]
pub fn is_cjk_char(c: char) -> bool {
    // Most text is below the first range: one comparison for it.
    (c as u32) >= 0x3040
        && matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        for ok in ["en", "en-GB", "zh-Hant", "zh-Hant-TW", "fil"] {
            assert!(is_valid_lang(ok), "{ok}");
        }
        for bad in ["", "e", "english", "en_GB", "zh-", "<x>"] {
            assert!(!is_valid_lang(bad), "{bad}");
        }
    }

    #[test]
    fn dates() {
        let d = jiff::civil::date(2024, 11, 2);
        assert_eq!(format_date(d, "en"), "2 November 2024");
        assert_eq!(format_date(d, "zh-Hant"), "2024年11月2日");
    }
}
