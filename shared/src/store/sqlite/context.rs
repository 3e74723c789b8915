//! [`Store::repo_context`](crate::store::Store::repo_context) on SQLite: one statement.
//!
//! Every record a call on a repo may need is a lookup by key: the caller's token, their user,
//! the repo, their membership in its organization and their request on it, the target (a
//! user and their request, or a request by id), a file and the README. One `SELECT` joins
//! them side by side in a single row, each part `LEFT JOIN`ed on its key, and only the parts
//! the read names: each shape of read has its own statement. A gated download's HEAD made six
//! statements in two read transactions before; their locking and per-statement work were
//! most of its cost (BENCHMARKS.md, section 8). A single statement also reads one snapshot
//! without a transaction of its own.

use std::sync::LazyLock;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, Row, ToSql};

use super::rows::{
    self, FILE_COLUMNS, README_COLUMNS, REPO_COLUMNS, REQUEST_COLUMNS, TOKEN_COLUMNS, USER_COLUMNS,
};
use crate::domain::{AccessRequest, Name, RepoRef, RequestStatus, RequestTarget, TokenDigest};
use crate::store::{
    CallerKey, CallerRecords, ContextRead, RepoContext, StoreResult, TargetRecords,
};

pub(super) fn select_context<R: RequestColumns>(
    db: &Connection,
    repo: &RepoRef,
    read: ContextRead<'_>,
) -> StoreResult<RepoContext<R>> {
    let statement = &STATEMENTS[Shape::of(&read).index()];
    let (repo_type, repo_id) = (repo.repo_type.as_str(), repo.id.to_string());
    // Each value is bound only when its shape's statement names it.
    let (digest, caller, target_user, target_id);
    let mut token_digest = None;
    let mut params: Vec<(&str, &dyn ToSql)> = vec![(":type", &repo_type), (":id", &repo_id)];
    match read.caller {
        Some(CallerKey::Token(token)) => {
            digest = token.to_hex();
            params.push((":digest", &digest));
            token_digest = Some(token);
        }
        Some(CallerKey::Name(name)) => {
            caller = name.as_str();
            params.push((":caller", &caller));
        }
        None => {}
    }
    match read.target {
        Some(RequestTarget::User(name)) => {
            target_user = name.as_str();
            params.push((":target_user", &target_user));
        }
        Some(RequestTarget::Id(id)) => {
            target_id = id.to_string();
            params.push((":target_id", &target_id));
        }
        None => {}
    }
    if let Some(path) = &read.file {
        params.push((":file", path));
    }
    Ok(db
        .prepare_cached(&statement.sql)?
        .query_row(params.as_slice(), |row| statement.read(row, token_digest))?)
}

