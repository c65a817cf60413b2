//! Statement files on remote sources (the S3 inbox, an acquirer's FTPS server) as small serialisable
//! references — what discovery returns and the state machine's Map hands to the ingest queue — and the one
//! way to ingest such a file: fetch it (a raw copy in S3 first, else the server), ingest it, and record the
//! outcome at its source (the S3 archive, the `remote_file` control table). The CLI's runs and the Lambdas
//! both go through here.

use crate::config::Config;
use crate::db::store::{self, RemoteIdentity};
use crate::error::{Error, Result};
use crate::pipeline::{ingest_named, IngestMode, IngestReport, Outcome};
use crate::source::ftps::{FtpsSettings, FtpsSource, RemoteFile};
use crate::source::s3::{self, RemoteObject, S3Store};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use tokio_postgres::Client;

/// A statement file where it waits, small enough to travel in a state machine's state or an SQS message
/// (never the content).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "lowercase")]
pub enum FileRef {
    /// An object in the S3 inbox, by its full key.
    S3 { key: String, size: u64 },
    /// A file on the acquirer's FTPS server as its listing gave it; `raw_key` names a copy of it already
    /// kept in S3 (same name and size), which is fetched instead of the server.
    Ftps {
        path: String,
        size: u64,
        #[serde(default)]
        modified: Option<DateTime<Utc>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        raw_key: Option<String>,
    },
}

impl FileRef {
    /// The file's name for messages: the key or path.
    pub fn name(&self) -> &str {
        match self {
            FileRef::S3 { key, .. } => key,
            FileRef::Ftps { path, .. } => path,
        }
    }
}

/// The remote sources a deployment reads; any may be absent.
#[derive(Default, Clone)]
pub struct Sources {
    pub s3: Option<Arc<S3Store>>,
    pub ftps: Option<Arc<FtpsSource>>,
    /// The APIs whose days discovery fetches into the S3 inbox first (Stone, PagBank: those configured).
    pub apis: Vec<Arc<crate::source::api::Api>>,
}

impl Sources {
    /// The sources of a deployed function: the bucket from `S3_BUCKET` / `S3_PREFIX`, the FTPS server from the
    /// loaded configuration (if it has one) with `SYNCROCARDPAY_FTPS_DIR`, `SYNCROCARDPAY_FTPS_NAME_PREFIX` and
    /// `SYNCROCARDPAY_FTPS_CA_FILE` from the environment.
    pub fn from_env(sdk: &aws_config::SdkConfig, config: &Config) -> Result<Sources> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let s3 = var("S3_BUCKET")
            .map(|bucket| Arc::new(S3Store::from_sdk(sdk, &bucket, &var("S3_PREFIX").unwrap_or_default())));
        let ftps = match &config.ftps {
            Some(f) => {
                let mut settings = FtpsSettings::from_config(f.clone());
                settings.dir = var("SYNCROCARDPAY_FTPS_DIR");
                settings.name_prefix = var("SYNCROCARDPAY_FTPS_NAME_PREFIX");
                settings.ca_file = var("SYNCROCARDPAY_FTPS_CA_FILE").map(Into::into);
                Some(Arc::new(FtpsSource::new(settings)?))
            }
            None => None,
        };
        Ok(Sources { s3, ftps, apis: apis_from_env(config)? })
    }

    fn s3(&self) -> Result<&Arc<S3Store>> {
        self.s3.as_ref().ok_or_else(|| Error::NotConfigured("no S3 bucket (S3_BUCKET)".into()))
    }

    fn ftps(&self) -> Result<&Arc<FtpsSource>> {
        self.ftps.as_ref().ok_or_else(|| Error::NotConfigured("no FTPS server (the …/ftps/ parameters)".into()))
    }
}

