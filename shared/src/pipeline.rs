//! The pipeline steps, shared by the CLI and the Lambdas: discover → ingest (parse, validate, stage) →
//! load (dimensions and facts). Each step is a function of a database connection and its inputs.

use crate::db::bulk;
use crate::db::store::{self, FileStatus, LoadCounts, LoadResult};
use crate::db::{BoxFuture, RetryPolicy};
use crate::error::{Error, Result};
use crate::formats::merchant::{read_merchant_sales, Mapping};
use crate::formats::{read_statement, sha256_of, StatementSummary};
use crate::model::Record;
use crate::source::{check_file_name, display_name, printable_name};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::VecDeque;
use std::fs::File;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::mpsc;
use tokio_postgres::Client;

/// Records handed from the parser thread to the COPY in batches of this many.
const BATCH: usize = 512;

/// What an ingest of one file came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Validated, staged and loaded into the facts.
    Loaded,
    /// Validated and staged; the load step will add it to the facts.
    Staged,
    /// The same content was already loaded (under this or another name): nothing changed.
    Duplicate,
    /// Invalid: nothing loaded; the reasons are in `rejected_line`.
    Rejected,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Loaded => "loaded",
            Outcome::Staged => "staged",
            Outcome::Duplicate => "duplicate",
            Outcome::Rejected => "rejected",
        }
    }
}

/// Whether ingest stops after staging (the Lambda split) or loads in the same transaction (local runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestMode {
    StageOnly,
    StageAndLoad,
}

/// The result of ingesting one file.
#[derive(Debug, Clone, Serialize)]
pub struct IngestReport {
    pub file: String,
    pub path: PathBuf,
    pub file_id: i64,
    pub sha256: String,
    pub outcome: Outcome,
    /// Facts added by this ingest (zero unless loaded).
    pub rows: LoadCounts,
    pub seconds: f64,
    /// The validation summary (absent for a duplicate, which is not parsed again).
    pub summary: Option<StatementSummary>,
    /// For a compressed delivery (.zip, .gz): each member's own ingest, named `archive!member`. The archive's
    /// outcome is then `rejected` if any member was, else `loaded`/`staged` if any member was, else
    /// `duplicate`; its rows are the members' together.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<IngestReport>,
}

impl IngestReport {
    /// A report of `name` (at `path`, content `sha256`) that says `duplicate` until the ingest says more.
    fn duplicate(name: &str, path: &Path, sha256: &str) -> IngestReport {
        IngestReport {
            file: name.to_string(),
            path: path.to_path_buf(),
            file_id: 0,
            sha256: sha256.to_string(),
            outcome: Outcome::Duplicate,
            rows: LoadCounts::default(),
            seconds: 0.0,
            summary: None,
            members: Vec::new(),
        }
    }
}

fn blocking_err(e: tokio::task::JoinError) -> Error {
    Error::Other(format!("parser task failed: {e}"))
}

/// Ingest one local statement file: hash it, skip it if that content is already loaded, otherwise parse,
/// validate and stage it by binary COPY in one transaction — and, in [`IngestMode::StageAndLoad`], load it
/// into the facts in that same transaction. A file that fails validation loads nothing and is recorded as
/// rejected with every problem found.
///
/// A compressed delivery (.zip with one or many members, .gz — recognised by its first bytes) is opened, and
/// each member ingested as a statement of its own, named `archive!member` ([`crate::archive`]); an archive
/// that cannot be opened, or breaks the limits against zip bombs, is recorded as rejected with the reason.
pub async fn ingest_file(db: &mut Client, path: &Path, source: &str, mode: IngestMode) -> Result<IngestReport> {
    ingest_named(db, path, &display_name(path), source, mode).await
}

