//! Telephony for bridged calling: the port the calling engine drives (start and end a
//! caller's audio session, dial a contact into it, hang up, and a stream of call events)
//! and its adapters. It knows no HTTP and no database; numbers and digits come in as
//! values and leave only towards the phone network.

pub mod media;
