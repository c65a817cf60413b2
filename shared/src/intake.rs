//! Discover and ingest over any [`StatementSource`]: the one path from a listed file to its outcome,
//! recorded in `remote_file` and settled at its source. The CLI's runs (folder, S3, FTPS) and the Lambdas
//! (discovery, ingest) all go through here.
//!
//! A file is fetched to a local file, ingested by [`pipeline::ingest_named`] under its delivery name, then
//! settled by its source (the S3 inbox archives it, FTPS keeps a raw copy), and what came of it is recorded
//! against its listing (source, name, size, time). Anything that fails before an outcome is recorded as
//! `failed`, with the error, and tried again by the next run.

use crate::db::store::{self, RemoteFileStatus, RemoteIdentity};
use crate::db::RetryPolicy;
use crate::error::{Error, Result};
use crate::pipeline::{self, IngestMode, IngestReport, Outcome, RunSummary, Work};
use crate::source::{FileRef, Filing, ListedFile, Refused, Settlement, StatementSource};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;
use tokio_postgres::Client;

/// The identity a listed file is recorded under: its source's label, name, size and time.
fn identity<'a>(label: &'a str, file: &'a ListedFile) -> RemoteIdentity<'a> {
    RemoteIdentity { source: label, path: &file.name, size: file.size, modified: file.modified }
}

/// Whether this listed file was already dealt with for good (loaded, a duplicate, or rejected) — for a source
/// whose files stay where they are after settling (a folder, an FTPS server). An S3 inbox object leaves the
/// inbox once settled: whatever is listed there is waiting.
async fn already_done(db: &Client, source: &dyn StatementSource, label: &str, file: &ListedFile) -> Result<bool> {
    if !source.keeps_settled_files() {
        return Ok(false);
    }
    store::remote_done(db, &identity(label, file)).await
}

/// What discovery found on the sources.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DiscoveredFiles {
    /// Files to ingest, in the order of the sources given, each once (at most the run's cap).
    pub files: Vec<FileRef>,
    /// Files skipped because this exact listing (name, size, time) was already dealt with.
    pub already_seen: usize,
    /// Names that are never fetched (unsafe S3 keys, entries of a folder that are not files).
    pub refused: Vec<Refused>,
    /// Files left for the next run: beyond the run's cap (they stay listed where they are).
    #[serde(default)]
    pub deferred: usize,
}

/// List every source and register what is new in the control table (`remote_file`, status `discovered`).
/// A file already dealt with under the same name, size and time is skipped unless `force`.
///
/// At most `cap` files are taken (a night's backlog is drained over several runs, never wedged by its size);
/// each is tagged with `run`, whose load reads how they came out.
pub async fn discover(
    db: &Client,
    sources: &[&dyn StatementSource],
    force: bool,
    run: Option<&str>,
    cap: usize,
) -> Result<DiscoveredFiles> {
    let mut found = DiscoveredFiles::default();
    for source in sources {
        let label = source.label();
        let listing = source.list().await?;
        for file in listing.files {
            if !force && already_done(db, *source, &label, &file).await? {
                found.already_seen += 1;
                continue;
            }
            if found.files.len() >= cap {
                found.deferred += 1;
                continue;
            }
            store::remote_discovered(db, &identity(&label, &file), run).await?;
            found.files.push(FileRef { source: source.kind(), file });
        }
        found.refused.extend(listing.refused);
    }
    Ok(found)
}

/// A listed file as discovery sees it before any download: new, or already dealt with.
#[derive(Debug, Clone, Serialize)]
pub struct RemoteListing {
    pub source: String,
    pub name: String,
    pub size: u64,
    pub status: ListingStatus,
    /// Why an `unsafe` entry is never fetched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What discovery says of a listed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ListingStatus {
    /// Not dealt with yet: the next run fetches it.
    New,
    /// This exact name, size and time already loaded, duplicate or rejected.
    Seen,
    /// An entry the source refuses (a key that could leave the inbox, a FIFO…): never fetched.
    Unsafe,
}

impl ListingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ListingStatus::New => "new",
            ListingStatus::Seen => "seen",
            ListingStatus::Unsafe => "unsafe",
        }
    }
}

impl std::fmt::Display for ListingStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// What a source holds that the pipeline has not dealt with yet, without registering or fetching anything.
pub async fn preview(db: &Client, source: &dyn StatementSource) -> Result<Vec<RemoteListing>> {
    let label = source.label();
    let listing = source.list().await?;
    let mut out = Vec::new();
    for f in listing.files {
        let status = if already_done(db, source, &label, &f).await? { ListingStatus::Seen } else { ListingStatus::New };
        out.push(RemoteListing { source: label.clone(), name: f.name, size: f.size, status, reason: None });
    }
    out.extend(listing.refused.into_iter().map(|r| RemoteListing {
        source: label.clone(),
        name: r.name,
        size: 0,
        status: ListingStatus::Unsafe,
        reason: Some(r.reason),
    }));
    Ok(out)
}

