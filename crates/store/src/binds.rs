//! Bind placeholders for statements with many values (multi-row INSERTs, long `IN`
//! lists), numbered for PostgreSQL and anonymous for SQLite. Every bulk statement in the
//! store writes its placeholders through [`Binds`].

use crate::Backend;
use std::fmt::Write as _;

/// Writes bulk bind placeholders in the order values are bound: `$1, $2, …` on
/// PostgreSQL, bare `?` on SQLite. (sqlx-sqlite finds each `$n` by asking SQLite for the
/// parameter's name, a linear scan, so thousands of `$n` binds cost quadratic time —
/// two thirds of a 1M-row import; `?` has no name and binds in order.) Statements using
/// these must bind every value through them, in order, with no other `$n`.
pub(crate) struct Binds {
    sqlite: bool,
    next: usize,
}

impl Binds {
    pub(crate) fn new(backend: Backend) -> Self {
        Self {
            sqlite: backend == Backend::Sqlite,
            next: 1,
        }
    }

    fn one(&mut self, sql: &mut String) {
        if self.sqlite {
            sql.push('?');
        } else {
            let _ = write!(sql, "${}", self.next);
        }
        self.next += 1;
    }

    /// `count` placeholders separated by commas, as in `IN (…)`.
    pub(crate) fn list(&mut self, sql: &mut String, count: usize) {
        for i in 0..count {
            if i > 0 {
                sql.push_str(", ");
            }
            self.one(sql);
        }
    }

    /// `(…), (…)` for `rows` rows of `columns` values, each row ending with the
    /// literal SQL `suffix` (such as `, 0` for a constant column).
    pub(crate) fn rows(&mut self, sql: &mut String, rows: usize, columns: usize, suffix: &str) {
        for row in 0..rows {
            sql.push_str(if row == 0 { "(" } else { ", (" });
            self.list(sql, columns);
            sql.push_str(suffix);
            sql.push(')');
        }
    }
}

/// `(…), (…)` for `rows` rows of `width` placeholders, numbered from 1: the `VALUES`
/// list of a multi-row INSERT whose values are all bound.
pub(crate) fn value_rows(backend: Backend, rows: usize, width: usize) -> String {
    let mut sql = String::new();
    Binds::new(backend).rows(&mut sql, rows, width, "");
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_backend() {
        let mut sql = String::new();
        let mut binds = Binds::new(Backend::Postgres);
        binds.list(&mut sql, 1);
        sql.push_str(" IN ");
        binds.rows(&mut sql, 2, 2, ", 0");
        assert_eq!(sql, "$1 IN ($2, $3, 0), ($4, $5, 0)");
        let mut sql = String::new();
        Binds::new(Backend::Sqlite).rows(&mut sql, 2, 1, "");
        assert_eq!(sql, "(?), (?)");
        assert_eq!(value_rows(Backend::Postgres, 2, 2), "($1, $2), ($3, $4)");
        assert_eq!(value_rows(Backend::Sqlite, 2, 2), "(?, ?), (?, ?)");
    }
}
