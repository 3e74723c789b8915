//! Admin commands: manage users, organizations, tokens and repos in a data dir, and send a
//! digest. With a server running on the data dir, the server runs them (see [`relay`]): it
//! holds the embedded store while it runs.

pub mod relay;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use clap::Subcommand;
use shared::blobs::BlobStore;
use shared::domain::{
    Email, GateMode, Name, NotificationsMode, ObjectId, OrgRole, Organization, RepoId, RepoPath,
    RepoRef, RepoType, Timestamp, TokenRole, TokenSecret, User, Visibility, check_fullname,
    check_token_name,
};
use shared::service::repos::{MAX_FILES_PER_COMMIT, NewRepo, commit_files, create_repo};
use shared::store::{Store, TokenRecord};

use crate::notify::{self, DigestArgs};
use crate::store::StoreArgs;

pub type Outcome = Result<(), Box<dyn std::error::Error>>;

#[derive(Subcommand)]
pub enum AdminCommand {
    #[command(subcommand)]
    User(UserCommand),
    #[command(subcommand)]
    Org(OrgCommand),
    #[command(subcommand)]
    Token(TokenCommand),
    #[command(subcommand)]
    Repo(RepoCommand),
    /// Send the daily digest of new pending requests of one day (yesterday by default), to
    /// DATA_DIR/outbox. A day already sent sends nothing again.
    Digest(DigestArgs),
}

/// What a command works on: a data dir, its store and its blobs.
pub struct Workspace {
    pub data_dir: PathBuf,
    pub store: Arc<dyn Store>,
    pub blobs: Arc<dyn BlobStore>,
}

/// Where a command's lines go: this terminal, or the CLI a server runs the command for.
pub trait Report: Send {
    /// A line of the command's output (standard output).
    fn line(&mut self, line: String);
    /// A line about something that went wrong (standard error).
    fn warning(&mut self, line: String);
}

/// The terminal this process runs in.
pub struct Terminal;

impl Report for Terminal {
    fn line(&mut self, line: String) {
        println!("{line}");
    }

    fn warning(&mut self, line: String) {
        eprintln!("{line}");
    }
}

/// Runs `command` from the command line: on the server running on the data dir when there is
/// one (the embedded store only), or else on the store itself.
pub async fn run_from_cli(
    data_dir: &Path,
    store_args: &StoreArgs,
    command: AdminCommand,
) -> Outcome {
    if store_args.is_sqlite() {
        let args = std::env::args_os().collect();
        let cwd = std::env::current_dir()?;
        let forwarded = relay::forward(data_dir, args, &cwd, &mut Terminal).await?;
        if let relay::Forwarded::Ran(outcome) = forwarded {
            return outcome;
        }
    }
    let workspace = Workspace {
        data_dir: data_dir.to_owned(),
        store: store_args.open(data_dir).await?,
        blobs: store_args.blobs(data_dir).await,
    };
    command.run(&workspace, &mut Terminal).await
}

impl AdminCommand {
    /// Makes the command's file paths absolute from `cwd`, the directory it was given in: a
    /// server runs it from its own.
    pub fn resolve_paths(&mut self, cwd: &Path) {
        match self {
            AdminCommand::Repo(RepoCommand::Readme { file, .. }) => *file = cwd.join(&*file),
            AdminCommand::Repo(RepoCommand::Upload { source, .. }) => {
                *source = cwd.join(&*source);
            }
            _ => {}
        }
    }

    pub async fn run(self, on: &Workspace, report: &mut dyn Report) -> Outcome {
        match self {
            AdminCommand::User(command) => user(on.store.as_ref(), command, report).await,
            AdminCommand::Org(command) => org(on.store.as_ref(), command, report).await,
            AdminCommand::Token(command) => token(on.store.as_ref(), command, report).await,
            AdminCommand::Repo(command) => repo(on, command, report).await,
            AdminCommand::Digest(args) => {
                notify::digest(&on.data_dir, on.store.clone(), args, report).await
            }
        }
    }
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user.
    Add {
        name: Name,
        #[arg(long, value_parser = fullname)]
        fullname: Option<String>,
        #[arg(long, value_parser = Email::parse)]
        email: Option<Email>,
    },
}

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Add an organization.
    Add {
        name: Name,
        #[arg(long, value_parser = fullname)]
        fullname: Option<String>,
    },
    /// Add a member, after those who joined before.
    AddMember {
        org: Name,
        user: Name,
        #[arg(long, default_value = "read")]
        role: OrgRole,
    },
    /// Remove a member.
    RemoveMember { org: Name, user: Name },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret, once.
    Create {
        user: Name,
        /// The token's display name, unique per user.
        #[arg(long, value_parser = token_name)]
        name: String,
        #[arg(long, default_value = "read")]
        role: TokenRole,
    },
    /// Revoke a token by its display name.
    Revoke { user: Name, name: String },
}

