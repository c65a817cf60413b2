//! The acquirers whose statements come from an HTTPS API, not files: Stone's conciliation API (one XML per
//! StoneCode and day) and PagBank's EDI API (JSON per day and movement, paged). A fetch asks for a range of
//! days and writes each day's raw answer to the inbox as a file — Stone's XML as received (gunzipped), PagBank's
//! records of all the day's pages, each verbatim, in one response document — so that loading stays file-based
//! and idempotent: the same day fetched again is the same content, loaded once.
//!
//! Endpoints, auth and answers per ../shared/formats/stone.md §1 and pagbank.md §1-2. Credentials are
//! [`Secret`]s sent in the `Authorization` header only: never in a URL, a message or a log. TLS is always
//! verified (shared/src/tls.rs), against the system's CAs or a configured bundle.

use crate::config::Secret;
use crate::error::{Error, Result};
use crate::source::printable_name;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Stone's conciliation API.
pub const STONE_URL: &str = "https://conciliation.stone.com.br";
/// PagBank's EDI API.
pub const PAGBANK_URL: &str = "https://edi.api.pagbank.com.br";
/// PagBank's movements fetched per day: the sales (forecast) and the settlements (with the cashouts).
pub const PAGBANK_MOVEMENTS: [&str; 2] = ["transactional", "financial"];
/// Records per PagBank page asked for (the API's largest page).
const PAGBANK_PAGE_SIZE: u32 = 1000;
/// A day of one establishment never has more pages than this: past it, the server is looping.
const MAX_PAGES: u32 = 10_000;
/// The largest answer read (a day of one merchant: megabytes at most).
const MAX_BODY_BYTES: usize = 256 << 20;

/// An HTTPS client for one API: its base URL, TLS verified, redirects followed by hand (see [`StoneApi`]).
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: String,
}

impl ApiClient {
    /// `ca_file`: trust only this CA bundle (PEM) instead of the system's.
    pub fn new(base_url: &str, ca_file: Option<&Path>) -> Result<ApiClient> {
        let tls = crate::tls::client_config(ca_file)?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(20))
            // Stone may take about two minutes to answer (stone.md §1).
            .timeout(Duration::from_secs(300))
            .build()
            .map_err(|e| Error::Other(format!("HTTPS client: {e}")))?;
        Ok(ApiClient { http, base: base_url.trim_end_matches('/').to_string() })
    }
}

/// What the API answered for one day.
#[derive(Debug, PartialEq, Eq)]
pub enum DayAnswer {
    /// The day's document: a file name for the inbox, and its bytes.
    Document { name: String, bytes: Vec<u8>, records: Option<usize> },
    /// Nothing for that day (no file, no movement), with what the API said.
    Nothing(String),
}

/// An error of an answer: the status said in words, the body's first bytes (escaped) as the server's reason.
fn refused(what: &str, status: reqwest::StatusCode, body: &[u8]) -> Error {
    let reason = String::from_utf8_lossy(&body[..body.len().min(200)]).to_string();
    let meaning = match status.as_u16() {
        401 | 403 => "the credentials were refused (check the key or token, and that it is this merchant's)",
        429 => "too many requests (Stone allows 7 per hour per StoneCode and day): fetch again later",
        503 => "not available yet (a day is published early the next morning): fetch again later",
        _ => "unexpected answer",
    };
    let text = format!("{what}: HTTP {status}: {meaning}; the server said {:?}", printable_name(reason.trim()));
    if matches!(status.as_u16(), 401 | 403 | 400) {
        Error::Refused { name: what.to_string(), reason: text }
    } else {
        Error::Other(text)
    }
}

