//! The campaign editor, one page for creating a campaign and for editing it: script with
//! a placeholder picker and a preview with a sample contact, the survey builder, outcomes
//! and a calling-hours grid, each mistake shown next to its field. New campaigns start as
//! drafts; edits of a live one are audited and reach callers at their next contact.

use super::access::{find_group, organiser_campaign, require_group_organiser};
use super::campaign_form::{
    Action, DEFAULT_MAX_LEN, EFFECTS, EditorForm, KINDS, OutcomeRow, QuestionRow,
};
use crate::api::phonebank::campaign_content::live_problem;
use crate::api::phonebank::campaigns::save_settings;
use crate::auth::{Flash, SignedIn};
use crate::pages::layout::{Layout, render};
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Router, routing::get};
use barnstorm_domain::script::{Script, field_key};
use barnstorm_store::Group;
use barnstorm_store::phonebank::{Campaign, CampaignSettings, CampaignStatus, Contact};
use std::collections::BTreeMap;

/// A starter survey that shows how branching works; organisers edit or empty it.
const STARTER_SURVEY: &str = r#"{"questions": [
  {"key": "support", "label": "Can we count on your support?",
   "kind": {"type": "single_choice", "options": [
     {"key": "yes", "label": "Yes"}, {"key": "maybe", "label": "Maybe"}, {"key": "no", "label": "No"}]}},
  {"key": "why_not", "label": "What would change your mind?",
   "kind": {"type": "free_text", "max_len": 500},
   "show_if": {"question_key": "support", "equals_any": ["maybe", "no"]}}]}"#;

/// What the page script replaces with a fresh id in the rows it adds.
const BLANK_ID: &str = "__ID__";

/// One entry of a menu or a set of checkboxes.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

fn choices(list: &[(&str, &str)], selected: &str) -> Vec<Choice> {
    list.iter()
        .map(|&(value, label)| Choice {
            value: value.to_owned(),
            label: label.to_owned(),
            selected: value == selected,
        })
        .collect()
}

/// A question as the editor shows it.
struct QuestionView {
    row: QuestionRow,
    number: usize,
    first: bool,
    last: bool,
    kinds: Vec<Choice>,
    /// Earlier choice questions it may depend on.
    earlier: Vec<Choice>,
    /// The answers of the question it depends on, by label.
    answers: Vec<Choice>,
}

/// An outcome as the editor shows it.
struct OutcomeView {
    /// Its place in the list: names its fields' ids and its "remove" button's target.
    id: String,
    row: OutcomeRow,
    effects: Vec<Choice>,
    /// Questions it may require, by row id.
    requires: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "phonebank/editor.html")]
struct EditorPage {
    layout: Layout,
    group: Group,
    /// The campaign being edited; `None` when creating one.
    campaign: Option<Campaign>,
    action: String,
    form: EditorForm,
    questions: Vec<QuestionView>,
    outcomes: Vec<OutcomeView>,
    time_zones: Vec<Choice>,
    /// The placeholder picker: field key and what organisers call it.
    fields: Vec<(String, String)>,
    /// The sample contact's fields, as JSON for the page script's live preview.
    sample: String,
    /// Who the sample is ("the first contact of the list" or made up).
    sample_source: &'static str,
    preview: String,
    /// The blank rows the page script adds, with `__ID__` for their ids.
    blank_question: QuestionView,
    blank_outcome: OutcomeView,
}

/// The contact fields a script can use: the mapped ones, then the list's own columns.
fn picker_fields(columns: &[String]) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = [
        ("first_name", "First name"),
        ("last_name", "Last name"),
        ("postcode", "Postcode"),
        ("email", "Email"),
    ]
    .iter()
    .map(|(key, label)| ((*key).to_owned(), (*label).to_owned()))
    .collect();
    for column in columns {
        let key = field_key(column);
        if !key.is_empty() && !fields.iter().any(|(k, _)| *k == key) {
            fields.push((key, column.clone()));
        }
    }
    fields
}

/// The sample contact's fields keyed as the script matches them: the list's first
/// contact, or a made-up one on drama data.
fn sample_fields(contact: Option<&Contact>) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    match contact {
        Some(c) => {
            fields.insert("first_name".into(), c.first_name.clone());
            fields.insert("last_name".into(), c.last_name.clone());
            fields.insert("postcode".into(), c.postcode.clone().unwrap_or_default());
            fields.insert("email".into(), c.email.clone().unwrap_or_default());
            for (column, value) in &c.extra {
                fields.insert(field_key(column), value.clone());
            }
        }
        None => {
            for (key, value) in [
                ("first_name", "Asha"),
                ("last_name", "Patel"),
                ("postcode", "LS6 1AN"),
                ("email", "asha.patel@example.org"),
            ] {
                fields.insert(key.into(), value.into());
            }
        }
    }
    fields
}

