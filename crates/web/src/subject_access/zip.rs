//! A small ZIP writer: stored (uncompressed) entries written one after another to any
//! `Write`, with the central directory at the end, so an export goes out as it is made.
//! It knows nothing of what the entries hold.

use std::io::{self, Write};

/// CRC-32 (IEEE), as ZIP requires.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

struct Entry {
    name: String,
    crc: u32,
    size: u32,
    offset: u32,
}

/// Writes a ZIP archive entry by entry.
pub struct ZipWriter<W: Write> {
    out: W,
    written: u64,
    entries: Vec<Entry>,
}

fn too_big() -> io::Error {
    io::Error::other("an export entry is larger than 4 GiB")
}

impl<W: Write> ZipWriter<W> {
    /// A new, empty archive on `out`.
    pub fn new(out: W) -> Self {
        Self {
            out,
            written: 0,
            entries: Vec::new(),
        }
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Adds one file named `name` holding `data`.
    pub fn add(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        let size = u32::try_from(data.len()).map_err(|_| too_big())?;
        let offset = u32::try_from(self.written).map_err(|_| too_big())?;
        let crc = crc32(data);
        let name_len = u16::try_from(name.len()).map_err(|_| too_big())?;
        let mut header = Vec::with_capacity(30 + name.len());
        header.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        header.extend_from_slice(&20u16.to_le_bytes()); // version needed
        header.extend_from_slice(&0x0800u16.to_le_bytes()); // names are UTF-8
        header.extend_from_slice(&0u16.to_le_bytes()); // stored
        header.extend_from_slice(&[0, 0, 0x21, 0]); // 1980-01-01 00:00
        header.extend_from_slice(&crc.to_le_bytes());
        header.extend_from_slice(&size.to_le_bytes());
        header.extend_from_slice(&size.to_le_bytes());
        header.extend_from_slice(&name_len.to_le_bytes());
        header.extend_from_slice(&0u16.to_le_bytes());
        header.extend_from_slice(name.as_bytes());
        self.put(&header)?;
        self.put(data)?;
        self.entries.push(Entry {
            name: name.to_owned(),
            crc,
            size,
            offset,
        });
        Ok(())
    }

    /// Writes the central directory and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        let start = u32::try_from(self.written).map_err(|_| too_big())?;
        let entries = std::mem::take(&mut self.entries);
        for entry in &entries {
            let mut record = Vec::with_capacity(46 + entry.name.len());
            record.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            record.extend_from_slice(&20u16.to_le_bytes()); // made by
            record.extend_from_slice(&20u16.to_le_bytes()); // needed
            record.extend_from_slice(&0x0800u16.to_le_bytes());
            record.extend_from_slice(&0u16.to_le_bytes());
            record.extend_from_slice(&[0, 0, 0x21, 0]);
            record.extend_from_slice(&entry.crc.to_le_bytes());
            record.extend_from_slice(&entry.size.to_le_bytes());
            record.extend_from_slice(&entry.size.to_le_bytes());
            let name_len = u16::try_from(entry.name.len()).map_err(|_| too_big())?;
            record.extend_from_slice(&name_len.to_le_bytes());
            record.extend_from_slice(&[0; 12]); // extra, comment, disk, attributes
            record.extend_from_slice(&entry.offset.to_le_bytes());
            record.extend_from_slice(entry.name.as_bytes());
            self.put(&record)?;
        }
        let size = u32::try_from(self.written).map_err(|_| too_big())? - start;
        let count = u16::try_from(entries.len()).map_err(|_| too_big())?;
        let mut end = Vec::with_capacity(22);
        end.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        end.extend_from_slice(&[0; 4]);
        end.extend_from_slice(&count.to_le_bytes());
        end.extend_from_slice(&count.to_le_bytes());
        end.extend_from_slice(&size.to_le_bytes());
        end.extend_from_slice(&start.to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        self.put(&end)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn crc_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }
}
