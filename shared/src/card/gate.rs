//! The gate card read from `cardData`'s `extra_gated_*` keys (hf-wire §11.4).

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{
    CardError, FieldProblem, MAX_FIELDS, MAX_LABEL_CHARS, MAX_OPTIONS, TextProblem, excerpt,
    front_matter, has_line_breaking_or_control_char, kind_of, parse_front_matter,
};

/// The submit button's text when the card does not set `extra_gated_button_content`.
pub fn default_button_content() -> &'static str {
    "Agree and send request to access repo"
}

/// The request form of a gated repo. Text settings that are absent, `null` or blank are
/// `None`, so the page falls back to its defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GateCard {
    /// `extra_gated_heading`
    pub heading: Option<String>,
    /// `extra_gated_description`
    pub description: Option<String>,
    /// `extra_gated_prompt` (Markdown)
    pub prompt: Option<String>,
    /// `extra_gated_button_content`
    pub button_content: Option<String>,
    /// `extra_gated_eu_disallowed`
    pub eu_disallowed: bool,
    /// `extra_gated_fields`, in the README's order.
    pub fields: Vec<Field>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// Shown on the form, and the key of the answer.
    pub label: String,
    pub kind: FieldKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// Single-line text.
    Text,
    /// Must be checked, typically "I accept the license".
    Checkbox,
    /// `date_picker`: a calendar date, `YYYY-MM-DD`.
    Date,
    /// An ISO 3166-1 alpha-2 code; see [`countries`](super::countries).
    Country,
    /// One of a fixed list of options.
    Select { options: Vec<SelectOption> },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectOption {
    /// Shown on the form.
    pub label: String,
    /// Submitted and stored.
    pub value: String,
}

impl FieldKind {
    /// The type as written in `extra_gated_fields`.
    pub fn type_name(&self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Checkbox => "checkbox",
            FieldKind::Date => "date_picker",
            FieldKind::Country => "country",
            FieldKind::Select { .. } => "select",
        }
    }
}

impl GateCard {
    /// Reads every `extra_gated_*` key of `cardData`; any other key is none of the card's
    /// business. An unknown `extra_gated_*` key is an error rather than silently ignored, so
    /// an owner's typo does not quietly drop part of the form.
    pub fn from_card_data(card_data: &Value) -> Result<GateCard, CardError> {
        let Value::Object(data) = card_data else {
            return Err(CardError::NotAMapping(kind_of(card_data)));
        };
        let mut card = GateCard::default();
        for (key, value) in data
            .iter()
            .filter(|(key, _)| key.starts_with("extra_gated_"))
        {
            match key.as_str() {
                "extra_gated_heading" => card.heading = text_setting("extra_gated_heading", value)?,
                "extra_gated_description" => {
                    card.description = text_setting("extra_gated_description", value)?;
                }
                "extra_gated_prompt" => card.prompt = text_setting("extra_gated_prompt", value)?,
                "extra_gated_button_content" => {
                    card.button_content = text_setting("extra_gated_button_content", value)?;
                }
                "extra_gated_eu_disallowed" => card.eu_disallowed = eu_disallowed(value)?,
                "extra_gated_fields" => card.fields = fields(value)?,
                _ => return Err(CardError::UnknownGateKey(excerpt(key))),
            }
        }
        Ok(card)
    }

    /// The card of a README: `None` when it has no front matter; a card without fields when
    /// the front matter has no gating keys.
    pub fn parse_readme(readme: &str) -> Result<Option<GateCard>, CardError> {
        front_matter(readme)
            .map(|yaml| GateCard::from_card_data(&parse_front_matter(yaml)?))
            .transpose()
    }

    /// The submit button's text.
    pub fn button_text(&self) -> &str {
        self.button_content
            .as_deref()
            .unwrap_or(default_button_content())
    }
}

fn text_setting(key: &'static str, value: &Value) -> Result<Option<String>, CardError> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) if text.trim().is_empty() => Ok(None),
        Value::String(text) => Ok(Some(text.clone())),
        other => Err(CardError::WrongType {
            key,
            expected: "a string",
            found: kind_of(other),
        }),
    }
}

