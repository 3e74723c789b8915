//! The one gate decision: may this caller see this repo's content?

use super::{Country, GateMode, RepoRole, RequestStatus, Visibility};

/// Everything the decision depends on, already looked up; no I/O or HTTP types. The card's
/// `extra_gated_eu_disallowed` is not in it: reading the card costs far more than deciding,
/// so [`decide`] asks for it only when the answer depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GateInput {
    pub visibility: Visibility,
    pub gate: GateMode,
    /// `None` for an anonymous caller.
    pub caller: Option<CallerAccess>,
    /// Where the viewer is; `None` when that is unknown, which counts as outside the EU.
    pub country: Option<Country>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallerAccess {
    /// The caller's role through the repo's namespace, if any.
    pub role: Option<RepoRole>,
    /// The caller's access request on this repo, if any.
    pub request: Option<RequestStatus>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny(Denial),
}

/// Why content is refused; each maps to one status, error code and message (hf-wire §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denial {
    /// Missing, or private and the caller is not in its namespace.
    RepoNotFound,
    GatedAnonymous,
    GatedNotRequested,
    GatedPending,
    GatedRejected,
    /// The card sets `extra_gated_eu_disallowed` and the viewer is in the EU: whatever their
    /// request, logging in or asking changes nothing.
    EuDisallowed {
        anonymous: bool,
    },
}

