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
    // By hand, not with `format!`: every brief, listing item and reference entry shows one.
    let mut out = String::with_capacity(20);
    let (y, m, d) = (date.year(), date.month(), date.day());
    let push = |out: &mut String, n: i16| crate::html::push_int(out, i64::from(n));
    if is_cjk(lang) {
        push(&mut out, y);
        out.push('年');
        push(&mut out, m.into());
        out.push('月');
        push(&mut out, d.into());
        out.push('日');
    } else {
        push(&mut out, d.into());
        out.push(' ');
        out.push_str(MONTHS[usize::try_from(m - 1).unwrap_or(0).min(11)]);
        out.push(' ');
        push(&mut out, y);
    }
    out
}

/// Appends `date` as its `Display` writes it (`2024-11-02`), by hand for years 0 to 9999.
pub fn push_iso_date(out: &mut String, date: jiff::civil::Date) {
    let y = date.year();
    if !(0..=9999).contains(&y) {
        use std::fmt::Write;
        let _ = write!(out, "{date}");
        return;
    }
    crate::html::push_padded(out, y.unsigned_abs().into(), 4);
    out.push('-');
    crate::html::push_padded(out, date.month().unsigned_abs().into(), 2);
    out.push('-');
    crate::html::push_padded(out, date.day().unsigned_abs().into(), 2);
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

    /// The hand-written dates are what `format!` and jiff's `Display` write, for every day of
    /// some years (leap and not), and for years with fewer than four digits.
    #[test]
    fn dates_are_written_as_fmt_writes_them() {
        for y in [0i16, 7, 99, 999, 1999, 2000, 2024, 2100, 9999] {
            let mut d = jiff::civil::date(y, 1, 1);
            while d.year() == y {
                let (yy, m, dd) = (d.year(), d.month(), d.day());
                let month = MONTHS[(m - 1) as usize];
                assert_eq!(format_date(d, "en"), format!("{dd} {month} {yy}"));
                assert_eq!(format_date(d, "zh-Hant"), format!("{yy}年{m}月{dd}日"));
                let mut iso = String::from("x");
                push_iso_date(&mut iso, d);
                assert_eq!(iso, format!("x{d}"));
                match d.tomorrow() {
                    Ok(next) => d = next,
                    Err(_) => break,
                }
            }
        }
        let mut iso = String::new();
        push_iso_date(&mut iso, jiff::civil::date(-5, 3, 1));
        assert_eq!(iso, jiff::civil::date(-5, 3, 1).to_string());
    }

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
