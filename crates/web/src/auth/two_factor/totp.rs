//! Authenticator app codes (RFC 6238: HMAC-SHA-1, six digits, 30-second steps, one step
//! of clock drift either way), their `otpauth://` set-up URI and QR code, and recovery
//! codes. Pure functions of their inputs; the store remembers which steps were used.

use barnstorm_store::Millis;
use rand::Rng;
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// How many recovery codes an account gets.
pub const RECOVERY_CODE_COUNT: usize = 10;
/// Letters of recovery codes: no 0/o or 1/l to confuse.
const RECOVERY_ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
/// Letters in a recovery code (60 random bits), written in groups of four.
const RECOVERY_CODE_LETTERS: usize = 12;
const STEP_SECONDS: u64 = 30;

fn totp(secret_base32: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret_base32).ok()?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(STEP_SECONDS)
        .with_secret(secret)
        .build()
        .ok()
}

fn unix_seconds(now: Millis) -> u64 {
    u64::try_from(now / 1000).unwrap_or(0)
}

/// A new shared secret: 160 random bits, base32 without padding.
pub fn new_totp_secret() -> String {
    let bytes: [u8; 20] = rand::rng().random();
    Secret::from(bytes).to_base32()
}

/// The six-digit code for `secret` at `now` (what the authenticator app shows).
pub fn code_at(secret_base32: &str, now: Millis) -> Option<String> {
    Some(totp(secret_base32)?.generate(unix_seconds(now)).to_string())
}

/// The 30-second step whose code `code` is, within one step of `now`; `None` when it is
/// not a current code.
pub fn step_of(secret_base32: &str, code: &str, now: Millis) -> Option<i64> {
    let step = totp(secret_base32)?.check(code, unix_seconds(now))?;
    i64::try_from(step).ok()
}

/// The `otpauth://` URI authenticator apps read from the QR code.
pub fn otpauth_uri(secret_base32: &str, issuer: &str, account: &str) -> String {
    let encode =
        |s: &str| -> String { url::form_urlencoded::byte_serialize(s.as_bytes()).collect() };
    // Labels are path segments: a space must be %20, not the form encoding's '+'.
    let label = format!("{issuer}:{account}");
    let label = encode(&label).replace('+', "%20");
    format!(
        "otpauth://totp/{label}?secret={secret_base32}&issuer={}&algorithm=SHA1&digits=6&period={STEP_SECONDS}",
        encode(issuer).replace('+', "%20")
    )
}

/// `text` as a QR code in SVG, for the set-up page; `None` when it is too long to encode.
pub fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

/// Ten new recovery codes, written `abcd-efgh-jkmn`.
pub fn new_recovery_codes() -> Vec<String> {
    let mut rng = rand::rng();
    (0..RECOVERY_CODE_COUNT)
        .map(|_| {
            let letters: Vec<char> = (0..RECOVERY_CODE_LETTERS)
                .map(|_| char::from(RECOVERY_ALPHABET[rng.random_range(0..32)]))
                .collect();
            letters
                .chunks(4)
                .map(|chunk| chunk.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// A recovery code as typed (any case, with or without dashes and spaces) in the form
/// that is hashed; `None` when it cannot be one.
pub fn normalise_recovery_code(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (code.len() == RECOVERY_CODE_LETTERS && code.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)))
        .then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_rfc_6238_sha1_test_vectors() {
        // RFC 6238 appendix B: secret "12345678901234567890", eight digits there; the last
        // six of each are what a six-digit app shows.
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        for (seconds, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(
                code_at(&secret, seconds * 1000).unwrap(),
                code,
                "at {seconds}"
            );
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_no_further() {
        let secret = new_totp_secret();
        let now = 1_700_000_000_000;
        let code = code_at(&secret, now).unwrap();
        assert!(step_of(&secret, &code, now).is_some());
        assert!(step_of(&secret, &code, now + 30_000).is_some());
        assert!(step_of(&secret, &code, now - 30_000).is_some());
        assert!(step_of(&secret, &code, now + 90_000).is_none());
    }

    #[test]
    fn recovery_codes_are_distinct_and_read_back_however_typed() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 10);
        let typed = format!(" {} ", codes[0].to_uppercase().replace('-', " "));
        assert_eq!(
            normalise_recovery_code(&typed),
            Some(codes[0].replace('-', ""))
        );
        assert_eq!(normalise_recovery_code("123456"), None);
    }

    #[test]
    fn the_set_up_uri_names_the_account_and_renders_as_svg() {
        let uri = otpauth_uri("JBSWY3DPEHPK3PXP", "Barnstorm", "ada@example.org");
        assert_eq!(
            uri,
            "otpauth://totp/Barnstorm%3Aada%40example.org?secret=JBSWY3DPEHPK3PXP&issuer=Barnstorm&algorithm=SHA1&digits=6&period=30"
        );
        assert!(qr_svg(&uri).unwrap().contains("<svg"));
    }
}
