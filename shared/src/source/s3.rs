//! The S3 side of the pipeline: an inbox prefix operators drop statements into, a `raw/` copy of every FTPS
//! download, and the archive (`processed/`, `rejected/` with the reason as object metadata). Keys under one
//! configurable prefix: `{prefix}inbox/…`, `{prefix}raw/<acquirer>/<merchant>/<date>/<name>`,
//! `{prefix}processed/…`, `{prefix}rejected/…`. Endpoint, region and credentials come from the standard AWS
//! environment, so the same code talks to AWS or to an emulator.

use crate::error::{Error, Result};
use crate::source::{
    download_dir, FetchedFile, ListedFile, Listing, Refused, Settlement, SourceFuture, SourceKind, StatementSource,
};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::MetadataDirective;
use aws_sdk_s3::Client;
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use tokio::io::AsyncWriteExt;

/// The areas of the bucket.
pub const INBOX: &str = "inbox";
pub const RAW: &str = "raw";
pub const PROCESSED: &str = "processed";
pub const REJECTED: &str = "rejected";

/// An object of the bucket, in one of its areas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Object {
    pub(crate) key: String,
    /// The key below its area (`{prefix}inbox/`…), checked safe (no `..`, no control characters).
    pub relative: String,
    pub size: u64,
    pub modified: Option<SystemTime>,
    pub etag: Option<String>,
}

/// Where a processed object goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    Processed,
    /// Rejected, with the reason kept as object metadata (`x-amz-meta-reason`).
    Rejected {
        reason: String,
    },
}

/// A bucket and the prefix syncrocardpay owns in it.
pub struct S3Store {
    client: Client,
    bucket: String,
    prefix: String,
}

fn s3_err(what: &str, e: impl std::error::Error) -> Error {
    Error::Other(format!("{what}: {}", aws_sdk_s3::error::DisplayErrorContext(e)))
}

/// Whether a path below a prefix is safe to use as a local file name and inside another key: no empty, `.` or
/// `..` segment, no control characters, no backslash.
pub fn safe_relative(rel: &str) -> std::result::Result<(), String> {
    if rel.is_empty() {
        return Err("empty name".into());
    }
    if rel.chars().any(|c| c.is_control() || c == '\\') {
        return Err(format!("{rel:?} contains control characters or a backslash"));
    }
    if rel.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        return Err(format!("{rel:?} has an empty, \".\" or \"..\" path segment"));
    }
    Ok(())
}

/// Object metadata must be ASCII: keep printable ASCII, percent-encode the rest (UTF-8), at most 1 KiB.
fn metadata_value(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if (c.is_ascii_graphic() || c == ' ') && c != '%' {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        if out.len() >= 1024 {
            break;
        }
    }
    out
}

impl S3Store {
    /// `prefix` may be empty; otherwise it is used with a trailing `/`.
    pub fn new(client: Client, bucket: impl Into<String>, prefix: &str) -> Self {
        let p = prefix.trim_matches('/');
        S3Store { client, bucket: bucket.into(), prefix: if p.is_empty() { String::new() } else { format!("{p}/") } }
    }

    /// A client from the standard AWS environment (path-style addressing, which S3 and emulators accept).
    pub async fn from_env(bucket: &str, prefix: &str) -> Self {
        let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        S3Store::from_sdk(&shared, bucket, prefix)
    }

