//! The campaign editor's form: plain fields for the script, survey questions, outcomes and
//! calling hours (no JSON), filled from stored settings, read back in document order and
//! changed by its buttons (add, remove, move). Turning it into settings is
//! `campaign_build`'s job.

use barnstorm_domain::calling_window::format_time;
use barnstorm_domain::outcome::OutcomeEffect;
use barnstorm_domain::survey::{Condition, Question, QuestionKind};
use barnstorm_store::phonebank::CampaignSettings;

/// Question kinds as the menu offers them.
pub(super) const KINDS: [(&str, &str); 3] = [
    ("single_choice", "One answer from a list"),
    ("multiple_choice", "Any answers from a list"),
    ("free_text", "Free text"),
];

/// Outcome effects as the menu offers them.
pub(super) const EFFECTS: [(&str, &str); 6] = [
    ("completed", "Done: the call reached its aim"),
    ("retry_after", "Try again later"),
    ("callback", "Call back when they ask"),
    ("wrong_number", "Wrong number"),
    ("refused", "Refused: done, not on the do-not-call list"),
    (
        "do_not_call",
        "Do not call again: goes on the do-not-call list",
    ),
];

const DAYS: [(&str, &str); 7] = [
    ("monday", "Monday"),
    ("tuesday", "Tuesday"),
    ("wednesday", "Wednesday"),
    ("thursday", "Thursday"),
    ("friday", "Friday"),
    ("saturday", "Saturday"),
    ("sunday", "Sunday"),
];

/// The longest free-text answer a new question takes unless told otherwise.
pub(super) const DEFAULT_MAX_LEN: usize = 500;

/// One option of a choice question.
#[derive(Debug, Clone, Default)]
pub(super) struct OptionRow {
    /// The stored key, empty for a new option.
    pub key: String,
    pub label: String,
}

/// One survey question.
#[derive(Debug, Clone, Default)]
pub(super) struct QuestionRow {
    /// Names the row in the form: the stored key, or `new-N` for a new question.
    pub id: String,
    /// The stored key, empty for a new question.
    pub key: String,
    pub label: String,
    pub kind: String,
    pub required: bool,
    pub max_len: String,
    pub options: Vec<OptionRow>,
    /// The id of the earlier question this one depends on, empty for always shown.
    pub show_if: String,
    /// The labels of that question's answers that show this one.
    pub show_if_answers: Vec<String>,
    pub errors: Vec<String>,
}

/// One outcome button.
#[derive(Debug, Clone, Default)]
pub(super) struct OutcomeRow {
    /// The stored key, empty for a new outcome.
    pub key: String,
    pub label: String,
    pub effect: String,
    /// Minutes before trying again, for "try again later".
    pub cooldown: String,
    pub conversation: bool,
    /// Ids of the questions it requires.
    pub requires: Vec<String>,
    pub errors: Vec<String>,
}

impl OutcomeRow {
    /// A new outcome as the editor offers it: a conversation that completes the call.
    pub(super) fn new_blank() -> Self {
        OutcomeRow {
            effect: "completed".into(),
            cooldown: "60".into(),
            conversation: true,
            ..OutcomeRow::default()
        }
    }
}

/// One weekday of the calling hours.
#[derive(Debug, Clone)]
pub(super) struct DayRow {
    pub day: &'static str,
    pub label: &'static str,
    pub open: bool,
    pub start: String,
    pub end: String,
}

/// Mistakes that belong to a field rather than to one question or outcome.
#[derive(Debug, Clone, Default)]
pub(super) struct FieldErrors {
    pub name: Option<String>,
    pub briefing: Option<String>,
    pub script: Option<String>,
    pub outcomes: Option<String>,
    pub hours: Option<String>,
    pub caller_id: Option<String>,
    /// No way to call was chosen.
    pub ways: Option<String>,
}

