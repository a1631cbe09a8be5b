//! Subject-access exports: the ZIP an operator hands to a person who asked for everything
//! held about them. The records come from `Store::find_person`; this module only writes
//! them out (JSON, CSV per kind, a README in plain English), and reads the requests of
//! the pages and the API that ask for them.

mod package;
pub(crate) mod request;
mod zip;

pub use package::write_person_export;
pub use zip::ZipWriter;
