//! The gate card's cost per request: reading the hf-wire §11.4 example README into a card and
//! validating one good submission, and validation alone.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value, json};
use shared::card::{GateCard, front_matter, parse_front_matter};

const README: &str = r#"---
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

fn good_answers() -> Map<String, Value> {
    json!({
        "Company": "Acme Research",
        "Country": "fr",
        "Date of birth": "1990-02-28",
        "Intended use": "other",
        "I accept the license": "on",
    })
    .as_object()
    .cloned()
    .expect("a JSON object literal")
}

fn card(c: &mut Criterion) {
    let answers = good_answers();
    c.bench_function("card/parse_build_validate", |b| {
        b.iter(|| {
            let yaml = front_matter(black_box(README)).expect("the README has front matter");
            let card_data = parse_front_matter(yaml).expect("the front matter parses");
            let card = GateCard::from_card_data(&card_data).expect("the card is valid");
            card.validate(black_box(&answers))
                .expect("the answers are valid")
        })
    });

    let card = GateCard::parse_readme(README)
        .expect("the card is valid")
        .expect("the README has front matter");
    c.bench_function("card/validate", |b| {
        b.iter(|| {
            card.validate(black_box(&answers))
                .expect("the answers are valid")
        })
    });
}

criterion_group!(benches, card);
criterion_main!(benches);
