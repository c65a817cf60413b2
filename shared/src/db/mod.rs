//! PostgreSQL edge: connection, embedded migrations, and the statement store (staging, loading,
//! rejection). Everything here is async; nothing here parses.

pub mod bank;
pub mod bulk;
pub mod localpg;
pub mod recon;
pub mod store;

use crate::error::{Error, Result};
use std::path::PathBuf;
use std::time::Duration;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::Client;
use tokio_postgres::GenericClient;
use tokio_postgres_rustls::MakeRustlsConnect;

mod embedded {
    refinery::embed_migrations!("../migrations");
}

/// Arbitrary constant: the advisory lock that serialises concurrent migration runs.
const MIGRATION_LOCK: i64 = 0x5359_4e43_524f; // "SYNCRO"

/// How long to wait for a TCP connection and the server's first answer, unless the URL says
/// (`connect_timeout`): a server that does not answer fails the attempt instead of hanging it.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// TCP keepalive idle time: a server that vanished without closing the socket (host down, network cut) is
/// noticed within about a minute and the statement fails instead of waiting forever.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);

/// TLS options of a connection URL, in libpq's words, taken out before the rest is parsed.
#[derive(Debug, Default, PartialEq, Eq)]
struct TlsOptions {
    /// `sslmode` as given (`disable`, `prefer`, `require`, `verify-ca`, `verify-full`), if given.
    mode: Option<String>,
    /// `sslrootcert`: the CA bundle to trust instead of the system's.
    root_cert: Option<PathBuf>,
}

/// Split `sslmode` and `sslrootcert` out of a `postgres://` URL's query (the rest is returned unchanged).
fn take_tls_options(url: &str) -> (String, TlsOptions) {
    let mut tls = TlsOptions::default();
    let Some((base, query)) = url.split_once('?') else { return (url.to_string(), tls) };
    let mut kept = Vec::new();
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let value = || percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned();
        match k {
            "sslmode" => tls.mode = Some(value()),
            "sslrootcert" => tls.root_cert = Some(PathBuf::from(value())),
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) };
    (url, tls)
}

/// Whether every host of `config` is this machine (loopback or a Unix socket).
fn only_local_hosts(config: &tokio_postgres::Config) -> bool {
    config.get_hosts().iter().all(|h| match h {
        Host::Tcp(name) => name == "localhost" || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()),
        #[cfg(unix)]
        Host::Unix(_) => true,
    })
}

/// Connection settings from a URL, with the timeouts above unless the URL sets its own, and the TLS
/// connector. TLS always verifies the server's certificate chain and name (rustls), against the system CAs
/// or `sslrootcert` / `PGSSLROOTCERT` (e.g. Amazon RDS's bundle). `sslmode`: `disable`; `prefer` (TLS when
/// the server offers it); `require`, `verify-ca` and `verify-full` (TLS or no connection, always fully
/// verified). Without `sslmode`, a server on this machine is reached without TLS (the bytes never leave the
/// host; Debian's own cluster has a self-signed certificate) and any other only with TLS: a remote connection
/// is never silently in clear text.
fn config(url: &str) -> Result<(tokio_postgres::Config, MakeRustlsConnect)> {
    let bad_url = |reason: String| Error::Other(format!("database URL {}: {reason}", redact_url(url)));
    if let Some((scheme, _)) = url.split_once("://") {
        if !matches!(scheme, "postgres" | "postgresql") {
            return Err(bad_url(format!(
                "the scheme is {scheme:?}: give postgres://user:password@host:port/db (or libpq's key=value form)"
            )));
        }
    }
    let (rest, tls) = take_tls_options(url);
    let mut config: tokio_postgres::Config =
        rest.parse().map_err(|e| Error::Connect { target: redact_url(url), source: e })?;
    let mode = match tls.mode.as_deref() {
        Some("disable") => SslMode::Disable,
        Some("prefer") | Some("allow") => SslMode::Prefer,
        Some("require") | Some("verify-ca") | Some("verify-full") => SslMode::Require,
        Some(other) => return Err(bad_url(format!("unknown sslmode {other:?}"))),
        None if only_local_hosts(&config) => SslMode::Disable,
        None => SslMode::Require,
    };
    config.ssl_mode(mode);
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    config.keepalives(true).keepalives_idle(KEEPALIVE_IDLE);
    let root_cert = tls.root_cert.or_else(|| std::env::var_os("PGSSLROOTCERT").map(PathBuf::from));
    let tls = if mode == SslMode::Disable {
        // Never used: no need for the system's CA store (nor to fail when it is absent).
        crate::tls::client_config_trusting(rustls::RootCertStore::empty())?
    } else {
        crate::tls::client_config(root_cert.as_deref()).map_err(|e| bad_url(e.to_string()))?
    };
    Ok((config, MakeRustlsConnect::new(tls)))
}

