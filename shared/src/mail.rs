//! Mail: messages built with lettre's builder, so no text that came from a requester (a full
//! name with a line break, an encoded word, a long answer) can add a header or a recipient;
//! sent by a [`Mailer`]: SES in production ([`SesMailer`]), `.eml` files in an outbox folder
//! locally ([`OutboxMailer`]).

use std::path::PathBuf;

use async_trait::async_trait;
use aws_sdk_ses::error::DisplayErrorContext;
use aws_sdk_ses::primitives::Blob;
use aws_sdk_ses::types::RawMessage;
use lettre::Message;
use lettre::message::MultiPart;

/// A sender or recipient: `Name <address>` or a bare address.
pub use lettre::message::Mailbox;

use crate::domain::{Email, ObjectId, Timestamp};

/// A message to some recipients, in plain text and in HTML.
#[derive(Clone, Debug, PartialEq)]
pub struct Mail {
    pub to: Vec<Email>,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("a mail needs at least one recipient")]
    NoRecipient,
    #[error("the mail could not be built: {0}")]
    Build(String),
    #[error("the mail could not be sent: {0}")]
    Send(String),
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

/// The RFC 5322 message of `mail`, from `from`: the recipients in `To`, the subject encoded
/// as the standard says where it needs to be, and a `multipart/alternative` body.
pub fn message(from: &Mailbox, mail: &Mail) -> Result<Message, MailError> {
    if mail.to.is_empty() {
        return Err(MailError::NoRecipient);
    }
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(mail.subject.as_str());
    for recipient in &mail.to {
        builder = builder.to(mailbox(recipient)?);
    }
    builder
        .multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            mail.html.clone(),
        ))
        .map_err(|e| MailError::Build(e.to_string()))
}

fn mailbox(email: &Email) -> Result<Mailbox, MailError> {
    email
        .as_str()
        .parse()
        .map_err(|e| MailError::Build(format!("{email}: {e}")))
}

/// Mail as `.eml` files under a folder (`DATA_DIR/outbox/`), one a message, each written to a
/// temporary name and renamed so a reader never sees half of one; and a log line a message.
pub struct OutboxMailer {
    dir: PathBuf,
    from: Mailbox,
}

impl OutboxMailer {
    pub fn new(dir: impl Into<PathBuf>, from: Mailbox) -> Self {
        Self {
            dir: dir.into(),
            from,
        }
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let bytes = message(&self.from, mail)?.formatted();
        let name = format!("{}-{}.eml", Timestamp::now().millis(), ObjectId::random());
        let (dir, path) = (self.dir.clone(), self.dir.join(&name));
        let written = path.clone();
        let write = move || -> std::io::Result<()> {
            std::fs::create_dir_all(&dir)?;
            let temp = dir.join(format!(".{name}.tmp"));
            let mut file = std::fs::File::create(&temp)?;
            std::io::Write::write_all(&mut file, &bytes)?;
            // On disk before its marker could outlive it: a crash loses no mail marked sent.
            file.sync_all()?;
            std::fs::rename(&temp, &path)
        };
        tokio::task::spawn_blocking(write)
            .await
            .map_err(|e| MailError::Send(e.to_string()))?
            .map_err(|e| MailError::Send(format!("writing {}: {e}", written.display())))?;
        let to: Vec<&str> = mail.to.iter().map(Email::as_str).collect();
        tracing::info!(path = %written.display(), ?to, subject = %mail.subject, "mail written to the outbox");
        Ok(())
    }
}

/// Mail through Amazon SES: the same RFC 5322 message, as raw mail, from the sender identity
/// the template's `SenderIdentity` verifies.
pub struct SesMailer {
    client: aws_sdk_ses::Client,
    from: Mailbox,
}

impl SesMailer {
    pub fn new(client: aws_sdk_ses::Client, from: Mailbox) -> Self {
        Self { client, from }
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let bytes = message(&self.from, mail)?.formatted();
        let raw = RawMessage::builder()
            .data(Blob::new(bytes))
            .build()
            .map_err(|e| MailError::Build(e.to_string()))?;
        let sent = self
            .client
            .send_raw_email()
            .raw_message(raw)
            .send()
            .await
            .map_err(|e| MailError::Send(DisplayErrorContext(e).to_string()))?;
        tracing::info!(message_id = sent.message_id(), subject = %mail.subject, "mail sent with SES");
        Ok(())
    }
}

/// A mailer for tests: keeps what it is given, and fails for the addresses it is told to.
#[cfg(test)]
#[derive(Default)]
pub(crate) struct RecordingMailer {
    sent: std::sync::Mutex<Vec<Mail>>,
    refused: std::sync::Mutex<Vec<String>>,
}

#[cfg(test)]
impl RecordingMailer {
    pub(crate) fn sent(&self) -> Vec<Mail> {
        self.sent.lock().unwrap().clone()
    }

    /// From now on, a mail to `address` fails (and is not kept).
    pub(crate) fn refuse(&self, address: &str) {
        self.refused.lock().unwrap().push(address.to_owned());
    }

