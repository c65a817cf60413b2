//! The round trip of a generated sample: its files loaded, the period reconciled, the answer in the figures a
//! known-answer test compares (installments paid, receivable items that are neither paid nor pending, bank
//! items).

use super::db::TestDb;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use syncrocardpay_core::db::recon;
use syncrocardpay_core::formats::bank::sample::{self as bank_sample, AcquirerSample, AcquirerSampleSpec};
use syncrocardpay_core::pipeline::{ingest_file, IngestMode, Outcome};
use syncrocardpay_core::reconcile::{Area, ReconItem, Scope, Settings};

pub struct RoundTrip {
    /// Installments paid (links and items alike).
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
    let settled = recon::links(&db.client, run.run_id).await.unwrap();
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

/// An acquirer's sample (PagBank's, Stone's) against its known answer: written twice byte for byte the same,
/// loaded with the bank statement of its deposits, reconciled from `from` to the spec's `settle_until` — the
/// sales' totals loaded, every installment settled in the sample `paid`, no other receivable item flagged,
/// every deposit `deposited`. Returns the sample for the caller's own checks.
pub async fn known_answers(
    label: &str,
    write: fn(&Path, &AcquirerSampleSpec) -> std::io::Result<AcquirerSample>,
    spec: &AcquirerSampleSpec,
    from: NaiveDate,
) -> AcquirerSample {
    let dir = tempfile::tempdir().unwrap();
    let s = write(dir.path(), spec).unwrap();
    let again = tempfile::tempdir().unwrap();
    for (a, b) in s.files.iter().zip(&write(again.path(), spec).unwrap().files) {
        assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap(), "the same seed, the same bytes");
    }
    let bank = bank_sample::write(&dir.path().join("bank"), &s.deposits, false).unwrap();
    let mut db = TestDb::new(label).await;
    let files: Vec<_> = s.files.iter().chain(&bank.files).cloned().collect();
    let r = load_and_reconcile(&mut db, &files, from, spec.settle_until).await;
    let sold: Decimal = db
        .client
        .query_one("SELECT sum(sale_total_amount) FROM fact_card_transaction WHERE installment <= 1", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(sold, s.gross);
    assert_eq!(r.paid, s.settled);
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    assert_eq!(r.bank.len(), s.deposits.len(), "{:#?}", r.bank);
    assert!(r.bank.iter().all(|i| i.status.as_str() == "deposited"), "{:#?}", r.bank);
    s
}
