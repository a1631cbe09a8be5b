use super::*;
use quick_xml::events::Event;

/// 2026-12-01T10:00:00Z
const START: i64 = 1_796_119_200_000;

fn channel() -> FeedChannel {
    FeedChannel {
        title: "Leeds events".into(),
        link: "https://barnstorm.example.org/groups/leeds".into(),
        description: "Upcoming events near Leeds".into(),
    }
}

fn item(title: &str) -> FeedItem {
    FeedItem {
        title: title.into(),
        link: "https://barnstorm.example.org/events/42".into(),
        guid: "https://barnstorm.example.org/events/42".into(),
        description: "Meet at the library.".into(),
        published_at: START,
    }
}

/// Parses `xml` with an independent XML parser, failing on any well-formedness error, and
/// returns the text of every element named `name`, entities resolved.
fn texts_of(xml: &str, name: &str) -> Vec<String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut found = Vec::new();
    let mut depth_in_target = false;
    let mut current = String::new();
    let mut open = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(start) => {
                let tag = String::from_utf8(start.name().as_ref().to_vec()).expect("utf-8");
                depth_in_target = tag == name;
                current.clear();
                open.push(tag);
            }
            Event::End(end) => {
                let tag = String::from_utf8(end.name().as_ref().to_vec()).expect("utf-8");
                assert_eq!(open.pop().as_deref(), Some(tag.as_str()), "mismatched tags");
                if tag == name {
                    found.push(std::mem::take(&mut current));
                }
                depth_in_target = false;
            }
            Event::Text(text) if depth_in_target => {
                current.push_str(&text.decode().expect("utf-8"));
            }
            Event::GeneralRef(reference) if depth_in_target => {
                if let Some(c) = reference.resolve_char_ref().expect("char ref") {
                    current.push(c);
                } else {
                    let entity = reference.decode().expect("utf-8");
                    current.push(match entity.as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => panic!("undeclared entity &{other};"),
                    });
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(open.is_empty(), "unclosed elements {open:?}");
    found
}

#[test]
fn writes_a_channel_with_items() {
    let xml = rss(&channel(), &[item("Canvass in Headingley")]);
    let expected = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
        <rss version=\"2.0\">\n<channel>\n\
        <title>Leeds events</title>\n\
        <link>https://barnstorm.example.org/groups/leeds</link>\n\
        <description>Upcoming events near Leeds</description>\n\
        <generator>Barnstorm</generator>\n\
        <lastBuildDate>Tue, 1 Dec 2026 10:00:00 +0000</lastBuildDate>\n\
        <item>\n\
        <title>Canvass in Headingley</title>\n\
        <link>https://barnstorm.example.org/events/42</link>\n\
        <guid isPermaLink=\"true\">https://barnstorm.example.org/events/42</guid>\n\
        <description>Meet at the library.</description>\n\
        <pubDate>Tue, 1 Dec 2026 10:00:00 +0000</pubDate>\n\
        </item>\n\
        </channel>\n</rss>\n";
    assert_eq!(xml, expected);
}

#[test]
fn hostile_titles_are_escaped_and_parse_back_unchanged() {
    let hostile = [
        "<script>alert(1)</script>",
        "Tom & Jerry's \"picnic\" <b>",
        "]]><evil/><![CDATA[",
        "</title></item></channel></rss><rss>",
        "&amp; already &lt;escaped&gt;",
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"boom\">]>&e;",
        "émoji 🚪 and ünïcödé",
    ];
    let items: Vec<FeedItem> = hostile
        .iter()
        .map(|title| FeedItem {
            description: format!("About {title}"),
            ..item(title)
        })
        .collect();
    let xml = rss(&channel(), &items);
    assert!(!xml.contains("<script"));
    assert!(!xml.contains("<evil"));
    let titles = texts_of(&xml, "title");
    assert_eq!(titles[0], "Leeds events");
    assert_eq!(&titles[1..], hostile.as_slice());
    let descriptions = texts_of(&xml, "description");
    assert_eq!(descriptions[1], "About <script>alert(1)</script>");
    assert_eq!(texts_of(&xml, "item").len(), hostile.len());
}

#[test]
fn characters_xml_forbids_are_dropped() {
    let xml = rss(&channel(), &[item("bell\u{7} null\u{0} ok\u{ffff}\ttab")]);
    assert_eq!(texts_of(&xml, "title")[1], "bell null ok\ttab");
    assert!(!xml.contains('\u{0}') && !xml.contains('\u{7}'));
}

#[test]
fn hostile_channel_and_links_are_escaped() {
    let hostile_channel = FeedChannel {
        title: "A & B <group>".into(),
        link: "https://example.org/?a=1&b=\"2\"".into(),
        description: "It's <great>".into(),
    };
    let xml = rss(&hostile_channel, &[]);
    assert_eq!(texts_of(&xml, "title"), ["A & B <group>"]);
    assert_eq!(texts_of(&xml, "link"), ["https://example.org/?a=1&b=\"2\""]);
    assert!(!xml.contains("lastBuildDate"), "no items, no build date");
}

#[test]
fn guid_is_a_permalink_only_when_it_is_the_link() {
    let other = FeedItem {
        guid: "event-42@barnstorm.example.org".into(),
        ..item("x")
    };
    let xml = rss(&channel(), &[other]);
    assert!(xml.contains("<guid isPermaLink=\"false\">event-42@barnstorm.example.org</guid>"));
}

#[test]
fn last_build_date_is_the_newest_item() {
    let older = FeedItem {
        published_at: START - 86_400_000,
        ..item("older")
    };
    let xml = rss(&channel(), &[older, item("newer")]);
    assert_eq!(
        texts_of(&xml, "lastBuildDate"),
        ["Tue, 1 Dec 2026 10:00:00 +0000"]
    );
    assert_eq!(
        texts_of(&xml, "pubDate"),
        [
            "Mon, 30 Nov 2026 10:00:00 +0000",
            "Tue, 1 Dec 2026 10:00:00 +0000"
        ]
    );
}