    pub(crate) fn accept_all(&self) {
        self.refused.lock().unwrap().clear();
    }
}

#[cfg(test)]
#[async_trait]
impl Mailer for RecordingMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let refused = self.refused.lock().unwrap();
        if mail
            .to
            .iter()
            .any(|to| refused.iter().any(|r| r == to.as_str()))
        {
            return Err(MailError::Send("refused by the test".into()));
        }
        self.sent.lock().unwrap().push(mail.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from() -> Mailbox {
        "gatehouse <noreply@example.com>".parse().unwrap()
    }

    fn mail(subject: &str, text: &str) -> Mail {
        Mail {
            to: vec![
                Email::parse("owner@example.com").unwrap(),
                Email::parse("admin@example.org").unwrap(),
            ],
            subject: subject.into(),
            text: text.into(),
            html: format!("<p>{text}</p>"),
        }
    }

    fn headers(formatted: &[u8]) -> String {
        let text = String::from_utf8_lossy(formatted);
        text.split("\r\n\r\n").next().unwrap().to_owned()
    }

    #[test]
    fn a_message_names_every_recipient_and_holds_a_text_and_an_html_part() {
        let formatted = message(&from(), &mail("New request", "Ada asked"))
            .unwrap()
            .formatted();
        let text = String::from_utf8(formatted.clone()).unwrap();
        let head = headers(&formatted);
        assert!(
            head.contains("From: gatehouse <noreply@example.com>"),
            "{head}"
        );
        assert!(
            head.contains("To: owner@example.com, admin@example.org"),
            "{head}"
        );
        assert!(head.contains("Subject: New request"), "{head}");
        assert!(text.contains("Content-Type: multipart/alternative"));
        assert!(text.contains("Content-Type: text/plain; charset=utf-8"));
        assert!(text.contains("Content-Type: text/html; charset=utf-8"));
    }

    #[test]
    fn a_line_break_in_the_subject_adds_no_header_and_no_recipient() {
        let hostile = "Access request from Mallory\r\nBcc: thief@example.net\r\nX-Evil: 1";
        let formatted = message(&from(), &mail(hostile, "body\r\nBcc: body@example.net"))
            .unwrap()
            .formatted();
        let head = headers(&formatted);
        for line in head.lines() {
            assert!(!line.starts_with("Bcc:"), "{head}");
            assert!(!line.starts_with("X-Evil:"), "{head}");
        }
        // The subject's line breaks travel inside RFC 2047 encoded words.
        assert!(!head.contains("thief@example.net"), "{head}");
        assert!(
            head.contains("Subject: Access request from =?utf-8?b?"),
            "{head}"
        );
        assert_eq!(head.matches("\nTo: ").count(), 1, "{head}");
    }

    #[test]
    fn a_mail_without_recipients_is_refused() {
        let mut nobody = mail("s", "t");
        nobody.to.clear();
        assert!(matches!(
            message(&from(), &nobody),
            Err(MailError::NoRecipient)
        ));
    }

    #[tokio::test]
    async fn the_outbox_holds_one_whole_eml_file_a_message() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = OutboxMailer::new(dir.path().join("outbox"), from());
        outbox.send(&mail("One", "first")).await.unwrap();
        outbox.send(&mail("Two", "second")).await.unwrap();
        let mut files: Vec<_> = std::fs::read_dir(dir.path().join("outbox"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        files.sort();
        assert_eq!(files.len(), 2);
        for file in &files {
            assert_eq!(file.extension().unwrap(), "eml");
            let text = std::fs::read_to_string(file).unwrap();
            assert!(text.contains("To: owner@example.com, admin@example.org"));
        }
    }

    #[tokio::test]
    async fn ses_accepts_the_raw_message_from_a_verified_sender() {
        if crate::store::loopback_emulator("AWS_ENDPOINT_URL").is_none() {
            return;
        }
        let client = aws_sdk_ses::Client::new(&crate::store::sdk_config(2).await);
        client
            .verify_email_identity()
            .email_address("noreply@example.com")
            .send()
            .await
            .unwrap();
        let sent_before = client
            .get_send_quota()
            .send()
            .await
            .unwrap()
            .sent_last24_hours;
        SesMailer::new(client.clone(), from())
            .send(&mail("New request", "Ada asked"))
            .await
            .unwrap();
        let sent_after = client
            .get_send_quota()
            .send()
            .await
            .unwrap()
            .sent_last24_hours;
        assert!(sent_after > sent_before, "{sent_before} -> {sent_after}");
    }

    #[tokio::test]
    async fn ses_refuses_an_unverified_sender_with_an_error_not_a_panic() {
        if crate::store::loopback_emulator("AWS_ENDPOINT_URL").is_none() {
            return;
        }
        let client = aws_sdk_ses::Client::new(&crate::store::sdk_config(1).await);
        let stranger = "nobody <unverified-sender@example.invalid>"
            .parse()
            .unwrap();
        let sent = SesMailer::new(client, stranger).send(&mail("s", "t")).await;
        assert!(matches!(sent, Err(MailError::Send(_))), "{sent:?}");
    }
}