/// Connect to PostgreSQL once. The connection task runs in the background until the client is dropped.
pub async fn connect(url: &str) -> Result<Client> {
    let (config, tls) = config(url)?;
    let (client, connection) =
        config.connect(tls).await.map_err(|e| Error::Connect { target: redact_url(url), source: e })?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "database connection closed with an error");
        }
    });
    Ok(client)
}

/// How database work is tried again after a failure that may pass ([`Error::is_retryable_db`]): a server
/// restarting, a connection refused or lost, a statement timeout. The pause doubles after each attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    pub first_pause: Duration,
    pub max_pause: Duration,
}

impl Default for RetryPolicy {
    /// 6 attempts over about half a minute (pauses of 1, 2, 4, 8, 16 s): enough for a server restart or a
    /// failover, short enough that an operator is told soon when the database is really down.
    fn default() -> Self {
        RetryPolicy { attempts: 6, first_pause: Duration::from_secs(1), max_pause: Duration::from_secs(16) }
    }
}

impl RetryPolicy {
    /// The default policy, with the number of attempts from `SYNCROCARDPAY_DB_ATTEMPTS` when set (1 turns
    /// retrying off).
    pub fn from_env() -> Self {
        let mut p = RetryPolicy::default();
        if let Some(n) = std::env::var("SYNCROCARDPAY_DB_ATTEMPTS").ok().and_then(|v| v.trim().parse::<u32>().ok()) {
            p.attempts = n.max(1);
        }
        p
    }

    /// The pause after the `attempt`-th failure (1-based).
    pub fn pause(&self, attempt: u32) -> Duration {
        self.first_pause.saturating_mul(1 << attempt.saturating_sub(1).min(16)).min(self.max_pause)
    }

    /// Whether to try again after the `attempt`-th failure with this error.
    pub fn again(&self, attempt: u32, e: &Error) -> bool {
        attempt < self.attempts && e.is_retryable_db()
    }

    /// Say what failed and pause before the next attempt.
    async fn wait(&self, attempt: u32, what: &str, e: &Error) {
        let pause = self.pause(attempt);
        tracing::warn!(error = %e, attempt, pause_seconds = pause.as_secs_f64(), "{what}, retrying");
        tokio::time::sleep(pause).await;
    }
}

/// Connect, retrying while the failure may pass (the server starting, restarting, or refusing connections
/// for a moment); a wrong password or a missing database fails at once. The last error names the attempts.
pub async fn connect_retrying(url: &str, policy: &RetryPolicy) -> Result<Client> {
    let mut attempt = 1;
    loop {
        match connect(url).await {
            Ok(client) => return Ok(client),
            Err(e) if policy.again(attempt, &e) => {
                policy.wait(attempt, "cannot connect to the database", &e).await;
                attempt += 1;
            }
            Err(Error::Connect { target, source }) if attempt > 1 => {
                return Err(Error::Connect { target: format!("{target} (after {attempt} attempts)"), source })
            }
            Err(e) => return Err(e),
        }
    }
}

