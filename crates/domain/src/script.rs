//! Caller scripts: the text a volunteer reads, with `{first_name}`-style placeholders.
//!
//! Owns the template syntax, parsing errors with positions, and rendering to plain text.
//! It must not escape HTML (the web layer escapes the rendered text for its page) and must
//! not know where field values come from (the contact record, imported columns).

use std::collections::BTreeMap;
use std::fmt;

/// A parsed caller script.
///
/// Syntax:
/// - `{name}` inserts the contact's field `name`. Names are matched loosely: case, spaces
///   and punctuation do not matter, so `{Polling District}` finds the imported column
///   "polling district" (see [`field_key`]).
/// - `{name|fallback}` inserts `fallback` when the contact has no value for `name`, e.g.
///   `Hi {first_name|there}`. Without a fallback a missing or blank value renders as
///   nothing, so write scripts that still read well without it.
/// - `{{` and `}}` write a literal `{` or `}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Placeholder { key: String, fallback: String },
}

/// Where in the script text a problem is, counted in characters from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextPosition {
    /// Character offset from the start of the script, 1-based.
    pub offset: usize,
    /// Line number, 1-based.
    pub line: usize,
    /// Character within the line, 1-based.
    pub column: usize,
}

impl fmt::Display for TextPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Why a script could not be parsed, with the position of the offending brace.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    /// A `{` with no matching `}`.
    #[error("unclosed '{{' at {0} (write '{{{{' for a literal brace)")]
    UnclosedBrace(TextPosition),
    /// A `}` with no `{` before it.
    #[error("unexpected '}}' at {0} (write '}}}}' for a literal brace)")]
    UnexpectedClosingBrace(TextPosition),
    /// A `{` inside a placeholder.
    #[error("'{{' inside a placeholder at {0}")]
    NestedBrace(TextPosition),
    /// `{}` or `{|x}`: a placeholder needs a field name.
    #[error("placeholder without a field name at {0}")]
    EmptyPlaceholder(TextPosition),
}

/// The canonical form of a field or column name used to match placeholders: lower case,
/// with every run of non-alphanumeric characters turned into one `_`, e.g.
/// `"Polling District"` → `"polling_district"`, `"First-Name"` → `"first_name"`.
pub fn field_key(name: &str) -> String {
    let mut key = String::with_capacity(name.len());
    let mut pending_separator = false;
    for c in name.chars() {
        if c.is_alphanumeric() {
            if pending_separator && !key.is_empty() {
                key.push('_');
            }
            pending_separator = false;
            key.extend(c.to_lowercase());
        } else {
            pending_separator = true;
        }
    }
    key
}

impl Script {
    /// Parses script text, reporting the first brace problem with its position.
    pub fn parse(text: &str) -> Result<Script, ScriptError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        let mut position = TextPosition {
            offset: 0,
            line: 1,
            column: 0,
        };
        // Advances the position past `c` and returns the position of `c` itself.
        let step = |position: &mut TextPosition, c: char| -> TextPosition {
            position.offset += 1;
            position.column += 1;
            let here = *position;
            if c == '\n' {
                position.line += 1;
                position.column = 0;
            }
            here
        };

