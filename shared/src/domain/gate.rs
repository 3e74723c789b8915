//! The one gate decision: may this caller see this repo's content?

use super::{GateMode, RepoRole, RequestStatus, Visibility};

/// Everything the decision depends on, already looked up; no I/O or HTTP types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GateInput {
    pub visibility: Visibility,
    pub gate: GateMode,
    /// `None` for an anonymous caller.
    pub caller: Option<CallerAccess>,
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
}

pub fn decide(input: GateInput) -> Decision {
    let role = input.caller.and_then(|caller| caller.role);
    if input.visibility.is_private() && role.is_none() {
        return Decision::Deny(Denial::RepoNotFound);
    }
    if role.is_some() || !input.gate.is_gated() {
        return Decision::Allow;
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

    /// The expected answer, written as the rules read rather than as the code runs.
    fn expected(input: GateInput) -> Decision {
        use Decision::*;
        use Denial::*;
        match (input.visibility, input.gate, input.caller) {
            (Visibility::Private, _, None) => Deny(RepoNotFound),
            (Visibility::Private, _, Some(CallerAccess { role: None, .. })) => Deny(RepoNotFound),
            (_, _, Some(CallerAccess { role: Some(_), .. })) => Allow,
            (_, GateMode::Off, _) => Allow,
            (_, _, None) => Deny(GatedAnonymous),
            (_, _, Some(CallerAccess { request, .. })) => match request {
                None => Deny(GatedNotRequested),
                Some(RequestStatus::Pending) => Deny(GatedPending),
                Some(RequestStatus::Accepted) => Allow,
                Some(RequestStatus::Rejected) => Deny(GatedRejected),
            },
        }
    }

    #[test]
    fn every_combination_of_visibility_gate_role_and_request_is_decided_by_the_rules() {
        let mut checked = 0;
        for visibility in VISIBILITIES {
            for gate in GATES {
                let anonymous = GateInput {
                    visibility,
                    gate,
                    caller: None,
                };
                assert_eq!(decide(anonymous), expected(anonymous), "{anonymous:?}");
                checked += 1;
                for role in ROLES {
                    for request in REQUESTS {
                        let input = GateInput {
                            visibility,
                            gate,
                            caller: Some(CallerAccess { role, request }),
                        };
                        assert_eq!(decide(input), expected(input), "{input:?}");
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 2 * 3 * (1 + 4 * 4));
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
        };
        assert_eq!(decide(public), Decision::Allow);
        let private = GateInput {
            visibility: Visibility::Private,
            ..public
        };
        assert_eq!(decide(private), Decision::Deny(Denial::RepoNotFound));
    }
}
