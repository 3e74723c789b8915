//! [`Store::repo_context`](crate::store::Store::repo_context) on SQLite: one statement.
//!
//! Every record a call on a repo may need is a lookup by key: the caller's token, their user,
//! the repo, their membership in its organization and their request on it, the target (a
//! user and their request, or a request by id), a file and the README. One `SELECT` joins
//! them side by side in a single row, each part `LEFT JOIN`ed on its key; a part the call does
//! not name gets a NULL key, which matches nothing. A gated download's HEAD made six
//! statements in two read transactions before; their locking and per-statement work were
//! most of its cost (BENCHMARKS.md, section 8). A single statement also reads one snapshot
//! without a transaction of its own.

use std::sync::LazyLock;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, Row, params};

use super::rows::{
    self, FILE_COLUMNS, README_COLUMNS, REPO_COLUMNS, REQUEST_COLUMNS, TOKEN_COLUMNS, USER_COLUMNS,
};
use crate::domain::{RepoRef, RequestTarget};
use crate::store::{
    CallerKey, CallerRecords, ContextRead, RepoContext, StoreResult, TargetRecords,
};

pub(super) fn select_context(
    db: &Connection,
    repo: &RepoRef,
    read: ContextRead<'_>,
) -> StoreResult<RepoContext> {
    let (digest, caller) = match read.caller {
        Some(CallerKey::Token(digest)) => (Some(digest.to_hex()), None),
        Some(CallerKey::Name(name)) => (None, Some(name.as_str())),
        None => (None, None),
    };
    let (target_user, target_id) = match read.target {
        Some(RequestTarget::User(name)) => (Some(name.as_str()), None),
        Some(RequestTarget::Id(id)) => (None, Some(id.to_string())),
        None => (None, None),
    };
    let statement = &*CONTEXT;
    Ok(db.prepare_cached(&statement.sql)?.query_row(
        params![
            digest,
            caller,
            repo.repo_type.as_str(),
            repo.id.to_string(),
            target_user,
            target_id,
            read.file,
            read.readme_html,
        ],
        |row| statement.read(row),
    )?)
}

static CONTEXT: LazyLock<ContextStatement> = LazyLock::new(ContextStatement::new);

/// The statement, and where each part's columns start in its row.
struct ContextStatement {
    sql: String,
    token: usize,
    user: usize,
    repo: usize,
    membership: usize,
    request: usize,
    target_user: usize,
    target_by_user: usize,
    target_by_id: usize,
    file: usize,
    readme: usize,
}

impl ContextStatement {
    fn new() -> Self {
        let parts = [
            ("t", TOKEN_COLUMNS),
            ("u", USER_COLUMNS),
            ("r", REPO_COLUMNS),
            ("m", "role"),
            ("q", REQUEST_COLUMNS),
            ("tu", USER_COLUMNS),
            ("tq", REQUEST_COLUMNS),
            ("ti", REQUEST_COLUMNS),
            ("f", FILE_COLUMNS),
            ("h", README_COLUMNS),
        ];
        let mut starts = [0; 10];
        let mut columns = Vec::new();
        for ((alias, list), start) in parts.iter().zip(&mut starts) {
            *start = columns.len();
            columns.extend(list.split(',').map(|c| format!("{alias}.{}", c.trim())));
        }
        // ?1 token digest, ?2 caller name, ?3 ?4 repo, ?5 target user, ?6 target request id,
        // ?7 file path, ?8 whether the README is wanted.
        let sql = format!(
            "SELECT {} FROM (SELECT NULL)
             LEFT JOIN tokens t ON t.digest = ?1
             LEFT JOIN users u ON u.name = coalesce(t.user, ?2)
             LEFT JOIN repos r ON r.repo_type = ?3 AND r.repo_id = ?4
             LEFT JOIN memberships m ON m.org = r.owner AND m.user = u.name
             LEFT JOIN access_requests q
                 ON q.repo_type = r.repo_type AND q.repo_id = r.repo_id AND q.user = u.name
             LEFT JOIN users tu ON tu.name = ?5
             LEFT JOIN access_requests tq
                 ON tq.repo_type = r.repo_type AND tq.repo_id = r.repo_id AND tq.user = ?5
             LEFT JOIN access_requests ti
                 ON ti.id = ?6 AND ti.repo_type = r.repo_type AND ti.repo_id = r.repo_id
             LEFT JOIN files f
                 ON f.repo_type = r.repo_type AND f.repo_id = r.repo_id AND f.path = ?7
             LEFT JOIN readmes h ON ?8 AND h.repo_type = r.repo_type AND h.repo_id = r.repo_id",
            columns.join(", ")
        );
        let [
            token,
            user,
            repo,
            membership,
            request,
            target_user,
            target_by_user,
            target_by_id,
            file,
            readme,
        ] = starts;
        ContextStatement {
            sql,
            token,
            user,
            repo,
            membership,
            request,
            target_user,
            target_by_user,
            target_by_id,
            file,
            readme,
        }
    }

