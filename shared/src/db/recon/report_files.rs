//! A scope's report written to files: the stored run over exactly that scope (or a new one when there is
//! none, or when asked to refresh), its items and figures read back, then the HTML page and/or the CSV
//! tables ([`crate::reconcile::report`] renders them; this reads what they show).

use crate::error::{Error, Result};
use crate::reconcile::report::{self, Lang, ReportData};
use crate::reconcile::{Scope, Settings};
use std::path::{Path, PathBuf};
use tokio_postgres::Client;

/// Where a report goes, and how.
#[derive(Debug, Clone, Default)]
pub struct ReportRequest<'a> {
    /// Reconcile again even if a run over the scope is stored.
    pub refresh: bool,
    pub lang: Lang,
    /// The HTML page.
    pub html: Option<&'a Path>,
    /// A folder for the CSV tables.
    pub csv: Option<&'a Path>,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct WrittenReport {
    pub run_id: i64,
    pub items: u64,
    pub open: u64,
    pub html: Option<PathBuf>,
    pub csv: Vec<PathBuf>,
}

/// Write the report of `scope` as `request` says; `today` dates a new run's default "as of".
pub async fn write_report(
    client: &mut Client,
    scope: &Scope,
    request: &ReportRequest<'_>,
    today: chrono::NaiveDate,
) -> Result<WrittenReport> {
    let stored = if request.refresh { None } else { super::find_run(client, scope).await? };
    let (run_id, settings, totals) = match stored {
        Some(found) => found,
        None => {
            let as_of = super::default_as_of(client, scope.merchant.as_deref(), today).await?;
            let r = super::run(client, scope, &Settings::new(as_of)).await?;
            (r.run_id, r.settings, r.totals)
        }
    };
    let items = super::items(client, run_id).await?;
    let received_by_day = super::expected_vs_received(client, run_id).await?;
    let anomalies = super::anomaly_count(client, scope).await?;
    let facts = super::scope_facts(client, scope).await?;
    let data = ReportData {
        run_id,
        scope,
        settings: &settings,
        totals: &totals,
        items: &items,
        received_by_day: &received_by_day,
        anomalies,
        facts: &facts,
        lang: request.lang,
        generated_at: chrono::Local::now().fixed_offset(),
    };
    if let Some(path) = request.html {
        std::fs::write(path, report::html(&data)).map_err(|e| Error::io(path, e))?;
    }
    let csv = match request.csv {
        Some(dir) => report::write_csv(dir, &data).map_err(|e| Error::io(dir, e))?,
        None => Vec::new(),
    };
    Ok(WrittenReport { run_id, items: totals.items, open: totals.open, html: request.html.map(Path::to_path_buf), csv })
}
