//! A loaded file taken out (`unload`): its facts removed from every fact table, its control row kept.

use super::*;

/// What withdrawing a file did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Withdrawn {
    pub file_id: i64,
    pub file_name: String,
    /// Its status before: `loaded`, or `staged` (nothing in the facts yet).
    pub was: FileStatus,
    /// Fact rows removed, per record kind.
    pub facts: LoadCounts,
    /// Earlier files whose facts this one had replaced (re-sent or restated statements): their facts are not
    /// brought back; ingest them again to have them.
    pub had_replaced: Vec<(i64, String)>,
}

/// Withdraw a loaded (or staged) file, named by its id or its content's sha256, in one transaction: its facts
/// removed from every fact table, its staging forgotten, its control row kept as `withdrawn`, the withdrawal
/// logged as a delivery and the file queued for reconciliation (`recon_pending`: the scopes it touched are
/// reconciled again by the next drain). Refused, saying why, for a file that is not loaded or staged.
pub async fn withdraw(db: &mut tokio_postgres::Client, file: &str) -> Result<Withdrawn> {
    let tx = db.transaction().await?;
    let row = match file.parse::<i64>() {
        Ok(id) if file.len() < 20 => {
            tx.query_opt("SELECT file_id, file_name, status FROM statement_file WHERE file_id = $1 FOR UPDATE", &[&id])
                .await?
        }
        _ => {
            tx.query_opt(
                "SELECT file_id, file_name, status FROM statement_file WHERE sha256 = lower($1) FOR UPDATE",
                &[&file],
            )
            .await?
        }
    };
    let Some(row) = row else {
        return Err(Error::NotConfigured(format!(
            "no statement file {} (a file id, or the sha256 of its content)",
            crate::formats::field::escaped_line(file.as_bytes())
        )));
    };
    let (file_id, file_name): (i64, String) = (row.get(0), row.get::<_, Option<String>>(1).unwrap_or_default());
    let was = FileStatus::parse(row.get(2))?;
    if !matches!(was, FileStatus::Loaded | FileStatus::Staged) {
        return Err(Error::NotConfigured(format!(
            "file {file_id} ({}) is {}: only a loaded or staged file can be withdrawn",
            crate::formats::field::escaped_line(file_name.as_bytes()),
            was.as_str()
        )));
    }
    let mut removed = Vec::with_capacity(FACT_LOADS.len());
    for l in FACT_LOADS {
        // Table names are this file's constants, never input; the bulk kinds' tables, attached or not.
        let table = match l.from {
            Staged::Bulk => format!("{}_all", l.table),
            Staged::Record { .. } => l.table.to_string(),
        };
        removed
            .push((l.kind, tx.execute(&format!("DELETE FROM {table} WHERE file_id = $1"), &[&file_id]).await? as i64));
    }
    // A bank statement's facts (V27).
    let bank_entries = tx.execute("DELETE FROM fact_bank_entry WHERE file_id = $1", &[&file_id]).await?;
    tx.execute("DELETE FROM fact_bank_statement WHERE file_id = $1", &[&file_id]).await?;
    clear_staging(&tx, file_id).await?;
    let had_replaced = tx
        .query(
            "SELECT file_id, coalesce(file_name, '') FROM statement_file WHERE superseded_by = $1
             UNION
             SELECT DISTINCT e.file_id, coalesce(e.file_name, '') FROM statement_anomaly a
               JOIN statement_file e ON a.found LIKE '% live from file ' || e.file_id || ' (%'
              WHERE a.file_id = $1 AND a.kind = 'restates_earlier_facts'
             ORDER BY 1",
            &[&file_id],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    tx.execute(
        "UPDATE statement_file SET status = 'withdrawn', withdrawn_at = now(), updated_at = now() WHERE file_id = $1",
        &[&file_id],
    )
    .await?;
    record_delivery(&tx, file_id, &file_name, "unload", "withdrawn", Some(&format!("was {}", was.as_str()))).await?;
    if was == FileStatus::Loaded {
        tx.execute("INSERT INTO recon_pending (file_id) VALUES ($1) ON CONFLICT DO NOTHING", &[&file_id]).await?;
    }
    tx.commit().await?;
    let facts = LoadCounts { bank_entries, ..LoadCounts::of_counts(&removed) };
    Ok(Withdrawn { file_id, file_name, was, facts, had_replaced })
}
