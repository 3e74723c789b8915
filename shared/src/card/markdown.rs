//! Markdown from a repo's owners (the README, `extra_gated_prompt`), shown to everyone: rendered
//! with pulldown-cmark, then sanitized with ammonia, so HTML in it may format but never run.
//! This happens once, when a commit changes README.md; pages show the stored result.

use pulldown_cmark::{Options, Parser, html};

use super::{GateCard, readme_body};
use crate::domain::{ReadmeBody, ReadmeHtml};

/// The most HTML a README keeps with its repo, prompt and body together: they share one store
/// item, and a DynamoDB item holds at most 400 KB.
pub const MAX_README_HTML_BYTES: usize = 350 * 1024;
/// The most HTML the gate's prompt may render to. Beyond it the commit is refused: the prompt
/// is what requesters agree to, so it is never cut.
pub const MAX_PROMPT_HTML_BYTES: usize = 128 * 1024;
/// READMEs longer than this are not rendered at all (rendering is linear, but the result
/// would not fit).
const MAX_BODY_MARKDOWN_BYTES: usize = 512 * 1024;

/// The gate's prompt renders to more HTML than a repo keeps.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "README.md's extra_gated_prompt renders to {size} bytes of HTML; the limit is {limit} bytes",
    limit = MAX_PROMPT_HTML_BYTES
)]
pub struct PromptTooLarge {
    pub size: usize,
}

/// The README's body and its gate prompt as safe HTML. A body too large to keep is marked so
/// (the file stays downloadable); a card that does not read has no prompt to show, since its
/// gate shows the card's error instead.
pub fn render_readme(readme: &str) -> Result<ReadmeHtml, PromptTooLarge> {
    let prompt = GateCard::parse_readme(readme)
        .ok()
        .flatten()
        .and_then(|card| card.prompt)
        .map(|prompt| to_safe_html(&prompt));
    let prompt_size = prompt.as_ref().map_or(0, String::len);
    if prompt_size > MAX_PROMPT_HTML_BYTES {
        return Err(PromptTooLarge { size: prompt_size });
    }
    let markdown = readme_body(readme);
    let body = if markdown.trim().is_empty() {
        ReadmeBody::Empty
    } else if markdown.len() > MAX_BODY_MARKDOWN_BYTES {
        ReadmeBody::TooLarge
    } else {
        let html = to_safe_html(markdown);
        if html.len() + prompt_size > MAX_README_HTML_BYTES {
            ReadmeBody::TooLarge
        } else {
            ReadmeBody::Html(html)
        }
    };
    Ok(ReadmeHtml { body, prompt })
}

/// Safe HTML for a Markdown text. Raw HTML is allowed through the renderer and then cleaned:
/// scripts, styles, event handlers and `javascript:` URLs are removed; links get
/// `rel="noopener noreferrer nofollow"`.
fn to_safe_html(markdown: &str) -> String {
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

    #[test]
    fn a_readme_gives_its_body_and_its_gate_prompt_apart() {
        let readme = concat!(
            "---\nextra_gated_prompt: \"You agree to **the terms**<script>x()</script>\"\n---\n",
            "# Model\n\nWeights.\n",
        );
        let rendered = render_readme(readme).unwrap();
        let ReadmeBody::Html(body) = &rendered.body else {
            panic!("no body: {rendered:?}");
        };
        assert!(body.contains("<h1>Model</h1>") && !body.contains("extra_gated"), "{body}");
        let prompt = rendered.prompt.unwrap();
        assert!(prompt.contains("<strong>the terms</strong>"), "{prompt}");
        assert!(!prompt.contains("script"), "{prompt}");
    }

    #[test]
    fn a_readme_of_front_matter_alone_has_an_empty_body() {
        let rendered = render_readme("---\nlicense: mit\n---\n\n").unwrap();
        assert_eq!(rendered, ReadmeHtml::default());
    }

    #[test]
    fn a_card_that_does_not_read_has_no_prompt() {
        let rendered =
            render_readme("---\nextra_gated_prompt: Hi\nextra_gated_bogus: 1\n---\nText").unwrap();
        assert_eq!(rendered.prompt, None);
        assert_eq!(rendered.body, ReadmeBody::Html("<p>Text</p>\n".into()));
    }

    /// Each footnote reference renders to a link many times its length, so a short text can
    /// become a lot of HTML.
    fn footnote_references(count: usize) -> String {
        format!("{}\n\n[^1]: A note.\n", "[^1]".repeat(count))
    }

    #[test]
    fn a_body_too_large_to_keep_is_marked_so() {
        let huge = "word ".repeat(MAX_BODY_MARKDOWN_BYTES / 5 + 1);
        assert!(matches!(render_readme(&huge).unwrap().body, ReadmeBody::TooLarge));
        let expanding = footnote_references(30_000);
        assert!(expanding.len() < MAX_README_HTML_BYTES);
        assert!(matches!(render_readme(&expanding).unwrap().body, ReadmeBody::TooLarge));
    }

    #[test]
    fn a_prompt_that_renders_too_large_is_refused() {
        let prompt = footnote_references(12_000);
        let readme = format!(
            "---\nextra_gated_prompt: {}\n---\n",
            serde_json::to_string(&prompt).unwrap()
        );
        assert!(readme.len() < crate::card::MAX_FRONT_MATTER_BYTES);
        let Err(refused) = render_readme(&readme) else {
            panic!("a prompt of {} bytes was kept", prompt.len());
        };
        assert!(refused.size > MAX_PROMPT_HTML_BYTES, "{refused}");
    }
}