async fn body(what: &str, resp: reqwest::Response) -> Result<Vec<u8>> {
    if resp.content_length().is_some_and(|n| n as usize > MAX_BODY_BYTES) {
        return Err(Error::Other(format!("{what}: the answer is larger than {MAX_BODY_BYTES} bytes")));
    }
    let bytes = resp.bytes().await.map_err(|e| Error::Other(format!("{what}: reading the answer: {e}")))?;
    if bytes.len() > MAX_BODY_BYTES {
        return Err(Error::Other(format!("{what}: the answer is larger than {MAX_BODY_BYTES} bytes")));
    }
    // gzip whatever the headers say (stone.md §6): the body is gunzipped when it starts like gzip.
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .take(MAX_BODY_BYTES as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| Error::Other(format!("{what}: the gzipped answer cannot be read: {e}")))?;
        if out.len() > MAX_BODY_BYTES {
            return Err(Error::Other(format!("{what}: the answer is larger than {MAX_BODY_BYTES} bytes")));
        }
        return Ok(out);
    }
    Ok(bytes.to_vec())
}

fn network(what: &str, e: reqwest::Error) -> Error {
    // reqwest's message names the URL, which never carries a credential here.
    Error::Other(format!("{what}: {e}{}", std::error::Error::source(&e).map(|s| format!(": {s}")).unwrap_or_default()))
}

/// A merchant's number at an acquirer, trimmed: digits only (it goes into URLs and file names).
fn digits(what: &str, value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::NotConfigured(format!("{what} {:?}: digits only", printable_name(v))));
    }
    Ok(v.to_string())
}

/// Stone's conciliation API, merchant flow: `GET /v2/merchant/{StoneCode}/conciliation-file/{yyyyMMdd}`, HTTP
/// Basic with the secret key as user and an empty password, `x-user-type: client`. A 307 to a pre-signed
/// address is followed without the `Authorization` header.
pub struct StoneApi {
    pub client: ApiClient,
    pub stone_code: String,
    pub key: Secret,
}

impl StoneApi {
    pub fn new(client: ApiClient, stone_code: &str, key: Secret) -> Result<StoneApi> {
        Ok(StoneApi { client, stone_code: digits("StoneCode", stone_code)?, key })
    }

    pub async fn day(&self, day: NaiveDate) -> Result<DayAnswer> {
        let what = format!("Stone {} {day}", self.stone_code);
        let url =
            format!("{}/v2/merchant/{}/conciliation-file/{}", self.client.base, self.stone_code, day.format("%Y%m%d"));
        let resp = self
            .client
            .http
            .get(&url)
            .basic_auth(self.key.expose(), Some(""))
            .header("x-user-type", "client")
            .header("accept-encoding", "gzip")
            .send()
            .await
            .map_err(|e| network(&what, e))?;
        let resp = if resp.status().is_redirection() {
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .ok_or_else(|| Error::Other(format!("{what}: HTTP {} without a Location", resp.status())))?;
            let target = resp.url().join(location).map_err(|e| Error::Other(format!("{what}: Location: {e}")))?;
            if target.scheme() != "https" {
                return Err(Error::Other(format!("{what}: redirected to a non-HTTPS address: refused")));
            }
            // The pre-signed address carries its own authorisation: the key is not sent there.
            self.client.http.get(target).send().await.map_err(|e| network(&what, e))?
        } else {
            resp
        };
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(DayAnswer::Nothing("no conciliation file for that day (HTTP 404)".into()));
        }
        let bytes = body(&what, resp).await?;
        if !status.is_success() {
            return Err(refused(&what, status, &bytes));
        }
        if !crate::formats::stone::recognise(&bytes) {
            return Err(Error::Other(format!("{what}: the answer is not a Stone conciliation file (XML)")));
        }
        Ok(DayAnswer::Document {
            name: format!("stone-{}-{}.xml", self.stone_code, day.format("%Y%m%d")),
            bytes,
            records: None,
        })
    }
}

/// PagBank's EDI API v3.00: `GET /movement/v3.00/{movement}/{yyyy-MM-dd}?pageNumber=N&pageSize=S`, HTTP Basic
/// with the establishment number and the EDI token. Pages start at 1 and go to `pagination.totalPages`.
pub struct PagbankApi {
    pub client: ApiClient,
    pub user: String,
    pub token: Secret,
}

