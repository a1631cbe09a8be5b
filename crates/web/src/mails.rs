//! The text of the mails Barnstorm sends. Plain text, short, saying who sent it and why
//! the reader got it. Composing only: queuing is the store's job, sending the mail crate's.

use crate::WebConfig;
use crate::privacy_notice::mail_footer;
use barnstorm_store::{NewMail, Role, User};

/// The address of a sign-in link, coming back to `next` (a local path) once used.
fn sign_in_url(config: &WebConfig, token: &str, next: Option<&str>) -> String {
    match next {
        Some(next) => {
            let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
            config.absolute(&format!("/login/link/{token}?next={next}"))
        }
        None => config.absolute(&format!("/login/link/{token}")),
    }
}

/// A one-time sign-in link.
pub(crate) fn sign_in_link(
    config: &WebConfig,
    user: &User,
    token: &str,
    next: Option<&str>,
) -> NewMail {
    let link = sign_in_url(config, token, next);
    NewMail {
        to: user.email.clone(),
        subject: "Your Barnstorm sign-in link".into(),
        body_text: format!(
            "Hello {name},\n\nUse this link to sign in to Barnstorm. It works once, within 30 minutes:\n\n{link}\n\n\
             If you did not ask for it, ignore this mail; nobody can sign in without the link.\n",
            name = user.name
        ) + &mail_footer(config),
        headers: Default::default(),
        ..Default::default()
    }
}

/// The link that proves a new account's address (it also signs the owner in).
pub(crate) fn confirm_address(
    config: &WebConfig,
    user: &User,
    token: &str,
    next: Option<&str>,
) -> NewMail {
    let link = sign_in_url(config, token, next);
    NewMail {
        to: user.email.clone(),
        subject: "Confirm your Barnstorm address".into(),
        body_text: format!(
            "Hello {name},\n\nAn account was made on Barnstorm for this address. Follow this link within 24 hours \
             to confirm it is yours; it also signs you in:\n\n{link}\n\n\
             Confirming signs out anyone else who was using the account. If you did not make it, \
             following the link gives the account to you; ignoring this mail leaves it unable to join \
             groups, host events or message anyone (at most, it calls for a phone bank it joined).\n",
            name = user.name
        ) + &mail_footer(config),
        headers: Default::default(),
        ..Default::default()
    }
}

/// The answer to a sign-in link asked for an address without an account: a link to make
/// one, coming back to `next` once confirmed.
pub(crate) fn no_account_yet(config: &WebConfig, email: &str, next: &str) -> NewMail {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("email", email)
        .append_pair("next", next)
        .finish();
    let link = config.absolute(&format!("/signup?{query}"));
    NewMail {
        to: email.to_owned(),
        subject: "No Barnstorm account yet".into(),
        body_text: format!(
            "Hello,\n\nSomeone asked for a Barnstorm sign-in link for this address, but it has no account yet. \
             To make one, follow this link:\n\n{link}\n\n\
             If you did not ask, ignore this mail; no account is made without you.\n"
        ) + &mail_footer(config),
        headers: Default::default(),
        ..Default::default()
    }
}

/// An invitation to join a group.
pub(crate) fn group_invite(
    config: &WebConfig,
    inviter: &User,
    group_name: &str,
    role: Role,
    email: &str,
    token: &str,
) -> NewMail {
    let link = config.absolute(&format!("/invites/{token}"));
    let role_text = match role {
        Role::Organiser => "an organiser",
        Role::Host => "an event host",
        Role::Caller => "a caller",
        Role::Member => "a member",
    };
    NewMail {
        to: email.to_owned(),
        subject: format!("You're invited to join {group_name} on Barnstorm"),
        body_text: format!(
            "Hello,\n\n{inviter} has invited you to join {group_name} on Barnstorm as {role_text}.\n\n\
             Accept the invitation here (the link works for 14 days):\n\n{link}\n\n\
             If you were not expecting this, ignore this mail and nothing will happen.\n",
            inviter = inviter.name
        ) + &mail_footer(config),
        headers: Default::default(),
        ..Default::default()
    }
}
