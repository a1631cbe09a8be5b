//! Finding one person everywhere: the identity rules (which accounts, supporters and
//! campaign contacts are the person asked about) and one read of every table that holds
//! rows about them. It reads only; erasure works from what it finds.

use super::rows::row_to_json;
use super::{PersonQuery, normalise_name};
use crate::binds::Binds;
use crate::{Store, StoreError};
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::{Any, Row, Transaction};
use std::collections::BTreeSet;

/// Every row of one table that is about the person.
#[derive(Debug, Clone, Serialize)]
pub struct TableRows {
    /// The table's name.
    pub table: &'static str,
    /// The rows, each keyed by column.
    pub rows: Vec<Map<String, Value>>,
}

/// Everything stored about one person.
#[derive(Debug, Clone, Serialize)]
pub struct PersonRecords {
    /// What was asked for, normalised.
    pub query: PersonQuery,
    /// Their accounts.
    pub user_ids: Vec<i64>,
    /// Their supporter records.
    pub supporter_ids: Vec<i64>,
    /// Their contacts, in every campaign.
    pub contact_ids: Vec<i64>,
    /// Every address they were found under (lower-cased).
    pub emails: Vec<String>,
    /// Every number they were found under (E.164).
    pub phones: Vec<String>,
    /// The rows, table by table, only tables with rows.
    pub tables: Vec<TableRows>,
    /// Who was shown their record and when, oldest first.
    pub views: Vec<ContactView>,
}

impl PersonRecords {
    /// The rows of `table` (none when nothing there is about them).
    pub fn rows(&self, table: &str) -> &[Map<String, Value>] {
        self.tables
            .iter()
            .find(|t| t.table == table)
            .map_or(&[], |t| t.rows.as_slice())
    }

    /// How many rows were found in all.
    pub fn row_count(&self) -> usize {
        self.tables.iter().map(|t| t.rows.len()).sum()
    }
}

/// One time a caller was shown one of the person's contacts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactView {
    /// The caller's name.
    pub caller: String,
    /// The campaign.
    pub campaign: String,
    /// When the contact was shown (milliseconds UTC).
    pub shown_at: i64,
}

/// One of several people a query matched, for the operator to choose from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonCandidate {
    /// Their name as stored.
    pub name: String,
    /// An address of theirs, if any.
    pub email: Option<String>,
    /// A number of theirs, if any.
    pub phone: Option<String>,
    /// Where they were found: `account`, `supporter` or `contact`.
    pub found_in: Vec<String>,
}

/// What a lookup found.
#[derive(Debug, Clone, Serialize)]
pub enum PersonLookup {
    /// Nothing matches the query.
    Nobody,
    /// Records of more than one person match: narrow the query (add the name and
    /// postcode of the one meant).
    Several(Vec<PersonCandidate>),
    /// One person, and every row about them.
    Found(Box<PersonRecords>),
}

struct Seed {
    kind: &'static str,
    id: i64,
    name: String,
    email: Option<String>,
    phones: Vec<String>,
}

fn text(row: &sqlx::any::AnyRow, column: &str) -> Result<Option<String>, StoreError> {
    Ok(row
        .try_get::<Option<String>, _>(column)?
        .filter(|v| !v.is_empty()))
}

async fn seeds(
    tx: &mut Transaction<'static, Any>,
    query: &PersonQuery,
) -> Result<Vec<Seed>, StoreError> {
    let mut found = Vec::new();
    if let Some(email) = &query.email {
        let rows = sqlx::query("SELECT id, name, email FROM users WHERE lower(email) = $1")
            .bind(email)
            .fetch_all(&mut **tx)
            .await?;
        for row in rows {
            found.push(Seed {
                kind: "account",
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                email: text(&row, "email")?,
                phones: Vec::new(),
            });
        }
    }
    if let Some(phone) = &query.phone {
        // A caller's own number for "call me" leads to their account.
        let rows = sqlx::query(
            "SELECT u.id, u.name, u.email FROM caller_phones p JOIN users u ON u.id = p.user_id
             WHERE p.phone = $1",
        )
        .bind(phone)
        .fetch_all(&mut **tx)
        .await?;
        for row in rows {
            found.push(Seed {
                kind: "account",
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                email: text(&row, "email")?,
                phones: vec![phone.clone()],
            });
        }
    }
    let rows = sqlx::query(
        "SELECT id, name, email, phone FROM supporters
         WHERE lower(email) = $1 OR phone = $2
            OR (lower(trim(name)) = $3 AND upper(replace(postcode, ' ', '')) = $4)",
    )
    .bind(&query.email)
    .bind(&query.phone)
    .bind(&query.name)
    .bind(&query.postcode)
    .fetch_all(&mut **tx)
    .await?;
    for row in rows {
        found.push(Seed {
            kind: "supporter",
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            email: text(&row, "email")?,
            phones: text(&row, "phone")?.into_iter().collect(),
        });
    }
    let rows = sqlx::query(
        "SELECT id, first_name, last_name, email, phone, other_phone FROM contacts
         WHERE lower(email) = $1 OR phone = $2 OR other_phone = $2
            OR (lower(trim(first_name || ' ' || last_name)) = $3
                AND upper(replace(postcode, ' ', '')) = $4)",
    )
    .bind(&query.email)
    .bind(&query.phone)
    .bind(&query.name)
    .bind(&query.postcode)
    .fetch_all(&mut **tx)
    .await?;
    for row in rows {
        let first: String = row.try_get("first_name")?;
        let last: String = row.try_get("last_name")?;
        found.push(Seed {
            kind: "contact",
            id: row.try_get("id")?,
            name: format!("{first} {last}").trim().to_owned(),
            email: text(&row, "email")?,
            phones: [text(&row, "phone")?, text(&row, "other_phone")?]
                .into_iter()
                .flatten()
                .collect(),
        });
    }
    Ok(found)
}

