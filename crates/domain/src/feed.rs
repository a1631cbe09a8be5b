//! RSS 2.0 feeds of events (a group's upcoming events, a search) for feed readers and for
//! other sites that syndicate a group's calendar.
//!
//! Owns the XML text only: escaping, dates in RFC 2822 and the channel/item layout. It must
//! not choose which events are public; callers pass in exactly what may be published.

use chrono::{DateTime, Utc};

/// The feed as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedChannel {
    /// The feed's name, e.g. "Leeds Momentum events".
    pub title: String,
    /// The HTML page the feed mirrors (absolute URL).
    pub link: String,
    /// One sentence about the feed, plain text.
    pub description: String,
}

/// One entry in the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedItem {
    /// The event's title, plain text.
    pub title: String,
    /// The event page (absolute URL).
    pub link: String,
    /// Stable identifier; marked as a permalink only when it equals `link`.
    pub guid: String,
    /// Plain text (see `markdown::plain_summary`), not HTML.
    pub description: String,
    /// When the item was published, UTC milliseconds.
    pub published_at: i64,
}

/// Builds an RSS 2.0 document for `channel` with `items` in the order given. The channel's
/// `lastBuildDate` is the newest item's `published_at` (absent when there are no items), so
/// the same input always gives the same bytes.
pub fn rss(channel: &FeedChannel, items: &[FeedItem]) -> String {
    let mut out = String::with_capacity(512 + items.len() * 400);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<rss version=\"2.0\">\n<channel>\n");
    element(&mut out, "title", &channel.title);
    element(&mut out, "link", &channel.link);
    element(&mut out, "description", &channel.description);
    element(&mut out, "generator", "Barnstorm");
    if let Some(newest) = items.iter().map(|item| item.published_at).max() {
        element(&mut out, "lastBuildDate", &rfc2822(newest));
    }
    for item in items {
        out.push_str("<item>\n");
        element(&mut out, "title", &item.title);
        element(&mut out, "link", &item.link);
        let permalink = if item.guid == item.link {
            "true"
        } else {
            "false"
        };
        out.push_str("<guid isPermaLink=\"");
        out.push_str(permalink);
        out.push_str("\">");
        push_escaped(&mut out, &item.guid);
        out.push_str("</guid>\n");
        element(&mut out, "description", &item.description);
        element(&mut out, "pubDate", &rfc2822(item.published_at));
        out.push_str("</item>\n");
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

/// `<name>escaped text</name>` and a newline.
fn element(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    push_escaped(out, text);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

/// Escapes the five XML special characters and drops characters XML 1.0 forbids outright
/// (C0 controls other than tab and newlines, U+FFFE, U+FFFF): one stray byte in a title
/// must not make a reader reject the whole feed.
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => {}
            c => out.push(c),
        }
    }
}

/// `Tue, 1 Dec 2026 10:00:00 +0000`. Out-of-range times fall back to the Unix epoch.
fn rfc2822(millis: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc2822()
}

#[cfg(test)]
mod tests;
