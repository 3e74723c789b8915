//! Checking a submitted form against the card.

use std::fmt;

use serde_json::{Map, Value};
use time::{Date, Month};

use super::{
    FieldKind, GateCard, MAX_FIELDS, MAX_TEXT_ANSWER_CHARS, countries, excerpt,
    has_line_breaking_or_control_char,
};
use crate::domain::Answers;

/// One refused answer, to show next to its field. `label` is the field's label, cut short for
/// an unknown field, and empty for a problem with the submission as a whole. `message` reads
/// as the rest of a sentence that starts with the label ("is required").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub label: String,
    pub message: String,
}

/// Every refused answer of one submission, in the card's order, then unknown fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnswerErrors {
    pub fields: Vec<FieldError>,
}

/// One sentence listing every error, for `X-Error-Message`.
impl fmt::Display for AnswerErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Invalid answers: ")?;
        for (i, error) in self.fields.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            if error.label.is_empty() {
                f.write_str(&error.message)?;
            } else {
                write!(f, "{:?} {}", error.label, error.message)?;
            }
        }
        f.write_str(".")
    }
}

impl std::error::Error for AnswerErrors {}

/// Why one answer was refused. The messages never quote the answer itself.
#[derive(Debug, thiserror::Error)]
enum Invalid {
    #[error("is required")]
    Missing,
    #[error("must be a string")]
    NotAString,
    #[error("must be at most {max} characters long", max = MAX_TEXT_ANSWER_CHARS)]
    TooLong,
    #[error("must be a single line without control characters")]
    ControlCharacter,
    #[error("must be checked")]
    Unchecked,
    #[error("must be a date written YYYY-MM-DD")]
    DateFormat,
    #[error("is not a real calendar date")]
    NoSuchDate,
    #[error("must be a two-letter ISO 3166-1 country code, such as FR")]
    UnknownCountry,
    #[error("must be one of the field's options")]
    NotAnOption,
}

impl GateCard {
    /// Checks a submission against the card. Every field is required, and answers for labels
    /// the card does not have are refused. String answers are trimmed; country codes are
    /// accepted in either case and stored in upper case; checkboxes accept `true`, `"true"`
    /// and `"on"` (what browsers send) and are stored as `true`.
    pub fn validate(&self, submitted: &Map<String, Value>) -> Result<Answers, AnswerErrors> {
        // Checked first so a huge submission costs nothing more and is not echoed field by field.
        if submitted.len() > MAX_FIELDS {
            return Err(AnswerErrors {
                fields: vec![FieldError {
                    label: String::new(),
                    message: format!(
                        "{} answers were sent, but a form has at most {MAX_FIELDS} fields",
                        submitted.len()
                    ),
                }],
            });
        }
        let mut answers = Vec::with_capacity(self.fields.len());
        let mut refused = Vec::new();
        for field in &self.fields {
            let answer = submitted
                .get(&field.label)
                .filter(|answer| !answer.is_null());
            match check(&field.kind, answer) {
                Ok(answer) => answers.push((field.label.clone(), answer)),
                Err(invalid) => refused.push(FieldError {
                    label: field.label.clone(),
                    message: invalid.to_string(),
                }),
            }
        }
        let unknown = submitted
            .keys()
            .filter(|label| !self.fields.iter().any(|field| &field.label == *label));
        refused.extend(unknown.map(|label| FieldError {
            label: excerpt(label),
            message: "is not a field of this form".to_owned(),
        }));
        if refused.is_empty() {
            Ok(Answers(answers))
        } else {
            Err(AnswerErrors { fields: refused })
        }
    }
}

fn check(kind: &FieldKind, answer: Option<&Value>) -> Result<Value, Invalid> {
    let accepted = match kind {
        FieldKind::Checkbox => return checkbox_answer(answer),
        FieldKind::Text => text_answer(required_string(answer)?)?,
        FieldKind::Date => date_answer(required_string(answer)?)?,
        FieldKind::Country => {
            countries::alpha2(required_string(answer)?).ok_or(Invalid::UnknownCountry)?
        }
        FieldKind::Select { options } => {
            let text = required_string(answer)?;
            options
                .iter()
                .find(|option| option.value == text)
                .map(|option| option.value.as_str())
                .ok_or(Invalid::NotAnOption)?
        }
    };
    Ok(Value::String(accepted.to_owned()))
}

/// Browsers leave an unchecked box out of the form entirely, and send a checked one as "on".
fn checkbox_answer(answer: Option<&Value>) -> Result<Value, Invalid> {
    match answer {
        Some(Value::Bool(true)) => Ok(Value::Bool(true)),
        Some(Value::String(s)) if s == "true" || s == "on" => Ok(Value::Bool(true)),
        _ => Err(Invalid::Unchecked),
    }
}

/// The trimmed, non-empty string answer.
fn required_string(answer: Option<&Value>) -> Result<&str, Invalid> {
    match answer {
        None => Err(Invalid::Missing),
        Some(Value::String(text)) if text.trim().is_empty() => Err(Invalid::Missing),
        Some(Value::String(text)) => Ok(text.trim()),
        Some(_) => Err(Invalid::NotAString),
    }
}