/// One page, its records kept verbatim.
#[derive(Deserialize)]
struct Page<'a> {
    #[serde(borrow)]
    detalhes: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    saldos: Option<Vec<&'a RawValue>>,
    #[serde(default)]
    pagination: Option<Pagination>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Pagination {
    page: Option<u32>,
    total_pages: Option<u32>,
}

impl PagbankApi {
    pub fn new(client: ApiClient, user: &str, token: Secret) -> Result<PagbankApi> {
        Ok(PagbankApi { client, user: digits("PagBank user (the establishment number)", user)?, token })
    }

    /// A movement of a day, every page: one response document with all the records (each as PagBank wrote
    /// it), the balances, and a pagination that says it is whole (page 1 of 1).
    pub async fn day(&self, movement: &str, day: NaiveDate) -> Result<DayAnswer> {
        let what = format!("PagBank {} {movement} {day}", self.user);
        let mut details: Vec<String> = Vec::new();
        let mut balances: Vec<String> = Vec::new();
        let mut page = 1u32;
        let mut total: Option<u32> = None;
        loop {
            let url = format!(
                "{}/movement/v3.00/{movement}/{}?pageNumber={page}&pageSize={PAGBANK_PAGE_SIZE}",
                self.client.base,
                day.format("%Y-%m-%d")
            );
            let resp = self
                .client
                .http
                .get(&url)
                .basic_auth(&self.user, Some(self.token.expose()))
                .send()
                .await
                .map_err(|e| network(&what, e))?;
            let status = resp.status();
            if status == reqwest::StatusCode::NOT_FOUND && page == 1 {
                return Ok(DayAnswer::Nothing("no movement that day (HTTP 404)".into()));
            }
            let bytes = body(&what, resp).await?;
            if !status.is_success() {
                return Err(refused(&format!("{what} page {page}"), status, &bytes));
            }
            let p: Page<'_> = serde_json::from_slice(&bytes)
                .map_err(|e| Error::Other(format!("{what} page {page}: not a PagBank EDI answer: {e}")))?;
            details.extend(p.detalhes.iter().map(|r| r.get().to_string()));
            balances.extend(p.saldos.unwrap_or_default().iter().map(|r| r.get().to_string()));
            let pages = p.pagination.as_ref().and_then(|p| p.total_pages).unwrap_or(1).max(1);
            if let Some(said) = p.pagination.as_ref().and_then(|p| p.page) {
                if said != page {
                    return Err(Error::Other(format!("{what}: asked for page {page}, the answer is page {said}")));
                }
            }
            match total {
                Some(t) if t != pages => {
                    return Err(Error::Other(format!(
                        "{what}: the number of pages changed while paging ({t}, then {pages}): fetch again"
                    )))
                }
                _ => total = Some(pages),
            }
            if page >= pages {
                break;
            }
            if page >= MAX_PAGES {
                return Err(Error::Other(format!("{what}: more than {MAX_PAGES} pages")));
            }
            page += 1;
        }
        if details.is_empty() {
            return Ok(DayAnswer::Nothing("no movement that day (no record)".into()));
        }
        let n = details.len();
        let mut doc = String::from("{\"detalhes\": [\n");
        doc.push_str(&details.join(",\n"));
        doc.push_str("\n],\n\"saldos\": [");
        doc.push_str(&balances.join(",\n"));
        doc.push_str(&format!(
            "],\n\"pagination\": {{\"elements\": {n}, \"totalPages\": 1, \"page\": 1, \"totalElements\": {n}}}}}\n"
        ));
        Ok(DayAnswer::Document {
            name: format!("pagbank-{}-{movement}-{}.json", self.user, day.format("%Y-%m-%d")),
            bytes: doc.into_bytes(),
            records: Some(n),
        })
    }
}

