//! Repo content behind the gate: file downloads (hf-wire §7), a revision's info and its tree
//! (§7.6), as `hf_hub_download`, `snapshot_download` and `list_repo_files` call them.

use std::collections::BTreeMap;
use std::ops::Range;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::header::{
    ACCEPT_RANGES, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, LOCATION, RANGE,
};
use http::{Response, StatusCode};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

use super::repos::info_json;
use crate::api::json::{ok_json, query, query_value};
use crate::api::{Body, Exchange};
use crate::domain::{RepoPath, RepoRef};
use crate::error::{Error, Result};
use crate::service::Presented;
use crate::service::content::{ResolvedFile, readable_revision, resolve_file};
use crate::store::FileEntry;

/// `HEAD` and `GET /{repo}/resolve/{rev}/{path}`: the file's metadata in headers (a HEAD
/// never reads the blob), and on a GET its bytes, streamed, or a redirect to a blob store
/// that serves them itself; one `Range` gets a 206.
pub async fn resolve(
    exchange: &Exchange<'_>,
    credentials: Option<Presented>,
    repo: &RepoRef,
    revision: &str,
    path: &RepoPath,
) -> Result<Response<Body>> {
    let store = exchange.app.store.as_ref();
    let country = exchange.viewer_country();
    let resolved = resolve_file(store, credentials, repo, revision, path, country).await?;
    let file = &resolved.file;
    let range = requested_range(exchange, file.size)?;
    let head = exchange.request.method() == http::Method::HEAD;
    if !head && let Some(url) = blobs(exchange)?.download_url(&file.sha256).await? {
        return Ok(redirect_to_blob(&url, &resolved));
    }
    let served = range.clone().unwrap_or(0..file.size);
    let mut response = Response::builder()
        .header("x-repo-commit", &resolved.commit)
        .header(ETAG, format!("\"{}\"", file.oid))
        .header(ACCEPT_RANGES, "bytes")
        .header(CONTENT_TYPE, "application/octet-stream")
        .header(CONTENT_LENGTH, served.end - served.start);
    if range.is_some() {
        response = response.status(StatusCode::PARTIAL_CONTENT).header(
            CONTENT_RANGE,
            format!("bytes {}-{}/{}", served.start, served.end - 1, file.size),
        );
    }
    let body = if head || served.is_empty() {
        Body::empty()
    } else {
        Body::Stream(blobs(exchange)?.read(&file.sha256, served).await?)
    };
    Ok(response.body(body).expect("the headers are valid"))
}

/// A 302 to where the blob store serves the file, another origin: the client reads the
/// file's metadata from this answer (hf-wire §7.2), and sends its `Range`, if any, there.
fn redirect_to_blob(url: &str, resolved: &ResolvedFile) -> Response<Body> {
    let file = &resolved.file;
    Response::builder()
        .status(StatusCode::FOUND)
        .header(LOCATION, url)
        .header("x-repo-commit", &resolved.commit)
        .header("x-linked-etag", format!("\"{}\"", file.oid))
        .header("x-linked-size", file.size)
        .header(ETAG, format!("\"{}\"", file.oid))
        .body(Body::empty())
        .expect("the headers are valid")
}

fn blobs<'a>(exchange: &'a Exchange<'_>) -> Result<&'a dyn crate::blobs::BlobStore> {
    exchange
        .app
        .blobs
        .as_deref()
        .ok_or(Error::ContentNotServedHere)
}

/// The one byte range a `Range` header asks for, if it asks: a header gatehouse cannot read
/// is refused rather than ignored, and a range past the end is a 416.
fn requested_range(exchange: &Exchange<'_>, size: u64) -> Result<Option<Range<u64>>> {
    let Some(value) = exchange.request.headers().get(RANGE) else {
        return Ok(None);
    };
    let invalid = || {
        let shown: String = String::from_utf8_lossy(value.as_bytes())
            .chars()
            .take(100)
            .collect();
        Error::BadRequest(format!("Invalid Range header: {shown}"))
    };
    let text = value.to_str().map_err(|_| invalid())?;
    let parsed = http_range_header::parse_range_header(text).map_err(|_| invalid())?;
    let ranges = parsed
        .validate(size)
        .map_err(|_| Error::RangeNotSatisfiable { size })?;
    match ranges.as_slice() {
        [range] => Ok(Some(*range.start()..range.end() + 1)),
        _ => Err(Error::BadRequest(
            "gatehouse answers one byte range per request".into(),
        )),
    }
}