        while let Some(c) = chars.next() {
            let here = step(&mut position, c);
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    step(&mut position, '{');
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    step(&mut position, '}');
                    literal.push('}');
                }
                '}' => return Err(ScriptError::UnexpectedClosingBrace(here)),
                '{' => {
                    let mut inner = String::new();
                    let mut closed = false;
                    for c in chars.by_ref() {
                        let inner_here = step(&mut position, c);
                        match c {
                            '}' => {
                                closed = true;
                                break;
                            }
                            '{' => return Err(ScriptError::NestedBrace(inner_here)),
                            _ => inner.push(c),
                        }
                    }
                    if !closed {
                        return Err(ScriptError::UnclosedBrace(here));
                    }
                    let (name, fallback) = inner.split_once('|').unwrap_or((&inner, ""));
                    let key = field_key(name);
                    if key.is_empty() {
                        return Err(ScriptError::EmptyPlaceholder(here));
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Placeholder {
                        key,
                        fallback: fallback.trim().to_owned(),
                    });
                }
                _ => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Script { parts })
    }

    /// The field keys the script uses, in order of first use, without repeats. The
    /// organiser UI compares these with the list's columns to warn about typos.
    pub fn placeholders(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = Vec::new();
        for part in &self.parts {
            if let Part::Placeholder { key, .. } = part
                && !keys.contains(&key.as_str())
            {
                keys.push(key);
            }
        }
        keys
    }

    /// Renders the script as plain text. `fields` is asked for each placeholder's
    /// [`field_key`]; `None` or a blank value uses the placeholder's fallback.
    ///
    /// The output is not HTML-escaped: the web layer must escape it before putting it on
    /// a page, since imported columns are untrusted.
    pub fn render(&self, fields: &dyn Fn(&str) -> Option<String>) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Placeholder { key, fallback } => match fields(key) {
                    Some(value) if !value.trim().is_empty() => out.push_str(value.trim()),
                    _ => out.push_str(fallback),
                },
            }
        }
        out
    }

    /// Renders with values from a map whose keys are field or column names in any
    /// spelling (`"First Name"`, `"first_name"`); see [`Script::render`].
    pub fn render_with_map(&self, fields: &BTreeMap<String, String>) -> String {
        let by_key: BTreeMap<String, &String> = fields
            .iter()
            .map(|(name, value)| (field_key(name), value))
            .collect();
        self.render(&|key| by_key.get(key).map(|value| (*value).clone()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn fills_names_and_imported_columns() {
        let script =
            Script::parse("Hi {first_name}, I'm calling about {Polling District} in {ward}.")
                .unwrap();
        let text = script.render_with_map(&fields(&[
            ("First Name", "Asha"),
            ("polling_district", "AB1"),
            ("Ward", "Hyde Park"),
        ]));
        assert_eq!(text, "Hi Asha, I'm calling about AB1 in Hyde Park.");
    }

    #[test]
    fn missing_values_use_the_fallback_or_nothing() {
        let script = Script::parse("Hi {first_name|there}, from {ward}!").unwrap();
        assert_eq!(script.render_with_map(&fields(&[])), "Hi there, from !");
        assert_eq!(
            script.render_with_map(&fields(&[("first_name", "   ")])),
            "Hi there, from !"
        );
        assert_eq!(
            script.render(&|key| (key == "first_name").then(|| "Sam".to_owned())),
            "Hi Sam, from !"
        );
    }

    #[test]
    fn does_not_escape_html() {
        let script = Script::parse("Hi {first_name}").unwrap();
        assert_eq!(
            script.render_with_map(&fields(&[("first_name", "<b>Jo</b>")])),
            "Hi <b>Jo</b>"
        );
    }

    #[test]
    fn double_braces_are_literal() {
        let script = Script::parse("Use {{curly}} braces, {first_name}}}").unwrap();
        assert_eq!(
            script.render_with_map(&fields(&[("first_name", "Al")])),
            "Use {curly} braces, Al}"
        );
        assert!(script.placeholders() == vec!["first_name"]);
    }

    #[test]
    fn unbalanced_braces_report_line_and_column() {
        let err = Script::parse("Hello\nHi {first_name, how are you?").unwrap_err();
        assert_eq!(
            err,
            ScriptError::UnclosedBrace(TextPosition {
                offset: 10,
                line: 2,
                column: 4
            })
        );
        assert_eq!(
            err.to_string(),
            "unclosed '{' at line 2, column 4 (write '{{' for a literal brace)"
        );
        assert_eq!(
            Script::parse("Hi first_name}").unwrap_err(),
            ScriptError::UnexpectedClosingBrace(TextPosition {
                offset: 14,
                line: 1,
                column: 14
            })
        );
        assert!(matches!(
            Script::parse("Hi {first {x}}"),
            Err(ScriptError::NestedBrace(TextPosition { column: 11, .. }))
        ));
        assert!(matches!(
            Script::parse("Hi { |there}"),
            Err(ScriptError::EmptyPlaceholder(TextPosition {
                column: 4,
                ..
            }))
        ));
    }

    #[test]
    fn lists_placeholders_once_in_order() {
        let script = Script::parse("{first_name} {Ward} {first_name} {last name|} {ward}").unwrap();
        assert_eq!(
            script.placeholders(),
            vec!["first_name", "ward", "last_name"]
        );
    }

    #[test]
    fn field_key_normalises_spellings() {
        assert_eq!(field_key("Polling District"), "polling_district");
        assert_eq!(field_key(" First-Name "), "first_name");
        assert_eq!(field_key("E-mail"), "e_mail");
        assert_eq!(field_key("--"), "");
    }
}