/// [`ingest_file`] of a local copy whose delivery name is `name` (a downloaded S3 object or FTPS file, kept
/// locally under a short name of ours).
pub async fn ingest_named(
    db: &mut Client,
    path: &Path,
    name: &str,
    source: &str,
    mode: IngestMode,
) -> Result<IngestReport> {
    crate::source::check_regular_file(path)?;
    let p = path.to_path_buf();
    let compression = tokio::task::spawn_blocking(move || crate::archive::sniff(&p).map_err(|e| Error::io(&p, e)))
        .await
        .map_err(blocking_err)??;
    match compression {
        None => ingest_statement(db, path, name, source, mode).await,
        Some(c) => ingest_archive(db, path, name, c, source, mode).await,
    }
}

/// Ingest one uncompressed file: an acquirer's statement, or a bank statement (told apart by its first bytes).
async fn ingest_statement(
    db: &mut Client,
    path: &Path,
    name: &str,
    source: &str,
    mode: IngestMode,
) -> Result<IngestReport> {
    let p = path.to_path_buf();
    let bank = tokio::task::spawn_blocking(move || -> std::io::Result<bool> {
        let mut head = vec![0u8; 4096];
        let n = std::io::Read::read(&mut File::open(&p)?, &mut head)?;
        Ok(crate::formats::bank::detect(&head[..n]).is_some())
    })
    .await
    .map_err(blocking_err)?
    .map_err(|e| Error::io(path, e))?;
    if bank {
        ingest_bank(db, path, name, source).await
    } else {
        ingest_with(db, path, Some(name.to_string()), source, mode, statement_reader()).await
    }
}

/// Ingest a bank statement (OFX, CNAB 240): idempotent by content, validated whole, its accounts and entries
/// written in one transaction (an entry an overlapping statement already loaded is counted, not written
/// again: see [`crate::db::bank`]). It has nothing to stage: the ingest step loads it in either mode.
async fn ingest_bank(db: &mut Client, path: &Path, name: &str, source: &str) -> Result<IngestReport> {
    let started = Instant::now();
    check_file_name(name)?;
    let p = path.to_path_buf();
    let bytes = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(File::open(&p)?, crate::formats::bank::MAX_BANK_STATEMENT_BYTES as u64 + 1),
            &mut bytes,
        )?;
        Ok(bytes)
    })
    .await
    .map_err(blocking_err)?
    .map_err(|e| Error::io(path, e))?;
    let (sha256, size) = sha256_of(&bytes[..]).map_err(|e| Error::io(path, e))?;
    let mut report = IngestReport::duplicate(name, path, &sha256);
    if let Some(existing) = store::find_by_sha256(db, &sha256).await? {
        if matches!(existing.status, FileStatus::Loaded) {
            report.file_id = existing.file_id;
            store::record_delivery(db, existing.file_id, name, source, "duplicate", None).await?;
            report.seconds = started.elapsed().as_secs_f64();
            return Ok(report);
        }
    }
    let file = store::register(db, &sha256, size, name, source).await?;
    report.file_id = file.file_id;
    crate::progress::file(name, crate::progress::FileEvent::Started { bytes: size });
    let (bank, entries) = crate::formats::bank::read_all(&bytes, name);
    crate::progress::file(name, crate::progress::FileEvent::Done);
    let summary = bank.as_statement_summary(size, sha256);
    if !summary.is_valid() {
        store::reject(db, file.file_id, &summary).await?;
        let first = summary.errors.first().map(|i| i.to_string());
        store::record_delivery(db, file.file_id, name, source, "rejected", first.as_deref()).await?;
        report.outcome = Outcome::Rejected;
        report.summary = Some(summary);
        report.seconds = started.elapsed().as_secs_f64();
        return Ok(report);
    }
    let tx = db.transaction().await?;
    if store::lock_file(&tx, file.file_id).await? == FileStatus::Loaded {
        // A concurrent ingest of the same content finished while we waited for the lock.
        tx.rollback().await?;
        store::record_delivery(db, file.file_id, name, source, "duplicate", None).await?;
        report.seconds = started.elapsed().as_secs_f64();
        return Ok(report);
    }
    store::mark_staged(&tx, file.file_id, &summary).await?;
    let loaded = crate::db::bank::load(&tx, file.file_id, &bank, &entries).await?;
    // Reconciliation pending (the outbox): the scopes of the merchants whose accounts it covers.
    tx.execute("INSERT INTO recon_pending (file_id) VALUES ($1) ON CONFLICT DO NOTHING", &[&file.file_id]).await?;
    store::mark_loaded(&tx, file.file_id).await?;
    store::record_delivery(&tx, file.file_id, name, source, Outcome::Loaded.as_str(), None).await?;
    tx.commit().await?;
    report.outcome = Outcome::Loaded;
    report.rows.bank_entries = loaded.entries;
    report.rows.bank_entries_already_loaded = loaded.already_loaded;
    report.summary = Some(summary);
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Validate a local file without loading it (`parse`): one summary, or one per member of a compressed
/// delivery (named `archive!member`; an archive that cannot be opened is one rejected summary saying why).
pub fn validate_path(path: &Path, name: &str) -> Result<Vec<StatementSummary>> {
    crate::source::check_regular_file(path)?;
    let io = |e| Error::io(path, e);
    let Some(compression) = crate::archive::sniff(path).map_err(io)? else {
        return Ok(vec![crate::formats::validate_statement(File::open(path).map_err(io)?, name).map_err(io)?]);
    };
    let dir = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    match crate::archive::expand(path, name, compression, dir.path(), &crate::archive::Limits::default()) {
        Ok(members) => members
            .iter()
            .map(|m| {
                let member = m.delivery_name(name);
                crate::formats::validate_statement(File::open(&m.path).map_err(io)?, &member).map_err(io)
            })
            .collect(),
        Err(crate::archive::ArchiveError::Io(e)) => Err(io(e)),
        Err(why) => {
            let (sha256, size) = File::open(path).and_then(sha256_of).map_err(io)?;
            let reason = format!("{} archive: {why}", compression.as_str());
            Ok(vec![StatementSummary::unreadable(name, &sha256, size, "archive", &reason)])
        }
    }
}

