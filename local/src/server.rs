//! The local server: hyper on one address, every route of the routing table answered by the
//! same handlers Lambda runs, over the embedded store.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use shared::api::{self, App, Body, MAX_BODY_BYTES};
use shared::blobs::BlobStore;
use shared::error::Error;
use shared::seed::{Seed, SeedError};
use shared::store::Store;
use shared::web::SessionKey;

use crate::admin::{Workspace, relay};
use crate::notify::{self, MailArgs};
use crate::store::StoreArgs;
use tokio::net::{TcpListener, TcpStream};

#[derive(Args)]
pub struct ServeArgs {
    /// The address to listen on.
    #[arg(long, default_value_t = crate::default_addr())]
    addr: std::net::SocketAddr,
    /// A YAML seed loaded when the data dir is empty (ignored otherwise).
    #[arg(long, conflicts_with = "demo")]
    seed: Option<std::path::PathBuf>,
    /// Load the demo seed (an org, an owner, a requester, a gated model) and print how to try it.
    #[arg(long)]
    demo: bool,
    /// The public base URL, when clients reach the server through a proxy.
    #[arg(long, env = "GATEHOUSE_PUBLIC_URL")]
    public_url: Option<String>,
    /// The request header with the viewer's ISO country code, which repos whose card sets
    /// `extra_gated_eu_disallowed` check. Without it a request counts as from outside the EU.
    #[arg(
        long,
        value_name = "NAME",
        env = "GATEHOUSE_VIEWER_COUNTRY_HEADER",
        default_value_t = api::DEFAULT_VIEWER_COUNTRY_HEADER
    )]
    viewer_country_header: http::HeaderName,
    /// The hour (UTC, 0-23) at which the daily digest of the day before is sent.
    #[arg(long, env = "GATEHOUSE_DIGEST_HOUR", default_value_t = 8, value_parser = clap::value_parser!(u8).range(0..=23))]
    digest_hour: u8,
    #[command(flatten)]
    mail: MailArgs,
}

const DEMO_SEED: &str = include_str!("../demo.yaml");

/// The key that signs browser sessions: `DATA_DIR/session.key`, made on first start, so
/// sessions outlive a restart. Readable by its owner only, and written whole or not at all.
fn session_key(data_dir: &Path) -> Result<SessionKey, Box<dyn std::error::Error>> {
    let path = data_dir.join("session.key");
    match std::fs::read(&path) {
        Ok(secret) => Ok(SessionKey::from_secret(&secret)
            .map_err(|e| format!("{}: {e}; delete it to make a new one", path.display()))?),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let secret = SessionKey::new_secret();
            let temp = data_dir.join("session.key.tmp");
            std::fs::create_dir_all(data_dir)
                .and_then(|()| write_private(&temp, &secret))
                .and_then(|()| std::fs::rename(&temp, &path))
                .map_err(|e| format!("writing {}: {e}", path.display()))?;
            Ok(SessionKey::from_secret(&secret)?)
        }
        Err(error) => Err(format!("reading {}: {error}", path.display()).into()),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

pub async fn serve(
    data_dir: &Path,
    store_args: &StoreArgs,
    args: ServeArgs,
) -> Result<(), Box<dyn std::error::Error>> {
    let (store, embedded) = store_args.open_with_feed(data_dir).await?;
    let blobs = store_args.blobs(data_dir).await;
    let seed = match (&args.seed, args.demo) {
        (Some(path), _) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| format!("reading the seed {}: {e}", path.display()))?,
        ),
        (None, true) => Some(DEMO_SEED.to_owned()),
        (None, false) => None,
    };
    if let Some(seed) = seed {
        // A seed that fails part-way is undone by removing the embedded store's files; a
        // DynamoDB table is the operator's, so it is left for them to drop.
        let discard = store_args.is_sqlite().then_some(data_dir);
        load_seed(store.as_ref(), blobs.as_ref(), data_dir, &seed, discard).await?;
    }
    let listener = TcpListener::bind(args.addr).await?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, data_dir = %data_dir.display(), "gatehouse is serving");
    if args.demo {
        print_demo_help(&format!("http://{addr}"));
    }
    let site = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let notifier = args.mail.notifier(data_dir, store.clone(), site);
    tokio::spawn(notify::run_daily_digest(notifier.clone(), args.digest_hour));
    // Kept until the server stops, when its drop removes the socket.
    let mut _admin_socket = None;
    match embedded {
        Some(embedded) => {
            let workspace = Arc::new(Workspace {
                data_dir: data_dir.to_owned(),
                store: store.clone(),
                blobs: blobs.clone(),
            });
            _admin_socket = listen_for_admin_commands(workspace);
            let data_dir = data_dir.to_owned();
            tokio::spawn(
                async move { notify::run_change_feeds(&data_dir, embedded, notifier).await },
            );
        }
        None => tracing::warn!(
            "real-time alerts, domain events and requesters' mail come from the table's stream, through the stream-alerts and request-changes functions; this server sends none"
        ),
    }
    let app = Arc::new(App {
        store,
        public_url: args.public_url,
        viewer_country_header: args.viewer_country_header,
        blobs: Some(blobs),
        session_key: session_key(data_dir)?,
    });
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = next_connection(&listener) => match accepted {
                Ok(stream) => stream,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let app = app.clone();
                async move { Ok::<_, std::convert::Infallible>(answer(&app, request).await) }
            });
            if let Err(error) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    tracing::info!("gatehouse stopped");
    Ok(())
}

