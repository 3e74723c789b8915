//! How an admin command reaches the server running on its data dir, which holds the embedded
//! store while it runs: through a Unix socket in the data dir, `DATA_DIR/admin.sock`, which
//! only its owner may use (mode 0600), as only they may use the store's file.
//!
//! The command sends its arguments and working directory as one line of JSON; the server
//! reads them as the command line would, runs the command on its own store and blobs, and
//! answers with the command's lines as they come, then how it ended, one JSON line each.

use std::ffi::OsString;
use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Parser;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;

use super::{AdminCommand, Outcome, Report, Workspace};
use crate::{Cli, Command};

const SOCKET_NAME: &str = "admin.sock";
/// The longest request a server reads: a command line, so a generous bound.
const MAX_REQUEST_BYTES: u64 = 64 * 1024;

#[derive(Debug, Serialize, Deserialize)]
struct Request {
    /// Where the command was given: its relative paths are read from there.
    cwd: String,
    /// The whole command line, the program's name first.
    args: Vec<String>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Answer {
    Line(String),
    Warning(String),
    Done,
    Failed(String),
}

/// `value` as one line of JSON, as both ends write them.
fn json_line(value: &impl Serialize) -> Vec<u8> {
    let mut line = serde_json::to_vec(value).expect("requests and answers are plain JSON");
    line.push(b'\n');
    line
}

/// Removes the socket's file when the server stops, so no command tries a server that is gone.
pub struct SocketFile(PathBuf);

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Listens on `DATA_DIR/admin.sock`. Call it with the store open: holding the store proves no
/// other server runs on the data dir, so a socket file already there is a stopped server's.
pub fn bind(data_dir: &Path) -> std::io::Result<(UnixListener, SocketFile)> {
    let path = data_dir.join(SOCKET_NAME);
    match std::fs::remove_file(&path) {
        Err(error) if error.kind() != ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    let listener = UnixListener::bind(&path)?;
    let file = SocketFile(path);
    std::fs::set_permissions(&file.0, std::fs::Permissions::from_mode(0o600))?;
    Ok((listener, file))
}

/// Runs every command sent to `listener` on `workspace`, each in a task of its own.
pub async fn serve(listener: UnixListener, workspace: Arc<Workspace>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let workspace = Arc::clone(&workspace);
                tokio::spawn(async move { answer(stream, &workspace).await });
            }
            Err(error) => tracing::warn!(%error, "accepting an admin command failed"),
        }
    }
}

/// Reads one command from `stream`, runs it, and relays its lines and its end. A command whose
/// sender has gone still runs to its end, so it never stops half-way.
async fn answer(stream: UnixStream, workspace: &Workspace) {
    let (read, mut write) = stream.into_split();
    let (sender, mut answers) = mpsc::unbounded_channel();
    let run = async move {
        let mut report = Relayed(sender);
        let command = read_request(read).await.and_then(|request| {
            tracing::info!(command = %request.args.join(" "), cwd = %request.cwd, "admin command");
            command_of(request)
        });
        let end = match command {
            Ok(command) => match command.run(workspace, &mut report).await {
                Ok(()) => Answer::Done,
                Err(error) => Answer::Failed(error.to_string()),
            },
            Err(refusal) => Answer::Failed(refusal),
        };
        let _ = report.0.send(end);
    };
    let relay = async {
        while let Some(answer) = answers.recv().await {
            if write.write_all(&json_line(&answer)).await.is_err() {
                break;
            }
        }
    };
    tokio::join!(run, relay);
}

struct Relayed(mpsc::UnboundedSender<Answer>);

impl Report for Relayed {
    fn line(&mut self, line: String) {
        let _ = self.0.send(Answer::Line(line));
    }

    fn warning(&mut self, line: String) {
        let _ = self.0.send(Answer::Warning(line));
    }
}

async fn read_request(read: impl AsyncRead + Unpin) -> Result<Request, String> {
    let mut line = String::new();
    BufReader::new(read.take(MAX_REQUEST_BYTES))
        .read_line(&mut line)
        .await
        .map_err(|e| format!("cannot read the command: {e}"))?;
    if !line.ends_with('\n') {
        return Err(format!(
            "a command is one line of JSON of at most {MAX_REQUEST_BYTES} bytes"
        ));
    }
    serde_json::from_str(&line).map_err(|e| format!("not a command: {e}"))
}

/// The admin command a request's arguments give, read as the command line reads them, with
/// its paths made absolute from the request's directory.
fn command_of(request: Request) -> Result<AdminCommand, String> {
    let cwd = Path::new(&request.cwd);
    if !cwd.is_absolute() {
        return Err(format!("'{}' is not an absolute directory", request.cwd));
    }
    let cli = Cli::try_parse_from(&request.args).map_err(|error| {
        let message = error.to_string();
        let first = message.lines().next().unwrap_or_default();
        first.trim_start_matches("error: ").to_owned()
    })?;
    match cli.command {
        Command::Admin(mut command) => {
            command.resolve_paths(cwd);
            Ok(command)
        }
        Command::Serve(_) => Err("a running server takes admin commands only".to_owned()),
    }
}

