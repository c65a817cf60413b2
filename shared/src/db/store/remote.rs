//! What came of the files the sources listed (`remote_file`), and the run lease.

use super::*;

/// A file as a remote source lists it: its identity before download.
#[derive(Debug, Clone)]
pub struct RemoteIdentity<'a> {
    pub source: &'a str,
    pub path: &'a str,
    pub size: u64,
    pub modified: Option<chrono::DateTime<chrono::Utc>>,
}

/// Whether this exact listed file (same source, path, size and time) was already dealt with for good:
/// loaded, a duplicate of loaded content, or rejected. Failed attempts are tried again.
pub async fn remote_done(db: &impl GenericClient, id: &RemoteIdentity<'_>) -> Result<bool> {
    let row = db
        .query_opt(
            "SELECT status FROM remote_file
             WHERE source = $1 AND path = $2 AND size_bytes = $3 AND modified_at IS NOT DISTINCT FROM $4",
            &[&id.source, &id.path, &(id.size as i64), &id.modified],
        )
        .await?;
    match row {
        Some(r) => Ok(RemoteFileStatus::parse(r.get(0))?.is_done()),
        None => Ok(false),
    }
}

/// Register a listed file as discovered by `run`, unless it is already known (its status is then kept, and
/// the run that listed it again noted). Returns whether the row is new.
pub async fn remote_discovered(db: &impl GenericClient, id: &RemoteIdentity<'_>, run: Option<&str>) -> Result<bool> {
    let inserted: bool = db
        .query_one(
            "INSERT INTO remote_file (source, path, size_bytes, modified_at, status, attempts, changed, run_id)
             VALUES ($1, $2, $3, $4, 'discovered', 0,
                     EXISTS (SELECT 1 FROM remote_file r WHERE r.source = $1 AND r.path = $2
                               AND (r.size_bytes <> $3 OR r.modified_at IS DISTINCT FROM $4)), $5)
             ON CONFLICT (source, path, size_bytes, modified_at) DO UPDATE SET run_id = coalesce($5, remote_file.run_id)
             RETURNING xmax = 0",
            &[&id.source, &id.path, &(id.size as i64), &id.modified, &run],
        )
        .await?
        .get(0);
    Ok(inserted)
}

/// A listed file of a run that has no outcome yet (still `discovered`: no ingest answered) or failed.
#[derive(Debug, Clone)]
pub struct Unfinished {
    pub source: String,
    pub path: String,
    pub size: u64,
    pub modified: Option<chrono::DateTime<chrono::Utc>>,
    pub raw_key: Option<String>,
    /// What went wrong, when an attempt said.
    pub error: Option<String>,
}

