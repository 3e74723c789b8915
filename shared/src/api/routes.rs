//! The routing table: every route of gatehouse, once. The local server dispatches with it
//! and the SAM template is checked against it.
//!
//! Placeholders in patterns: `{type}` is `models`, `datasets` or `spaces`; `{repo}` is a
//! repo id of one or two segments; `{status}` is `pending`, `accepted` or `rejected`; `{rev}`
//! is a revision, one segment that may hold an encoded slash (`refs%2Fpr%2F1`); `{path}` is
//! a file's path in the repo, every segment to the end.

use std::borrow::Cow;
use std::sync::LazyLock;

use http::Method;
use percent_encoding::percent_decode_str;

use crate::domain::{RepoId, RepoPath, RepoRef, RepoType, RequestStatus};
use crate::error::{Error, Result};

/// What answers a route. Each is one handler (and, in production, one Lambda function).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Handler {
    WhoAmI,
    AgentHarnesses,
    RepoInfo,
    AuthCheck,
    AuthCheckWrite,
    UpdateSettings,
    ListRequests,
    HandleRequest,
    GrantAccess,
    OwnRequest,
    WithdrawRequest,
    AccessReport,
    AskAccess,
    ResolveFile,
    RevisionInfo,
    ListTree,
    SignIn,
    RepoPage,
    RepoSettings,
}

impl Handler {
    pub const ALL: [Handler; 19] = [
        Handler::WhoAmI,
        Handler::AgentHarnesses,
        Handler::RepoInfo,
        Handler::AuthCheck,
        Handler::AuthCheckWrite,
        Handler::UpdateSettings,
        Handler::ListRequests,
        Handler::HandleRequest,
        Handler::GrantAccess,
        Handler::OwnRequest,
        Handler::WithdrawRequest,
        Handler::AccessReport,
        Handler::AskAccess,
        Handler::ResolveFile,
        Handler::RevisionInfo,
        Handler::ListTree,
        Handler::SignIn,
        Handler::RepoPage,
        Handler::RepoSettings,
    ];

    /// The Lambda function that runs this handler: crate `functions/<name>`, binary `<name>`.
    pub const fn function_name(self) -> &'static str {
        match self {
            Handler::WhoAmI => "whoami",
            Handler::AgentHarnesses => "agent-harnesses",
            Handler::RepoInfo => "repo-info",
            Handler::AuthCheck => "auth-check",
            Handler::AuthCheckWrite => "auth-check-write",
            Handler::UpdateSettings => "update-settings",
            Handler::ListRequests => "list-requests",
            Handler::HandleRequest => "handle-request",
            Handler::GrantAccess => "grant-access",
            Handler::OwnRequest => "own-request",
            Handler::WithdrawRequest => "withdraw-request",
            Handler::AccessReport => "access-report",
            Handler::AskAccess => "ask-access",
            Handler::RevisionInfo => "revision-info",
            Handler::ListTree => "list-tree",
            Handler::ResolveFile => "edge-worker",
            Handler::SignIn => "sign-in",
            Handler::RepoPage => "repo-page",
            Handler::RepoSettings => "repo-settings",
        }
    }

    /// Whether this handler answers with web pages (`crate::web`) rather than JSON.
    pub const fn is_page(self) -> bool {
        matches!(
            self,
            Handler::SignIn | Handler::RepoPage | Handler::RepoSettings
        )
    }

    /// Whether the answer is streamed (the access report and file content, of any size). API
    /// Gateway HTTP APIs buffer answers, so such a handler is reached through a streaming
    /// function URL behind CloudFront instead.
    pub const fn streams(self) -> bool {
        matches!(self, Handler::AccessReport | Handler::ResolveFile)
    }
}

#[derive(Debug)]
pub struct Route {
    pub method: Method,
    pub pattern: &'static str,
    pub handler: Handler,
}

const fn route(method: Method, pattern: &'static str, handler: Handler) -> Route {
    Route {
        method,
        pattern,
        handler,
    }
}

