//! The deployed workflow's contracts: the JSON the state machine (`statemachine/reconcile.asl.json`) passes
//! between discovery, the ingest queue and loading, and the steps behind each Lambda. The Lambda crates only
//! turn events into these calls and the results back into events.
//!
//! ```text
//! schedule / manual ──► Discover ──► Map(file ─► ingest queue ─► task token ─► Ack | error) ──► Load
//! S3 ObjectCreated ──► upload queue ──► Ack ──► StartExecution({uploads}) ─► Wait (window) ─────► Load
//! ```

use crate::db::store::{self, LoadCounts, RemoteFileStatus};
use crate::error::{Error, Result};
use crate::pipeline::{self, FileLoad, IngestReport, Outcome};
use crate::remote::{self, Sources};
use crate::source::api::{Fetched, Inbox};
use crate::source::{FileRef, ListedFile};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use tokio_postgres::Client;

/// Error names the workflow tells apart (`Error` of a task failure, `errorType` of a Lambda error).
pub mod errors {
    /// The file is invalid: final, never retried; its reasons are kept in `rejected_line`.
    pub const STATEMENT_REJECTED: &str = "StatementRejected";
    /// The file is gone from its source and was not processed by anyone: final.
    pub const SOURCE_MISSING: &str = "SourceMissing";
    /// A setting or source is missing, or an integrity check failed: final until an operator acts.
    pub const NOT_RETRYABLE: &str = "NotRetryable";
    /// Network, database, a flaky server: worth retrying with backoff.
    pub const TRANSIENT: &str = "Transient";
    /// The event or message is not one the function understands.
    pub const BAD_REQUEST: &str = "BadRequest";
    /// A staged file's rows were lost (a database crash) and no copy could stage it again: the load's second
    /// pass fetches it again from its source.
    pub const STAGING_LOST: &str = "StagingLost";
    /// A run's file that has no outcome after the second pass (its ingest failed or never answered).
    pub const NO_OUTCOME: &str = "NoOutcome";
}

/// The workflow's name for a core error.
pub fn error_name(e: &Error) -> &'static str {
    match e {
        Error::SourceMissing(_) => errors::SOURCE_MISSING,
        e if e.is_transient() => errors::TRANSIENT,
        _ => errors::NOT_RETRYABLE,
    }
}

/// A failure as the workflow reports it: a typed error name (see [`errors`]) and a cause for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub error: String,
    pub cause: String,
}

impl From<&Error> for Failure {
    fn from(e: &Error) -> Failure {
        Failure { error: error_name(e).into(), cause: e.to_string() }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::from(&e)
    }
}

impl Failure {
    pub fn bad_request(cause: impl Into<String>) -> Failure {
        Failure { error: errors::BAD_REQUEST.into(), cause: cause.into() }
    }
}

// ------------------------------------------------------------------------------------------ deployment

/// What every Lambda builds once per execution environment (cold start) and reuses across invocations:
/// the SDK configuration, a small database connection pool and the remote sources.
pub struct Deployment {
    pub sdk: aws_config::SdkConfig,
    pub pool: deadpool_postgres::Pool,
    pub sources: Sources,
}

impl Deployment {
    /// From the function's environment. Settings come from SSM Parameter Store under `SSM_PREFIX` (which the
    /// template sets), or — without `SSM_PREFIX`, for local invocations — from the `SYNCROCARDPAY_DB_*` /
    /// `SYNCROCARDPAY_FTPS_*` environment; `DATABASE_URL`, when set, overrides the database settings. Sources
    /// as [`Sources::from_env`] reads them. Nothing secret is logged.
    pub async fn from_env(pool_size: usize) -> Result<Deployment> {
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let (config, prefix) = deployed_config(&sdk).await?;
        let url = match std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            Some(url) => url,
            None => {
                config.require_db(&prefix).and_then(|d| d.url()).map_err(|e| Error::NotConfigured(e.to_string()))?
            }
        };
        let pool = crate::db::pool(&url, pool_size)?;
        // The schema this code needs, applied by the deploy's migrate step (never here: the runtime user has no
        // DDL rights, and a session advisory lock would pin an RDS Proxy connection).
        let db = crate::db::pooled(&pool).await?;
        crate::db::check_schema(&**db).await?;
        drop(db);
        let sources = Sources::from_env(&sdk, &config)?;
        Ok(Deployment { sdk, pool, sources })
    }
}

// ------------------------------------------------------------------------------------------ migrations

/// What the deploy's migrate step did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationReport {
    /// Migrations applied now (none when the schema was already current).
    pub applied: Vec<String>,
    /// The schema's version afterwards.
    pub version: i32,
    /// The runtime user given read/write (DML) rights, when the migrator is another user.
    pub granted_to: Option<String>,
}

/// Where and as whom the migrations run: the migrator's connection (the schema's owner) and the runtime user
/// to grant DML to when it is someone else.
#[derive(Clone)]
pub struct MigrationTarget {
    /// Contains the secret: never print it.
    pub url: String,
    pub runtime_user: Option<String>,
}

