//! Delivery from the outbox to a real SMTP server on loopback (mailin-embedded), on both
//! database backends.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "smtp_delivery/two_nodes.rs"]
mod two_nodes;

use barnstorm_mail::{DeliveryReport, MailConfig, MailWorker};
use barnstorm_store::{MailAttachment, NewMail, Store, both_backends};
use mailin_embedded::{Handler, Response, Server, SslConfig, response};
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// A message as the SMTP server received it.
#[derive(Debug, Clone)]
struct Received {
    to: Vec<String>,
    data: String,
}

#[derive(Clone)]
struct Inbox {
    received: Arc<Mutex<Vec<Received>>>,
    current: Vec<u8>,
    to: Vec<String>,
    refuse: Option<&'static str>,
    /// How long the server takes to accept each message.
    delay: std::time::Duration,
}

impl Handler for Inbox {
    fn rcpt(&mut self, to: &str) -> Response {
        if self.refuse.is_some_and(|r| to.contains(r)) {
            return response::NO_MAILBOX;
        }
        response::OK
    }

    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.current.clear();
        self.to = to.to_vec();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        std::thread::sleep(self.delay);
        let data = String::from_utf8_lossy(&self.current).into_owned();
        self.received.lock().unwrap().push(Received {
            to: self.to.clone(),
            data,
        });
        response::OK
    }
}

/// Starts an SMTP server on a free loopback port; it lives until the test process ends.
fn start_smtp(refuse: Option<&'static str>) -> (u16, Arc<Mutex<Vec<Received>>>) {
    start_smtp_taking(refuse, std::time::Duration::ZERO)
}

/// Starts an SMTP server that takes `delay` to accept each message.
fn start_smtp_taking(
    refuse: Option<&'static str>,
    delay: std::time::Duration,
) -> (u16, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let inbox = Inbox {
        received: Arc::clone(&received),
        current: Vec::new(),
        to: Vec::new(),
        refuse,
        delay,
    };
    let mut server = Server::new(inbox);
    server
        .with_name("smtp.example.org")
        .with_ssl(SslConfig::None)
        .unwrap()
        .with_tcp_listener(listener);
    std::thread::spawn(move || {
        let _ = server.serve();
    });
    (port, received)
}

fn mail(to: &str) -> NewMail {
    let mut headers = BTreeMap::new();
    headers.insert(
        "List-Unsubscribe".to_owned(),
        "<https://example.org/unsubscribe/abc>".to_owned(),
    );
    NewMail {
        to: to.to_owned(),
        subject: "You're invited to join Leeds on Barnstorm".to_owned(),
        body_text: "Accept here: https://example.org/invites/xyz\n".to_owned(),
        headers,
        ..Default::default()
    }
}

fn worker(store: &Store, smtp_url: &str) -> MailWorker {
    let dir = std::env::temp_dir().join("barnstorm-mail-unused");
    MailWorker::new(
        store.clone(),
        MailConfig::new("Barnstorm <barnstorm@example.org>", Some(smtp_url), dir).unwrap(),
    )
}

async fn queued_mail_arrives_at_the_smtp_server(store: Store) {
    let (port, received) = start_smtp(None);
    store.enqueue_mail(&mail("nia@example.org")).await.unwrap();
    let report = worker(&store, &format!("smtp://127.0.0.1:{port}"))
        .deliver_due()
        .await
        .unwrap();
    assert_eq!(
        report,
        DeliveryReport {
            sent: 1,
            retrying: 0,
            given_up: 0,
            deferred: 0,
        }
    );
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, ["nia@example.org"]);
    assert!(
        got[0]
            .data
            .contains("Subject: You're invited to join Leeds on Barnstorm"),
        "{}",
        got[0].data
    );
    assert!(
        got[0]
            .data
            .contains("List-Unsubscribe: <https://example.org/unsubscribe/abc>"),
        "{}",
        got[0].data
    );
    assert!(
        got[0].data.contains("https://example.org/invites/xyz"),
        "{}",
        got[0].data
    );
    assert_eq!(
        store.mail_counts().await.unwrap(),
        (0, 0),
        "sent mail leaves the queue"
    );
    let again = worker(&store, &format!("smtp://127.0.0.1:{port}"))
        .deliver_due()
        .await
        .unwrap();
    assert_eq!(again.sent, 0, "a sent mail is not sent twice");
}

/// A mail from a group with a calendar entry: the recipient sees the group's name as the
/// sender (at the instance's address) and gets the text and the file as two parts.
async fn a_group_mail_with_a_calendar_entry_arrives_in_two_parts(store: Store) {
    let (port, received) = start_smtp(None);
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n";
    store
        .enqueue_mail(&NewMail {
            sender_name: Some("Leeds Momentum".to_owned()),
            attachments: vec![MailAttachment {
                filename: "event-7.ics".to_owned(),
                content_type: "text/calendar; charset=utf-8; method=PUBLISH".to_owned(),
                content: ics.to_owned(),
            }],
            ..mail("nia@example.org")
        })
        .await
        .unwrap();
    let report = worker(&store, &format!("smtp://127.0.0.1:{port}"))
        .deliver_due()
        .await
        .unwrap();
    assert_eq!(report.sent, 1);
    let data = received.lock().unwrap()[0].data.clone();
    assert!(
        data.contains("From: \"Leeds Momentum\" <barnstorm@example.org>"),
        "{data}"
    );
    assert!(data.contains("Content-Type: multipart/mixed"), "{data}");
    assert!(data.contains("https://example.org/invites/xyz"), "{data}");
    assert!(
        data.contains("Content-Disposition: attachment; filename=\"event-7.ics\""),
        "{data}"
    );
    assert!(
        data.contains("Content-Type: text/calendar; charset=utf-8; method=PUBLISH"),
        "{data}"
    );
    assert!(data.contains("BEGIN:VCALENDAR"), "{data}");
}

async fn refused_and_unreachable_mail_is_kept_for_retry(store: Store) {
    let (port, received) = start_smtp(Some("refused"));
    store
        .enqueue_mail(&mail("refused@example.org"))
        .await
        .unwrap();
    store.enqueue_mail(&mail("fine@example.org")).await.unwrap();
    let report = worker(&store, &format!("smtp://127.0.0.1:{port}"))
        .deliver_due()
        .await
        .unwrap();
    assert_eq!(
        report,
        DeliveryReport {
            sent: 1,
            retrying: 1,
            given_up: 0,
            deferred: 0,
        }
    );
    assert_eq!(received.lock().unwrap().len(), 1);
    assert_eq!(
        store.mail_counts().await.unwrap(),
        (1, 0),
        "the refused mail waits for its retry"
    );

    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = closed.local_addr().unwrap().port();
    drop(closed);
    store
        .enqueue_mail(&mail("later@example.org"))
        .await
        .unwrap();
    let report = worker(&store, &format!("smtp://127.0.0.1:{dead_port}"))
        .deliver_due()
        .await
        .unwrap();
    assert_eq!(
        report,
        DeliveryReport {
            sent: 0,
            retrying: 1,
            given_up: 0,
            deferred: 0,
        }
    );
    assert_eq!(
        store.mail_counts().await.unwrap(),
        (2, 0),
        "nothing is lost while the server is down"
    );
}

both_backends! {
    smtp_delivery => queued_mail_arrives_at_the_smtp_server,
    smtp_failures => refused_and_unreachable_mail_is_kept_for_retry,
    smtp_group_mail_with_calendar => a_group_mail_with_a_calendar_entry_arrives_in_two_parts,
}