/// Earlier routes win: literal paths come before the `{status}` and bare `{repo}` routes
/// that would otherwise swallow them.
pub static ROUTES: &[Route] = &[
    route(Method::GET, "/api/whoami-v2", Handler::WhoAmI),
    route(Method::GET, "/api/agent-harnesses", Handler::AgentHarnesses),
    route(
        Method::GET,
        "/api/{type}/{repo}/auth-check",
        Handler::AuthCheck,
    ),
    route(
        Method::GET,
        "/api/{type}/{repo}/auth-check/write",
        Handler::AuthCheckWrite,
    ),
    route(
        Method::PUT,
        "/api/{type}/{repo}/settings",
        Handler::UpdateSettings,
    ),
    route(
        Method::POST,
        "/api/{type}/{repo}/user-access-request/handle",
        Handler::HandleRequest,
    ),
    route(
        Method::POST,
        "/api/{type}/{repo}/user-access-request/grant",
        Handler::GrantAccess,
    ),
    route(
        Method::POST,
        "/api/{type}/{repo}/user-access-request/cancel",
        Handler::WithdrawRequest,
    ),
    route(
        Method::GET,
        "/api/{type}/{repo}/user-access-request/me",
        Handler::OwnRequest,
    ),
    route(
        Method::GET,
        "/api/{type}/{repo}/user-access-request/report",
        Handler::AccessReport,
    ),
    route(
        Method::GET,
        "/api/{type}/{repo}/user-access-request/{status}",
        Handler::ListRequests,
    ),
    route(
        Method::GET,
        "/api/{type}/{repo}/revision/{rev}",
        Handler::RevisionInfo,
    ),
    route(
        Method::GET,
        "/api/{type}/{repo}/tree/{rev}",
        Handler::ListTree,
    ),
    route(
        Method::GET,
        "/api/{type}/{repo}/tree/{rev}/{path}",
        Handler::ListTree,
    ),
    route(Method::GET, "/api/{type}/{repo}", Handler::RepoInfo),
    route(
        Method::POST,
        "/datasets/{repo}/ask-access",
        Handler::AskAccess,
    ),
    route(
        Method::POST,
        "/spaces/{repo}/ask-access",
        Handler::AskAccess,
    ),
    route(Method::POST, "/{repo}/ask-access", Handler::AskAccess),
    route(
        Method::GET,
        "/datasets/{repo}/resolve/{rev}/{path}",
        Handler::ResolveFile,
    ),
    route(
        Method::GET,
        "/spaces/{repo}/resolve/{rev}/{path}",
        Handler::ResolveFile,
    ),
    route(
        Method::GET,
        "/{repo}/resolve/{rev}/{path}",
        Handler::ResolveFile,
    ),
    // Web pages. Each comes after the API and content routes, whose literal segments it would
    // otherwise swallow, and the typed prefixes before the bare `{repo}`.
    route(Method::GET, "/login", Handler::SignIn),
    route(Method::POST, "/login", Handler::SignIn),
    route(Method::POST, "/logout", Handler::SignIn),
    route(
        Method::GET,
        "/datasets/{repo}/settings/requests/{status}",
        Handler::RepoSettings,
    ),
    route(
        Method::POST,
        "/datasets/{repo}/settings/requests",
        Handler::RepoSettings,
    ),
    route(
        Method::GET,
        "/datasets/{repo}/settings",
        Handler::RepoSettings,
    ),
    route(
        Method::POST,
        "/datasets/{repo}/settings",
        Handler::RepoSettings,
    ),
    route(
        Method::POST,
        "/datasets/{repo}/withdraw-request",
        Handler::RepoPage,
    ),
    route(
        Method::GET,
        "/spaces/{repo}/settings/requests/{status}",
        Handler::RepoSettings,
    ),
    route(
        Method::POST,
        "/spaces/{repo}/settings/requests",
        Handler::RepoSettings,
    ),
    route(
        Method::GET,
        "/spaces/{repo}/settings",
        Handler::RepoSettings,
    ),
    route(
        Method::POST,
        "/spaces/{repo}/settings",
        Handler::RepoSettings,
    ),
    route(
        Method::POST,
        "/spaces/{repo}/withdraw-request",
        Handler::RepoPage,
    ),
    route(
        Method::GET,
        "/{repo}/settings/requests/{status}",
        Handler::RepoSettings,
    ),
    route(
        Method::POST,
        "/{repo}/settings/requests",
        Handler::RepoSettings,
    ),
    route(Method::GET, "/{repo}/settings", Handler::RepoSettings),
    route(Method::POST, "/{repo}/settings", Handler::RepoSettings),
    route(Method::POST, "/{repo}/withdraw-request", Handler::RepoPage),
    route(Method::GET, "/datasets/{repo}", Handler::RepoPage),
    route(Method::GET, "/spaces/{repo}", Handler::RepoPage),
    route(Method::GET, "/{repo}", Handler::RepoPage),
];