    /// A client from an SDK configuration already loaded (path-style addressing).
    pub fn from_sdk(sdk: &aws_config::SdkConfig, bucket: &str, prefix: &str) -> Self {
        let conf = aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).build();
        S3Store::new(Client::from_conf(conf), bucket, prefix)
    }

    /// Parse `s3://bucket/prefix`.
    pub fn parse_url(url: &str) -> Result<(String, String)> {
        let rest =
            url.strip_prefix("s3://").ok_or_else(|| Error::Other(format!("{url:?}: expected s3://BUCKET/PREFIX")))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(Error::Other(format!("{url:?}: no bucket")));
        }
        Ok((bucket.to_string(), prefix.to_string()))
    }

    pub fn label(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The key of `rel` in an area.
    pub fn key(&self, area: &str, rel: &str) -> String {
        format!("{}{area}/{rel}", self.prefix)
    }

    /// Every object in the inbox (all pages), sorted by key. Objects whose names are unsafe are returned as
    /// errors in the second list, never used.
    pub(crate) async fn list_inbox(&self) -> Result<(Vec<Object>, Vec<(String, String)>)> {
        self.list_area(INBOX).await
    }

    /// Every object of an area (`inbox`, `raw`…), all pages, sorted by key; unsafe names apart.
    pub(crate) async fn list_area(&self, area: &str) -> Result<(Vec<Object>, Vec<(String, String)>)> {
        let inbox = self.key(area, "");
        let mut pages = self.client.list_objects_v2().bucket(&self.bucket).prefix(&inbox).into_paginator().send();
        let (mut ok, mut bad) = (Vec::new(), Vec::new());
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| s3_err(&format!("listing {}", self.label()), e))?;
            for o in page.contents() {
                let Some(key) = o.key() else { continue };
                let relative = key[inbox.len()..].to_string();
                if relative.ends_with('/') {
                    continue; // a "folder" marker
                }
                match safe_relative(&relative) {
                    Ok(()) => ok.push(Object {
                        key: key.to_string(),
                        relative,
                        size: o.size().unwrap_or(0).max(0) as u64,
                        modified: o.last_modified().and_then(|t| SystemTime::try_from(*t).ok()),
                        etag: o.e_tag().map(str::to_string),
                    }),
                    Err(reason) => bad.push((key.to_string(), reason)),
                }
            }
        }
        ok.sort_by(|a, b| a.key.cmp(&b.key));
        Ok((ok, bad))
    }

    /// Download an object into `dir`, streaming to `<name>.part` and renaming when complete and of the listed
    /// size: a partial download is never left under the final name.
    pub(crate) async fn download(&self, obj: &Object, dir: &Path) -> Result<PathBuf> {
        safe_relative(&obj.relative).map_err(Error::Other)?;
        // Named by a hash of the key: a key may be longer than any file name (the key stays the name).
        let local = super::local_name("s3", &obj.key);
        let dest = dir.join(&local);
        let part = dir.join(format!("{local}.part"));
        let resp = self.client.get_object().bucket(&self.bucket).key(&obj.key).send().await.map_err(|e| {
            let what = format!("downloading s3://{}/{}", self.bucket, obj.key);
            if e.as_service_error().is_some_and(|se| se.is_no_such_key()) {
                Error::SourceMissing(format!("{what}: no such object"))
            } else {
                s3_err(&what, e)
            }
        })?;
        let mut body = resp.body;
        let mut file = tokio::fs::File::create(&part).await.map_err(|e| Error::io(&part, e))?;
        let mut written = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| s3_err(&format!("reading s3://{}/{}", self.bucket, obj.key), e))?;
            written += chunk.len() as u64;
            file.write_all(&chunk).await.map_err(|e| Error::io(&part, e))?;
        }
        file.flush().await.map_err(|e| Error::io(&part, e))?;
        file.sync_all().await.map_err(|e| Error::io(&part, e))?;
        drop(file);
        if written != obj.size {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(Error::Other(format!(
                "s3://{}/{}: downloaded {written} bytes, the listing said {}; discarded",
                self.bucket, obj.key, obj.size
            )));
        }
        tokio::fs::rename(&part, &dest).await.map_err(|e| Error::io(&dest, e))?;
        Ok(dest)
    }

    /// Move an inbox object to `processed/` or `rejected/` (same relative key), the reason of a rejection as
    /// metadata. Copy first, delete after: an interruption leaves it in both places, never in neither.
    pub(crate) async fn archive(&self, obj: &Object, disposition: &Disposition) -> Result<String> {
        let (area, reason) = match disposition {
            Disposition::Processed => (PROCESSED, None),
            Disposition::Rejected { reason } => (REJECTED, Some(reason)),
        };
        let to = self.key(area, &obj.relative);
        let mut copy = self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .key(&to)
            .copy_source(format!("{}/{}", self.bucket, urlencode_key(&obj.key)))
            .metadata_directive(MetadataDirective::Replace)
            .metadata("source-key", metadata_value(&obj.key));
        if let Some(r) = reason {
            copy = copy.metadata("reason", metadata_value(r));
        }
        copy.send().await.map_err(|e| s3_err(&format!("archiving s3://{}/{} to {to}", self.bucket, obj.key), e))?;
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(&obj.key)
            .send()
            .await
            .map_err(|e| s3_err(&format!("removing s3://{}/{} from the inbox", self.bucket, obj.key), e))?;
        Ok(to)
    }

    /// The inbox name (the key below `{prefix}inbox/`) of `key`, a key from an S3 event, checked to be in the
    /// inbox and safe.
    pub fn inbox_name(&self, key: &str) -> Result<String> {
        let inbox = self.key(INBOX, "");
        let relative = key.strip_prefix(&inbox).ok_or_else(|| {
            Error::NotConfigured(format!("s3://{}/{key} is not under the inbox {inbox}", self.bucket))
        })?;
        safe_relative(relative)
            .map_err(|reason| Error::NotConfigured(format!("s3://{}/{key}: {reason}", self.bucket)))?;
        Ok(relative.to_string())
    }

    /// The object of an area (`processed/`, `rejected/`…) at a key relative to it.
    pub(crate) fn area_object(&self, area: &str, relative: &str, size: u64) -> Result<Object> {
        safe_relative(relative)
            .map_err(|reason| Error::NotConfigured(format!("s3://{}/{area}/{relative}: {reason}", self.bucket)))?;
        Ok(Object { key: self.key(area, relative), relative: relative.to_string(), size, modified: None, etag: None })
    }

    /// An object of the raw area by its key (a raw copy found by discovery).
    pub(crate) fn raw_object(&self, key: &str, size: u64) -> Result<Object> {
        let area = self.key(RAW, "");
        let relative = key
            .strip_prefix(&area)
            .ok_or_else(|| Error::NotConfigured(format!("s3://{}/{key} is not under {area}", self.bucket)))?;
        safe_relative(relative)
            .map_err(|reason| Error::NotConfigured(format!("s3://{}/{key}: {reason}", self.bucket)))?;
        Ok(Object { key: key.to_string(), relative: relative.to_string(), size, modified: None, etag: None })
    }

    /// Whether an object exists.
    pub async fn exists(&self, key: &str) -> Result<bool> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_not_found()) => Ok(false),
            Err(e) => Err(s3_err(&format!("s3://{}/{key}", self.bucket), e)),
        }
    }

    /// Keep a raw copy of a file fetched elsewhere (FTPS): `raw/<acquirer>/<merchant>/<date>/<name>`.
    pub async fn put_raw(
        &self,
        local: &Path,
        acquirer: &str,
        merchant: &str,
        date: &str,
        name: &str,
    ) -> Result<String> {
        let rel = format!("{acquirer}/{merchant}/{date}/{name}");
        safe_relative(&rel).map_err(Error::Other)?;
        let key = self.key(RAW, &rel);
        let body = ByteStream::from_path(local).await.map_err(|e| Error::Other(format!("{}: {e}", local.display())))?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .body(body)
            .send()
            .await
            .map_err(|e| s3_err(&format!("uploading to s3://{}/{key}", self.bucket), e))?;
        Ok(key)
    }

    /// Write an object of an area (`runs/…`, the state machine's manifests) from memory. Returns its key.
    pub async fn put_area_object(&self, area: &str, relative: &str, body: Vec<u8>) -> Result<String> {
        safe_relative(relative).map_err(Error::Other)?;
        let key = self.key(area, relative);
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/json")
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| s3_err(&format!("uploading to s3://{}/{key}", self.bucket), e))?;
        Ok(key)
    }

    /// Put a statement into the inbox from memory (a day fetched from an acquirer's API). Returns its key.
    pub async fn put_inbox(&self, name: &str, body: Vec<u8>) -> Result<String> {
        safe_relative(name).map_err(Error::Other)?;
        let key = self.key(INBOX, name);
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| s3_err(&format!("uploading to s3://{}/{key}", self.bucket), e))?;
        Ok(key)
    }

    /// The metadata of an object (for checks and tests).
    pub async fn metadata(&self, key: &str) -> Result<std::collections::HashMap<String, String>> {
        let head = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| s3_err(&format!("s3://{}/{key}", self.bucket), e))?;
        Ok(head.metadata().cloned().unwrap_or_default())
    }
}

