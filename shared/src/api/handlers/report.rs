//! The user access report, streamed page by page from the store so its size never matters.

use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream;
use http::Response;
use serde_json::{Value, json};

use super::RepoCall;
use crate::api::Body;
use crate::api::json::{query, query_value};
use crate::domain::{AccessRequest, RepoRef};
use crate::error::{Error, Result};
use crate::service::repos::card_view;
use crate::store::{Cursor, MAX_PAGE_SIZE, Store};

const FIXED_COLUMNS: [&str; 8] = [
    "user",
    "fullname",
    "email",
    "status",
    "time",
    "reviewedAt",
    "reviewer",
    "rejectionReason",
];

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Json,
    Csv,
}

/// `GET …/user-access-request/report?format=json|csv`: one row per request, every status.
pub async fn download(call: &RepoCall<'_>) -> Result<Response<Body>> {
    call.view.require_manager()?;
    let format = match query_value(&query(call.exchange.request)?, "format").as_deref() {
        None | Some("json") => Format::Json,
        Some("csv") => Format::Csv,
        Some(other) => {
            let shown: String = other.chars().take(20).collect();
            return Err(Error::BadRequest(format!(
                "unknown format '{shown}': expected json or csv"
            )));
        }
    };
    // The CSV has a column per field of the current form; JSON rows carry every answer.
    let labels: Vec<String> = match card_view(&call.view.repo).gate_card {
        Ok(Some(card)) => card.fields.iter().map(|f| f.label.clone()).collect(),
        _ => Vec::new(),
    };
    let (content_type, extension) = match format {
        Format::Json => ("application/json", "json"),
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
    };
    let file_name = format!(
        "{}-access-report.{extension}",
        call.repo().id.to_string().replace('/', "--")
    );
    let body = report_stream(
        call.exchange.app.store.clone(),
        call.repo().clone(),
        format,
        labels,
    );
    Ok(Response::builder()
        .header("content-type", content_type)
        .header(
            "content-disposition",
            format!("attachment; filename=\"{file_name}\""),
        )
        .body(body)
        .expect("a report response is valid"))
}

enum Next {
    Header,
    Page(Option<Cursor>),
    Done,
}

/// What every page of one report needs; shared by the pages, not copied for each.
struct Report {
    store: Arc<dyn Store>,
    repo: RepoRef,
    format: Format,
    labels: Vec<String>,
}

fn report_stream(
    store: Arc<dyn Store>,
    repo: RepoRef,
    format: Format,
    labels: Vec<String>,
) -> Body {
    let report = Arc::new(Report {
        store,
        repo,
        format,
        labels,
    });
    let chunks = stream::try_unfold(Next::Header, move |next| {
        let report = report.clone();
        async move {
            let Report {
                store,
                repo,
                format,
                labels,
            } = &*report;
            let format = *format;
            match next {
                Next::Done => Ok(None),
                Next::Header => {
                    let header = match format {
                        Format::Json => Bytes::from_static(b"["),
                        Format::Csv => csv_row(
                            FIXED_COLUMNS
                                .iter()
                                .map(|c| c.to_string())
                                .chain(labels.iter().cloned()),
                        ),
                    };
                    Ok(Some((header, Next::Page(None))))
                }
                Next::Page(cursor) => {
                    let first = cursor.is_none();
                    let page = store
                        .list_requests(repo, None, cursor.as_ref(), MAX_PAGE_SIZE)
                        .await
                        .map_err(|e| {
                            tracing::error!(error = %e, "report page failed");
                            std::io::Error::other("the report could not be completed")
                        })?;
                    let mut chunk = Vec::new();
                    for (i, request) in page.items.iter().enumerate() {
                        match format {
                            Format::Json => {
                                if !(first && i == 0) {
                                    chunk.push(b',');
                                }
                                chunk.extend(json_row(request).to_string().into_bytes());
                            }
                            Format::Csv => chunk.extend(csv_row(csv_cells(request, labels))),
                        }
                    }
                    let done = page.next.is_none();
                    if done && format == Format::Json {
                        chunk.push(b']');
                    }
                    let next = if done {
                        Next::Done
                    } else {
                        Next::Page(page.next)
                    };
                    Ok(Some((Bytes::from(chunk), next)))
                }
            }
        }
    });
    Body::Stream(chunks.boxed())
}

fn json_row(request: &AccessRequest) -> Value {
    let review = request.state.review();
    json!({
        "user": request.user,
        "fullname": request.contact.fullname,
        "email": request.contact.email,
        "status": request.status(),
        "time": request.created_at,
        "reviewedAt": review.map(|r| r.at),
        "reviewer": review.map(|r| &r.by),
        "rejectionReason": request.state.rejection_reason(),
        "fields": request.answers,
    })
}

fn csv_cells(request: &AccessRequest, labels: &[String]) -> Vec<String> {
    let review = request.state.review();
    let answer = |label: &String| match request.answers.get(label) {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    [
        request.user.to_string(),
        request.contact.fullname.clone(),
        request
            .contact
            .email
            .as_ref()
            .map(|e| e.to_string())
            .unwrap_or_default(),
        request.status().to_string(),
        request.created_at.to_string(),
        review.map(|r| r.at.to_string()).unwrap_or_default(),
        review.map(|r| r.by.to_string()).unwrap_or_default(),
        request
            .state
            .rejection_reason()
            .unwrap_or_default()
            .to_owned(),
    ]
    .into_iter()
    .chain(labels.iter().map(answer))
    .collect()
}

/// One CSV line, every cell neutralized against spreadsheet formulas.
fn csv_row(cells: impl IntoIterator<Item = String>) -> Bytes {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let cells: Vec<String> = cells.into_iter().map(|c| neutralize_formula(&c)).collect();
    writer
        .write_record(&cells)
        .expect("writing to memory cannot fail");
    writer
        .into_inner()
        .expect("flushing to memory cannot fail")
        .into()
}

/// OWASP's advice against CSV injection: a cell a spreadsheet would run as a formula gets a
/// leading `'`, and keeps the rest of its text.
fn neutralize_formula(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_get_a_leading_quote_and_keep_their_text() {
        for cell in ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralize_formula(cell), format!("'{cell}"));
        }
        assert_eq!(neutralize_formula("ACME"), "ACME");
        assert_eq!(neutralize_formula(""), "");
    }

    #[test]
    fn csv_rows_quote_commas_quotes_and_newlines() {
        let row = csv_row([
            "a,b".to_string(),
            "say \"hi\"".to_string(),
            "=cmd".to_string(),
        ]);
        assert_eq!(&row[..], b"\"a,b\",\"say \"\"hi\"\"\",'=cmd\n");
    }
}