impl Route {
    /// The API Gateway route paths this pattern stands for. API Gateway has no placeholder
    /// for "one or two segments", so every `{repo}` becomes two routes: `{repoPart1}` and
    /// `{repoPart1}/{repoPart2}`. Variables are named by position, never by meaning, because
    /// an HTTP API refuses two routes with differently named variables at the same level.
    /// API Gateway prefers literal segments to variables, as the table's order does here.
    pub fn api_gateway_paths(&self) -> Vec<String> {
        let mut paths = vec![String::new()];
        for part in self.pattern[1..].split('/') {
            let choices: &[&str] = match part {
                "{type}" => &["{repoType}"],
                "{repo}" => &["{repoPart1}", "{repoPart1}/{repoPart2}"],
                "{status}" => &["{status}"],
                "{rev}" => &["{revision}"],
                "{path}" => &["{path+}"],
                literal => &[literal],
            };
            paths = paths
                .iter()
                .flat_map(|path| choices.iter().map(move |choice| format!("{path}/{choice}")))
                .collect();
        }
        paths
    }
}

/// One route as API Gateway (or a function URL, for handlers that stream) declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayRoute {
    pub method: Method,
    /// The table's pattern this path comes from.
    pub pattern: &'static str,
    pub path: String,
    pub handler: Handler,
}

/// Every route of the table as the deployed gateway declares it, in table order.
pub fn gateway_routes() -> Vec<GatewayRoute> {
    ROUTES
        .iter()
        .flat_map(|route| {
            route
                .api_gateway_paths()
                .into_iter()
                .map(|path| GatewayRoute {
                    method: route.method.clone(),
                    pattern: route.pattern,
                    path,
                    handler: route.handler,
                })
        })
        .collect()
}

/// A request path matched to a route, with its placeholders read into domain types.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteMatch {
    pub handler: Handler,
    /// The routing table's pattern that matched.
    pub pattern: &'static str,
    pub repo: Option<RepoRef>,
    pub status: Option<RequestStatus>,
    /// As the client sent it, decoded: checked against the repo's commits by the handler.
    pub revision: Option<String>,
    pub path: Option<RepoPath>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(&'static str),
    RepoType,
    Repo,
    Status,
    Revision,
    /// The rest of the path; always the pattern's last segment.
    Path,
}

struct CompiledRoute {
    route: &'static Route,
    segments: Vec<Segment>,
    /// The type of web routes (`/datasets/{repo}/…`), which name it by their prefix.
    implied_type: RepoType,
}

static COMPILED: LazyLock<Vec<CompiledRoute>> = LazyLock::new(|| {
    ROUTES
        .iter()
        .map(|route| {
            let segments: Vec<Segment> = route.pattern[1..]
                .split('/')
                .map(|part| match part {
                    "{type}" => Segment::RepoType,
                    "{repo}" => Segment::Repo,
                    "{status}" => Segment::Status,
                    "{rev}" => Segment::Revision,
                    "{path}" => Segment::Path,
                    literal => Segment::Literal(literal),
                })
                .collect();
            let implied_type = match segments.first() {
                Some(Segment::Literal("datasets")) => RepoType::Dataset,
                Some(Segment::Literal("spaces")) => RepoType::Space,
                _ => RepoType::Model,
            };
            CompiledRoute {
                route,
                segments,
                implied_type,
            }
        })
        .collect()
});

