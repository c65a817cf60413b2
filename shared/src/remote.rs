//! The remote sources a deployment reads (the S3 inbox, an acquirer's FTPS server, the acquirers' APIs) as
//! configured for the Lambdas and the CLI, and what needs them together: a [`FileRef`] resolved to its
//! source and ingested ([`ingest`]), a lost staging restored from the copy the bucket keeps ([`restage`]).
//! Discovering and ingesting themselves are [`crate::intake`]'s, over any source.

use crate::config::Config;
use crate::db::store::RemoteIdentity;
use crate::error::{Error, Result};
use crate::intake::record_outcome;
use crate::pipeline::{ingest_named, IngestMode, IngestReport};
use crate::source::ftps::{FtpsSettings, FtpsSource};
use crate::source::s3::{self, S3Store};
use crate::source::{FileRef, SourceKind, StatementSource};
use std::sync::Arc;
use tokio_postgres::Client;

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
                Some(Arc::new(FtpsSource::new(settings)?.with_copies(s3.clone())))
            }
            None => None,
        };
        Ok(Sources { s3, ftps, apis: apis_from_env(config)? })
    }

    /// The configured source of a kind.
    pub fn source(&self, kind: SourceKind) -> Result<&dyn StatementSource> {
        match kind {
            SourceKind::S3 => match &self.s3 {
                Some(s) => Ok(&**s),
                None => Err(Error::NotConfigured("no S3 bucket (S3_BUCKET)".into())),
            },
            SourceKind::Ftps => match &self.ftps {
                Some(s) => Ok(&**s),
                None => Err(Error::NotConfigured("no FTPS server (the …/ftps/ parameters)".into())),
            },
            SourceKind::Folder => Err(Error::NotConfigured("a deployment reads no local folder".into())),
        }
    }

    /// The sources discovery lists, in order: the FTPS server first, then the S3 inbox.
    pub fn listed(&self) -> Vec<&dyn StatementSource> {
        let mut all: Vec<&dyn StatementSource> = Vec::new();
        if let Some(f) = &self.ftps {
            all.push(&**f);
        }
        if let Some(s) = &self.s3 {
            all.push(&**s);
        }
        all
    }

    /// A reference to `file` in the listed source whose label is `label` (a file recorded in `remote_file`).
    pub fn reference_to(&self, label: &str, file: crate::source::ListedFile) -> Option<FileRef> {
        self.listed().into_iter().find(|s| s.label() == label).map(|s| FileRef { source: s.kind(), file })
    }
}

/// Ingest one referenced file from its source ([`crate::intake::ingest`]).
pub async fn ingest(db: &mut Client, sources: &Sources, file: &FileRef, mode: IngestMode) -> Result<IngestReport> {
    crate::intake::ingest(db, sources.source(file.source)?, &file.file, mode).await
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
