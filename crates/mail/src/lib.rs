//! Outgoing email: delivers the store's durable outbox over SMTP, or into a folder in
//! development. Mail is never sent from a request handler; handlers queue it in the
//! outbox (in the same transaction as the change that causes it) and this worker sends it,
//! retrying with exponential backoff. It does not compose mail bodies.

mod delivery;
mod transport;

pub use delivery::{DeliveryReport, MailWorker, retry_delay};
pub use transport::{MailConfig, MailConfigError, MailTransport};