/// Run `work` on `db`, and again on a new connection after a pause when it fails in a way that may pass
/// ([`RetryPolicy`]). `work` must be safe to repeat: every load here is one transaction per file, so a failed
/// attempt leaves nothing behind.
pub async fn retrying<T>(
    url: &str,
    db: &mut Client,
    policy: &RetryPolicy,
    what: &str,
    mut work: impl for<'c> FnMut(&'c mut Client) -> BoxFuture<'c, Result<T>>,
) -> Result<T> {
    let mut attempt = 1;
    loop {
        let e = match work(db).await {
            Ok(v) => return Ok(v),
            Err(e) if policy.again(attempt, &e) => e,
            Err(e) => return Err(e),
        };
        policy.wait(attempt, &format!("{what}: database failure"), &e).await;
        attempt += 1;
        // The same connection only when the server itself answered (a timeout, a deadlock) and it is still
        // open; otherwise it is gone or in doubt, and the next attempt uses a new one.
        let server_answered = matches!(&e, Error::Db(d) if d.as_db_error().is_some());
        if db.is_closed() || !server_answered {
            *db = connect_retrying(url, policy).await?;
        }
    }
}

/// A boxed future borrowing a connection, as [`retrying`] takes its work.
pub type BoxFuture<'c, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'c>>;

/// The URL of another database on the same server (`postgres://…/NAME?options` → `…/name?options`).
pub fn url_with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let slash = base.rfind('/').unwrap_or(base.len());
    match query {
        Some(q) => format!("{}/{name}?{q}", &base[..slash]),
        None => format!("{}/{name}", &base[..slash]),
    }
}

/// Drop (if it exists) and create database `name` on the server of `admin_url`, whose user may create
/// databases; the new database's URL. For tests and benchmarks: `name` is an identifier we chose.
pub async fn recreate_database(admin_url: &str, name: &str) -> Result<String> {
    let admin = connect(admin_url).await?;
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).await?;
    admin.batch_execute(&format!("CREATE DATABASE {name}")).await?;
    Ok(url_with_database(admin_url, name))
}

/// A small set of connections kept across invocations (a Lambda's execution environment): each is checked
/// with a round trip before it is handed out, so one that died while the environment was frozen is replaced
/// by a new one instead of failing the next invocation.
pub fn pool(url: &str, size: usize) -> Result<deadpool_postgres::Pool> {
    let (config, tls) = config(url)?;
    let manager = deadpool_postgres::Manager::from_config(
        config,
        tls,
        deadpool_postgres::ManagerConfig { recycling_method: deadpool_postgres::RecyclingMethod::Verified },
    );
    deadpool_postgres::Pool::builder(manager)
        .max_size(size.max(1))
        .build()
        .map_err(|e| Error::Other(format!("connection pool: {e}")))
}

/// A connection from the pool, with the pool's errors told like [`connect`]'s.
pub async fn pooled(pool: &deadpool_postgres::Pool) -> Result<deadpool_postgres::Object> {
    pool.get().await.map_err(|e| match e {
        deadpool_postgres::PoolError::Backend(source) => {
            Error::Connect { target: "the configured database".into(), source }
        }
        other => Error::Other(format!("database connection pool: {other}")),
    })
}

/// Apply the embedded migrations (idempotent; concurrent callers wait for each other).
pub async fn migrate(client: &mut Client) -> Result<Vec<String>> {
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).await?;
    let outcome = embedded::migrations::runner().run_async(client).await;
    client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]).await?;
    let report = outcome.map_err(|e| Error::Migration(e.to_string()))?;
    Ok(report.applied_migrations().iter().map(|m| m.to_string()).collect())
}

/// The latest migration this code embeds (the schema version it needs).
pub fn latest_migration() -> i32 {
    embedded::migrations::runner().get_migrations().iter().map(|m| m.version() as i32).max().unwrap_or(0)
}

/// The schema's version as migrated (0 when never migrated).
pub async fn schema_version(client: &impl GenericClient) -> Result<i32> {
    let exists: bool = client.query_one("SELECT to_regclass('refinery_schema_history') IS NOT NULL", &[]).await?.get(0);
    if !exists {
        return Ok(0);
    }
    Ok(client.query_one("SELECT coalesce(max(version), 0) FROM refinery_schema_history", &[]).await?.get(0))
}