fn text_answer(text: &str) -> Result<&str, Invalid> {
    if text.chars().count() > MAX_TEXT_ANSWER_CHARS {
        Err(Invalid::TooLong)
    } else if has_line_breaking_or_control_char(text) {
        Err(Invalid::ControlCharacter)
    } else {
        Ok(text)
    }
}

/// Exactly `YYYY-MM-DD`, and a day that exists (no 2023-02-29).
fn date_answer(text: &str) -> Result<&str, Invalid> {
    let bytes = text.as_bytes();
    let well_formed = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !well_formed {
        return Err(Invalid::DateFormat);
    }
    let parsed = (
        text[0..4].parse::<i32>(),
        text[5..7].parse::<u8>(),
        text[8..10].parse::<u8>(),
    );
    let date = match parsed {
        (Ok(year), Ok(month), Ok(day)) => Month::try_from(month)
            .ok()
            .and_then(|month| Date::from_calendar_date(year, month, day).ok()),
        _ => None,
    };
    date.map(|_| text).ok_or(Invalid::NoSuchDate)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::card::gate::tests::example_card;

    fn submit(answers: Value) -> Result<Answers, AnswerErrors> {
        let Value::Object(answers) = answers else {
            panic!("answers must be an object")
        };
        example_card().validate(&answers)
    }

    fn good() -> Value {
        json!({
            "Company": "Acme Research",
            "Country": "FR",
            "Date of birth": "1990-02-28",
            "Intended use": "other",
            "I accept the license": true,
        })
    }

    /// The good submission with one answer replaced (or removed, for `None`).
    fn with(label: &str, answer: Option<Value>) -> Value {
        let mut answers = good();
        let object = answers.as_object_mut().unwrap();
        match answer {
            Some(answer) => object.insert(label.to_owned(), answer),
            None => object.remove(label),
        };
        answers
    }

    /// The single error of a submission that differs from the good one in `label` only.
    fn message(label: &str, answer: Option<Value>) -> String {
        let errors = submit(with(label, answer)).unwrap_err();
        assert_eq!(errors.fields.len(), 1, "{errors}");
        assert_eq!(errors.fields[0].label, label);
        errors.fields[0].message.clone()
    }

    fn accepted(label: &str, answer: Value) -> Value {
        let answers = submit(with(label, Some(answer))).unwrap();
        answers.get(label).unwrap().clone()
    }

    #[test]
    fn a_good_submission_is_stored_in_card_order() {
        let submitted = json!({
            "I accept the license": "on",
            "Intended use": "Research",
            "Date of birth": "2000-02-29",
            "Country": "fr",
            "Company": "  Acme  ",
        });
        assert_eq!(
            submit(submitted).unwrap(),
            Answers(vec![
                ("Company".into(), json!("Acme")),
                ("Country".into(), json!("FR")),
                ("Date of birth".into(), json!("2000-02-29")),
                ("Intended use".into(), json!("Research")),
                ("I accept the license".into(), json!(true)),
            ])
        );
    }

    #[test]
    fn a_card_without_fields_takes_an_empty_submission() {
        assert_eq!(
            GateCard::default().validate(&Map::new()),
            Ok(Answers::default())
        );
    }

    #[test]
    fn every_field_is_required() {
        let errors = submit(json!({})).unwrap_err();
        let labels: Vec<_> = errors
            .fields
            .iter()
            .map(|error| error.label.as_str())
            .collect();
        assert_eq!(
            labels,
            [
                "Company",
                "Country",
                "Date of birth",
                "Intended use",
                "I accept the license"
            ]
        );
        assert_eq!(errors.fields[0].message, "is required");
        assert_eq!(errors.fields[4].message, "must be checked");
    }

    #[test]
    fn null_and_blank_answers_count_as_missing() {
        assert_eq!(message("Company", Some(Value::Null)), "is required");
        assert_eq!(message("Company", Some(json!(" \t "))), "is required");
        assert_eq!(message("Country", Some(json!(""))), "is required");
        assert_eq!(message("Intended use", None), "is required");
    }

    #[test]
    fn a_checkbox_left_unchecked_is_refused() {
        for answer in [
            None,
            Some(json!(false)),
            Some(json!("false")),
            Some(json!("off")),
            Some(json!(1)),
            Some(Value::Null),
        ] {
            assert_eq!(message("I accept the license", answer), "must be checked");
        }
    }

    #[test]
    fn a_checked_checkbox_is_true_whichever_way_it_was_sent() {
        for answer in [json!(true), json!("true"), json!("on")] {
            assert_eq!(accepted("I accept the license", answer), json!(true));
        }
    }

    #[test]
    fn a_text_answer_of_1000_characters_is_accepted_and_1001_refused() {
        let longest = "é".repeat(MAX_TEXT_ANSWER_CHARS);
        assert_eq!(accepted("Company", json!(longest)), json!(longest));
        let too_long = "é".repeat(MAX_TEXT_ANSWER_CHARS + 1);
        assert_eq!(
            message("Company", Some(json!(too_long))),
            "must be at most 1000 characters long"
        );
    }

    #[test]
    fn text_answers_with_line_breaks_or_control_characters_are_refused() {
        for text in [
            "Ac\nme",
            "Ac\rme",
            "Ac\0me",
            "Ac\tme",
            "Ac\u{7f}me",
            "Ac\u{85}me",
            "Ac\u{2028}me",
        ] {
            assert_eq!(
                message("Company", Some(json!(text))),
                "must be a single line without control characters",
                "{text:?}"
            );
        }
    }

    #[test]
    fn surrounding_line_breaks_are_trimmed_away() {
        assert_eq!(accepted("Company", json!("\r\nAcme\n")), json!("Acme"));
    }

    #[test]
    fn non_string_answers_are_refused_where_a_string_is_expected() {
        assert_eq!(message("Company", Some(json!(42))), "must be a string");
        assert_eq!(message("Country", Some(json!(true))), "must be a string");
        assert_eq!(
            message("Date of birth", Some(json!(["1990-01-01"]))),
            "must be a string"
        );
        assert_eq!(
            message("Intended use", Some(json!({"value": "other"}))),
            "must be a string"
        );
    }

    #[test]
    fn leap_days_exist_only_in_leap_years() {
        assert_eq!(
            accepted("Date of birth", json!("2024-02-29")),
            json!("2024-02-29")
        );
        assert_eq!(
            accepted("Date of birth", json!("2000-02-29")),
            json!("2000-02-29")
        );
        for date in ["2023-02-29", "1900-02-29"] {
            assert_eq!(
                message("Date of birth", Some(json!(date))),
                "is not a real calendar date"
            );
        }
    }

    #[test]
    fn impossible_dates_are_refused() {
        for date in [
            "2023-13-01",
            "2023-00-10",
            "2023-04-31",
            "2023-01-00",
            "2023-01-32",
        ] {
            assert_eq!(
                message("Date of birth", Some(json!(date))),
                "is not a real calendar date",
                "{date}"
            );
        }
    }

    #[test]
    fn dates_must_be_written_yyyy_mm_dd() {
        for date in [
            "2023-2-01",
            "2023/02/01",
            "20230201",
            "+2023-02-01",
            "2023-02-01T00:00:00Z",
            "01-02-2023",
            "２０２３-02-01",
            "2023-02-0a",
            "tomorrow",
        ] {
            assert_eq!(
                message("Date of birth", Some(json!(date))),
                "must be a date written YYYY-MM-DD",
                "{date}"
            );
        }
    }

    #[test]
    fn a_country_must_be_an_official_alpha_2_code() {
        assert_eq!(accepted("Country", json!("AX")), json!("AX"));
        assert_eq!(accepted("Country", json!("de")), json!("DE"));
        for country in ["XK", "UK", "EU", "France", "FRA", "F"] {
            assert_eq!(
                message("Country", Some(json!(country))),
                "must be a two-letter ISO 3166-1 country code, such as FR",
                "{country}"
            );
        }
    }

    #[test]
    fn a_select_answer_must_be_one_of_its_option_values() {
        assert_eq!(
            accepted("Intended use", json!("Education")),
            json!("Education")
        );
        assert_eq!(accepted("Intended use", json!("other")), json!("other"));
        for answer in ["Other", "research", "Anything"] {
            assert_eq!(
                message("Intended use", Some(json!(answer))),
                "must be one of the field's options",
                "{answer}"
            );
        }
    }

    #[test]
    fn an_unknown_answer_key_is_refused() {
        let errors = submit(with("Favourite colour", Some(json!("blue")))).unwrap_err();
        assert_eq!(
            errors.fields,
            [FieldError {
                label: "Favourite colour".into(),
                message: "is not a field of this form".into(),
            }]
        );
    }

    #[test]
    fn a_huge_unknown_label_is_not_echoed_back() {
        let label = "x".repeat(10_000);
        let errors = submit(with(&label, Some(json!("y")))).unwrap_err();
        assert_eq!(errors.fields.len(), 1);
        assert!(errors.fields[0].label.chars().count() <= 101);
        assert!(errors.to_string().len() < 300, "{errors}");
    }

    #[test]
    fn more_than_64_answers_are_refused_at_once() {
        let mut answers = good();
        let object = answers.as_object_mut().unwrap();
        for i in 0..MAX_FIELDS {
            object.insert(format!("extra {i}"), json!("x"));
        }
        let errors = submit(answers).unwrap_err();
        assert_eq!(
            errors.fields,
            [FieldError {
                label: String::new(),
                message: "69 answers were sent, but a form has at most 64 fields".into(),
            }]
        );
    }

    #[test]
    fn the_message_is_one_sentence_listing_every_error() {
        let submitted = json!({"Company": "", "Country": "ZZ", "Date of birth": "1990-02-28",
            "Intended use": "other", "Shoe size": "44"});
        assert_eq!(
            submit(submitted).unwrap_err().to_string(),
            "Invalid answers: \"Company\" is required; \"Country\" must be a two-letter ISO \
             3166-1 country code, such as FR; \"I accept the license\" must be checked; \
             \"Shoe size\" is not a field of this form."
        );
    }
}