impl MigrationTarget {
    /// From the deployed settings (SSM under `SSM_PREFIX`, else the environment; `DATABASE_URL` wins).
    /// `Ok(None)` when no database setting exists yet (the first deploy, before the operator puts them).
    pub async fn from_env() -> Result<Option<MigrationTarget>> {
        if let Some(url) = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            return Ok(Some(MigrationTarget { url, runtime_user: None }));
        }
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let (config, _) = deployed_config(&sdk).await?;
        let Some(db) = &config.db else { return Ok(None) };
        let url = db.migrator_url().map_err(|e| Error::NotConfigured(e.to_string()))?;
        let runtime_user = db.migrator.as_ref().filter(|m| m.user != db.user).map(|_| db.user.clone());
        Ok(Some(MigrationTarget { url, runtime_user }))
    }

    /// Apply the embedded migrations (under a session advisory lock: one migrator at a time) and grant the
    /// runtime user its rights.
    pub async fn migrate(&self) -> Result<MigrationReport> {
        let mut client = crate::db::connect(&self.url).await?;
        let applied = crate::db::migrate(&mut client).await?;
        if let Some(user) = &self.runtime_user {
            crate::db::grant_runtime(&client, user).await?;
        }
        let version = crate::db::schema_version(&client).await?;
        tracing::info!(applied = applied.len(), version, granted = self.runtime_user.is_some(), "schema migrated");
        Ok(MigrationReport { applied, version, granted_to: self.runtime_user.clone() })
    }
}

/// The deployed settings and their prefix: SSM under `SSM_PREFIX` when set, else the environment.
async fn deployed_config(sdk: &aws_config::SdkConfig) -> Result<(crate::config::Config, String)> {
    use crate::config::{Config, EnvParameters, SsmParameters};
    let prefix = std::env::var("SSM_PREFIX").ok().filter(|p| !p.is_empty());
    let config = match &prefix {
        Some(prefix) => Config::load(&SsmParameters::new(aws_sdk_ssm::Client::new(sdk)), prefix).await,
        None => Config::load(&EnvParameters, crate::config::DEFAULT_PREFIX).await,
    }
    .map_err(|e| Error::NotConfigured(e.to_string()))?;
    Ok((config, prefix.unwrap_or_else(|| crate::config::DEFAULT_PREFIX.to_string())))
}

// ------------------------------------------------------------------------------------------ discovery

/// What started a discovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// The nightly EventBridge schedule.
    Schedule,
    /// Started by hand (console, CLI, redrive).
    Manual,
}

/// A discovery request: `{"trigger": "schedule"|"manual", "force": bool}`, or EventBridge's own scheduled
/// event (`"detail-type": "Scheduled Event"`), which is a scheduled run without force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscoverRequest {
    pub trigger: Trigger,
    pub force: bool,
}

impl DiscoverRequest {
    pub fn from_event(event: &Value) -> std::result::Result<DiscoverRequest, String> {
        if event.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event") {
            return Ok(DiscoverRequest { trigger: Trigger::Schedule, force: false });
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Plain {
            #[serde(default)]
            trigger: Option<Trigger>,
            #[serde(default)]
            force: bool,
        }
        let plain: Plain = serde_json::from_value(event.clone()).map_err(|e| {
            format!(
                "not a discovery request ({e}): expected {{\"trigger\": \"schedule\"|\"manual\", \"force\": bool}} \
                 or an EventBridge scheduled event"
            )
        })?;
        Ok(DiscoverRequest { trigger: plain.trigger.unwrap_or(Trigger::Manual), force: plain.force })
    }
}

/// Where a run's files are listed for the state machine's Distributed Map (`ItemReader`): a JSON array of
/// `{"file": FileRef}` in the statements bucket, so that no state's payload grows with the night's files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub bucket: String,
    pub key: String,
    /// Files listed in it.
    pub count: usize,
}

/// Names of refused files kept in a response (the count is always whole).
pub const REFUSED_KEPT: usize = 20;

/// What the discovery Lambda returns to the state machine: counts and where the files are, never the files.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DiscoverResponse {
    pub trigger: Trigger,
    pub force: bool,
    /// How many files the Map ingests at once.
    pub max_concurrency: u32,
    /// The run's files (absent when the run was skipped).
    #[serde(default)]
    pub manifest: Option<Manifest>,
    /// Files in the manifest.
    #[serde(default)]
    pub discovered: usize,
    /// FTPS files skipped because this exact listing was already dealt with.
    #[serde(default)]
    pub already_seen: usize,
    /// Files left for the next run (beyond the run's cap).
    #[serde(default)]
    pub deferred: usize,
    /// Names never fetched (unsafe S3 keys): the first [`REFUSED_KEPT`], and how many in all.
    #[serde(default)]
    pub refused: Vec<crate::source::Refused>,
    #[serde(default)]
    pub refused_count: usize,
    /// The run lease this run holds (given back by its last load), so that two runs never overlap.
    #[serde(default)]
    pub lease: Option<String>,
    /// Why this run does nothing: another run holds the lease. The state machine then ends at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// What the APIs gave for each day asked (written to the inbox, already known, nothing, failed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fetched: Vec<Fetched>,
}

/// How long a run may hold the lease: the state machine's execution timeout (`TimeoutSeconds`), after which
/// no execution of that run is left to give it back.
pub const RUN_LEASE_SECONDS: i64 = 6 * 3600;

/// How a run's discovery is bounded: files ingested at once, files taken per run.
#[derive(Debug, Clone, Copy)]
pub struct DiscoverLimits {
    pub max_concurrency: u32,
    /// At most this many files per run (`MAX_FILES_PER_RUN`); the rest wait for the next run.
    pub max_files: usize,
    /// The days asked of the APIs (Stone, PagBank) each run, ending yesterday in Brasília (`FETCH_DAYS`): a
    /// day not published yet, or refused for too many requests, is asked again the next runs.
    pub fetch_days: u32,
}

/// [`DiscoverLimits::fetch_days`] unless set.
pub const DEFAULT_FETCH_DAYS: u32 = 3;