/// The APIs the configuration has credentials for, at their official addresses or those of
/// `SYNCROCARDPAY_STONE_URL` / `SYNCROCARDPAY_PAGBANK_URL`, TLS verified against the system's CAs or
/// `SYNCROCARDPAY_API_CA_FILE`.
fn apis_from_env(config: &Config) -> Result<Vec<Arc<crate::source::api::Api>>> {
    use crate::source::api::{self, Api, ApiClient, PagbankApi, StoneApi};
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let ca = var("SYNCROCARDPAY_API_CA_FILE").map(std::path::PathBuf::from);
    let client =
        |url_var: &str, official: &str| ApiClient::new(&var(url_var).unwrap_or(official.into()), ca.as_deref());
    let mut apis = Vec::new();
    if let Some(c) = &config.stone {
        let client = client("SYNCROCARDPAY_STONE_URL", api::STONE_URL)?;
        apis.push(Arc::new(Api::Stone(StoneApi::new(client, &c.stone_code, c.secret_key.clone())?)));
    }
    if let Some(c) = &config.pagbank {
        let client = client("SYNCROCARDPAY_PAGBANK_URL", api::PAGBANK_URL)?;
        apis.push(Arc::new(Api::Pagbank(PagbankApi::new(client, &c.user, c.token.clone())?)));
    }
    Ok(apis)
}

/// A listed name discovery refused to use, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refused {
    pub name: String,
    pub reason: String,
}

/// What discovery found on the remote sources.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DiscoveredFiles {
    /// Files to ingest, FTPS first, each once (at most the run's cap).
    pub files: Vec<FileRef>,
    /// FTPS files skipped because this exact listing (path, size, time) was already dealt with.
    pub already_seen: usize,
    /// Names that are never fetched (unsafe S3 keys).
    pub refused: Vec<Refused>,
    /// Files left for the next run: beyond the run's cap (they stay listed where they are).
    #[serde(default)]
    pub deferred: usize,
}

/// List every configured source and register what is new in the control table (`remote_file`, status
/// `discovered`). An FTPS file already staged, loaded, duplicate or rejected under the same path, size and
/// time is skipped unless `force`; its raw copy in S3, if one is kept, is named in the reference. Every inbox
/// object is new (processed ones are moved out of the inbox).
///
/// At most `cap` files are taken (a night's backlog is drained over several runs, never wedged by its size);
/// each is tagged with `run`, whose load reads how they came out.
pub async fn discover(
    db: &Client,
    sources: &Sources,
    force: bool,
    run: Option<&str>,
    cap: usize,
) -> Result<DiscoveredFiles> {
    let mut found = DiscoveredFiles::default();
    if let Some(ftps) = &sources.ftps {
        let label = ftps.label();
        let copies = match &sources.s3 {
            Some(store) => raw_copies(store).await?,
            None => HashMap::new(),
        };
        for f in ftps.list().await? {
            let modified: Option<DateTime<Utc>> = f.modified.map(Into::into);
            let id = RemoteIdentity { source: &label, path: &f.name, size: f.size, modified };
            if !force && store::remote_done(db, &id).await? {
                found.already_seen += 1;
                continue;
            }
            if found.files.len() >= cap {
                found.deferred += 1;
                continue;
            }
            store::remote_discovered(db, &id, run).await?;
            let raw_key = copies.get(&(f.name.clone(), f.size)).cloned();
            found.files.push(FileRef::Ftps { path: f.name, size: f.size, modified, raw_key });
        }
    }
    if let Some(store) = &sources.s3 {
        let label = store.label();
        let (objects, refused) = store.list_inbox().await?;
        for o in objects {
            if found.files.len() >= cap {
                found.deferred += 1;
                continue;
            }
            // An inbox object is identified by its key and size (it leaves the inbox once processed).
            store::remote_discovered(
                db,
                &RemoteIdentity { source: &label, path: &o.relative, size: o.size, modified: None },
                run,
            )
            .await?;
            found.files.push(FileRef::S3 { key: o.key, size: o.size });
        }
        found.refused.extend(refused.into_iter().map(|(name, reason)| Refused { name, reason }));
    }
    Ok(found)
}

/// The raw copies kept in S3, by (file name, size).
pub async fn raw_copies(store: &S3Store) -> Result<HashMap<(String, u64), String>> {
    let mut copies = HashMap::new();
    for o in store.list_area(s3::RAW).await?.0 {
        let name = o.relative.rsplit('/').next().unwrap_or_default().to_string();
        copies.insert((name, o.size), o.key);
    }
    Ok(copies)
}

