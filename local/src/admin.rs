//! Admin commands: manage users, organizations, tokens and repos in a data dir, with or
//! without a server running on it.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use clap::Subcommand;
use shared::blobs::LocalBlobs;
use shared::domain::{
    Email, GateMode, Name, NotificationsMode, ObjectId, OrgRole, Organization, RepoId, RepoRef,
    RepoType, Timestamp, TokenRole, TokenSecret, User, Visibility, check_fullname,
    check_token_name,
};
use shared::service::repos::{NewRepo, commit_files, create_repo};
use shared::store::TokenRecord;

use crate::store::StoreArgs;

type Outcome = Result<(), Box<dyn std::error::Error>>;

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

pub async fn user(data_dir: &Path, store: &StoreArgs, command: UserCommand) -> Outcome {
    let store = store.open(data_dir).await?;
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
            println!("added user {}", user.name);
        }
    }
    Ok(())
}

pub async fn org(data_dir: &Path, store: &StoreArgs, command: OrgCommand) -> Outcome {
    let store = store.open(data_dir).await?;
    match command {
        OrgCommand::Add { name, fullname } => {
            let org = Organization {
                id: ObjectId::random(),
                fullname: fullname.unwrap_or_else(|| name.to_string()),
                name,
                created_at: Timestamp::now(),
            };
            store.create_organization(&org).await?;
            println!("added organization {}", org.name);
        }
        OrgCommand::AddMember { org, user, role } => {
            store
                .add_member(&org, &user, role, Timestamp::now())
                .await?;
            println!("added {user} to {org} as {}", role.as_str());
        }
        OrgCommand::RemoveMember { org, user } => {
            store.remove_member(&org, &user).await?;
            println!("removed {user} from {org}");
        }
    }
    Ok(())
}

pub async fn token(data_dir: &Path, store: &StoreArgs, command: TokenCommand) -> Outcome {
    let store = store.open(data_dir).await?;
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
            println!("{}", secret.expose());
        }
        TokenCommand::Revoke { user, name } => {
            store.revoke_token(&user, &name).await?;
            println!("revoked token '{name}' of {user}");
        }
    }
    Ok(())
}

pub async fn repo(data_dir: &Path, store: &StoreArgs, command: RepoCommand) -> Outcome {
    let store = store.open(data_dir).await?;
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
                store.as_ref(),
                NewRepo {
                    repo: repo.clone(),
                    owner,
                    visibility: Visibility::from_private(private),
                    gate: gated,
                    notifications_mode: NotificationsMode::default(),
                    notifications_email: None,
                },
            )
            .await?;
            println!("created {repo}");
        }
        RepoCommand::Readme {
            id,
            file,
            repo_type,
        } => {
            let repo = RepoRef::new(repo_type, id);
            let readme =
                std::fs::read(&file).map_err(|e| format!("reading {}: {e}", file.display()))?;
            let blobs = LocalBlobs::new(data_dir.join("blobs"));
            let updated = commit_files(
                store.as_ref(),
                &blobs,
                &repo,
                vec![("README.md".into(), Bytes::from(readme))],
            )
            .await?;
            println!("{repo} is now at commit {}", updated.sha);
        }
    }
    Ok(())
}
