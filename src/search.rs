//! Search index: the rendered brief and source pages indexed by Pagefind into static files
//! (`pagefind/`) that the search page queries in the browser, with no server.
//!
//! In: (root-relative URL, HTML) of each page to index. Out: the index files, to be written with
//! the rest of the site. One index serves every language (Pagefind would otherwise keep one per
//! page language and a search page would see only its own): the extended build segments Chinese
//! text by script, so `稀土` finds the Chinese brief from the one search page.

use crate::diagnostics::Diagnostic;

/// Builds the index; returns (output path, bytes) for every file of it.
pub fn index(pages: Vec<(String, String)>) -> Result<Vec<(String, Vec<u8>)>, Diagnostic> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Diagnostic::error(format!("cannot start the search indexer: {e}")))?;
    runtime.block_on(async move {
        let options = pagefind::options::PagefindServiceConfig::builder()
            .force_language("en".to_string())
            .exclude_selectors(vec![
                ".sidenote".to_string(),
                ".note-list".to_string(),
                ".sources".to_string(),
                ".toc".to_string(),
                ".translations".to_string(),
                ".breadcrumb".to_string(),
            ])
            .build();
        let mut index = pagefind::api::PagefindIndex::new(Some(options))
            .map_err(|e| Diagnostic::error(format!("cannot start the search indexer: {e}")))?;
        for (url, html) in pages {
            index
                .add_html_file(None, Some(url.clone()), html)
                .await
                .map_err(|e| Diagnostic::error(format!("cannot index {url} for search: {e}")))?;
        }
        let files = index
            .get_files()
            .await
            .map_err(|e| Diagnostic::error(format!("cannot build the search index: {e}")))?;
        Ok(files
            .into_iter()
            .map(|f| {
                (
                    format!("pagefind/{}", crate::urls::to_slash(&f.filename)),
                    f.contents,
                )
            })
            .collect())
    })
}
