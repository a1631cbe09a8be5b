//! The audio path of a bridged call: RTP legs on the node's own UDP ports, relayed between
//! a caller and a contact, with keypad digits read off the stream and prompts played into it.
