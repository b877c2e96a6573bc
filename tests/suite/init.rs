//! `sourced init`: a new site that builds with the embedded theme, outside this repo.

use crate::support::{TestSite, bin};

#[test]
fn init_then_build_works_anywhere() {
    let tmp = TestSite::bare();
    let dir = tmp.path("my-briefs");
    let out = bin()
        .arg("init")
        .arg(&dir)
        .current_dir(tmp.root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = bin().arg("build").current_dir(&dir).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(dir.join("public/briefs/sample-brief/index.html")).unwrap();
    let page = scraper::Html::parse_document(&html);
    let h1 = scraper::Selector::parse("h1").unwrap();
    assert_eq!(
        page.select(&h1).next().unwrap().text().collect::<String>(),
        "A sample brief"
    );
    assert!(
        dir.join("public/style.css").is_file(),
        "the embedded theme's static files are copied"
    );
}

#[test]
fn init_refuses_a_folder_with_files() {
    let tmp = TestSite::bare();
    tmp.write("taken/notes.txt", "mine");
    let run = tmp.run(&["init", tmp.path("taken").to_str().unwrap()]);
    run.assert_error(&["exists and is not empty"]);
    assert_eq!(tmp.read("taken/notes.txt"), "mine");
    assert!(!tmp.exists("taken/site.yaml"));
}