/// A run's discovery: take the run lease, list the sources (at most `max_files`), write the manifest of
/// the run's files to the bucket, and answer with counts and the manifest's place.
pub async fn discover(
    db: &Client,
    sources: &Sources,
    request: DiscoverRequest,
    limits: DiscoverLimits,
) -> Result<DiscoverResponse> {
    let mut response = DiscoverResponse {
        trigger: request.trigger,
        force: request.force,
        max_concurrency: limits.max_concurrency,
        manifest: None,
        discovered: 0,
        already_seen: 0,
        deferred: 0,
        refused: Vec::new(),
        refused_count: 0,
        lease: None,
        skipped: None,
        fetched: Vec::new(),
    };
    let store = sources.s3.as_ref().ok_or_else(|| {
        Error::NotConfigured("a run's manifest is written to the statements bucket: set S3_BUCKET".into())
    })?;
    let holder = lease_token();
    if let Some((other, since)) = store::acquire_run_lease(db, &holder, RUN_LEASE_SECONDS).await? {
        let why = format!("another run (lease {other}) has been running since {since}: this one does nothing");
        tracing::warn!(trigger = ?request.trigger, reason = %why, "run skipped");
        response.skipped = Some(why);
        return Ok(response);
    }
    let listed = async {
        // The APIs' days first, into the S3 inbox: listed with the rest, so loaded in this run.
        let today = (chrono::Utc::now() - chrono::Duration::hours(3)).date_naive();
        let fetched = fetch_api_days(db, sources, store, today, limits.fetch_days).await?;
        let found =
            crate::intake::discover(db, &sources.listed(), request.force, Some(&holder), limits.max_files).await?;
        let manifest = write_manifest(store, &holder, "files", &found.files).await?;
        Ok::<_, Error>((found, manifest, fetched))
    };
    let (found, manifest, fetched) = match listed.await {
        Ok(done) => done,
        Err(e) => {
            // Discovery is retried by the state machine: the retry takes the lease again.
            let _ = store::release_run_lease(db, &holder).await;
            return Err(e);
        }
    };
    tracing::info!(
        trigger = ?request.trigger,
        files = found.files.len(),
        already_seen = found.already_seen,
        deferred = found.deferred,
        refused = found.refused.len(),
        lease = %holder,
        manifest = %manifest.key,
        "discovered"
    );
    response.discovered = found.files.len();
    response.already_seen = found.already_seen;
    response.deferred = found.deferred;
    response.refused_count = found.refused.len();
    response.refused = found.refused.into_iter().take(REFUSED_KEPT).collect();
    response.manifest = Some(manifest);
    response.lease = Some(holder);
    response.fetched = fetched;
    Ok(response)
}

/// Ask each configured API (Stone, PagBank) for the `days` days before `today` (Brasília) and write each
/// day's document into the S3 inbox — unless a statement with the same bytes is already known, so that the
/// days asked again each run are not delivered again. What each day gave is logged and answered; a day that
/// fails does not stop the run (its files, and the other days, go on).
async fn fetch_api_days(
    db: &Client,
    sources: &Sources,
    store: &Arc<crate::source::s3::S3Store>,
    today: chrono::NaiveDate,
    days: u32,
) -> Result<Vec<Fetched>> {
    if sources.apis.is_empty() || days == 0 {
        return Ok(Vec::new());
    }
    let to = today.pred_opt().unwrap_or(today);
    let from = to - chrono::Duration::days(i64::from(days) - 1);
    // Known: every final state (loaded, rejected, superseded, withdrawn — an operator's withdrawal is not
    // undone by the next night) and a load under way; `received` alone, an ingest that stopped, is asked again.
    let rows = db
        .query(
            "SELECT sha256 FROM statement_file
              WHERE acquirer IN ('stone', 'pagbank') AND status <> 'received' AND period_end >= $1",
            &[&from],
        )
        .await?;
    let known: std::collections::HashSet<String> = rows.iter().map(|r| r.get(0)).collect();
    let inbox = Inbox::S3(store.clone());
    let mut out = Vec::new();
    for api in &sources.apis {
        out.extend(api.fetch(from, to, &inbox, &known).await);
    }
    for f in &out {
        match f {
            Fetched::Written { name, bytes, .. } => tracing::info!(name = %name, bytes, "fetched into the inbox"),
            Fetched::Unchanged { name } => tracing::info!(name = %name, "fetched, already known"),
            Fetched::Nothing { what, reason } => tracing::info!(what = %what, reason = %reason, "nothing to fetch"),
            Fetched::Failed { what, error } => tracing::warn!(what = %what, error = %error, "fetch failed"),
        }
    }
    Ok(out)
}

/// Write a run's list of files (`runs/<run>/<name>.json`: `[{"file": …}, …]`) for a Distributed Map.
pub async fn write_manifest(
    store: &crate::source::s3::S3Store,
    run: &str,
    name: &str,
    files: &[FileRef],
) -> Result<Manifest> {
    let items: Vec<Value> = files.iter().map(|f| serde_json::json!({ "file": f })).collect();
    let body = serde_json::to_vec(&items).map_err(|e| Error::Other(e.to_string()))?;
    let key = store.put_area_object("runs", &format!("{run}/{name}.json"), body).await?;
    Ok(Manifest { bucket: store.bucket().to_string(), key, count: files.len() })
}

/// A token no other run will draw: a randomly keyed hash of the time and the process.
fn lease_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    h.write_u32(std::process::id());
    format!("run-{:016x}", h.finish())
}

// ------------------------------------------------------------------------------------------ ingestion

