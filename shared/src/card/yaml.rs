//! From README text to `cardData`: the front matter cut out, checked against the limits with a
//! YAML event parser, then parsed and converted to a JSON object.

use saphyr_parser::{Event, Parser};
use serde_json::{Map, Value};
use serde_yaml::Mapping;

use super::{CardError, MAX_FRONT_MATTER_BYTES, MAX_NESTING, excerpt, kind_of};

/// The YAML between a first line `---` and the next line `---`, or `None` when the README has
/// no front matter. A leading BOM, CRLF line ends and trailing blanks on the `---` lines are
/// tolerated.
pub fn front_matter(readme: &str) -> Option<&str> {
    split_front_matter(readme).map(|(yaml, _)| yaml)
}

/// The README below its front matter: the card's Markdown. The whole README when it has none.
pub fn readme_body(readme: &str) -> &str {
    match split_front_matter(readme) {
        Some((_, body)) => body,
        None => readme.strip_prefix('\u{feff}').unwrap_or(readme),
    }
}

/// The front matter's YAML, and what follows its closing `---` line.
fn split_front_matter(readme: &str) -> Option<(&str, &str)> {
    let text = readme.strip_prefix('\u{feff}').unwrap_or(readme);
    let (first, body) = split_line(text)?;
    if !is_fence(first) {
        return None;
    }
    let mut rest = body;
    while let Some((line, after)) = split_line(rest) {
        if is_fence(line) {
            return Some((&body[..body.len() - rest.len()], after));
        }
        rest = after;
    }
    None
}

/// The first line of `text` (with its `\r`, if any) and what follows its line end.
fn split_line(text: &str) -> Option<(&str, &str)> {
    if text.is_empty() {
        return None;
    }
    Some(text.split_once('\n').unwrap_or((text, "")))
}

fn is_fence(line: &str) -> bool {
    line.trim_end() == "---"
}

/// Parses front matter into `cardData`, always a JSON object in the README's key order.
///
/// Limits come first: the size, then anchors, aliases and nesting depth, found with an event
/// parser that keeps its state on the heap, so hostile input neither overflows the stack nor
/// expands. Mapping keys that are not strings are stringified (`1` → `"1"`, `null` →
/// `"null"`); tags are dropped; infinities and NaN become `null`, as `JSON.stringify` does.
/// Empty front matter is an empty object.
pub fn parse_front_matter(yaml: &str) -> Result<Value, CardError> {
    if yaml.len() > MAX_FRONT_MATTER_BYTES {
        return Err(CardError::TooLarge { size: yaml.len() });
    }
    check_structure(yaml)?;
    let document: serde_yaml::Value = serde_yaml::from_str(yaml)
        .map_err(|error| CardError::Syntax(excerpt(&error.to_string())))?;
    match to_json(document)? {
        Value::Null => Ok(Value::Object(Map::new())),
        object @ Value::Object(_) => Ok(object),
        other => Err(CardError::NotAMapping(kind_of(&other))),
    }
}

fn check_structure(yaml: &str) -> Result<(), CardError> {
    let mut depth = 0usize;
    for event in Parser::new_from_str(yaml) {
        let (event, _) = event.map_err(|error| {
            // The scanner reads ahead and gives up on its own at 256 open brackets.
            if error.info() == "recursion limit exceeded" {
                CardError::TooDeep
            } else {
                CardError::Syntax(excerpt(&error.to_string()))
            }
        })?;
        match event {
            Event::Alias(_) => return Err(CardError::AnchorOrAlias),
            Event::Scalar(_, _, anchor, _) if anchor > 0 => return Err(CardError::AnchorOrAlias),
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if anchor > 0 {
                    return Err(CardError::AnchorOrAlias);
                }
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(CardError::TooDeep);
                }
            }
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Recursion here is bounded by [`MAX_NESTING`], checked beforehand.
fn to_json(value: serde_yaml::Value) -> Result<Value, CardError> {
    Ok(match value {
        serde_yaml::Value::Null => Value::Null,
        serde_yaml::Value::Bool(b) => Value::Bool(b),
        serde_yaml::Value::Number(n) => number_to_json(&n),
        serde_yaml::Value::String(s) => Value::String(s),
        serde_yaml::Value::Sequence(items) => {
            Value::Array(items.into_iter().map(to_json).collect::<Result<_, _>>()?)
        }
        serde_yaml::Value::Mapping(mapping) => Value::Object(mapping_to_json(mapping)?),
        serde_yaml::Value::Tagged(tagged) => to_json(tagged.value)?,
    })
}

fn number_to_json(n: &serde_yaml::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::from(i)
    } else if let Some(u) = n.as_u64() {
        Value::from(u)
    } else {
        n.as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number)
    }
}

