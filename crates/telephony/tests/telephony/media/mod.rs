//! The media module against plain UDP sockets standing in for phones on 127.0.0.1.

mod digits;
mod phone;
mod ports;
mod prompts;
mod relay;