/// Only the card's `extra_gated_eu_disallowed`, for the gate decision, which needs nothing
/// else of it: a card whose form is broken still keeps the EU out if it says so.
pub fn eu_disallowed_in(front_matter: &str) -> Result<bool, CardError> {
    parse_front_matter(front_matter)?
        .get("extra_gated_eu_disallowed")
        .map_or(Ok(false), eu_disallowed)
}

fn eu_disallowed(value: &Value) -> Result<bool, CardError> {
    match value {
        Value::Null => Ok(false),
        Value::Bool(b) => Ok(*b),
        other => Err(CardError::WrongType {
            key: "extra_gated_eu_disallowed",
            expected: "true or false",
            found: kind_of(other),
        }),
    }
}

fn fields(value: &Value) -> Result<Vec<Field>, CardError> {
    let fields = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Object(fields) => fields,
        other => {
            return Err(CardError::WrongType {
                key: "extra_gated_fields",
                expected: "a mapping from field label to field type",
                found: kind_of(other),
            });
        }
    };
    if fields.len() > MAX_FIELDS {
        return Err(CardError::TooManyFields {
            count: fields.len(),
        });
    }
    fields
        .iter()
        .map(|(label, definition)| {
            field(label, definition).map_err(|problem| CardError::Field {
                label: excerpt(label),
                problem,
            })
        })
        .collect()
}

fn field(label: &str, definition: &Value) -> Result<Field, FieldProblem> {
    check_text(label).map_err(FieldProblem::Label)?;
    let (type_name, options) = match definition {
        Value::String(type_name) => (type_name, None),
        Value::Object(object) => {
            if let Some(key) = object
                .keys()
                .find(|key| !matches!(key.as_str(), "type" | "options"))
            {
                return Err(FieldProblem::UnknownKey(excerpt(key)));
            }
            let type_name = match object.get("type") {
                None | Some(Value::Null) => return Err(FieldProblem::MissingType),
                Some(Value::String(type_name)) => type_name,
                Some(other) => return Err(FieldProblem::TypeNotString(kind_of(other))),
            };
            (
                type_name,
                object.get("options").filter(|options| !options.is_null()),
            )
        }
        other => return Err(FieldProblem::BadDefinition(kind_of(other))),
    };
    let kind = match type_name.as_str() {
        "text" => FieldKind::Text,
        "checkbox" => FieldKind::Checkbox,
        "date_picker" => FieldKind::Date,
        "country" => FieldKind::Country,
        "select" => FieldKind::Select {
            options: select_options(options.ok_or(FieldProblem::MissingOptions)?)?,
        },
        unknown => return Err(FieldProblem::UnknownType(excerpt(unknown))),
    };
    if options.is_some() && !matches!(kind, FieldKind::Select { .. }) {
        return Err(FieldProblem::OptionsOnNonSelect(kind.type_name()));
    }
    Ok(Field {
        label: label.to_owned(),
        kind,
    })
}

fn select_options(options: &Value) -> Result<Vec<SelectOption>, FieldProblem> {
    let Value::Array(items) = options else {
        return Err(FieldProblem::OptionsNotList(kind_of(options)));
    };
    if items.is_empty() {
        return Err(FieldProblem::MissingOptions);
    }
    if items.len() > MAX_OPTIONS {
        return Err(FieldProblem::TooManyOptions { count: items.len() });
    }
    let parsed = (1..)
        .zip(items)
        .map(|(index, item)| select_option(index, item))
        .collect::<Result<Vec<_>, _>>()?;
    let mut seen = HashSet::with_capacity(parsed.len());
    if let Some(duplicate) = parsed
        .iter()
        .find(|option| !seen.insert(option.value.as_str()))
    {
        return Err(FieldProblem::DuplicateOption(excerpt(&duplicate.value)));
    }
    Ok(parsed)
}

