//! Claim detection: find quantity expressions in prose (English and Chinese, Traditional and
//! Simplified) and normalise each to a kind, a value and a unit.
//!
//! In: plain text. Out: [`Quantity`] spans as code-point offsets (end exclusive), following
//! `../shared/claims-dev/GUIDELINE.md`: the numeral with its scale words and unit (currency,
//! %, time unit, measure), counted nouns and modifiers left out; years, dates, ordinals, model
//! and node names, law numbers, list numbering and citation markers are not quantities.
//!
//! The detector works in four steps over the text's characters: find numerals (digits,
//! English number words, Chinese numerals), attach the unit around each, join ranges and
//! "N in M" fractions, then drop what the guideline says is not a quantity.

use serde::Serialize;

/// What a quantity measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Percent,
    Money,
    Count,
    Multiple,
    Fraction,
    Duration,
    Measure,
}

/// A normalised value: one number or a range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    One(f64),
    Range(f64, f64),
}

impl Value {
    pub fn lo(&self) -> f64 {
        match *self {
            Value::One(v) | Value::Range(v, _) => v,
        }
    }
    pub fn hi(&self) -> f64 {
        match *self {
            Value::One(v) | Value::Range(_, v) => v,
        }
    }
}

/// One detected quantity: `start..end` are code-point offsets into the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
    pub value: Value,
    /// `%` (value is a ratio: 60% -> 0.6), `pp`, a currency code (`USD`, `TWD`, `CNY`, `EUR`,
    /// `GBP`, `JPY`, `HKD`, or `yuan` when only 元 is written), `x`, `ratio`, a time unit
    /// (`year`, `month`, ...) or a unit of measure (`GW`, `kWh`, `t`, ...); empty for counts.
    pub unit: String,
    /// Half the value of the last digit written, in the value's terms: `$83 billion` -> 5e8,
    /// `60%` -> 0.005. A source's figure within this distance agrees with the prose.
    pub tolerance: f64,
}

// ---------------------------------------------------------------------------------------
// Characters and words

fn digit(c: char) -> Option<u32> {
    match c {
        '0'..='9' => Some(c as u32 - '0' as u32),
        '０'..='９' => Some(c as u32 - '０' as u32),
        _ => None,
    }
}

fn is_digit(c: char) -> bool {
    digit(c).is_some()
}

fn cn_digit(c: char) -> Option<f64> {
    Some(match c {
        '零' | '〇' | '○' => 0.0,
        '一' => 1.0,
        '二' | '兩' | '两' => 2.0,
        '三' => 3.0,
        '四' => 4.0,
        '五' => 5.0,
        '六' => 6.0,
        '七' => 7.0,
        '八' => 8.0,
        '九' => 9.0,
        _ => return None,
    })
}

fn cn_small_unit(c: char) -> Option<f64> {
    Some(match c {
        '十' => 10.0,
        '百' => 100.0,
        '千' => 1000.0,
        _ => return None,
    })
}

fn cn_big_unit(c: char) -> Option<f64> {
    Some(match c {
        '萬' | '万' => 1e4,
        '億' | '亿' => 1e8,
        '兆' => 1e12,
        _ => return None,
    })
}

fn is_cn_numeral(c: char) -> bool {
    cn_digit(c).is_some()
        || cn_small_unit(c).is_some()
        || cn_big_unit(c).is_some()
        || c == '廿'
        || c == '卅'
}

fn is_ascii_letter(c: char) -> bool {
    c.is_ascii_alphabetic()
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF)
}

/// `chars` as a lowercase string, made in one allocation when they are ASCII (most words).
fn lowercase(chars: &[char]) -> String {
    if chars.iter().all(char::is_ascii) {
        chars.iter().map(char::to_ascii_lowercase).collect()
    } else {
        chars.iter().collect::<String>().to_lowercase()
    }
}

/// Text helpers over a char slice.
struct Text<'a> {
    c: &'a [char],
}

impl Text<'_> {
    fn len(&self) -> usize {
        self.c.len()
    }
    fn at(&self, i: usize) -> Option<char> {
        self.c.get(i).copied()
    }
    /// Does the text at `i` start with `s` (exactly)?
    fn starts(&self, i: usize, s: &str) -> bool {
        (i..).zip(s.chars()).all(|(k, ch)| self.at(k) == Some(ch))
    }
    /// Do the characters just before `end` spell `s` (exactly)? As comparing
    /// `slice(end - len, end)` with `s`, without making the slice.
    fn ends_at(&self, end: usize, s: &str) -> bool {
        let n = s.chars().count();
        end >= n && end <= self.len() && self.starts(end - n, s)
    }
    /// Case-insensitive ASCII match of `s` at `i`.
    fn starts_ci(&self, i: usize, s: &str) -> bool {
        (i..)
            .zip(s.chars())
            .all(|(k, ch)| self.at(k).is_some_and(|x| x.eq_ignore_ascii_case(&ch)))
    }
    /// `s` at `i` as a whole word (not followed by a letter); returns its end.
    fn word_ci(&self, i: usize, s: &str) -> Option<usize> {
        if !self.starts_ci(i, s) {
            return None;
        }
        let end = i + s.chars().count();
        if self
            .at(end)
            .is_some_and(|c| c.is_alphabetic() && !is_cjk(c))
        {
            return None;
        }
        Some(end)
    }
    /// Skips spaces (at most `max`) from `i`.
    fn skip_spaces(&self, i: usize, max: usize) -> usize {
        let mut k = i;
        while k < self.len()
            && k - i < max
            && matches!(self.c[k], ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}' | '\t')
        {
            k += 1;
        }
        k
    }
    /// The ASCII word ending just before `i` (skipping spaces), lowercased, with its start.
    fn word_before(&self, i: usize) -> (String, usize) {
        let mut k = i;
        while k > 0 && matches!(self.c[k - 1], ' ' | '\u{a0}') {
            k -= 1;
        }
        let end = k;
        while k > 0
            && (self.c[k - 1].is_alphanumeric() && !is_cjk(self.c[k - 1])
                || self.c[k - 1] == '.' && k >= 2 && self.c[k - 2].is_alphabetic())
        {
            k -= 1;
        }
        let mut w = lowercase(&self.c[k..end]);
        w.truncate(w.trim_end_matches('.').len());
        (w, k)
    }
    /// The ASCII word starting at `i` (after spaces), lowercased, with its end.
    fn word_after(&self, i: usize) -> (String, usize) {
        let k = self.skip_spaces(i, 3);
        let mut e = k;
        while e < self.len() && (self.c[e].is_alphabetic() && !is_cjk(self.c[e])) {
            e += 1;
        }
        (lowercase(&self.c[k..e]), e)
    }
    fn slice(&self, a: usize, b: usize) -> String {
        self.c[a.min(self.len())..b.min(self.len())]
            .iter()
            .collect()
    }
}

const EN_UNITS: &[(&str, f64)] = &[
    ("zero", 0.0),
    ("one", 1.0),
    ("two", 2.0),
    ("three", 3.0),
    ("four", 4.0),
    ("five", 5.0),
    ("six", 6.0),
    ("seven", 7.0),
    ("eight", 8.0),
    ("nine", 9.0),
    ("ten", 10.0),
    ("eleven", 11.0),
    ("twelve", 12.0),
    ("thirteen", 13.0),
    ("fourteen", 14.0),
    ("fifteen", 15.0),
    ("sixteen", 16.0),
    ("seventeen", 17.0),
    ("eighteen", 18.0),
    ("nineteen", 19.0),
];
const EN_TENS: &[(&str, f64)] = &[
    ("twenty", 20.0),
    ("thirty", 30.0),
    ("forty", 40.0),
    ("fifty", 50.0),
    ("sixty", 60.0),
    ("seventy", 70.0),
    ("eighty", 80.0),
    ("ninety", 90.0),
];
const EN_SCALES: &[(&str, f64)] = &[
    ("hundred", 1e2),
    ("thousand", 1e3),
    ("million", 1e6),
    ("billion", 1e9),
    ("trillion", 1e12),
];

/// Fraction words: (word, value, needs a numerator word before it).
const EN_FRACTIONS: &[(&str, f64)] = &[
    ("halves", 0.5),
    ("half", 0.5),
    ("thirds", 1.0 / 3.0),
    ("third", 1.0 / 3.0),
    ("quarters", 0.25),
    ("quarter", 0.25),
    ("fourths", 0.25),
    ("fourth", 0.25),
    ("fifths", 0.2),
    ("fifth", 0.2),
    ("sixths", 1.0 / 6.0),
    ("sixth", 1.0 / 6.0),
    ("sevenths", 1.0 / 7.0),
    ("seventh", 1.0 / 7.0),
    ("eighths", 0.125),
    ("eighth", 0.125),
    ("ninths", 1.0 / 9.0),
    ("ninth", 1.0 / 9.0),
    ("tenths", 0.1),
    ("tenth", 0.1),
];

const EN_MULTIPLES: &[(&str, f64)] = &[
    ("twice", 2.0),
    ("doubled", 2.0),
    ("doubles", 2.0),
    ("doubling", 2.0),
    ("double", 2.0),
    ("tripled", 3.0),
    ("triples", 3.0),
    ("tripling", 3.0),
    ("triple", 3.0),
    ("quadrupled", 4.0),
    ("quadruples", 4.0),
    ("quadrupling", 4.0),
    ("quadruple", 4.0),
    ("halved", 0.5),
    ("halving", 0.5),
    ("halves", 0.5),
];

const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
];

/// Words before a number that make it a label, not a quantity.
const LABEL_CUES: &[&str] = &[
    "section",
    "sections",
    "sec",
    "§",
    "no",
    "nos",
    "number",
    "article",
    "art",
    "chapter",
    "title",
    "part",
    "rule",
    "order",
    "e.o",
    "eo",
    "h.r",
    "s",
    "l",
    "law",
    "fr",
    "resolution",
    "grade",
    "level",
    "phase",
    "stage",
    "tier",
    "category",
    "class",
    "type",
    "version",
    "v",
    "page",
    "pages",
    "p",
    "pp",
    "table",
    "figure",
    "fig",
    "chart",
    "box",
    "annex",
    "appendix",
    "item",
    "step",
    "eccn",
    "docket",
    "id",
    "paragraph",
    "para",
    "model",
    "series",
    "route",
    "flight",
    "room",
    "top",
    "pm",
    "year",
    "fy",
    "q",
    "h",
    "kirin",
    "mate",
    "pura",
    "iphone",
    "galaxy",
    "snapdragon",
    "ryzen",
    "core",
    "exynos",
    "dimensity",
    "covid",
    "g",
    "windows",
    "ios",
    "android",
    "ecc",
    "congress",
    "session",
    "footnote",
    "note",
    "notes",
    "ref",
    "cf",
    "clause",
    "subsection",
    "subpart",
    "schedule",
    "form",
    "amendment",
    "regulation",
    "directive",
    "exhibit",
    "volume",
    "vol",
    "issue",
    "edition",
    "ed",
    "act",
    "code",
    "usc",
    "u.s.c",
    "cfr",
    "c.f.r",
    "stat",
    "pub",
    "hr",
];

// ---------------------------------------------------------------------------------------
// Step 1: numerals

#[derive(Debug, Clone, Copy, PartialEq)]
enum Script {
    Digits,
    Chinese,
    Words,
}

#[derive(Debug, Clone)]
struct Numeral {
    start: usize,
    end: usize,
    value: f64,
    script: Script,
    /// Only the word "one"/"a"/"an" or the character 一 (an article unless a unit follows).
    is_one_word: bool,
    /// Plain integer digits without separators (a candidate year).
    plain_int: bool,
}

/// The ASCII word at `i`, lowercased (empty when longer than any number word), and its end.
fn ascii_word(t: &Text, i: usize) -> (Word, usize) {
    let mut e = i;
    while e < t.len() && t.c[e].is_ascii_alphabetic() {
        e += 1;
    }
    let mut w = Word {
        buf: [0; 12],
        len: 0,
    };
    if e - i <= 12 {
        for (k, c) in t.c[i..e].iter().enumerate() {
            w.buf[k] = c.to_ascii_lowercase() as u8;
        }
        w.len = e - i;
    }
    (w, e)
}