fn statement_reader() -> Reader {
    Arc::new(|input, name, sink| read_statement(input, name, sink))
}

/// Open an archive and ingest each member (see [`ingest_file`]).
async fn ingest_archive(
    db: &mut Client,
    path: &Path,
    name: &str,
    compression: crate::archive::Compression,
    source: &str,
    mode: IngestMode,
) -> Result<IngestReport> {
    let started = Instant::now();
    let name = name.to_string();
    check_file_name(&name)?;
    let dir = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let (p, into, archive_name) = (path.to_path_buf(), dir.path().to_path_buf(), name.clone());
    let expanded = tokio::task::spawn_blocking(move || {
        let hashed = File::open(&p).and_then(sha256_of).map_err(|e| Error::io(&p, e))?;
        let limits = crate::archive::Limits::default();
        Ok::<_, Error>((hashed, crate::archive::expand(&p, &archive_name, compression, &into, &limits)))
    })
    .await
    .map_err(blocking_err)??;
    let ((sha256, size), members) = expanded;
    let members = match members {
        Ok(m) => m,
        Err(crate::archive::ArchiveError::Io(e)) => return Err(Error::io(path, e)),
        Err(why) => {
            // Unreadable as an archive: recorded as a rejected file of its own, with the reason.
            let reason = format!("{} archive: {why}", compression.as_str());
            let summary = StatementSummary::unreadable(&name, &sha256, size, "archive", &reason);
            let file = store::register(db, &sha256, size, &name, source).await?;
            store::reject(db, file.file_id, &summary).await?;
            store::record_delivery(db, file.file_id, &name, source, "rejected", Some(&reason)).await?;
            return Ok(IngestReport {
                file: name,
                path: path.to_path_buf(),
                file_id: file.file_id,
                sha256,
                outcome: Outcome::Rejected,
                rows: LoadCounts::default(),
                seconds: started.elapsed().as_secs_f64(),
                summary: Some(summary),
                members: Vec::new(),
            });
        }
    };
    let mut reports = Vec::with_capacity(members.len());
    for m in &members {
        let member_name = m.delivery_name(&name);
        reports.push(ingest_statement(db, &m.path, &member_name, source, mode).await?);
    }
    let any = |o: Outcome| reports.iter().any(|r| r.outcome == o);
    let outcome = if any(Outcome::Rejected) {
        Outcome::Rejected
    } else if any(Outcome::Loaded) {
        Outcome::Loaded
    } else if any(Outcome::Staged) {
        Outcome::Staged
    } else {
        Outcome::Duplicate
    };
    let mut rows = LoadCounts::default();
    for r in &reports {
        rows.add(&r.rows);
    }
    Ok(IngestReport {
        file: name,
        path: path.to_path_buf(),
        file_id: 0,
        sha256,
        outcome,
        rows,
        seconds: started.elapsed().as_secs_f64(),
        summary: None,
        members: reports,
    })
}

