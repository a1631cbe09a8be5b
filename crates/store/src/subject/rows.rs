//! Reading any row as JSON, column by column, so the lookup can return whole rows of
//! every table without a struct per table. Types are the portable ones the store uses:
//! 64-bit integers, reals and text.

use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::{Column, Row, ValueRef};

/// One row as a JSON object keyed by column name.
pub(crate) fn row_to_json(row: &AnyRow) -> Map<String, Value> {
    let mut object = Map::new();
    for (index, column) in row.columns().iter().enumerate() {
        let is_null = row.try_get_raw(index).map_or(true, |raw| raw.is_null());
        let value = if is_null {
            Value::Null
        } else if let Ok(n) = row.try_get::<i64, _>(index) {
            Value::from(n)
        } else if let Ok(x) = row.try_get::<f64, _>(index) {
            Value::from(x)
        } else if let Ok(text) = row.try_get::<String, _>(index) {
            Value::from(text)
        } else {
            Value::from("(binary)")
        };
        object.insert(column.name().to_owned(), value);
    }
    object
}