fn time_zones(selected: &str) -> Vec<Choice> {
    let london = chrono_tz::Europe::London.name();
    std::iter::once(london)
        .chain(
            chrono_tz::TZ_VARIANTS
                .iter()
                .map(|tz| tz.name())
                .filter(|name| *name != london),
        )
        .map(|name| Choice {
            value: name.to_owned(),
            label: name.replace('_', " "),
            selected: name == selected,
        })
        .collect()
}

/// The page for `form`, with the list's fields and sample for `campaign` when editing.
async fn editor_page(
    state: &AppState,
    layout: Layout,
    group: Group,
    campaign: Option<Campaign>,
    mut form: EditorForm,
) -> Result<EditorPage, PageError> {
    form.with_blank_options();
    let (columns, first) = match &campaign {
        Some(c) => (
            state.store.contact_columns(c.id).await?,
            state.store.first_contact(c.id).await?,
        ),
        None => (Vec::new(), None),
    };
    let sample = sample_fields(first.as_ref());
    let preview = Script::parse(&form.script)
        .map(|s| s.render_with_map(&sample))
        .unwrap_or_default();
    let count = form.questions.len();
    let questions = form
        .questions
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let earlier: Vec<Choice> = form.questions[..i]
                .iter()
                .enumerate()
                .filter(|(_, q)| q.kind != "free_text")
                .map(|(n, q)| Choice {
                    value: q.id.clone(),
                    label: format!("Question {}: {}", n + 1, q.label),
                    selected: q.id == row.show_if,
                })
                .collect();
            let answers = form.questions[..i]
                .iter()
                .find(|q| q.id == row.show_if)
                .map(|asked| {
                    asked
                        .options
                        .iter()
                        .filter(|o| !o.label.trim().is_empty())
                        .map(|o| Choice {
                            value: o.label.clone(),
                            label: o.label.clone(),
                            selected: row.show_if_answers.contains(&o.label),
                        })
                        .collect()
                })
                .unwrap_or_default();
            QuestionView {
                row: row.clone(),
                number: i + 1,
                first: i == 0,
                last: i + 1 == count,
                kinds: choices(&KINDS, &row.kind),
                earlier,
                answers,
            }
        })
        .collect();
    let outcomes = form
        .outcomes
        .iter()
        .enumerate()
        .map(|(index, row)| OutcomeView {
            id: index.to_string(),
            row: row.clone(),
            effects: choices(&EFFECTS, &row.effect),
            requires: form
                .questions
                .iter()
                .filter(|q| !q.label.trim().is_empty())
                .map(|q| Choice {
                    value: q.id.clone(),
                    label: q.label.clone(),
                    selected: row.requires.contains(&q.id),
                })
                .collect(),
        })
        .collect();
    let action = campaign.as_ref().map_or_else(
        || format!("/groups/{}/campaigns/new", group.slug),
        |c| format!("/campaigns/{}/edit", c.id),
    );
    Ok(EditorPage {
        layout,
        group,
        action,
        time_zones: time_zones(&form.time_zone),
        fields: picker_fields(&columns),
        sample: serde_json::to_string(&sample).unwrap_or_default(),
        sample_source: if first.is_some() {
            "the first contact on the list"
        } else {
            "a made-up contact, until a list is uploaded"
        },
        preview,
        blank_question: QuestionView {
            row: QuestionRow {
                id: BLANK_ID.into(),
                kind: "single_choice".into(),
                max_len: DEFAULT_MAX_LEN.to_string(),
                ..QuestionRow::default()
            },
            number: 0,
            first: false,
            last: false,
            kinds: choices(&KINDS, "single_choice"),
            earlier: Vec::new(),
            answers: Vec::new(),
        },
        blank_outcome: OutcomeView {
            id: BLANK_ID.into(),
            row: OutcomeRow::new_blank(),
            effects: choices(&EFFECTS, "completed"),
            requires: Vec::new(),
        },
        campaign,
        questions,
        outcomes,
        form,
    })
}

/// The settings a new campaign starts from: the UK outcomes and hours, a starter survey.
fn new_campaign_settings() -> CampaignSettings {
    let mut settings = CampaignSettings::new("");
    settings.survey = serde_json::from_str(STARTER_SURVEY).unwrap_or_default();
    settings
}

async fn new_campaign_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    let group = find_group(&state.store, &slug).await?;
    require_group_organiser(&state, &signed_in.user, &group).await?;
    let form = EditorForm::from_settings(&new_campaign_settings());
    let page = editor_page(&state, Layout::new(&signed_in.context), group, None, form).await?;
    Ok(render(&page))
}