/// Whether the database's schema is the one this code needs — checked by the deployed functions at cold start,
/// which never migrate (the deploy's migrate step does, as the schema's owner): an error saying what to do
/// when it is behind, or ahead (older code against a newer schema).
pub async fn check_schema(client: &impl GenericClient) -> Result<()> {
    let (have, want) = (schema_version(client).await?, latest_migration());
    match have.cmp(&want) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Less => Err(Error::NotConfigured(format!(
            "the database schema is at V{have} and this code needs V{want}: apply the migrations (sam deploy runs \
             the migrate function; locally, `syncrocardpay db migrate`)"
        ))),
        std::cmp::Ordering::Greater => Err(Error::NotConfigured(format!(
            "the database schema is at V{have}, newer than this code's V{want}: deploy the code that migrated it"
        ))),
    }
}

/// Let the runtime user read and write the data, and nothing more (no DDL): what the migrator grants after
/// migrating, when the two users differ. Idempotent; future tables of the schema's owner included.
pub async fn grant_runtime(client: &impl GenericClient, runtime_user: &str) -> Result<()> {
    let role = quote_ident(runtime_user);
    for sql in [
        // Before PostgreSQL 15 everyone may create tables in `public`: not the runtime user.
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC".to_string(),
        format!("GRANT USAGE ON SCHEMA public TO {role}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"),
        format!("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}"),
        format!("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}"),
        format!("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}"),
    ] {
        client.batch_execute(&sql).await?;
    }
    Ok(())
}

/// A PostgreSQL identifier, quoted (`"a""b"`).
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A connection string with every password replaced by `***`, safe to print: the URL's userinfo
/// (`postgres://user:password@host`), a `password` query parameter (`?password=…`, any case), and libpq's
/// key=value form however it is spaced or quoted (`password = X`, `password='A B'`, `password='it\'s'`).
pub fn redact_url(url: &str) -> String {
    if let Some(scheme_end) = url.find("://") {
        let (head, rest) = url.split_at(scheme_end + 3);
        let (authority_path, query) = match rest.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (rest, None),
        };
        let mut out = head.to_string();
        match authority_path.rfind('@') {
            Some(at) => {
                let userinfo = &authority_path[..at];
                match userinfo.find(':') {
                    Some(colon) => out.push_str(&format!("{}:***{}", &userinfo[..colon], &authority_path[at..])),
                    None => out.push_str(authority_path),
                }
            }
            None => out.push_str(authority_path),
        }
        if let Some(q) = query {
            let pairs: Vec<String> = q
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _)) if is_password_key(k) => format!("{k}=***"),
                    _ => pair.to_string(),
                })
                .collect();
            out.push('?');
            out.push_str(&pairs.join("&"));
        }
        return out;
    }
    redact_conninfo(url)
}

fn is_password_key(k: &str) -> bool {
    let k = percent_encoding::percent_decode_str(k.trim()).decode_utf8_lossy();
    k.eq_ignore_ascii_case("password") || k.eq_ignore_ascii_case("passfile") || k.eq_ignore_ascii_case("sslpassword")
}

