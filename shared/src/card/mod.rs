//! The gate card: the access-request form an owner describes in the YAML front matter of a
//! repo's README (hf-wire §11.4), and the validation of the answers a requester submits.
//!
//! This is the one card parser; every caller goes through the same steps:
//!
//! 1. [`front_matter`] cuts the YAML out of the README;
//! 2. [`parse_front_matter`] checks the limits, then turns it into `cardData` (a JSON object,
//!    in the README's key order);
//! 3. [`GateCard::from_card_data`] reads the `extra_gated_*` keys into a [`GateCard`]
//!    ([`GateCard::parse_readme`] does 1–3 at once);
//! 4. [`GateCard::validate`] checks a submission against the card's fields and yields the
//!    [`Answers`](crate::domain::Answers) to store.

mod answers;
mod countries;
mod error;
mod gate;
mod markdown;
mod yaml;

pub use answers::{AnswerErrors, FieldError};
pub use countries::countries;
pub use error::{CardError, FieldProblem, TextProblem};
pub use gate::{
    Field, FieldKind, GateCard, SelectOption, default_button_content, eu_disallowed_in,
};
pub use markdown::{
    MAX_PROMPT_HTML_BYTES, MAX_README_HTML_BYTES, PromptTooLarge, render_readme,
};
pub use yaml::{front_matter, parse_front_matter, readme_body};

use serde_json::Value;

/// Largest accepted front matter, in bytes, checked before any parsing.
pub const MAX_FRONT_MATTER_BYTES: usize = 64 * 1024;
/// Deepest accepted nesting of lists and mappings in the front matter.
pub const MAX_NESTING: usize = 64;
/// Most fields a card may declare, and most answers a submission may carry.
pub const MAX_FIELDS: usize = 64;
/// Longest field label, select option label or option value, in characters.
pub const MAX_LABEL_CHARS: usize = 200;
/// Most options a select field may offer.
pub const MAX_OPTIONS: usize = 500;
/// Longest text answer, in characters (after trimming).
pub const MAX_TEXT_ANSWER_CHARS: usize = 1000;

/// At most this many characters of any input are quoted back in an error message.
const MAX_ECHO_CHARS: usize = 100;

/// The start of `text`, cut to [`MAX_ECHO_CHARS`] characters so that an error message never
/// carries a huge input back.
fn excerpt(text: &str) -> String {
    match text.char_indices().nth(MAX_ECHO_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// What kind of JSON value this is, worded for an error message.
fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "empty",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Labels, option values and text answers are single-line: no C0/C1 control characters
/// (line breaks, tabs, NUL…) and no Unicode line or paragraph separators.
fn has_line_breaking_or_control_char(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
}