fn select_option(index: usize, item: &Value) -> Result<SelectOption, FieldProblem> {
    let option = match item {
        Value::String(text) => SelectOption {
            label: text.clone(),
            value: text.clone(),
        },
        Value::Object(object) => {
            if let Some(key) = object
                .keys()
                .find(|key| !matches!(key.as_str(), "label" | "value"))
            {
                return Err(FieldProblem::OptionUnknownKey {
                    index,
                    key: excerpt(key),
                });
            }
            SelectOption {
                label: option_string(index, object, "label")?,
                value: option_string(index, object, "value")?,
            }
        }
        other => {
            return Err(FieldProblem::BadOption {
                index,
                found: kind_of(other),
            });
        }
    };
    for (part, text) in [("label", &option.label), ("value", &option.value)] {
        check_text(text).map_err(|problem| FieldProblem::OptionText {
            index,
            part,
            problem,
        })?;
    }
    Ok(option)
}

fn option_string(
    index: usize,
    object: &Map<String, Value>,
    key: &'static str,
) -> Result<String, FieldProblem> {
    match object.get(key) {
        Some(Value::String(text)) => Ok(text.clone()),
        _ => Err(FieldProblem::OptionMissing { index, key }),
    }
}

/// Labels and option values end up as form text, answer keys and export columns: non-blank,
/// bounded and single-line.
fn check_text(text: &str) -> Result<(), TextProblem> {
    let chars = text.chars().count();
    if text.trim().is_empty() {
        Err(TextProblem::Empty)
    } else if chars > MAX_LABEL_CHARS {
        Err(TextProblem::TooLong { chars })
    } else if has_line_breaking_or_control_char(text) {
        Err(TextProblem::ControlCharacter)
    } else {
        Ok(())
    }
}

#[cfg(test)]
pub(super) mod tests {
    use serde_json::json;

    use super::*;

    /// The example card of hf-wire §11.4.
    pub(in crate::card) const EXAMPLE_README: &str = r#"---
license: other
extra_gated_heading: "Request access to this model"
extra_gated_description: "Requests are reviewed within 2 business days"
extra_gated_button_content: "Submit"
extra_gated_prompt: "By requesting access you agree to the license terms."
extra_gated_fields:
  Company: text
  Country: country
  Date of birth: date_picker
  Intended use:
    type: select
    options: [Research, Education, {label: Other, value: other}]
  I accept the license: checkbox
extra_gated_eu_disallowed: true
---
# My model
"#;

    pub(in crate::card) fn example_card() -> GateCard {
        GateCard::parse_readme(EXAMPLE_README).unwrap().unwrap()
    }

    fn card(card_data: Value) -> Result<GateCard, CardError> {
        GateCard::from_card_data(&card_data)
    }

    fn fields_card(fields: Value) -> Result<GateCard, CardError> {
        card(json!({ "extra_gated_fields": fields }))
    }

    fn field_problem(fields: Value) -> FieldProblem {
        match fields_card(fields) {
            Err(CardError::Field { problem, .. }) => problem,
            other => panic!("expected a field problem, got {other:?}"),
        }
    }

    fn option(label: &str, value: &str) -> SelectOption {
        SelectOption {
            label: label.into(),
            value: value.into(),
        }
    }

    #[test]
    fn the_hf_wire_example_card_is_read_in_full() {
        let card = example_card();
        assert_eq!(
            card,
            GateCard {
                heading: Some("Request access to this model".into()),
                description: Some("Requests are reviewed within 2 business days".into()),
                prompt: Some("By requesting access you agree to the license terms.".into()),
                button_content: Some("Submit".into()),
                eu_disallowed: true,
                fields: vec![
                    Field {
                        label: "Company".into(),
                        kind: FieldKind::Text
                    },
                    Field {
                        label: "Country".into(),
                        kind: FieldKind::Country
                    },
                    Field {
                        label: "Date of birth".into(),
                        kind: FieldKind::Date
                    },
                    Field {
                        label: "Intended use".into(),
                        kind: FieldKind::Select {
                            options: vec![
                                option("Research", "Research"),
                                option("Education", "Education"),
                                option("Other", "other"),
                            ],
                        },
                    },
                    Field {
                        label: "I accept the license".into(),
                        kind: FieldKind::Checkbox
                    },
                ],
            }
        );
        assert_eq!(card.button_text(), "Submit");
    }

