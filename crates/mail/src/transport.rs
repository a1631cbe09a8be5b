//! Where mail goes: an SMTP server named by URL, or a folder of `.eml` files for
//! development. Builds RFC 5322 messages from outbox rows; knows nothing of retries.

use barnstorm_store::NewMail;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;

/// How outgoing mail leaves this node.
#[derive(Clone)]
pub enum MailTransport {
    /// Relay through an SMTP server (`smtp://host:port`, `smtp://…?tls=required`, `smtps://…`).
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// Write each mail as an `.eml` file into this folder (development).
    Folder(PathBuf),
}

/// Sender and transport for outgoing mail.
#[derive(Clone)]
pub struct MailConfig {
    /// The `From:` address.
    pub from: Mailbox,
    /// Where mail goes.
    pub transport: MailTransport,
}

/// A mail setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MailConfigError {
    /// The sender address is not an address.
    #[error(
        "BARNSTORM_MAIL_FROM '{0}' is not a mail address (example: Barnstorm <barnstorm@example.org>)"
    )]
    BadSender(String),
    /// The SMTP URL is malformed or uses an unknown scheme.
    #[error(
        "BARNSTORM_SMTP_URL is not usable: {0} (examples: smtp://127.0.0.1:25, smtps://user:pass@mail.example.org)"
    )]
    BadSmtpUrl(String),
    /// The development folder cannot be created.
    #[error("cannot create the mail folder {0}: {1}")]
    BadFolder(String, std::io::Error),
}

impl MailConfig {
    /// Builds the configuration: SMTP when `smtp_url` is given, else the folder.
    pub fn new(
        from: &str,
        smtp_url: Option<&str>,
        folder: PathBuf,
    ) -> Result<Self, MailConfigError> {
        let from: Mailbox = from
            .parse()
            .map_err(|_| MailConfigError::BadSender(from.to_owned()))?;
        let transport = match smtp_url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) if !(url.starts_with("smtp://") || url.starts_with("smtps://")) => {
                let scheme = url.split_once("://").map_or(url, |(s, _)| s);
                return Err(MailConfigError::BadSmtpUrl(format!(
                    "unsupported scheme '{scheme}'"
                )));
            }
            Some(url) => MailTransport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| MailConfigError::BadSmtpUrl(e.to_string()))?
                    .build(),
            ),
            None => {
                std::fs::create_dir_all(&folder)
                    .map_err(|e| MailConfigError::BadFolder(folder.display().to_string(), e))?;
                MailTransport::Folder(folder)
            }
        };
        Ok(Self { from, transport })
    }

    /// A short description for start-up logs.
    pub fn describe(&self) -> String {
        match &self.transport {
            MailTransport::Smtp(_) => format!("SMTP, from {}", self.from),
            MailTransport::Folder(dir) => format!(
                "development folder {} (no mail leaves this machine)",
                dir.display()
            ),
        }
    }

    /// Sends one mail. The error text is kept in the outbox for operators.
    pub(crate) async fn send(&self, id: i64, mail: &NewMail) -> Result<(), String> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| format!("bad recipient '{}': {e}", mail.to))?;
        let from = match &mail.sender_name {
            Some(name) => Mailbox::new(Some(name.clone()), self.from.email.clone()),
            None => self.from.clone(),
        };
        let mut builder = Message::builder()
            .from(from)
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(format!(
                "<outbox-{id}-{}@barnstorm>",
                rand::random::<u64>()
            )));
        for (name, value) in &mail.headers {
            builder = builder.raw_header(lettre::message::header::HeaderValue::new(
                lettre::message::header::HeaderName::new_from_ascii(name.clone())
                    .map_err(|e| format!("bad header name '{name}': {e}"))?,
                value.clone(),
            ));
        }
        let text = SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body_text.clone());
        let message = if mail.attachments.is_empty() {
            builder.singlepart(text)
        } else {
            let mut parts = MultiPart::mixed().singlepart(text);
            for file in &mail.attachments {
                let content_type = ContentType::parse(&file.content_type)
                    .map_err(|e| format!("bad attachment type '{}': {e}", file.content_type))?;
                parts = parts.singlepart(
                    Attachment::new(file.filename.clone()).body(file.content.clone(), content_type),
                );
            }
            builder.multipart(parts)
        }
        .map_err(|e| format!("cannot build the message: {e}"))?;
        match &self.transport {
            MailTransport::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            MailTransport::Folder(dir) => {
                let path = dir.join(format!("{id:08}.eml"));
                tokio::fs::write(&path, message.formatted())
                    .await
                    .map_err(|e| e.to_string())?;
                tracing::info!(to = %mail.to, subject = %mail.subject, file = %path.display(), "mail written to the development folder");
                Ok(())
            }
        }
    }
}
