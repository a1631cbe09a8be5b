use super::*;

/// One tag from sanitised output: its name and attributes (values still entity-encoded).
#[derive(Debug)]
struct ScannedTag {
    name: String,
    attributes: Vec<(String, String)>,
}

/// Reads every tag in `html`, failing on anything the sanitiser's serializer would never
/// write (an unquoted attribute, a stray `<`). A payload that survived as markup would show
/// up here as a tag or attribute outside the allowlist.
fn scan_tags(html: &str) -> Vec<ScannedTag> {
    let mut tags = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let closing = rest.starts_with('/');
        if closing {
            rest = &rest[1..];
        }
        let name_end = rest
            .find(|c: char| c == '>' || c.is_whitespace())
            .unwrap_or_else(|| panic!("unterminated tag in {html:?}"));
        let name = rest[..name_end].to_owned();
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()),
            "a bare `<` or odd tag name {name:?} in {html:?}"
        );
        rest = &rest[name_end..];
        let mut attributes = Vec::new();
        loop {
            rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix('>') {
                rest = after;
                break;
            }
            assert!(!closing, "attributes on a closing tag in {html:?}");
            let attr_end = rest
                .find('=')
                .unwrap_or_else(|| panic!("attribute without a value in {html:?}"));
            let attr = rest[..attr_end].to_owned();
            rest = rest[attr_end + 1..]
                .strip_prefix('"')
                .unwrap_or_else(|| panic!("unquoted attribute in {html:?}"));
            let value_end = rest.find('"').expect("closing quote");
            attributes.push((attr, rest[..value_end].to_owned()));
            rest = &rest[value_end + 1..];
        }
        tags.push(ScannedTag { name, attributes });
    }
    tags
}

/// Asserts that `html` holds nothing but allowlisted tags and safe attributes.
fn assert_inert(payload: &str, html: &str) {
    for tag in scan_tags(html) {
        assert!(
            ALLOWED_TAGS.contains(&tag.name.as_str()),
            "tag <{}> survived from {payload:?}: {html}",
            tag.name
        );
        for (attr, value) in &tag.attributes {
            match (tag.name.as_str(), attr.as_str()) {
                ("a", "href") => {
                    let decoded = value.replace("&amp;", "&").to_ascii_lowercase();
                    assert!(
                        decoded.starts_with("http://")
                            || decoded.starts_with("https://")
                            || decoded.starts_with("mailto:"),
                        "unsafe href {value:?} from {payload:?}: {html}"
                    );
                }
                ("a", "rel") => assert_eq!(value, "noopener noreferrer nofollow ugc"),
                ("ol", "start") => assert!(value.chars().all(|c| c.is_ascii_digit())),
                _ => panic!(
                    "attribute {attr}={value:?} on <{}> from {payload:?}",
                    tag.name
                ),
            }
        }
    }
}

const XSS_PAYLOADS: &[&str] = &[
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<a href=\"javascript:alert(1)\">click</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">click</a>",
    "<a href=\"  javascript:alert(1)\">click</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">x</a>",
    "<a href=\"&#x6A;avascript&colon;alert(1)\">x</a>",
    "<a href=\"java\tscript:alert(1)\">x</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=\"/relative\" onclick=\"alert(1)\">x</a>",
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](java%0ascript:alert(1))",
    "[x](data:text/html,<script>alert(1)</script>)",
    "[x]( javascript:alert(1) )",
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "<data:text/html,alert(1)>",
    "![x](javascript:alert(1))",
    "![x\" onerror=\"alert(1)](https://example.org/x.png)",
    "<!-- <script>alert(1)</script> -->",
    "<!--><img src=x onerror=alert(1)>-->",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<object data=\"x.swf\"></object><embed src=\"x.swf\">",
    "<style>body{display:none}</style>",
    "<p style=\"background:url(javascript:alert(1))\">x</p>",
    "<div onmouseover=\"alert(1)\">hover</div>",
    "<form action=\"https://evil.example\"><input name=x><button>go</button></form>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"https://evil.example/\">",
    "<details open ontoggle=alert(1)>",
    "`<script>alert(1)</script>`",
    "```\n<script>alert(1)</script>\n```",
    "<a href=\"https://example.org\" target=\"_top\" id=\"x\" class=\"y\">ok</a>",
    "<<script>script>alert(1)<</script>/script>",
    "<scr<script>ipt>alert(1)</script>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<template><script>alert(1)</script></template>",
    "\"><script>alert(1)</script>",
];

#[test]
fn xss_payloads_render_inert() {
    for payload in XSS_PAYLOADS {
        for source in [
            payload.to_string(),
            format!("Intro **bold**\n\n{payload}\n\nOutro"),
        ] {
            let html = render_markdown(&source);
            assert_inert(payload, &html);
            let lower = html.to_ascii_lowercase();
            assert!(!lower.contains("<script"), "{payload:?} → {html}");
            assert!(!lower.contains("<img"), "{payload:?} → {html}");
            assert!(!lower.contains("<svg"), "{payload:?} → {html}");
            assert!(!lower.contains("<iframe"), "{payload:?} → {html}");
            assert!(!lower.contains("<style"), "{payload:?} → {html}");
            assert!(!lower.contains("href=\"javascript"), "{payload:?} → {html}");
            assert!(!lower.contains("href=\"data"), "{payload:?} → {html}");
        }
    }
}

