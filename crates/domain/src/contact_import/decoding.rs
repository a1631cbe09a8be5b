//! Decoding import files to UTF-8 as they stream, choosing UTF-8 or Windows-1252.
//!
//! Owns the encoding rule and a byte-count ceiling that stops a runaway row (an unclosed
//! quote) from swallowing the whole file into memory. It must not parse CSV.
//!
//! The rule: a UTF-8 or UTF-16 byte-order mark decides at once. Otherwise bytes pass
//! through as ASCII (identical in both encodings) until the first non-ASCII byte: if it
//! starts a valid UTF-8 sequence the file is UTF-8, if not it is Windows-1252 (what Excel
//! writes for "CSV" on Windows). The decision then holds for the rest of the file; invalid
//! UTF-8 later on becomes U+FFFD, which the importer reports on that row. A file that
//! does not end in a newline gets one, so that every row is newline-terminated.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use encoding_rs::{Decoder, UTF_8, WINDOWS_1252};

const CHUNK: usize = 8 * 1024;

/// A `Read` adapter that yields UTF-8, decoding per the module's rule.
pub(super) struct DecodingReader<R> {
    inner: R,
    raw: Vec<u8>,
    raw_pos: usize,
    raw_consumed_total: u64,
    eof: bool,
    decoder: Option<Decoder>,
    out: Vec<u8>,
    out_pos: usize,
    out_total: u64,
    last_byte: Option<u8>,
    finished: bool,
    /// Output bytes allowed so far; shared with the importer, which raises it per row.
    limit: Arc<AtomicU64>,
}

impl<R: Read> DecodingReader<R> {
    pub(super) fn new(inner: R, limit: Arc<AtomicU64>) -> Self {
        DecodingReader {
            inner,
            raw: Vec::with_capacity(CHUNK),
            raw_pos: 0,
            raw_consumed_total: 0,
            eof: false,
            decoder: None,
            out: Vec::with_capacity(CHUNK * 3),
            out_pos: 0,
            out_total: 0,
            last_byte: None,
            finished: false,
            limit,
        }
    }

    /// Reads more raw bytes, keeping any unconsumed tail.
    fn refill(&mut self) -> io::Result<()> {
        if self.eof {
            return Ok(());
        }
        self.raw.drain(..self.raw_pos);
        self.raw_pos = 0;
        let old_len = self.raw.len();
        self.raw.resize(old_len + CHUNK, 0);
        let read = loop {
            match self.inner.read(&mut self.raw[old_len..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.raw.truncate(old_len);
                    return Err(e);
                }
            }
        };
        self.raw.truncate(old_len + read);
        self.eof = read == 0;
        Ok(())
    }

    fn consume_raw(&mut self, n: usize) {
        self.raw_pos += n;
        self.raw_consumed_total += n as u64;
    }

    /// Fills `out` with the next decoded bytes; leaves it empty only at the end.
    fn fill_out(&mut self) -> io::Result<()> {
        self.out.clear();
        self.out_pos = 0;
        while self.out.is_empty() && !self.finished {
            if self.raw.len() - self.raw_pos < 4 {
                self.refill()?;
            }
            let pending = &self.raw[self.raw_pos..];
            if let Some(decoder) = self.decoder.as_mut() {
                let needed = decoder
                    .max_utf8_buffer_length(pending.len())
                    .unwrap_or(pending.len() * 3 + 16);
                self.out.resize(needed, 0);
                let last = self.eof;
                let (_, read, written, _) = decoder.decode_to_utf8(pending, &mut self.out, last);
                self.out.truncate(written);
                self.consume_raw(read);
                if last && self.raw_pos == self.raw.len() {
                    self.finished = true;
                }
                continue;
            }
            if pending.is_empty() && self.eof {
                self.finished = true;
                continue;
            }
            match pending.iter().position(|b| !b.is_ascii()) {
                None => {
                    self.out.extend_from_slice(pending);
                    let n = pending.len();
                    self.consume_raw(n);
                }
                Some(0) => {
                    let probe = &pending[..pending.len().min(4)];
                    let utf8 = match std::str::from_utf8(probe) {
                        Ok(_) => true,
                        Err(e) if e.valid_up_to() > 0 => true,
                        Err(e) if e.error_len().is_none() && !self.eof => {
                            // A sequence cut at the chunk edge: read more, then decide.
                            self.refill()?;
                            continue;
                        }
                        Err(_) => false,
                    };
                    let encoding = if utf8 { UTF_8 } else { WINDOWS_1252 };
                    // Byte-order marks only mean something at the very start of the file.
                    self.decoder = Some(if self.raw_consumed_total == 0 {
                        encoding.new_decoder()
                    } else {
                        encoding.new_decoder_without_bom_handling()
                    });
                }
                Some(ascii_run) => {
                    self.out.extend_from_slice(&pending[..ascii_run]);
                    self.consume_raw(ascii_run);
                }
            }
        }
        // Every row ends in a newline, even the last, so the importer can count lines
        // the same way for each row.
        if self.finished && self.out.is_empty() && !matches!(self.last_byte, None | Some(b'\n')) {
            self.out.push(b'\n');
        }
        if let Some(last) = self.out.last() {
            self.last_byte = Some(*last);
        }
        Ok(())
    }
}