/// Finds the route for a method and raw (percent-encoded) path. A path that matches some
/// route but not with this method is a 405; one that matches none is a 404.
pub fn find(method: &Method, raw_path: &str) -> Result<RouteMatch> {
    let segments = decode_segments(raw_path)?;
    let parts: Vec<&str> = segments.iter().map(AsRef::as_ref).collect();
    let mut allowed = Vec::new();
    for compiled in COMPILED.iter() {
        let Some(captured) = match_segments(&compiled.segments, &parts) else {
            continue;
        };
        let route_method = &compiled.route.method;
        let head_of_get = *method == Method::HEAD && *route_method == Method::GET;
        if route_method != method && !head_of_get {
            if !allowed.contains(route_method) {
                allowed.push(route_method.clone());
            }
            continue;
        }
        return captured.into_match(compiled);
    }
    if allowed.is_empty() {
        if parts.iter().any(|part| part.contains('/')) {
            return Err(Error::BadRequest(
                "Encoded slashes are allowed in a revision, nowhere else in a path".into(),
            ));
        }
        Err(Error::NoSuchRoute)
    } else {
        Err(Error::MethodNotAllowed(allowed))
    }
}

#[derive(Default)]
struct Captured<'a> {
    repo_type: Option<&'a str>,
    repo: Option<String>,
    status: Option<&'a str>,
    revision: Option<&'a str>,
    path: Option<String>,
}

impl Captured<'_> {
    fn into_match(self, compiled: &CompiledRoute) -> Result<RouteMatch> {
        let repo_type = match self.repo_type {
            Some(plural) => RepoType::from_plural(plural).expect("matched against the plurals"),
            None => compiled.implied_type,
        };
        let repo = self
            .repo
            .map(|id| {
                RepoId::parse(&id)
                    .map(|id| RepoRef::new(repo_type, id))
                    .map_err(|e| Error::BadRequest(format!("Invalid repo id: {e}")))
            })
            .transpose()?;
        let status = self
            .status
            .map(|s| s.parse().expect("matched against the statuses"));
        let path = self
            .path
            .map(|path| RepoPath::parse(&path).map_err(|e| Error::BadRequest(e.to_string())))
            .transpose()?;
        Ok(RouteMatch {
            handler: compiled.route.handler,
            pattern: compiled.route.pattern,
            repo,
            status,
            revision: self.revision.map(str::to_owned),
            path,
        })
    }
}

/// Matches path parts against a pattern; `{repo}` takes two parts or one, whichever lets
/// the rest of the pattern match (two first, so `org/m` wins over `org`).
fn match_segments<'a>(pattern: &[Segment], parts: &[&'a str]) -> Option<Captured<'a>> {
    let (first, rest) = match pattern.split_first() {
        None => return parts.is_empty().then(Captured::default),
        Some(split) => split,
    };
    let (part, remaining) = parts.split_first()?;
    match first {
        Segment::Literal(literal) => (part == literal)
            .then(|| match_segments(rest, remaining))
            .flatten(),
        Segment::RepoType => {
            RepoType::from_plural(part)?;
            let mut captured = match_segments(rest, remaining)?;
            captured.repo_type = Some(part);
            Some(captured)
        }
        Segment::Status => {
            part.parse::<RequestStatus>().ok()?;
            let mut captured = match_segments(rest, remaining)?;
            captured.status = Some(part);
            Some(captured)
        }
        Segment::Revision => {
            let mut captured = match_segments(rest, remaining)?;
            captured.revision = Some(part);
            Some(captured)
        }
        Segment::Path => {
            debug_assert!(rest.is_empty(), "{{path}} ends a pattern");
            if parts.iter().any(|part| part.contains('/')) {
                return None;
            }
            Some(Captured {
                path: Some(parts.join("/")),
                ..Captured::default()
            })
        }
        Segment::Repo => {
            // No user or organization may be named `api` (the Hub reserves it), so `/api/…`
            // never reaches a page or the content of a repo.
            if part.contains('/') || *part == RESERVED_NAMESPACE {
                return None;
            }
            if let Some((name, after_two)) = remaining.split_first()
                && !name.contains('/')
                && let Some(mut captured) = match_segments(rest, after_two)
            {
                captured.repo = Some(format!("{part}/{name}"));
                return Some(captured);
            }
            let mut captured = match_segments(rest, remaining)?;
            captured.repo = Some((*part).to_owned());
            Some(captured)
        }
    }
}