/// Shows the form again after a button other than "save", or with its mistakes.
async fn show_again(
    state: &AppState,
    signed_in: &SignedIn,
    group: Group,
    campaign: Option<Campaign>,
    form: EditorForm,
) -> Result<Response, PageError> {
    let mistakes = form.has_errors();
    let mut context = signed_in.context.clone();
    if mistakes {
        context.flash = Some(Flash::error(
            "Nothing was saved: correct the fields marked below.",
        ));
    }
    let page = editor_page(state, Layout::new(&context), group, campaign, form).await?;
    let mut response = render(&page);
    if mistakes {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

async fn create_campaign(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(slug): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let group = find_group(&state.store, &slug).await?;
    require_group_organiser(&state, &signed_in.user, &group).await?;
    let (mut form, action) = EditorForm::from_pairs(&pairs);
    if action != Action::Save {
        form.apply(&action);
        return show_again(&state, &signed_in, group, None, form).await;
    }
    let Some(settings) = form.settings(&CampaignSettings::new("")) else {
        return show_again(&state, &signed_in, group, None, form).await;
    };
    let campaign = state
        .store
        .create_campaign(group.id, &settings, Some(signed_in.user.id))
        .await?;
    Ok(Flash::ok(format!(
        "Phone bank created as a draft: {}. Upload a list and make an invite link, then go live.",
        campaign.settings.name
    ))
    .redirect(&format!("/campaigns/{}", campaign.id)))
}

/// The campaign an organiser may edit: any but a finished one.
async fn editable_campaign(
    state: &AppState,
    signed_in: &SignedIn,
    id: i64,
) -> Result<Result<(Campaign, Group), Response>, PageError> {
    let (campaign, group) = organiser_campaign(state, &signed_in.user, id).await?;
    if campaign.status == CampaignStatus::Finished {
        return Ok(Err(Flash::error(
            "This phone bank is finished, so it can no longer be changed.",
        )
        .redirect(&format!("/campaigns/{id}"))));
    }
    Ok(Ok((campaign, group)))
}

async fn edit_campaign_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let (campaign, group) = match editable_campaign(&state, &signed_in, id).await? {
        Ok(found) => found,
        Err(refused) => return Ok(refused),
    };
    let form = EditorForm::from_settings(&campaign.settings);
    let layout = Layout::new(&signed_in.context);
    let page = editor_page(&state, layout, group, Some(campaign), form).await?;
    Ok(render(&page))
}

async fn save_campaign(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let (campaign, group) = match editable_campaign(&state, &signed_in, id).await? {
        Ok(found) => found,
        Err(refused) => return Ok(refused),
    };
    let (mut form, action) = EditorForm::from_pairs(&pairs);
    if action != Action::Save {
        form.apply(&action);
        return show_again(&state, &signed_in, group, Some(campaign), form).await;
    }
    let Some(settings) = form.settings(&campaign.settings) else {
        return show_again(&state, &signed_in, group, Some(campaign), form).await;
    };
    if let Some(problem) =
        live_problem(&settings).filter(|_| campaign.status == CampaignStatus::Live)
    {
        form.errors.caller_id = Some(problem.to_owned());
        return show_again(&state, &signed_in, group, Some(campaign), form).await;
    }
    let back = format!("/campaigns/{id}");
    if settings == campaign.settings {
        return Ok(Flash::ok("Nothing had changed.").redirect(&back));
    }
    save_settings(&state, signed_in.user.id, &campaign, &settings).await?;
    let message = if campaign.status == CampaignStatus::Draft {
        "Saved."
    } else {
        "Saved. Callers see the new version from their next contact."
    };
    Ok(Flash::ok(message).redirect(&back))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/groups/{slug}/campaigns/new",
            get(new_campaign_page).post(create_campaign),
        )
        .route(
            "/campaigns/{id}/edit",
            get(edit_campaign_page).post(save_campaign),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_campaign_is_valid_once_named() {
        let mut form = EditorForm::from_settings(&new_campaign_settings());
        assert_eq!(form.questions.len(), 2, "the starter survey is there");
        form.name = "Spring drive".into();
        assert!(
            form.settings(&CampaignSettings::new("")).is_some(),
            "{form:?}"
        );
    }

    #[test]
    fn the_time_zone_menu_starts_with_london() {
        let zones = time_zones("Europe/Paris");
        assert_eq!(zones[0].value, "Europe/London");
        assert!(
            zones
                .iter()
                .any(|z| z.selected && z.value == "Europe/Paris")
        );
    }
}
