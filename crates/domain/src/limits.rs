//! The longest text each free-text field accepts, in characters (Unicode scalar values),
//! and the one check that enforces it. Pages, the API and the OpenAPI document all read
//! these constants, so a limit is changed here and nowhere else. It must not trim,
//! rewrite or otherwise judge the text: callers do that before checking its length.

use thiserror::Error;

/// A person's name: RSVPs, invite acceptance, sign-up, group members.
pub const PERSON_NAME: usize = 200;
/// An email address (RFC 5321 allows 254 characters in a path).
pub const EMAIL: usize = 254;
/// A phone number as typed, before normalising.
pub const PHONE: usize = 50;
/// A postcode, district or town as typed.
pub const POSTCODE: usize = 100;
/// A group's name.
pub const GROUP_NAME: usize = 200;
/// A group's description (Markdown).
pub const GROUP_DESCRIPTION: usize = 50_000;
/// An event's title.
pub const EVENT_TITLE: usize = 200;
/// An event's description (Markdown).
pub const EVENT_DESCRIPTION: usize = 50_000;
/// An event's street address.
pub const ADDRESS: usize = 500;
/// A web link, such as an event's online meeting link.
pub const URL: usize = 500;
/// An event's accessibility notes.
pub const ACCESSIBILITY: usize = 5_000;
/// A call campaign's name.
pub const CAMPAIGN_NAME: usize = 200;
/// A call campaign's briefing for callers.
pub const BRIEFING: usize = 20_000;
/// A call campaign's script template.
pub const SCRIPT: usize = 20_000;
/// The text of one survey question.
pub const SURVEY_QUESTION: usize = 1_000;
/// The label of one survey option.
pub const SURVEY_OPTION: usize = 200;
/// A survey question or option key, and an outcome key.
pub const KEY: usize = 64;
/// The label of one call outcome.
pub const OUTCOME_LABEL: usize = 200;
/// A caller's notes on one call.
pub const CALL_NOTES: usize = 5_000;
/// The label of an API token or invite link.
pub const LABEL: usize = 200;
/// A password (long enough for any passphrase, short enough to hash cheaply).
pub const PASSWORD: usize = 1_000;
/// Freeform codes and keys sent by clients: invite codes, idempotency keys.
pub const CODE: usize = 200;

/// Text longer than its field allows.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field} is {len} characters long; at most {max} are allowed")]
pub struct TooLong {
    /// The field at fault, as the form or JSON names it.
    pub field: String,
    /// The longest it may be.
    pub max: usize,
    /// How long it was.
    pub len: usize,
}

/// Checks that `text` has at most `max` characters; the error names `field`.
pub fn check_length(field: &str, text: &str, max: usize) -> Result<(), TooLong> {
    // Counting stops one past the limit, so a huge value costs no more than a short one.
    let len = text.chars().take(max + 1).count();
    if len > max {
        return Err(TooLong {
            field: field.to_owned(),
            max,
            len: text.chars().count(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_at_the_limit_passes_and_one_more_character_fails() {
        assert_eq!(
            check_length("name", &"é".repeat(PERSON_NAME), PERSON_NAME),
            Ok(())
        );
        let err = check_length("name", &"é".repeat(PERSON_NAME + 1), PERSON_NAME)
            .expect_err("one character too many");
        assert_eq!(err.field, "name");
        assert_eq!(err.len, PERSON_NAME + 1);
        assert_eq!(
            err.to_string(),
            "name is 201 characters long; at most 200 are allowed"
        );
    }

    #[test]
    fn characters_are_counted_not_bytes() {
        // 200 four-byte characters are 800 bytes and still fit.
        assert!(check_length("title", &"🎉".repeat(EVENT_TITLE), EVENT_TITLE).is_ok());
    }
}
