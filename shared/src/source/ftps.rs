//! FTPS source (explicit TLS, "AUTH TLS"): list a directory of the acquirer's server and download files,
//! verifying the server's certificate against the system roots or a configured CA bundle. Downloads stream to
//! `<name>.part`, are checked against the listed size, and only then get their final name; transient failures
//! (dropped connections, 4xx replies) are retried with backoff on a fresh connection, certificate and
//! authentication errors are not.

use crate::config::Secret;
use crate::error::{Error, Result};
use crate::source::s3::{safe_relative, S3Store, RAW};
use crate::source::{
    download_dir, is_candidate_name, FetchedFile, ListedFile, Listing, Settlement, SourceFuture, SourceKind,
    StatementSource,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use suppaftp::list::File as MlsdEntry;
use suppaftp::tokio::{AsyncRustlsConnector, AsyncRustlsFtpStream};
use suppaftp::tokio_rustls::rustls::ClientConfig;
use suppaftp::types::FileType;
use suppaftp::FtpError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Where and how to reach an acquirer's FTPS server.
#[derive(Debug, Clone)]
pub struct FtpsSettings {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Secret,
    /// Directory to list, as the server takes it: relative to the login directory (`out/edi`), or absolute
    /// (`/out/edi`); none for the login directory itself.
    pub dir: Option<String>,
    /// Only names starting with this (e.g. `CIELO`), case-insensitive.
    pub name_prefix: Option<String>,
    /// PEM bundle of CAs to trust instead of the system roots.
    pub ca_file: Option<PathBuf>,
    /// Name the certificate must carry (default: `host`).
    pub tls_name: Option<String>,
    /// Attempts per operation (at least 1).
    pub attempts: u32,
    /// How long a connection, a reply or a data read may stall before the attempt is abandoned.
    pub timeout: Duration,
}

impl FtpsSettings {
    /// Settings from the configured server (SSM / environment): the login directory, the system roots, the
    /// default attempts and timeout.
    pub fn from_config(f: crate::config::FtpsConfig) -> FtpsSettings {
        FtpsSettings {
            host: f.host,
            port: f.port,
            user: f.user,
            password: f.password,
            dir: None,
            name_prefix: None,
            ca_file: None,
            tls_name: None,
            attempts: 3,
            timeout: Duration::from_secs(60),
        }
    }

    /// Parse `ftps://USER:PASSWORD@HOST:PORT/DIR` (port default 21; user, password and each segment of the
    /// path percent-decoded). The path is relative to the login directory, as RFC 1738 (3.2.2) has it:
    /// `ftps://host/extratos` is the login directory's `extratos`, and an absolute directory is written with
    /// `%2F` — `ftps://host/%2Fextratos` is `/extratos` (sent as `CWD /extratos`, it failed with 550 on a
    /// server that does not confine the user to its home, as vsftpd by default).
    pub fn from_url(url: &str) -> Result<FtpsSettings> {
        let bad = |why: &str| Error::Other(format!("FTPS URL: {why} (expected ftps://USER:PASSWORD@HOST:PORT/DIR)"));
        let rest = url.strip_prefix("ftps://").ok_or_else(|| bad("not ftps://"))?;
        let (auth, rest) = rest.rsplit_once('@').ok_or_else(|| bad("no USER:PASSWORD@"))?;
        let (user, password) = auth.split_once(':').ok_or_else(|| bad("no password"))?;
        let (hostport, dir) = rest.split_once('/').unwrap_or((rest, ""));
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad("port is not a number"))?),
            None => (hostport, 21),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(FtpsSettings {
            host: host.to_string(),
            port,
            user: percent_decode(user),
            password: Secret::new(percent_decode(password)),
            dir: Some(dir.split('/').filter(|seg| !seg.is_empty()).map(percent_decode).collect::<Vec<_>>().join("/"))
                .filter(|d| !d.is_empty()),
            name_prefix: None,
            ca_file: None,
            tls_name: None,
            attempts: 3,
            timeout: Duration::from_secs(60),
        })
    }
}

/// What a directory listing gave: MLSD facts, or bare names (servers without MLSD).
enum DirListing {
    Mlsd(Vec<String>),
    Names(Vec<String>),
}

/// An FTPS server's statement directory; with a bucket for copies, each file fetched is kept in S3
/// (`raw/<acquirer>/<merchant>/<date>/<name>`) and a file listed again is read from its copy, not the server.
pub struct FtpsSource {
    settings: FtpsSettings,
    tls: Arc<ClientConfig>,
    copies: Option<Arc<S3Store>>,
}

