//! Turning the editor's form into campaign settings: keys derived from labels for new
//! questions, answers and outcomes (never reusing a key the campaign had), conditions and
//! required questions mapped from rows to keys, calling hours and how callers call read,
//! and the whole checked by the checks the API shares, each mistake placed on its row.

use super::campaign_form::{DEFAULT_MAX_LEN, EditorForm, OptionRow, QuestionRow};
use crate::api::phonebank::campaign_content::{
    self, BridgingField, BridgingInput, CampaignContent, ContentField,
};
use barnstorm_domain::calling_window::{CallingWindows, DailyWindow, parse_time};
use barnstorm_domain::limits;
use barnstorm_domain::outcome::{Outcome, OutcomeEffect, OutcomeSet};
use barnstorm_domain::survey::{ChoiceOption, Condition, Question, QuestionKind, Survey};
use barnstorm_store::phonebank::{Bridging, CampaignSettings};
use chrono_tz::Tz;

/// The longest key derived from a label.
const DERIVED_KEY_LEN: usize = 40;

impl EditorForm {
    /// The settings the form describes, on top of `base` (the stored settings when
    /// editing), or `None` with every mistake placed next to its field. `base`'s keys
    /// that the form no longer uses are not given to new items, so answers recorded
    /// under a removed question never read as answers to a new one.
    pub(super) fn settings(&mut self, base: &CampaignSettings) -> Option<CampaignSettings> {
        let kept: Vec<usize> = (0..self.questions.len())
            .filter(|&i| !is_blank_question(&self.questions[i]))
            .collect();
        let (survey, ids) = self.survey(&kept, &base.survey);
        let outcomes = self.outcome_list(&ids, base);
        let hours = self.calling_hours();
        for mistake in campaign_content::mistakes(&CampaignContent {
            name: &self.name,
            briefing: &self.briefing,
            script: &self.script,
            survey: &survey,
            outcomes: &outcomes.iter().map(|(_, o)| o.clone()).collect::<Vec<_>>(),
        }) {
            let message = mistake.message;
            match mistake.field {
                ContentField::Name => self.errors.name = Some(message),
                ContentField::Briefing => self.errors.briefing = Some(message),
                ContentField::Script => self.errors.script = Some(message),
                ContentField::Question(position) => {
                    if let Some(&row) = kept.get(position - 1) {
                        self.questions[row].errors.push(message);
                    }
                }
                ContentField::Outcome(Some(position)) => {
                    if let Some((row, _)) = outcomes.get(position - 1) {
                        self.outcomes[*row].errors.push(message);
                    }
                }
                ContentField::Outcome(None) => self.errors.outcomes = Some(message),
            }
        }
        let bridging = self.bridging(base);
        if self.has_errors() {
            return None;
        }
        let hours = hours?;
        let outcomes = outcomes.into_iter().map(|(_, o)| o).collect();
        let outcomes = OutcomeSet::new(outcomes).ok()?;
        let mut settings = base.clone();
        self.name.trim().clone_into(&mut settings.name);
        self.briefing.trim().clone_into(&mut settings.briefing);
        settings.script.clone_from(&self.script);
        settings.survey = survey;
        settings.outcomes = outcomes;
        settings.calling_hours = hours;
        settings.leaderboard = self.leaderboard;
        settings.bridging = bridging?;
        Some(settings)
    }

    /// How callers call as the form says, or `base`'s when the form did not carry those
    /// fields; mistakes are placed on their fields.
    fn bridging(&mut self, base: &CampaignSettings) -> Option<Bridging> {
        if !self.calling_posted {
            let kept = &base.bridging;
            self.caller_id = kept.caller_id.clone().unwrap_or_default();
            (self.call_me, self.dial_in, self.tel_links) =
                (kept.call_me, kept.dial_in, kept.tel_links);
            self.calling_posted = true;
            return Some(kept.clone());
        }
        let checked = campaign_content::bridging(&BridgingInput {
            caller_id: &self.caller_id,
            call_me: self.call_me,
            dial_in: self.dial_in,
            tel_links: self.tel_links,
        });
        match checked {
            Ok(bridging) => Some(bridging),
            Err(found) => {
                for (field, message) in found {
                    match field {
                        BridgingField::CallerId => self.errors.caller_id = Some(message),
                        BridgingField::Ways => self.errors.ways = Some(message),
                    }
                }
                None
            }
        }
    }