/// Everything the editor shows, as typed.
#[derive(Debug, Clone)]
pub(super) struct EditorForm {
    pub name: String,
    pub briefing: String,
    pub script: String,
    pub leaderboard: bool,
    pub questions: Vec<QuestionRow>,
    pub outcomes: Vec<OutcomeRow>,
    pub time_zone: String,
    pub days: Vec<DayRow>,
    /// How callers call: the caller ID as typed and the ways offered. `calling_posted`
    /// says the form carried that fieldset (its hidden marker), so unticked boxes mean
    /// "off" rather than "not sent".
    pub calling_posted: bool,
    pub caller_id: String,
    pub call_me: bool,
    pub dial_in: bool,
    pub tel_links: bool,
    pub errors: FieldErrors,
}

/// What a button of the form asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Action {
    Save,
    Preview,
    AddQuestion,
    RemoveQuestion(String),
    MoveUp(String),
    MoveDown(String),
    AddOption(String),
    AddOutcome,
    RemoveOutcome(usize),
}

impl Action {
    fn parse(value: &str) -> Action {
        let (verb, target) = value.split_once(':').unwrap_or((value, ""));
        let target = target.to_owned();
        match verb {
            "preview" => Action::Preview,
            "add-question" => Action::AddQuestion,
            "remove-question" => Action::RemoveQuestion(target),
            "up" => Action::MoveUp(target),
            "down" => Action::MoveDown(target),
            "add-option" => Action::AddOption(target),
            "add-outcome" => Action::AddOutcome,
            "remove-outcome" => target
                .parse()
                .map_or(Action::Preview, Action::RemoveOutcome),
            _ => Action::Save,
        }
    }
}

fn effect_name(effect: OutcomeEffect) -> &'static str {
    match effect {
        OutcomeEffect::Completed => "completed",
        OutcomeEffect::RetryAfter { .. } => "retry_after",
        OutcomeEffect::Callback => "callback",
        OutcomeEffect::WrongNumber => "wrong_number",
        OutcomeEffect::Refused => "refused",
        OutcomeEffect::DoNotCall => "do_not_call",
    }
}

impl EditorForm {
    /// The form for `settings` as stored.
    pub(super) fn from_settings(settings: &CampaignSettings) -> EditorForm {
        let questions = settings
            .survey
            .questions
            .iter()
            .map(|q| {
                let (kind, options, max_len) = match &q.kind {
                    QuestionKind::SingleChoice { options } => ("single_choice", options.clone(), 0),
                    QuestionKind::MultipleChoice { options } => {
                        ("multiple_choice", options.clone(), 0)
                    }
                    QuestionKind::FreeText { max_len } => ("free_text", Vec::new(), *max_len),
                };
                let condition_labels = |condition: &Condition| -> Vec<String> {
                    let asked = settings
                        .survey
                        .questions
                        .iter()
                        .find(|earlier| earlier.key == condition.question_key);
                    condition
                        .equals_any
                        .iter()
                        .map(|key| {
                            asked
                                .and_then(Question::options)
                                .and_then(|options| options.iter().find(|o| &o.key == key))
                                .map_or_else(|| key.clone(), |o| o.label.clone())
                        })
                        .collect()
                };
                QuestionRow {
                    id: q.key.clone(),
                    key: q.key.clone(),
                    label: q.label.clone(),
                    kind: kind.to_owned(),
                    required: q.required,
                    max_len: if kind == "free_text" {
                        max_len.to_string()
                    } else {
                        String::new()
                    },
                    options: options
                        .into_iter()
                        .map(|o| OptionRow {
                            key: o.key,
                            label: o.label,
                        })
                        .collect(),
                    show_if: q
                        .show_if
                        .as_ref()
                        .map(|c| c.question_key.clone())
                        .unwrap_or_default(),
                    show_if_answers: q.show_if.as_ref().map(condition_labels).unwrap_or_default(),
                    errors: Vec::new(),
                }
            })
            .collect();
        let outcomes = settings
            .outcomes
            .iter()
            .map(|o| OutcomeRow {
                key: o.key.clone(),
                label: o.label.clone(),
                effect: effect_name(o.effect).to_owned(),
                cooldown: match o.effect {
                    OutcomeEffect::RetryAfter { cooldown_minutes } => cooldown_minutes.to_string(),
                    _ => String::new(),
                },
                conversation: o.counts_as_conversation,
                requires: o.requires.clone(),
                errors: Vec::new(),
            })
            .collect();
        let hours = &settings.calling_hours;
        let days = DAYS
            .iter()
            .zip(hours.days())
            .map(|(&(day, label), window)| DayRow {
                day,
                label,
                open: window.is_some(),
                start: window.map_or_else(|| "10:00".to_owned(), |w| format_time(w.start)),
                end: window.map_or_else(|| "20:00".to_owned(), |w| format_time(w.end)),
            })
            .collect();
        EditorForm {
            name: settings.name.clone(),
            briefing: settings.briefing.clone(),
            script: settings.script.clone(),
            leaderboard: settings.leaderboard,
            questions,
            outcomes,
            time_zone: hours.time_zone().name().to_owned(),
            days,
            calling_posted: true,
            caller_id: settings.bridging.caller_id.clone().unwrap_or_default(),
            call_me: settings.bridging.call_me,
            dial_in: settings.bridging.dial_in,
            tel_links: settings.bridging.tel_links,
            errors: FieldErrors::default(),
        }
    }