/// The gate's answer. `card_disallows_eu` reads the card's `extra_gated_eu_disallowed`; it is
/// called only when the answer depends on it: a gated repo, seen from the EU by someone
/// outside the repo's namespace.
pub fn decide(input: GateInput, card_disallows_eu: impl FnOnce() -> bool) -> Decision {
    let role = input.caller.and_then(|caller| caller.role);
    if input.visibility.is_private() && role.is_none() {
        return Decision::Deny(Denial::RepoNotFound);
    }
    // The namespace (owner, org members) keeps access from anywhere, and the EU flag takes
    // effect only on a gated repo (hf-wire §11.4).
    if role.is_some() || !input.gate.is_gated() {
        return Decision::Allow;
    }
    if input.country.is_some_and(Country::is_eu_member) && card_disallows_eu() {
        return Decision::Deny(Denial::EuDisallowed {
            anonymous: input.caller.is_none(),
        });
    }
    let Some(caller) = input.caller else {
        return Decision::Deny(Denial::GatedAnonymous);
    };
    match caller.request {
        Some(RequestStatus::Accepted) => Decision::Allow,
        Some(RequestStatus::Pending) => Decision::Deny(Denial::GatedPending),
        Some(RequestStatus::Rejected) => Decision::Deny(Denial::GatedRejected),
        None => Decision::Deny(Denial::GatedNotRequested),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    const VISIBILITIES: [Visibility; 2] = [Visibility::Public, Visibility::Private];
    const GATES: [GateMode; 3] = [GateMode::Off, GateMode::Auto, GateMode::Manual];
    const ROLES: [Option<RepoRole>; 4] = [
        None,
        Some(RepoRole::Read),
        Some(RepoRole::Write),
        Some(RepoRole::Admin),
    ];
    const REQUESTS: [Option<RequestStatus>; 4] = [
        None,
        Some(RequestStatus::Pending),
        Some(RequestStatus::Accepted),
        Some(RequestStatus::Rejected),
    ];
    /// Unknown, an EU member state, and a country outside the EU.
    const COUNTRIES: [Option<&str>; 3] = [None, Some("FR"), Some("US")];

    /// Every input: visibility × gate × (anonymous, or each role × request) × country.
    fn every_input() -> Vec<GateInput> {
        let callers = std::iter::once(None).chain(
            ROLES
                .into_iter()
                .flat_map(|role| REQUESTS.map(|request| Some(CallerAccess { role, request }))),
        );
        let callers: Vec<_> = callers.collect();
        let mut inputs = Vec::new();
        for visibility in VISIBILITIES {
            for gate in GATES {
                for &caller in &callers {
                    for country in COUNTRIES {
                        inputs.push(GateInput {
                            visibility,
                            gate,
                            caller,
                            country: country.map(|code| Country::parse(code).unwrap()),
                        });
                    }
                }
            }
        }
        inputs
    }

    /// The expected answer, written as the rules read rather than as the code runs.
    fn expected(input: GateInput, eu_disallowed: bool) -> Decision {
        use Decision::*;
        use Denial::*;
        let in_eu = input.country.is_some_and(|c| c.is_eu_member());
        match (input.visibility, input.gate, input.caller) {
            (Visibility::Private, _, None) => Deny(RepoNotFound),
            (Visibility::Private, _, Some(CallerAccess { role: None, .. })) => Deny(RepoNotFound),
            (_, _, Some(CallerAccess { role: Some(_), .. })) => Allow,
            (_, GateMode::Off, _) => Allow,
            (_, _, caller) if in_eu && eu_disallowed => Deny(EuDisallowed {
                anonymous: caller.is_none(),
            }),
            (_, _, None) => Deny(GatedAnonymous),
            (_, _, Some(CallerAccess { request, .. })) => match request {
                None => Deny(GatedNotRequested),
                Some(RequestStatus::Pending) => Deny(GatedPending),
                Some(RequestStatus::Accepted) => Allow,
                Some(RequestStatus::Rejected) => Deny(GatedRejected),
            },
        }
    }

    /// Whether the answer depends on the card's EU flag: a public gated repo, seen from the
    /// EU by someone outside its namespace.
    fn card_matters(input: GateInput) -> bool {
        input.visibility == Visibility::Public
            && input.gate != GateMode::Off
            && input.caller.and_then(|c| c.role).is_none()
            && input.country.is_some_and(|c| c.is_eu_member())
    }

    #[test]
    fn every_combination_of_visibility_gate_role_request_country_and_eu_flag_is_decided_by_the_rules()
     {
        let mut checked = 0;
        for input in every_input() {
            for eu_disallowed in [false, true] {
                let read = Cell::new(false);
                let decision = decide(input, || {
                    read.set(true);
                    eu_disallowed
                });
                assert_eq!(
                    decision,
                    expected(input, eu_disallowed),
                    "{input:?}, eu_disallowed: {eu_disallowed}"
                );
                assert_eq!(read.get(), card_matters(input), "card read for {input:?}");
                checked += 1;
            }
        }
        assert_eq!(checked, 2 * 3 * (1 + 4 * 4) * 3 * 2);
    }

    #[test]
    fn an_accepted_request_opens_a_public_gated_repo_but_not_a_private_one() {
        let caller = Some(CallerAccess {
            role: None,
            request: Some(RequestStatus::Accepted),
        });
        let public = GateInput {
            visibility: Visibility::Public,
            gate: GateMode::Manual,
            caller,
            country: None,
        };
        assert_eq!(decide(public, || false), Decision::Allow);
        let private = GateInput {
            visibility: Visibility::Private,
            ..public
        };
        assert_eq!(
            decide(private, || false),
            Decision::Deny(Denial::RepoNotFound)
        );
    }

    #[test]
    fn an_eu_disallowed_card_refuses_an_accepted_viewer_in_the_eu_but_not_the_owner() {
        let accepted = GateInput {
            visibility: Visibility::Public,
            gate: GateMode::Auto,
            caller: Some(CallerAccess {
                role: None,
                request: Some(RequestStatus::Accepted),
            }),
            country: Country::parse("DE"),
        };
        assert_eq!(
            decide(accepted, || true),
            Decision::Deny(Denial::EuDisallowed { anonymous: false })
        );
        let owner = GateInput {
            caller: Some(CallerAccess {
                role: Some(RepoRole::Admin),
                request: None,
            }),
            ..accepted
        };
        assert_eq!(decide(owner, || true), Decision::Allow);
    }
}