    /// The survey of the `kept` rows, and each row id's key.
    fn survey(&mut self, kept: &[usize], before: &Survey) -> (Survey, Vec<(String, String)>) {
        let mut taken: Vec<String> = self
            .questions
            .iter()
            .map(|q| q.key.clone())
            .filter(|k| !k.is_empty())
            .chain(before.questions.iter().map(|q| q.key.clone()))
            .collect();
        let ids: Vec<(String, String)> = kept
            .iter()
            .map(|&i| {
                let row = &self.questions[i];
                let key = if row.key.is_empty() {
                    derive_key(&row.label, "question", &mut taken)
                } else {
                    row.key.clone()
                };
                (row.id.clone(), key)
            })
            .collect();
        let mut questions: Vec<Question> = Vec::new();
        for (number, &i) in kept.iter().enumerate() {
            let key = ids[number].1.clone();
            let stored = before.questions.iter().find(|q| q.key == key);
            let row = &mut self.questions[i];
            let options = option_list(&row.options, stored);
            let kind = match row.kind.as_str() {
                "multiple_choice" => QuestionKind::MultipleChoice { options },
                "free_text" => match row.max_len.trim() {
                    "" => QuestionKind::FreeText {
                        max_len: DEFAULT_MAX_LEN,
                    },
                    text => match text.parse::<usize>() {
                        Ok(max_len) => QuestionKind::FreeText { max_len },
                        Err(_) => {
                            row.errors.push(format!(
                                "Question {}: give the longest answer as a whole number of characters.",
                                number + 1
                            ));
                            QuestionKind::FreeText {
                                max_len: DEFAULT_MAX_LEN,
                            }
                        }
                    },
                },
                _ => QuestionKind::SingleChoice { options },
            };
            let show_if = if row.show_if.is_empty() {
                None
            } else {
                match ids.iter().find(|(id, _)| *id == row.show_if) {
                    None => {
                        row.errors.push(format!(
                            "Question {}: the question it depends on is no longer in the survey; choose another or \"always\".",
                            number + 1
                        ));
                        None
                    }
                    Some((_, asked_key)) => {
                        let asked = questions.iter().find(|q| &q.key == asked_key);
                        let equals_any = row
                            .show_if_answers
                            .iter()
                            .map(|label| {
                                asked
                                    .and_then(Question::options)
                                    .and_then(|options| {
                                        options.iter().find(|o| o.label.trim() == label.trim())
                                    })
                                    .map_or_else(|| label.clone(), |o| o.key.clone())
                            })
                            .collect();
                        Some(Condition {
                            question_key: asked_key.clone(),
                            equals_any,
                        })
                    }
                }
            };
            questions.push(Question {
                key,
                label: row.label.trim().to_owned(),
                required: row.required,
                kind,
                show_if,
            });
        }
        (Survey { questions }, ids)
    }

    /// The outcomes of the rows with a label, each with its row index.
    fn outcome_list(
        &mut self,
        ids: &[(String, String)],
        base: &CampaignSettings,
    ) -> Vec<(usize, Outcome)> {
        let mut taken: Vec<String> = self
            .outcomes
            .iter()
            .map(|o| o.key.clone())
            .filter(|k| !k.is_empty())
            .chain(base.outcomes.iter().map(|o| o.key.clone()))
            .collect();
        let mut list = Vec::new();
        for (row_index, row) in self.outcomes.iter_mut().enumerate() {
            if row.label.trim().is_empty() && row.key.is_empty() {
                continue;
            }
            let key = if row.key.is_empty() {
                derive_key(&row.label, "outcome", &mut taken)
            } else {
                row.key.clone()
            };
            let effect = match row.effect.as_str() {
                "retry_after" => match row.cooldown.trim().parse::<u32>() {
                    Ok(cooldown_minutes) => OutcomeEffect::RetryAfter { cooldown_minutes },
                    Err(_) => {
                        row.errors.push(format!(
                            "Outcome '{}': give the cooldown in whole minutes.",
                            row.label.trim()
                        ));
                        continue;
                    }
                },
                "callback" => OutcomeEffect::Callback,
                "wrong_number" => OutcomeEffect::WrongNumber,
                "refused" => OutcomeEffect::Refused,
                "do_not_call" => OutcomeEffect::DoNotCall,
                _ => OutcomeEffect::Completed,
            };
            let requires = row
                .requires
                .iter()
                .filter_map(|id| ids.iter().find(|(row_id, _)| row_id == id))
                .map(|(_, key)| key.clone())
                .collect();
            list.push((
                row_index,
                Outcome {
                    key,
                    label: row.label.trim().to_owned(),
                    effect,
                    counts_as_conversation: row.conversation,
                    requires,
                },
            ));
        }
        list
    }