/// Whether a server ran the command.
pub enum Forwarded {
    /// No server runs on the data dir: the command is the caller's to run.
    NoServer,
    /// The server ran it, and this is how it ended; its lines went to `report`.
    Ran(Outcome),
}

/// Sends the command line `args`, given in `cwd`, to the server running on `data_dir`, if
/// there is one.
pub async fn forward(
    data_dir: &Path,
    args: Vec<OsString>,
    cwd: &Path,
    report: &mut dyn Report,
) -> Result<Forwarded, Box<dyn std::error::Error>> {
    let server = data_dir.display();
    let stream = match UnixStream::connect(data_dir.join(SOCKET_NAME)).await {
        Ok(stream) => stream,
        // No socket, a stopped server's, or a data dir too deep for a socket's address (its
        // server listens on none): the store itself tells whether a server holds it.
        Err(error)
            if matches!(
                error.kind(),
                ErrorKind::NotFound | ErrorKind::ConnectionRefused | ErrorKind::InvalidInput
            ) =>
        {
            return Ok(Forwarded::NoServer);
        }
        Err(error) => return Err(format!("cannot reach the server on {server}: {error}").into()),
    };
    let not_utf8 = || format!("the server on {server} takes UTF-8 arguments and directories only");
    let request = Request {
        cwd: cwd.to_str().ok_or_else(not_utf8)?.to_owned(),
        args: args
            .into_iter()
            .map(|arg| arg.into_string().map_err(|_| not_utf8()))
            .collect::<Result<_, _>>()?,
    };
    let line = json_line(&request);
    if line.len() as u64 > MAX_REQUEST_BYTES {
        return Err(format!(
            "the command is longer than the {MAX_REQUEST_BYTES} bytes the server on {server} reads"
        )
        .into());
    }
    let (read, mut write) = stream.into_split();
    write.write_all(&line).await?;
    let mut answers = BufReader::new(read).lines();
    while let Some(line) = answers.next_line().await? {
        match serde_json::from_str(&line)? {
            Answer::Line(line) => report.line(line),
            Answer::Warning(line) => report.warning(line),
            Answer::Done => return Ok(Forwarded::Ran(Ok(()))),
            Answer::Failed(error) => return Ok(Forwarded::Ran(Err(error.into()))),
        }
    }
    Err(format!("the server on {server} stopped before the command ended; its log says why").into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::blobs::LocalBlobs;
    use shared::domain::Name;
    use shared::store::SqliteStore;

    #[derive(Default)]
    struct Captured {
        lines: Vec<String>,
        warnings: Vec<String>,
    }

    impl Report for Captured {
        fn line(&mut self, line: String) {
            self.lines.push(line);
        }

        fn warning(&mut self, line: String) {
            self.warnings.push(line);
        }
    }

    /// A server's side of the socket on a fresh data dir: its store, and the socket's file.
    async fn server(dir: &Path) -> (Arc<dyn shared::store::Store>, SocketFile) {
        let store: Arc<dyn shared::store::Store> = Arc::new(SqliteStore::open(dir).unwrap());
        let workspace = Arc::new(Workspace {
            data_dir: dir.to_owned(),
            store: Arc::clone(&store),
            blobs: Arc::new(LocalBlobs::new(dir.join("blobs"))),
        });
        let (listener, file) = bind(dir).unwrap();
        tokio::spawn(serve(listener, workspace));
        (store, file)
    }

    fn command_line(dir: &Path, args: &[&str]) -> Vec<OsString> {
        let mut line: Vec<OsString> = vec!["gatehouse".into(), "--data-dir".into(), dir.into()];
        line.extend(args.iter().map(OsString::from));
        line
    }

    async fn send(dir: &Path, args: &[&str], cwd: &Path) -> (Result<(), String>, Captured) {
        let mut report = Captured::default();
        let forwarded = forward(dir, command_line(dir, args), cwd, &mut report)
            .await
            .unwrap();
        match forwarded {
            Forwarded::Ran(outcome) => (outcome.map_err(|e| e.to_string()), report),
            Forwarded::NoServer => panic!("no server took {args:?}"),
        }
    }

    /// Sends `raw` as it is and returns the server's answers.
    async fn send_raw(dir: &Path, raw: &[u8]) -> Vec<Answer> {
        let mut stream = UnixStream::connect(dir.join(SOCKET_NAME)).await.unwrap();
        stream.write_all(raw).await.unwrap();
        stream.shutdown().await.unwrap();
        // A server that refuses a request before reading all of it resets the connection
        // after its answer: what came before the reset is the answer.
        let mut received = Vec::new();
        let mut buffer = [0; 4096];
        while let Ok(read @ 1..) = stream.read(&mut buffer).await {
            received.extend_from_slice(&buffer[..read]);
        }
        String::from_utf8(received)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    #[tokio::test]
    async fn a_command_sent_to_the_socket_runs_on_the_servers_store_and_its_lines_come_back() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _file) = server(dir.path()).await;

        let args = ["user", "add", "ann", "--email", "ann@example.com"];
        let (outcome, report) = send(dir.path(), &args, Path::new("/")).await;

        assert_eq!(outcome, Ok(()));
        assert_eq!(report.lines, ["added user ann"]);
        let ann = Name::parse("ann").unwrap();
        assert!(store.user(&ann).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_relative_path_is_read_from_the_directory_the_command_was_given_in() {
        let dir = tempfile::tempdir().unwrap();
        let (_store, _file) = server(dir.path()).await;
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::write(elsewhere.path().join("README.md"), "# A model\n").unwrap();

        let (created, _) = send(dir.path(), &["user", "add", "ann"], Path::new("/")).await;
        assert_eq!(created, Ok(()));
        let (created, _) = send(dir.path(), &["repo", "create", "ann/model"], Path::new("/")).await;
        assert_eq!(created, Ok(()));
        let readme = ["repo", "readme", "ann/model", "README.md"];
        let (outcome, report) = send(dir.path(), &readme, elsewhere.path()).await;

        assert_eq!(outcome, Ok(()));
        assert!(
            report.lines[0].starts_with("model ann/model is now at commit "),
            "{:?}",
            report.lines
        );
    }

    #[tokio::test]
    async fn a_command_that_fails_on_the_server_fails_with_its_message() {
        let dir = tempfile::tempdir().unwrap();
        let (_store, _file) = server(dir.path()).await;

        let (first, _) = send(dir.path(), &["user", "add", "ann"], Path::new("/")).await;
        let (again, report) = send(dir.path(), &["user", "add", "ann"], Path::new("/")).await;

        assert_eq!(first, Ok(()));
        let error = again.unwrap_err();
        assert!(error.contains("ann"), "{error}");
        assert!(report.lines.is_empty());
    }

    #[tokio::test]
    async fn the_server_refuses_what_is_not_an_admin_command_and_runs_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _file) = server(dir.path()).await;
        let request = |cwd: &str, args: &[&str]| {
            json_line(&Request {
                cwd: cwd.to_owned(),
                args: args.iter().map(|arg| (*arg).to_owned()).collect(),
            })
        };
        let refusals = [
            (request("/", &["gatehouse", "serve"]), "admin commands only"),
            (
                request("relative", &["gatehouse", "user", "add", "ann"]),
                "absolute",
            ),
            (
                request("/", &["gatehouse", "user", "add", "bad name"]),
                "invalid value",
            ),
            (b"{\"cwd\": \"/\"}\n".to_vec(), "not a command"),
            (b"no newline".to_vec(), "one line of JSON"),
            (
                vec![b' '; MAX_REQUEST_BYTES as usize + 1],
                "one line of JSON",
            ),
        ];

        for (raw, expected) in refusals {
            let answers = send_raw(dir.path(), &raw).await;
            match answers.as_slice() {
                [Answer::Failed(message)] => assert!(message.contains(expected), "{message}"),
                other => panic!("{other:?}"),
            }
        }
        assert!(store.is_empty().await.unwrap());
    }

    #[tokio::test]
    async fn without_a_server_or_with_a_stopped_ones_socket_the_command_is_the_callers() {
        let dir = tempfile::tempdir().unwrap();
        let args = command_line(dir.path(), &["user", "add", "ann"]);
        let mut report = Captured::default();
        let no_server = forward(dir.path(), args.clone(), Path::new("/"), &mut report).await;
        assert!(matches!(no_server.unwrap(), Forwarded::NoServer));

        // A server killed before it could remove its socket leaves the file behind.
        drop(std::os::unix::net::UnixListener::bind(dir.path().join(SOCKET_NAME)).unwrap());
        let stale = forward(dir.path(), args, Path::new("/"), &mut report).await;
        assert!(matches!(stale.unwrap(), Forwarded::NoServer));
    }

    #[tokio::test]
    async fn the_socket_is_its_owners_alone_and_goes_when_the_server_stops() {
        let dir = tempfile::tempdir().unwrap();
        // A stopped server's socket is replaced.
        drop(std::os::unix::net::UnixListener::bind(dir.path().join(SOCKET_NAME)).unwrap());
        let (_store, file) = server(dir.path()).await;
        let path = dir.path().join(SOCKET_NAME);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);

        drop(file);
        assert!(!path.exists());
    }
}
