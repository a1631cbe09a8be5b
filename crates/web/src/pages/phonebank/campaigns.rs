//! Creating a call campaign: the form (name, briefing, script, and the survey, outcomes
//! and calling hours as JSON prefilled with working defaults) and its checking with the
//! domain types, each mistake shown next to its field. New campaigns start as drafts.

use super::access::{find_group, require_group_organiser};
use crate::auth::{Flash, SignedIn};
use crate::pages::layout::{Layout, render};
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use axum::{Router, routing::get};
use barnstorm_domain::calling_window::CallingWindows;
use barnstorm_domain::limits;
use barnstorm_domain::outcome::OutcomeSet;
use barnstorm_domain::script::Script;
use barnstorm_domain::survey::Survey;
use barnstorm_store::Group;
use barnstorm_store::phonebank::CampaignSettings;
use serde::Deserialize;

/// A starter survey that shows how branching works; organisers edit or empty it.
const STARTER_SURVEY: &str = r#"{
  "questions": [
    {
      "key": "support",
      "label": "Can we count on your support?",
      "kind": {
        "type": "single_choice",
        "options": [
          { "key": "yes", "label": "Yes" },
          { "key": "maybe", "label": "Maybe" },
          { "key": "no", "label": "No" }
        ]
      }
    },
    {
      "key": "why_not",
      "label": "What would change your mind?",
      "kind": { "type": "free_text", "max_len": 500 },
      "show_if": { "question_key": "support", "equals_any": ["maybe", "no"] }
    }
  ]
}"#;

/// What the organiser typed, kept to show again after a mistake.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct CampaignForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    briefing: String,
    #[serde(default)]
    script: String,
    #[serde(default)]
    survey: String,
    #[serde(default)]
    outcomes: String,
    #[serde(default)]
    calling_hours: String,
    #[serde(default)]
    leaderboard: Option<String>,
}

impl CampaignForm {
    fn defaults() -> Self {
        let settings = CampaignSettings::new("");
        Self {
            name: String::new(),
            briefing: String::new(),
            script: settings.script.clone(),
            survey: STARTER_SURVEY.to_owned(),
            outcomes: pretty(&settings.outcomes),
            calling_hours: pretty(&settings.calling_hours),
            leaderboard: None,
        }
    }
}

/// Pretty JSON for prefilling a textarea.
fn pretty<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// A mistake per field, shown next to it.
#[derive(Debug, Default)]
pub(super) struct FieldErrors {
    name: Option<String>,
    briefing: Option<String>,
    script: Option<String>,
    survey: Option<String>,
    outcomes: Option<String>,
    calling_hours: Option<String>,
}

impl FieldErrors {
    fn any(&self) -> bool {
        self.name.is_some()
            || self.briefing.is_some()
            || self.script.is_some()
            || self.survey.is_some()
            || self.outcomes.is_some()
            || self.calling_hours.is_some()
    }
}

/// Checks the form with the domain types: settings, or what is wrong where.
#[expect(
    clippy::result_large_err,
    reason = "one message per form field, built once per submission and rendered at once"
)]
pub(super) fn check_form(form: &CampaignForm) -> Result<CampaignSettings, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > limits::CAMPAIGN_NAME {
        errors.name = Some(format!(
            "Give the phone bank a name of up to {} characters.",
            limits::CAMPAIGN_NAME
        ));
    }
    if let Err(e) = limits::check_length("briefing", form.briefing.trim(), limits::BRIEFING) {
        errors.briefing = Some(format!("The briefing is too long: {e}."));
    }
    if form.script.trim().is_empty() {
        errors.script = Some("Write what callers should say.".into());
    } else if let Err(e) = limits::check_length("script", &form.script, limits::SCRIPT) {
        errors.script = Some(format!("The script is too long: {e}."));
    } else if let Err(e) = Script::parse(&form.script) {
        errors.script = Some(format!("The script has a mistake: {e}."));
    }
    let survey = match serde_json::from_str::<Survey>(&form.survey) {
        Ok(survey) => match survey.validate_definition() {
            Ok(()) => Some(survey),
            Err(problems) => {
                let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
                errors.survey = Some(list.join("; "));
                None
            }
        },
        Err(e) => {
            errors.survey = Some(format!("This is not a survey in JSON: {e}."));
            None
        }
    };
    let outcomes = serde_json::from_str::<OutcomeSet>(&form.outcomes)
        .map_err(|e| errors.outcomes = Some(format!("These outcomes cannot be used: {e}.")))
        .ok();
    let hours = serde_json::from_str::<CallingWindows>(&form.calling_hours)
        .map_err(|e| {
            errors.calling_hours = Some(format!("These calling hours cannot be used: {e}."))
        })
        .ok();
    match (survey, outcomes, hours) {
        (Some(survey), Some(outcomes), Some(calling_hours)) if !errors.any() => {
            let mut settings = CampaignSettings::new(name);
            settings.briefing = form.briefing.trim().to_owned();
            settings.script = form.script.clone();
            settings.survey = survey;
            settings.outcomes = outcomes;
            settings.calling_hours = calling_hours;
            settings.leaderboard = form.leaderboard.is_some();
            Ok(settings)
        }
        _ => Err(errors),
    }
}

#[derive(Template)]
#[template(path = "phonebank/new.html")]
struct NewCampaignPage {
    layout: Layout,
    group: Group,
    form: CampaignForm,
    errors: FieldErrors,
}

async fn new_campaign_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    let group = find_group(&state.store, &slug).await?;
    require_group_organiser(&state, &signed_in.user, &group).await?;
    Ok(render(&NewCampaignPage {
        layout: Layout::new(&signed_in.context),
        group,
        form: CampaignForm::defaults(),
        errors: FieldErrors::default(),
    }))
}

async fn create_campaign(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(slug): Path<String>,
    Form(form): Form<CampaignForm>,
) -> Result<Response, PageError> {
    let group = find_group(&state.store, &slug).await?;
    require_group_organiser(&state, &signed_in.user, &group).await?;
    let settings = match check_form(&form) {
        Ok(settings) => settings,
        Err(errors) => {
            let mut context = signed_in.context.clone();
            context.flash = Some(Flash::error(
                "The phone bank was not created: correct the fields marked below.",
            ));
            let mut response = render(&NewCampaignPage {
                layout: Layout::new(&context),
                group,
                form,
                errors,
            });
            *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(response);
        }
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

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(
        "/groups/{slug}/campaigns/new",
        get(new_campaign_page).post(create_campaign),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefilled_form_is_a_valid_campaign() {
        let mut form = CampaignForm::defaults();
        form.name = "Spring drive".into();
        let settings = check_form(&form).map_err(|e| format!("{e:?}"));
        assert!(settings.is_ok(), "{settings:?}");
    }

    #[test]
    fn each_mistake_is_reported_on_its_field() {
        let mut form = CampaignForm::defaults();
        form.survey = "{ not json".into();
        form.outcomes = "[]".into();
        let Err(errors) = check_form(&form) else {
            panic!("a broken form was accepted");
        };
        assert!(errors.name.is_some());
        assert!(errors.survey.as_deref().is_some_and(|e| e.contains("JSON")));
        assert!(
            errors
                .outcomes
                .as_deref()
                .is_some_and(|e| e.contains("at least one"))
        );
        assert!(errors.calling_hours.is_none());
    }
}