    /// The calling hours, or `None` with the mistake recorded.
    fn calling_hours(&mut self) -> Option<CallingWindows> {
        let Ok(tz) = self.time_zone.parse::<Tz>() else {
            self.errors.hours = Some("Choose the time zone the hours are in from the list.".into());
            return None;
        };
        let mut days = [None; 7];
        for (slot, row) in days.iter_mut().zip(&self.days) {
            if !row.open {
                continue;
            }
            let read = |text: &str, which: &str| {
                parse_time(text).map_err(|_| {
                    format!(
                        "{}: the {which} time \"{}\" is not a time of day; write it as HH:MM, such as 09:30.",
                        row.label,
                        text.trim()
                    )
                })
            };
            match (read(&row.start, "opening"), read(&row.end, "closing")) {
                (Ok(start), Ok(end)) => *slot = Some(DailyWindow { start, end }),
                (Err(e), _) | (_, Err(e)) => {
                    self.errors.hours = Some(e);
                    return None;
                }
            }
        }
        match CallingWindows::new(tz, days) {
            Ok(hours) => Some(hours),
            Err(e) => {
                let mut message = e.to_string();
                if let Some(first) = message.get(..1) {
                    message = first.to_uppercase() + &message[1..];
                }
                self.errors.hours = Some(format!("{message}."));
                None
            }
        }
    }
}

fn is_blank_question(row: &QuestionRow) -> bool {
    row.label.trim().is_empty() && row.options.iter().all(|o| o.label.trim().is_empty())
}

/// The options with text, keeping stored keys and deriving new ones; keys `stored` had
/// are not reused for new options.
fn option_list(rows: &[OptionRow], stored: Option<&Question>) -> Vec<ChoiceOption> {
    let mut taken: Vec<String> = rows
        .iter()
        .map(|o| o.key.clone())
        .filter(|k| !k.is_empty())
        .chain(
            stored
                .and_then(Question::options)
                .into_iter()
                .flatten()
                .map(|o| o.key.clone()),
        )
        .collect();
    rows.iter()
        .filter(|o| !o.label.trim().is_empty())
        .map(|o| ChoiceOption {
            key: if o.key.is_empty() {
                derive_key(&o.label, "option", &mut taken)
            } else {
                o.key.clone()
            },
            label: o.label.trim().to_owned(),
        })
        .collect()
}