/// Which (lowercase first letter, length) pairs the `words` have: bit `n` of entry `l` is set
/// when a word of `n` letters starts with letter `l`.
fn first_letters_and_lengths<'a>(words: impl Iterator<Item = &'a str>) -> [u16; 26] {
    let mut table = [0u16; 26];
    for w in words {
        if let Some(first) = w.bytes().next().filter(u8::is_ascii_lowercase)
            && w.len() < 16
        {
            table[usize::from(first - b'a')] |= 1 << w.len();
        }
    }
    table
}

/// [`ascii_word`], but `None` at once unless the word's first letter and length are those of
/// a word in `table` (most words of prose are not): the scan for number words looks at
/// every word, and lowercasing each one was a tenth of the detector's work.
fn ascii_word_in(t: &Text, i: usize, table: &[u16; 26], fold: bool) -> (Option<Word>, usize) {
    let mut e = i;
    while e < t.len() && t.c[e].is_ascii_alphabetic() {
        e += 1;
    }
    if listed(t, i, e, table, fold) {
        (Some(ascii_word(t, i).0), e)
    } else {
        (None, e)
    }
}

/// Are the first letter and length of the word `i..e` those of a word in `table` (or, with
/// `fold`, does it end in "fold")?
#[inline]
fn listed(t: &Text, i: usize, e: usize, table: &[u16; 26], fold: bool) -> bool {
    let len = e - i;
    let first = usize::from(t.c[i].to_ascii_lowercase() as u8).wrapping_sub(usize::from(b'a'));
    let listed = len < 16 && table.get(first).is_some_and(|l| l & (1 << len) != 0);
    listed
        || (fold
            && len > 4
            && t.c[e - 4..e]
                .iter()
                .zip("fold".chars())
                .all(|(c, f)| c.to_ascii_lowercase() == f))
}

/// An ASCII word of the text: one starting where no ASCII letter or digit precedes it, up to
/// its last ASCII letter, and whether its first letter and length are those of a word that
/// may start a numeral (`numeral`) or be a multiple or fraction word (`special`; see
/// [`ascii_word_in`]). Both scans read this one list: finding each word's end twice was a
/// fifth of the detector's work.
struct AsciiWord {
    start: u32,
    end: u32,
    numeral: bool,
    special: bool,
}

impl AsciiWord {
    fn start(&self) -> usize {
        self.start as usize
    }
    fn end(&self) -> usize {
        self.end as usize
    }
}

/// Every [`AsciiWord`] of `t`, in order.
fn ascii_words(t: &Text) -> Vec<AsciiWord> {
    let (numerals, specials) = (numeral_words(), special_word_starts());
    // About one word in six characters of prose: sized once rather than grown (a Vec pushed
    // from empty is copied at each doubling).
    let mut words = Vec::with_capacity(t.len() / 6 + 1);
    let mut i = 0;
    while i < t.len() {
        if !(t.c[i].is_ascii_alphabetic() && (i == 0 || !t.c[i - 1].is_ascii_alphanumeric())) {
            i += 1;
            continue;
        }
        let mut end = i;
        while end < t.len() && t.c[end].is_ascii_alphabetic() {
            end += 1;
        }
        // Texts are cut far below 4 GB (a brief's text events); a longer one is skipped.
        let (Ok(start32), Ok(end32)) = (u32::try_from(i), u32::try_from(end)) else {
            break;
        };
        words.push(AsciiWord {
            start: start32,
            end: end32,
            numeral: listed(t, i, end, numerals, false),
            special: listed(t, i, end, specials, true),
        });
        i = end;
    }
    words
}

/// Words a numeral can start with ([`starts_numeral`]), by first letter and length.
fn numeral_words() -> &'static [u16; 26] {
    static TABLE: std::sync::OnceLock<[u16; 26]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        first_letters_and_lengths(
            ["a", "an"]
                .into_iter()
                .chain(EN_UNITS.iter().chain(EN_TENS).map(|(w, _)| *w)),
        )
    })
}

/// Multiples and fractions [`special_words`] looks for ("…fold" words apart).
fn special_word_starts() -> &'static [u16; 26] {
    static TABLE: std::sync::OnceLock<[u16; 26]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        first_letters_and_lengths(
            std::iter::once("half").chain(EN_MULTIPLES.iter().map(|(w, _)| *w)),
        )
    })
}

/// A short lowercase ASCII word, without allocating.
struct Word {
    buf: [u8; 12],
    len: usize,
}