/// `GET /api/{type}/{repo}/revision/{rev}`: the repo's info at that revision, `sha` and
/// `siblings` among it; gated like the content.
pub async fn revision_info(
    exchange: &Exchange<'_>,
    credentials: Option<Presented>,
    repo: &RepoRef,
    revision: &str,
) -> Result<Response<Body>> {
    let store = exchange.app.store.as_ref();
    let country = exchange.viewer_country();
    let (view, _) = readable_revision(store, credentials, repo, revision, country).await?;
    let files = store.files(repo).await?;
    ok_json(&info_json(&view, &files))
}

/// How many entries a page of a tree holds.
const TREE_PAGE_SIZE: usize = 1000;

/// `GET /api/{type}/{repo}/tree/{rev}[/{path}]`: the files and folders under a folder (the
/// root without a path), all the way down with `recursive=true`, sorted by path, a page at a
/// time with an absolute `Link` to the next.
pub async fn tree(
    exchange: &Exchange<'_>,
    credentials: Option<Presented>,
    repo: &RepoRef,
    revision: &str,
    folder: Option<&RepoPath>,
) -> Result<Response<Body>> {
    let store = exchange.app.store.as_ref();
    let country = exchange.viewer_country();
    let (_, commit) = readable_revision(store, credentials, repo, revision, country).await?;
    let pairs = query(exchange.request)?;
    let recursive = match query_value(&pairs, "recursive").as_deref() {
        None | Some("false" | "False" | "0") => false,
        Some("true" | "True" | "1") => true,
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "recursive must be true or false, not {:?}",
                other.chars().take(20).collect::<String>()
            )));
        }
    };
    let after = match query_value(&pairs, "cursor") {
        None => None,
        Some(cursor) => Some(tree_cursor_path(&cursor)?),
    };
    let files = store.files(repo).await?;
    let entries = tree_entries(&files, folder, recursive).ok_or(Error::EntryNotFound {
        commit: commit.clone(),
    })?;
    let (page, next) = tree_page(&entries, after.as_deref(), TREE_PAGE_SIZE);
    let body: Vec<Value> = page.iter().map(|entry| entry.json()).collect();
    let mut response = ok_json(&Value::Array(body))?;
    if let Some(last) = next {
        let cursor = URL_SAFE_NO_PAD.encode(last);
        let query = if recursive {
            format!("recursive=true&cursor={cursor}")
        } else {
            format!("cursor={cursor}")
        };
        super::link_next(exchange, &mut response, &query)?;
    }
    Ok(response)
}

/// The entries after the path `after`, at most `size` of them, and the path to continue
/// after when more follow.
fn tree_page<'e, 'f>(
    entries: &'e [TreeEntry<'f>],
    after: Option<&str>,
    size: usize,
) -> (&'e [TreeEntry<'f>], Option<&'e str>) {
    let start = after.map_or(0, |after| {
        entries.partition_point(|entry| entry.path() <= after)
    });
    let rest = &entries[start..];
    if rest.len() > size {
        (&rest[..size], Some(rest[size - 1].path()))
    } else {
        (rest, None)
    }
}

fn tree_cursor_path(cursor: &str) -> Result<String> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| Error::BadRequest("Invalid cursor".into()))
}

/// An entry of a tree listing.
#[derive(Debug, PartialEq)]
enum TreeEntry<'a> {
    File(&'a FileEntry),
    /// A folder: its path, and an id derived from what it holds, which changes when that does.
    Folder {
        path: String,
        oid: String,
    },
}

impl TreeEntry<'_> {
    fn path(&self) -> &str {
        match self {
            TreeEntry::File(file) => &file.path,
            TreeEntry::Folder { path, .. } => path,
        }
    }

    fn json(&self) -> Value {
        match self {
            TreeEntry::File(file) => json!({
                "type": "file",
                "oid": file.oid,
                "size": file.size,
                "path": file.path,
            }),
            TreeEntry::Folder { path, oid } => json!({
                "type": "directory",
                "oid": oid,
                "size": 0,
                "path": path,
            }),
        }
    }
}