#[derive(Subcommand)]
pub enum RepoCommand {
    /// Create an empty repo.
    Create {
        id: RepoId,
        #[arg(long = "type", default_value = "model")]
        repo_type: RepoType,
        /// off, auto or manual.
        #[arg(long, default_value = "off", value_parser = parse_gate)]
        gated: GateMode,
        #[arg(long)]
        private: bool,
        /// The owner of a one-segment id.
        #[arg(long)]
        owner: Option<Name>,
    },
    /// Set a repo's README.md (its front matter is the gate card).
    Readme {
        id: RepoId,
        file: PathBuf,
        #[arg(long = "type", default_value = "model")]
        repo_type: RepoType,
    },
    /// Add a file, or every file under a folder, to main: a new commit for each 98 files.
    Upload {
        id: RepoId,
        /// A file, or a folder whose files keep their paths below it (`.git` is left out).
        source: PathBuf,
        /// Where it goes in the repo: a file's path (default: its name), or the folder its
        /// files go under (default: the repo's root).
        #[arg(long)]
        path_in_repo: Option<String>,
        #[arg(long = "type", default_value = "model")]
        repo_type: RepoType,
    },
}

fn fullname(text: &str) -> Result<String, String> {
    check_fullname(text).map(|()| text.to_owned())
}

fn token_name(text: &str) -> Result<String, String> {
    check_token_name(text).map(|()| text.to_owned())
}

fn parse_gate(text: &str) -> Result<GateMode, String> {
    match text {
        "false" => Ok(GateMode::Off),
        other => GateMode::from_stored(other)
            .ok_or_else(|| format!("'{other}': expected off (or false), auto or manual")),
    }
}

async fn user(store: &dyn Store, command: UserCommand, report: &mut dyn Report) -> Outcome {
    match command {
        UserCommand::Add {
            name,
            fullname,
            email,
        } => {
            let user = User {
                id: ObjectId::random(),
                fullname: fullname.unwrap_or_else(|| name.to_string()),
                name,
                email,
                created_at: Timestamp::now(),
            };
            store.create_user(&user).await?;
            report.line(format!("added user {}", user.name));
        }
    }
    Ok(())
}

async fn org(store: &dyn Store, command: OrgCommand, report: &mut dyn Report) -> Outcome {
    match command {
        OrgCommand::Add { name, fullname } => {
            let org = Organization {
                id: ObjectId::random(),
                fullname: fullname.unwrap_or_else(|| name.to_string()),
                name,
                created_at: Timestamp::now(),
            };
            store.create_organization(&org).await?;
            report.line(format!("added organization {}", org.name));
        }
        OrgCommand::AddMember { org, user, role } => {
            store
                .add_member(&org, &user, role, Timestamp::now())
                .await?;
            report.line(format!("added {user} to {org} as {}", role.as_str()));
        }
        OrgCommand::RemoveMember { org, user } => {
            store.remove_member(&org, &user).await?;
            report.line(format!("removed {user} from {org}"));
        }
    }
    Ok(())
}

async fn token(store: &dyn Store, command: TokenCommand, report: &mut dyn Report) -> Outcome {
    match command {
        TokenCommand::Create { user, name, role } => {
            if store.user(&user).await?.is_none() {
                return Err(format!("no user named '{user}'").into());
            }
            let secret = TokenSecret::generate();
            store
                .create_token(&TokenRecord {
                    user,
                    role,
                    display_name: name,
                    digest: secret.digest(),
                    created_at: Timestamp::now(),
                })
                .await?;
            // The secret is shown this once; only its digest is stored.
            report.line(secret.expose().to_owned());
        }
        TokenCommand::Revoke { user, name } => {
            store.revoke_token(&user, &name).await?;
            report.line(format!("revoked token '{name}' of {user}"));
        }
    }
    Ok(())
}

async fn repo(on: &Workspace, command: RepoCommand, report: &mut dyn Report) -> Outcome {
    let (store, blobs) = (on.store.as_ref(), on.blobs.as_ref());
    match command {
        RepoCommand::Create {
            id,
            repo_type,
            gated,
            private,
            owner,
        } => {
            let repo = RepoRef::new(repo_type, id);
            create_repo(
                store,
                NewRepo {
                    repo: repo.clone(),
                    owner,
                    visibility: Visibility::from_private(private),
                    gate: gated,
                    notifications_mode: NotificationsMode::default(),
                    notifications_email: None,
                    requester_emails: true,
                },
            )
            .await?;
            report.line(format!("created {repo}"));
        }
        RepoCommand::Readme {
            id,
            file,
            repo_type,
        } => {
            let repo = RepoRef::new(repo_type, id);
            let readme =
                std::fs::read(&file).map_err(|e| format!("reading {}: {e}", file.display()))?;
            let updated = commit_files(
                store,
                blobs,
                &repo,
                vec![("README.md".into(), Bytes::from(readme))],
            )
            .await?;
            report.line(format!("{repo} is now at commit {}", updated.sha));
        }
        RepoCommand::Upload {
            id,
            source,
            path_in_repo,
            repo_type,
        } => {
            let repo = RepoRef::new(repo_type, id);
            let files = files_to_upload(&source, path_in_repo.as_deref())?;
            for batch in files.chunks(MAX_FILES_PER_COMMIT) {
                let mut contents = Vec::with_capacity(batch.len());
                for (path, file) in batch {
                    let bytes = std::fs::read(file)
                        .map_err(|e| format!("reading {}: {e}", file.display()))?;
                    contents.push((path.clone(), Bytes::from(bytes)));
                }
                let updated = commit_files(store, blobs, &repo, contents).await?;
                report.line(format!(
                    "{repo} is now at commit {} ({} files)",
                    updated.sha,
                    batch.len()
                ));
            }
        }
    }
    Ok(())
}