/// Ingest one referenced file (see [`ingest_s3_object`] and [`ingest_ftps_file`]).
pub async fn ingest(db: &mut Client, sources: &Sources, file: &FileRef, mode: IngestMode) -> Result<IngestReport> {
    match file {
        FileRef::S3 { key, size } => {
            let store = sources.s3()?;
            let obj = store.inbox_object(key, *size)?;
            ingest_s3_object(db, store, &obj, mode).await
        }
        FileRef::Ftps { path, size, modified, raw_key } => {
            let f = RemoteFile { name: path.clone(), size: *size, modified: modified.map(Into::into) };
            ingest_ftps_file(db, sources, &f, raw_key.as_deref(), mode).await
        }
    }
}

/// The first reason a rejected file gives, for archives and task failures.
pub fn rejection_reason(report: &IngestReport) -> String {
    // An archive: the first rejected member, by its name.
    if let Some(m) = report.members.iter().find(|m| m.outcome == Outcome::Rejected) {
        return format!("{}: {}", m.file, rejection_reason(m));
    }
    report.summary.as_ref().and_then(|s| s.errors.first()).map(|i| i.to_string()).unwrap_or_else(|| "rejected".into())
}

/// Record in `remote_file` what came of a remote file: the ingest's outcome, its content and file, the raw
/// copy kept, and the first reason of a rejection.
async fn record_outcome(
    db: &Client,
    id: &RemoteIdentity<'_>,
    report: &IngestReport,
    raw_key: Option<&str>,
) -> Result<()> {
    let error = (report.outcome == Outcome::Rejected).then(|| rejection_reason(report));
    store::remote_record(
        db,
        id,
        report.outcome.into(),
        Some(&report.sha256),
        // An archive has no statement file of its own (its members have).
        (report.file_id != 0).then_some(report.file_id),
        raw_key,
        error.as_deref(),
    )
    .await
}

/// Download an inbox object, ingest it, and archive it: to `processed/` when staged, loaded or already loaded,
/// to `rejected/` with the reason when invalid. An object no longer in the inbox is
/// [`Error::AlreadyArchived`] when another delivery archived it, [`Error::SourceMissing`] otherwise.
pub async fn ingest_s3_object(
    db: &mut Client,
    store: &S3Store,
    obj: &RemoteObject,
    mode: IngestMode,
) -> Result<IngestReport> {
    let dir = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let path = match store.download(obj, dir.path()).await {
        Ok(path) => path,
        Err(Error::SourceMissing(what)) => {
            for area in [s3::PROCESSED, s3::REJECTED] {
                let archived = store.key(area, &obj.relative);
                if store.exists(&archived).await? {
                    return Err(Error::AlreadyArchived(format!(
                        "s3://{}/{}: already archived as {archived} by another delivery",
                        store.bucket(),
                        obj.key
                    )));
                }
            }
            // Gone and processed by no one: said where the run reads its files' outcomes.
            let label = store.label();
            let id = RemoteIdentity { source: &label, path: &obj.relative, size: obj.size, modified: None };
            let _ =
                store::remote_record(&*db, &id, store::RemoteFileStatus::Failed, None, None, None, Some(&what)).await;
            return Err(Error::SourceMissing(what));
        }
        Err(e) => return Err(e),
    };
    let name = obj.relative.rsplit('/').next().unwrap_or(&obj.relative);
    let report = ingest_named(db, &path, name, &store.label(), mode).await?;
    let disposition = match report.outcome {
        Outcome::Rejected => s3::Disposition::Rejected { reason: rejection_reason(&report) },
        _ => s3::Disposition::Processed,
    };
    store.archive(obj, &disposition).await?;
    let label = store.label();
    let id = RemoteIdentity { source: &label, path: &obj.relative, size: obj.size, modified: None };
    record_outcome(db, &id, &report, None).await?;
    Ok(report)
}

