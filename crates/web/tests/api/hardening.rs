//! Security issue #13, hardening: return paths that cannot leave the site, text with NUL
//! bytes refused at the boundary, security headers on every response, every API error in
//! the JSON shape, and exports that stream. On both backends.

mod exports;
mod headers;
mod nul_text;
mod redirects;