    #[test]
    fn the_eu_flag_is_read_alone_even_from_a_card_whose_form_is_broken() {
        let broken_form =
            "extra_gated_eu_disallowed: true\nextra_gated_fields:\n  X: ip_location\n";
        assert_eq!(eu_disallowed_in(broken_form), Ok(true));
        assert_eq!(
            eu_disallowed_in("extra_gated_eu_disallowed: false\n"),
            Ok(false)
        );
        assert_eq!(eu_disallowed_in("license: mit\n"), Ok(false));
        assert_eq!(
            eu_disallowed_in("just a string\n"),
            Err(CardError::NotAMapping("a string"))
        );
        assert!(matches!(
            eu_disallowed_in("extra_gated_eu_disallowed: \"yes\"\n"),
            Err(CardError::WrongType { .. })
        ));
        assert!(eu_disallowed_in("extra_gated_eu_disallowed: [\n").is_err());
    }

    #[test]
    fn fields_keep_the_readme_order() {
        let readme =
            "---\nextra_gated_fields:\n  Zed: text\n  Alpha: checkbox\n  Mid: country\n---\n";
        let card = GateCard::parse_readme(readme).unwrap().unwrap();
        let labels: Vec<_> = card
            .fields
            .iter()
            .map(|field| field.label.as_str())
            .collect();
        assert_eq!(labels, ["Zed", "Alpha", "Mid"]);
    }

    #[test]
    fn a_readme_without_front_matter_has_no_card() {
        assert_eq!(GateCard::parse_readme("# Just a model\n"), Ok(None));
    }

    #[test]
    fn front_matter_without_gating_keys_is_an_empty_card() {
        let card = GateCard::parse_readme("---\nlicense: mit\n---\n")
            .unwrap()
            .unwrap();
        assert_eq!(card, GateCard::default());
        assert_eq!(card.button_text(), default_button_content());
        assert_eq!(
            default_button_content(),
            "Agree and send request to access repo"
        );
    }

    #[test]
    fn parse_readme_reports_front_matter_errors() {
        let readme = "---\na: &x 1\nb: *x\n---\n";
        assert_eq!(
            GateCard::parse_readme(readme),
            Err(CardError::AnchorOrAlias)
        );
    }

    #[test]
    fn null_and_blank_settings_count_as_unset() {
        let card = card(json!({
            "extra_gated_heading": null,
            "extra_gated_prompt": "  ",
            "extra_gated_button_content": "",
            "extra_gated_eu_disallowed": null,
            "extra_gated_fields": null,
        }))
        .unwrap();
        assert_eq!(card, GateCard::default());
        assert_eq!(card.button_text(), default_button_content());
    }

    #[test]
    fn keys_outside_the_extra_gated_family_are_ignored() {
        let card = card(json!({"license": "other", "gated": true, "extra": 1})).unwrap();
        assert_eq!(card, GateCard::default());
    }

    #[test]
    fn an_unknown_gating_key_is_refused_by_name() {
        let error = card(json!({"extra_gated_fileds": {}})).unwrap_err();
        assert_eq!(
            error,
            CardError::UnknownGateKey("extra_gated_fileds".into())
        );
        assert!(error.to_string().contains("`extra_gated_fileds`"));
    }

    #[test]
    fn eu_disallowed_must_be_a_boolean() {
        assert_eq!(
            card(json!({"extra_gated_eu_disallowed": "yes"})),
            Err(CardError::WrongType {
                key: "extra_gated_eu_disallowed",
                expected: "true or false",
                found: "a string",
            })
        );
        assert!(
            !card(json!({"extra_gated_eu_disallowed": false}))
                .unwrap()
                .eu_disallowed
        );
    }

    #[test]
    fn text_settings_must_be_strings() {
        for key in [
            "extra_gated_heading",
            "extra_gated_description",
            "extra_gated_prompt",
            "extra_gated_button_content",
        ] {
            let error = card(json!({ key: ["not", "text"] })).unwrap_err();
            assert!(
                matches!(error, CardError::WrongType { key: k, found: "a list", .. } if k == key),
                "{error:?}"
            );
        }
    }

    #[test]
    fn fields_must_be_a_mapping() {
        assert!(matches!(
            fields_card(json!(["Company"])),
            Err(CardError::WrongType {
                key: "extra_gated_fields",
                found: "a list",
                ..
            })
        ));
    }