/// How an ingest of one referenced file ended, as the ingest Lambda reports it (`SendTaskSuccess` output,
/// or the `ack` of a single-file load execution).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Ack {
    /// Validated and staged: the load step adds it to the facts.
    Staged { file_id: i64, sha256: String, name: String },
    /// Validated and loaded by the ingest itself (a bank statement has nothing to stage), with what it
    /// added: the load step counts it as loaded.
    Loaded { file_id: i64, sha256: String, name: String, rows: crate::db::store::LoadCounts },
    /// This content was already staged or loaded (under this or another name).
    Duplicate { file_id: i64, sha256: String, name: String },
    /// The file left its source because another delivery processed it.
    Gone { name: String, reason: String },
    /// A compressed delivery: the acks of its members that were staged or already there, and the rejected
    /// ones as (name, reason) (their rejection is recorded with them).
    Archive { sha256: String, name: String, members: Vec<Ack>, rejected: Vec<(String, String)> },
}

impl Ack {
    /// The ack of a successful ingest; `None` for a rejection (a task failure instead).
    pub fn from_report(report: &IngestReport) -> Option<Ack> {
        let (file_id, sha256, name) = (report.file_id, report.sha256.clone(), report.file.clone());
        if !report.members.is_empty() {
            let members: Vec<Ack> = report.members.iter().filter_map(Ack::from_report).collect();
            let rejected = report
                .members
                .iter()
                .filter(|m| m.outcome == Outcome::Rejected)
                .map(|m| (m.file.clone(), crate::intake::rejection_reason(m)))
                .collect();
            // Nothing of it to load: the archive is a rejection as a whole.
            return (!members.is_empty()).then_some(Ack::Archive { sha256, name, members, rejected });
        }
        match report.outcome {
            Outcome::Staged => Some(Ack::Staged { file_id, sha256, name }),
            Outcome::Loaded => Some(Ack::Loaded { file_id, sha256, name, rows: report.rows }),
            Outcome::Duplicate => Some(Ack::Duplicate { file_id, sha256, name }),
            Outcome::Rejected => None,
        }
    }

    pub fn file_id(&self) -> Option<i64> {
        match self {
            Ack::Staged { file_id, .. } | Ack::Duplicate { file_id, .. } | Ack::Loaded { file_id, .. } => {
                Some(*file_id)
            }
            Ack::Gone { .. } | Ack::Archive { .. } => None,
        }
    }
}

/// A failed task as Step Functions' `Catch` records it (`ResultPath: "$.error"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskError {
    #[serde(rename = "Error")]
    pub error: String,
    /// Absent or null when the failure gave none.
    #[serde(rename = "Cause", default)]
    pub cause: Option<String>,
}

/// One file of the workflow: the reference, and either the ingest's ack or the error it ended with. This
/// is the shape of a Map iteration's output and of a single-file execution's input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack: Option<Ack>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<TaskError>,
}

/// The execution name of a single-file load: derived from the content, so a re-delivered S3 event starts
/// nothing new (Step Functions refuses a second execution of the same name).
pub fn execution_name(sha256: &str) -> String {
    format!("file-{}", &sha256[..sha256.len().min(64)])
}

/// The load of a window of uploads: every upload whose ingest finished in the window starts — or, being the
/// same execution, joins — one execution, which waits for the window to close and then loads whatever is
/// staged, reconciling each touched scope once. A burst of a thousand uploads is one load and one
/// reconciliation per merchant, not a thousand of each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadWindow {
    /// When the window opened (UTC, whole seconds).
    pub window: String,
    /// When its load may start: the window's end and a grace for a start call still in flight (the Wait
    /// state's timestamp).
    pub load_after: String,
}

/// Seconds between the end of an upload window and its load (a start call in flight at the window's end
/// arrives well within it).
pub const UPLOAD_WINDOW_GRACE_SECONDS: i64 = 5;

impl UploadWindow {
    /// The window `now` falls in, windows being `seconds` long from the epoch.
    pub fn at(now: chrono::DateTime<chrono::Utc>, seconds: u32) -> UploadWindow {
        let length = i64::from(seconds.max(1));
        let start = now.timestamp().div_euclid(length) * length;
        let stamp = |t: i64| {
            chrono::DateTime::from_timestamp(t, 0).unwrap_or_default().format("%Y-%m-%dT%H:%M:%SZ").to_string()
        };
        UploadWindow { window: stamp(start), load_after: stamp(start + length + UPLOAD_WINDOW_GRACE_SECONDS) }
    }

    /// The window open now.
    pub fn now(seconds: u32) -> UploadWindow {
        UploadWindow::at(chrono::Utc::now(), seconds)
    }

    /// Its execution's name (unique per window) and input (the same for every start call of the window, so
    /// Step Functions answers a second call with the running execution).
    pub fn execution(&self) -> (String, Value) {
        let name = format!("uploads-{}", self.window.replace([':', '-'], ""));
        (name, serde_json::json!({ "uploads": self }))
    }
}

// ------------------------------------------------------------------------------------------ loading

/// The load Lambda's input: the Map's items (or one item), and whether to also load every file still staged
/// from earlier runs (the scheduled run sweeps; a single-file load does not).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LoadRequest {
    pub items: Vec<Item>,
    #[serde(default)]
    pub sweep: bool,
    /// The run lease to give back once loaded: the run's last load carries it (see [`DiscoverResponse`]).
    #[serde(default)]
    pub lease: Option<String>,
    /// A run's load (its discovery's lease): the run's outcomes are read from the database, and its files
    /// without one (no ingest answered, or failed) are listed in a manifest for a second pass.
    #[serde(default)]
    pub run: Option<String>,
    /// The run's last load (after its second pass): files still without an outcome are reported failed.
    #[serde(default)]
    pub final_pass: bool,
}