/// Ingest and load the merchant's own sales export (CSV read through `mapping`), with the same guarantees as
/// a statement: idempotent by content, atomic, rejected rows kept with their reasons.
pub async fn ingest_merchant_sales(
    db: &mut Client,
    path: &Path,
    source: &str,
    mapping: &Mapping,
) -> Result<IngestReport> {
    crate::source::check_regular_file(path)?;
    let mapping = Arc::new(mapping.clone());
    let reader: Reader = Arc::new(move |input, name, sink| read_merchant_sales(input, name, &mapping, sink));
    ingest_with(db, path, None, source, IngestMode::StageAndLoad, reader).await
}

/// Load the merchants' side a sample wrote ([`crate::formats::sample_world::Books`]): the contract, then the
/// POS export, so that a reconciliation sees both. Sample files are ours: any problem in them is an error.
pub async fn load_books(db: &mut Client, books: &crate::formats::sample_world::Books, source: &str) -> Result<()> {
    let file = File::open(&books.rates).map_err(|e| Error::io(&books.rates, e))?;
    let rates = crate::reconcile::fees::read_rates(file).map_err(|issues| {
        let first = issues.first().map(|i| i.to_string()).unwrap_or_default();
        Error::Other(format!("{}: {} problem(s), the first: {first}", books.rates.display(), issues.len()))
    })?;
    crate::db::recon::import_rates(db, &rates, source).await?;
    let mapping = Mapping::from_file(&books.mapping).map_err(Error::Other)?;
    let report = ingest_merchant_sales(db, &books.merchant_sales, source, &mapping).await?;
    if report.outcome == Outcome::Rejected {
        return Err(Error::Other(format!(
            "{}: the sample POS export was rejected: {}",
            books.merchant_sales.display(),
            report.summary.as_ref().and_then(|s| s.errors.first()).map(|i| i.to_string()).unwrap_or_default()
        )));
    }
    Ok(())
}

/// How a file's bytes become validated records and a summary (a statement format, or a merchant CSV).
type Reader = Arc<
    dyn Fn(
            crate::progress::Reading<File>,
            &str,
            &mut dyn FnMut(Record) -> ControlFlow<()>,
        ) -> std::io::Result<StatementSummary>
        + Send
        + Sync,
>;

