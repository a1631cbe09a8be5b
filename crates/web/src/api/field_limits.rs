//! Writes the length limits of `barnstorm_domain::limits` into the OpenAPI document as
//! `maxLength`, so the document, the API and the pages read the same constants. The table
//! names each limited text field of a request body by its schema and property. It must not
//! enforce anything: the handlers and the domain checks do, against the same constants.

use barnstorm_domain::limits;
use utoipa::openapi::schema::{ArrayItems, Schema};
use utoipa::openapi::{OpenApi, RefOr};

/// Each limited text field: (schema name, property, the most characters it takes).
pub(crate) const FIELD_LIMITS: &[(&str, &str, usize)] = &[
    ("TokenRequest", "email", limits::EMAIL),
    ("NewWebhookBody", "url", limits::URL),
    ("NewWebhookBody", "description", limits::LABEL),
    ("NewWebhookBody", "event_types", limits::KEY),
    ("TokenRequest", "password", limits::PASSWORD),
    ("TokenRequest", "label", limits::LABEL),
    ("NewGroup", "name", limits::GROUP_NAME),
    ("NewGroup", "description", limits::GROUP_DESCRIPTION),
    ("InviteRequest", "email", limits::EMAIL),
    ("InviteRequest", "role", limits::KEY),
    ("NewEventBody", "kind", limits::KEY),
    ("NewEventBody", "title", limits::EVENT_TITLE),
    ("NewEventBody", "description", limits::EVENT_DESCRIPTION),
    ("NewEventBody", "address", limits::ADDRESS),
    ("NewEventBody", "accessibility", limits::ACCESSIBILITY),
    ("NewEventBody", "postcode", limits::POSTCODE),
    ("NewEventBody", "online_url", limits::URL),
    ("NewEventBody", "time_zone", limits::KEY),
    ("NewEventBody", "visibility", limits::KEY),
    ("NewRsvpBody", "name", limits::PERSON_NAME),
    ("NewRsvpBody", "email", limits::EMAIL),
    ("NewRsvpBody", "postcode", limits::POSTCODE),
    ("NewRsvpBody", "phone", limits::PHONE),
    ("NewRsvpBody", "consents", limits::KEY),
    ("SettingsFields", "name", limits::CAMPAIGN_NAME),
    ("SettingsFields", "briefing", limits::BRIEFING),
    ("SettingsFields", "script", limits::SCRIPT),
    ("CampaignPatch", "status", limits::KEY),
    ("BridgingFields", "caller_id", limits::PHONE),
    ("SurveyQuestion", "key", limits::KEY),
    ("SurveyQuestion", "label", limits::SURVEY_QUESTION),
    ("SurveyOption", "key", limits::KEY),
    ("SurveyOption", "label", limits::SURVEY_OPTION),
    ("SurveyCondition", "question_key", limits::KEY),
    ("SurveyCondition", "equals_any", limits::KEY),
    ("Outcome", "key", limits::KEY),
    ("Outcome", "label", limits::OUTCOME_LABEL),
    ("CallingHours", "time_zone", limits::KEY),
    ("OutcomeRequest", "outcome", limits::KEY),
    ("OutcomeRequest", "notes", limits::CALL_NOTES),
    ("ResultCodeEntry", "outcome", limits::KEY),
    ("ResultCodeEntry", "code", limits::OUTCOME_LABEL),
    ("AcceptInvite", "name", limits::PERSON_NAME),
    ("AcceptInvite", "email", limits::EMAIL),
    ("JoinRequest", "code", limits::CODE),
    ("PersonRequest", "email", limits::EMAIL),
    ("PersonRequest", "phone", limits::PHONE),
    ("PersonRequest", "name", limits::PERSON_NAME),
    ("PersonRequest", "postcode", limits::POSTCODE),
    ("PersonRequest", "candidate", limits::PERSON_NAME),
];

/// Sets `maxLength` from [`FIELD_LIMITS`] (on the items, for an array of strings).
pub(crate) struct FieldLimits;

impl utoipa::Modify for FieldLimits {
    fn modify(&self, openapi: &mut OpenApi) {
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for (schema_name, property, max) in FIELD_LIMITS {
            let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(*schema_name)
            else {
                continue;
            };
            match object.properties.get_mut(*property) {
                Some(RefOr::T(Schema::Object(field))) => field.max_length = Some(*max),
                Some(RefOr::T(Schema::Array(array))) => {
                    if let ArrayItems::RefOrSchema(items) = &mut array.items
                        && let RefOr::T(Schema::Object(item)) = items.as_mut()
                    {
                        item.max_length = Some(*max);
                    }
                }
                _ => {}
            }
        }
    }
}