/// Per-file entries kept in a load's summary (counts are always whole): a state's payload stays bounded.
pub const FILES_KEPT: usize = 50;

/// Files loaded between two looks at a load's time budget.
const LOAD_CHUNK: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadedFile {
    pub file_id: i64,
    pub name: String,
    pub outcome: Outcome,
    pub rows: LoadCounts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedFile {
    /// The reference to ingest again (absent when the failed item carried none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileRef>,
    pub name: String,
    pub error: String,
    pub cause: String,
}

/// What a load came to: per-file results and the failures to retry — the execution's output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadSummary {
    pub files: usize,
    pub loaded: Vec<LoadedFile>,
    /// Files whose content was already loaded.
    pub duplicates: usize,
    /// Files gone from their source because another delivery processed them.
    pub gone: usize,
    pub rejected: Vec<FailedFile>,
    pub failed: Vec<FailedFile>,
    /// The references of the failed files, for the state machine's second pass.
    pub failed_files: Vec<FileRef>,
    pub failed_count: usize,
    /// Facts added, all files together.
    pub facts: LoadCounts,
    /// The reconciliations of what was loaded: one per merchant touched, over its files' periods.
    #[serde(default)]
    pub reconciliation: Vec<ReconciliationHeadline>,
    /// Whole counts where the lists above keep [`FILES_KEPT`] entries.
    #[serde(default)]
    pub loaded_count: usize,
    #[serde(default)]
    pub rejected_count: usize,
    #[serde(default)]
    pub reconciliation_count: usize,
    /// A run's files with no outcome yet, for the second pass (a run's first load only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Manifest>,
    /// How a run's files came out, by remote status (a run's load only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub run_outcomes: Vec<(RemoteFileStatus, i64)>,
    /// Files are still staged: the time budget ran out, call again (the state machine does).
    #[serde(default)]
    pub more: bool,
}

/// The headline numbers of one reconciliation run (its items are in `recon_result`, its totals in `recon_run`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconciliationHeadline {
    pub run_id: i64,
    pub merchant: Option<String>,
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    pub as_of: chrono::NaiveDate,
    pub items: u64,
    /// Items needing attention, and the money at stake in them.
    pub open: u64,
    pub open_at_stake: rust_decimal::Decimal,
    /// Lines not reconciled for want of an input (the merchant's own sales, a contract): which, in `recon_run`'s
    /// totals.
    #[serde(default)]
    pub left_aside: u64,
}

/// A file its ingest loaded (a bank statement): counted as loaded here, with what the ingest added.
fn loaded_at_ingest(summary: &mut LoadSummary, file_id: i64, name: &str, rows: &crate::db::store::LoadCounts) {
    summary.facts.add(rows);
    summary.loaded.push(LoadedFile { file_id, name: name.to_string(), outcome: Outcome::Loaded, rows: *rows });
}

/// Load the staged files of the items (one transaction per file, idempotent), plus, with `sweep`, every file
/// left staged by earlier runs; sort the rest into duplicates, rejections and failures. A file whose staged
/// rows were lost (a database crash) is staged again from its copy in `sources`' bucket and loaded; with
/// `sweep`, so is every file an earlier load sent back for that reason.
pub async fn load(db: &mut Client, sources: &Sources, request: &LoadRequest) -> Result<LoadSummary> {
    load_within(db, sources, request, None).await
}