/// The entries under `folder` (the root when `None`), sorted by path; `None` when there is no
/// such folder. Without `recursive`, only the folder's own files and sub-folders.
fn tree_entries<'a>(
    files: &'a [FileEntry],
    folder: Option<&RepoPath>,
    recursive: bool,
) -> Option<Vec<TreeEntry<'a>>> {
    let prefix = folder.map(|f| format!("{f}/")).unwrap_or_default();
    let mut entries: BTreeMap<String, TreeEntry<'a>> = BTreeMap::new();
    let mut folders: BTreeMap<String, Sha1> = BTreeMap::new();
    let mut found = folder.is_none();
    for file in files {
        let Some(below) = file.path.strip_prefix(&prefix) else {
            continue;
        };
        found = true;
        // Every folder between `folder` and the file, each hashed over what it holds.
        let parts: Vec<&str> = below.split('/').collect();
        for depth in 1..parts.len() {
            let path = format!("{prefix}{}", parts[..depth].join("/"));
            let hash = folders.entry(path).or_default();
            hash.update(file.path.as_bytes());
            hash.update(file.oid.as_bytes());
        }
        if recursive || parts.len() == 1 {
            entries.insert(file.path.clone(), TreeEntry::File(file));
        }
    }
    for (path, hash) in folders {
        let depth = path[prefix.len()..].split('/').count();
        if recursive || depth == 1 {
            let oid = hex::encode(hash.finalize());
            entries.insert(path.clone(), TreeEntry::Folder { path, oid });
        }
    }
    found.then(|| entries.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> FileEntry {
        FileEntry {
            path: path.into(),
            size: 1,
            oid: "0".repeat(40),
            sha256: "0".repeat(64),
        }
    }

    fn listing(files: &[FileEntry], folder: Option<&str>, recursive: bool) -> Option<Vec<String>> {
        let folder = folder.map(|f| RepoPath::parse(f).unwrap());
        tree_entries(files, folder.as_ref(), recursive).map(|entries| {
            entries
                .iter()
                .map(|entry| match entry {
                    TreeEntry::File(file) => file.path.clone(),
                    TreeEntry::Folder { path, .. } => format!("{path}/"),
                })
                .collect()
        })
    }

    #[test]
    fn a_tree_lists_a_folders_own_files_and_folders_or_everything_below_it() {
        let files = [
            file("README.md"),
            file("a/b/c.bin"),
            file("a/x.txt"),
            file("z.json"),
        ];
        assert_eq!(
            listing(&files, None, false).unwrap(),
            ["README.md", "a/", "z.json"]
        );
        assert_eq!(
            listing(&files, None, true).unwrap(),
            ["README.md", "a/", "a/b/", "a/b/c.bin", "a/x.txt", "z.json"]
        );
        assert_eq!(
            listing(&files, Some("a"), false).unwrap(),
            ["a/b/", "a/x.txt"]
        );
        assert_eq!(
            listing(&files, Some("a"), true).unwrap(),
            ["a/b/", "a/b/c.bin", "a/x.txt"]
        );
    }

    #[test]
    fn a_tree_of_a_missing_folder_or_of_a_file_is_none() {
        let files = [file("a/x.txt"), file("ab.txt")];
        assert_eq!(listing(&files, Some("b"), false), None);
        assert_eq!(listing(&files, Some("a/x.txt"), false), None);
        assert_eq!(listing(&[], None, true).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_tree_comes_in_pages_that_continue_after_the_last_path() {
        let files: Vec<FileEntry> = ["a", "b", "c", "d", "e"].map(file).into();
        let entries = tree_entries(&files, None, false).unwrap();
        let paths =
            |page: &[TreeEntry]| page.iter().map(|e| e.path().to_owned()).collect::<Vec<_>>();
        let (page, next) = tree_page(&entries, None, 2);
        assert_eq!(
            (paths(page), next),
            (vec!["a".into(), "b".into()], Some("b"))
        );
        let (page, next) = tree_page(&entries, Some("b"), 2);
        assert_eq!(
            (paths(page), next),
            (vec!["c".into(), "d".into()], Some("d"))
        );
        let (page, next) = tree_page(&entries, Some("d"), 2);
        assert_eq!((paths(page), next), (vec!["e".into()], None));
        let (page, next) = tree_page(&entries, Some("c0"), 5);
        assert_eq!((paths(page), next), (vec!["d".into(), "e".into()], None));
        assert_eq!(tree_page(&entries, None, 5).1, None);
    }

    #[test]
    fn a_folders_id_changes_with_what_it_holds() {
        let oid = |files: &[FileEntry]| match &tree_entries(files, None, false).unwrap()[0] {
            TreeEntry::Folder { oid, .. } => oid.clone(),
            other => panic!("{other:?}"),
        };
        let mut changed = file("a/x.txt");
        changed.oid = "1".repeat(40);
        assert_ne!(oid(&[file("a/x.txt")]), oid(&[changed]));
        assert_eq!(oid(&[file("a/x.txt")]), oid(&[file("a/x.txt")]));
    }
}
