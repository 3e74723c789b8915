//! Why a README's card was refused. The messages are for the repo's owners: each says what is
//! wrong and, where it helps, what to write instead. Quoted input is cut short (see `excerpt`).

use super::{MAX_FIELDS, MAX_FRONT_MATTER_BYTES, MAX_LABEL_CHARS, MAX_NESTING, MAX_OPTIONS};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error(
        "the README front matter is {size} bytes long; the limit is {limit} bytes",
        limit = MAX_FRONT_MATTER_BYTES
    )]
    TooLarge { size: usize },
    #[error(
        "the README front matter uses a YAML anchor or alias (`&name`, `*name`), which gatehouse \
         does not accept; write the values out in full"
    )]
    AnchorOrAlias,
    #[error(
        "the README front matter nests lists and mappings more than {limit} levels deep",
        limit = MAX_NESTING
    )]
    TooDeep,
    #[error("the README front matter is not valid YAML: {0}")]
    Syntax(String),
    #[error("the README front matter must be a mapping of `key: value` lines, not {0}")]
    NotAMapping(&'static str),
    #[error("the README front matter uses a list or a mapping as a key; keys must be plain values")]
    ComplexKey,
    #[error("the README front matter has the key {0:?} twice")]
    DuplicateKey(String),
    #[error(
        "unknown gating key `{0}`; the gating keys are extra_gated_heading, \
         extra_gated_description, extra_gated_prompt, extra_gated_button_content, \
         extra_gated_eu_disallowed and extra_gated_fields"
    )]
    UnknownGateKey(String),
    #[error("`{key}` must be {expected}, not {found}")]
    WrongType {
        key: &'static str,
        expected: &'static str,
        found: &'static str,
    },
    #[error("extra_gated_fields declares {count} fields; the limit is {limit}", limit = MAX_FIELDS)]
    TooManyFields { count: usize },
    #[error("extra_gated_fields: field {label:?}: {problem}")]
    Field {
        label: String,
        problem: FieldProblem,
    },
}

/// What is wrong with one entry of `extra_gated_fields`. Option indexes count from 1.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FieldProblem {
    #[error("the label {0}")]
    Label(TextProblem),
    #[error(
        "the type must be a string such as `text`, or a mapping with `type` (and `options` for \
         a select), not {0}"
    )]
    BadDefinition(&'static str),
    #[error("the mapping has no `type`")]
    MissingType,
    #[error("`type` must be a string, not {0}")]
    TypeNotString(&'static str),
    #[error("unknown type {0:?}; the types are text, checkbox, date_picker, country and select")]
    UnknownType(String),
    #[error("unknown key {0:?}; a field takes only `type` and `options`")]
    UnknownKey(String),
    #[error("`options` only applies to select fields, not to {0} fields")]
    OptionsOnNonSelect(&'static str),
    #[error("a select needs a non-empty list of `options`")]
    MissingOptions,
    #[error("`options` must be a list, not {0}")]
    OptionsNotList(&'static str),
    #[error("it has {count} options; the limit is {limit}", limit = MAX_OPTIONS)]
    TooManyOptions { count: usize },
    #[error("option {index} must be a string or a mapping with `label` and `value`, not {found}")]
    BadOption { index: usize, found: &'static str },
    #[error("option {index} has the unknown key {key:?}; an option takes only `label` and `value`")]
    OptionUnknownKey { index: usize, key: String },
    #[error("option {index} needs a string `{key}`")]
    OptionMissing { index: usize, key: &'static str },
    #[error("the {part} of option {index} {problem}")]
    OptionText {
        index: usize,
        part: &'static str,
        problem: TextProblem,
    },
    #[error("two options have the value {0:?}")]
    DuplicateOption(String),
}

/// What is wrong with a label or an option value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TextProblem {
    #[error("is empty")]
    Empty,
    #[error("is {chars} characters long; the limit is {limit}", limit = MAX_LABEL_CHARS)]
    TooLong { chars: usize },
    #[error("contains a line break or another control character")]
    ControlCharacter,
}