    /// The form as posted (fields in document order, so each question's fields follow
    /// its `q-id` and each option's its `opt-key`), and the button pressed.
    pub(super) fn from_pairs(pairs: &[(String, String)]) -> (EditorForm, Action) {
        let mut form = EditorForm {
            name: String::new(),
            briefing: String::new(),
            script: String::new(),
            leaderboard: false,
            questions: Vec::new(),
            outcomes: Vec::new(),
            time_zone: String::new(),
            days: DAYS
                .iter()
                .map(|&(day, label)| DayRow {
                    day,
                    label,
                    open: false,
                    start: String::new(),
                    end: String::new(),
                })
                .collect(),
            calling_posted: false,
            caller_id: String::new(),
            call_me: false,
            dial_in: false,
            tel_links: false,
            errors: FieldErrors::default(),
        };
        let mut action = Action::Save;
        for (name, value) in pairs {
            let question = form.questions.last_mut();
            let outcome = form.outcomes.last_mut();
            match (name.as_str(), question, outcome) {
                ("name", ..) => form.name.clone_from(value),
                ("briefing", ..) => form.briefing.clone_from(value),
                ("script", ..) => form.script.clone_from(value),
                ("leaderboard", ..) => form.leaderboard = true,
                ("calling", ..) => form.calling_posted = true,
                ("caller_id", ..) => form.caller_id.clone_from(value),
                ("call_me", ..) => form.call_me = true,
                ("dial_in", ..) => form.dial_in = true,
                ("tel_links", ..) => form.tel_links = true,
                ("time_zone", ..) => form.time_zone.clone_from(value),
                ("action", ..) => action = Action::parse(value),
                ("q-id", ..) => form.questions.push(QuestionRow {
                    id: value.clone(),
                    ..QuestionRow::default()
                }),
                ("q-key", Some(q), _) => q.key.clone_from(value),
                ("q-label", Some(q), _) => q.label.clone_from(value),
                ("q-kind", Some(q), _) => q.kind.clone_from(value),
                ("q-required", Some(q), _) => q.required = true,
                ("q-max_len", Some(q), _) => q.max_len.clone_from(value),
                ("opt-key", Some(q), _) => q.options.push(OptionRow {
                    key: value.clone(),
                    label: String::new(),
                }),
                ("opt-label", Some(q), _) => {
                    if let Some(option) = q.options.last_mut() {
                        option.label.clone_from(value);
                    }
                }
                ("q-show_if", Some(q), _) => q.show_if.clone_from(value),
                ("q-show_if_answer", Some(q), _) => q.show_if_answers.push(value.clone()),
                ("o-key", ..) => form.outcomes.push(OutcomeRow {
                    key: value.clone(),
                    ..OutcomeRow::default()
                }),
                ("o-label", _, Some(o)) => o.label.clone_from(value),
                ("o-effect", _, Some(o)) => o.effect.clone_from(value),
                ("o-cooldown", _, Some(o)) => o.cooldown.clone_from(value),
                ("o-conversation", _, Some(o)) => o.conversation = true,
                ("o-requires", _, Some(o)) => o.requires.push(value.clone()),
                (other, ..) => form.read_day_field(other, value),
            }
        }
        (form, action)
    }

