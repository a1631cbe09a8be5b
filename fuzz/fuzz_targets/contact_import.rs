//! Fuzzes the streaming CSV contact importer: any bytes, with the guessed column mapping,
//! must give contacts or rejections, never a panic.
#![no_main]

use barnstorm_domain::contact_import::{ColumnMapping, ImportReader, read_headers};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(headers) = read_headers(data) else {
        return;
    };
    let mapping = ColumnMapping::guess(&headers);
    if let Ok(reader) = ImportReader::new(data, mapping) {
        for row in reader.take(10_000) {
            let _ = row;
        }
    }
});