/// Fetch one FTPS file (from its raw copy in S3 when `raw_key` names one, else from the server), ingest it,
/// keep a raw copy in S3 when a bucket is configured (`raw/<acquirer>/<merchant>/<date>/<name>`), and record
/// the outcome in `remote_file` — `failed`, with the error, when something went wrong before an outcome.
pub async fn ingest_ftps_file(
    db: &mut Client,
    sources: &Sources,
    f: &RemoteFile,
    raw_key: Option<&str>,
    mode: IngestMode,
) -> Result<IngestReport> {
    let ftps = sources.ftps()?;
    let label = ftps.label();
    let id = RemoteIdentity { source: &label, path: &f.name, size: f.size, modified: f.modified.map(Into::into) };
    let one = async {
        let dir = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
        let copy = match (raw_key, &sources.s3) {
            (Some(key), Some(store)) => Some((store, store.raw_object(key, f.size)?)),
            _ => None,
        };
        let path = match &copy {
            Some((store, obj)) => store.download(obj, dir.path()).await?,
            None => ftps.download(f, dir.path()).await?,
        };
        let name = f.name.rsplit('/').next().unwrap_or(&f.name);
        let report = ingest_named(db, &path, name, &label, mode).await?;
        let mut kept = copy.map(|(_, obj)| obj.key);
        // An archive's raw copy is filed under its first member's merchant and date.
        let described = report.summary.as_ref().or_else(|| report.members.iter().find_map(|m| m.summary.as_ref()));
        if let (Some(store), Some(s), None) = (&sources.s3, described, &kept) {
            let acquirer = s.acquirer.map_or("unknown", |a| a.code());
            let merchant = s.merchant_code.clone().filter(|m| !m.is_empty()).unwrap_or_else(|| "unknown".into());
            let date = s.processing_date.map_or_else(|| "unknown".to_string(), |d| d.to_string());
            kept = Some(store.put_raw(&path, acquirer, &merchant, &date, &f.name).await?);
        }
        Ok::<_, Error>((report, kept))
    };
    match one.await {
        Ok((report, kept)) => {
            record_outcome(db, &id, &report, kept.as_deref()).await?;
            Ok(report)
        }
        Err(e) => {
            let _ = store::remote_record(
                &*db,
                &id,
                store::RemoteFileStatus::Failed,
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

/// Stage again a file whose staged rows were lost (a database crash empties the UNLOGGED staging table), from
/// the copy the bucket keeps of it: `processed/` for an object of the S3 inbox, the `raw/` copy of an FTPS
/// download. The remote file's record follows (`staged` again). `Ok(None)` when no copy is known (a member of
/// an archive, a file fetched without a bucket): it must then be fetched again from its source.
pub async fn restage(db: &mut Client, sources: &Sources, file_id: i64) -> Result<Option<IngestReport>> {
    let Some(store) = &sources.s3 else { return Ok(None) };
    let rows = db
        .query(
            "SELECT source, path, size_bytes, modified_at, raw_key FROM remote_file
              WHERE file_id = $1 ORDER BY updated_at DESC",
            &[&file_id],
        )
        .await?;
    let label = store.label();
    for r in rows {
        let (source, path, size): (String, String, i64) = (r.get(0), r.get(1), r.get(2));
        let raw_key: Option<String> = r.get(4);
        let copy = if source == label {
            store.area_object(s3::PROCESSED, &path, size as u64)?
        } else if let Some(key) = &raw_key {
            store.raw_object(key, size as u64)?
        } else {
            continue;
        };
        let dir = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
        let local = match store.download(&copy, dir.path()).await {
            Ok(local) => local,
            Err(Error::SourceMissing(_)) => continue,
            Err(e) => return Err(e),
        };
        let name = path.rsplit('/').next().unwrap_or(&path);
        let report = ingest_named(db, &local, name, &source, IngestMode::StageOnly).await?;
        let modified: Option<chrono::DateTime<chrono::Utc>> = r.get(3);
        let id = RemoteIdentity { source: &source, path: &path, size: size as u64, modified };
        record_outcome(db, &id, &report, raw_key.as_deref()).await?;
        tracing::info!(file_id, copy = %copy.key, outcome = report.outcome.as_str(), "staged again from its copy");
        return Ok(Some(report));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_small_tagged_json() {
        let s3 = FileRef::S3 { key: "inbox/CIELO03.TXT".into(), size: 10 };
        assert_eq!(serde_json::to_string(&s3).unwrap(), r#"{"source":"s3","key":"inbox/CIELO03.TXT","size":10}"#);
        let ftps: FileRef = serde_json::from_str(
            r#"{"source":"ftps","path":"CIELO04.TXT","size":7,"modified":"2026-11-24T03:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(ftps.name(), "CIELO04.TXT");
        assert!(matches!(ftps, FileRef::Ftps { raw_key: None, modified: Some(_), .. }));
        assert!(serde_json::from_str::<FileRef>(r#"{"source":"nfs","path":"x","size":1}"#).is_err());
    }
}