/// The files an upload adds, as (path in the repo, file on disk), sorted by path. Every path
/// is checked before anything is written, so a bad name commits nothing.
fn files_to_upload(
    source: &Path,
    path_in_repo: Option<&str>,
) -> Result<Vec<(String, PathBuf)>, String> {
    let metadata =
        std::fs::metadata(source).map_err(|e| format!("reading {}: {e}", source.display()))?;
    let mut files = Vec::new();
    if metadata.is_file() {
        let name = match path_in_repo {
            Some(path) => path.to_owned(),
            None => utf8_name(source.file_name().map(Path::new).unwrap_or(source))?,
        };
        files.push((name, source.to_owned()));
    } else {
        let prefix = path_in_repo.map(|p| p.trim_matches('/')).unwrap_or("");
        let walk = walkdir::WalkDir::new(source)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|entry| entry.file_name() != ".git");
        for entry in walk {
            let entry = entry.map_err(|e| format!("reading {}: {e}", source.display()))?;
            if !entry.file_type().is_file() {
                continue;
            }
            let relative = entry
                .path()
                .strip_prefix(source)
                .expect("walkdir yields paths under its root");
            let relative = utf8_name(relative)?;
            let path = if prefix.is_empty() {
                relative
            } else {
                format!("{prefix}/{relative}")
            };
            files.push((path, entry.into_path()));
        }
        if files.is_empty() {
            return Err(format!("{} holds no files", source.display()));
        }
    }
    for (path, _) in &files {
        RepoPath::parse(path).map_err(|e| format!("{path}: {e}"))?;
    }
    // README.md is the one file a commit may refuse for what it holds (its card), so it goes
    // in the first commit: a refusal then comes before anything has landed.
    files.sort_by_key(|(path, _)| path != "README.md");
    Ok(files)
}

/// A path as the repo names it: UTF-8, segments joined by `/`.
fn utf8_name(path: &Path) -> Result<String, String> {
    let segments: Option<Vec<&str>> = path.iter().map(|segment| segment.to_str()).collect();
    segments
        .map(|segments| segments.join("/"))
        .ok_or_else(|| format!("{} is not a UTF-8 name", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for file in files {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, file.as_bytes()).unwrap();
        }
        dir
    }

    fn paths(files: &[(String, PathBuf)]) -> Vec<&str> {
        files.iter().map(|(path, _)| path.as_str()).collect()
    }

    #[test]
    fn a_folder_uploads_its_files_by_relative_path_without_git() {
        let dir = folder(&[
            "config.json",
            "weights/a.bin",
            "weights/b/c.bin",
            ".git/HEAD",
        ]);
        let files = files_to_upload(dir.path(), None).unwrap();
        assert_eq!(
            paths(&files),
            ["config.json", "weights/a.bin", "weights/b/c.bin"]
        );
        assert_eq!(files[1].1, dir.path().join("weights/a.bin"));
        let under = files_to_upload(dir.path(), Some("/sub/")).unwrap();
        assert_eq!(paths(&under)[0], "sub/config.json");
    }

    #[test]
    fn the_readme_goes_first_so_a_refused_card_stops_the_upload_before_any_commit() {
        let dir = folder(&["a.bin", "README.md", "z/README.md"]);
        let files = files_to_upload(dir.path(), None).unwrap();
        assert_eq!(paths(&files), ["README.md", "a.bin", "z/README.md"]);
    }

    #[test]
    fn a_file_uploads_under_its_name_or_the_path_given() {
        let dir = folder(&["weights/model.bin"]);
        let file = dir.path().join("weights/model.bin");
        assert_eq!(paths(&files_to_upload(&file, None).unwrap()), ["model.bin"]);
        assert_eq!(
            paths(&files_to_upload(&file, Some("w/m.bin")).unwrap()),
            ["w/m.bin"]
        );
    }

    #[test]
    fn a_bad_name_an_empty_folder_or_a_missing_source_upload_nothing() {
        let dir = folder(&["ok.txt", "bad\\name.txt"]);
        let error = files_to_upload(dir.path(), None).unwrap_err();
        assert!(error.contains("not a valid file path"), "{error}");
        let file = dir.path().join("ok.txt");
        assert!(files_to_upload(&file, Some("../escape")).is_err());
        let empty = tempfile::tempdir().unwrap();
        assert!(
            files_to_upload(empty.path(), None)
                .unwrap_err()
                .contains("holds no files")
        );
        assert!(files_to_upload(&dir.path().join("missing"), None).is_err());
    }
}