    #[test]
    fn card_data_must_be_an_object() {
        assert_eq!(card(json!("text")), Err(CardError::NotAMapping("a string")));
    }

    #[test]
    fn every_field_type_is_understood_as_string_or_object() {
        let card = fields_card(json!({
            "a": "text", "b": "checkbox", "c": "date_picker", "d": "country",
            "e": {"type": "text"}, "f": {"type": "select", "options": ["x"]},
        }))
        .unwrap();
        let kinds: Vec<_> = card
            .fields
            .iter()
            .map(|field| field.kind.type_name())
            .collect();
        assert_eq!(
            kinds,
            [
                "text",
                "checkbox",
                "date_picker",
                "country",
                "text",
                "select"
            ]
        );
    }

    #[test]
    fn an_unknown_field_type_is_refused_naming_the_field() {
        let error = fields_card(json!({"Bio": "textarea"})).unwrap_err();
        assert_eq!(
            error,
            CardError::Field {
                label: "Bio".into(),
                problem: FieldProblem::UnknownType("textarea".into()),
            }
        );
        assert!(error.to_string().contains("\"Bio\""), "{error}");
    }

    #[test]
    fn ip_location_is_refused() {
        assert_eq!(
            field_problem(json!({"Where": "ip_location"})),
            FieldProblem::UnknownType("ip_location".into())
        );
        assert_eq!(
            field_problem(json!({"Where": {"type": "ip_location"}})),
            FieldProblem::UnknownType("ip_location".into())
        );
    }

    #[test]
    fn a_field_type_that_is_neither_string_nor_object_is_refused() {
        assert_eq!(
            field_problem(json!({"Age": 5})),
            FieldProblem::BadDefinition("a number")
        );
        assert_eq!(
            field_problem(json!({"Age": null})),
            FieldProblem::BadDefinition("empty")
        );
    }

    #[test]
    fn a_field_object_needs_a_string_type() {
        assert_eq!(field_problem(json!({"A": {}})), FieldProblem::MissingType);
        assert_eq!(
            field_problem(json!({"A": {"type": true}})),
            FieldProblem::TypeNotString("a boolean")
        );
    }

    #[test]
    fn an_unknown_key_inside_a_field_object_is_refused() {
        assert_eq!(
            field_problem(json!({"A": {"type": "text", "required": false}})),
            FieldProblem::UnknownKey("required".into())
        );
    }

    #[test]
    fn a_select_without_options_is_refused() {
        assert_eq!(
            field_problem(json!({"Use": "select"})),
            FieldProblem::MissingOptions
        );
        assert_eq!(
            field_problem(json!({"Use": {"type": "select"}})),
            FieldProblem::MissingOptions
        );
        assert_eq!(
            field_problem(json!({"Use": {"type": "select", "options": []}})),
            FieldProblem::MissingOptions
        );
        assert_eq!(
            field_problem(json!({"Use": {"type": "select", "options": "Research"}})),
            FieldProblem::OptionsNotList("a string")
        );
    }

    #[test]
    fn options_on_a_non_select_are_refused() {
        assert_eq!(
            field_problem(json!({"A": {"type": "text", "options": ["x"]}})),
            FieldProblem::OptionsOnNonSelect("text")
        );
    }

    #[test]
    fn option_objects_need_a_string_label_and_value() {
        assert_eq!(
            field_problem(json!({"U": {"type": "select", "options": ["a", {"label": "B"}]}})),
            FieldProblem::OptionMissing {
                index: 2,
                key: "value"
            }
        );
        assert_eq!(
            field_problem(
                json!({"U": {"type": "select", "options": [{"label": 1, "value": "b"}]}})
            ),
            FieldProblem::OptionMissing {
                index: 1,
                key: "label"
            }
        );
        assert_eq!(
            field_problem(
                json!({"U": {"type": "select", "options": [{"label": "B", "value": "b", "x": 1}]}})
            ),
            FieldProblem::OptionUnknownKey {
                index: 1,
                key: "x".into()
            }
        );
        assert_eq!(
            field_problem(json!({"U": {"type": "select", "options": [3]}})),
            FieldProblem::BadOption {
                index: 1,
                found: "a number"
            }
        );
    }

