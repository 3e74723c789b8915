//! The gate decision's cost per call, for a few representative callers: an accepted user, an
//! anonymous caller, and a viewer in the EU on a repo whose card keeps the EU out (with the
//! card's flag already known, and read from the front matter as a request does).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use shared::card::eu_disallowed_in;
use shared::domain::{
    CallerAccess, Country, GateInput, GateMode, RequestStatus, Visibility, decide,
};

/// The front matter of a gated repo that keeps the EU out (hf-wire §11.4's example).
const FRONT_MATTER: &str = r#"license: other
extra_gated_prompt: "By requesting access you agree to the license terms."
extra_gated_fields:
  Company: text
  Country: country
  Intended use:
    type: select
    options: [Research, Education, {label: Other, value: other}]
  I accept the license: checkbox
extra_gated_eu_disallowed: true
"#;

fn gate(c: &mut Criterion) {
    let accepted = GateInput {
        visibility: Visibility::Public,
        gate: GateMode::Manual,
        caller: Some(CallerAccess {
            role: None,
            request: Some(RequestStatus::Accepted),
        }),
        country: Country::parse("US"),
    };
    let anonymous = GateInput {
        caller: None,
        country: None,
        ..accepted
    };
    let eu_viewer = GateInput {
        country: Country::parse("FR"),
        ..accepted
    };

    c.bench_function("gate/decide/accepted_user", |b| {
        b.iter(|| decide(black_box(accepted), || black_box(true)))
    });
    c.bench_function("gate/decide/anonymous", |b| {
        b.iter(|| decide(black_box(anonymous), || black_box(true)))
    });
    c.bench_function("gate/decide/eu_viewer", |b| {
        b.iter(|| decide(black_box(eu_viewer), || black_box(true)))
    });
    c.bench_function("gate/decide/eu_viewer_reading_the_card", |b| {
        b.iter(|| {
            decide(black_box(eu_viewer), || {
                eu_disallowed_in(black_box(FRONT_MATTER)).unwrap_or(true)
            })
        })
    });
}

criterion_group!(benches, gate);
criterion_main!(benches);
