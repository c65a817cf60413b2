//! PagBank EDI v3.00 JSON (issue 20, item 3) on PagBank's official test-scenario responses in
//! `../shared/fixtures/pagbank`: each reads with its amounts, loads into the same facts as the other acquirers,
//! and the transactional forecast meets the financial settlement in the reconciliation.

use crate::common;

use common::db::TestDb;
use common::fixtures::fixture;
use rust_decimal::Decimal;
use std::str::FromStr;
use syncrocardpay_core::formats::read_statement;
use syncrocardpay_core::model::Record;
use syncrocardpay_core::pipeline::{ingest_file, IngestMode, Outcome};

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn day(d: u32, m: u32, y: i32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn parse_bytes(bytes: &[u8]) -> (syncrocardpay_core::formats::StatementSummary, Vec<Record>) {
    let mut records = Vec::new();
    let s = read_statement(bytes, "pagbank.json", &mut |r| {
        records.push(r);
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    (s, records)
}

const SCENARIOS: [&str; 4] = [
    "pagbank/emerson-matos__emerbot__pagbank_credit-installments_transactional.json",
    "pagbank/emerson-matos__emerbot__pagbank_credit-installments_financial.json",
    "pagbank/emerson-matos__emerbot__pagbank_debit_transactional.json",
    "pagbank/emerson-matos__emerbot__pagbank_debit_financial.json",
];

#[test]
fn the_four_official_scenarios_read_with_their_amounts() {
    let mut read = Vec::new();
    for name in SCENARIOS {
        let Some(path) = fixture(name) else { return };
        let (s, records) = parse_bytes(&std::fs::read(path).unwrap());
        assert!(s.is_valid(), "{name}: {:#?}", s.errors);
        assert_eq!(s.acquirer.map(|a| a.code()), Some("pagbank"));
        read.push((s, records));
    }
    // Credit in 3 installments, Visa, e-commerce: 300.00 less 8.97 and 2.00; installment 1 nets 96.34.
    let (s, records) = &read[0];
    assert_eq!((s.merchant_code.as_deref(), s.period_start), (Some("128523125"), Some(day(9, 4, 2024))));
    assert_eq!(s.file_type.as_ref().map(|t| t.code.as_str()), Some("PAGBANK-T"));
    let t = records.iter().find_map(|r| if let Record::Transaction(t) = r { Some(t) } else { None }).unwrap();
    assert_eq!(
        (t.sale_total_amount, t.gross_amount, t.net_amount, t.fee_amount),
        (dec("300.00"), dec("100.00"), Some(dec("96.34")), Some(dec("-3.66")))
    );
    assert_eq!(
        (t.installment, t.installment_count, t.brand_code.as_str(), t.settlement_type_code.as_str()),
        (1, 3, "VISA", "002")
    );
    assert_eq!(
        (t.nsu.as_str(), t.authorization_code.as_str(), t.card_bin.as_str(), t.card_last_digits.as_str()),
        ("410021514006", "180442", "411111", "1111")
    );
    assert_eq!((t.authorization_date, t.tid.as_str()), (Some(day(9, 4, 2024)), "7F7937DD531D4D91B776BBD64C9749C9"));
    let u = records.iter().find_map(|r| if let Record::ReceivableUnit(u) = r { Some(u) } else { None }).unwrap();
    assert_eq!(
        (u.payment_date, u.net_amount, u.payment_status_code.as_str()),
        (Some(day(9, 5, 2024)), dec("96.34"), "1")
    );
    assert_eq!(u.ur_key, "B140EE618E6E4428852EE4B474D05DB0");
    // Its settlement on 2024-05-09: the same transaction and installment, status 3.
    let (s, records) = &read[1];
    assert_eq!(s.file_type.as_ref().map(|t| (t.code.as_str(), t.kind)), Some(("PAGBANK-F", "payments")));
    let u = records.iter().find_map(|r| if let Record::ReceivableUnit(u) = r { Some(u) } else { None }).unwrap();
    assert_eq!(
        (u.ur_key.as_str(), u.installment, u.payment_date, u.net_amount),
        ("B140EE618E6E4428852EE4B474D05DB0", 1, Some(day(9, 5, 2024)), dec("96.34"))
    );
    assert_eq!(u.payment_status_code, "3");
    // Debit, Banricompras: 100.00 less 1.55, settled the same day.
    let (_, records) = &read[2];
    let t = records.iter().find_map(|r| if let Record::Transaction(t) = r { Some(t) } else { None }).unwrap();
    assert_eq!(
        (t.gross_amount, t.net_amount, t.installment_count, t.brand_code.as_str(), t.settlement_type_code.as_str()),
        (dec("100.00"), Some(dec("98.45")), 0, "BANRICOMPRAS", "001")
    );
    assert_eq!((t.terminal.as_str(), t.capture_type.as_str()), ("", "MP"));
}

#[test]
fn what_cannot_be_read_is_rejected_naming_the_record_and_field() {
    let Some(path) = fixture(SCENARIOS[0]) else { return };
    let text = std::fs::read_to_string(path).unwrap();
    let case = |from: &str, to: &str| {
        assert!(text.contains(from), "{from}");
        let (s, _) = parse_bytes(text.replacen(from, to, 1).as_bytes());
        assert!(!s.is_valid(), "{to} loaded");
        s.errors[0].clone()
    };
    let e = case("\"valor_parcela\": 96.34", "\"valor_parcela\": 96.345");
    assert_eq!((e.line, e.field.as_str()), (3, "detalhes[0].valor_parcela"), "the line its record starts on: {e}");
    let e = case("\"data_prevista_pagamento\": \"2024-05-09\"", "\"data_prevista_pagamento\": \"2024-05-32\"");
    assert_eq!(e.field, "detalhes[0].data_prevista_pagamento", "{e}");
    let e = case("\"valor_liquido_transacao\": 289.03", "\"valor_liquido_transacao\": 289.13");
    assert!(e.field == "detalhes[0].valor_liquido_transacao" && e.reason.contains("less the fees 10.97"), "{e}");
    let e = case("\"codigo_transacao\": \"B140EE618E6E4428852EE4B474D05DB0\",", "");
    assert_eq!(e.field, "detalhes[0].codigo_transacao", "{e}");
    let e = case("\"page\": 1", "\"page\": 0");
    assert!(e.field == "pagination.page" && e.reason.contains("page 0 of 1"), "{e}");
    let e = case("\"tipo_evento\": \"1\",", "\"tipo_evento\": \"1\",,");
    assert_eq!(e.field, "json", "{e}");
}

#[tokio::test]
async fn a_day_forecast_in_the_transactional_movement_is_settled_by_the_financial_one() {
    use syncrocardpay_core::db::recon;
    use syncrocardpay_core::reconcile::{Scope, Settings, Status};
    let mut paths = Vec::new();
    for name in SCENARIOS {
        let Some(p) = fixture(name) else { return };
        paths.push(p);
    }
    let mut db = TestDb::new("pagbank").await;
    for p in &paths {
        let r = ingest_file(&mut db.client, p, "test", IngestMode::StageAndLoad).await.unwrap();
        assert_eq!(r.outcome, Outcome::Loaded, "{}: {:?}", p.display(), r.summary.map(|s| s.errors));
    }
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await, 2);
    assert_eq!(
        db.count("SELECT count(*) FROM statement_anomaly WHERE kind = 'unknown_code'").await,
        0,
        "every code known"
    );
    let scope = Scope { from: day(1, 4, 2024), to: day(31, 7, 2024), merchant: None };
    let run = recon::run(&mut db.client, &scope, &Settings::new(day(31, 7, 2024))).await.unwrap();
    let settled = recon::links(&db.client, run.run_id).await.unwrap();
    let paid: Vec<_> = settled.iter().filter(|s| s.status == Status::Paid).map(|s| (s.ref_date, s.actual)).collect();
    assert_eq!(paid, [(day(9, 5, 2024), Some(dec("96.34"))), (day(29, 7, 2024), Some(dec("98.45")))], "{run:#?}");
    let items = recon::items(&db.client, run.run_id).await.unwrap();
    assert!(items.iter().all(|i| i.area.as_str() != "receivables"), "nothing else in receivables: {items:#?}");
}

#[test]
fn the_payment_means_are_the_databases() {
    let sql = include_str!("../migrations/V32__pagbank.sql");
    for (code, name, _) in syncrocardpay_core::formats::pagbank::PAYMENT_MEANS {
        assert!(sql.contains(&format!("(4, '{code}', '{name}')")), "{code}");
    }
}

/// The generator's PagBank files round-trip: generated → loaded → reconciled, with the known answer — every
/// sale loaded with its total, every installment due within the sample paid as forecast, every other one
/// still to come, and every cashout deposited in the bank statement the bank sample writes for them.
#[tokio::test]
async fn the_sample_round_trips_every_installment_paid_and_every_cashout_deposited() {
    use syncrocardpay_core::formats::bank::sample::AcquirerSampleSpec;
    use syncrocardpay_core::formats::pagbank::sample;
    let spec =
        AcquirerSampleSpec { seed: 7, sales: 40, first: day(1, 9, 2026), days: 3, settle_until: day(30, 10, 2026) };
    let s = common::roundtrip::known_answers("pagbanksample", sample::write, &spec, day(1, 8, 2026)).await;
    assert_eq!(
        (s.sales, s.files.len()),
        (40, 3 + s.deposits.len()),
        "a transactional file per day, a financial per settlement day"
    );
    assert!(s.settled > 0 && s.settled < s.installments, "{s:?}");
}

/// `sample --pagbank-sales --stone-sales` writes PagBank's and Stone's files beside Cielo's, over the same
/// days, and `run` loads them all: nothing rejected, every sample sale of each acquirer loaded.
#[tokio::test]
async fn sample_with_pagbank_sales_loads_with_the_rest_in_one_run() {
    let db = TestDb::new("pagbankrun").await;
    let dir = tempfile::tempdir().unwrap();
    let bin = || std::process::Command::new(env!("CARGO_BIN_EXE_syncrocardpay"));
    let out = bin()
        .args(["sample", "--transactions", "60", "--merchants", "1", "--pagbank-sales", "25", "--stone-sales", "20"])
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pagbank: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("pagbank-"))
        .collect();
    assert!(pagbank.len() >= 4, "{pagbank:?}");
    let out = bin().args(["run", "--quiet", "--inbox"]).arg(dir.path()).env("DATABASE_URL", &db.url).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains(" 0 rejected, 0 failed"), "{text}");
    let loaded = db.count("SELECT count(*) FROM statement_file WHERE acquirer = 'pagbank' AND status = 'loaded'").await;
    assert_eq!(loaded as usize, pagbank.len());
    let sales = |acquirer: &str| {
        format!(
            "SELECT count(DISTINCT t.nsu) FROM fact_card_transaction t JOIN statement_file f USING (file_id)
              WHERE f.acquirer = '{acquirer}'"
        )
    };
    assert_eq!(db.count(&sales("pagbank")).await, 25);
    assert_eq!(db.count(&sales("stone")).await, 20, "the Stone files load in the same run");
    let stone = db.count("SELECT count(*) FROM statement_file WHERE acquirer = 'stone' AND status = 'loaded'").await;
    assert!(stone >= 3, "{stone}");
}