impl Word {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl PartialEq<&str> for Word {
    fn eq(&self, other: &&str) -> bool {
        &self.buf[..self.len] == other.as_bytes()
    }
}

/// Can a numeral start with this word?
fn starts_numeral(word: &str) -> bool {
    word == "a" || word == "an" || EN_UNITS.iter().chain(EN_TENS).any(|(w, _)| *w == word)
}

/// Parses digits with thousands separators and a decimal part at `i`.
fn parse_digits(t: &Text, i: usize) -> Option<(usize, f64, bool)> {
    let mut k = i;
    let mut int_part = String::new();
    while let Some(d) = t.at(k).and_then(digit) {
        int_part.push(char::from_digit(d, 10)?);
        k += 1;
    }
    if int_part.is_empty() {
        return None;
    }
    let mut plain = true;
    // Thousands groups: `,` or a space followed by exactly three digits.
    loop {
        let sep = t.at(k);
        let is_sep = matches!(sep, Some(',') | Some('，'))
            || (matches!(sep, Some(' ') | Some('\u{a0}') | Some('\u{202f}'))
                && int_part.len() <= 3);
        if !is_sep {
            break;
        }
        let three = (1..=3).all(|d| t.at(k + d).is_some_and(is_digit))
            && !t.at(k + 4).is_some_and(is_digit);
        if !three {
            break;
        }
        if matches!(sep, Some(' ') | Some('\u{a0}') | Some('\u{202f}')) {
            // "in 2020 100 people" is not one number: only after a group of one to three digits.
            if int_part.len() > 3 && !int_part.contains('\u{0}') {
                break;
            }
        }
        for d in 1..=3 {
            int_part.push(char::from_digit(t.at(k + d).and_then(digit)?, 10)?);
        }
        k += 4;
        plain = false;
    }
    let mut s = int_part;
    // Decimal point, or a decimal comma followed by one or two digits ("12,5 GW").
    if matches!(t.at(k), Some('.') | Some('．')) && t.at(k + 1).is_some_and(is_digit) {
        s.push('.');
        k += 1;
        while let Some(d) = t.at(k).and_then(digit) {
            s.push(char::from_digit(d, 10)?);
            k += 1;
        }
        plain = false;
    } else if t.at(k) == Some(',') && plain && t.at(k + 1).is_some_and(is_digit) {
        let n = (1..=3)
            .take_while(|d| t.at(k + d).is_some_and(is_digit))
            .count();
        if n <= 2 && !t.at(k + n + 1).is_some_and(is_digit) && t.at(k + n + 1) == Some(' ') {
            s.push('.');
            for d in 1..=n {
                s.push(char::from_digit(t.at(k + d).and_then(digit)?, 10)?);
            }
            k += n + 1;
            plain = false;
        }
    }
    let v: f64 = s.parse().ok()?;
    Some((k, v, plain))
}

/// Parses a Chinese numeral (possibly mixed with digits: `12.4萬`, `2 兆 1,530 億`) at `i`.
fn parse_chinese(t: &Text, i: usize) -> Option<(usize, f64)> {
    let mut k = i;
    let mut groups: Vec<(f64, f64)> = Vec::new(); // (value, level)
    let mut section = 0.0;
    let mut number = 0.0;
    let mut prev_digit = false;
    let mut decimal: Option<f64> = None; // scale of the next decimal digit
    let mut any = false;
    let mut last_end = i;
    while k < t.len() {
        let c = t.c[k];
        if let Some(d) = digit(c) {
            if decimal.is_some() {
                break;
            }
            let (e, v, _) = parse_digits(t, k)?;
            number = v;
            k = e;
            prev_digit = false;
            any = true;
            last_end = k;
            // Spaces between a digit group and a scale character stay inside.
            let s = t.skip_spaces(k, 1);
            if s > k
                && t.at(s)
                    .is_some_and(|c| cn_big_unit(c).is_some() || cn_small_unit(c).is_some())
            {
                k = s;
            }
            let _ = d;
            continue;
        }
        if let Some(d) = cn_digit(c) {
            if let Some(scale) = decimal {
                number += d * scale;
                decimal = Some(scale / 10.0);
            } else if prev_digit {
                number = number * 10.0 + d;
            } else {
                number = d;
            }
            prev_digit = true;
        } else if c == '廿' || c == '卅' {
            section += if c == '廿' { 20.0 } else { 30.0 };
            number = 0.0;
            prev_digit = false;
        } else if let Some(u) = cn_small_unit(c) {
            if decimal.is_some() {
                break;
            }
            let n = if number == 0.0 && !prev_digit {
                1.0
            } else {
                number
            };
            section += n * u;
            number = 0.0;
            prev_digit = false;
        } else if let Some(u) = cn_big_unit(c) {
            decimal = None;
            let v = section + number;
            if v == 0.0 {
                match groups.last_mut() {
                    Some(last) if last.1 < u => {
                        last.0 *= u;
                        last.1 = u;
                    }
                    _ => break,
                }
            } else {
                let mut v = v;
                while groups.last().is_some_and(|g| g.1 < u) {
                    v += groups.pop().map_or(0.0, |g| g.0);
                }
                groups.push((v * u, u));
            }
            section = 0.0;
            number = 0.0;
            prev_digit = false;
        } else if (c == '點' || c == '点')
            && any
            && t.at(k + 1)
                .is_some_and(|n| cn_digit(n).is_some() || is_digit(n))
        {
            if t.at(k + 1).is_some_and(is_digit) {
                break;
            }
            decimal = Some(0.1);
            prev_digit = false;
            k += 1;
            continue;
        } else if matches!(c, ' ' | '\u{a0}')
            && any
            && t.at(k + 1)
                .is_some_and(|n| is_digit(n) || cn_big_unit(n).is_some())
            && !groups.is_empty()
        {
            // "2 兆 1,530 億": a space between groups.
            k += 1;
            continue;
        } else {
            break;
        }
        any = true;
        k += 1;
        last_end = k;
    }
    if !any {
        return None;
    }
    let total: f64 = groups.iter().map(|g| g.0).sum::<f64>() + section + number;
    Some((last_end, total))
}

/// English number words at `i` ("twenty-eight", "one hundred and five", "1.2 million" is digits).
fn parse_words(t: &Text, i: usize) -> Option<(usize, f64)> {
    if i > 0
        && t.at(i - 1)
            .is_some_and(|c| c.is_alphanumeric() && !is_cjk(c))
    {
        return None;
    }
    let mut k = i;
    let mut total = 0.0;
    let mut current = 0.0;
    let mut any = false;
    let mut end = i;
    loop {
        let mut matched = false;
        for (w, v) in EN_TENS {
            if let Some(e) = t.word_ci(k, w) {
                current += v;
                k = e;
                matched = true;
                // "twenty-eight"
                if t.at(k) == Some('-') {
                    for (u, uv) in &EN_UNITS[1..10] {
                        if let Some(e2) = t.word_ci(k + 1, u) {
                            current += uv;
                            k = e2;
                            break;
                        }
                    }
                }
                break;
            }
        }
        if !matched {
            for (w, v) in EN_UNITS {
                if let Some(e) = t.word_ci(k, w) {
                    current += v;
                    k = e;
                    matched = true;
                    break;
                }
            }
        }
        if !matched && any {
            for (w, v) in EN_SCALES {
                if let Some(e) = t.word_ci(k, w) {
                    if *v == 100.0 {
                        current = if current == 0.0 {
                            100.0
                        } else {
                            current * 100.0
                        };
                    } else {
                        total += if current == 0.0 { 1.0 } else { current } * v;
                        current = 0.0;
                    }
                    k = e;
                    matched = true;
                    break;
                }
            }
        }
        if !matched {
            break;
        }
        any = true;
        end = k;
        // Continue over " ", " and ", "-" when another number word follows.
        let s = t.skip_spaces(k, 1);
        let s = match t.word_ci(s, "and") {
            Some(e) if any => t.skip_spaces(e, 1),
            _ => s,
        };
        let next_is_number = EN_TENS
            .iter()
            .chain(EN_UNITS)
            .chain(EN_SCALES)
            .any(|(w, _)| t.word_ci(s, w).is_some());
        if s > k && next_is_number {
            k = s;
        } else {
            break;
        }
    }
    any.then_some((end, total + current))
}

fn find_numerals(t: &Text, words: &[AsciiWord]) -> Vec<Numeral> {
    let mut out = Vec::new();
    let mut i = 0;
    // The next of `words` not before `i` (`i` only grows).
    let mut next_word = 0;
    while i < t.len() {
        let c = t.c[i];
        // Digits (possibly continuing into Chinese scale characters).
        if is_digit(c) {
            if i > 0 && (is_ascii_letter(t.c[i - 1]) || is_digit(t.c[i - 1])) {
                // Inside an identifier (H20, FY2024): skip the whole token.
                while i < t.len() && (t.c[i].is_ascii_alphanumeric() || is_digit(t.c[i])) {
                    i += 1;
                }
                continue;
            }
            let Some((e, v, plain)) = parse_digits(t, i) else {
                i += 1;
                continue;
            };
            // Chinese scale characters or numerals right after digits: `12.4萬`, `2千8百万`.
            let (e, v, plain) = match t.at(t.skip_spaces(e, 1)) {
                Some(n)
                    if cn_big_unit(n).is_some()
                        || (cn_small_unit(n).is_some()
                            && t.at(t.skip_spaces(e, 1) + 1).is_none_or(|x| x != '分')) =>
                {
                    match parse_chinese(t, i) {
                        Some((e2, v2)) if e2 > e => (e2, v2, false),
                        _ => (e, v, plain),
                    }
                }
                _ => (e, v, plain),
            };
            out.push(Numeral {
                start: i,
                end: e,
                value: v,
                script: Script::Digits,
                is_one_word: false,
                plain_int: plain,
            });
            i = e;
            continue;
        }
        // (Chinese numerals are all outside ASCII.)
        if !c.is_ascii()
            && is_cn_numeral(c)
            && let Some((mut e, v)) = parse_chinese(t, i)
        {
            // A lone zero is a word (零組件, 零售), not a number.
            if e == i + 1 && matches!(c, '零' | '〇' | '○') {
                i = e;
                continue;
            }
            let one = e == i + 1 && c == '一';
            // Approximators inside the number phrase: 三百多, 十多年, 600餘.
            if matches!(t.at(e), Some('多') | Some('餘') | Some('余'))
                && c != '一'
                && t.at(e + 1).is_some_and(is_cjk)
                && !t.starts(e + 1, "次")
            {
                e += 1;
            }
            out.push(Numeral {
                start: i,
                end: e,
                value: v,
                script: Script::Chinese,
                is_one_word: one,
                plain_int: false,
            });
            i = e;
            continue;
        }
        if c.is_ascii_alphabetic() && (i == 0 || !t.c[i - 1].is_ascii_alphanumeric()) {
            // Only a few words can start a numeral: check the word before parsing.
            while words.get(next_word).is_some_and(|w| w.start() < i) {
                next_word += 1;
            }
            let (word, word_end) = match words.get(next_word).filter(|w| w.start() == i) {
                Some(w) => (w.numeral.then(|| ascii_word(t, i).0), w.end()),
                None => ascii_word_in(t, i, numeral_words(), false),
            };
            if !word.is_some_and(|w| starts_numeral(w.as_str())) {
                i = word_end;
                continue;
            }
            if let Some((e, v)) = parse_words(t, i) {
                let one = t.word_ci(i, "one") == Some(e);
                out.push(Numeral {
                    start: i,
                    end: e,
                    value: v,
                    script: Script::Words,
                    is_one_word: one,
                    plain_int: false,
                });
                i = e;
                continue;
            }
            // "a"/"an" before a scale or fraction word: "a billion", "a third".
            for art in ["a", "an"] {
                if let Some(e) = t.word_ci(i, art) {
                    let s = t.skip_spaces(e, 1);
                    if s > e {
                        let scale = EN_SCALES
                            .iter()
                            .skip(1)
                            .find_map(|(w, v)| t.word_ci(s, w).map(|x| (x, *v)));
                        if let Some((x, v)) = scale {
                            out.push(Numeral {
                                start: i,
                                end: x,
                                value: v,
                                script: Script::Words,
                                is_one_word: false,
                                plain_int: false,
                            });
                        } else if EN_FRACTIONS
                            .iter()
                            .any(|(w, _)| !w.starts_with("half") && t.word_ci(s, w).is_some())
                        {
                            out.push(Numeral {
                                start: i,
                                end: e,
                                value: 1.0,
                                script: Script::Words,
                                is_one_word: true,
                                plain_int: false,
                            });
                        }
                    }
                }
            }
            while i < t.len() && t.c[i].is_ascii_alphanumeric() {
                i += 1;
            }
            continue;
        }
        i += 1;
    }
    out
}

// ---------------------------------------------------------------------------------------
// Step 2: units

/// A unit found next to a numeral.
struct Unit {
    /// Where the quantity starts (a currency before the number moves it left).
    start: usize,
    end: usize,
    kind: Kind,
    value: f64,
    unit: String,
}

const CURRENCY_PREFIXES: &[(&str, &str)] = &[
    ("US$", "USD"),
    ("NT$", "TWD"),
    ("HK$", "HKD"),
    ("A$", "AUD"),
    ("C$", "CAD"),
    ("S$", "SGD"),
    ("R$", "BRL"),
    ("$", "USD"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("¥", "JPY"),
    ("￥", "CNY"),
    ("USD", "USD"),
    ("RMB", "CNY"),
    ("CNY", "CNY"),
    ("EUR", "EUR"),
    ("GBP", "GBP"),
    ("JPY", "JPY"),
    ("NTD", "TWD"),
    ("TWD", "TWD"),
    ("HKD", "HKD"),
    ("新台幣", "TWD"),
    ("新台币", "TWD"),
    ("台幣", "TWD"),
    ("台币", "TWD"),
    ("人民幣", "CNY"),
    ("人民币", "CNY"),
    ("美金", "USD"),
    ("港幣", "HKD"),
    ("港币", "HKD"),
];

const CN_MONEY_SUFFIXES: &[(&str, &str)] = &[
    ("美元", "USD"),
    ("美金", "USD"),
    ("港元", "HKD"),
    ("港幣", "HKD"),
    ("港币", "HKD"),
    ("日圓", "JPY"),
    ("日圆", "JPY"),
    ("日元", "JPY"),
    ("歐元", "EUR"),
    ("欧元", "EUR"),
    ("英鎊", "GBP"),
    ("英镑", "GBP"),
    ("韓元", "KRW"),
    ("韩元", "KRW"),
    ("台幣", "TWD"),
    ("台币", "TWD"),
    ("新台幣", "TWD"),
    ("新台币", "TWD"),
    ("人民幣", "CNY"),
    ("人民币", "CNY"),
    ("元", "yuan"),
    ("塊", "yuan"),
    ("块", "yuan"),
];

const EN_MONEY_SUFFIXES: &[(&str, &str)] = &[
    ("u.s. dollars", "USD"),
    ("us dollars", "USD"),
    ("dollars", "USD"),
    ("dollar", "USD"),
    ("yuan", "CNY"),
    ("renminbi", "CNY"),
    ("euros", "EUR"),
    ("euro", "EUR"),
    ("yen", "JPY"),
    ("won", "KRW"),
    ("rupees", "INR"),
    ("pesos", "MXN"),
];

/// English units of measure, longest first; (text, normalised unit).
const EN_MEASURES: &[(&str, &str)] = &[
    ("cubic feet", "cf"),
    ("cubic meters", "m3"),
    ("cubic metres", "m3"),
    ("square kilometers", "km2"),
    ("square kilometres", "km2"),
    ("square miles", "mi2"),
    ("metric tons", "t"),
    ("metric tonnes", "t"),
    ("terawatt-hours", "TWh"),
    ("terawatt hours", "TWh"),
    ("gigawatt-hours", "GWh"),
    ("gigawatt hours", "GWh"),
    ("megawatt-hours", "MWh"),
    ("kilowatt-hours", "kWh"),
    ("gigawatts", "GW"),
    ("gigawatt", "GW"),
    ("megawatts", "MW"),
    ("megawatt", "MW"),
    ("kilowatts", "kW"),
    ("terawatts", "TW"),
    ("degrees celsius", "°C"),
    ("degrees fahrenheit", "°F"),
    ("tonnes", "t"),
    ("tonne", "t"),
    ("tons", "t"),
    ("ton", "t"),
    ("barrels", "bbl"),
    ("barrel", "bbl"),
    ("kilometers", "km"),
    ("kilometres", "km"),
    ("kilometer", "km"),
    ("miles", "mi"),
    ("mile", "mi"),
    ("hectares", "ha"),
    ("acres", "acre"),
    ("kilograms", "kg"),
    ("kilogram", "kg"),
    ("grams", "g"),
    ("litres", "l"),
    ("liters", "l"),
    ("gallons", "gal"),
    ("meters", "m"),
    ("metres", "m"),
    ("feet", "ft"),
    ("basis points", "bp"),
    ("points", "pt"),
    ("Bcf/d", "bcf/d"),
    ("Bcfd", "bcf/d"),
    ("bcf/d", "bcf/d"),
    ("Bcf", "bcf"),
    ("bcm", "bcm"),
    ("tcf", "tcf"),
    ("TWh", "TWh"),
    ("GWh", "GWh"),
    ("MWh", "MWh"),
    ("kWh", "kWh"),
    ("GW", "GW"),
    ("MW", "MW"),
    ("kW", "kW"),
    ("TW", "TW"),
    ("TB", "TB"),
    ("GB", "GB"),
    ("MB", "MB"),
    ("PB", "PB"),
    ("Gt", "Gt"),
    ("Mt", "Mt"),
    ("mt", "Mt"),
    ("km", "km"),
    ("kg", "kg"),
    ("°C", "°C"),
    ("°F", "°F"),
    ("bpd", "bbl/d"),
    ("b/d", "bbl/d"),
    ("mb/d", "Mbbl/d"),
    ("GHz", "GHz"),
    ("MHz", "MHz"),
    ("ha", "ha"),
];

const CN_MEASURES: &[(&str, &str)] = &[
    ("公秉油當量", "kloe"),
    ("公升油當量", "loe"),
    ("攝氏度", "°C"),
    ("摄氏度", "°C"),
    ("百萬瓦", "MW"),
    ("百万瓦", "MW"),
    ("千瓦時", "kWh"),
    ("千瓦时", "kWh"),
    ("兆瓦", "MW"),
    ("千瓦", "kW"),
    ("吉瓦", "GW"),
    ("瓩", "kW"),
    ("平方公里", "km2"),
    ("立方公尺", "m3"),
    ("立方米", "m3"),
    ("公頃", "ha"),
    ("公顷", "ha"),
    ("公噸", "t"),
    ("公吨", "t"),
    ("噸", "t"),
    ("吨", "t"),
    ("公里", "km"),
    ("公尺", "m"),
    ("公斤", "kg"),
    ("千克", "kg"),
    ("公升", "l"),
    ("桶", "bbl"),
    ("英畝", "acre"),
    ("斤", "jin"),
    ("度", "kWh"),
    ("瓦", "W"),
];

const CN_CLASSIFIERS: &str = "家名個个位項项件輛辆台座艘架人戶户次期批條条種种顆颗片份所款間间棟栋張张本篇部支隻只頭头匹株枚類类國国省縣县道起宗筆笔場场例套組组隊队輪轮處处層层級级大餘余";

const EN_TIME: &[(&str, &str)] = &[
    ("years", "year"),
    ("year", "year"),
    ("months", "month"),
    ("month", "month"),
    ("weeks", "week"),
    ("week", "week"),
    ("days", "day"),
    ("day", "day"),
    ("hours", "hour"),
    ("hour", "hour"),
    ("minutes", "minute"),
    ("decades", "decade"),
    ("decade", "decade"),
    ("centuries", "century"),
    ("quarters", "quarter"),
];

/// The entries of a word table by first character (ASCII letters folded to lowercase), each
/// group in table order: a lookup tries only the entries that can match the character it
/// starts at. Scanning whole tables for every figure (a hundred entries, each decoding its
/// first character) was an eighth of the detector's work.
struct ByFirst {
    ascii: [Vec<u8>; 128],
    /// Non-ASCII first characters, sorted, each with its entries.
    other: Vec<(char, Vec<u8>)>,
}

impl ByFirst {
    /// Groups `words` (at most 256) by first character.
    fn new<'w>(words: impl IntoIterator<Item = &'w str>) -> ByFirst {
        let mut by = ByFirst {
            ascii: std::array::from_fn(|_| Vec::new()),
            other: Vec::new(),
        };
        for (i, w) in words.into_iter().enumerate() {
            let (Some(c), Ok(i)) = (w.chars().next(), u8::try_from(i)) else {
                continue;
            };
            let c = c.to_ascii_lowercase();
            if c.is_ascii() {
                by.ascii[c as usize].push(i);
            } else {
                match by.other.binary_search_by_key(&c, |(k, _)| *k) {
                    Ok(k) => by.other[k].1.push(i),
                    Err(k) => by.other.insert(k, (c, vec![i])),
                }
            }
        }
        by
    }

    /// The indices of the entries whose first character (folded) is `c` (already folded).
    fn get(&self, c: Option<char>) -> &[u8] {
        match c {
            None => &[],
            Some(c) if c.is_ascii() => &self.ascii[c as usize],
            Some(c) => match self.other.binary_search_by_key(&c, |(k, _)| *k) {
                Ok(k) => &self.other[k].1,
                Err(_) => &[],
            },
        }
    }
}

/// A [`ByFirst`] of a `(word, value)` table (or, with `words`, of a word list), built once.
macro_rules! by_first {
    ($table:expr) => {{
        static INDEX: std::sync::OnceLock<ByFirst> = std::sync::OnceLock::new();
        INDEX.get_or_init(|| ByFirst::new($table.iter().map(|e| e.0)))
    }};
    (words $list:expr) => {{
        static INDEX: std::sync::OnceLock<ByFirst> = std::sync::OnceLock::new();
        INDEX.get_or_init(|| ByFirst::new($list.iter().copied()))
    }};
}

/// The first entry of `table` whose word (case-insensitive) stands at `at`: its end and value.
/// Only entries starting with the character at `at` are tried (`index` is `table`'s).
fn lookup_word<'a>(
    t: &Text,
    at: usize,
    table: &[(&str, &'a str)],
    index: &ByFirst,
) -> Option<(usize, &'a str)> {
    let first = t.at(at).map(|c| c.to_ascii_lowercase());
    index.get(first).iter().find_map(|&i| {
        let (w, v) = table[usize::from(i)];
        t.word_ci(at, w).map(|x| (x, v))
    })
}

/// Finds the unit after a numeral ending at `e` (and a currency before `start`).
fn attach_unit(t: &Text, n: &Numeral) -> Option<Unit> {
    let (start, e, v) = (n.start, n.end, n.value);
    // Currency before the number.
    let mut cur_start = start;
    let mut currency: Option<&str> = None;
    {
        let s = if start > 0 && matches!(t.at(start - 1), Some(' ')) {
            start - 1
        } else {
            start
        };
        // Only prefixes ending in the character just before the number (or before a space).
        let last_chars = [
            start.checked_sub(1).and_then(|k| t.at(k)),
            s.checked_sub(1).and_then(|k| t.at(k)),
        ];
        for (p, code) in CURRENCY_PREFIXES {
            if !last_chars.contains(&p.chars().last()) {
                continue;
            }
            let len = p.chars().count();
            for from in [start, s] {
                if from >= len && t.starts(from - len, p) {
                    // A word currency (USD, 新台幣) needs a boundary before it.
                    let before = from - len;
                    let ok =
                        before == 0 || !t.at(before - 1).is_some_and(|c| c.is_ascii_alphanumeric());
                    if ok && (from == start || !p.starts_with(['$', '€', '£', '¥', '￥'])) {
                        currency = Some(code);
                        cur_start = before;
                    }
                }
            }
            if currency.is_some() {
                break;
            }
        }
    }
    // Scale words after digits: "1.2 million", "$83bn", "€2.5m".
    let mut end = e;
    let mut value = v;
    if n.script == Script::Digits {
        let s = t.skip_spaces(end, 1);
        let mut scaled = false;
        for (w, m) in EN_SCALES {
            if let Some(x) = t.word_ci(s, w) {
                value *= m;
                end = x;
                scaled = true;
                break;
            }
        }
        if !scaled && s == end {
            for (w, m, needs_currency) in [
                ("bn", 1e9, false),
                ("mn", 1e6, false),
                ("tn", 1e12, false),
                ("m", 1e6, true),
                ("k", 1e3, true),
                ("b", 1e9, true),
            ] {
                if let Some(x) = t.word_ci(end, w)
                    && (!needs_currency || currency.is_some())
                {
                    value *= m;
                    end = x;
                    break;
                }
            }
        }
    }
    let s = t.skip_spaces(end, 1);
    // Percent.
    for p in ['%', '％'] {
        if t.at(s) == Some(p) && (s == end || s == end + 1) {
            return Some(Unit {
                start: sign_start(t, start, cur_start),
                end: s + 1,
                kind: Kind::Percent,
                value: value / 100.0,
                unit: "%".into(),
            });
        }
    }
    if t.at(s) == Some('‰') {
        return Some(Unit {
            start,
            end: s + 1,
            kind: Kind::Percent,
            value: value / 1000.0,
            unit: "%".into(),
        });
    }
    for (w, pp) in [
        ("percentage points", true),
        ("percentage point", true),
        ("per cent", false),
        ("percent", false),
        ("pc", false),
    ] {
        let at = if w == "pc" { end } else { s };
        if let Some(x) = t.word_ci(at, w) {
            return Some(if pp {
                Unit {
                    start,
                    end: x,
                    kind: Kind::Percent,
                    value,
                    unit: "pp".into(),
                }
            } else {
                Unit {
                    start: sign_start(t, start, cur_start),
                    end: x,
                    kind: Kind::Percent,
                    value: value / 100.0,
                    unit: "%".into(),
                }
            });
        }
    }
    for w in ["個百分點", "个百分点", "百分點", "百分点"] {
        if t.starts(s, w) {
            return Some(Unit {
                start,
                end: s + w.chars().count(),
                kind: Kind::Percent,
                value,
                unit: "pp".into(),
            });
        }
    }
    // 成 as tenths: 六成, 九成八, 八成五.
    if t.at(end) == Some('成')
        && !t
            .at(end + 1)
            .is_some_and(|c| "長长為为功本立交員员果效就品年都熟績绩分".contains(c))
    {
        let mut x = end + 1;
        let mut ratio = value / 10.0;
        if let Some(d) = t.at(x).and_then(cn_digit)
            && !t
                .at(x + 1)
                .is_some_and(|c| CN_CLASSIFIERS.contains(c) || c == '成')
        {
            ratio += d / 100.0;
            x += 1;
        }
        return Some(Unit {
            start,
            end: x,
            kind: Kind::Percent,
            value: ratio,
            unit: "%".into(),
        });
    }
    // Multiples.
    if t.at(s) == Some('倍') {
        return Some(Unit {
            start,
            end: s + 1,
            kind: Kind::Multiple,
            value,
            unit: "x".into(),
        });
    }
    if let Some(x) = t.word_ci(s, "times") {
        return Some(Unit {
            start,
            end: x,
            kind: Kind::Multiple,
            value,
            unit: "x".into(),
        });
    }
    if s == end
        && let Some(x) = t.word_ci(end, "x")
    {
        return Some(Unit {
            start,
            end: x,
            kind: Kind::Multiple,
            value,
            unit: "x".into(),
        });
    }
    if t.at(end) == Some('-')
        && let Some(x) = t.word_ci(end + 1, "fold")
    {
        return Some(Unit {
            start,
            end: x,
            kind: Kind::Multiple,
            value,
            unit: "x".into(),
        });
    }
    // Fractions: 3分之2, 三分之二, 1/3, 19.6/10万.
    if t.starts(s, "分之") {
        let x = s + 2;
        if let Some(m) = find_numeral_at(t, x) {
            if t.slice(start, end) == "百" {
                // 百分之六十, and 百分之三到四 (the second number shares the unit).
                let mut x = m.0;
                if matches!(t.at(x), Some('到') | Some('至'))
                    && !t.starts(x + 1, "百分之")
                    && let Some((e2, _)) = find_numeral_at(t, x + 1)
                {
                    x = e2;
                }
                return Some(Unit {
                    start,
                    end: x,
                    kind: Kind::Percent,
                    value: m.1 / 100.0,
                    unit: "%".into(),
                });
            }
            return Some(Unit {
                start,
                end: m.0,
                kind: Kind::Fraction,
                value: if value != 0.0 { m.1 / value } else { 0.0 },
                unit: "ratio".into(),
            });
        }
    }
    if t.at(end) == Some('/')
        && t.at(end + 1).is_some_and(is_digit)
        && n.script == Script::Digits
        && let Some((x, d, _)) = parse_digits(t, end + 1)
    {
        let (x, d) = match t.at(x).and_then(cn_big_unit) {
            Some(m) => (x + 1, d * m),
            None => (x, d),
        };
        if !t.at(x).is_some_and(|c| is_digit(c) || c == '/') {
            return Some(Unit {
                start,
                end: x,
                kind: Kind::Fraction,
                value: if d != 0.0 { value / d } else { 0.0 },
                unit: "ratio".into(),
            });
        }
    }
    // Fraction words after a number word: "two-thirds", "three fifths", "a third".
    if n.script == Script::Words || n.is_one_word {
        let at = if t.at(end) == Some('-') { end + 1 } else { s };
        for (w, fv) in EN_FRACTIONS {
            if let Some(x) = t.word_ci(at, w)
                && (value > 1.0 || !w.ends_with('s'))
            {
                return Some(Unit {
                    start,
                    end: x,
                    kind: Kind::Fraction,
                    value: value * fv,
                    unit: "ratio".into(),
                });
            }
        }
    }
    // Money suffixes: 830億美元, 3000億元, 1.2万亿元人民币, 60.5元/千克, "3 billion yuan".
    let first = t.at(s);
    for (w, code) in CN_MONEY_SUFFIXES {
        if w.chars().next() == first
            && t.starts(s, w)
            && !(*w == "元" && t.at(s + 1).is_some_and(|c| "素首旦月年帥帅老".contains(c)))
        {
            let mut x = s + w.chars().count();
            let mut code = currency.unwrap_or(code).to_string();
            if *w == "元" {
                for (p, c2) in [
                    ("人民幣", "CNY"),
                    ("人民币", "CNY"),
                    ("新台幣", "TWD"),
                    ("新台币", "TWD"),
                ] {
                    if t.starts(x, p) {
                        x += p.chars().count();
                        code = c2.to_string();
                    }
                }
            }
            if t.at(x) == Some('/') && t.at(x + 1).is_some_and(is_cjk) {
                x += if t.starts(x + 1, "千克") || t.starts(x + 1, "公斤") {
                    3
                } else {
                    2
                };
            }
            return Some(Unit {
                start: cur_start,
                end: x,
                kind: Kind::Money,
                value,
                unit: code,
            });
        }
    }
    if currency.is_none()
        && let Some((x, code)) = lookup_word(t, s, EN_MONEY_SUFFIXES, by_first!(EN_MONEY_SUFFIXES))
    {
        return Some(Unit {
            start,
            end: x,
            kind: Kind::Money,
            value,
            unit: code.into(),
        });
    }
    if let Some(code) = currency {
        // "$2 billion U.S."
        let mut x = end;
        let after = t.skip_spaces(end, 1);
        if t.starts(after, "U.S.") && end > e {
            x = after + 4;
        }
        return Some(Unit {
            start: cur_start,
            end: x,
            kind: Kind::Money,
            value,
            unit: code.into(),
        });
    }
    // Time: durations (and calendar labels, which `filter` drops).
    if let Some(u) = time_unit(t, n, end, s, value) {
        return Some(u);
    }
    let measure = measure_unit(t, n, start, cur_start, end, s, value);
    if measure.is_some() {
        return measure;
    }
    // A scale word alone: "1.2 million" people is a count.
    if end > e {
        return Some(Unit {
            start,
            end,
            kind: Kind::Count,
            value,
            unit: String::new(),
        });
    }
    None
}

fn measure_unit(
    t: &Text,
    n: &Numeral,
    start: usize,
    cur_start: usize,
    end: usize,
    s: usize,
    value: f64,
) -> Option<Unit> {
    // Measures (only entries whose first character matches are tried).
    let first = t.at(s);
    for &i in by_first!(CN_MEASURES).get(first.filter(|c| !c.is_ascii())) {
        let (w, unit) = &CN_MEASURES[usize::from(i)];
        if t.starts(s, w) {
            // 度 is a kWh after a large amount (12.5億度) or before 電; not a small 三度.
            if *w == "度"
                && n.script == Script::Chinese
                && value < 100.0
                && !t.at(s + 1).is_some_and(|c| "電电".contains(c))
            {
                continue;
            }
            let x = s + w.chars().count();
            return Some(Unit {
                start,
                end: x,
                kind: Kind::Measure,
                value,
                unit: (*unit).into(),
            });
        }
    }
    if t.at(end).is_some_and(|c| c == '點' || c == '点')
        && !t
            .at(end + 1)
            .is_some_and(|c| cn_digit(c).is_some() || is_digit(c) || "名".contains(c))
        && !n.plain_int
    {
        return Some(Unit {
            start,
            end: end + 1,
            kind: Kind::Measure,
            value,
            unit: "pt".into(),
        });
    }
    {
        let at = if t.at(end) == Some('-') { end + 1 } else { s };
        let first = t.at(at).map(|c| c.to_ascii_lowercase());
        for &i in by_first!(EN_MEASURES).get(first) {
            let (w, unit) = &EN_MEASURES[usize::from(i)];
            let hit =
                if w.chars().any(|c| c.is_uppercase()) || w.contains('/') || w.starts_with('°') {
                    t.starts(at, w)
                        .then(|| at + w.chars().count())
                        .filter(|x| !t.at(*x).is_some_and(|c| c.is_ascii_alphanumeric()))
                } else {
                    t.word_ci(at, w)
                };
            if let Some(mut x) = hit {
                // A fused rate stays: "TB/s", "TWh/y".
                if t.at(x) == Some('/')
                    && t.at(x + 1).is_some_and(|c| c.is_ascii_alphabetic())
                    && !t.at(x + 2).is_some_and(|c| c.is_ascii_alphabetic())
                {
                    x += 2;
                }
                return Some(Unit {
                    start: cur_start.min(start),
                    end: x,
                    kind: Kind::Measure,
                    value,
                    unit: (*unit).into(),
                });
            }
        }
    }
    None
}

/// A `+` written on the number stays in the span.
fn sign_start(t: &Text, start: usize, cur_start: usize) -> usize {
    if cur_start < start {
        return cur_start;
    }
    if start > 0
        && matches!(t.at(start - 1), Some('+') | Some('−'))
        && !t
            .at(start.wrapping_sub(2))
            .is_some_and(|c| c.is_alphanumeric())
    {
        return start - 1;
    }
    start
}

/// A numeral (any script) exactly at `i`: its end and value.
fn find_numeral_at(t: &Text, i: usize) -> Option<(usize, f64)> {
    if t.at(i).is_some_and(is_digit) {
        return parse_digits(t, i).map(|(e, v, _)| match t.at(e).and_then(cn_big_unit) {
            Some(m) => (e + 1, v * m),
            None => (e, v),
        });
    }
    if t.at(i).is_some_and(is_cn_numeral) {
        return parse_chinese(t, i);
    }
    None
}

const DURATION_CUES_CN: &[&str] = &[
    "近", "過去", "过去", "未來", "未来", "連續", "连续", "長達", "长达", "為期", "为期", "滿",
    "满", "歷時", "历时", "耗時", "耗时", "時隔", "时隔", "相隔", "超過", "超过", "逾", "約", "约",
    "花了", "需", "用", "经过", "經過", "达", "達", "至少", "长", "長",
];

fn time_unit(t: &Text, n: &Numeral, end: usize, s: usize, value: f64) -> Option<Unit> {
    let start = n.start;
    // English: "five years", "nine consecutive months", "11-year", "26 months".
    if n.script != Script::Chinese {
        let mut at = s;
        if t.at(end) == Some('-') {
            at = end + 1;
        } else if t
            .at(t.skip_spaces(end, 3))
            .is_some_and(|c| matches!(c, 'c' | 's' | 'f' | 'C' | 'S' | 'F'))
            && let (w, x) = t.word_after(end)
            && matches!(
                w.as_str(),
                "consecutive" | "straight" | "successive" | "full"
            )
        {
            at = t.skip_spaces(x, 1);
        }
        if let Some((x, unit)) = lookup_word(t, at, EN_TIME, by_first!(EN_TIME)) {
            return Some(Unit {
                start,
                end: x,
                kind: Kind::Duration,
                value,
                unit: unit.into(),
            });
        }
        if t.at(end) == Some('-') {
            for w in ["year", "month", "week", "day", "hour", "decade"] {
                if let Some(x) = t.word_ci(end + 1, w) {
                    return Some(Unit {
                        start,
                        end: x,
                        kind: Kind::Duration,
                        value,
                        unit: w.into(),
                    });
                }
            }
        }
    }
    // Chinese: 五年, 三個月, 六十天, 兩季 (with a cue), 76.7岁.
    let cjk_s = if n.script == Script::Digits { s } else { end };
    // Every unit below starts with a CJK character.
    if !t.at(cjk_s).is_some_and(is_cjk) {
        return None;
    }
    let unit_at = |w: &str| t.starts(cjk_s, w);
    if unit_at("年")
        && !t.starts(cjk_s + 1, "代")
        && !t.starts(cjk_s + 1, "度")
        && !t.starts(cjk_s + 1, "級")
        && !t.starts(cjk_s + 1, "级")
    {
        return Some(Unit {
            start,
            end: cjk_s + 1,
            kind: Kind::Duration,
            value,
            unit: "year".into(),
        });
    }
    for w in [
        "個多月",
        "个多月",
        "個半月",
        "个半月",
        "個月",
        "个月",
        "多個月",
        "多个月",
    ] {
        if unit_at(w) {
            let half = if w.contains('半') { 0.5 } else { 0.0 };
            return Some(Unit {
                start,
                end: cjk_s + w.chars().count(),
                kind: Kind::Duration,
                value: value + half,
                unit: "month".into(),
            });
        }
    }
    for (w, unit) in [
        ("星期", "week"),
        ("週", "week"),
        ("周", "week"),
        ("天", "day"),
        ("小時", "hour"),
        ("小时", "hour"),
        ("分鐘", "minute"),
        ("分钟", "minute"),
        ("歲", "year"),
        ("岁", "year"),
        ("季", "quarter"),
        ("世代", "generation"),
    ] {
        if unit_at(w) {
            if w == "季" {
                let cue = DURATION_CUES_CN.iter().any(|c| {
                    start >= c.chars().count() && t.slice(start - c.chars().count(), start) == *c
                });
                if !cue || value <= 1.0 || t.starts(cjk_s + 1, "度") {
                    return None;
                }
            }
            if (w == "週" || w == "周") && t.starts(cjk_s + 1, "年") {
                return None;
            }
            return Some(Unit {
                start,
                end: cjk_s + w.chars().count(),
                kind: Kind::Duration,
                value,
                unit: unit.into(),
            });
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// Steps 3 and 4: whole quantities, ranges, filters

/// Detects every quantity in `text`.
pub fn detect(text: &str) -> Vec<Quantity> {
    // Sized once: collecting `chars()` would grow the buffer a few times per text. Most prose
    // is ASCII, where each byte is a char: that copy is a simple widening loop, while decoding
    // UTF-8 char by char was a tenth of the detector's work.
    let mut chars: Vec<char> = Vec::with_capacity(text.len());
    let ascii = text.is_ascii();
    if ascii {
        chars.extend(text.bytes().map(char::from));
    } else {
        chars.extend(text.chars());
    }
    let t = Text { c: &chars };
    let mut out: Vec<Quantity> = Vec::new();
    let words = ascii_words(&t);
    let numerals = find_numerals(&t, &words);
    let mut candidates: Vec<(Numeral, Option<Unit>)> = numerals
        .into_iter()
        .map(|n| {
            let u = attach_unit(&t, &n);
            (n, u)
        })
        .collect();
    // Special words that are quantities by themselves.
    special_words(&t, &words, ascii, &mut candidates);
    candidates.sort_by_key(|(n, u)| u.as_ref().map_or(n.start, |u| u.start.min(n.start)));

    let mut skip_until = 0;
    for (n, unit) in &candidates {
        let start = unit.as_ref().map_or(n.start, |u| u.start.min(n.start));
        if start < skip_until {
            continue;
        }
        let Some(mut q) = judge(&t, n, unit.as_ref()) else {
            continue;
        };
        q.tolerance = tolerance(&t, n, q.value.hi());
        skip_until = q.end;
        out.push(q);
    }
    let out = join_ranges(&t, out);
    let mut out = join_fractions(&t, out);
    out.sort_by_key(|q| q.start);
    out.dedup_by(|b, a| b.start < a.end);
    for q in &mut out {
        q.value = match q.value {
            Value::One(v) => Value::One(tidy(v)),
            Value::Range(lo, hi) => Value::Range(tidy(lo), tidy(hi)),
        };
        q.tolerance = tidy(q.tolerance);
    }
    out
}

/// Powers of ten a double holds exactly.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `v` rounded to 15 significant digits: arithmetic on the figures as written (74.4 / 100,
/// 8.7 x 10^8, 3 / 5) leaves binary noise in the last digit (0.7440000000000001,
/// 869999999.9999999, 0.6000000000000001), and the claims data would show a figure nobody
/// wrote. No prose states a figure to 15 digits. The rounded integer and the power of ten are
/// both exact, so the one division (or product) gives the double nearest the decimal.
fn tidy(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    // Decimal places that keep 15 significant digits.
    let places = 14 - v.abs().log10().floor() as i32;
    match usize::try_from(places) {
        Ok(p) if p < POW10.len() => (v * POW10[p]).round() / POW10[p],
        Ok(_) => v,
        Err(_) => match POW10.get(places.unsigned_abs() as usize) {
            Some(&scale) => (v / scale).round() * scale,
            None => v,
        },
    }
}

/// Whole-word multiples and fractions with no numeral: twice, doubled, fivefold, half, 倍增...
/// `words` are the text's ASCII words ([`ascii_words`]); `ascii` tells that the text holds
/// nothing else (no Chinese to look at).
fn special_words(
    t: &Text,
    words: &[AsciiWord],
    ascii: bool,
    out: &mut Vec<(Numeral, Option<Unit>)>,
) {
    for w in words.iter().filter(|w| w.special) {
        let i = w.start();
        let word = ascii_word(t, i).0;
        let word = word.as_str();
        if !(word == "half"
            || word.ends_with("fold")
            || EN_MULTIPLES.iter().any(|(w, _)| *w == word))
        {
            continue;
        }
        let mut found = None;
        for (w, v) in EN_MULTIPLES {
            if let Some(e) = t.word_ci(i, w) {
                found = Some((e, Kind::Multiple, *v, "x"));
                break;
            }
        }
        if found.is_none() {
            // "fivefold", "tenfold", "twofold"
            let word: String = t.c[i..]
                .iter()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            if let Some(stem) = word.to_lowercase().strip_suffix("fold")
                && let Some((_, v)) = EN_UNITS.iter().chain(EN_TENS).find(|(w, _)| *w == stem)
            {
                found = Some((i + word.len(), Kind::Multiple, *v, "x"));
            }
        }
        if found.is_none()
            && let Some(e) = t.word_ci(i, "half")
        {
            found = Some((e, Kind::Fraction, 0.5, "ratio"));
        }
        if let Some((e, _, _, _)) = found
            && t.at(e) == Some('-')
        {
            continue;
        }
        if let Some((e, kind, v, unit)) = found {
            out.push(whole_word(i..e, Script::Words, kind, v, unit));
        }
    }
    if ascii {
        return;
    }
    let mut i = 0;
    while i < t.len() {
        let c = t.c[i];
        if !matches!(c, '倍' | '翻' | '減' | '减' | '一' | '半') {
            i += 1;
            continue;
        }
        for (w, kind, v) in [
            ("倍增", Kind::Multiple, 2.0),
            ("翻一番", Kind::Multiple, 2.0),
            ("翻兩番", Kind::Multiple, 4.0),
            ("翻两番", Kind::Multiple, 4.0),
            ("減半", Kind::Multiple, 0.5),
            ("减半", Kind::Multiple, 0.5),
            ("一半", Kind::Fraction, 0.5),
            ("半年", Kind::Duration, 0.5),
        ] {
            if t.starts(i, w) {
                let e = i + w.chars().count();
                if w == "半年" && i > 0 && "上下前後后多大".contains(t.c[i - 1]) {
                    continue;
                }
                let unit = if kind == Kind::Duration {
                    "year"
                } else if kind == Kind::Multiple {
                    "x"
                } else {
                    "ratio"
                };
                out.push(whole_word(i..e, Script::Chinese, kind, v, unit));
            }
        }
        i += 1;
    }
}

/// A word that is a quantity by itself (`twice`, `倍增`): numeral and unit at once.
fn whole_word(
    at: std::ops::Range<usize>,
    script: Script,
    kind: Kind,
    value: f64,
    unit: &str,
) -> (Numeral, Option<Unit>) {
    (
        Numeral {
            start: at.start,
            end: at.end,
            value,
            script,
            is_one_word: false,
            plain_int: false,
        },
        Some(Unit {
            start: at.start,
            end: at.end,
            kind,
            value,
            unit: unit.into(),
        }),
    )
}

fn prev_char(t: &Text, i: usize) -> Option<char> {
    if i == 0 { None } else { t.at(i - 1) }
}

/// Chinese words that start with a numeral but are no quantity (十四五, 兩岸, 一再...).
const CN_FIXED: &[&str] = &[
    "兩岸",
    "两岸",
    "兩國",
    "两国",
    "兩會",
    "两会",
    "二者",
    "两者",
    "兩者",
    "一再",
    "一貫",
    "一贯",
    "一盘棋",
    "一盤棋",
    "两用",
    "兩用",
    "两重",
    "兩重",
    "两新",
    "兩新",
    "六穩",
    "六稳",
    "六保",
    "十四五",
    "十三五",
    "十五五",
    "三重",
    "三率",
    "兩手",
    "两手",
    "一些",
    "一樣",
    "一样",
    "一起",
    "一直",
    "一定",
    "一般",
    "一致",
    "一切",
    "一同",
    "一旦",
    "一方",
    "一步",
    "一點",
    "一点",
    "一體",
    "一体",
    "一流",
    "一帶",
    "一带",
    "一線",
    "一线",
    "一度",
    "一併",
    "一并",
    "一律",
    "一向",
    "一味",
    "一時",
    "一时",
    "一口",
    "一邊",
    "一边",
    "一面",
    "一部分",
    "萬一",
    "万一",
    "千萬",
    "千万",
    "百姓",
    "十分",
    "一連串",
    "一连串",
    "三角",
    "四周",
    "四處",
    "四处",
    "八卦",
    "十足",
    "一家",
    "一季",
    "一大",
    "兩大",
    "两大",
    "九成",
    "千億",
    "一分",
    "一環",
    "一环",
    "一手",
    "一名",
    "一份",
    "一個",
    "一个",
    "一項",
    "一项",
    "一條",
    "一条",
    "一批",
    "一次",
    "一輪",
    "一轮",
    "一種",
    "一种",
    "一位",
    "一座",
    "一款",
    "一間",
    "一间",
    "一張",
    "一张",
    "一篇",
    "一期",
    "一日",
    "一年一度",
    "五四",
    "二戰",
    "二战",
    "一戰",
    "一战",
    "三通",
    "三中",
    "二中",
    "四中",
    "五中",
    "六中",
    "七中",
    "一中",
    "二五八萬",
];

/// Decides whether a numeral (with its unit) is a quantity, and builds it.
fn judge(t: &Text, n: &Numeral, unit: Option<&Unit>) -> Option<Quantity> {
    let (start, end) = (n.start, n.end);
    let before = prev_char(t, start);
    let after = t.at(end);
    let (wb, wb_start) = t.word_before(start);
    let (wa, _) = t.word_after(end);

    // Inside brackets alone: a citation or list marker ([1], (1), （一）).
    let bracketed =
        matches!(before, Some('[') | Some('【')) && matches!(after, Some(']') | Some('】'));
    if bracketed {
        return None;
    }
    if matches!(before, Some('(') | Some('（'))
        && matches!(after, Some(')') | Some('）'))
        && unit.is_none()
    {
        return None;
    }
    // Glued to letters: identifiers (5G, 3A090, 1990s, 118th, COVID-19, GAO-24-106393, 2454-TW).
    if after.is_some_and(|c| c.is_ascii_alphabetic()) && unit.is_none_or(|u| u.end == end) {
        return None;
    }
    if matches!(before, Some('-') | Some('–') | Some('+') | Some(':'))
        && prev_char(t, start - 1).is_some_and(|c| c.is_ascii_alphabetic())
        && n.script == Script::Digits
    {
        return None; // COVID-19, N+2, D:1
    }
    if matches!(before, Some('-') | Some('–'))
        && n.script == Script::Digits
        && start >= 2
        && prev_char(t, start - 1).is_some_and(is_digit)
    {
        // The second half of `117–167` after a label, or of `GAO-24-106393`.
        let mut k = start - 1;
        while k > 0 && (is_digit(t.c[k - 1]) || t.c[k - 1] == '-' || t.c[k - 1] == '–') {
            k -= 1;
        }
        let (w, _) = t.word_before(k);
        let year_first = start - 1 - k == 4 && unit.is_none();
        if year_first
            || LABEL_CUES.contains(&w.as_str())
            || (k > 0 && t.c[k - 1].is_ascii_alphabetic())
        {
            return None;
        }
    }
    // Times of day: 9:30.
    if n.script == Script::Digits
        && (after == Some(':') && t.at(end + 1).is_some_and(is_digit)
            || before == Some(':') && prev_char(t, start - 1).is_some_and(is_digit))
    {
        return None;
    }
    // Title numbers of codes: 50 U.S.C., 89 FR 90398, 15 CFR.
    {
        let a = t.skip_spaces(end, 1);
        if ["U.S.C", "USC", "CFR", "C.F.R", "FR ", "Stat."]
            .iter()
            .any(|w| t.starts(a, w))
            && a > end
        {
            return None;
        }
    }
    // Stock codes: 2454-TW, 0700-HK.
    if after == Some('-') {
        let code: String = t.c[end + 1..]
            .iter()
            .take_while(|c| c.is_ascii_uppercase())
            .collect();
        if matches!(
            code.as_str(),
            "TW" | "HK" | "US" | "KS" | "SZ" | "SH" | "JP" | "T" | "TWO"
        ) && !t
            .at(end + 1 + code.len())
            .is_some_and(|c| c.is_ascii_alphanumeric())
        {
            return None;
        }
    }
    // Chinese brand names before a model number: 麒麟9010, 驍龍8.
    for brand in [
        "麒麟", "驍龍", "骁龙", "天璣", "天玑", "鴻蒙", "鸿蒙", "昇騰", "昇腾", "鯤鵬", "鲲鹏",
    ] {
        if t.ends_at(start, brand) {
            return None;
        }
    }
    if after == Some('-')
        && t.at(end + 1).is_some_and(|c| c.is_ascii_uppercase())
        && unit.is_none_or(|u| u.end == end)
    {
        return None;
    }
    // Footnote digits glued after a word and a period: "report.2".
    if before == Some('.') && prev_char(t, start - 1).is_some_and(|c| c.is_alphabetic()) {
        return None;
    }
    // Labels: Section 232, No. 1, Pub. L. 117-167, PM 2.5, year 20, Top 5.
    if n.script == Script::Digits
        && LABEL_CUES.contains(&wb.as_str())
        && wb_start + wb.len() <= start
    {
        return None;
    }
    if n.script == Script::Digits && matches!(before, Some('§'))
        || t.slice(start.saturating_sub(2), start).trim() == "§"
    {
        return None;
    }
    // Node names and wafer classes: 7nm, 5-nanometer, 16 nm, 7奈米, 8-inch, 12英寸.
    let at_unit = if after == Some('-') {
        end + 1
    } else {
        t.skip_spaces(end, 1)
    };
    for w in ["nm", "nanometer", "nanometre", "inch", "inches", "in."] {
        if t.word_ci(at_unit, w).is_some()
            || (w == "nm"
                && t.starts_ci(at_unit, "nm")
                && !t.at(at_unit + 2).is_some_and(|c| c.is_ascii_alphabetic()))
        {
            return None;
        }
    }
    for w in ["奈米", "纳米", "納米", "英寸", "吋", "寸"] {
        if t.starts(at_unit, w) {
            return None;
        }
    }
    // Product names: "Mate 60 Pro".
    if matches!(
        wa.as_str(),
        "pro" | "max" | "ultra" | "plus" | "mini" | "lite"
    ) && n.script == Script::Digits
    {
        return None;
    }
    // Ordinals in Chinese: 第二, 第2批; weekdays: 周三, 星期三, 禮拜三.
    if matches!(before, Some('第'))
        || t.ends_at(start, "星期")
        || t.ends_at(start, "禮拜")
        || t.ends_at(start, "礼拜")
        || (matches!(before, Some('周') | Some('週'))
            && n.script == Script::Chinese
            && n.value <= 7.0)
    {
        return None;
    }
    // Centuries: 21世纪, 二十世紀.
    if t.starts(t.skip_spaces(end, 1), "世紀") || t.starts(t.skip_spaces(end, 1), "世纪") {
        return None;
    }
    // "the first half of this year" is a label.
    if unit.is_some_and(|u| u.kind == Kind::Fraction)
        && n.script == Script::Words
        && matches!(wb.as_str(), "first" | "second" | "latter")
    {
        return None;
    }
    // Vague amounts: 數十億, 幾百, 多年.
    if matches!(before, Some('數') | Some('数') | Some('幾') | Some('几')) {
        return None;
    }
    // Dates: month names, 月/日, "今(5)日".
    if n.script == Script::Digits || n.script == Script::Chinese {
        let next = t.skip_spaces(end, 1);
        let next_c = t.at(next);
        if matches!(next_c, Some('日') | Some('號') | Some('号')) {
            return None;
        }
        if next_c == Some('月') && unit.is_none_or(|u| u.kind != Kind::Duration) {
            return None;
        }
        if matches!(after, Some(')') | Some('）')) && matches!(t.at(end + 1), Some('日')) {
            return None;
        }
        // Times of day: 9时30分, 12時01分.
        if matches!(next_c, Some('时') | Some('時')) && t.at(next + 1).is_some_and(is_digit) {
            return None;
        }
        if matches!(next_c, Some('分')) && matches!(before, Some('时') | Some('時')) {
            return None;
        }
    }
    if n.script != Script::Chinese {
        if MONTHS.contains(&wb.as_str()) {
            return None;
        }
        if MONTHS.contains(&wa.as_str()) && unit.is_none() {
            return None;
        }
    }
    // A range of calendar labels, e.g. `1-5月`, `1至11月`, `113至122年`.
    if unit.is_none() {
        let mut k = end;
        if matches!(
            t.at(k),
            Some('-') | Some('–') | Some('~') | Some('～') | Some('至') | Some('到')
        ) {
            k += 1;
            if let Some((e2, v2)) = find_numeral_at(t, k) {
                let n2 = t.skip_spaces(e2, 1);
                if matches!(t.at(n2), Some('月') | Some('日'))
                    || (t.at(n2) == Some('年') && (v2 >= 80.0))
                {
                    return None;
                }
                if n.plain_int
                    && (1800.0..2200.0).contains(&n.value)
                    && (1800.0..2200.0).contains(&v2)
                {
                    return None;
                }
            }
        }
    }
    // Chinese fixed words: 十四五, 十九大, 兩岸, 一再, 三重...
    if n.script == Script::Chinese {
        let word2 = t.slice(start, end + 1);
        let word4 = t.slice(start, end + 3);
        if ["十大建設", "十大建设"].contains(&word4.as_str()) {
            return None;
        }
        let full = t.slice(start, end);
        let len = end - start;
        let first = t.c[start];
        if by_first!(words CN_FIXED).get(Some(first)).iter().any(|&i| {
            let f = CN_FIXED[usize::from(i)];
            let fl = f.chars().count();
            fl >= len && fl <= len + 2 && t.starts(start, f)
        }) && !(full == "九成" || word2 == "九成" || full == "千億")
        {
            // A fixed word is no quantity, unless a unit makes it one (一年, 一倍, 一半).
            let never = matches!(
                word2.as_str(),
                "一些"
                    | "一樣"
                    | "一样"
                    | "一起"
                    | "一點"
                    | "一点"
                    | "十分"
                    | "千萬"
                    | "千万"
                    | "萬一"
                    | "万一"
            );
            let keeps = matches!(word2.as_str(), "一年" | "一倍" | "一半");
            let counted_one =
                word2.starts_with('一') && unit.is_some_and(|u| u.kind == Kind::Count);
            if !keeps && (unit.is_none() || never || counted_one) {
                return None;
            }
        }
        // Party congresses and plenums: 十九大, 二十大, 十九届二中全会.
        if matches!(after, Some('大')) && (15.0..=21.0).contains(&n.value) {
            return None;
        }
        if matches!(after, Some('屆') | Some('届'))
            || t.slice(end, end + 3) == "中全會"
            || t.slice(end, end + 3) == "中全会"
        {
            return None;
        }
        // List numbering: 一、 二是 (一).
        if matches!(after, Some('、')) && n.value <= 20.0 && unit.is_none() {
            return None;
        }
        if matches!(after, Some('是')) && n.value <= 10.0 && unit.is_none() {
            return None;
        }
        // Year in Chinese numerals: 二○二五年.
        if t.at(t.skip_spaces(end, 1)) == Some('年') && n.value >= 1000.0 {
            return None;
        }
    }
    // List numbering at the start: "1. ", "(1) ", "2、".
    if unit.is_none() && n.script == Script::Digits {
        let line_start = start == 0 || matches!(before, Some('\n'));
        let paren_start = matches!(before, Some('(') | Some('（'))
            && (start < 2 || matches!(prev_char(t, start - 1), Some('\n') | Some(' ')));
        if (line_start && matches!(after, Some('.') | Some('、') | Some(')') | Some('）')))
            || paren_start && matches!(after, Some(')') | Some('）'))
        {
            return None;
        }
        if matches!(after, Some('、'))
            && (start == 0 || matches!(before, Some('\n') | Some(' ') | Some('(') | Some('（')))
        {
            return None;
        }
    }

    let q = match unit {
        Some(u) => {
            let mut q = Quantity {
                start: u.start.min(start),
                end: u.end.max(end),
                kind: u.kind,
                value: Value::One(u.value),
                unit: u.unit.clone(),
                tolerance: 0.0,
            };
            if u.kind == Kind::Duration && !duration_is_length(t, n, u, &wb) {
                return None;
            }
            if u.kind == Kind::Money && unit.is_some_and(|u| u.start < start) {
                q.start = u.start;
            }
            q
        }
        None => {
            // A bare numeral: a count, if it is one.
            if n.is_one_word {
                return None;
            }
            if n.plain_int && (1000.0..2200.0).contains(&n.value) && n.end - n.start == 4 {
                return None; // a year
            }
            if n.script == Script::Chinese {
                // Chinese numerals count only before a classifier or noun-like character.
                let next_at = t.skip_spaces(end, 1);
                let next = t.at(next_at);
                if ["位數", "位数", "量級", "量级"]
                    .iter()
                    .any(|w| t.starts(next_at, w))
                {
                    return None;
                }
                let classifier = next.is_some_and(|c| CN_CLASSIFIERS.contains(c));
                let big = t.c[start..end].iter().any(|c| cn_big_unit(*c).is_some());
                if !classifier && !big {
                    return None;
                }
                if n.value == 1.0 {
                    return None;
                }
                // Approximators inside: 三百多, 600餘.
                let mut e = end;
                if matches!(t.at(e), Some('餘') | Some('余') | Some('多'))
                    && t.at(e + 1)
                        .is_some_and(|c| CN_CLASSIFIERS.contains(c) || is_cjk(c))
                {
                    e += 1;
                }
                return Some(Quantity {
                    start,
                    end: e,
                    kind: Kind::Count,
                    value: Value::One(n.value),
                    unit: String::new(),
                    tolerance: 0.0,
                });
            }
            if n.script == Script::Words && n.value < 2.0 {
                return None;
            }
            if n.script == Script::Words && n.value == 0.0 {
                return None;
            }
            // Ordinal "first"... are not numerals; "the two" counts.
            let mut e = end;
            if matches!(t.at(e), Some('餘') | Some('余') | Some('多'))
                && t.at(e + 1).is_some_and(is_cjk)
            {
                e += 1;
            }
            if t.slice(e, e + 5).to_lowercase() == "-plus" {
                e += 5;
            }
            Quantity {
                start,
                end: e,
                kind: Kind::Count,
                value: Value::One(n.value),
                unit: String::new(),
                tolerance: 0.0,
            }
        }
    };
    // Year-like numbers with a time unit are calendar references (2024年, 113年).
    Some(q)
}

/// Half the unit of the last digit a numeral writes, scaled like the quantity's value.
fn tolerance(t: &Text, n: &Numeral, value: f64) -> f64 {
    let text = &t.c[n.start..n.end];
    let mut decimals = 0i32;
    if let Some(p) = text
        .iter()
        .position(|c| matches!(c, '.' | '．' | '點' | '点'))
    {
        decimals = text[p + 1..]
            .iter()
            .take_while(|c| is_digit(**c) || cn_digit(**c).is_some())
            .count() as i32;
    }
    let trailing: f64 = text
        .iter()
        .rev()
        .take_while(|c| cn_big_unit(**c).is_some() || cn_small_unit(**c).is_some())
        .map(|c| cn_big_unit(*c).or_else(|| cn_small_unit(*c)).unwrap_or(1.0))
        .product();
    let numeral = n.value;
    let scale = if numeral != 0.0 && value != 0.0 {
        (value / numeral).abs()
    } else {
        1.0
    };
    0.5 * 10f64.powi(-decimals) * trailing * scale
}

/// Is a numeral with a time unit a length of time (not a calendar label)?
fn duration_is_length(t: &Text, n: &Numeral, u: &Unit, word_before: &str) -> bool {
    let start = n.start;
    let cue_before = |list: &[&str]| {
        list.iter().any(|c| {
            let l = c.chars().count();
            start >= l && t.slice(start - l, start) == *c
        })
    };
    // English: "the first nine months" / "first half" are labels; "year 20" handled by cues.
    if n.script != Script::Chinese
        && matches!(
            word_before,
            "first" | "last" | "second" | "third" | "fourth"
        )
        && word_before == "first"
    {
        return false;
    }
    if u.unit == "year" && t.at(u.end - 1) == Some('年') {
        // 2024年, 113年 (a Republic-of-China year) are calendar years.
        if n.value >= 1000.0 {
            return false;
        }
        if n.value >= 80.0 && !cue_before(DURATION_CUES_CN) {
            return false;
        }
        if n.is_one_word
            && !cue_before(DURATION_CUES_CN)
            && t.slice(start.saturating_sub(1), start) != "還"
        {
            // 一年: only as a length (过去一年); 前一年 is not.
            if cue_before(&[
                "前", "後", "后", "上", "下", "同", "每", "這", "这", "那", "該", "该", "今", "明",
                "去", "隔", "第",
            ]) {
                return false;
            }
        }
    }
    // 前7个月, 前两个月: year-to-date labels.
    if cue_before(&["前", "頭", "头"]) {
        return false;
    }
    true
}

/// Joins `A - B`, `A to B`, `A至B` into one range span when nothing else stands between them.
fn join_ranges(t: &Text, qs: Vec<Quantity>) -> Vec<Quantity> {
    let mut out: Vec<Quantity> = Vec::with_capacity(qs.len());
    for q in qs {
        if let Some(prev) = out.last() {
            let between = t.slice(prev.end, q.start);
            let trimmed = between.trim();
            let connector = matches!(trimmed, "-" | "–" | "—" | "~" | "～" | "至" | "到" | "to")
                && (trimmed != "to" || between.starts_with(' '));
            let compatible = prev.kind == q.kind
                || prev.kind == Kind::Count
                || (prev.kind == Kind::Duration && q.kind == Kind::Duration);
            let (wb, _) = t.word_before(prev.start);
            let from_to = trimmed == "to" && (wb == "from" || wb == "between");
            let cn_from = prev.start > 0
                && matches!(t.at(prev.start - 1), Some('由') | Some('從') | Some('从'));
            if connector
                && compatible
                && !from_to
                && !cn_from
                && !(prev.kind == Kind::Count
                    && q.kind == Kind::Count
                    && trimmed == "-"
                    && between.len() == 1
                    && prev.value.lo() >= 1000.0)
            {
                let Some(mut prev) = out.pop() else {
                    continue;
                };
                let lo = if prev.kind == Kind::Count && q.kind != Kind::Count {
                    scale_like(prev.value.lo(), &q)
                } else {
                    prev.value.lo()
                };
                prev.value = Value::Range(lo, q.value.hi());
                prev.end = q.end;
                prev.kind = q.kind;
                prev.unit = q.unit.clone();
                out.push(prev);
                continue;
            }
        }
        out.push(q);
    }
    out
}

/// The low end of `30-40%`: 30 read in the unit of the high end.
fn scale_like(v: f64, hi: &Quantity) -> f64 {
    match hi.unit.as_str() {
        "%" => v / 100.0,
        _ => v,
    }
}

/// Joins "one in five", "3 out of 10", "Seven of the 12" into one fraction span.
fn join_fractions(t: &Text, qs: Vec<Quantity>) -> Vec<Quantity> {
    let mut out: Vec<Quantity> = Vec::with_capacity(qs.len());
    for q in qs {
        if let Some(prev) = out.last() {
            let between = t.slice(prev.end, q.start).to_lowercase();
            if matches!(between.as_str(), " in " | " out of " | " of the " | " of ")
                && prev.kind == Kind::Count
                && q.kind == Kind::Count
            {
                let Some(mut prev) = out.pop() else {
                    continue;
                };
                let v = if q.value.lo() != 0.0 {
                    prev.value.lo() / q.value.lo()
                } else {
                    0.0
                };
                prev.end = q.end;
                prev.kind = Kind::Fraction;
                prev.value = Value::One(v);
                prev.unit = "ratio".into();
                out.push(prev);
                continue;
            }
        }
        out.push(q);
    }
    // "one in five": `one` alone was dropped as an article; recover it.
    let mut extra = Vec::new();
    for q in &out {
        if q.kind == Kind::Count {
            let before = t.slice(q.start.saturating_sub(7), q.start).to_lowercase();
            if before.ends_with("one in ")
                && (q.start == 7 || !t.at(q.start - 8).is_some_and(|c| c.is_ascii_alphabetic()))
            {
                extra.push((q.start - 7, q.start));
            }
        }
    }
    for (s, qs) in extra {
        if let Some(q) = out.iter_mut().find(|q| q.start == qs) {
            let d = q.value.lo();
            q.start = s;
            q.kind = Kind::Fraction;
            q.value = Value::One(if d != 0.0 { 1.0 / d } else { 0.0 });
            q.unit = "ratio".into();
        }
    }
    out
}

/// Converts code-point offsets to byte offsets in `text`.
pub fn byte_range(text: &str, start: usize, end: usize) -> std::ops::Range<usize> {
    ByteOffsets::new(text).range(start, end)
}

/// Converts code-point offsets to byte offsets in one text, walking on from the offset asked
/// for last: a text's figures come in order, so its characters are counted once for all of
/// them, not again from the start for each (that was 0.7% of a build). An offset before the
/// last one starts again from the start.
pub struct ByteOffsets<'a> {
    text: &'a str,
    chars: usize,
    bytes: usize,
}

impl<'a> ByteOffsets<'a> {
    pub fn new(text: &'a str) -> ByteOffsets<'a> {
        ByteOffsets {
            text,
            chars: 0,
            bytes: 0,
        }
    }

    /// The byte offset of code point `ci` (the text's length from its last code point on).
    fn at(&mut self, ci: usize) -> usize {
        if ci < self.chars {
            self.chars = 0;
            self.bytes = 0;
        }
        let mut rest = self.text[self.bytes..].chars();
        while self.chars < ci {
            match rest.next() {
                Some(c) => {
                    self.bytes += c.len_utf8();
                    self.chars += 1;
                }
                None => break,
            }
        }
        self.bytes
    }

    /// The byte range of the code points `start..end` (empty at the text's end when `end`
    /// comes before `start`).
    pub fn range(&mut self, start: usize, end: usize) -> std::ops::Range<usize> {
        if end < start {
            return self.text.len()..self.text.len();
        }
        let bstart = self.at(start);
        bstart..self.at(end).max(bstart)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_word_prefilter_keeps_every_listed_word() {
        let check = |word: &str, table: &[u16; 26], fold: bool| {
            let text = format!("({word} ");
            let chars: Vec<char> = text.chars().collect();
            let t = Text { c: &chars };
            let (full, end) = ascii_word(&t, 1);
            let (quick, quick_end) = ascii_word_in(&t, 1, table, fold);
            assert_eq!(quick_end, end, "{word}");
            assert_eq!(
                quick.as_ref().map(Word::as_str),
                Some(full.as_str()),
                "{word}"
            );
        };
        let numerals = ["a", "an"]
            .into_iter()
            .chain(EN_UNITS.iter().chain(EN_TENS).map(|(w, _)| *w));
        for w in numerals {
            check(w, numeral_words(), false);
            check(&w.to_uppercase(), numeral_words(), false);
        }
        for w in std::iter::once("half").chain(EN_MULTIPLES.iter().map(|(w, _)| *w)) {
            check(w, special_word_starts(), true);
            check(&w.to_uppercase(), special_word_starts(), true);
        }
        for w in ["tenfold", "Fivefold", "hundredFOLD", "manifold", "scaffold"] {
            check(w, special_word_starts(), true);
        }
        // Other words come back as none, with their end.
        let chars: Vec<char> = "policy".chars().collect();
        let (w, end) = ascii_word_in(&Text { c: &chars }, 0, numeral_words(), false);
        assert_eq!((w.is_none(), end), (true, 6));
    }

    /// Parses a line with «gold» spans into its text and code-point spans.
    fn gold(line: &str) -> (String, Vec<(usize, usize)>) {
        let mut text = String::new();
        let mut spans = Vec::new();
        let mut n = 0;
        let mut open = None;
        for c in line.chars() {
            match c {
                '«' => open = Some(n),
                '»' => spans.push((open.take().unwrap(), n)),
                c => {
                    text.push(c);
                    n += 1;
                }
            }
        }
        (text, spans)
    }

    fn check_file(data: &str) {
        let mut failures = Vec::new();
        for line in data.lines().filter(|l| !l.trim().is_empty()) {
            let (text, want) = gold(line);
            let got: Vec<(usize, usize)> = detect(&text).iter().map(|q| (q.start, q.end)).collect();
            if got != want {
                let show = |v: &[(usize, usize)]| {
                    v.iter()
                        .map(|&(a, b)| text.chars().skip(a).take(b - a).collect::<String>())
                        .collect::<Vec<_>>()
                };
                failures.push(format!(
                    "{text}\n   want {:?}\n   got  {:?}",
                    show(&want),
                    show(&got)
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} lines differ:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    /// The guideline's examples, English: every span and every non-quantity.
    #[test]
    fn guideline_examples_english() {
        check_file(include_str!("../../tests/data/claims-en.txt"));
    }

    /// The guideline's examples, Chinese (Traditional and Simplified).
    #[test]
    fn guideline_examples_chinese() {
        check_file(include_str!("../../tests/data/claims-zh.txt"));
    }

    /// The cursor gives what counting from the start gives, for offsets in order, out of
    /// order, past the end and reversed.
    #[test]
    fn byte_offsets_walk_on_as_counting_from_the_start() {
        let text = "Taiwan’s 新台幣90億 rose 4.9% — €2 bn ✓";
        let n = text.chars().count();
        let plain = |start: usize, end: usize| {
            let bounds: Vec<usize> = text
                .char_indices()
                .map(|(b, _)| b)
                .chain(std::iter::once(text.len()))
                .collect();
            if end < start {
                return text.len()..text.len();
            }
            let at = |ci: usize| bounds.get(ci).copied().unwrap_or(text.len());
            at(start)..at(end).max(at(start))
        };
        let mut cursor = ByteOffsets::new(text);
        for (start, end) in [
            (0, 3),
            (2, 9),
            (9, 12),
            (5, 6),
            (n - 2, n),
            (n, n + 3),
            (4, 2),
        ]
        .into_iter()
        .chain((0..n + 2).flat_map(|a| (0..n + 2).map(move |b| (a, b))))
        {
            assert_eq!(
                cursor.range(start, end),
                plain(start, end),
                "{start}..{end}"
            );
            assert_eq!(
                byte_range(text, start, end),
                plain(start, end),
                "{start}..{end}"
            );
        }
    }

    /// Every entry of the tables looked up by first character is in its index, and the
    /// English tables matched case-insensitively are written in lowercase (the lookup folds
    /// the text's character only).
    #[test]
    fn first_character_indexes_hold_every_entry() {
        let check = |words: Vec<&str>| {
            let by = ByFirst::new(words.iter().copied());
            for (i, w) in words.iter().enumerate() {
                let first = w.chars().next().map(|c| c.to_ascii_lowercase());
                assert!(by.get(first).contains(&(i as u8)), "{w} not indexed");
            }
            let total: usize = by.ascii.iter().map(Vec::len).sum::<usize>()
                + by.other.iter().map(|(_, v)| v.len()).sum::<usize>();
            assert_eq!(total, words.len());
        };
        check(EN_TIME.iter().map(|e| e.0).collect());
        check(EN_MONEY_SUFFIXES.iter().map(|e| e.0).collect());
        check(EN_MEASURES.iter().map(|e| e.0).collect());
        check(CN_MEASURES.iter().map(|e| e.0).collect());
        check(CN_FIXED.to_vec());
        for (w, _) in EN_TIME.iter().chain(EN_MONEY_SUFFIXES) {
            assert_eq!(*w, w.to_lowercase());
        }
    }

    #[test]
    fn values_are_normalised() {
        let one = |s: &str| {
            let q = detect(s);
            assert_eq!(q.len(), 1, "{s}: {q:?}");
            (q[0].kind, q[0].value, q[0].unit.clone())
        };
        assert_eq!(
            one("830億美元"),
            (Kind::Money, Value::One(8.3e10), "USD".into())
        );
        assert_eq!(one("六成"), (Kind::Percent, Value::One(0.6), "%".into()));
        assert_eq!(
            one("It was $83 billion."),
            (Kind::Money, Value::One(8.3e10), "USD".into())
        );
        assert_eq!(one("up 60%"), (Kind::Percent, Value::One(0.6), "%".into()));
        assert_eq!(
            one("30-40%"),
            (Kind::Percent, Value::Range(0.3, 0.4), "%".into())
        );
        assert_eq!(
            one("124,000 jobs"),
            (Kind::Count, Value::One(124000.0), "".into())
        );
        assert_eq!(
            one("24 times"),
            (Kind::Multiple, Value::One(24.0), "x".into())
        );
        assert_eq!(
            one("五年"),
            (Kind::Duration, Value::One(5.0), "year".into())
        );
        assert_eq!(
            one("新台幣2.1兆元"),
            (Kind::Money, Value::One(2.1e12), "TWD".into())
        );
        assert_eq!(one("兩千家"), (Kind::Count, Value::One(2000.0), "".into()));
        assert_eq!(
            one("12.4萬人"),
            (Kind::Count, Value::One(124000.0), "".into())
        );
        assert_eq!(
            one("three-fifths"),
            (Kind::Fraction, Value::One(0.6), "ratio".into())
        );
        assert_eq!(one("九成八"), (Kind::Percent, Value::One(0.98), "%".into()));
        // Values are the figures as written, without binary noise in the last digit.
        assert_eq!(one("74.4%"), (Kind::Percent, Value::One(0.744), "%".into()));
        assert_eq!(one("33.3%"), (Kind::Percent, Value::One(0.333), "%".into()));
        assert_eq!(
            one("百分之七十四點四"),
            (Kind::Percent, Value::One(0.744), "%".into())
        );
        assert_eq!(
            one("八點七億美元"),
            (Kind::Money, Value::One(8.7e8), "USD".into())
        );
        assert_eq!(detect("74.4%")[0].tolerance, 0.0005);
    }

    /// Rounding to 15 significant digits leaves exact figures as they are, over the whole
    /// range of magnitudes, and removes the noise of a division.
    #[test]
    fn tidy_keeps_15_significant_digits() {
        for v in [
            1.0,
            0.6,
            0.744,
            124000.0,
            8.3e10,
            2.1e12,
            123456789012345.0,
            1e-9,
            5e-3,
            7e20,
            1.5e300,
            -2.0,
            0.0,
        ] {
            assert_eq!(super::tidy(v), v, "{v}");
        }
        assert_eq!(super::tidy(74.4 / 100.0), 0.744);
        assert_eq!(super::tidy(8.7 * 1e8), 8.7e8);
        assert_eq!(super::tidy(-33.3 / 100.0), -0.333);
        assert_eq!(super::tidy(8.7e8 * 1e7 + 1.0), 8.7e15);
        assert!(super::tidy(f64::NAN).is_nan());
        assert_eq!(super::tidy(f64::INFINITY), f64::INFINITY);
    }

    #[test]
    fn offsets_are_code_points() {
        let text = "晶片出口達830億美元，增加六成。";
        let q = detect(text);
        let chars: Vec<char> = text.chars().collect();
        let spans: Vec<String> = q
            .iter()
            .map(|q| chars[q.start..q.end].iter().collect())
            .collect();
        assert_eq!(spans, ["830億美元", "六成"]);
        let r = byte_range(text, q[0].start, q[0].end);
        assert_eq!(&text[r], "830億美元");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn tricky() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "0",
            "1",
            "2",
            "9",
            ".",
            ",",
            "-",
            "–",
            "~",
            "%",
            "％",
            "‰",
            "$",
            "US$",
            "€",
            " ",
            "\n",
            "(",
            ")",
            "[",
            "]",
            "一",
            "二",
            "兩",
            "十",
            "百",
            "千",
            "萬",
            "万",
            "億",
            "亿",
            "兆",
            "點",
            "廿",
            "〇",
            "成",
            "倍",
            "分之",
            "年",
            "月",
            "日",
            "個月",
            "元",
            "美元",
            "新台幣",
            "百分之",
            "至",
            "到",
            "多",
            "餘",
            "家",
            "第",
            "million",
            "billion",
            "percent",
            "times",
            "years",
            "one",
            "in",
            "of",
            "the",
            "a",
            "third",
            "half",
            "twice",
            "fold",
            "GW",
            "Bcf/d",
            "nm",
            "Section",
            "2024",
            "FY",
            "H",
            "G",
            "x",
            "m",
            "bn",
            "🙂",
            "é",
            "\u{301}",
            "／",
            "/",
            ":",
        ]);
        prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Any text: no panic; spans are non-empty, in bounds, sorted and disjoint.
        #[test]
        fn spans_are_well_formed(text in tricky()) {
            let n = text.chars().count();
            let qs = detect(&text);
            let mut last_end = 0;
            for q in &qs {
                prop_assert!(q.start < q.end && q.end <= n, "{q:?} in {text:?}");
                prop_assert!(q.start >= last_end, "overlap at {q:?} in {text:?}");
                last_end = q.end;
                let r = byte_range(&text, q.start, q.end);
                prop_assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
            }
        }

        #[test]
        fn arbitrary_unicode_never_panics(text in "\\PC{0,200}") {
            let _ = detect(&text);
        }
    }
}
