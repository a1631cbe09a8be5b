//! The privacy notice: the text in force (the newest published version, or a default that
//! describes what Barnstorm keeps and for how long under this instance's retention
//! periods), and the line every mail ends with that links to it.

use crate::WebConfig;
use barnstorm_store::retention::RetentionPolicy;

/// The path of the public notice.
pub const PRIVACY_PATH: &str = "/privacy";

/// The last line of every mail: where to read how the reader's data is used.
pub fn mail_footer(config: &WebConfig) -> String {
    format!(
        "\n--\nHow we use your data: {}\n",
        config.absolute(PRIVACY_PATH)
    )
}

/// The notice shown until an administrator publishes one, in Markdown.
pub fn default_notice(retention: &RetentionPolicy) -> String {
    format!(
        "## How we use your data\n\n\
         This site is run by the campaign named on its pages, which is responsible (the \
         controller) for the details you give here.\n\n\
         **What we keep.** When you sign up for an event: your name, email address, \
         postcode and, if you give it, your phone number; whether you attended; and the \
         ways you agreed we may contact you, with the words you agreed to and when. When \
         you volunteer to make calls: your account and the calls you record. When we call \
         you: your number and name from our list, and what you told the caller.\n\n\
         **Why.** To run the events you sign up for, to contact you in the ways you agreed \
         to, and to organise our campaign. Your views, if you share them, are political \
         opinions: we keep them only for the campaign and never sell or share them.\n\n\
         **For how long.** Call lists and what was said on calls: {contacts} days after the \
         phone bank finishes. Who signed up for an event: {rsvps} days after it. Supporters \
         who have not agreed to be contacted and have done nothing for {supporters} months \
         are deleted.\n\n\
         **Your rights.** You may ask for a copy of everything we hold on you, ask us to \
         correct or erase it, or object to being contacted: reply to any mail from us, or \
         use the unsubscribe link in it. You can also complain to the Information \
         Commissioner's Office (ico.org.uk).\n",
        contacts = retention.contact_days,
        rsvps = retention.rsvp_days,
        supporters = retention.supporter_months,
    )
}
