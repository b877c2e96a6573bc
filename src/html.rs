//! HTML text helpers for markup this crate writes itself (note markers, reference entries).

/// The entity for a byte that HTML text or a quoted attribute value cannot hold as is.
fn entity(b: u8) -> Option<&'static str> {
    match b {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        b'"' => Some("&quot;"),
        b'\'' => Some("&#39;"),
        _ => None,
    }
}

/// Which bytes [`entity`] replaces, as a table, for short strings (labels, dates, numbers),
/// where calling the searches costs more than looking at each byte.
static NEEDS_ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    t[b'&' as usize] = true;
    t[b'<' as usize] = true;
    t[b'>' as usize] = true;
    t[b'"' as usize] = true;
    t[b'\'' as usize] = true;
    t
};

/// Below this length a string is scanned byte by byte (measured: 16 beat 0, 24, 32, 64 and
/// 128 in instructions of a 1,000-brief build).
const SHORT: usize = 16;

/// Where the next byte [`entity`] replaces is in `bytes`: two memchr searches (for `&<>` and,
/// before the first of those, for the quotes), which read several bytes per instruction where
/// a byte-by-byte scan read one (the templates escape half a million values on a 1,000-brief
/// site, 2% of a build).
fn next_special(bytes: &[u8]) -> Option<usize> {
    if bytes.len() < SHORT {
        return bytes.iter().position(|&b| NEEDS_ESCAPE[usize::from(b)]);
    }
    let markup = memchr::memchr3(b'&', b'<', b'>', bytes);
    memchr::memchr2(b'"', b'\'', &bytes[..markup.unwrap_or(bytes.len())]).or(markup)
}

/// Calls `put` with the runs of `s` that need no escaping and the entities between them.
fn escaped_parts<E>(s: &str, mut put: impl FnMut(&str) -> Result<(), E>) -> Result<(), E> {
    let bytes = s.as_bytes();
    let mut from = 0;
    while let Some(k) = next_special(&bytes[from..]) {
        let i = from + k;
        // The byte is ASCII, so `i` is a character boundary.
        if let Some(e) = entity(bytes[i]) {
            put(&s[from..i])?;
            put(e)?;
        }
        from = i + 1;
    }
    put(&s[from..])
}

/// Appends `n` in decimal with at least `width` digits, zeros in front (as `{n:0width$}`).
pub fn push_padded(out: &mut String, n: u64, width: usize) {
    let mut digits = 1;
    let mut v = n;
    while v >= 10 {
        v /= 10;
        digits += 1;
    }
    for _ in digits..width {
        out.push('0');
    }
    push_uint(out, n);
}

/// Appends `n` in decimal, as `n.to_string()` writes it.
pub fn push_int(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    push_uint(out, n.unsigned_abs());
}

/// Appends `n` in decimal (as `n.to_string()`), without the formatting machinery: markup
/// written once per figure (its marker, id and tag: 28,000 figures on a 1,000-brief site)
/// spent more in `format!` than in the rest of its work.
pub fn push_uint(out: &mut String, n: u64) {
    let mut digits = [0u8; 20];
    let mut v = n;
    let mut k = digits.len();
    loop {
        k -= 1;
        digits[k] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &d in &digits[k..] {
        out.push(char::from(d));
    }
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    escape_into(&mut out, s);
    out
}

/// [`escape`], appended to `out`.
pub fn escape_into(out: &mut String, s: &str) {
    let _ = escaped_parts(s, |part| -> Result<(), ()> {
        out.push_str(part);
        Ok(())
    });
}

/// [`escape`], written to `out`: the theme's templates' autoescaping (the same five
/// characters as Tera's own, which writes one byte at a time and was a tenth of a build).
pub fn escape_to(s: &str, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    escaped_parts(s, |part| out.write_all(part.as_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn padded_and_signed_integers_as_fmt_writes_them() {
        for n in [0u64, 1, 9, 10, 99, 100, 12_345, u64::MAX] {
            for width in 0..6 {
                let mut s = String::from("x");
                super::push_padded(&mut s, n, width);
                assert_eq!(s, format!("x{n:0width$}"));
            }
        }
        for n in [i64::MIN, -100, -1, 0, 1, 42, i64::MAX] {
            let mut s = String::from("x");
            super::push_int(&mut s, n);
            assert_eq!(s, format!("x{n}"));
        }
    }

    #[test]
    fn integers_as_to_string_writes_them() {
        for n in [0, 7, 10, 99, 100, 12_345, u64::from(u32::MAX), u64::MAX] {
            let mut s = String::from("x");
            super::push_uint(&mut s, n);
            assert_eq!(s, format!("x{n}"));
        }
    }

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            super::escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(super::escape("五年 & é"), "五年 &amp; é");
    }

    /// Every special byte is found wherever it stands, in strings longer than the searches'
    /// blocks, next to multi-byte characters.
    #[test]
    fn escapes_each_special_byte_at_every_place() {
        let plain = |s: &str| {
            let mut out = String::new();
            for c in s.chars() {
                match c {
                    '&' => out.push_str("&amp;"),
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    '"' => out.push_str("&quot;"),
                    '\'' => out.push_str("&#39;"),
                    c => out.push(c),
                }
            }
            out
        };
        let filler: Vec<char> = "abcdefghij五年é0123456789xyz".chars().collect();
        for len in [0, 1, 2, 15, 16, 17, 31, 32, 33, 64, 100] {
            let base: String = (0..len).map(|i| filler[i % filler.len()]).collect();
            let chars: Vec<char> = base.chars().collect();
            for special in ['&', '<', '>', '"', '\''] {
                for at in 0..=chars.len() {
                    for second in [None, Some('&'), Some('"')] {
                        let mut text: String = chars[..at].iter().collect();
                        text.push(special);
                        text.extend(&chars[at..]);
                        if let Some(c) = second {
                            text.push(c);
                        }
                        assert_eq!(super::escape(&text), plain(&text), "{text:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn templates_escape_as_tera_does() {
        for text in ["", "plain", "<a href=\"x\">'&'</a>", "五年 <b>é</b>&", "&&"] {
            let mut ours = Vec::new();
            super::escape_to(text, &mut ours).unwrap();
            let mut teras = Vec::new();
            tera::escape_html(text, &mut teras).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(teras).unwrap()
            );
        }
    }
}
