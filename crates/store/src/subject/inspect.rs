//! Looking at the whole database as text, for tests that prove an erased person left
//! no trace: every table and column of the live schema, every row of every table, and
//! on SQLite the raw file and its WAL. Only compiled with the `testing` feature.

use super::rows::row_to_json;
use crate::{Backend, DatabaseUrl, Store, StoreError};
use sqlx::Row;

impl Store {
    /// Every (table, column) of the live schema, sorted, without sqlx's own table.
    pub async fn schema_columns(&self) -> Result<Vec<(String, String)>, StoreError> {
        let sql = match self.backend() {
            Backend::Sqlite => {
                "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
            }
            Backend::Postgres => {
                "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns
                 WHERE table_schema = current_schema()"
            }
        };
        let rows = sqlx::query(sql).fetch_all(self.reader()).await?;
        let mut columns = rows
            .iter()
            .map(|r| Ok((r.try_get::<String, _>("t")?, r.try_get::<String, _>("c")?)))
            .filter(|r: &Result<(String, String), StoreError>| {
                r.as_ref().map_or(true, |(t, _)| t != "_sqlx_migrations")
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        columns.sort();
        Ok(columns)
    }

    /// Every row of every table as JSON text, then on SQLite the raw bytes of the database
    /// file and its WAL after a checkpoint, and on PostgreSQL the output of `pg_dump` of
    /// this schema when `pg_dump` is installed.
    pub async fn dump_everything(&self) -> Result<String, StoreError> {
        let mut out = String::new();
        let mut tables: Vec<String> = self
            .schema_columns()
            .await?
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        tables.dedup();
        for table in tables {
            let rows = sqlx::query(&format!("SELECT * FROM {table}"))
                .fetch_all(self.writer())
                .await?;
            for row in &rows {
                out.push_str(&table);
                out.push(' ');
                out.push_str(&serde_json::Value::Object(row_to_json(row)).to_string());
                out.push('\n');
            }
        }
        match &self.inner.url {
            DatabaseUrl::Sqlite(path) => {
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .fetch_all(self.writer())
                    .await?;
                for file in [path.clone(), path.with_extension("db-wal")] {
                    if let Ok(bytes) = std::fs::read(&file) {
                        out.push_str(&String::from_utf8_lossy(&bytes));
                    }
                }
            }
            DatabaseUrl::Postgres(url) => {
                let schema: String = sqlx::query("SELECT current_schema()::text AS s")
                    .fetch_one(self.reader())
                    .await?
                    .try_get("s")?;
                let base = url.split('?').next().unwrap_or(url);
                if let Ok(dump) = std::process::Command::new("pg_dump")
                    .args(["--data-only", "--schema", &schema, base])
                    .output()
                {
                    out.push_str(&String::from_utf8_lossy(&dump.stdout));
                }
            }
        }
        Ok(out)
    }
}
