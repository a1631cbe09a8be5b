//! Email addresses as people type them: a light check that catches typing mistakes
//! (no `@`, no dotted domain, spaces) without pretending to validate deliverability,
//! which only sending a mail can prove.

/// Checks an address lightly and returns it with its domain lower-cased: one `@`,
/// something before it, a dotted domain after it, no spaces or control characters.
pub fn normalise_email(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let (local, domain) = raw.split_once('@')?;
    let ok = !local.is_empty()
        && local.len() <= 64
        && raw.len() <= crate::limits::EMAIL
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !raw.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then(|| format!("{local}@{}", domain.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::normalise_email;

    #[test]
    fn typing_mistakes_are_caught() {
        assert_eq!(
            normalise_email(" Nia@Example.ORG "),
            Some("Nia@example.org".to_owned())
        );
        for bad in [
            "nia@example",
            "nia example.org",
            "@example.org",
            "nia@.org",
            "x@",
            "@",
            "a@b..org",
            "a@b@c.org",
        ] {
            assert_eq!(normalise_email(bad), None, "{bad}");
        }
    }
}