/// A key for a new item from its label: lower-case ASCII letters and digits joined by
/// `_`, unlike any in `taken` (which it joins), e.g. "Spoke to them" → `spoke_to_them`.
pub(super) fn derive_key(label: &str, fallback: &str, taken: &mut Vec<String>) -> String {
    let mut base = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() {
            base.push(c.to_ascii_lowercase());
        } else if !base.is_empty() && !base.ends_with('_') {
            base.push('_');
        }
        if base.len() >= DERIVED_KEY_LEN {
            break;
        }
    }
    let base = base.trim_end_matches('_');
    let base = if base.is_empty() { fallback } else { base };
    let mut key = base.to_owned();
    let mut n = 2;
    while taken.contains(&key) {
        key = format!("{base}_{n}");
        n += 1;
    }
    debug_assert!(key.len() <= limits::KEY);
    taken.push(key.clone());
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::phonebank::campaign_form::Action;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn keys_come_from_labels_and_stay_unique() {
        let mut taken = vec!["spoke_to_them".to_owned()];
        assert_eq!(
            derive_key("Spoke to them!", "outcome", &mut taken),
            "spoke_to_them_2"
        );
        assert_eq!(derive_key("  Café & bar ", "x", &mut taken), "caf_bar");
        assert_eq!(derive_key("???", "question", &mut taken), "question");
    }

    #[test]
    fn a_posted_form_becomes_a_branching_survey_with_required_answers() {
        let base = CampaignSettings::new("");
        let (mut form, action) = EditorForm::from_pairs(&pairs(&[
            ("name", "Spring drive"),
            ("script", "Hi {first_name|there}"),
            ("q-id", "new-1"),
            ("q-key", ""),
            ("q-label", "Can we count on you?"),
            ("q-kind", "single_choice"),
            ("opt-key", ""),
            ("opt-label", "Yes"),
            ("opt-key", ""),
            ("opt-label", "No"),
            ("opt-key", ""),
            ("opt-label", ""),
            ("q-show_if", ""),
            ("q-id", "new-2"),
            ("q-key", ""),
            ("q-label", "Why not?"),
            ("q-kind", "free_text"),
            ("q-max_len", "200"),
            ("q-show_if", "new-1"),
            ("q-show_if_answer", "No"),
            ("o-key", ""),
            ("o-label", "Spoke to them"),
            ("o-effect", "completed"),
            ("o-conversation", "on"),
            ("o-requires", "new-1"),
            ("o-key", ""),
            ("o-label", "Do not call"),
            ("o-effect", "do_not_call"),
            ("time_zone", "Europe/London"),
            ("day-monday-open", "on"),
            ("day-monday-start", "10:00"),
            ("day-monday-end", "20:00"),
            ("action", "save"),
        ]));
        assert_eq!(action, Action::Save);
        let settings = form.settings(&base);
        assert!(settings.is_some(), "{form:?}");
        let settings = settings.unwrap_or(base);
        let survey = &settings.survey;
        assert_eq!(survey.questions[0].key, "can_we_count_on_you");
        let condition = survey.questions[1].show_if.clone();
        assert_eq!(
            condition.map(|c| (c.question_key, c.equals_any)),
            Some(("can_we_count_on_you".to_owned(), vec!["no".to_owned()]))
        );
        let spoke = settings.outcomes.get("spoke_to_them").cloned();
        assert_eq!(
            spoke.map(|o| o.requires),
            Some(vec!["can_we_count_on_you".to_owned()])
        );
        assert!(settings.calling_hours.days()[0].is_some());
        assert!(settings.calling_hours.days()[1].is_none());
    }

    #[test]
    fn mistakes_land_on_their_question_and_outcome() {
        let base = CampaignSettings::new("");
        let (mut form, _) = EditorForm::from_pairs(&pairs(&[
            ("name", "Spring drive"),
            ("script", "Hi"),
            ("q-id", "new-1"),
            ("q-label", "Fine?"),
            ("q-kind", "free_text"),
            ("q-id", "new-2"),
            ("q-label", "Which?"),
            ("q-kind", "single_choice"),
            ("o-key", ""),
            ("o-label", "Call back"),
            ("o-effect", "retry_after"),
            ("o-cooldown", "0"),
            ("o-key", ""),
            ("o-label", "Do not call"),
            ("o-effect", "do_not_call"),
            ("time_zone", "Europe/London"),
            ("day-friday-open", "on"),
            ("day-friday-start", "9am"),
            ("day-friday-end", "20:00"),
        ]));
        assert!(form.settings(&base).is_none());
        assert!(form.questions[0].errors.is_empty());
        assert_eq!(
            form.questions[1].errors,
            ["Question 2: the option list is empty."]
        );
        assert_eq!(
            form.outcomes[0].errors,
            ["Outcome 'Call back': the cooldown must be at least one minute."]
        );
        assert_eq!(
            form.errors.hours.as_deref(),
            Some(
                "Friday: the opening time \"9am\" is not a time of day; write it as HH:MM, such as 09:30."
            )
        );
    }
}