/// [`load`] in bounded chunks: once `budget` has passed (checked between files; at least one file is
/// always loaded), the files left staged stay for the next call and the summary says `more`. The state
/// machine calls again until there is nothing more, so a backlog of thousands drains without any Lambda near
/// its time limit; each call is idempotent.
pub async fn load_within(
    db: &mut Client,
    sources: &Sources,
    request: &LoadRequest,
    budget: Option<std::time::Duration>,
) -> Result<LoadSummary> {
    let started = std::time::Instant::now();
    let mut summary = LoadSummary { files: request.items.len(), ..Default::default() };
    let mut run_rejected = 0;
    let mut to_load: Vec<(i64, String)> = Vec::new();
    // Where each file to load came from, to send a file that failed to load back for the second pass.
    let mut refs: Vec<(i64, FileRef)> = Vec::new();
    for item in &request.items {
        let name = item.file.as_ref().map(|f| f.name().to_string());
        match (&item.ack, &item.error) {
            (Some(Ack::Staged { file_id, name, .. } | Ack::Duplicate { file_id, name, .. }), _) => {
                to_load.push((*file_id, name.clone()));
                refs.extend(item.file.clone().map(|f| (*file_id, f)));
            }
            (Some(Ack::Loaded { file_id, name, rows, .. }), _) => loaded_at_ingest(&mut summary, *file_id, name, rows),
            (Some(Ack::Gone { .. }), _) => summary.gone += 1,
            (Some(Ack::Archive { members, rejected, .. }), _) => {
                for m in members {
                    match m {
                        Ack::Staged { file_id, name, .. } | Ack::Duplicate { file_id, name, .. } => {
                            to_load.push((*file_id, name.clone()));
                            refs.extend(item.file.clone().map(|f| (*file_id, f)));
                        }
                        Ack::Loaded { file_id, name, rows, .. } => loaded_at_ingest(&mut summary, *file_id, name, rows),
                        Ack::Gone { .. } | Ack::Archive { .. } => {}
                    }
                }
                for (name, cause) in rejected {
                    summary.rejected.push(FailedFile {
                        file: None,
                        name: name.clone(),
                        error: errors::STATEMENT_REJECTED.to_string(),
                        cause: cause.clone(),
                    });
                }
            }
            (None, Some(err)) => {
                let failed = FailedFile {
                    file: item.file.clone(),
                    name: name.unwrap_or_else(|| "(unnamed)".into()),
                    error: err.error.clone(),
                    cause: err.cause.clone().unwrap_or_default(),
                };
                if err.error == errors::STATEMENT_REJECTED {
                    summary.rejected.push(failed);
                } else {
                    summary.failed_files.extend(failed.file.clone());
                    summary.failed.push(failed);
                }
            }
            (None, None) => {
                return Err(Error::Other(format!("an item with neither ack nor error: {}", name.unwrap_or_default())))
            }
        }
    }
    if request.sweep {
        // Sent back by an earlier load (staging lost) and not staged since: from the copy, then with the rest.
        for file_id in store::files_to_restage(&*db).await? {
            if restage(db, sources, file_id).await? {
                to_load.push((file_id, format!("file {file_id} (staged again from its copy)")));
            }
        }
        for (file_id, name) in store::staged_files(&*db).await? {
            if !to_load.iter().any(|(id, _)| *id == file_id) {
                to_load.push((file_id, name));
            }
        }
    }
    let ids: Vec<i64> = to_load.iter().map(|(id, _)| *id).collect();
    let mut results = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(LOAD_CHUNK) {
        if !results.is_empty() && budget.is_some_and(|b| started.elapsed() >= b) {
            summary.more = true;
            break;
        }
        results.extend(pipeline::load_files(db, chunk).await?);
    }
    to_load.truncate(results.len());
    // Staged rows lost since the ingest: staged again from the file's copy and loaded now, where a copy exists.
    let mut again = Vec::new();
    for (file_id, l) in &results {
        if matches!(l, FileLoad::StagingLost(_)) && restage(db, sources, *file_id).await? {
            again.push(*file_id);
        }
    }
    for (file_id, l) in pipeline::load_files(db, &again).await? {
        if let Some(slot) = results.iter_mut().find(|(id, _)| *id == file_id) {
            slot.1 = l;
        }
    }
    for ((file_id, load), (_, name)) in results.into_iter().zip(to_load) {
        match load {
            FileLoad::Done(Outcome::Loaded, rows) => {
                summary.facts.add(&rows);
                summary.loaded.push(LoadedFile { file_id, name, outcome: Outcome::Loaded, rows });
            }
            FileLoad::Done(..) => summary.duplicates += 1,
            FileLoad::StagingLost(detail) => {
                let file = refs.iter().find(|(id, _)| *id == file_id).map(|(_, f)| f.clone());
                summary.failed_files.extend(file.clone());
                summary.failed.push(FailedFile {
                    file,
                    name,
                    error: errors::STAGING_LOST.to_string(),
                    cause: format!("file {file_id}: {detail}; no copy to stage it again from: to be fetched again"),
                });
            }
            // One file that cannot be loaded never stops the others. Its reference goes back for the second
            // pass (lost staging is ingested again); without one it is reported, and the next sweep retries it.
            FileLoad::Failed(e) => {
                let file = refs.iter().find(|(id, _)| *id == file_id).map(|(_, f)| f.clone());
                summary.failed_files.extend(file.clone());
                summary.failed.push(FailedFile { file, name, error: error_name(&e).to_string(), cause: e.to_string() });
            }
        }
    }
    // A run's files that no ingest answered, or that failed: a second pass, or, after it, failures (once
    // everything staged is loaded).
    if let (Some(run), false) = (&request.run, summary.more) {
        let (outcomes, unfinished) = store::run_outcomes(&*db, run).await?;
        let count = |status| outcomes.iter().find(|(s, _)| *s == status).map_or(0, |(_, n)| *n as usize);
        summary.files = outcomes.iter().map(|(_, n)| *n as usize).sum();
        summary.duplicates += count(RemoteFileStatus::Duplicate);
        for (path, reason) in store::run_rejections(&*db, run, FILES_KEPT as i64).await? {
            summary.rejected.push(FailedFile {
                file: None,
                name: path,
                error: errors::STATEMENT_REJECTED.to_string(),
                cause: reason,
            });
        }
        run_rejected = count(RemoteFileStatus::Rejected);
        summary.run_outcomes = outcomes;
        let refs: Vec<FileRef> = unfinished.iter().filter_map(|u| unfinished_ref(sources, u)).collect();
        if request.final_pass {
            for u in &unfinished {
                summary.failed.push(FailedFile {
                    file: unfinished_ref(sources, u),
                    name: u.path.clone(),
                    error: errors::NO_OUTCOME.to_string(),
                    cause: u.error.clone().unwrap_or_else(|| {
                        "no outcome after the second pass: see the ingest's logs; the next run tries again".into()
                    }),
                });
            }
        } else if !refs.is_empty() {
            let store =
                sources.s3.as_ref().ok_or_else(|| Error::NotConfigured("S3_BUCKET for the retry manifest".into()))?;
            summary.retry = Some(write_manifest(store, run, "retry", &refs).await?);
        }
    }
    summary.failed_count = summary.failed.len();
    // Then reconcile what is pending: what these loads queued, and what any earlier load queued and did not
    // see reconciled (its Lambda timed out, the execution was retried or redriven and its files now come back
    // as duplicates). Idempotent: a run over the same scope replaces the previous one.
    let today = chrono::Utc::now().date_naive();
    for r in crate::db::recon::reconcile_pending(db, today).await? {
        summary.reconciliation.push(ReconciliationHeadline {
            run_id: r.run_id,
            merchant: r.scope.merchant,
            from: r.scope.from,
            to: r.scope.to,
            as_of: r.settings.as_of,
            items: r.totals.items,
            open: r.totals.open,
            open_at_stake: r.totals.open_at_stake,
            left_aside: r.totals.not_reconciled.iter().map(|p| p.lines).sum(),
        });
    }
    // The run is over after this load — its lease goes back — unless a second pass follows: a run's first load
    // that wrote a retry manifest, or (items) a first load that sweeps and left failures.
    if let Some(lease) = &request.lease {
        let second_pass_follows = summary.more
            || match &request.run {
                Some(_) => summary.retry.is_some(),
                None => request.sweep && summary.failed_count > 0,
            };
        if !second_pass_follows {
            store::release_run_lease(&*db, lease).await?;
        }
    }
    // Bounded: whole counts, and the first entries of each list.
    summary.loaded_count = summary.loaded.len();
    summary.rejected_count = summary.rejected.len().max(run_rejected);
    summary.reconciliation_count = summary.reconciliation.len();
    summary.loaded.truncate(FILES_KEPT);
    summary.rejected.truncate(FILES_KEPT);
    summary.failed.truncate(FILES_KEPT);
    summary.failed_files.truncate(FILES_KEPT);
    summary.reconciliation.truncate(FILES_KEPT);
    tracing::info!(
        loaded = summary.loaded.len(),
        duplicates = summary.duplicates,
        rejected = summary.rejected.len(),
        failed = summary.failed_count,
        facts = summary.facts.total(),
        reconciliations = summary.reconciliation.len(),
        "load finished"
    );
    Ok(summary)
}

