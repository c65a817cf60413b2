//! PostgreSQL edge: connection, embedded migrations, and the statement store (staging, loading,
//! rejection). Everything here is async; nothing here parses.

pub mod localpg;
pub mod recon;
pub mod store;

use crate::error::{Error, Result};
use tokio_postgres::{Client, NoTls};

mod embedded {
    refinery::embed_migrations!("../migrations");
}

/// Arbitrary constant: the advisory lock that serialises concurrent migration runs.
const MIGRATION_LOCK: i64 = 0x5359_4e43_524f; // "SYNCRO"

/// Connect to PostgreSQL. The connection task runs in the background until the client is dropped.
pub async fn connect(url: &str) -> Result<Client> {
    let (client, connection) =
        tokio_postgres::connect(url, NoTls).await.map_err(|e| Error::Connect { target: redact_url(url), source: e })?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "database connection closed with an error");
        }
    });
    Ok(client)
}

/// A small set of connections kept across invocations (a Lambda's execution environment): each is checked
/// with a round trip before it is handed out, so one that died while the environment was frozen is replaced
/// by a new one instead of failing the next invocation.
pub fn pool(url: &str, size: usize) -> Result<deadpool_postgres::Pool> {
    let config: tokio_postgres::Config =
        url.parse().map_err(|e| Error::Connect { target: redact_url(url), source: e })?;
    let manager = deadpool_postgres::Manager::from_config(
        config,
        NoTls,
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

/// A connection URL with its password replaced by `***`, safe to print.
pub fn redact_url(url: &str) -> String {
    // postgres://user:password@host... → postgres://user:***@host...
    if let Some(scheme_end) = url.find("://") {
        let rest = &url[scheme_end + 3..];
        if let Some(at) = rest.rfind('@') {
            let userinfo = &rest[..at];
            if let Some(colon) = userinfo.find(':') {
                return format!("{}{}:***{}", &url[..scheme_end + 3], &userinfo[..colon], &rest[at..]);
            }
        }
        return url.to_string();
    }
    // key=value form: hide password=...
    url.split_whitespace()
        .map(|kv| if kv.to_ascii_lowercase().starts_with("password=") { "password=***" } else { kv })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_printed() {
        assert_eq!(redact_url("postgres://u:s3cr3t@127.0.0.1:5432/db"), "postgres://u:***@127.0.0.1:5432/db");
        assert_eq!(redact_url("host=x user=u password=s3cr3t dbname=d"), "host=x user=u password=*** dbname=d");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
    }
}
