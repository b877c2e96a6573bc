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

/// Which bytes [`entity`] replaces, as a table: the scan between them is one load and test a
/// byte (the templates escape half a million values on a 1,000-brief site).
static NEEDS_ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    t[b'&' as usize] = true;
    t[b'<' as usize] = true;
    t[b'>' as usize] = true;
    t[b'"' as usize] = true;
    t[b'\'' as usize] = true;
    t
};

/// Calls `put` with the runs of `s` that need no escaping and the entities between them.
fn escaped_parts<E>(s: &str, mut put: impl FnMut(&str) -> Result<(), E>) -> Result<(), E> {
    let bytes = s.as_bytes();
    let mut from = 0;
    while let Some(k) = bytes[from..]
        .iter()
        .position(|&b| NEEDS_ESCAPE[usize::from(b)])
    {
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