/// The name the API's paths start with, which no repo id may start with.
const RESERVED_NAMESPACE: &str = "api";

/// The longest path gatehouse looks at.
const MAX_PATH_LEN: usize = 8192;

/// Splits a raw path into percent-decoded segments, which must be UTF-8. A decoded segment
/// may hold a `/` (an encoded slash), which only a revision takes: anywhere else it would
/// smuggle one segment in as two. A segment with nothing encoded is borrowed, not copied.
fn decode_segments(raw_path: &str) -> Result<Vec<Cow<'_, str>>> {
    if raw_path.len() > MAX_PATH_LEN {
        return Err(Error::BadRequest(format!(
            "The path is longer than {MAX_PATH_LEN} bytes"
        )));
    }
    let path = raw_path.strip_prefix('/').unwrap_or(raw_path);
    let path = path.strip_suffix('/').unwrap_or(path);
    path.split('/')
        .map(|segment| {
            percent_decode_str(segment)
                .decode_utf8()
                .map_err(|_| Error::BadRequest("The path is not valid UTF-8".into()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handler(method: Method, path: &str) -> Handler {
        find(&method, path).unwrap().handler
    }

    #[test]
    fn one_and_two_segment_repo_ids_route_to_the_same_handler() {
        let two = find(&Method::GET, "/api/models/org/m/auth-check").unwrap();
        assert_eq!(two.handler, Handler::AuthCheck);
        assert_eq!(two.repo.unwrap().id.to_string(), "org/m");
        let one = find(&Method::GET, "/api/models/gpt2/auth-check").unwrap();
        assert_eq!(one.repo.unwrap().id.to_string(), "gpt2");
    }

    #[test]
    fn repo_info_takes_the_whole_id() {
        let info = find(&Method::GET, "/api/datasets/org/d").unwrap();
        assert_eq!(info.handler, Handler::RepoInfo);
        let repo = info.repo.unwrap();
        assert_eq!(repo.repo_type, RepoType::Dataset);
        assert_eq!(repo.id.to_string(), "org/d");
    }

    #[test]
    fn literal_request_routes_win_over_the_status_listing() {
        let base = "/api/models/org/m/user-access-request";
        assert_eq!(
            handler(Method::GET, &format!("{base}/me")),
            Handler::OwnRequest
        );
        assert_eq!(
            handler(Method::GET, &format!("{base}/report")),
            Handler::AccessReport
        );
        let listing = find(&Method::GET, &format!("{base}/rejected")).unwrap();
        assert_eq!(listing.handler, Handler::ListRequests);
        assert_eq!(listing.status, Some(RequestStatus::Rejected));
        assert_eq!(
            handler(Method::POST, &format!("{base}/handle")),
            Handler::HandleRequest
        );
    }

    #[test]
    fn ask_access_takes_its_type_from_the_path_prefix() {
        let dataset = find(&Method::POST, "/datasets/org/d/ask-access").unwrap();
        assert_eq!(dataset.repo.unwrap().repo_type, RepoType::Dataset);
        let model = find(&Method::POST, "/org/m/ask-access").unwrap();
        assert_eq!(model.repo.unwrap().repo_type, RepoType::Model);
        let legacy = find(&Method::POST, "/gpt2/ask-access").unwrap();
        assert_eq!(legacy.repo.unwrap().id.to_string(), "gpt2");
    }

    #[test]
    fn head_is_answered_by_get_routes() {
        assert_eq!(
            handler(Method::HEAD, "/api/models/org/m"),
            Handler::RepoInfo
        );
    }

    #[test]
    fn api_paths_never_reach_a_page() {
        for path in ["/api", "/api/", "/api/foo", "/api/models/api/x"] {
            assert!(
                matches!(find(&Method::GET, path), Err(Error::NoSuchRoute)),
                "{path}"
            );
        }
        assert_eq!(handler(Method::GET, "/org/m"), Handler::RepoPage);
        assert_eq!(handler(Method::GET, "/datasets/org/d"), Handler::RepoPage);
        assert_eq!(
            handler(Method::GET, "/org/m/settings"),
            Handler::RepoSettings
        );
        assert_eq!(
            handler(Method::GET, "/org/m/settings/requests/pending"),
            Handler::RepoSettings
        );
    }

    #[test]
    fn a_known_path_with_the_wrong_method_is_not_allowed() {
        assert!(matches!(
            find(&Method::DELETE, "/api/whoami-v2"),
            Err(Error::MethodNotAllowed(methods)) if methods == vec![Method::GET]
        ));
    }

    #[test]
    fn unknown_paths_and_types_match_nothing() {
        assert!(matches!(
            find(&Method::GET, "/api/foos/org/m"),
            Err(Error::NoSuchRoute)
        ));
        assert!(matches!(
            find(&Method::GET, "/api/models/a/b/c/d"),
            Err(Error::NoSuchRoute)
        ));
        assert!(matches!(
            find(&Method::GET, "/api/models/org/m/user-access-request/maybe"),
            Err(Error::NoSuchRoute) | Err(Error::MethodNotAllowed(_))
        ));
    }

    #[test]
    fn every_handler_has_a_function_of_its_own() {
        let names: std::collections::HashSet<_> =
            Handler::ALL.iter().map(|h| h.function_name()).collect();
        assert_eq!(names.len(), Handler::ALL.len());
        for handler in Handler::ALL {
            assert!(ROUTES.iter().any(|r| r.handler == handler), "{handler:?}");
        }
        assert!(ROUTES.iter().all(|r| Handler::ALL.contains(&r.handler)));
    }

    #[test]
    fn a_repo_placeholder_expands_to_one_and_two_segment_gateway_paths() {
        let settings = ROUTES
            .iter()
            .find(|r| r.handler == Handler::UpdateSettings)
            .unwrap();
        assert_eq!(
            settings.api_gateway_paths(),
            [
                "/api/{repoType}/{repoPart1}/settings",
                "/api/{repoType}/{repoPart1}/{repoPart2}/settings"
            ]
        );
        let whoami = ROUTES
            .iter()
            .find(|r| r.handler == Handler::WhoAmI)
            .unwrap();
        assert_eq!(whoami.api_gateway_paths(), ["/api/whoami-v2"]);
    }

    /// Fills a gateway path's variables with sample values, as a client's request would.
    fn sample_path(gateway_path: &str, repo_type: &str) -> String {
        gateway_path
            .replace("{repoType}", repo_type)
            .replace("{repoPart1}", "org")
            .replace("{repoPart2}", "m")
            .replace("{status}", "accepted")
            .replace("{revision}", "main")
            .replace("{path+}", "sub/config.json")
    }

    #[test]
    fn every_gateway_path_routes_back_to_its_handler() {
        for route in gateway_routes() {
            for repo_type in ["models", "datasets", "spaces"] {
                let path = sample_path(&route.path, repo_type);
                let matched = find(&route.method, &path).unwrap();
                assert_eq!(matched.handler, route.handler, "{} {path}", route.method);
            }
        }
    }

    #[test]
    fn gateway_routes_are_unique_and_name_variables_alike_at_each_level() {
        let routes = gateway_routes();
        let mut keys = std::collections::HashSet::new();
        for route in &routes {
            assert!(
                keys.insert((route.method.clone(), route.path.clone())),
                "{route:?}"
            );
        }
        // API Gateway sees `/a/{x}` and `/a/{y}/b` as a conflict: same parent, two names.
        let mut variable_at = std::collections::HashMap::new();
        for route in &routes {
            let parts: Vec<&str> = route.path.split('/').collect();
            for (depth, part) in parts.iter().enumerate() {
                if part.starts_with('{') {
                    let parent = parts[..depth].join("/");
                    let name = variable_at.entry(parent.clone()).or_insert(*part);
                    assert_eq!(name, part, "two variable names under {parent}");
                }
            }
        }
    }

    #[test]
    fn bad_ids_encoded_slashes_and_long_paths_are_bad_requests() {
        for path in [
            "/api/models/org/a--b",
            "/api/models/../etc",
            "/api/models/org%2Fm/auth-check",
            "/api/models/%ff/auth-check",
        ] {
            assert!(
                matches!(find(&Method::GET, path), Err(Error::BadRequest(_))),
                "{path}"
            );
        }
        let long = format!("/api/models/{}", "a".repeat(MAX_PATH_LEN + 1));
        assert!(matches!(
            find(&Method::GET, &long),
            Err(Error::BadRequest(_))
        ));
    }

    #[test]
    fn a_resolve_path_names_the_repo_its_type_the_revision_and_the_file() {
        let cases = [
            (
                "/org/m/resolve/main/config.json",
                "org/m",
                RepoType::Model,
                "main",
                "config.json",
            ),
            (
                "/gpt2/resolve/main/a/b.bin",
                "gpt2",
                RepoType::Model,
                "main",
                "a/b.bin",
            ),
            (
                "/datasets/org/d/resolve/main/data.csv",
                "org/d",
                RepoType::Dataset,
                "main",
                "data.csv",
            ),
            (
                "/spaces/org/s/resolve/v1/app.py",
                "org/s",
                RepoType::Space,
                "v1",
                "app.py",
            ),
            (
                "/org/m/resolve/refs%2Fpr%2F1/a%20b.txt",
                "org/m",
                RepoType::Model,
                "refs/pr/1",
                "a b.txt",
            ),
            (
                "/org/resolve/resolve/main/x",
                "org/resolve",
                RepoType::Model,
                "main",
                "x",
            ),
        ];
        for (path, id, repo_type, revision, file) in cases {
            for method in [Method::GET, Method::HEAD] {
                let matched = find(&method, path).unwrap();
                assert_eq!(matched.handler, Handler::ResolveFile, "{path}");
                let repo = matched.repo.unwrap();
                assert_eq!(
                    (repo.id.to_string().as_str(), repo.repo_type),
                    (id, repo_type)
                );
                assert_eq!(matched.revision.as_deref(), Some(revision), "{path}");
                assert_eq!(matched.path.unwrap().as_str(), file, "{path}");
            }
        }
        assert!(matches!(
            find(&Method::POST, "/org/m/resolve/main/config.json"),
            Err(Error::MethodNotAllowed(_))
        ));
    }

    #[test]
    fn revision_and_tree_routes_take_an_optional_folder() {
        let matched = find(&Method::GET, "/api/datasets/org/d/revision/main").unwrap();
        assert_eq!(matched.handler, Handler::RevisionInfo);
        assert_eq!(matched.revision.as_deref(), Some("main"));
        let matched = find(&Method::GET, "/api/models/org/m/tree/main").unwrap();
        assert_eq!((matched.handler, matched.path), (Handler::ListTree, None));
        let matched = find(&Method::GET, "/api/models/gpt2/tree/main/a/b").unwrap();
        assert_eq!(matched.handler, Handler::ListTree);
        assert_eq!(matched.repo.unwrap().id.to_string(), "gpt2");
        assert_eq!(matched.path.unwrap().as_str(), "a/b");
    }

    #[test]
    fn file_paths_that_escape_or_smuggle_segments_are_bad_requests() {
        for path in [
            "/org/m/resolve/main/../secret",
            "/org/m/resolve/main/a/./b",
            "/org/m/resolve/main/a//b",
            "/org/m/resolve/main/a%2Fb",
            "/org/m/resolve/main/%2e%2e/x",
            "/org/m/resolve/main/a%5Cb",
            "/org/m/resolve/main/a%00b",
            "/api/models/org/m/tree/main/..",
        ] {
            assert!(
                matches!(find(&Method::GET, path), Err(Error::BadRequest(_))),
                "{path}: {:?}",
                find(&Method::GET, path)
            );
        }
        let long = format!("/org/m/resolve/main/{}", "a".repeat(1001));
        assert!(matches!(
            find(&Method::GET, &long),
            Err(Error::BadRequest(_))
        ));
    }
}