/// The first reason a rejected file gives, for archives and task failures.
pub fn rejection_reason(report: &IngestReport) -> String {
    // An archive: the first rejected member, by its name.
    if let Some(m) = report.members.iter().find(|m| m.outcome == Outcome::Rejected) {
        return format!("{}: {}", m.file, rejection_reason(m));
    }
    report.summary.as_ref().and_then(|s| s.errors.first()).map(|i| i.to_string()).unwrap_or_else(|| "rejected".into())
}

/// What a source needs to settle an ingested file: the rejection's reason, and where its content belongs (an
/// archive's: its first member's).
pub fn settlement_of(report: &IngestReport) -> Settlement {
    let described = report.summary.as_ref().or_else(|| report.members.iter().find_map(|m| m.summary.as_ref()));
    Settlement {
        rejected: (report.outcome == Outcome::Rejected).then(|| rejection_reason(report)),
        filing: described.map(|s| Filing {
            acquirer: s.acquirer.map_or("unknown", |a| a.code()).to_string(),
            merchant: s.merchant_code.clone().filter(|m| !m.is_empty()).unwrap_or_else(|| "unknown".into()),
            date: s.processing_date.map_or_else(|| "unknown".to_string(), |d| d.to_string()),
        }),
    }
}

/// Record in `remote_file` what came of a listed file: the ingest's outcome, its content and file, the copy
/// kept, and the first reason of a rejection.
pub(crate) async fn record_outcome(
    db: &Client,
    id: &RemoteIdentity<'_>,
    report: &IngestReport,
    copy: Option<&str>,
) -> Result<()> {
    let error = (report.outcome == Outcome::Rejected).then(|| rejection_reason(report));
    store::remote_record(
        db,
        id,
        report.outcome.into(),
        Some(&report.sha256),
        // An archive has no statement file of its own (its members have).
        (report.file_id != 0).then_some(report.file_id),
        copy,
        error.as_deref(),
    )
    .await
}

/// Ingest one listed file: fetch it, ingest it under its delivery name, settle it at its source, and record
/// the outcome. A failure before an outcome is recorded as `failed` with the error (and returned); a file that
/// another delivery already took ([`Error::AlreadyArchived`]) is left as that delivery recorded it.
pub async fn ingest(
    db: &mut Client,
    source: &dyn StatementSource,
    file: &ListedFile,
    mode: IngestMode,
) -> Result<IngestReport> {
    let label = source.label();
    let one = async {
        let fetched = source.fetch(file).await?;
        let report = pipeline::ingest_named(db, &fetched.path, file.file_name(), &label, mode).await?;
        let kept = source.settle(file, &fetched, &settlement_of(&report)).await?;
        Ok::<_, Error>((report, kept))
    };
    match one.await {
        Ok((report, kept)) => {
            record_outcome(db, &identity(&label, file), &report, kept.as_deref()).await?;
            Ok(report)
        }
        Err(e @ Error::AlreadyArchived(_)) => Err(e),
        Err(e) => {
            let _ = store::remote_record(
                &*db,
                &identity(&label, file),
                RemoteFileStatus::Failed,
                None,
                None,
                None,
                Some(&e.to_string()),
            )
            .await;
            Err(e)
        }
    }
}

/// The whole pipeline over one source: list it, skip what was already dealt with, then ingest and load the
/// rest, `jobs` files at a time (each on its own connection; a database failure that may pass is retried on a
/// new one). Refused entries are failures of their own; the others go on. A file that fails (network,
/// database) is recorded as failed and tried again next run.
pub async fn run(database_url: &str, source: Arc<dyn StatementSource>, jobs: usize) -> Result<RunSummary> {
    let started = Instant::now();
    let label = source.label();
    let listing = source.list().await?;
    let mut summary = RunSummary { files_seen: listing.files.len() + listing.refused.len(), ..Default::default() };
    for r in listing.refused {
        summary.failed += 1;
        summary.failures.push((crate::source::printable_name(&r.name), format!("not processed: {}", r.reason)));
    }
    let db = crate::db::connect_retrying(database_url, &RetryPolicy::from_env()).await?;
    let mut todo = VecDeque::new();
    for f in listing.files {
        if already_done(&db, &*source, &label, &f).await? {
            summary.duplicates += 1;
        } else {
            todo.push_back((f.name.clone(), f));
        }
    }
    drop(db);
    let work: Work<ListedFile> = Arc::new(move |db, f| {
        let source = source.clone();
        Box::pin(async move { ingest(db, &*source, &f, IngestMode::StageAndLoad).await })
    });
    pipeline::in_parallel(database_url, todo, jobs, work, &mut summary).await?;
    Ok(pipeline::finished(summary, started))
}
