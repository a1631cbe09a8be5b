//! Event descriptions: Markdown written by hosts, turned into HTML that is safe to put in
//! any page (and in other sites' embeds), or into plain text for cards, RSS and iCalendar.
//!
//! CommonMark (plus tables and strikethrough) goes through `pulldown-cmark`, then every byte
//! of HTML goes through an `ammonia` allowlist. This module must not trust its input: hosts
//! are anyone with an account, so nothing here may let script, styles or images through.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// Tags a description may keep. No images (they would track readers and can be huge), no
/// forms, no embedded content.
const ALLOWED_TAGS: &[&str] = &[
    "a",
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "b",
    "i",
    "del",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
];

/// Tags removed together with everything inside them: their text would be junk on a page.
const DROPPED_WITH_CONTENT: &[&str] = &[
    "script", "style", "iframe", "object", "embed", "template", "noscript", "textarea", "title",
    "svg", "math", "select", "frameset", "noembed", "noframes", "xmp",
];

/// Markdown features beyond CommonMark that hosts commonly use.
fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

fn sanitiser() -> &'static ammonia::Builder<'static> {
    static SANITISER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    SANITISER.get_or_init(|| {
        let mut builder = ammonia::Builder::empty();
        builder
            .tags(ALLOWED_TAGS.iter().copied().collect())
            .clean_content_tags(DROPPED_WITH_CONTENT.iter().copied().collect())
            .generic_attributes(HashSet::new())
            .tag_attributes(HashMap::from([
                ("a", HashSet::from(["href"])),
                ("ol", HashSet::from(["start"])),
            ]))
            .url_schemes(HashSet::from(["http", "https", "mailto"]))
            .url_relative(ammonia::UrlRelative::Deny)
            .link_rel(Some("noopener noreferrer nofollow ugc"))
            .strip_comments(true);
        builder
    })
}

/// Renders a host's Markdown as sanitised HTML, ready to insert into a page unescaped.
///
/// Headings are moved down two levels (`#` becomes `<h3>`) so a description never competes
/// with the page's own `<h1>`/`<h2>`. Images become their alt text. Raw HTML in the source
/// survives only where the allowlist permits it. Links keep `http`, `https` and `mailto`
/// targets only and get `rel="noopener noreferrer nofollow ugc"`.
pub fn render_markdown(source: &str) -> String {
    let mut image_depth = 0usize;
    let events = Parser::new_ext(source, options()).filter_map(|event| match event {
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Some(Event::Start(Tag::Heading {
            level: demoted(level),
            id,
            classes,
            attrs,
        })),
        Event::End(TagEnd::Heading(level)) => Some(Event::End(TagEnd::Heading(demoted(level)))),
        // An image's children are its alt text: keep them as ordinary text.
        Event::Start(Tag::Image { .. }) => {
            image_depth += 1;
            None
        }
        Event::End(TagEnd::Image) => {
            image_depth = image_depth.saturating_sub(1);
            None
        }
        other => Some(other),
    });
    let mut html = String::with_capacity(source.len() + source.len() / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    sanitiser().clean(&html).to_string()
}

fn demoted(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H3,
        HeadingLevel::H2 => HeadingLevel::H4,
        HeadingLevel::H3 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

/// The text of a Markdown description with all markup removed and whitespace collapsed to
/// single spaces, cut to at most `max_chars` characters (at a word boundary where one is
/// near, ending in "…"). For list cards, RSS and iCalendar; escape it like any other text.
pub fn plain_summary(source: &str, max_chars: usize) -> String {
    let mut text = String::with_capacity(source.len().min(max_chars.saturating_mul(4) + 16));
    for event in Parser::new_ext(source, options()) {
        match event {
            Event::Text(chunk) | Event::Code(chunk) => text.push_str(&chunk),
            Event::SoftBreak | Event::HardBreak | Event::Rule => text.push(' '),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::BlockQuote(_)
                | TagEnd::TableCell,
            ) => text.push(' '),
            // Raw HTML is markup, not words; footnote and task markers are decoration.
            _ => {}
        }
        if text.len() > max_chars.saturating_mul(8) + 64 {
            break; // far more than will be kept, whatever the whitespace
        }
    }
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    truncate_words(&collapsed, max_chars)
}

/// Cuts `text` to at most `max_chars` characters, preferring to end at a space.
fn truncate_words(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    if max_chars == 0 {
        return String::new();
    }
    let keep = max_chars - 1; // room for the ellipsis
    let cut = text
        .char_indices()
        .nth(keep)
        .map_or(text.len(), |(at, _)| at);
    let head = &text[..cut];
    let ends_a_word = text[cut..].starts_with(' ');
    let head = match head.rfind(' ') {
        // Only back off to a word boundary when that loses less than a third of the text.
        Some(space) if !ends_a_word && space >= cut * 2 / 3 => &head[..space],
        _ => head,
    };
    format!("{}…", head.trim_end())
}

#[cfg(test)]
mod tests;