/// Ingest one file read by `reader`; `name` is its delivery name when it is not the path's (an archive's
/// member).
async fn ingest_with(
    db: &mut Client,
    path: &Path,
    name: Option<String>,
    source: &str,
    mode: IngestMode,
    reader: Reader,
) -> Result<IngestReport> {
    let started = Instant::now();
    let name = name.unwrap_or_else(|| display_name(path));
    check_file_name(&name)?;
    let p = path.to_path_buf();
    let (sha256, size) =
        tokio::task::spawn_blocking(move || File::open(&p).and_then(sha256_of).map_err(|e| Error::io(&p, e)))
            .await
            .map_err(blocking_err)??;
    let mut report = IngestReport::duplicate(&name, path, &sha256);
    let done = |mode: IngestMode, status: FileStatus| {
        // A superseded content delivered again is a duplicate: the statement that replaced it stays.
        matches!(status, FileStatus::Loaded | FileStatus::Superseded)
            || (mode == IngestMode::StageOnly && status == FileStatus::Staged)
    };
    if let Some(existing) = store::find_by_sha256(db, &sha256).await? {
        if done(mode, existing.status) {
            report.file_id = existing.file_id;
            store::record_delivery(db, existing.file_id, &name, source, "duplicate", None).await?;
            report.seconds = started.elapsed().as_secs_f64();
            return Ok(report);
        }
    }
    let file = store::register(db, &sha256, size, &name, source).await?;
    report.file_id = file.file_id;
    crate::progress::file(&name, crate::progress::FileEvent::Started { bytes: size });

    // Whatever goes wrong from here is recorded on the file (a `failed` delivery with the error), so a file
    // that cannot be loaded says why instead of staying `received` in silence.
    let result: Result<IngestReport> = async {
        let tx = db.transaction().await?;
        let status = store::lock_file(&tx, file.file_id).await?;
        if done(mode, status) {
            // A concurrent ingest of the same content finished while we waited for the lock.
            tx.rollback().await?;
            store::record_delivery(db, file.file_id, &name, source, "duplicate", None).await?;
            report.seconds = started.elapsed().as_secs_f64();
            return Ok(report);
        }
        let mut direct = None;
        if status != FileStatus::Staged {
            let (sender, mut receiver) = mpsc::channel::<Vec<Record>>(4);
            let p = path.to_path_buf();
            let file_name = name.clone();
            let parser = tokio::task::spawn_blocking(move || -> Result<StatementSummary> {
                let input = crate::progress::Reading::new(File::open(&p).map_err(|e| Error::io(&p, e))?, &file_name);
                let rows = input.rows();
                let mut batch = Vec::with_capacity(BATCH);
                let mut sink = |record: Record| {
                    rows.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    batch.push(record);
                    if batch.len() >= BATCH
                        && sender.blocking_send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))).is_err()
                    {
                        return ControlFlow::Break(());
                    }
                    ControlFlow::Continue(())
                };
                let summary = reader(input, &file_name, &mut sink).map_err(|e| Error::io(&p, e))?;
                if !batch.is_empty() {
                    let _ = sender.blocking_send(batch);
                }
                Ok(summary)
            });
            // The bulk kinds go straight to their facts (staging only: unattached, counted nowhere until the
            // load), the other kinds to `stage_record`.
            let written = bulk::load_records(&tx, file.file_id, &mut receiver, mode == IngestMode::StageOnly)
                .await
                .map(|w| (mode == IngestMode::StageAndLoad).then_some(w));
            drop(receiver);
            let summary = parser.await.map_err(blocking_err)??;
            // A failure to write (the database) comes first: the parser stopped early, so its summary is partial.
            direct = written?;
            if summary.sha256 != sha256 {
                tx.rollback().await?;
                return Err(Error::FileChanged { path: path.to_path_buf(), before: sha256, after: summary.sha256 });
            }
            if !summary.is_valid() {
                tx.rollback().await?;
                store::reject(db, file.file_id, &summary).await?;
                store::record_delivery(
                    db,
                    file.file_id,
                    &name,
                    source,
                    "rejected",
                    summary.errors.first().map(|i| i.to_string()).as_deref(),
                )
                .await?;
                report.outcome = Outcome::Rejected;
                report.summary = Some(summary);
                report.seconds = started.elapsed().as_secs_f64();
                return Ok(report);
            }
            store::mark_staged(&tx, file.file_id, &summary).await?;
            tracing::info!(file = %name, file_id = file.file_id, seconds = started.elapsed().as_secs_f64(), "staged");
            report.summary = Some(summary);
        }
        report.outcome = Outcome::Staged;
        if mode == IngestMode::StageAndLoad {
            let rows = report.summary.as_ref().map_or(0, |s| s.lines);
            crate::progress::file(&name, crate::progress::FileEvent::Loading { rows });
            match store::load_staged_with(&tx, file.file_id, direct.as_ref()).await? {
                LoadResult::Loaded(counts) => {
                    report.outcome = Outcome::Loaded;
                    report.rows = counts;
                }
                LoadResult::AlreadyLoaded => report.outcome = Outcome::Duplicate,
                LoadResult::StagingLost(detail) => {
                    tx.commit().await?;
                    return Err(Error::Integrity { file_id: file.file_id, detail });
                }
            }
        }
        tracing::info!(file = %name, file_id = file.file_id, seconds = started.elapsed().as_secs_f64(), "loaded, committing");
        // The delivery is logged in the load's own transaction: a crash during COMMIT leaves both or neither.
        store::record_delivery(&tx, file.file_id, &name, source, report.outcome.as_str(), None).await?;
        tx.commit().await?;
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }
    .await;
    crate::progress::file(&name, crate::progress::FileEvent::Done);
    if let Err(e) = &result {
        if !e.is_retryable_db() {
            let _ = store::record_failure(db, file.file_id, &name, source, &e.to_string()).await;
        }
    }
    result
}

