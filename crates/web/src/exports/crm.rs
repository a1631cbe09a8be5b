//! The results export's other shapes: a spreadsheet with a column per external id, per
//! imported column and per survey question (`generic`), NGP VAN's bulk upload of contact
//! history (`van`) and NationBuilder's people import (`nationbuilder`). Headers and result
//! codes come from `barnstorm_domain::crm`; this module only lays out the rows. It must not
//! read pages of contacts itself: the export's cursor hands them in.

use barnstorm_domain::contact_import::{ACTION_NETWORK, NATIONBUILDER, VAN};
use barnstorm_domain::crm::{
    ExportFormat, NATIONBUILDER_COLUMNS, ResultCodes, VAN_COLUMNS, VAN_CONTACT_TYPE,
    VAN_NOTES_COLUMN, us_date,
};
use barnstorm_domain::outcome::OutcomeEffect;
use barnstorm_store::phonebank::{Campaign, ContactResult, CrmDetails};
use barnstorm_store::{Store, StoreError};
use chrono_tz::Tz;

use super::{CONTACT_COLUMNS, PROGRESS_COLUMNS, answer_text, cell, contact_cells, progress_cells};

/// How a non-standard results export lays out its columns, read once before the header.
pub(super) struct Layout {
    format: ExportFormat,
    /// External id systems, one column each (generic).
    systems: Vec<String>,
    /// Imported columns, one column each (generic).
    extra_columns: Vec<String>,
    /// Survey question keys, one column each.
    questions: Vec<String>,
    /// The campaign's codes for the CRM the format writes.
    codes: ResultCodes,
    /// The campaign's calling-hours time zone, for contact dates.
    tz: Tz,
}

/// The column header of an external id system in the generic export.
fn system_header(system: &str) -> &str {
    match system {
        VAN => "VANID",
        NATIONBUILDER => "nationbuilder_id",
        ACTION_NETWORK => "action_network_id",
        custom => custom,
    }
}

impl Layout {
    /// The layout of `format` for `campaign` (not [`ExportFormat::Standard`]).
    pub(super) async fn load(
        store: &Store,
        campaign: &Campaign,
        format: ExportFormat,
    ) -> Result<Self, StoreError> {
        let settings = &campaign.settings;
        let (systems, extra_columns) = if format == ExportFormat::Generic {
            (
                store.campaign_external_systems(campaign.id).await?,
                store.campaign_extra_columns(campaign.id).await?,
            )
        } else {
            (Vec::new(), Vec::new())
        };
        let codes = match format.crm() {
            Some(crm) => {
                store
                    .campaign_result_codes(campaign.id, crm, &settings.outcomes)
                    .await?
            }
            None => ResultCodes::default(),
        };
        Ok(Self {
            format,
            systems,
            extra_columns,
            questions: settings
                .survey
                .questions
                .iter()
                .map(|q| q.key.clone())
                .collect(),
            codes,
            tz: settings.calling_hours.time_zone(),
        })
    }

    /// The header row.
    pub(super) fn header(&self) -> Vec<&str> {
        let questions = self.questions.iter().map(String::as_str);
        match self.format {
            ExportFormat::Van => {
                let mut header = VAN_COLUMNS.to_vec();
                header.extend(questions);
                header.push(VAN_NOTES_COLUMN);
                header
            }
            ExportFormat::Nationbuilder => {
                let mut header = NATIONBUILDER_COLUMNS.to_vec();
                header.extend(questions);
                header
            }
            ExportFormat::Generic | ExportFormat::Standard => {
                let mut header = CONTACT_COLUMNS.to_vec();
                header.extend(self.systems.iter().map(|s| system_header(s)));
                header.extend(self.extra_columns.iter().map(String::as_str));
                header.extend(PROGRESS_COLUMNS);
                header.extend(questions);
                header.push("notes");
                header
            }
        }
    }

    /// The row of one contact, or `None` when the format leaves it out: VAN takes called
    /// contacts with a VAN ID, NationBuilder called contacts with a NationBuilder id or
    /// an email address (its unique identifiers).
    pub(super) fn record(
        &self,
        campaign: &Campaign,
        result: &ContactResult,
        details: Option<&CrmDetails>,
    ) -> Option<Vec<String>> {
        let c = &result.contact;
        let empty = CrmDetails::default();
        let details = details.unwrap_or(&empty);
        let id_in = |system: &str| details.external_ids.get(system).map(|v| cell(v));
        let outcome = c
            .last_outcome
            .as_deref()
            .map(|key| (key, campaign.settings.outcomes.get(key)));
        let code = |crm| match outcome {
            Some((_, Some(outcome))) => self.codes.code_for(crm, outcome),
            Some((key, None)) => key.to_owned(),
            None => String::new(),
        };
        let answers = self
            .questions
            .iter()
            .map(|q| answer_text(result.answers.get(q)));
        match self.format {
            ExportFormat::Van => {
                let van_id = id_in(VAN)?;
                let called = result
                    .last_called_at
                    .and_then(chrono::DateTime::from_timestamp_millis)?;
                let mut record = vec![
                    van_id,
                    us_date(called, self.tz),
                    c.phone.clone(),
                    VAN_CONTACT_TYPE.to_owned(),
                    cell(&code(barnstorm_domain::crm::Crm::Van)),
                ];
                record.extend(answers);
                record.push(cell(&details.latest_notes));
                Some(record)
            }
            ExportFormat::Nationbuilder => {
                result.last_called_at?;
                let nationbuilder_id = id_in(NATIONBUILDER);
                let email = c.email.as_deref().map(cell);
                if nationbuilder_id.is_none() && email.is_none() {
                    return None;
                }
                let do_not_call = matches!(
                    outcome,
                    Some((_, Some(o))) if o.effect == OutcomeEffect::DoNotCall
                );
                let mut record = vec![
                    nationbuilder_id.unwrap_or_default(),
                    cell(&c.first_name),
                    cell(&c.last_name),
                    email.unwrap_or_default(),
                    c.phone.clone(),
                    cell(&code(barnstorm_domain::crm::Crm::Nationbuilder)),
                    if do_not_call { "Y" } else { "" }.to_owned(),
                    cell(&details.latest_notes),
                ];
                record.extend(answers);
                Some(record)
            }
            ExportFormat::Generic | ExportFormat::Standard => {
                let mut record = contact_cells(result);
                record.extend(self.systems.iter().map(|s| id_in(s).unwrap_or_default()));
                record.extend(
                    self.extra_columns
                        .iter()
                        .map(|h| c.extra.get(h).map(|v| cell(v)).unwrap_or_default()),
                );
                record.extend(progress_cells(result));
                record.extend(answers);
                record.push(cell(&details.latest_notes));
                Some(record)
            }
        }
    }
}
