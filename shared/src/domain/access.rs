use super::{Name, OrgRole};

/// A caller's role on one repo, from who owns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RepoRole {
    Read,
    Write,
    Admin,
}

impl RepoRole {
    pub fn can_write(self) -> bool {
        self >= RepoRole::Write
    }
}

/// The caller's role on a repo owned by `owner`: admin in their own namespace, their
/// membership role in an organization's, none elsewhere.
pub fn repo_role(caller: &Name, owner: &Name, membership: Option<OrgRole>) -> Option<RepoRole> {
    if caller == owner {
        return Some(RepoRole::Admin);
    }
    membership.map(|role| match role {
        OrgRole::Read => RepoRole::Read,
        OrgRole::Write => RepoRole::Write,
        OrgRole::Admin => RepoRole::Admin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> Name {
        Name::parse(text).unwrap()
    }

    #[test]
    fn a_user_is_admin_of_their_own_namespace() {
        assert_eq!(
            repo_role(&name("alice"), &name("alice"), None),
            Some(RepoRole::Admin)
        );
    }

    #[test]
    fn an_org_member_has_their_membership_role() {
        let org = name("org");
        let bob = name("bob");
        assert_eq!(
            repo_role(&bob, &org, Some(OrgRole::Read)),
            Some(RepoRole::Read)
        );
        assert_eq!(
            repo_role(&bob, &org, Some(OrgRole::Write)),
            Some(RepoRole::Write)
        );
        assert_eq!(
            repo_role(&bob, &org, Some(OrgRole::Admin)),
            Some(RepoRole::Admin)
        );
    }

    #[test]
    fn strangers_have_no_role() {
        assert_eq!(repo_role(&name("eve"), &name("org"), None), None);
        assert!(!RepoRole::Read.can_write() && RepoRole::Write.can_write());
    }
}