/// How loading one staged file ended.
#[derive(Debug)]
pub enum FileLoad {
    /// Loaded now (`Loaded`), or by someone before (`Duplicate`).
    Done(Outcome, LoadCounts),
    /// Its staged rows were lost (the staging table is UNLOGGED: a database crash empties it). The file was
    /// sent back to `received` and must be staged again — from its copy in S3 (`remote::restage`) or by
    /// fetching it again. Recorded as a failed delivery until then.
    StagingLost(String),
    /// This file could not be loaded, and trying again as it is will not change that (its staged rows were
    /// lost: it must be ingested again; an integrity check refused it; the database refused its data). The
    /// failure is recorded with the file (a `failed` delivery and the error); the other files go on.
    Failed(Error),
}

/// Load staged files into the facts, one transaction per file, each on its own: a file that cannot be loaded
/// is recorded as failed and the others load. Only an error that may pass by retrying the whole load (the
/// database unreachable, a connection lost) stops it, and is returned.
pub async fn load_files(db: &mut Client, file_ids: &[i64]) -> Result<Vec<(i64, FileLoad)>> {
    let mut out = Vec::with_capacity(file_ids.len());
    for &file_id in file_ids {
        let result = async {
            let tx = db.transaction().await?;
            Ok::<_, Error>(match store::load_staged(&tx, file_id).await? {
                LoadResult::Loaded(c) => {
                    tx.commit().await?;
                    FileLoad::Done(Outcome::Loaded, c)
                }
                LoadResult::AlreadyLoaded => {
                    tx.rollback().await?;
                    FileLoad::Done(Outcome::Duplicate, LoadCounts::default())
                }
                LoadResult::StagingLost(detail) => {
                    tx.commit().await?; // the file is sent back to `received`
                    FileLoad::StagingLost(detail)
                }
            })
        }
        .await;
        let load = match result {
            Ok(load) => load,
            Err(e) if e.is_transient() => return Err(e),
            Err(e) => FileLoad::Failed(e),
        };
        let failure = match &load {
            FileLoad::Failed(e) => Some(e.to_string()),
            FileLoad::StagingLost(detail) => Some(format!("file {file_id}: {detail}")),
            FileLoad::Done(..) => None,
        };
        if let Some(e) = failure {
            tracing::error!(file_id, error = %e, "file not loaded; the others go on");
            let name: String = db
                .query_opt("SELECT file_name FROM statement_file WHERE file_id = $1", &[&file_id])
                .await?
                .map_or_else(String::new, |r| r.get(0));
            store::record_delivery(&*db, file_id, &name, "load", "failed", Some(&e)).await?;
            db.execute("UPDATE statement_file SET error = $2, updated_at = now() WHERE file_id = $1", &[&file_id, &e])
                .await?;
        }
        out.push((file_id, load));
    }
    Ok(out)
}

