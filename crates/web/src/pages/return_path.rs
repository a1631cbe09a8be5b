//! Where a person is sent back to after signing in, accepting an invite or joining: the
//! one check every `next` parameter goes through, and the one way sign-in links to come
//! back are built. Only paths on this site are followed; anything a browser could read as
//! another origin (`//host`, `/\host`, TAB/CR/LF inside, a scheme) falls back to `/`.

use url::Url;

/// The origin a candidate path is resolved against; only its path part is ever used.
const PLACEHOLDER_ORIGIN: &str = "http://barnstorm.invalid/";

/// Where to go when the requested return path is missing or unsafe.
const HOME: &str = "/";

/// The return path to follow for `raw`, or `/` if it is missing or could leave the site.
///
/// The answer is always a valid `Location` value: a path starting with a single `/`,
/// ASCII only, without control characters.
pub(crate) fn safe_return_path(raw: Option<&str>) -> String {
    raw.and_then(same_origin_path)
        .unwrap_or_else(|| HOME.to_owned())
}

/// The sign-in page's address that brings the person back to `back` afterwards.
pub(crate) fn sign_in_then(back: &str) -> String {
    let back = safe_return_path(Some(back));
    let encoded: String = url::form_urlencoded::byte_serialize(back.as_bytes()).collect();
    format!("/login?next={encoded}")
}

fn same_origin_path(raw: &str) -> Option<String> {
    // Browsers drop TAB, CR and LF from URLs, so `/\t/evil` would become `//evil`.
    if raw.chars().any(char::is_control) || raw.contains('\\') {
        return None;
    }
    if raw.strip_prefix('/')?.starts_with('/') {
        return None;
    }
    // A path that is encoded once more must not decode to one of the above either.
    let decoded = percent_decoded(raw);
    if decoded.chars().any(char::is_control) || decoded.contains('\\') || decoded.starts_with("//")
    {
        return None;
    }
    let base = Url::parse(PLACEHOLDER_ORIGIN).ok()?;
    let resolved = base.join(raw).ok()?;
    if resolved.origin() != base.origin() {
        return None;
    }
    let path = &resolved[url::Position::BeforePath..];
    if !path.starts_with('/') || path.starts_with("//") {
        return None;
    }
    Some(path.to_owned())
}

fn percent_decoded(raw: &str) -> String {
    url::form_urlencoded::parse(format!("p={}", raw.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::{safe_return_path, sign_in_then};

    fn followed(raw: &str) -> String {
        safe_return_path(Some(raw))
    }

    #[test]
    fn paths_on_this_site_are_followed() {
        assert_eq!(followed("/groups/leeds"), "/groups/leeds");
        assert_eq!(followed("/call/7?break=1"), "/call/7?break=1");
        assert_eq!(followed("/events/3#rsvp"), "/events/3#rsvp");
        assert_eq!(followed("/@evil.example"), "/@evil.example");
        assert_eq!(followed("/groups/caf\u{e9}"), "/groups/caf%C3%A9");
        assert_eq!(safe_return_path(None), "/");
    }

    #[test]
    fn anything_that_could_leave_the_site_goes_home() {
        for attack in [
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\r\n/evil.example",
            "/groups\r\nSet-Cookie: a=b",
            "/%09/evil.example",
            "/%2F/evil.example",
            "/%5Cevil.example",
            "%2F%2Fevil.example",
            "https://evil.example/",
            "https:evil.example",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "//user:pass@evil.example",
            "https://barnstorm.test@evil.example/",
            "evil.example",
            "",
            " /groups",
            "/\u{0}x",
        ] {
            assert_eq!(followed(attack), "/", "{attack:?} was followed");
        }
    }

    #[test]
    fn sign_in_comes_back_to_an_encoded_path() {
        assert_eq!(sign_in_then("/invites/abc"), "/login?next=%2Finvites%2Fabc");
        assert_eq!(sign_in_then("/invites/a\r\nb"), "/login?next=%2F");
    }
}
