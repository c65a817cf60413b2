//! The round trip of a generated sample: its files loaded, the period reconciled, the answer in the figures a
//! known-answer test compares (installments paid, receivable items that are neither paid nor pending, bank
//! items).

use super::db::TestDb;
use chrono::NaiveDate;
use std::path::PathBuf;
use syncrocardpay_core::db::recon;
use syncrocardpay_core::pipeline::{ingest_file, IngestMode, Outcome};
use syncrocardpay_core::reconcile::{Area, ReconItem, Scope, Settings};

pub struct RoundTrip {
    /// Installments paid (settled links and items alike).
    pub paid: usize,
    /// Receivable items neither paid nor pending.
    pub problems: Vec<ReconItem>,
    pub bank: Vec<ReconItem>,
}

/// Load every file (each must load), reconcile `from..=to` as of `to`.
pub async fn load_and_reconcile(db: &mut TestDb, files: &[PathBuf], from: NaiveDate, to: NaiveDate) -> RoundTrip {
    for path in files {
        let r = ingest_file(&mut db.client, path, "test", IngestMode::StageAndLoad).await.unwrap();
        assert_eq!(r.outcome, Outcome::Loaded, "{}: {:?}", path.display(), r.summary.map(|s| s.errors));
    }
    let scope = Scope { from, to, merchant: None };
    let run = recon::run(&mut db.client, &scope, &Settings::new(to)).await.unwrap();
    let items = recon::items(&db.client, run.run_id).await.unwrap();
    let settled = recon::settled(&db.client, run.run_id).await.unwrap();
    let is_paid = |s: &str| s == "paid";
    let paid = settled.iter().filter(|i| is_paid(i.status.as_str())).count()
        + items.iter().filter(|i| i.area == Area::Receivables && is_paid(i.status.as_str())).count();
    let problems = items
        .iter()
        .filter(|i| i.area == Area::Receivables && !["paid", "pending"].contains(&i.status.as_str()))
        .cloned()
        .collect();
    let bank = items.into_iter().filter(|i| i.area == Area::Bank).collect();
    RoundTrip { paid, problems, bank }
}