#[test]
fn script_and_style_contents_disappear_entirely() {
    let html = render_markdown("before <script>alert('boom')</script> <style>p{}</style>after");
    assert!(!html.contains("alert"), "{html}");
    assert!(!html.contains("p{}"), "{html}");
    assert!(html.contains("before") && html.contains("after"), "{html}");
}

#[test]
fn code_shows_markup_as_text() {
    let html = render_markdown("Use `<script>` tags");
    assert_eq!(html, "<p>Use <code>&lt;script&gt;</code> tags</p>\n");
}

#[test]
fn dangerous_link_keeps_its_text_but_loses_its_target() {
    let html = render_markdown("[click me](javascript:alert(1))");
    assert_eq!(
        html,
        "<p><a rel=\"noopener noreferrer nofollow ugc\">click me</a></p>\n"
    );
}

#[test]
fn ordinary_markdown_renders() {
    let source = "# Canvass in Leeds\n\nMeet at the **library**, bring _water_.\n\n\
                  - leaflets\n- clipboards\n\n1. knock\n2. talk\n\n> Be kind\n\n\
                  See [the map](https://example.org/map?a=1&b=2) or \
                  <host@example.org>.\n\n~~cancelled~~ back on";
    let html = render_markdown(source);
    assert!(html.contains("<h3>Canvass in Leeds</h3>"), "{html}");
    assert!(html.contains("<strong>library</strong>"), "{html}");
    assert!(html.contains("<em>water</em>"), "{html}");
    assert!(
        html.contains("<ul>\n<li>leaflets</li>\n<li>clipboards</li>\n</ul>"),
        "{html}"
    );
    assert!(html.contains("<ol>\n<li>knock</li>"), "{html}");
    assert!(
        html.contains("<blockquote>\n<p>Be kind</p>\n</blockquote>"),
        "{html}"
    );
    assert!(
        html.contains(
            "<a href=\"https://example.org/map?a=1&amp;b=2\" rel=\"noopener noreferrer nofollow ugc\">the map</a>"
        ),
        "{html}"
    );
    assert!(
        html.contains(
            "<a href=\"mailto:host@example.org\" rel=\"noopener noreferrer nofollow ugc\">host@example.org</a>"
        ),
        "{html}"
    );
    assert!(html.contains("<del>cancelled</del>"), "{html}");
    assert_inert(source, &html);
}

#[test]
fn headings_are_demoted_below_the_page_headings() {
    assert_eq!(render_markdown("# A"), "<h3>A</h3>\n");
    assert_eq!(render_markdown("## B"), "<h4>B</h4>\n");
    assert_eq!(render_markdown("###### C"), "<h6>C</h6>\n");
}

#[test]
fn images_become_their_alt_text() {
    let html = render_markdown("![Map of the route](https://example.org/route.png)");
    assert_eq!(html, "<p>Map of the route</p>\n");
}

#[test]
fn numbered_lists_keep_their_start() {
    let html = render_markdown("3. third\n4. fourth");
    assert!(html.starts_with("<ol start=\"3\">"), "{html}");
}

#[test]
fn relative_links_lose_their_target() {
    let html = render_markdown("[home](/events/1)");
    assert_eq!(
        html,
        "<p><a rel=\"noopener noreferrer nofollow ugc\">home</a></p>\n"
    );
}

#[test]
fn summary_strips_markup_and_collapses_whitespace() {
    let source = "# Title\n\nSome **bold** and [a link](https://example.org).\n\n\
                  - one\n- two\n\n<b>raw</b> `code`";
    assert_eq!(
        plain_summary(source, 200),
        "Title Some bold and a link. one two raw code"
    );
}

#[test]
fn summary_drops_html_blocks_and_resolves_entities() {
    assert_eq!(
        plain_summary("<script>alert(1)</script>\n\nHello &amp; welcome", 100),
        "Hello & welcome"
    );
}

#[test]
fn summary_cuts_at_a_word_boundary() {
    let source = "Join us for a morning of door knocking across Headingley";
    let summary = plain_summary(source, 30);
    assert_eq!(summary, "Join us for a morning of door…");
    assert_eq!(summary.chars().count(), 30);
    assert_eq!(plain_summary(source, 33), "Join us for a morning of door…");
    assert_eq!(
        plain_summary(source, 40),
        "Join us for a morning of door knocking…"
    );
}

#[test]
fn summary_cuts_long_words_mid_word_without_splitting_characters() {
    let source = "ééééééééééééééééééééééééééééééé";
    let summary = plain_summary(source, 10);
    assert_eq!(summary, "ééééééééé…");
    assert_eq!(plain_summary(source, 0), "");
    assert_eq!(plain_summary("short", 5), "short");
}