/// How the caller's request is read from its columns: whole, or its status alone.
pub(super) trait RequestColumns: Sized {
    /// The request whose columns start at `at`, joined on `repo` and `user`.
    fn read(row: &Row<'_>, at: usize, repo: &RepoRef, user: &Name) -> rusqlite::Result<Self>;
}

impl RequestColumns for AccessRequest {
    fn read(row: &Row<'_>, at: usize, repo: &RepoRef, user: &Name) -> rusqlite::Result<Self> {
        rows::request_of(row, at, repo.clone(), user.clone())
    }
}

impl RequestColumns for RequestStatus {
    fn read(row: &Row<'_>, at: usize, _: &RepoRef, _: &Name) -> rusqlite::Result<Self> {
        rows::request_status(row, at)
    }
}

/// Which parts of a context a read names. Each shape has its own statement, which joins only
/// those parts: a download's HEAD reads six of the ten.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Shape {
    caller: Option<CallerBy>,
    target: Option<TargetBy>,
    file: bool,
    readme: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum CallerBy {
    Name,
    Token,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum TargetBy {
    User,
    Id,
}

impl Shape {
    fn of(read: &ContextRead<'_>) -> Self {
        Shape {
            caller: read.caller.map(|caller| match caller {
                CallerKey::Name(_) => CallerBy::Name,
                CallerKey::Token(_) => CallerBy::Token,
            }),
            target: read.target.map(|target| match target {
                RequestTarget::User(_) => TargetBy::User,
                RequestTarget::Id(_) => TargetBy::Id,
            }),
            file: read.file.is_some(),
            readme: read.readme_html,
        }
    }

    fn index(self) -> usize {
        let caller = match self.caller {
            None => 0,
            Some(CallerBy::Name) => 1,
            Some(CallerBy::Token) => 2,
        };
        let target = match self.target {
            None => 0,
            Some(TargetBy::User) => 1,
            Some(TargetBy::Id) => 2,
        };
        ((caller * 3 + target) * 2 + usize::from(self.file)) * 2 + usize::from(self.readme)
    }

    fn all() -> impl Iterator<Item = Shape> {
        let callers = [None, Some(CallerBy::Name), Some(CallerBy::Token)];
        let targets = [None, Some(TargetBy::User), Some(TargetBy::Id)];
        callers.into_iter().flat_map(move |caller| {
            targets.into_iter().flat_map(move |target| {
                [false, true].into_iter().flat_map(move |file| {
                    [false, true].map(|readme| Shape {
                        caller,
                        target,
                        file,
                        readme,
                    })
                })
            })
        })
    }
}

/// Every shape's statement, at its shape's index.
static STATEMENTS: LazyLock<Vec<ContextStatement>> = LazyLock::new(|| {
    let mut statements: Vec<_> = Shape::all().map(ContextStatement::new).collect();
    statements.sort_by_key(|statement| statement.shape.index());
    statements
});

/// A shape's statement, and where each part's columns start in its row (`None`: not joined).
struct ContextStatement {
    shape: Shape,
    sql: String,
    token: Option<usize>,
    user: Option<usize>,
    repo: usize,
    membership: Option<usize>,
    request: Option<usize>,
    target_user: Option<usize>,
    target_by_user: Option<usize>,
    target_by_id: Option<usize>,
    file: Option<usize>,
    readme: Option<usize>,
}

/// A statement being written: its columns and joins, each part's first column.
#[derive(Default)]
struct Builder {
    columns: Vec<String>,
    joins: String,
}

impl Builder {
    /// Joins `table` as `alias` on `on`, and selects its `columns`; returns where they start.
    fn join(&mut self, table: &str, alias: &str, on: &str, columns: &str) -> usize {
        let start = self.columns.len();
        self.columns
            .extend(columns.split(',').map(|c| format!("{alias}.{}", c.trim())));
        self.joins
            .push_str(&format!("\n LEFT JOIN {table} {alias} ON {on}"));
        start
    }

    fn join_if(
        &mut self,
        wanted: bool,
        table: &str,
        alias: &str,
        on: &str,
        columns: &str,
    ) -> Option<usize> {
        wanted.then(|| self.join(table, alias, on, columns))
    }
}

impl ContextStatement {
    fn new(shape: Shape) -> Self {
        let mut b = Builder::default();
        let by_token = shape.caller == Some(CallerBy::Token);
        let by_user = shape.target == Some(TargetBy::User);
        let token = b.join_if(by_token, "tokens", "t", "t.digest = :digest", TOKEN_COLUMNS);
        let caller_name = if by_token { "t.user" } else { ":caller" };
        let user = b.join_if(
            shape.caller.is_some(),
            "users",
            "u",
            &format!("u.name = {caller_name}"),
            USER_COLUMNS,
        );
        let repo = b.join(
            "repos",
            "r",
            "r.repo_type = :type AND r.repo_id = :id",
            REPO_COLUMNS,
        );
        let membership = b.join_if(
            shape.caller.is_some(),
            "memberships",
            "m",
            "m.org = r.owner AND m.user = u.name",
            "role",
        );
        let request = b.join_if(
            shape.caller.is_some(),
            "access_requests",
            "q",
            "q.repo_type = r.repo_type AND q.repo_id = r.repo_id AND q.user = u.name",
            REQUEST_COLUMNS,
        );
        let target_user = b.join_if(
            by_user,
            "users",
            "tu",
            "tu.name = :target_user",
            USER_COLUMNS,
        );
        let target_by_user = b.join_if(
            by_user,
            "access_requests",
            "tq",
            "tq.repo_type = r.repo_type AND tq.repo_id = r.repo_id AND tq.user = :target_user",
            REQUEST_COLUMNS,
        );
        let target_by_id = b.join_if(
            shape.target == Some(TargetBy::Id),
            "access_requests",
            "ti",
            "ti.id = :target_id AND ti.repo_type = r.repo_type AND ti.repo_id = r.repo_id",
            REQUEST_COLUMNS,
        );
        let file = b.join_if(
            shape.file,
            "files",
            "f",
            "f.repo_type = r.repo_type AND f.repo_id = r.repo_id AND f.path = :file",
            FILE_COLUMNS,
        );
        let readme = b.join_if(
            shape.readme,
            "readmes",
            "h",
            "h.repo_type = r.repo_type AND h.repo_id = r.repo_id",
            README_COLUMNS,
        );
        // The one-row start keeps a row, and so the caller and target, when there is no repo.
        let sql = format!(
            "SELECT {} FROM (SELECT NULL){}",
            b.columns.join(", "),
            b.joins
        );
        ContextStatement {
            shape,
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

    /// The context in `row`. A record joined on another's key takes that key from the other
    /// (and a token found by `token_digest` takes it) rather than reading it again.
    fn read<R: RequestColumns>(
        &self,
        row: &Row<'_>,
        token_digest: Option<&TokenDigest>,
    ) -> rusqlite::Result<RepoContext<R>> {
        let user = part(row, self.user, rows::user)?;
        // By token, the user is joined on the token's user: found only with the token.
        let token = match (&user, token_digest) {
            (Some(user), Some(digest)) => part(row, self.token, |row, at| {
                rows::token_of(row, at, *digest, user.name.clone())
            })?,
            _ => part(row, self.token, rows::token)?,
        };
        let target_user = part(row, self.target_user, rows::user)?;
        let Some(repo) = part(row, Some(self.repo), rows::repo)? else {
            return Ok(RepoContext::without_repo(token, user, target_user));
        };
        let caller = match user {
            Some(user) => Some(CallerRecords {
                // Only organizations have members, so none when a user owns the repo.
                membership: part(row, self.membership, rows::org_role)?,
                request: part(row, self.request, |row, at| {
                    R::read(row, at, &repo.repo, &user.name)
                })?,
                user,
            }),
            None => None,
        };
        let target_request = match part(row, self.target_by_user, rows::request)? {
            Some(request) => Some(request),
            None => part(row, self.target_by_id, rows::request)?,
        };
        // The README's first column may be NULL (a body too large to keep); its second never is.
        let readme_html = match self.readme {
            Some(at) if row.get_ref(at + 1)? != ValueRef::Null => Some(rows::readme_html(row, at)?),
            _ => None,
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

/// The record whose columns start at `at`, or `None` when the statement does not join it or
/// its join found nothing (its first column, a key, is NULL).
fn part<T>(
    row: &Row<'_>,
    at: Option<usize>,
    read: impl FnOnce(&Row<'_>, usize) -> rusqlite::Result<T>,
) -> rusqlite::Result<Option<T>> {
    match at {
        Some(at) if row.get_ref(at)? != ValueRef::Null => read(row, at).map(Some),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

    #[test]
    fn every_shape_has_its_own_statement_at_its_index() {
        assert_eq!(STATEMENTS.len(), 3 * 3 * 2 * 2);
        for (index, statement) in STATEMENTS.iter().enumerate() {
            assert_eq!(statement.shape.index(), index, "{:?}", statement.shape);
        }
    }

    #[test]
    fn every_part_of_every_shape_is_a_lookup_by_key_not_a_scan() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let db = store.inner.writer.lock().unwrap();
        for statement in STATEMENTS.iter() {
            let sql = format!("EXPLAIN QUERY PLAN {}", statement.sql);
            let mut explain = db.prepare(&sql).unwrap();
            // Unbound parameters are NULL: the plan does not depend on their values.
            let mut steps = explain.raw_query();
            let mut plan: Vec<String> = Vec::new();
            while let Some(step) = steps.next().unwrap() {
                plan.push(step.get(3).unwrap());
            }

            let lookups: Vec<&String> = plan
                .iter()
                .filter(|step| step.starts_with("SEARCH"))
                .collect();
            let joins = statement.sql.matches("LEFT JOIN").count();
            assert_eq!(lookups.len(), joins, "{:?}: {plan:#?}", statement.shape);
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
                "only the one-row start is scanned: {plan:#?}"
            );
        }
    }
}