    #[test]
    fn duplicate_option_values_are_refused() {
        assert_eq!(
            field_problem(
                json!({"U": {"type": "select", "options": ["a", {"label": "A", "value": "a"}]}})
            ),
            FieldProblem::DuplicateOption("a".into())
        );
    }

    #[test]
    fn empty_labels_are_refused() {
        assert_eq!(
            field_problem(json!({"": "text"})),
            FieldProblem::Label(TextProblem::Empty)
        );
        assert_eq!(
            field_problem(json!({"  ": "text"})),
            FieldProblem::Label(TextProblem::Empty)
        );
        assert_eq!(
            field_problem(json!({"U": {"type": "select", "options": [""]}})),
            FieldProblem::OptionText {
                index: 1,
                part: "label",
                problem: TextProblem::Empty
            }
        );
        assert_eq!(
            field_problem(
                json!({"U": {"type": "select", "options": [{"label": "A", "value": " "}]}})
            ),
            FieldProblem::OptionText {
                index: 1,
                part: "value",
                problem: TextProblem::Empty
            }
        );
    }

    #[test]
    fn labels_with_line_breaks_are_refused() {
        assert_eq!(
            field_problem(json!({"Com\npany": "text"})),
            FieldProblem::Label(TextProblem::ControlCharacter)
        );
    }

    #[test]
    fn a_200_character_label_is_accepted_and_201_is_refused() {
        let label = "é".repeat(MAX_LABEL_CHARS);
        assert!(fields_card(json!({ label: "text" })).is_ok());
        let long = "é".repeat(MAX_LABEL_CHARS + 1);
        let error = fields_card(json!({ long.clone(): "text" })).unwrap_err();
        let CardError::Field { label, problem } = &error else {
            panic!("{error:?}")
        };
        assert_eq!(
            problem,
            &FieldProblem::Label(TextProblem::TooLong { chars: 201 })
        );
        // The message quotes only the start of the label.
        assert!(
            label.chars().count() <= 101 && label.ends_with('…'),
            "{label}"
        );
    }

    #[test]
    fn a_201_character_option_is_refused() {
        let long = "x".repeat(MAX_LABEL_CHARS + 1);
        assert_eq!(
            field_problem(json!({"U": {"type": "select", "options": [long]}})),
            FieldProblem::OptionText {
                index: 1,
                part: "label",
                problem: TextProblem::TooLong { chars: 201 },
            }
        );
    }

    #[test]
    fn sixty_four_fields_are_accepted_and_sixty_five_refused() {
        let many = |n: usize| -> Value {
            Value::Object(
                (0..n)
                    .map(|i| (format!("Field {i}"), json!("text")))
                    .collect(),
            )
        };
        assert_eq!(
            fields_card(many(MAX_FIELDS)).unwrap().fields.len(),
            MAX_FIELDS
        );
        assert_eq!(
            fields_card(many(MAX_FIELDS + 1)),
            Err(CardError::TooManyFields {
                count: MAX_FIELDS + 1
            })
        );
    }

    #[test]
    fn five_hundred_options_are_accepted_and_501_refused() {
        let options = |n: usize| -> Value { (0..n).map(|i| format!("option {i}")).collect() };
        let ok = fields_card(json!({"U": {"type": "select", "options": options(MAX_OPTIONS)}}));
        assert!(ok.is_ok());
        assert_eq!(
            field_problem(json!({"U": {"type": "select", "options": options(MAX_OPTIONS + 1)}})),
            FieldProblem::TooManyOptions {
                count: MAX_OPTIONS + 1
            }
        );
    }

    #[test]
    fn error_messages_are_clear_sentences_for_owners() {
        let error =
            fields_card(json!({"Use": {"type": "select", "options": ["a", "a"]}})).unwrap_err();
        assert_eq!(
            error.to_string(),
            "extra_gated_fields: field \"Use\": two options have the value \"a\""
        );
        assert_eq!(
            CardError::TooLarge { size: 70_000 }.to_string(),
            "the README front matter is 70000 bytes long; the limit is 65536 bytes"
        );
    }
}