/// Whether an FTP failure is worth retrying on a new connection.
fn transient(e: &FtpError) -> bool {
    match e {
        FtpError::ConnectionError(_) => true,
        FtpError::UnexpectedResponse(r) => (400..500).contains(&(r.status.code())),
        _ => false,
    }
}

impl FtpsSource {
    pub fn new(settings: FtpsSettings) -> Result<Self> {
        let tls = Arc::new(crate::tls::client_config(settings.ca_file.as_deref())?);
        Ok(FtpsSource { settings, tls, copies: None })
    }

    /// Keep a raw copy of each file fetched in `store`, and read a file from its copy when one is kept.
    pub fn with_copies(mut self, store: Option<Arc<S3Store>>) -> Self {
        self.copies = store;
        self
    }

    /// The bucket the raw copies are kept in, if any.
    pub fn copies(&self) -> Option<&Arc<S3Store>> {
        self.copies.as_ref()
    }

    /// The server and directory as a URL would name them (RFC 1738: an absolute directory's first `/` is
    /// `%2F`), without the password.
    pub fn label(&self) -> String {
        let dir = match self.settings.dir.as_deref() {
            None | Some("") => String::new(),
            Some(d) => match d.strip_prefix('/') {
                Some(absolute) => format!("/%2F{absolute}"),
                None => format!("/{d}"),
            },
        };
        format!("ftps://{}@{}:{}{dir}", self.settings.user, self.settings.host, self.settings.port)
    }

    fn err(&self, what: &str, e: FtpError) -> Error {
        Error::Other(format!("{}: {what}: {e}", self.label()))
    }