    fn read_day_field(&mut self, name: &str, value: &str) {
        let Some(rest) = name.strip_prefix("day-") else {
            return;
        };
        let Some((day, field)) = rest.split_once('-') else {
            return;
        };
        if let Some(row) = self.days.iter_mut().find(|d| d.day == day) {
            match field {
                "open" => row.open = true,
                "start" => value.clone_into(&mut row.start),
                "end" => value.clone_into(&mut row.end),
                _ => {}
            }
        }
    }

    /// A fresh row id, `new-N`, that no row uses.
    fn new_id(&self) -> String {
        let next = self
            .questions
            .iter()
            .filter_map(|q| q.id.strip_prefix("new-")?.parse::<u64>().ok())
            .max()
            .unwrap_or(0)
            + 1;
        format!("new-{next}")
    }

    /// Does what a button other than "save" asks.
    pub(super) fn apply(&mut self, action: &Action) {
        let position =
            |id: &str, questions: &[QuestionRow]| questions.iter().position(|q| q.id == id);
        match action {
            Action::Save | Action::Preview => {}
            Action::AddQuestion => {
                let id = self.new_id();
                self.questions.push(QuestionRow {
                    id,
                    kind: "single_choice".into(),
                    max_len: DEFAULT_MAX_LEN.to_string(),
                    ..QuestionRow::default()
                });
            }
            Action::RemoveQuestion(id) => self.questions.retain(|q| &q.id != id),
            Action::MoveUp(id) => {
                if let Some(at) = position(id, &self.questions).filter(|at| *at > 0) {
                    self.questions.swap(at, at - 1);
                }
            }
            Action::MoveDown(id) => {
                if let Some(at) =
                    position(id, &self.questions).filter(|at| at + 1 < self.questions.len())
                {
                    self.questions.swap(at, at + 1);
                }
            }
            Action::AddOption(id) => {
                if let Some(at) = position(id, &self.questions) {
                    self.questions[at].options.push(OptionRow::default());
                }
            }
            Action::AddOutcome => self.outcomes.push(OutcomeRow::new_blank()),
            Action::RemoveOutcome(at) => {
                if *at < self.outcomes.len() {
                    self.outcomes.remove(*at);
                }
            }
        }
    }

    /// Gives every choice question one blank option row to type a new option into.
    pub(super) fn with_blank_options(&mut self) {
        for question in &mut self.questions {
            if question.kind != "free_text"
                && question
                    .options
                    .last()
                    .is_none_or(|o| !o.label.trim().is_empty())
            {
                question.options.push(OptionRow::default());
            }
        }
    }

    /// Whether any mistake was found.
    pub(super) fn has_errors(&self) -> bool {
        let e = &self.errors;
        e.name.is_some()
            || e.briefing.is_some()
            || e.script.is_some()
            || e.outcomes.is_some()
            || e.hours.is_some()
            || e.caller_id.is_some()
            || e.ways.is_some()
            || self.questions.iter().any(|q| !q.errors.is_empty())
            || self.outcomes.iter().any(|o| !o.errors.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buttons_add_move_and_remove_rows() {
        let mut form = EditorForm::from_settings(&CampaignSettings::new("x"));
        form.apply(&Action::AddQuestion);
        form.apply(&Action::AddQuestion);
        assert_eq!(form.questions.len(), 2);
        assert_eq!(form.questions[1].id, "new-2");
        form.apply(&Action::MoveUp("new-2".into()));
        assert_eq!(form.questions[0].id, "new-2");
        form.apply(&Action::AddOption("new-2".into()));
        assert_eq!(form.questions[0].options.len(), 1);
        form.apply(&Action::RemoveQuestion("new-2".into()));
        assert_eq!(form.questions.len(), 1);
        let outcomes = form.outcomes.len();
        form.apply(&Action::RemoveOutcome(0));
        assert_eq!(form.outcomes.len(), outcomes - 1);
    }
}