fn mapping_to_json(mapping: Mapping) -> Result<Map<String, Value>, CardError> {
    let mut object = Map::with_capacity(mapping.len());
    for (key, value) in mapping {
        let key = key_to_string(key)?;
        // `1:` and `"1":` are different YAML keys but the same JSON one.
        if object.contains_key(&key) {
            return Err(CardError::DuplicateKey(excerpt(&key)));
        }
        object.insert(key, to_json(value)?);
    }
    Ok(object)
}

fn key_to_string(key: serde_yaml::Value) -> Result<String, CardError> {
    match key {
        serde_yaml::Value::String(s) => Ok(s),
        serde_yaml::Value::Null => Ok("null".to_owned()),
        serde_yaml::Value::Bool(b) => Ok(b.to_string()),
        serde_yaml::Value::Number(n) => Ok(n.to_string()),
        serde_yaml::Value::Tagged(tagged) => key_to_string(tagged.value),
        serde_yaml::Value::Sequence(_) | serde_yaml::Value::Mapping(_) => {
            Err(CardError::ComplexKey)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn front_matter_is_the_text_between_the_two_fences() {
        let readme = "---\nlicense: mit\ntags: [a]\n---\n# Model\n---\nmore\n";
        assert_eq!(front_matter(readme), Some("license: mit\ntags: [a]\n"));
    }

    #[test]
    fn front_matter_tolerates_crlf_a_bom_and_trailing_blanks_on_fences() {
        let readme = "\u{feff}--- \r\nlicense: mit\r\n---\t\r\n# Model\r\n";
        assert_eq!(front_matter(readme), Some("license: mit\r\n"));
    }

    #[test]
    fn front_matter_may_end_the_file_without_a_line_end() {
        assert_eq!(front_matter("---\na: 1\n---"), Some("a: 1\n"));
    }

    #[test]
    fn empty_front_matter_is_an_empty_string() {
        assert_eq!(front_matter("---\n---\n# Model"), Some(""));
    }

    #[test]
    fn a_readme_without_front_matter_has_none() {
        assert_eq!(front_matter(""), None);
        assert_eq!(front_matter("# Model\n---\na: 1\n---\n"), None);
        assert_eq!(front_matter("\n---\na: 1\n---\n"), None);
        assert_eq!(front_matter("----\na: 1\n----\n"), None);
    }

    #[test]
    fn the_readme_body_is_what_follows_the_front_matter() {
        let readme = "---\nlicense: mit\n---\n# Model\n---\nmore\n";
        assert_eq!(readme_body(readme), "# Model\n---\nmore\n");
        assert_eq!(readme_body("\u{feff}# Only text"), "# Only text");
        assert_eq!(readme_body("---\na: 1\n---"), "");
    }

    #[test]
    fn an_unclosed_front_matter_is_none() {
        assert_eq!(front_matter("---\na: 1\n"), None);
        assert_eq!(front_matter("---"), None);
    }

    #[test]
    fn card_data_keeps_the_readme_key_order() {
        let data = parse_front_matter("zeta: 1\nalpha: 2\nmid: 3\n").unwrap();
        let keys: Vec<_> = data.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["zeta", "alpha", "mid"]);
    }

    #[test]
    fn crlf_front_matter_parses() {
        let data = parse_front_matter("a: 1\r\nb: [x, y]\r\n").unwrap();
        assert_eq!(data, json!({"a": 1, "b": ["x", "y"]}));
    }

    #[test]
    fn empty_or_comment_only_front_matter_is_an_empty_object() {
        assert_eq!(parse_front_matter("").unwrap(), json!({}));
        assert_eq!(parse_front_matter("# nothing here\n").unwrap(), json!({}));
    }

    #[test]
    fn a_top_level_that_is_not_a_mapping_is_refused() {
        assert_eq!(
            parse_front_matter("- a\n- b\n"),
            Err(CardError::NotAMapping("a list"))
        );
        assert_eq!(
            parse_front_matter("just text\n"),
            Err(CardError::NotAMapping("a string"))
        );
    }

    #[test]
    fn non_string_keys_are_stringified() {
        let data = parse_front_matter("1: one\ntrue: yes\nnull: nothing\n2.5: x\n").unwrap();
        assert_eq!(
            data,
            json!({"1": "one", "true": "yes", "null": "nothing", "2.5": "x"})
        );
    }

    #[test]
    fn keys_that_collide_once_stringified_are_refused() {
        assert_eq!(
            parse_front_matter("1: a\n'1': b\n"),
            Err(CardError::DuplicateKey("1".into()))
        );
    }

    #[test]
    fn duplicate_keys_are_refused() {
        assert!(matches!(
            parse_front_matter("a: 1\na: 2\n"),
            Err(CardError::Syntax(_))
        ));
    }

    #[test]
    fn a_list_used_as_a_key_is_refused() {
        assert_eq!(
            parse_front_matter("? [a, b]\n: c\n"),
            Err(CardError::ComplexKey)
        );
    }

    #[test]
    fn non_finite_floats_become_null() {
        let data = parse_front_matter("a: .inf\nb: -.inf\nc: .nan\nd: 1.5\n").unwrap();
        assert_eq!(data, json!({"a": null, "b": null, "c": null, "d": 1.5}));
    }

    #[test]
    fn tags_are_dropped() {
        let data = parse_front_matter("a: !custom {b: 1}\n").unwrap();
        assert_eq!(data, json!({"a": {"b": 1}}));
    }

    #[test]
    fn large_integers_survive() {
        let data = parse_front_matter("a: 18446744073709551615\nb: -5\n").unwrap();
        assert_eq!(data, json!({"a": u64::MAX, "b": -5}));
    }

    #[test]
    fn front_matter_of_exactly_64_kib_is_accepted() {
        let yaml = padded(MAX_FRONT_MATTER_BYTES);
        assert_eq!(yaml.len(), MAX_FRONT_MATTER_BYTES);
        assert!(parse_front_matter(&yaml).is_ok());
    }

    #[test]
    fn front_matter_of_64_kib_plus_one_byte_is_refused() {
        let yaml = padded(MAX_FRONT_MATTER_BYTES + 1);
        assert_eq!(
            parse_front_matter(&yaml),
            Err(CardError::TooLarge {
                size: MAX_FRONT_MATTER_BYTES + 1
            })
        );
    }

    /// A valid mapping of exactly `len` bytes.
    fn padded(len: usize) -> String {
        let mut yaml = String::from("a: ");
        yaml.push_str(&"x".repeat(len - yaml.len() - 1));
        yaml.push('\n');
        yaml
    }

    #[test]
    fn an_anchor_and_alias_are_refused() {
        let yaml = "base: &b {type: text}\nextra_gated_fields:\n  Company: *b\n";
        assert_eq!(parse_front_matter(yaml), Err(CardError::AnchorOrAlias));
    }

    #[test]
    fn an_anchor_alone_is_refused() {
        assert_eq!(
            parse_front_matter("a: &x 1\n"),
            Err(CardError::AnchorOrAlias)
        );
        assert_eq!(
            parse_front_matter("a: &x [1]\n"),
            Err(CardError::AnchorOrAlias)
        );
    }

    #[test]
    fn a_merge_key_needs_an_alias_and_is_refused() {
        let yaml = "defaults: &d {a: 1}\nreal:\n  <<: *d\n";
        assert_eq!(parse_front_matter(yaml), Err(CardError::AnchorOrAlias));
    }

    #[test]
    fn an_alias_to_nothing_is_refused() {
        assert!(parse_front_matter("a: *nowhere\n").is_err());
    }

    #[test]
    fn ten_thousand_nested_brackets_are_refused_without_overflowing_the_stack() {
        let yaml = format!("a: {}", "[".repeat(10_000));
        assert_eq!(parse_front_matter(&yaml), Err(CardError::TooDeep));
        let closed = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(parse_front_matter(&closed), Err(CardError::TooDeep));
    }

    #[test]
    fn ten_thousand_nested_block_sequences_are_refused() {
        let yaml = format!("a:\n{}x\n", "- ".repeat(10_000));
        assert_eq!(parse_front_matter(&yaml), Err(CardError::TooDeep));
    }

    #[test]
    fn ten_thousand_nested_flow_mappings_are_refused() {
        let yaml = format!("a: {}", "{b: ".repeat(10_000));
        assert_eq!(parse_front_matter(&yaml), Err(CardError::TooDeep));
    }

    #[test]
    fn nesting_up_to_the_limit_is_accepted() {
        // The top-level mapping is one level.
        let depth = MAX_NESTING - 1;
        let yaml = format!("a: {}{}\n", "[".repeat(depth), "]".repeat(depth));
        assert!(parse_front_matter(&yaml).is_ok());
        let yaml = format!("a: {}{}\n", "[".repeat(depth + 1), "]".repeat(depth + 1));
        assert_eq!(parse_front_matter(&yaml), Err(CardError::TooDeep));
    }

    #[test]
    fn invalid_yaml_is_a_syntax_error() {
        assert!(matches!(
            parse_front_matter("a: [1, 2\nb: }\n"),
            Err(CardError::Syntax(_))
        ));
    }

    #[test]
    fn a_second_document_is_refused() {
        assert!(matches!(
            parse_front_matter("a: 1\n...\n---\nb: 2\n"),
            Err(CardError::Syntax(_))
        ));
    }
}