    /// Connect, secure the control channel (certificate verified), log in, binary mode, change directory.
    async fn connect(&self) -> std::result::Result<AsyncRustlsFtpStream, FtpError> {
        let s = &self.settings;
        let addr = format!("{}:{}", s.host, s.port);
        let plain = tokio::time::timeout(s.timeout, AsyncRustlsFtpStream::connect(addr)).await.map_err(|_| {
            FtpError::ConnectionError(std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))
        })??;
        let connector = AsyncRustlsConnector::from(suppaftp::tokio_rustls::TlsConnector::from(self.tls.clone()));
        let mut ftp = plain.into_secure(connector, s.tls_name.as_deref().unwrap_or(&s.host)).await?;
        ftp.login(s.user.as_str(), s.password.expose()).await?;
        ftp.transfer_type(FileType::Binary).await?;
        if let Some(d) = &s.dir {
            ftp.cwd(d).await?;
        }
        Ok(ftp)
    }

    /// Run `op` on a fresh connection, retrying transient failures with backoff (0.5 s, 1 s, 2 s…).
    async fn with_retries<T, F>(&self, what: &str, mut op: F) -> Result<T>
    where
        F: for<'a> FnMut(
            &'a mut AsyncRustlsFtpStream,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = std::result::Result<T, FtpError>> + Send + 'a>,
        >,
    {
        let attempts = self.settings.attempts.max(1);
        let mut delay = Duration::from_millis(500);
        for attempt in 1..=attempts {
            let idle = self.settings.timeout;
            let stalled =
                || FtpError::ConnectionError(std::io::Error::new(std::io::ErrorKind::TimedOut, "server stalled"));
            let result = match tokio::time::timeout(idle * 2, self.connect()).await.unwrap_or_else(|_| Err(stalled())) {
                Ok(mut ftp) => {
                    let r = op(&mut ftp).await;
                    // A server that broke a transfer may not answer QUIT: do not wait for it.
                    let _ = tokio::time::timeout(idle, ftp.quit()).await;
                    r
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(v) => return Ok(v),
                Err(e) if transient(&e) && attempt < attempts => {
                    tracing::warn!(source = %self.label(), attempt, error = %e, "{what}: transient failure, retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(e) => return Err(self.err(what, e)),
            }
        }
        unreachable!("the last attempt returns")
    }

    /// The statement files in the directory: regular files, finished (no `.part`…), safe names, matching the
    /// configured prefix; with sizes and modification times (MLSD; servers without it: NLST, SIZE, MDTM).
    pub async fn list_files(&self) -> Result<Vec<ListedFile>> {
        let prefix = self.settings.name_prefix.as_ref().map(|p| p.to_ascii_uppercase());
        let wanted = |name: &str| {
            is_candidate_name(name)
                && safe_relative(name).is_ok()
                && !name.contains('/')
                && prefix.as_ref().is_none_or(|p| name.to_ascii_uppercase().starts_with(p))
        };
        let listing = self
            .with_retries("listing", |ftp| {
                Box::pin(async move {
                    match ftp.mlsd(None).await {
                        Ok(lines) => Ok(DirListing::Mlsd(lines)),
                        // 500/502: MLSD not understood or not implemented: fall back to bare names.
                        Err(FtpError::UnexpectedResponse(r)) if matches!(r.status.code(), 500 | 502) => {
                            Ok(DirListing::Names(ftp.nlst(None).await?))
                        }
                        Err(e) => Err(e),
                    }
                })
            })
            .await?;
        let mut files = Vec::new();
        match listing {
            DirListing::Mlsd(lines) => {
                for line in lines {
                    let Ok(f) = MlsdEntry::try_from(line.as_str()) else { continue };
                    let f: MlsdEntry = f;
                    if f.is_file() && wanted(f.name()) {
                        files.push(ListedFile {
                            name: f.name().to_string(),
                            size: f.size() as u64,
                            modified: Some(f.modified().into()),
                            copy: None,
                        });
                    }
                }
            }
            DirListing::Names(names) => {
                let names: Vec<String> = names
                    .into_iter()
                    .map(|n| n.rsplit('/').next().unwrap_or_default().to_string())
                    .filter(|n| wanted(n))
                    .collect();
                files = self
                    .with_retries("sizing", move |ftp| {
                        let names = names.clone();
                        Box::pin(async move {
                            let mut out = Vec::new();
                            for name in names {
                                // Directories have no SIZE: what the server refuses to size is skipped.
                                let Ok(size) = ftp.size(&name).await else { continue };
                                let modified = ftp.mdtm(&name).await.ok().map(|t| t.and_utc());
                                out.push(ListedFile { name, size: size as u64, modified, copy: None });
                            }
                            Ok(out)
                        })
                    })
                    .await?;
            }
        }
        files.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(files)
    }

    /// Download a listed file into `dir` through `<name>.part`; the final name appears only when the whole
    /// file, of the listed size, has arrived.
    pub async fn download(&self, file: &ListedFile, dir: &Path) -> Result<PathBuf> {
        safe_relative(&file.name).map_err(Error::Other)?;
        let local = super::local_name("ftps", &file.name);
        let dest = dir.join(&local);
        let part = dir.join(format!("{local}.part"));
        let (name, size, idle) = (file.name.clone(), file.size, self.settings.timeout);
        let part2 = part.clone();
        let what = format!("downloading {}", file.name);
        let done = self
            .with_retries(&what, move |ftp| {
                let (name, part) = (name.clone(), part2.clone());
                Box::pin(async move {
                    let stalled = || {
                        FtpError::ConnectionError(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            format!("{name}: no data for {} s", idle.as_secs()),
                        ))
                    };
                    let mut stream =
                        tokio::time::timeout(idle, ftp.retr_as_stream(&name)).await.map_err(|_| stalled())??;
                    let mut out = tokio::fs::File::create(&part).await.map_err(FtpError::ConnectionError)?;
                    let mut buf = vec![0u8; 64 * 1024];
                    let mut n = 0u64;
                    loop {
                        // An idle timeout per read: a stalled transfer is abandoned, never waited on for ever.
                        let got = tokio::time::timeout(idle, stream.read(&mut buf))
                            .await
                            .map_err(|_| stalled())?
                            .map_err(FtpError::ConnectionError)?;
                        if got == 0 {
                            break;
                        }
                        out.write_all(&buf[..got]).await.map_err(FtpError::ConnectionError)?;
                        n += got as u64;
                    }
                    out.flush().await.map_err(FtpError::ConnectionError)?;
                    out.sync_all().await.map_err(FtpError::ConnectionError)?;
                    tokio::time::timeout(idle, stream.finish()).await.map_err(|_| stalled())??;
                    if n != size {
                        // A short (or long) transfer is a failed one: try again on a new connection.
                        return Err(FtpError::ConnectionError(std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            format!("{name} arrived with {n} bytes, the listing said {size}"),
                        )));
                    }
                    Ok(())
                })
            })
            .await;
        if let Err(e) = done {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(e);
        }
        tokio::fs::rename(&part, &dest).await.map_err(|e| Error::io(&dest, e))?;
        Ok(dest)
    }
}