/// What a fetch did for one day's document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Fetched {
    /// Written to the inbox (new, or changed since the last fetch): its path, or `s3://bucket/key`.
    Written { name: String, bytes: u64, path: PathBuf },
    /// The inbox already holds this name with these bytes, or the database a statement with these bytes.
    Unchanged { name: String },
    /// The API had nothing for that day.
    Nothing { what: String, reason: String },
    /// The API could not be asked or refused; the other days go on.
    Failed { what: String, error: String },
}

/// Write a document into the inbox folder: whole or not at all (a `.part` file renamed), unchanged when the
/// same bytes are there.
pub fn write_to_inbox(dir: &Path, name: &str, bytes: &[u8]) -> Result<Fetched> {
    let path = dir.join(name);
    if std::fs::read(&path).is_ok_and(|old| old == bytes) {
        return Ok(Fetched::Unchanged { name: name.to_string() });
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let part = dir.join(format!(".{name}.part"));
    std::fs::write(&part, bytes).map_err(|e| Error::io(&part, e))?;
    std::fs::rename(&part, &path).map_err(|e| Error::io(&path, e))?;
    Ok(Fetched::Written { name: name.to_string(), bytes: bytes.len() as u64, path })
}

/// Where a fetch writes: an inbox folder, or the S3 inbox (`PREFIX/inbox/`) the deployment discovers.
pub enum Inbox {
    Folder(PathBuf),
    S3(std::sync::Arc<crate::source::s3::S3Store>),
}

impl Inbox {
    async fn put(&self, name: &str, bytes: Vec<u8>) -> Result<Fetched> {
        match self {
            Inbox::Folder(dir) => write_to_inbox(dir, name, &bytes),
            Inbox::S3(store) => {
                let size = bytes.len() as u64;
                let key = store.put_inbox(name, bytes).await?;
                Ok(Fetched::Written {
                    name: name.to_string(),
                    bytes: size,
                    path: PathBuf::from(format!("s3://{}/{key}", store.bucket())),
                })
            }
        }
    }
}

/// Which API a fetch asks.
pub enum Api {
    Stone(StoneApi),
    Pagbank(PagbankApi),
}

impl Api {
    /// Every day of `from..=to` (each of PagBank's movements), written to `inbox` unless its content is one
    /// of `known` (the sha256 of statements the database already has — loaded, rejected, withdrawn: asked
    /// again, a day that did not change is not delivered again). A day that fails is said and the others go
    /// on.
    pub async fn fetch(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        inbox: &Inbox,
        known: &std::collections::HashSet<String>,
    ) -> Vec<Fetched> {
        let mut out = Vec::new();
        let mut day = from;
        while day <= to {
            let asks: Vec<(String, Result<DayAnswer>)> = match self {
                Api::Stone(s) => vec![(format!("Stone {} {day}", s.stone_code), s.day(day).await)],
                Api::Pagbank(p) => {
                    let mut v = Vec::new();
                    for m in PAGBANK_MOVEMENTS {
                        v.push((format!("PagBank {} {m} {day}", p.user), p.day(m, day).await));
                    }
                    v
                }
            };
            for (what, answer) in asks {
                out.push(match answer {
                    Ok(DayAnswer::Document { name, bytes, .. }) => {
                        let sha256 = crate::formats::sha256_of(&bytes[..]).map(|(h, _)| h).unwrap_or_default();
                        if known.contains(&sha256) {
                            Fetched::Unchanged { name }
                        } else {
                            inbox
                                .put(&name, bytes)
                                .await
                                .unwrap_or_else(|e| Fetched::Failed { what, error: e.to_string() })
                        }
                    }
                    Ok(DayAnswer::Nothing(reason)) => Fetched::Nothing { what, reason },
                    Err(e) => Fetched::Failed { what, error: e.to_string() },
                });
            }
            let Some(next) = day.succ_opt() else { break };
            day = next;
        }
        out
    }
}