impl StatementSource for S3Store {
    fn kind(&self) -> SourceKind {
        SourceKind::S3
    }

    fn label(&self) -> String {
        S3Store::label(self)
    }

    fn keeps_settled_files(&self) -> bool {
        false
    }

    /// The inbox's objects, named by their key below the inbox. An inbox object is identified by that name and
    /// its size (it leaves the inbox once processed), not its time.
    fn list(&self) -> SourceFuture<'_, Listing> {
        Box::pin(async move {
            let (objects, unsafe_keys) = self.list_inbox().await?;
            Ok(Listing {
                files: objects
                    .into_iter()
                    .map(|o| ListedFile { name: o.relative, size: o.size, modified: None, copy: None })
                    .collect(),
                refused: unsafe_keys.into_iter().map(|(name, reason)| Refused { name, reason }).collect(),
            })
        })
    }

    /// Download an inbox object. One no longer in the inbox is [`Error::AlreadyArchived`] when another
    /// delivery archived it, [`Error::SourceMissing`] otherwise.
    fn fetch<'a>(&'a self, file: &'a ListedFile) -> SourceFuture<'a, FetchedFile> {
        Box::pin(async move {
            let obj = self.area_object(INBOX, &file.name, file.size)?;
            let dir = download_dir()?;
            match self.download(&obj, dir.path()).await {
                Ok(path) => Ok(FetchedFile::downloaded(path, dir, None)),
                Err(Error::SourceMissing(what)) => {
                    for area in [PROCESSED, REJECTED] {
                        let archived = self.key(area, &obj.relative);
                        if self.exists(&archived).await? {
                            return Err(Error::AlreadyArchived(format!(
                                "s3://{}/{}: already archived as {archived} by another delivery",
                                self.bucket, obj.key
                            )));
                        }
                    }
                    Err(Error::SourceMissing(what))
                }
                Err(e) => Err(e),
            }
        })
    }

    /// Move the object out of the inbox: to `processed/` when read, to `rejected/` with the reason. The
    /// `processed/` object is the copy a lost staging is restored from.
    fn settle<'a>(
        &'a self,
        file: &'a ListedFile,
        _: &'a FetchedFile,
        settlement: &'a Settlement,
    ) -> SourceFuture<'a, Option<String>> {
        Box::pin(async move {
            let obj = self.area_object(INBOX, &file.name, file.size)?;
            let disposition = match &settlement.rejected {
                Some(reason) => Disposition::Rejected { reason: reason.clone() },
                None => Disposition::Processed,
            };
            self.archive(&obj, &disposition).await?;
            Ok(None)
        })
    }
}

/// Percent-encode a key for `x-amz-copy-source` (slashes kept).
fn urlencode_key(key: &str) -> String {
    crate::config::percent_encode_keeping(key, b"/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_names_are_refused() {
        assert!(safe_relative("CIELO03_1.TXT").is_ok());
        assert!(safe_relative("2026/08/CIELO03_1.TXT").is_ok());
        for bad in ["", "../etc/passwd", "a/../b", "a//b", "a\nb", "a\0b", "a\\b", "./a"] {
            assert!(safe_relative(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn metadata_is_ascii() {
        assert_eq!(metadata_value("linha 2: não é data"), "linha 2: n%C3%A3o %C3%A9 data");
    }
}
