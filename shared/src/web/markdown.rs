//! Markdown from a repo's owners (the README, `extra_gated_prompt`), shown to everyone: rendered
//! with pulldown-cmark, then sanitized with ammonia, so HTML in it may format but never run.

use pulldown_cmark::{Options, Parser, html};

/// Safe HTML for a Markdown text. Raw HTML is allowed through the renderer and then cleaned:
/// scripts, styles, event handlers and `javascript:` URLs are removed; links get
/// `rel="noopener noreferrer nofollow"`.
pub fn to_safe_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let mut rendered = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut rendered, Parser::new_ext(markdown, options));
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&rendered)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_rendered() {
        let html = to_safe_html("# Title\n\nSome **bold** and a [link](https://example.com).");
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(
            html.contains(r#"<a href="https://example.com" rel="noopener noreferrer nofollow">"#),
            "{html}"
        );
    }

    #[test]
    fn scripts_handlers_and_javascript_urls_are_removed() {
        let html = to_safe_html(concat!(
            "<script>alert(1)</script>\n\n",
            "<img src=x onerror=alert(2)>\n\n",
            "[click](javascript:alert(3))\n\n",
            "<a href=\"javascript:alert(4)\">x</a>\n\n",
            "<iframe src=\"https://evil.example\"></iframe>\n\n",
            "<style>body{display:none}</style>",
        ));
        for bad in [
            "<script",
            "alert(1)",
            "onerror",
            "javascript:",
            "<iframe",
            "<style",
        ] {
            assert!(!html.contains(bad), "{bad} survived: {html}");
        }
    }

    #[test]
    fn tables_and_harmless_html_are_kept() {
        let html = to_safe_html(
            "| a | b |\n|---|---|\n| 1 | 2 |\n\n<details><summary>More</summary>text</details>",
        );
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("<details>"), "{html}");
    }
}