/// A run's rejected files (path and first reason), at most `limit`.
pub async fn run_rejections(db: &impl GenericClient, run: &str, limit: i64) -> Result<Vec<(String, String)>> {
    Ok(db
        .query(
            "SELECT path, coalesce(error, 'rejected') FROM remote_file WHERE run_id = $1 AND status = 'rejected'
              ORDER BY remote_file_id LIMIT $2",
            &[&run, &limit],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// Staged files (id and name) not loaded yet (a load that never ran or failed), oldest first.
pub async fn staged_files(db: &impl GenericClient) -> Result<Vec<(i64, String)>> {
    let rows =
        db.query("SELECT file_id, file_name FROM statement_file WHERE status = 'staged' ORDER BY file_id", &[]).await?;
    Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// How the files a run listed came out, by `remote_file` status (`loaded`, `staged`, `duplicate`,
/// `rejected`, `failed`, `discovered`), and the unfinished ones.
pub async fn run_outcomes(
    db: &impl GenericClient,
    run: &str,
) -> Result<(Vec<(RemoteFileStatus, i64)>, Vec<Unfinished>)> {
    let counts = db
        .query("SELECT status, count(*) FROM remote_file WHERE run_id = $1 GROUP BY status ORDER BY status", &[&run])
        .await?
        .iter()
        .map(|r| Ok((RemoteFileStatus::parse(r.get(0))?, r.get(1))))
        .collect::<Result<_>>()?;
    let unfinished = db
        .query(
            "SELECT source, path, size_bytes, modified_at, raw_key, error FROM remote_file
              WHERE run_id = $1 AND status IN ('discovered', 'failed') ORDER BY remote_file_id",
            &[&run],
        )
        .await?
        .iter()
        .map(|r| Unfinished {
            source: r.get(0),
            path: r.get(1),
            size: r.get::<_, i64>(2) as u64,
            modified: r.get(3),
            raw_key: r.get(4),
            error: r.get(5),
        })
        .collect();
    Ok((counts, unfinished))
}

/// Files staged by an ingest and not loaded yet (a load that never ran or failed), oldest first.
pub async fn staged_file_ids(db: &impl GenericClient) -> Result<Vec<i64>> {
    let rows = db.query("SELECT file_id FROM statement_file WHERE status = 'staged' ORDER BY file_id", &[]).await?;
    Ok(rows.into_iter().map(|r| r.get(0)).collect())
}

/// Record what came of a listed file. The same path seen before with another size or time is flagged
/// `changed`.
#[allow(clippy::too_many_arguments)]
pub async fn remote_record(
    db: &impl GenericClient,
    id: &RemoteIdentity<'_>,
    status: RemoteFileStatus,
    sha256: Option<&str>,
    file_id: Option<i64>,
    raw_key: Option<&str>,
    error: Option<&str>,
) -> Result<()> {
    db.execute(
        "INSERT INTO remote_file (source, path, size_bytes, modified_at, status, sha256, file_id, raw_key, error, changed)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
                 EXISTS (SELECT 1 FROM remote_file r WHERE r.source = $1 AND r.path = $2
                           AND (r.size_bytes <> $3 OR r.modified_at IS DISTINCT FROM $4)))
         ON CONFLICT (source, path, size_bytes, modified_at) DO UPDATE
            SET status = EXCLUDED.status, sha256 = EXCLUDED.sha256, file_id = EXCLUDED.file_id,
                raw_key = coalesce(EXCLUDED.raw_key, remote_file.raw_key), error = EXCLUDED.error,
                attempts = remote_file.attempts + 1, updated_at = now()",
        &[&id.source, &id.path, &(id.size as i64), &id.modified, &status.as_str(), &sha256, &file_id, &raw_key, &error],
    )
    .await?;
    Ok(())
}

/// Take the run lease for `holder` for `seconds` (see V18): `Ok(None)` when taken, else who holds it and since
/// when. An expired lease (its run ended without giving it back: failed, timed out) is taken over.
pub async fn acquire_run_lease(
    db: &impl GenericClient,
    holder: &str,
    seconds: i64,
) -> Result<Option<(String, chrono::DateTime<chrono::Utc>)>> {
    let taken = db
        .query_opt(
            "INSERT INTO run_lease (name, holder, acquired_at, expires_at)
             VALUES ('run', $1, now(), now() + make_interval(secs => $2))
             ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, acquired_at = now(),
                    expires_at = EXCLUDED.expires_at
              WHERE run_lease.expires_at < now()
             RETURNING holder",
            &[&holder, &(seconds as f64)],
        )
        .await?;
    if taken.is_some() {
        return Ok(None);
    }
    let row = db.query_one("SELECT holder, acquired_at FROM run_lease WHERE name = 'run'", &[]).await?;
    Ok(Some((row.get(0), row.get(1))))
}

/// Give the run lease back (only its holder can). Returns whether it was held by `holder`.
pub async fn release_run_lease(db: &impl GenericClient, holder: &str) -> Result<bool> {
    Ok(db.execute("DELETE FROM run_lease WHERE name = 'run' AND holder = $1", &[&holder]).await? == 1)
}

/// Files sent back to `received` whose remote copy says they were staged or whose staging was lost: to be
/// staged again from their copy (`remote::restage`). Oldest first.
pub async fn files_to_restage(db: &impl GenericClient) -> Result<Vec<i64>> {
    Ok(db
        .query(
            "SELECT DISTINCT f.file_id FROM statement_file f JOIN remote_file r USING (file_id)
              WHERE f.status = 'received' AND r.status IN ('staged', 'failed') ORDER BY f.file_id",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}