impl StatementSource for FtpsSource {
    fn kind(&self) -> SourceKind {
        SourceKind::Ftps
    }

    fn label(&self) -> String {
        FtpsSource::label(self)
    }

    /// The server's statement files, each with the key of its raw copy when one of the same name and size is
    /// kept in the bucket.
    fn list(&self) -> SourceFuture<'_, Listing> {
        Box::pin(async move {
            let mut files = self.list_files().await?;
            if let Some(store) = &self.copies {
                let copies = raw_copies(store).await?;
                for f in &mut files {
                    f.copy = copies.get(&(f.name.clone(), f.size)).cloned();
                }
            }
            Ok(Listing { files, refused: Vec::new() })
        })
    }

    /// From its raw copy when the listing named one (and a bucket is at hand), else from the server.
    fn fetch<'a>(&'a self, file: &'a ListedFile) -> SourceFuture<'a, FetchedFile> {
        Box::pin(async move {
            let dir = download_dir()?;
            if let (Some(key), Some(store)) = (&file.copy, &self.copies) {
                let path = store.download(&store.raw_object(key, file.size)?, dir.path()).await?;
                return Ok(FetchedFile::downloaded(path, dir, Some(key.clone())));
            }
            let path = self.download(file, dir.path()).await?;
            Ok(FetchedFile::downloaded(path, dir, None))
        })
    }

    /// The server is the acquirer's: nothing is moved there. With a bucket, a raw copy of what was read is
    /// kept (`raw/<acquirer>/<merchant>/<date>/<name>`).
    fn settle<'a>(
        &'a self,
        file: &'a ListedFile,
        fetched: &'a FetchedFile,
        settlement: &'a Settlement,
    ) -> SourceFuture<'a, Option<String>> {
        Box::pin(async move {
            let Some(store) = &self.copies else { return Ok(None) };
            if let Some(copy) = &fetched.from_copy {
                return Ok(Some(copy.clone()));
            }
            // A duplicate is not read again: its content says nothing of where to file it (its first delivery
            // was kept).
            let Some(f) = &settlement.filing else { return Ok(None) };
            Ok(Some(store.put_raw(&fetched.path, &f.acquirer, &f.merchant, &f.date, &file.name).await?))
        })
    }
}

/// The raw copies kept in a bucket, by (file name, size).
pub async fn raw_copies(store: &S3Store) -> Result<HashMap<(String, u64), String>> {
    let mut copies = HashMap::new();
    for o in store.list_area(RAW).await?.0 {
        let name = o.relative.rsplit('/').next().unwrap_or_default().to_string();
        copies.insert((name, o.size), o.key);
    }
    Ok(copies)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_the_password_stays_secret() {
        let s = FtpsSettings::from_url("ftps://edi%40acme:p%40ss%3Aw@ftp.cielo.example:2121/out/edi").unwrap();
        assert_eq!((s.user.as_str(), s.password.expose()), ("edi@acme", "p@ss:w"));
        assert_eq!((s.host.as_str(), s.port, s.dir.as_deref()), ("ftp.cielo.example", 2121, Some("out/edi")));
        assert!(!format!("{s:?}").contains("p@ss"));
        // RFC 1738: the path is relative to the login directory; `%2F` makes it absolute; segments decoded.
        let dir = |url: &str| FtpsSettings::from_url(url).unwrap().dir;
        assert_eq!(dir("ftps://u:p@h/%2Fout/edi").as_deref(), Some("/out/edi"));
        assert_eq!(dir("ftps://u:p@h/%2fout").as_deref(), Some("/out"));
        assert_eq!(dir("ftps://u:p@h/extratos%20cielo/").as_deref(), Some("extratos cielo"));
        assert_eq!(dir("ftps://u:p@h/"), None);
        assert_eq!(dir("ftps://u:p@h"), None);
        let label = |url: &str| FtpsSource::new(FtpsSettings::from_url(url).unwrap()).unwrap().label();
        assert_eq!(label("ftps://u:secret@h:21/%2Fout/edi"), "ftps://u@h:21/%2Fout/edi");
        assert_eq!(label("ftps://u:secret@h:21/out"), "ftps://u@h:21/out");
        assert_eq!(label("ftps://u:secret@h:21"), "ftps://u@h:21");
        assert_eq!(FtpsSettings::from_url("ftps://u:p@h").unwrap().port, 21);
        assert!(FtpsSettings::from_url("ftp://u:p@h").is_err());
    }
}