/// Runs the admin commands given on the data dir while the server holds its store. A data
/// dir whose socket cannot be made (its path is too long for one) is still served; its admin
/// commands are refused until the server stops.
fn listen_for_admin_commands(workspace: Arc<Workspace>) -> Option<relay::SocketFile> {
    match relay::bind(&workspace.data_dir) {
        Ok((listener, file)) => {
            tokio::spawn(relay::serve(listener, workspace));
            Some(file)
        }
        Err(error) => {
            tracing::warn!(%error, "no socket for admin commands: they are refused until the server stops");
            None
        }
    }
}

/// The next client connection, set up to be served.
async fn next_connection(listener: &TcpListener) -> std::io::Result<TcpStream> {
    let (stream, _) = listener.accept().await?;
    // A streamed answer ends in a small write; with Nagle's algorithm on, it would wait for
    // the client's delayed acknowledgment of the one before (40 ms on Linux).
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(%error, "could not set TCP_NODELAY");
    }
    Ok(stream)
}

/// Reads the body (refusing more than the limit) into the request type Lambda hands to the
/// same handlers, then answers it.
async fn answer(app: &App, request: hyper::Request<Incoming>) -> hyper::Response<Body> {
    let (parts, body) = request.into_parts();
    let head = parts.method == http::Method::HEAD;
    let bytes: Bytes = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            let context = api::ErrorContext { base_url: "", head };
            let too_large = Error::PayloadTooLarge {
                limit: MAX_BODY_BYTES,
            };
            let mut response = api::error_response(too_large, &context);
            // The rest of the body is never read, so this connection cannot carry another
            // request: say so, or the client reuses it and finds it closed.
            response.headers_mut().insert(
                http::header::CONNECTION,
                http::HeaderValue::from_static("close"),
            );
            return response;
        }
    };
    let body = if bytes.is_empty() {
        lambda_http::Body::Empty
    } else {
        lambda_http::Body::Binary(bytes.to_vec())
    };
    let started = std::time::Instant::now();
    let (method, path) = (parts.method.clone(), parts.uri.path().to_owned());
    let response = api::handle(app, lambda_http::Request::from_parts(parts, body)).await;
    tracing::info!(%method, %path, status = response.status().as_u16(), elapsed_us = started.elapsed().as_micros() as u64, "request");
    response
}

/// Loads a seed into an empty store. A store that already holds data keeps it. A bad seed is
/// refused before anything is written; one whose writes fail part-way leaves no half-loaded
/// store behind where `discard` names the store's dir, and otherwise says what it wrote.
async fn load_seed(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    data_dir: &Path,
    yaml: &str,
    discard: Option<&Path>,
) -> Result<(), Box<dyn std::error::Error>> {
    if !store.is_empty().await? {
        tracing::info!(data_dir = %data_dir.display(), "the data dir already holds data; the seed is ignored");
        return Ok(());
    }
    let seed = Seed::parse(yaml)?;
    match seed.load(store, blobs).await {
        Ok(tokens) => {
            for token in tokens {
                println!(
                    "token {:<12} user {:<12} role {:<5} {}",
                    token.name,
                    token.user,
                    token.role.as_str(),
                    token.secret.expose()
                );
            }
            Ok(())
        }
        Err(error @ SeedError::Refused(_)) => Err(error.to_string().into()),
        Err(error @ SeedError::Interrupted { .. }) => match discard {
            Some(dir) => {
                discard_loaded_data(dir)?;
                Err(format!("{error}. The data dir was emptied, so nothing of it was kept").into())
            }
            None => Err(format!("{error}. Drop the table before seeding again").into()),
        },
    }
}