/// The reference to ingest a run's unfinished file again, from where it was listed.
fn unfinished_ref(sources: &Sources, u: &store::Unfinished) -> Option<FileRef> {
    let file = ListedFile { name: u.path.clone(), size: u.size, modified: u.modified, copy: u.raw_key.clone() };
    sources.reference_to(&u.source, file)
}

/// Stage a file again from its copy (see [`remote::restage`]): whether it is staged now. A copy that cannot
/// be read for good is logged and left to the file's next delivery; a transient error stops the load.
async fn restage(db: &mut Client, sources: &Sources, file_id: i64) -> Result<bool> {
    match remote::restage(db, sources, file_id).await {
        Ok(Some(report)) => Ok(report.outcome == Outcome::Staged),
        Ok(None) => Ok(false),
        Err(e) if e.is_transient() => Err(e),
        Err(e) => {
            tracing::warn!(file_id, error = %e, "could not stage the file again from its copy");
            Ok(false)
        }
    }
}

/// The load's custom metrics, as CloudWatch Embedded Metric Format: one JSON log line per load that
/// CloudWatch turns into metrics (no API call, nothing to fail). Watched by the template's alarms and dashboard.
pub mod metrics {
    use super::LoadSummary;
    use serde_json::{json, Value};

    /// The metrics' namespace (`METRICS_NAMESPACE` in the template); the dimension is the stack's name.
    pub const NAMESPACE: &str = "syncrocardpay";
    pub const FILES_LOADED: &str = "FilesLoaded";
    pub const FILES_DUPLICATE: &str = "FilesDuplicate";
    pub const FILES_REJECTED: &str = "FilesRejected";
    pub const FILES_FAILED: &str = "FilesFailed";
    pub const FACTS_ADDED: &str = "FactsAdded";
    /// Money in the open reconciliation items of the scopes this load reconciled (R$).
    pub const OPEN_AT_STAKE: &str = "OpenAtStake";
    /// 1 for every run's load (the nightly or a manual run, which sweeps); the "no nightly run" alarm
    /// watches it.
    pub const NIGHTLY_LOADS: &str = "NightlyLoadsCompleted";
    pub const ALL: &[&str] =
        &[FILES_LOADED, FILES_DUPLICATE, FILES_REJECTED, FILES_FAILED, FACTS_ADDED, OPEN_AT_STAKE, NIGHTLY_LOADS];

