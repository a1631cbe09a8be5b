//! Who a data-protection request is about, as the pages and the API receive it, and what
//! is held on them as both show it before an export or an erasure: names, addresses,
//! numbers, rows per kind and campaigns. It reads only; erasing is the store's.

use super::package::describe;
use barnstorm_domain::limits::{self, TooLong, check_length};
use barnstorm_store::subject::{PersonCandidate, PersonQuery, PersonQueryError, PersonRecords};
use barnstorm_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;
use utoipa::ToSchema;

/// Who to find: an email address, a phone number in any spelling, or a name with a
/// postcode; `candidate` picks one of several people an earlier answer listed.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub(crate) struct PersonRequest {
    /// Their email address.
    #[serde(default)]
    pub email: Option<String>,
    /// Their phone number, in any spelling (`020 7946 0123`, `+44 20 7946 0123`).
    #[serde(default)]
    pub phone: Option<String>,
    /// Their full name, with `postcode`.
    #[serde(default)]
    pub name: Option<String>,
    /// Their postcode, with `name`.
    #[serde(default)]
    pub postcode: Option<String>,
    /// The name of one of the candidates an answer listed when several people matched.
    #[serde(default)]
    pub candidate: Option<String>,
    /// Erasure only: `true` erases; without it nothing changes and the answer says what
    /// would be erased.
    #[serde(default)]
    pub confirm: Option<bool>,
}

/// Why a request cannot be used: a field that is too long or does not parse.
pub(crate) enum RequestProblem {
    /// A field past its length limit.
    TooLong(TooLong),
    /// A field that does not parse (no @, not a number, a name without a postcode).
    Invalid(PersonQueryError),
}

impl PersonRequest {
    /// The store's query, checked and normalised; narrowed to `candidate` when given.
    pub(crate) fn query(&self) -> Result<PersonQuery, RequestProblem> {
        for (field, value, max) in [
            ("email", &self.email, limits::EMAIL),
            ("phone", &self.phone, limits::PHONE),
            ("name", &self.name, limits::PERSON_NAME),
            ("postcode", &self.postcode, limits::POSTCODE),
            ("candidate", &self.candidate, limits::PERSON_NAME),
        ] {
            if let Some(value) = value {
                check_length(field, value, max).map_err(RequestProblem::TooLong)?;
            }
        }
        let query = PersonQuery::parse(
            self.email.as_deref(),
            self.phone.as_deref(),
            self.name.as_deref(),
            self.postcode.as_deref(),
        )
        .map_err(RequestProblem::Invalid)?;
        Ok(match self.candidate.as_deref().map(str::trim) {
            Some(candidate) if !candidate.is_empty() => query.narrowed_to(candidate),
            _ => query,
        })
    }
}

/// One of several people a request matched.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct CandidateView {
    /// Their name as stored; send it back as `candidate` to pick them.
    pub name: String,
    /// An address of theirs, if any.
    pub email: Option<String>,
    /// A number of theirs (E.164), if any.
    pub phone: Option<String>,
    /// Where they were found: `account`, `supporter` or `contact`.
    pub found_in: Vec<String>,
}

impl From<PersonCandidate> for CandidateView {
    fn from(c: PersonCandidate) -> Self {
        Self {
            name: c.name,
            email: c.email,
            phone: c.phone,
            found_in: c.found_in,
        }
    }
}

/// How many rows of one kind are held.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct KindCount {
    /// The table the rows are in, as named in the export's `tables/` folder.
    pub table: String,
    /// What the rows are, in words.
    pub what: String,
    /// How many rows.
    pub rows: u64,
}

/// What is held on one person.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct PersonSummary {
    /// The names they are held under.
    pub names: Vec<String>,
    /// Every address they were found under.
    pub emails: Vec<String>,
    /// Every number they were found under (E.164).
    pub phones: Vec<String>,
    /// Rows held, kind by kind.
    pub kinds: Vec<KindCount>,
    /// The phone banks whose lists hold them.
    pub campaigns: Vec<String>,
    /// Rows held in all.
    pub total_rows: u64,
}

fn texts<'a>(records: &'a PersonRecords, table: &str, column: &str) -> Vec<&'a str> {
    records
        .rows(table)
        .iter()
        .filter_map(|row| row.get(column).and_then(Value::as_str))
        .collect()
}

/// Summarises `records` for the person handling the request.
pub(crate) async fn summarise(
    store: &Store,
    records: &PersonRecords,
) -> Result<PersonSummary, StoreError> {
    let mut names: BTreeSet<String> = BTreeSet::new();
    names.extend(
        texts(records, "users", "name")
            .into_iter()
            .map(str::to_owned),
    );
    names.extend(
        texts(records, "supporters", "name")
            .into_iter()
            .map(str::to_owned),
    );
    for row in records.rows("contacts") {
        let part = |c: &str| row.get(c).and_then(Value::as_str).unwrap_or_default();
        names.insert(
            format!("{} {}", part("first_name"), part("last_name"))
                .trim()
                .to_owned(),
        );
    }
    names.retain(|n| !n.trim().is_empty());
    let campaign_ids: BTreeSet<i64> = records
        .rows("contacts")
        .iter()
        .filter_map(|row| row.get("campaign_id").and_then(Value::as_i64))
        .collect();
    let mut campaigns = Vec::new();
    for id in campaign_ids {
        if let Some(campaign) = store.campaign(id).await? {
            campaigns.push(campaign.settings.name);
        }
    }
    let kinds = records
        .tables
        .iter()
        .map(|t| KindCount {
            table: t.table.to_owned(),
            what: describe(t.table).0.to_owned(),
            rows: t.rows.len() as u64,
        })
        .collect();
    Ok(PersonSummary {
        names: names.into_iter().collect(),
        emails: records.emails.clone(),
        phones: records.phones.clone(),
        kinds,
        campaigns,
        total_rows: records.row_count() as u64,
    })
}