/// Removes what a failed seed wrote into a data dir that was empty before it.
fn discard_loaded_data(data_dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(data_dir)? {
        let path = entry?.path();
        if path.is_dir() {
            std::fs::remove_dir_all(&path)?;
        } else {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

fn print_demo_help(base: &str) {
    println!(
        r#"
gatehouse demo is running at {base}

  Try it in a browser: open {base}/acme/gated-model and sign in with
  hf_demo_requester_read_token (the requester) or hf_demo_owner_write_token (the owner).

  Try it with curl:
    curl -s {base}/api/whoami-v2 -H 'Authorization: Bearer hf_demo_owner_write_token'
    curl -s {base}/api/models/acme/gated-model
    curl -s -X POST {base}/acme/gated-model/ask-access \
      -H 'Authorization: Bearer hf_demo_requester_read_token' -H 'Content-Type: application/json' \
      -d '{{"fields": {{"Company": "Initech", "Country": "FR", "Intended use": "research", "I agree to the license": true}}}}'
    curl -s {base}/api/models/acme/gated-model/user-access-request/pending \
      -H 'Authorization: Bearer hf_demo_owner_write_token'

  And with the hf CLI (pip install huggingface_hub):
    export HF_ENDPOINT={base}
    hf auth login --token hf_demo_owner_write_token
    hf auth whoami
    hf repos settings acme/gated-model --gated manual
"#
    );
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::blobs::LocalBlobs;
    use shared::domain::Name;
    use shared::store::SqliteStore;

    const SEED: &str = "users: [{name: alice, fullname: Alice, email: alice@example.com}]\n";

    fn blobs(dir: &tempfile::TempDir) -> LocalBlobs {
        LocalBlobs::new(dir.path().join("blobs"))
    }

    #[tokio::test]
    async fn a_connection_is_served_with_nagles_algorithm_off() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap());
        let (served, _client) = tokio::join!(next_connection(&listener), client);
        assert!(served.unwrap().nodelay().unwrap());
    }

    #[tokio::test]
    async fn a_seed_loads_into_an_empty_data_dir_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        load_seed(&store, &blobs(&dir), dir.path(), SEED, Some(dir.path()))
            .await
            .unwrap();
        let other = "users: [{name: bob}]\n";
        load_seed(&store, &blobs(&dir), dir.path(), other, Some(dir.path()))
            .await
            .unwrap();
        assert!(
            store
                .user(&Name::parse("alice").unwrap())
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .user(&Name::parse("bob").unwrap())
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn a_bad_seed_is_refused_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let broken =
            format!("{SEED}orgs: [{{name: org, members: [{{user: ghost, role: admin}}]}}]\n");
        let store = SqliteStore::open(dir.path()).unwrap();
        let error = load_seed(&store, &blobs(&dir), dir.path(), &broken, Some(dir.path()))
            .await
            .unwrap_err();
        let message = error.to_string();
        assert!(message.contains("nothing of it was written"), "{message}");
        assert!(message.contains("member 'ghost'"), "{message}");
        assert!(store.is_empty().await.unwrap());
    }

    #[tokio::test]
    async fn a_seed_that_fails_halfway_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        // The blobs folder is a file, so the repo's files cannot be written after the user
        // and the repo were.
        std::fs::write(dir.path().join("blobs"), "").unwrap();
        let seed = format!("{SEED}repos: [{{id: alice/m, files: {{config.json: '{{}}'}}}}]\n");
        {
            let store = SqliteStore::open(dir.path()).unwrap();
            let error = load_seed(&store, &blobs(&dir), dir.path(), &seed, Some(dir.path()))
                .await
                .unwrap_err();
            let message = error.to_string();
            assert!(message.contains("1 of 1 users, 0 of 1 repos"), "{message}");
            assert!(message.contains("nothing of it was kept"), "{message}");
        }
        let reopened = SqliteStore::open(dir.path()).unwrap();
        assert!(reopened.is_empty().await.unwrap());
    }

    #[test]
    fn the_session_key_is_made_once_kept_private_and_read_again_after_a_restart() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("fresh");
        session_key(&data_dir).unwrap();
        let file = data_dir.join("session.key");
        let secret = std::fs::read(&file).unwrap();
        assert_eq!(secret.len(), 32);
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        session_key(&data_dir).unwrap();
        assert_eq!(
            std::fs::read(&file).unwrap(),
            secret,
            "kept across restarts"
        );
        std::fs::write(&file, b"short").unwrap();
        let error = session_key(&data_dir).err().unwrap().to_string();
        assert!(error.contains("session.key"), "{error}");
    }
}
