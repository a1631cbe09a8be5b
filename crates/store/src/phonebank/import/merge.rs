//! Merging a list row into the contact that already has its number: missing fields are
//! filled from the later row, extra fields it adds are kept, and a field both give
//! differently keeps the first value, and the row's one merge note says so. Pure rules over values; the batch
//! insert decides which rows meet which contacts and writes the result.

use barnstorm_domain::contact_import::{ImportedContact, RowWarning};
use std::collections::BTreeMap;

/// The fields of a contact a later row can fill (the number itself never changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ContactFields {
    pub(super) phone: String,
    pub(super) other_phone: Option<String>,
    pub(super) first_name: Option<String>,
    pub(super) last_name: Option<String>,
    pub(super) email: Option<String>,
    pub(super) postcode: Option<String>,
    pub(super) extra: BTreeMap<String, String>,
}

impl ContactFields {
    pub(super) fn of(contact: &ImportedContact) -> Self {
        Self {
            phone: contact.phone_e164.as_str().to_owned(),
            other_phone: contact
                .other_phone_e164
                .as_ref()
                .map(|p| p.as_str().to_owned()),
            first_name: contact.first_name.clone(),
            last_name: contact.last_name.clone(),
            email: contact.email.clone(),
            postcode: contact.postcode.clone(),
            extra: contact.extra.clone(),
        }
    }

    /// Fills what is missing here from `later`, returning whether anything changed and,
    /// for each field the two give differently, `First name "Ann" rather than "Anne"`
    /// (the value kept first, then the one not kept).
    pub(super) fn absorb(&mut self, later: &ContactFields) -> (bool, Vec<String>) {
        let mut changed = false;
        let mut differences = Vec::new();
        let mut differ = |column: &str, kept: &str, dropped: &str| {
            differences.push(format!("{column} \"{kept}\" rather than \"{dropped}\""));
        };
        let named = [
            ("First name", &mut self.first_name, &later.first_name),
            ("Last name", &mut self.last_name, &later.last_name),
            ("Email", &mut self.email, &later.email),
            ("Postcode", &mut self.postcode, &later.postcode),
        ];
        for (column, mine, theirs) in named {
            match (mine.as_deref(), theirs.as_deref()) {
                (None, Some(value)) => {
                    *mine = Some(value.to_owned());
                    changed = true;
                }
                (Some(kept), Some(dropped)) if !same(column, kept, dropped) => {
                    differ(column, kept, dropped);
                }
                _ => {}
            }
        }
        if let Some(spare) = &later.other_phone
            && *spare != self.phone
            && self.other_phone.as_ref() != Some(spare)
        {
            match &self.other_phone {
                None => {
                    self.other_phone = Some(spare.clone());
                    changed = true;
                }
                Some(kept) => differ("Other phone", kept, spare),
            }
        }
        for (key, value) in &later.extra {
            match self.extra.get(key) {
                None => {
                    self.extra.insert(key.clone(), value.clone());
                    changed = true;
                }
                Some(kept) if kept != value => differ(key, kept, value),
                Some(_) => {}
            }
        }
        (changed, differences)
    }
}

/// The note on a row merged into the contact `into` names ("line 4"), with what the
/// row gave differently: one note per merged row, however many fields differ.
pub(super) fn merge_note(line: u64, into: &str, differences: &[String]) -> RowWarning {
    let reason = if differences.is_empty() {
        format!("merged into {into}")
    } else {
        format!(
            "merged into {into}, whose values were kept: {}",
            differences.join(", ")
        )
    };
    RowWarning {
        line,
        column: String::new(),
        reason,
    }
}

/// Whether two values of `column` say the same: names and emails ignoring case, a
/// postcode district agreeing with a full postcode in it.
fn same(column: &str, a: &str, b: &str) -> bool {
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    column == "Postcode" && {
        let district = |p: &str| p.split(' ').next().unwrap_or_default().to_owned();
        district(a) == district(b) && (!a.contains(' ') || !b.contains(' '))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn fields(first: Option<&str>, email: Option<&str>, postcode: Option<&str>) -> ContactFields {
        ContactFields {
            phone: "+442079460001".into(),
            other_phone: None,
            first_name: first.map(str::to_owned),
            last_name: None,
            email: email.map(str::to_owned),
            postcode: postcode.map(str::to_owned),
            extra: BTreeMap::new(),
        }
    }

    #[test]
    fn missing_fields_are_filled_and_conflicts_keep_the_first() {
        let mut first = fields(Some("Ann"), None, Some("M13"));
        first.extra.insert("Ward".into(), "Moss Side".into());
        let mut later = fields(Some("Anne"), Some("ann@example.org"), Some("M13 9PL"));
        later.other_phone = Some("+441134960001".into());
        later.extra.insert("Ward".into(), "Hulme".into());
        later.extra.insert("Notes".into(), "keen".into());
        let (changed, differences) = first.absorb(&later);
        assert!(changed);
        assert_eq!(first.first_name.as_deref(), Some("Ann"));
        assert_eq!(first.email.as_deref(), Some("ann@example.org"));
        assert_eq!(
            first.postcode.as_deref(),
            Some("M13"),
            "a district agrees with its postcode"
        );
        assert_eq!(first.other_phone.as_deref(), Some("+441134960001"));
        assert_eq!(first.extra["Notes"], "keen");
        assert_eq!(first.extra["Ward"], "Moss Side");
        assert_eq!(
            merge_note(17, "line 4", &differences).reason,
            "merged into line 4, whose values were kept: First name \"Ann\" rather than \"Anne\", Ward \"Moss Side\" rather than \"Hulme\""
        );
        assert_eq!(first.clone().absorb(&first), (false, Vec::new()));
    }
}