    /// The EMF line of a load: `run` when it was a run's load (it swept), `timestamp_ms` when it ended.
    pub fn emf(summary: &LoadSummary, namespace: &str, stack: &str, run: bool, timestamp_ms: i64) -> Value {
        let at_stake: rust_decimal::Decimal = summary.reconciliation.iter().map(|r| r.open_at_stake).sum();
        // A metric value is a double in CloudWatch; the decimal is written as the number it is.
        let at_stake: Value = serde_json::from_str(&at_stake.to_string()).unwrap_or(json!(0));
        let count = |name: &str| json!({"Name": name, "Unit": "Count"});
        let mut metrics = vec![
            count(FILES_LOADED),
            count(FILES_DUPLICATE),
            count(FILES_REJECTED),
            count(FILES_FAILED),
            count(FACTS_ADDED),
            json!({"Name": OPEN_AT_STAKE, "Unit": "None"}),
        ];
        let mut line = json!({
            "StackName": stack,
            // Whole counts (the lists keep their first entries only).
            FILES_LOADED: summary.loaded_count.max(summary.loaded.len()),
            FILES_DUPLICATE: summary.duplicates,
            FILES_REJECTED: summary.rejected_count.max(summary.rejected.len()),
            FILES_FAILED: summary.failed_count,
            FACTS_ADDED: summary.facts.total(),
            OPEN_AT_STAKE: at_stake,
        });
        if run {
            metrics.push(count(NIGHTLY_LOADS));
            line[NIGHTLY_LOADS] = json!(1);
        }
        line["_aws"] = json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{"Namespace": namespace, "Dimensions": [["StackName"]], "Metrics": metrics}]
        });
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn uploads_in_one_window_share_one_execution_and_its_load_waits_for_the_window_to_close() {
        let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc);
        let a = UploadWindow::at(t("2026-12-02T03:05:00Z"), 60);
        let b = UploadWindow::at(t("2026-12-02T03:05:59.999Z"), 60);
        assert_eq!(a, b);
        assert_eq!(a.window, "2026-12-02T03:05:00Z");
        assert_eq!(a.load_after, "2026-12-02T03:06:05Z", "the window's end and the grace");
        let (name, input) = a.execution();
        assert_eq!(name, "uploads-20261202T030500Z");
        assert_eq!(input, json!({"uploads": {"window": "2026-12-02T03:05:00Z", "load_after": "2026-12-02T03:06:05Z"}}));
        assert_eq!(
            b.execution(),
            (name, input),
            "the very same start call: Step Functions answers it with the running one"
        );
        let next = UploadWindow::at(t("2026-12-02T03:06:00Z"), 60);
        assert_eq!(next.window, "2026-12-02T03:06:00Z");
        assert!(next.window < a.load_after, "the next window opens before this one loads: nothing falls between");
        assert_eq!(UploadWindow::at(t("2026-12-02T03:05:07Z"), 5).window, "2026-12-02T03:05:05Z");
        assert_eq!(UploadWindow::at(t("2026-12-02T03:05:07Z"), 0).window, "2026-12-02T03:05:07Z", "at least 1 s");
    }

    #[test]
    fn a_load_becomes_one_embedded_metric_format_line() {
        let summary = LoadSummary {
            // 120 files loaded, the first kept in the list.
            loaded_count: 120,
            loaded: vec![LoadedFile {
                file_id: 1,
                name: "A".into(),
                outcome: Outcome::Loaded,
                rows: LoadCounts::default(),
            }],
            duplicates: 2,
            failed_count: 1,
            facts: LoadCounts { transactions: 40, receivable_units: 2, ..Default::default() },
            reconciliation: vec![ReconciliationHeadline {
                run_id: 1,
                merchant: Some("1".into()),
                from: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
                to: chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
                as_of: chrono::NaiveDate::from_ymd_opt(2026, 11, 3).unwrap(),
                items: 5,
                open: 2,
                open_at_stake: rust_decimal::Decimal::new(12345, 2),
                left_aside: 0,
            }],
            ..Default::default()
        };
        let line = metrics::emf(&summary, "syncrocardpay", "prod", true, 1_764_000_000_000);
        let declared: Vec<&str> = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        assert_eq!(declared, metrics::ALL);
        for name in metrics::ALL {
            assert!(line.get(name).is_some(), "{name} has a value");
        }
        assert_eq!(
            (line["FilesLoaded"].clone(), line["FilesDuplicate"].clone(), line["FilesFailed"].clone()),
            (json!(120), json!(2), json!(1))
        );
        assert_eq!((line["FactsAdded"].clone(), line["OpenAtStake"].clone()), (json!(42), json!(123.45)));
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["StackName"]]));
        assert_eq!(line["StackName"], "prod");
        // A single-file load is not a run: the "no nightly run" metric is absent, never 0.
        let single = metrics::emf(&summary, "syncrocardpay", "prod", false, 0);
        assert!(single.get(metrics::NIGHTLY_LOADS).is_none());
    }

    #[test]
    fn discovery_requests() {
        let scheduled = json!({"version": "0", "id": "e", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-11-25T12:00:00Z", "region": "sa-east-1",
            "resources": ["arn:aws:events:sa-east-1:123456789012:rule/nightly"], "detail": {}});
        assert_eq!(
            DiscoverRequest::from_event(&scheduled).unwrap(),
            DiscoverRequest { trigger: Trigger::Schedule, force: false }
        );
        assert_eq!(
            DiscoverRequest::from_event(&json!({"trigger": "manual", "force": true})).unwrap(),
            DiscoverRequest { trigger: Trigger::Manual, force: true }
        );
        assert_eq!(DiscoverRequest::from_event(&json!({})).unwrap().trigger, Trigger::Manual);
        let err = DiscoverRequest::from_event(&json!({"trigger": "hourly"})).unwrap_err();
        assert!(err.contains("not a discovery request"), "{err}");
        assert!(DiscoverRequest::from_event(&json!({"forse": true})).is_err());
    }

    #[test]
    fn items_round_trip_in_the_state_machine_shapes() {
        let ok: Item = serde_json::from_value(json!({
            "file": {"source": "s3", "name": "A.TXT", "size": 3},
            "ack": {"status": "staged", "file_id": 7, "sha256": "ab", "name": "A.TXT"}
        }))
        .unwrap();
        assert_eq!(ok.ack.as_ref().and_then(Ack::file_id), Some(7));
        let caught: Item = serde_json::from_value(json!({
            "file": {"source": "ftps", "name": "B.TXT", "size": 3},
            "error": {"Error": "StatementRejected", "Cause": "B.TXT line 2, column 9, field amount: not a number"}
        }))
        .unwrap();
        assert_eq!(caught.error.unwrap().error, errors::STATEMENT_REJECTED);
        assert_eq!(execution_name(&"f".repeat(64)).len(), 69);
    }
}
