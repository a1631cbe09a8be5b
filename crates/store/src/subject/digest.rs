//! The instance's erasure key and the keyed digests made with it. The key is a random
//! 256-bit secret kept in `instance_secrets`, made on first use, so every node on the
//! database shares it and a restored backup still recognises erased people.

use crate::StoreError;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::{Any, Row, Transaction};

const ERASURE_KEY: &str = "erasure_hmac_key";

/// The erasure key, made inside `tx` if this instance has none yet.
pub(crate) async fn erasure_key(tx: &mut Transaction<'static, Any>) -> Result<String, StoreError> {
    sqlx::query(
        "INSERT INTO instance_secrets (name, value, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(ERASURE_KEY)
    .bind(crate::new_secret())
    .bind(crate::now_millis())
    .execute(&mut **tx)
    .await?;
    let row = sqlx::query("SELECT value FROM instance_secrets WHERE name = $1")
        .bind(ERASURE_KEY)
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.try_get("value")?)
}

/// The erasure key if this instance has one (none before the first erasure).
pub(crate) async fn existing_erasure_key(
    tx: &mut Transaction<'static, Any>,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT value FROM instance_secrets WHERE name = $1")
        .bind(ERASURE_KEY)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map(|r| r.try_get("value")).transpose()?)
}

/// HMAC-SHA256 of `kind:value` under `key`, as hex.
pub(crate) fn keyed_digest(key: &str, kind: &str, value: &str) -> String {
    // A key of any length is accepted by HMAC, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(kind.as_bytes());
    mac.update(b":");
    mac.update(value.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Which of `values` (of `kind`, `phone` or `email`) belong to erased people.
pub(crate) async fn erased_among(
    tx: &mut Transaction<'static, Any>,
    backend: crate::Backend,
    kind: &str,
    values: &[&str],
) -> Result<std::collections::HashSet<String>, StoreError> {
    let mut erased = std::collections::HashSet::new();
    let Some(key) = existing_erasure_key(tx).await? else {
        return Ok(erased);
    };
    for chunk in values.chunks(500) {
        let digests: Vec<String> = chunk.iter().map(|v| keyed_digest(&key, kind, v)).collect();
        let mut sql = String::from("SELECT digest FROM erased_subjects WHERE digest IN (");
        crate::binds::Binds::new(backend).list(&mut sql, digests.len());
        sql.push(')');
        let mut query = sqlx::query(&sql);
        for digest in &digests {
            query = query.bind(digest.as_str());
        }
        for row in query.fetch_all(&mut **tx).await? {
            let found: String = row.try_get("digest")?;
            if let Some(i) = digests.iter().position(|d| *d == found) {
                erased.insert(chunk[i].to_owned());
            }
        }
    }
    Ok(erased)
}
