//! `themes/README.md` documents what each template is given. Every name it lists is checked
//! here: the demo site is built with each template replaced by one that writes every listed
//! name (a name the template's pages lack is a template error, and the build fails), and
//! every listed list is seen holding something on at least one page.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::support::{TestSite, copy_dir};

/// Templates the demo never renders: `split_sitemap_index.xml` is `sitemap.xml` only on a
/// site of more than 10,000 URLs.
const NOT_RENDERED: &[&str] = &["split_sitemap_index.xml"];

/// Lists the demo leaves empty on every page of their template, so their elements' names
/// cannot be checked here. The test fails when one of them starts holding something (then
/// it is checked, and comes off this list).
const EMPTY_IN_THE_DEMO: &[(&str, &str)] = &[("section.html", "sections[]")];

/// The names `themes/README.md` lists for each template: its "Every template" section for
/// all, a section whose heading names templates for those, narrowed to one template by a
/// paragraph starting with its name.
fn documented(templates: &[String]) -> BTreeMap<String, Vec<String>> {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/README.md"))
            .unwrap();
    let is_template = |name: &str| templates.iter().any(|t| t == name);
    let first_code = |line: &str| line.split('`').nth(1).map(str::to_string);
    let mut out: BTreeMap<String, Vec<String>> =
        templates.iter().map(|t| (t.clone(), Vec::new())).collect();
    let mut current: Vec<String> = Vec::new();
    for line in doc.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            current = if heading == "Every template" {
                templates.to_vec()
            } else {
                heading
                    .split('`')
                    .skip(1)
                    .step_by(2)
                    .filter(|n| is_template(n))
                    .map(str::to_string)
                    .collect()
            };
        } else if line.starts_with('`')
            && let Some(name) = first_code(line).filter(|n| is_template(n))
        {
            current = vec![name];
        } else if let Some(item) = line.strip_prefix("- `") {
            let path = item.split('`').next().unwrap_or_default();
            assert!(
                path.split('.').all(|part| {
                    let name = part.strip_suffix("[]").unwrap_or(part);
                    !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                }),
                "not a name: {path}"
            );
            for t in &current {
                out.get_mut(t).unwrap().push(path.to_string());
            }
        }
    }
    out
}

/// A template writing every name of `paths`: lists are walked with `for`, and a list that
/// holds something leaves the mark `FULL(template:path)`.
fn probe(template: &str, paths: &[String]) -> String {
    let mut out = format!("RENDERED({template})\n");
    for path in paths {
        let parts: Vec<&str> = path.split('.').collect();
        let mut expr = String::new();
        let mut open = 0;
        for (k, part) in parts.iter().enumerate() {
            let name = part.strip_suffix("[]").unwrap_or(part);
            if expr.is_empty() {
                expr = name.to_string();
            } else {
                expr = format!("{expr}.{name}");
            }
            if part.ends_with("[]") {
                let whole: Vec<&str> = parts[..=k].to_vec();
                let mark = whole.join(".");
                out.push_str(&format!(
                    "{{% if {expr} %}}FULL({template}:{mark}){{% endif %}}{{% for x{k} in {expr} %}}"
                ));
                open += 1;
                expr = format!("x{k}");
            }
        }
        out.push_str(&format!("{{{{ {expr} }}}}"));
        out.push_str(&"{% endfor %}".repeat(open));
        out.push('\n');
    }
    out
}

#[test]
fn every_name_the_themes_readme_lists_reaches_its_template() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut templates: Vec<String> = std::fs::read_dir(root.join("themes/default/templates"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        // Not pages of their own: the layout the default theme's pages extend, and the list
        // they include.
        .filter(|n| n != "base.html" && n != "brief_list.html")
        .collect();
    templates.sort();
    let doc = documented(&templates);
    let site = TestSite::bare();
    copy_dir(&root.join("content"), &site.path("content"));
    site.write("site.yaml", std::fs::read(root.join("site.yaml")).unwrap());
    // Each list documented, with the templates it is documented for (a list of "Every
    // template" under each of them).
    let mut lists: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (t, paths) in &doc {
        assert!(
            paths.len() > 20,
            "{t}: only {} names documented",
            paths.len()
        );
        site.write(&format!("templates/{t}"), probe(t, paths));
        for p in paths.iter().filter(|p| p.contains("[]")) {
            // The list holding each element name, and every list above it.
            let mut at = 0;
            while let Some(i) = p[at..].find("[]") {
                at += i + 2;
                lists
                    .entry(p[..at].to_string())
                    .or_default()
                    .insert(t.clone());
            }
        }
    }
    site.build().assert_ok();

    let mut rendered = BTreeSet::new();
    let mut full = BTreeSet::new();
    for entry in walkdir::WalkDir::new(site.path("public")) {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        for (mark, into) in [("RENDERED(", &mut rendered), ("FULL(", &mut full)] {
            for piece in text.split(mark).skip(1) {
                into.insert(piece.split(')').next().unwrap_or_default().to_string());
            }
        }
    }
    for t in &templates {
        assert_eq!(
            rendered.contains(t),
            !NOT_RENDERED.contains(&t.as_str()),
            "{t}: rendered or not as expected"
        );
    }
    // A list is seen holding something on some page of a template it is documented for (a
    // list of every template, such as `page.alternates`, on any of them).
    for (list, ts) in &lists {
        let shown: Vec<&String> = ts
            .iter()
            .filter(|t| !NOT_RENDERED.contains(&t.as_str()))
            .collect();
        let Some(&first) = shown.first() else {
            continue;
        };
        let seen = shown.iter().any(|t| full.contains(&format!("{t}:{list}")));
        let empty = EMPTY_IN_THE_DEMO.contains(&(first.as_str(), list.as_str()));
        assert_eq!(
            seen,
            !empty,
            "`{list}` ({first}, ...) should {}hold something on some page of the demo",
            if empty { "not " } else { "" }
        );
    }
}