    fn read(&self, row: &Row<'_>) -> rusqlite::Result<RepoContext> {
        let token = part(row, self.token, rows::token)?;
        let user = part(row, self.user, rows::user)?;
        let target_user = part(row, self.target_user, rows::user)?;
        let Some(repo) = part(row, self.repo, rows::repo)? else {
            return Ok(RepoContext::without_repo(token, user, target_user));
        };
        let caller = match user {
            Some(user) => Some(CallerRecords {
                user,
                // Only organizations have members, so none when a user owns the repo.
                membership: part(row, self.membership, rows::org_role)?,
                request: part(row, self.request, rows::request)?,
            }),
            None => None,
        };
        let target_request = match part(row, self.target_by_user, rows::request)? {
            Some(request) => Some(request),
            None => part(row, self.target_by_id, rows::request)?,
        };
        // The README's first column may be NULL (a body too large to keep); its second never is.
        let readme_html = match row.get_ref(self.readme + 1)? {
            ValueRef::Null => None,
            _ => Some(rows::readme_html(row, self.readme)?),
        };
        Ok(RepoContext {
            repo: Some(repo),
            token,
            caller,
            target: TargetRecords {
                user: target_user,
                request: target_request,
            },
            file: part(row, self.file, rows::file)?,
            readme_html,
        })
    }
}

/// The record whose columns start at `at`, or `None` when its join found nothing (its first
/// column, a key, is NULL).
fn part<T>(
    row: &Row<'_>,
    at: usize,
    read: fn(&Row<'_>, usize) -> rusqlite::Result<T>,
) -> rusqlite::Result<Option<T>> {
    match row.get_ref(at)? {
        ValueRef::Null => Ok(None),
        _ => read(row, at).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

    #[test]
    fn every_part_of_the_context_is_a_lookup_by_key_not_a_scan() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let db = store.inner.writer.lock().unwrap();
        let sql = format!("EXPLAIN QUERY PLAN {}", CONTEXT.sql);
        let mut statement = db.prepare(&sql).unwrap();
        let plan: Vec<String> = statement
            .query_map(params![1, 2, 3, 4, 5, 6, 7, true], |row| row.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();

        let lookups: Vec<&String> = plan
            .iter()
            .filter(|step| step.starts_with("SEARCH"))
            .collect();
        assert_eq!(lookups.len(), 10, "{plan:#?}");
        for step in lookups {
            let by_key = step.contains("USING PRIMARY KEY")
                || step.contains("USING INDEX sqlite_autoindex")
                || step.contains("USING COVERING INDEX sqlite_autoindex");
            assert!(by_key && step.contains('='), "{step} in {plan:#?}");
        }
        let scanned = |step: &&String| {
            step.starts_with("SCAN")
                && !matches!(step.as_str(), "SCAN CONSTANT ROW" | "SCAN (subquery-1)")
        };
        assert!(
            !plan.iter().any(|step| scanned(&step)),
            "only the one-row subquery is scanned: {plan:#?}"
        );
    }
}
