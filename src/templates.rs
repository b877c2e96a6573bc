//! Templates: the Tera instance built from the resolved theme, and Tera errors turned into
//! diagnostics at the template's `file:line:col`.
//!
//! Autoescaping is on for every `.html` and `.xml` template (Tera's default suffixes); page
//! data reaches templates only through serialised context values, never through `| safe`
//! except for HTML this crate produced itself (rendered bodies).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::diagnostics::{Diagnostic, SourceText};
use crate::theme::Theme;

/// Tera's `safe` filter without the copy: Tera's own copies the string into a new value (a
/// brief's whole body, every note and reference entry); this marks the value it is given.
/// Other values become their text, marked safe, as with Tera's.
fn safe(value: tera::Value, _: tera::Kwargs, _: &tera::State) -> tera::Value {
    if value.is_string() {
        value.mark_safe()
    } else {
        tera::Value::safe_string(&value.to_string())
    }
}

/// Tera plus the text of each template, for error positions.
pub struct Templates {
    pub tera: tera::Tera,
    files: BTreeMap<String, Arc<SourceText>>,
    /// The largest page each template has made so far: the next one's buffer is made that
    /// size at once instead of growing (and being copied) a few times.
    largest: BTreeMap<String, std::sync::atomic::AtomicUsize>,
}

impl Templates {
    /// Compiles every template of the theme; reports each broken one.
    pub fn new(theme: &Theme) -> Result<Templates, Vec<Diagnostic>> {
        let mut diags = Vec::new();
        // Compile each alone first so every syntax error is reported, not only the first.
        for (name, file) in &theme.templates {
            let mut probe = tera::Tera::default();
            if let Err(e) = probe.add_raw_template(name, &file.text)
                && matches!(e.kind(), tera::ErrorKind::SyntaxError(_))
            {
                diags.push(convert(&e, &theme.templates, None));
            }
        }
        if !diags.is_empty() {
            return Err(diags);
        }
        let mut tera = tera::Tera::default();
        let all: Vec<(&str, &str)> = theme
            .templates
            .iter()
            .map(|(n, f)| (n.as_str(), f.text.as_str()))
            .collect();
        tera.set_escape_fn(crate::html::escape_to);
        tera.register_filter("safe", safe);
        if let Err(e) = tera.add_raw_templates(all) {
            return Err(vec![convert(&e, &theme.templates, None)]);
        }
        Ok(Templates {
            tera,
            files: theme.templates.clone(),
            largest: theme
                .templates
                .keys()
                .map(|n| (n.clone(), std::sync::atomic::AtomicUsize::new(0)))
                .collect(),
        })
    }

    /// Renders `name` with `ctx`; `page` names the page for the message.
    pub fn render(
        &self,
        name: &str,
        ctx: &tera::Context,
        page: &str,
    ) -> Result<String, Diagnostic> {
        use std::sync::atomic::Ordering::Relaxed;
        let largest = self.largest.get(name);
        let mut out = Vec::with_capacity(largest.map_or(0, |l| l.load(Relaxed)));
        self.tera
            .render_to(name, ctx, &mut out)
            .map_err(|e| convert(&e, &self.files, Some(page)))?;
        if let Some(l) = largest {
            l.fetch_max(out.len(), Relaxed);
        }
        String::from_utf8(out).map_err(|e| {
            Diagnostic::error(format!(
                "template output is not UTF-8 while rendering {page}: {e}"
            ))
        })
    }

    /// Renders `name` with `ctx` into `out` as it goes, never whole in memory; `page` names
    /// the page for the message. A template error comes back as the diagnostic; a write
    /// error as the writer's error.
    pub fn render_into(
        &self,
        name: &str,
        ctx: &tera::Context,
        page: &str,
        out: &mut dyn std::io::Write,
    ) -> Result<std::io::Result<()>, Diagnostic> {
        // Tera writes in small pieces.
        let mut buffered = std::io::BufWriter::with_capacity(64 * 1024, out);
        match self.tera.render_to(name, ctx, &mut buffered) {
            Ok(()) => Ok(std::io::Write::flush(&mut buffered)),
            Err(e) => match e.kind() {
                tera::ErrorKind::Io(_) => Ok(Err(std::io::Error::other(e.to_string()))),
                _ => Err(convert(&e, &self.files, Some(page))),
            },
        }
    }
}

fn convert(
    e: &tera::Error,
    files: &BTreeMap<String, Arc<SourceText>>,
    page: Option<&str>,
) -> Diagnostic {
    let (report, what) = match e.kind() {
        tera::ErrorKind::SyntaxError(r) => (Some(r), "template syntax error"),
        tera::ErrorKind::RenderingError(r) => (Some(r), "template error"),
        _ => (None, "template error"),
    };
    let rendering = page
        .map(|p| format!(" while rendering {p}"))
        .unwrap_or_default();
    let Some(report) = report else {
        let mut msg = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(s) = src {
            msg.push_str(&format!(": {s}"));
            src = s.source();
        }
        return Diagnostic::error(format!("{what}{rendering}: {msg}")).hint(
            "check the theme's templates (a site's templates/ folder overrides them by name)",
        );
    };
    let mut d = Diagnostic::error(format!("{what}: {}", report.message()))
        .hint(format!("fix the template{rendering}; a site's templates/ folder overrides a theme's template of the same name"));
    if let Some(file) = files.get(report.filename()) {
        d = d.at(file, report.span().range.clone());
    } else if !report.filename().is_empty() {
        d = d.in_file(format!("templates/{}", report.filename()));
    }
    d
}

#[cfg(test)]
mod tests {
    /// Our `safe` writes what Tera's own does, for strings short and long (with markup and
    /// with characters autoescaping would change), numbers, booleans, arrays, maps and none;
    /// and a value left unfiltered is still escaped.
    #[test]
    fn safe_writes_what_teras_safe_writes() {
        let template = "{{ short | safe }}|{{ long | safe }}|{{ n | safe }}|{{ f | safe }}|\
                        {{ yes | safe }}|{{ list | safe }}|{{ map | safe }}|{{ nothing | safe }}|\
                        {{ long }}|{{ long | safe | upper }}";
        let mut ctx = tera::Context::new();
        ctx.insert("short", "<b>&</b>");
        ctx.insert(
            "long",
            "<p class=\"x\">A body longer than a short string, with <em>markup</em> & 'quotes'</p>",
        );
        ctx.insert("n", &42);
        ctx.insert("f", &2.5);
        ctx.insert("yes", &true);
        ctx.insert("list", &["<a>", "b"]);
        ctx.insert("map", &std::collections::BTreeMap::from([("k", "<v>")]));
        ctx.insert("nothing", &None::<String>);
        let render = |ours: bool| {
            let mut tera = tera::Tera::default();
            tera.set_escape_fn(crate::html::escape_to);
            if ours {
                tera.register_filter("safe", super::safe);
            }
            tera.add_raw_template("t.html", template).unwrap();
            tera.render("t.html", &ctx).unwrap()
        };
        let ours = render(true);
        assert_eq!(ours, render(false));
        assert!(ours.contains("<p class=\"x\">") && ours.contains("&lt;p class="));
    }
}