/// The people among `seeds`: one per distinct non-empty name.
fn candidates(seeds: &[Seed]) -> Vec<PersonCandidate> {
    let mut people: Vec<(String, PersonCandidate)> = Vec::new();
    for seed in seeds.iter().filter(|s| !s.name.trim().is_empty()) {
        let key = normalise_name(&seed.name);
        match people.iter_mut().find(|(k, _)| *k == key) {
            Some((_, person)) => {
                if !person.found_in.iter().any(|f| f == seed.kind) {
                    person.found_in.push(seed.kind.to_owned());
                }
                person.email = person.email.take().or_else(|| seed.email.clone());
                person.phone = person.phone.take().or_else(|| seed.phones.first().cloned());
            }
            None => people.push((
                key,
                PersonCandidate {
                    name: seed.name.clone(),
                    email: seed.email.clone(),
                    phone: seed.phones.first().cloned(),
                    found_in: vec![seed.kind.to_owned()],
                },
            )),
        }
    }
    people.into_iter().map(|(_, p)| p).collect()
}

pub(crate) enum Key<'a> {
    Ids(&'a [i64]),
    Texts(&'a [String]),
}

/// `SELECT * FROM table WHERE column IN (…)`, nothing when there are no keys.
async fn rows_where_in(
    tx: &mut Transaction<'static, Any>,
    store: &Store,
    table: &'static str,
    column: &str,
    keys: Key<'_>,
) -> Result<Vec<Map<String, Value>>, StoreError> {
    let count = match keys {
        Key::Ids(ids) => ids.len(),
        Key::Texts(texts) => texts.len(),
    };
    if count == 0 {
        return Ok(Vec::new());
    }
    let mut sql = format!("SELECT * FROM {table} WHERE {column} IN (");
    Binds::new(store.backend()).list(&mut sql, count);
    sql.push(')');
    let mut query = sqlx::query(&sql);
    match keys {
        Key::Ids(ids) => {
            for id in ids {
                query = query.bind(*id);
            }
        }
        Key::Texts(texts) => {
            for t in texts {
                query = query.bind(t.as_str());
            }
        }
    }
    let rows = query.fetch_all(&mut **tx).await?;
    Ok(rows.iter().map(row_to_json).collect())
}

/// `SELECT * FROM table WHERE column LIKE '%needle%' OR …` for each needle.
async fn rows_containing(
    tx: &mut Transaction<'static, Any>,
    store: &Store,
    table: &'static str,
    column: &str,
    needles: &[String],
) -> Result<Vec<Map<String, Value>>, StoreError> {
    if needles.is_empty() {
        return Ok(Vec::new());
    }
    let mut binds = Binds::new(store.backend());
    let mut sql = format!("SELECT * FROM {table} WHERE ");
    for (i, _) in needles.iter().enumerate() {
        if i > 0 {
            sql.push_str(" OR ");
        }
        sql.push_str(&format!("lower({column}) LIKE "));
        binds.list(&mut sql, 1);
    }
    let mut query = sqlx::query(&sql);
    for needle in needles {
        query = query.bind(format!("%{}%", needle.to_lowercase()));
    }
    let rows = query.fetch_all(&mut **tx).await?;
    Ok(rows.iter().map(row_to_json).collect())
}

fn ids_of(rows: &[Map<String, Value>], column: &str) -> Vec<i64> {
    rows.iter()
        .filter_map(|r| r.get(column).and_then(Value::as_i64))
        .collect()
}

async fn contact_views(
    tx: &mut Transaction<'static, Any>,
    store: &Store,
    contact_ids: &[i64],
) -> Result<Vec<ContactView>, StoreError> {
    if contact_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = String::from(
        "SELECT u.name AS caller, c.name AS campaign, l.claimed_at
         FROM leases l JOIN users u ON u.id = l.caller_id JOIN call_campaigns c ON c.id = l.campaign_id
         WHERE l.contact_id IN (",
    );
    Binds::new(store.backend()).list(&mut sql, contact_ids.len());
    sql.push_str(") ORDER BY l.claimed_at, l.id");
    let mut query = sqlx::query(&sql);
    for id in contact_ids {
        query = query.bind(*id);
    }
    let rows = query.fetch_all(&mut **tx).await?;
    rows.iter()
        .map(|r| {
            Ok(ContactView {
                caller: r.try_get("caller")?,
                campaign: r.try_get("campaign")?,
                shown_at: r.try_get("claimed_at")?,
            })
        })
        .collect()
}

impl Store {
    /// Finds the person `query` describes and every row about them, in one consistent
    /// read: their accounts with sessions, tokens, passkeys and second factors; supporter
    /// records with consents, RSVPs and attendance; campaign contacts in every campaign
    /// with the raw fields of their import, the leases (who was shown them, when) and the
    /// calls with answers and notes; a caller's own number, phone sessions and the bridged
    /// calls they made or received; outreach, suppression and TPS entries, mail, audit
    /// entries naming them and import rejections quoting them.
    pub async fn find_person(&self, query: &PersonQuery) -> Result<PersonLookup, StoreError> {
        // A write transaction gives one snapshot on both engines; nothing is written.
        let mut tx = self.begin_write().await?;
        let lookup = find_in(&mut tx, self, query).await?;
        tx.rollback().await?;
        Ok(lookup)
    }
}

/// [`Store::find_person`] inside `tx`, so erasure reads and deletes the same rows.
pub(crate) async fn find_in(
    tx: &mut Transaction<'static, Any>,
    store: &Store,
    query: &PersonQuery,
) -> Result<PersonLookup, StoreError> {
    let mut seeds = seeds(tx, query).await?;
    // A supporter or contact found by number leads to the account with their address.
    let known: Vec<String> = seeds
        .iter()
        .filter_map(|s| s.email.as_deref().map(crate::canonical_email))
        .filter(|e| query.email.as_ref() != Some(e))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for row in rows_where_in(tx, store, "users", "lower(email)", Key::Texts(&known)).await? {
        let id = row.get("id").and_then(Value::as_i64).unwrap_or_default();
        if !seeds.iter().any(|s| s.kind == "account" && s.id == id) {
            let field = |c: &str| row.get(c).and_then(Value::as_str).map(str::to_owned);
            seeds.push(Seed {
                kind: "account",
                id,
                name: field("name").unwrap_or_default(),
                email: field("email"),
                phones: Vec::new(),
            });
        }
    }
    if let Some(name) = &query.name {
        // Naming the person picks them out of several records found by email or phone.
        seeds.retain(|s| s.name.trim().is_empty() || normalise_name(&s.name) == *name);
    }
    if seeds.is_empty() {
        return Ok(PersonLookup::Nobody);
    }
    let people = candidates(&seeds);
    if people.len() > 1 {
        return Ok(PersonLookup::Several(people));
    }
    let pick = |kind: &str| -> Vec<i64> {
        let mut ids: Vec<i64> = seeds
            .iter()
            .filter(|s| s.kind == kind)
            .map(|s| s.id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let (user_ids, supporter_ids, contact_ids) =
        (pick("account"), pick("supporter"), pick("contact"));
    let emails: Vec<String> = seeds
        .iter()
        .filter_map(|s| s.email.as_deref().map(crate::canonical_email))
        .chain(query.email.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let phones: Vec<String> = seeds
        .iter()
        .flat_map(|s| s.phones.iter().cloned())
        .chain(query.phone.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();

    let mut tables = Vec::new();
    let users = Key::Ids(&user_ids);
    tables.push((
        "users",
        rows_where_in(tx, store, "users", "id", users).await?,
    ));
    let account_tables = super::ACCOUNT_SECRET_TABLES.into_iter();
    for table in account_tables.chain(["memberships", "campaign_callers", "caller_phones"]) {
        let rows = rows_where_in(tx, store, table, "user_id", Key::Ids(&user_ids)).await?;
        tables.push((table, rows));
    }
    let supporters = Key::Ids(&supporter_ids);
    tables.push((
        "supporters",
        rows_where_in(tx, store, "supporters", "id", supporters).await?,
    ));
    for table in ["consents", "rsvps", "email_audience", "outreach_recipients"] {
        let rows =
            rows_where_in(tx, store, table, "supporter_id", Key::Ids(&supporter_ids)).await?;
        tables.push((table, rows));
    }
    let rsvp_ids = ids_of(&tables[tables.len() - 3].1, "id");
    let wording_ids = ids_of(&tables[tables.len() - 4].1, "wording_id");
    let wordings =
        rows_where_in(tx, store, "consent_wordings", "id", Key::Ids(&wording_ids)).await?;
    let notices = rows_where_in(tx, store, "rsvp_notices", "rsvp_id", Key::Ids(&rsvp_ids)).await?;
    tables.push(("rsvp_notices", notices));
    let links = rows_where_in(tx, store, "rsvp_links", "rsvp_id", Key::Ids(&rsvp_ids)).await?;
    tables.push(("rsvp_links", links));
    tables.push(("consent_wordings", wordings));
    let contacts = Key::Ids(&contact_ids);
    tables.push((
        "contacts",
        rows_where_in(tx, store, "contacts", "id", contacts).await?,
    ));
    for table in ["leases", "call_attempts", "contact_external_ids"] {
        let rows = rows_where_in(tx, store, table, "contact_id", Key::Ids(&contact_ids)).await?;
        tables.push((table, rows));
    }
    let sessions = rows_where_in(
        tx,
        store,
        "phone_sessions",
        "caller_id",
        Key::Ids(&user_ids),
    )
    .await?;
    tables.push(("phone_sessions", sessions));
    let mut calls = rows_where_in(
        tx,
        store,
        "call_records",
        "contact_id",
        Key::Ids(&contact_ids),
    )
    .await?;
    for row in rows_where_in(tx, store, "call_records", "caller_id", Key::Ids(&user_ids)).await? {
        if !calls.iter().any(|c| c.get("id") == row.get("id")) {
            calls.push(row);
        }
    }
    tables.push(("call_records", calls));
    for table in ["do_not_call", "tps_numbers"] {
        tables.push((
            table,
            rows_where_in(tx, store, table, "phone", Key::Texts(&phones)).await?,
        ));
    }
    let by_email = [
        ("email_suppressions", "email"),
        ("group_invites", "lower(email)"),
        ("outbox", "lower(to_addr)"),
    ];
    for (table, column) in by_email {
        tables.push((
            table,
            rows_where_in(tx, store, table, column, Key::Texts(&emails)).await?,
        ));
    }
    let subjects: Vec<String> = user_ids
        .iter()
        .map(|id| format!("user {id}"))
        .chain(supporter_ids.iter().map(|id| format!("supporter {id}")))
        .chain(contact_ids.iter().map(|id| format!("contact {id}")))
        .chain(rsvp_ids.iter().map(|id| format!("rsvp {id}")))
        .collect();
    let mut audit = rows_where_in(tx, store, "audit_log", "subject", Key::Texts(&subjects)).await?;
    let needles: Vec<String> = emails.iter().chain(&phones).cloned().collect();
    let mut about = rows_containing(tx, store, "audit_log", "detail", &needles).await?;
    for (column, ids) in [
        ("subject_user_id", &user_ids),
        ("contact_id", &contact_ids),
        ("supporter_id", &supporter_ids),
    ] {
        about.extend(rows_where_in(tx, store, "audit_log", column, Key::Ids(ids)).await?);
    }
    for row in about {
        if !audit.iter().any(|a| a.get("id") == row.get("id")) {
            audit.push(row);
        }
    }
    tables.push(("audit_log", audit));
    // A rejected row is found by its reason or its original cells.
    for (table, column) in [
        ("login_failures", "key"),
        ("rate_limit_counters", "key"),
        ("import_rejections", "reason || ' ' || fields"),
    ] {
        tables.push((
            table,
            rows_containing(tx, store, table, column, &needles).await?,
        ));
    }
    let views = contact_views(tx, store, &contact_ids).await?;
    Ok(PersonLookup::Found(Box::new(PersonRecords {
        views,
        query: query.clone(),
        user_ids,
        supporter_ids,
        contact_ids,
        emails,
        phones,
        tables: tables
            .into_iter()
            .filter(|(_, rows)| !rows.is_empty())
            .map(|(table, rows)| TableRows { table, rows })
            .collect(),
    })))
}