/// Totals of a pipeline run.
#[derive(Debug, Clone, Serialize, Default)]
pub struct RunSummary {
    pub files_seen: usize,
    pub loaded: usize,
    pub duplicates: usize,
    pub rejected: usize,
    pub failed: usize,
    /// Facts added, per kind.
    pub facts: LoadCounts,
    pub gross_loaded: Decimal,
    pub net_loaded: Decimal,
    pub seconds: f64,
    pub reports: Vec<IngestReport>,
    pub failures: Vec<(String, String)>,
}

/// Add one file's result to a run's totals.
fn tally(summary: &mut RunSummary, result: FileResult) {
    match result {
        Ok(report) => {
            match report.outcome {
                Outcome::Loaded => {
                    summary.loaded += 1;
                    summary.facts.add(&report.rows);
                    if let Some(s) = &report.summary {
                        summary.gross_loaded += s.transactions.gross + s.pix.gross;
                        summary.net_loaded += s.transactions.net + s.pix.net;
                    }
                }
                Outcome::Duplicate => summary.duplicates += 1,
                Outcome::Rejected => summary.rejected += 1,
                Outcome::Staged => {}
            }
            summary.reports.push(report);
        }
        Err(f) => {
            summary.failed += 1;
            summary.failures.push(f);
        }
    }
}

/// What one file of a run came to: its report, or (name, error).
type FileResult = std::result::Result<IngestReport, (String, String)>;

/// The work a run does for one item, on the worker's own connection.
pub(crate) type Work<T> = Arc<dyn for<'c> Fn(&'c mut Client, T) -> BoxFuture<'c, Result<IngestReport>> + Send + Sync>;

/// Run `work` over `items` (each with the name failures are reported under), `jobs` workers at a time, each
/// with its own database connection, and add every result to `summary`. A database failure that may pass
/// (server restarting, connection lost, statement timeout) is retried on a new connection with backoff
/// ([`RetryPolicy`]); each item is one transaction, so a failed attempt leaves nothing behind.
pub(crate) async fn in_parallel<T: Clone + Send + Sync + 'static>(
    database_url: &str,
    items: VecDeque<(String, T)>,
    jobs: usize,
    work: Work<T>,
    summary: &mut RunSummary,
) -> Result<()> {
    let policy = RetryPolicy::from_env();
    let queue = Arc::new(Mutex::new(items));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..jobs.max(1) {
        let (queue, work, url) = (queue.clone(), work.clone(), database_url.to_string());
        workers.spawn(async move {
            let mut results: Vec<FileResult> = Vec::new();
            let mut db = match crate::db::connect_retrying(&url, &policy).await {
                Ok(db) => db,
                Err(e) => return vec![Err(("(connection)".to_string(), e.to_string()))],
            };
            loop {
                let next = queue.lock().expect("queue lock").pop_front();
                let Some((name, item)) = next else { break };
                let name = printable_name(&name);
                let r = crate::db::retrying(&url, &mut db, &policy, &name, |db| work(db, item.clone())).await;
                results.push(r.map_err(|e| (name, e.to_string())));
            }
            results
        });
    }
    while let Some(done) = workers.join_next().await {
        for r in done.map_err(|e| Error::Other(format!("worker failed: {e}")))? {
            tally(summary, r);
        }
    }
    Ok(())
}

/// Close a run's totals: reports in name order, elapsed time.
pub(crate) fn finished(mut summary: RunSummary, started: Instant) -> RunSummary {
    summary.reports.sort_by(|a, b| a.file.cmp(&b.file));
    summary.seconds = started.elapsed().as_secs_f64();
    summary
}