impl<R: Read> Read for DecodingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.out_pos == self.out.len() {
            self.fill_out()?;
        }
        let available = &self.out[self.out_pos..];
        let limit = self.limit.load(Ordering::Relaxed);
        let allowed = limit.saturating_sub(self.out_total);
        if allowed == 0 && !available.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, RowTooLarge));
        }
        let n = available
            .len()
            .min(buf.len())
            .min(usize::try_from(allowed).unwrap_or(usize::MAX));
        buf[..n].copy_from_slice(&available[..n]);
        self.out_pos += n;
        self.out_total += n as u64;
        Ok(n)
    }
}

/// The error raised when one row exceeds the importer's size ceiling.
#[derive(Debug, thiserror::Error)]
#[error("a single row is larger than the limit; is a quote (\") left open?")]
pub(super) struct RowTooLarge;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> String {
        let mut reader = DecodingReader::new(bytes, Arc::new(AtomicU64::new(u64::MAX)));
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        text
    }

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(decode("name\nZoë £5\n".as_bytes()), "name\nZoë £5\n");
        assert_eq!(decode(b"\xEF\xBB\xBFname\nZo\xC3\xAB\n"), "name\nZoë\n");
        assert_eq!(decode(b"no newline"), "no newline\n");
        assert_eq!(decode(b""), "");
    }

    #[test]
    fn windows_1252_is_detected_at_the_first_non_ascii_byte() {
        // "£" is 0xA3 and "é" 0xE9 in Windows-1252; neither starts valid UTF-8 here.
        assert_eq!(decode(b"price\n\xA35 caf\xE9\n"), "price\n£5 café\n");
        // The decision is made however late the first non-ASCII byte appears.
        let mut late = b"a,b\n".repeat(5000);
        late.extend_from_slice(b"Ren\xE9e,\x80\n");
        assert!(decode(&late).ends_with("Renée,€\n"));
    }

    #[test]
    fn utf16_with_bom_is_decoded() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "name\nZoë\n".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(decode(&bytes), "name\nZoë\n");
    }

    #[test]
    fn utf8_sequence_split_across_reads_is_still_utf8() {
        struct OneByteAtATime<'a>(&'a [u8]);
        impl Read for OneByteAtATime<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let Some((first, rest)) = self.0.split_first() else {
                    return Ok(0);
                };
                buf[0] = *first;
                self.0 = rest;
                Ok(1)
            }
        }
        let source = OneByteAtATime("Zoë £".as_bytes());
        let mut reader = DecodingReader::new(source, Arc::new(AtomicU64::new(u64::MAX)));
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        assert_eq!(text, "Zoë £\n");
    }

    #[test]
    fn stops_at_the_byte_limit() {
        let mut reader = DecodingReader::new(&b"abcdef"[..], Arc::new(AtomicU64::new(4)));
        let mut text = String::new();
        let err = reader.read_to_string(&mut text).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(text, "abcd");
    }
}