/// libpq's `key = value` form: values unquoted up to whitespace, or single-quoted with `\'` and `\\`.
fn redact_conninfo(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        // Whitespace between pairs is kept as it is.
        if b[i].is_ascii_whitespace() {
            out.push(b[i] as char);
            i += 1;
            continue;
        }
        let key_start = i;
        while i < b.len() && b[i] != b'=' && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = &s[key_start..i];
        let mut j = i;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if j >= b.len() || b[j] != b'=' {
            // Not a key=value pair: keep the word.
            out.push_str(key);
            continue;
        }
        j += 1;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        let value_start = j;
        if j < b.len() && b[j] == b'\'' {
            j += 1;
            while j < b.len() && b[j] != b'\'' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            j = (j + 1).min(b.len());
        } else {
            while j < b.len() && !b[j].is_ascii_whitespace() {
                j += 1;
            }
        }
        out.push_str(&s[key_start..value_start]);
        if is_password_key(key) {
            out.push_str("***");
        } else {
            out.push_str(&s[value_start..j]);
        }
        i = j;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every form a password can take in a connection string is hidden (issue 14, item 5).
    #[test]
    fn passwords_are_redacted_in_every_form() {
        let cases = [
            ("postgres://u:s3cr3t@h:5432/d", "postgres://u:***@h:5432/d"),
            ("postgres://u:s3cr3t@h/d?sslmode=require", "postgres://u:***@h/d?sslmode=require"),
            ("postgres://h/d?user=u&password=s3cr3t", "postgres://h/d?user=u&password=***"),
            ("postgresql://h/d?PassWord=s3cr3t&x=1", "postgresql://h/d?PassWord=***&x=1"),
            ("postgres://u@h/d?pass%77ord=s3cr3t", "postgres://u@h/d?pass%77ord=***"),
            ("host=h password=s3cr3t user=u", "host=h password=*** user=u"),
            ("host=h password = s3cr3t user=u", "host=h password = *** user=u"),
            ("host=h password='A B s3cr3t' user=u", "host=h password=*** user=u"),
            ("host=h PASSWORD='it\\'s s3cr3t' dbname=d", "host=h PASSWORD=*** dbname=d"),
        ];
        for (given, expected) in cases {
            let r = redact_url(given);
            assert_eq!(r, expected, "{given}");
            assert!(!r.contains("s3cr3t"), "{r}");
        }
    }

    #[test]
    fn tls_options_are_taken_out_of_the_url_and_remote_servers_require_tls() {
        let (rest, tls) = take_tls_options(
            "postgres://u:p@db.example:5432/x?sslmode=verify-full&sslrootcert=%2Fetc%2Frds.pem&application_name=a",
        );
        assert_eq!(rest, "postgres://u:p@db.example:5432/x?application_name=a");
        assert_eq!(tls.mode.as_deref(), Some("verify-full"));
        assert_eq!(tls.root_cert, Some(PathBuf::from("/etc/rds.pem")));
        assert_eq!(take_tls_options("postgres://u@h/x").0, "postgres://u@h/x");

        let mode = |url: &str| config(url).map(|(c, _)| c.get_ssl_mode());
        assert_eq!(mode("postgres://u:p@127.0.0.1:5432/x").unwrap(), SslMode::Disable, "never leaves the machine");
        assert_eq!(mode("postgres://u:p@localhost/x").unwrap(), SslMode::Disable);
        assert_eq!(mode("postgres://u:p@localhost/x?sslmode=prefer").unwrap(), SslMode::Prefer);
        assert_eq!(mode("postgres://u:p@db.example/x").unwrap(), SslMode::Require, "remote: TLS or nothing");
        assert_eq!(mode("postgres://u:p@db.example/x?sslmode=disable").unwrap(), SslMode::Disable);
        assert_eq!(mode("postgres://u:p@db.example/x?sslmode=verify-ca").unwrap(), SslMode::Require);
        let e = mode("postgres://u:secret@db.example/x?sslmode=sometimes").unwrap_err().to_string();
        assert!(e.contains("unknown sslmode \"sometimes\"") && !e.contains("secret"), "{e}");
        let e = mode("postgres://u:secret@db.example/x?sslrootcert=/nonexistent.pem").unwrap_err().to_string();
        assert!(e.contains("CA bundle /nonexistent.pem") && !e.contains("secret"), "{e}");
    }

    #[test]
    fn another_database_on_the_same_server() {
        use super::url_with_database;
        assert_eq!(url_with_database("postgres://u:p@h:5/a", "b"), "postgres://u:p@h:5/b");
        assert_eq!(
            url_with_database("postgres://u:p@h:5/a?options=-c%20x%3D1", "b"),
            "postgres://u:p@h:5/b?options=-c%20x%3D1"
        );
    }

    #[test]
    fn passwords_never_printed() {
        assert_eq!(redact_url("postgres://u:s3cr3t@127.0.0.1:5432/db"), "postgres://u:***@127.0.0.1:5432/db");
        assert_eq!(redact_url("host=x user=u password=s3cr3t dbname=d"), "host=x user=u password=*** dbname=d");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
    }
}
