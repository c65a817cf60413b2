//! Stone conciliation XML 2.x (issue 20, item 2) on the derived layout-2.4 sample in `../shared/fixtures/stone`
//! (no real file is public): what it holds in the facts, both spellings and empty elements tolerated,
//! problems named by line and element, and its day reconciled.

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

const SAMPLE: &str = "stone/Roberio1210__santa-monica-os__stone_layout24_derived_sample.xml";

fn parse(text: &str) -> (syncrocardpay_core::formats::StatementSummary, Vec<Record>) {
    let mut records = Vec::new();
    let s = read_statement(text.as_bytes(), "stone.xml", &mut |r| {
        records.push(r);
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    (s, records)
}

#[test]
fn the_sample_reads_with_its_sales_settlements_adjustments_and_deposit() {
    let Some(path) = fixture(SAMPLE) else { return };
    let text = std::fs::read_to_string(path).unwrap();
    let (s, records) = parse(&text);
    assert!(s.is_valid(), "{:#?}", s.errors);
    assert_eq!((s.acquirer.map(|a| a.code()), s.merchant_code.as_deref()), (Some("stone"), Some("900000001")));
    assert_eq!((s.layout_version.as_deref(), s.period_start), (Some("2.4"), Some(day(22, 7, 2026))));
    assert_eq!(s.record_counts.get("ignored <WalletPosition>"), Some(&1), "skipped and counted");
    let txs: Vec<_> =
        records.iter().filter_map(|r| if let Record::Transaction(t) = r { Some(t) } else { None }).collect();
    let of = |posting: &str| txs.iter().filter(|t| t.posting_type_code == posting).collect::<Vec<_>>();
    let captures = of("CAPTURE");
    assert_eq!(captures.len(), 6, "an installment each: 1 + 1 + 3 + 1");
    let debit = captures.iter().find(|t| t.nsu == "NSU-ANON-0001").unwrap();
    assert_eq!(
        (debit.gross_amount, debit.net_amount, debit.fee_amount),
        (dec("100.00"), Some(dec("97.50")), Some(dec("-2.50")))
    );
    assert_eq!(
        (debit.brand_code.as_str(), debit.settlement_type_code.as_str(), debit.authorization_code.as_str()),
        ("1", "001", "AUTH0001")
    );
    assert_eq!(
        (debit.card_bin.as_str(), debit.card_last_digits.as_str(), debit.terminal.as_str()),
        ("411111", "0001", "TERM-ANON-01")
    );
    assert_eq!(debit.sale_time.map(|t| t.to_string()), Some("10:00:00".into()));
    let third: Vec<_> =
        captures.iter().filter(|t| t.nsu == "NSU-ANON-0003").map(|t| (t.installment, t.original_due_date)).collect();
    assert_eq!(third, [(1, Some(day(23, 7, 2026))), (2, Some(day(22, 8, 2026))), (3, Some(day(22, 9, 2026)))]);
    // Cancelled the same day: its net is not a 100 % fee.
    let cancelled = captures.iter().find(|t| t.nsu == "NSU-ANON-0004").unwrap();
    assert_eq!((cancelled.net_amount, cancelled.fee_amount), (Some(dec("50.00")), Some(dec("0.00"))));
    let cancellation = &of("CANCELLATION")[0];
    assert_eq!((cancellation.gross_amount, cancellation.original_sale_code.as_str()), (dec("-50.00"), "NSU-ANON-0004"));
    let chargeback = &of("CHARGEBACK")[0];
    assert_eq!(
        (chargeback.gross_amount, chargeback.installment, chargeback.posting_date),
        (dec("-97.00"), 2, Some(day(25, 7, 2026)))
    );
    assert_eq!(chargeback.original_due_date, Some(day(26, 7, 2026)), "charged on its ChargeDate");
    assert_eq!(chargeback.adjustment_code.as_deref(), Some("4853"));
    let refund = &of("CHARGEBACK_REFUND")[0];
    assert_eq!((refund.gross_amount, refund.original_due_date), (dec("97.00"), Some(day(29, 7, 2026))));
    let event = &of("EV10")[0];
    assert_eq!((event.gross_amount, event.adjustment_reason.as_str()), (dec("97.50"), "Liquidação"));
    // The anticipated settlement: 95.50 paid for the 97.00 scheduled, 1.50 its cost.
    let units: Vec<_> =
        records.iter().filter_map(|r| if let Record::ReceivableUnit(u) = r { Some(u) } else { None }).collect();
    let paid = units.iter().find(|u| u.payment_status_code == "PAID").unwrap();
    assert_eq!(
        (paid.posting_type_code.as_str(), paid.gross_amount, paid.net_amount, paid.fee_amount),
        ("ANTICIPATION", dec("97.00"), dec("95.50"), dec("-1.50"))
    );
    assert_eq!(
        (paid.payment_date, paid.original_due_date, paid.credit_document.as_str()),
        (Some(day(23, 7, 2026)), Some(day(22, 8, 2026)), "PAY-ANON-01")
    );
    let credit =
        records.iter().find_map(|r| if let Record::NegotiationCredit(c) = r { Some(c) } else { None }).unwrap();
    assert_eq!(
        (
            credit.bank_code.as_str(),
            credit.branch_code.as_str(),
            credit.account_number.as_str(),
            credit.deposited_amount
        ),
        ("0341", "0001", "999999", dec("397.50")),
        "the day's deposit"
    );
}

#[test]
fn both_spellings_empty_elements_and_unknown_ones_are_tolerated_and_problems_named() {
    let Some(path) = fixture(SAMPLE) else { return };
    let text = std::fs::read_to_string(path).unwrap();
    // The other spelling of the events' accounts, an empty net, an element nobody documents.
    let tolerant = text
        .replace("</FinancialTransactionsAccounts>", "</FinancialTransactionsAccounts><FinancialEventsAccounts><Event><EventId>1</EventId><Type>-22</Type><Amount>-10.00</Amount></Event></FinancialEventsAccounts>")
        .replacen("<NetAmount>97.50</NetAmount>", "<NetAmount />", 1)
        .replacen("<EntryMode>1</EntryMode>", "<EntryMode>1</EntryMode><SomethingNew>x</SomethingNew>", 1);
    let (s, records) = parse(&tolerant);
    assert!(s.is_valid(), "{:#?}", s.errors);
    let t = records.iter().find_map(|r| match r {
        Record::Transaction(t) if t.nsu == "NSU-ANON-0001" => Some(t),
        _ => None,
    });
    assert_eq!(t.unwrap().net_amount, Some(dec("97.50")), "an empty net is the gross less the MDR (100.00 − 2.50)");
    let case = |from: &str, to: &str| {
        assert!(text.contains(from), "{from}");
        let (s, _) = parse(&text.replacen(from, to, 1));
        assert!(!s.is_valid(), "{to} loaded");
        s.errors[0].clone()
    };
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() as u64 + 1;
    let e = case("<GrossAmount>200.00</GrossAmount>", "<GrossAmount>2OO.00</GrossAmount>");
    let at = line_of("<GrossAmount>200.00</GrossAmount>");
    assert_eq!((e.line, e.field.as_str()), (at, "FinancialTransactions.Transaction.Installment.GrossAmount"), "{e}");
    let e = case("<PaymentDate>20260723</PaymentDate>", "<PaymentDate>20260732</PaymentDate>");
    assert!(e.field.ends_with("Installment.PaymentDate") && e.reason.contains("20260732"), "{e}");
    let e = case("<StoneCode>900000001</StoneCode>", "<StoneCode>STONE</StoneCode>");
    assert_eq!((e.line, e.field.as_str()), (line_of("<StoneCode>"), "Header.StoneCode"), "{e}");
    let e = case("</Transaction>", "</Transactio>");
    assert_eq!(e.field, "xml", "{e}");
    let e = case("<AuthorizationCurrencyCode>986", "<AuthorizationCurrencyCode>840");
    assert!(e.field.ends_with("AuthorizationCurrencyCode") && e.reason.contains("only reais"), "{e}");
}

#[tokio::test]
async fn the_day_loads_and_reconciles_with_its_deposit_for_the_bank() {
    use syncrocardpay_core::db::recon;
    use syncrocardpay_core::reconcile::{Scope, Settings, Status};
    let Some(path) = fixture(SAMPLE) else { return };
    let mut db = TestDb::new("stone").await;
    let r = ingest_file(&mut db.client, &path, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(r.outcome, Outcome::Loaded, "{:?}", r.summary.map(|s| s.errors));
    assert_eq!(
        db.count("SELECT count(*) FROM statement_anomaly WHERE kind = 'unknown_code'").await,
        0,
        "every code known"
    );
    let scope = Scope { from: day(1, 7, 2026), to: day(30, 9, 2026), merchant: None };
    let settings = Settings::new(day(22, 7, 2026));
    let run = recon::run(&mut db.client, &scope, &settings).await.unwrap();
    let items = recon::items(&db.client, run.run_id).await.unwrap();
    let settled = recon::links(&db.client, run.run_id).await.unwrap();
    // The anticipated installment: paid as scheduled, its cost an adjustment.
    let paid: Vec<_> = settled.iter().filter(|s| s.status == Status::Paid).map(|s| (s.ref_date, s.actual)).collect();
    assert_eq!(paid, [(day(23, 7, 2026), Some(dec("97.00")))], "{items:#?}");
    let anticipation: Vec<_> = items.iter().filter(|i| i.status == Status::Anticipation).map(|i| i.actual).collect();
    assert_eq!(anticipation, [Some(dec("-1.50"))]);
    // The chargeback names a sale in the file: listed with it, not flagged; so is the cancellation.
    let of = |s: Status| items.iter().filter(|i| i.status == s).count();
    assert_eq!((of(Status::Chargeback), of(Status::UnexplainedChargeback)), (2, 0), "the chargeback and its refund");
    assert_eq!((of(Status::Cancellation), of(Status::UnexplainedCancellation)), (1, 0));
    // The day's deposit is a payment the bank area looks for.
    let inputs = recon::inputs(&db.client, &scope, &settings).await.unwrap();
    let deposits: Vec<_> =
        inputs.bank.payments.iter().map(|p| (p.acquirer.as_str(), p.date, p.amount, p.account.clone())).collect();
    assert_eq!(deposits, [("stone", day(22, 7, 2026), dec("397.50"), ("341".to_string(), "999999".to_string()))]);
}

/// The generator's Stone files round-trip: generated → loaded → reconciled, with the known answer — every
/// capture loaded with its amount, every installment due within the sample paid as forecast, nothing else
/// flagged, every day's deposit credited in the bank statement the bank sample writes for them.
#[tokio::test]
async fn the_sample_round_trips_every_installment_paid_and_every_deposit_credited() {
    use syncrocardpay_core::formats::bank::sample::AcquirerSampleSpec;
    use syncrocardpay_core::formats::stone::sample;
    let spec =
        AcquirerSampleSpec { seed: 5, sales: 40, first: day(1, 9, 2026), days: 3, settle_until: day(30, 10, 2026) };
    let s = common::roundtrip::known_answers("stonesample", sample::write, &spec, day(1, 8, 2026)).await;
    assert_eq!(s.sales, 40);
    assert!(s.settled > 0 && s.settled < s.installments && !s.deposits.is_empty(), "{s:?}");
}

/// Stone's products (the card's account type with the sale's installment type) are the ones V34 seeds, and
/// a debit sale and a credit sale at once are different products: no contract prices them alike.
#[test]
fn the_products_are_the_databases_and_tell_debit_from_credit_at_once() {
    use syncrocardpay_core::formats::stone::{product, PRODUCTS};
    let sql = include_str!("../migrations/V34__stone_products.sql");
    for (code, name) in PRODUCTS {
        assert!(sql.contains(&format!("(5, '{code}', '{name}')")), "{code}");
    }
    assert_eq!(sql.matches("(5, '").count(), PRODUCTS.len());
    assert_ne!(product("1", "1"), product("2", "1"));
    assert!(PRODUCTS.iter().any(|p| p.0 == product("1", "1")) && PRODUCTS.iter().any(|p| p.0 == product("2", "1")));
}
