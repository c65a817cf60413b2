//! Getnet V10.x (issue 20, item 1) on the real V10.1 lines in `../shared/fixtures`: every field as
//! ../shared/formats/getnet.md's worked example reads it, the file loaded into the same facts as Cielo's and
//! Rede's, what it pays seen by the bank area, and what cannot be read rejected naming line, column and field.

use crate::common;

use common::db::TestDb;
use common::fixtures::fixture;
use common::statements::{lines, put, write_lines};
use rust_decimal::Decimal;
use std::str::FromStr;
use syncrocardpay_core::formats::{read_statement, AnomalyKind};
use syncrocardpay_core::model::Record;
use syncrocardpay_core::pipeline::{ingest_file, IngestMode, Outcome};

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn day(d: u32, m: u32, y: i32) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::from_ymd_opt(y, m, d)
}

/// The seven real lines (types 0, 1, 2, 3, 5, 6, 9), the trailer's count set to them (the fixture holds 7 of
/// the file's 47 records).
fn real_file(dir: &std::path::Path) -> Option<(std::path::PathBuf, Vec<Vec<u8>>)> {
    let mut all = lines(&fixture("libercapital__document-translator-go__getnet_v10.1_lines.txt")?);
    let n = all.len();
    let last = all.last_mut().unwrap();
    put(last, 2, &format!("{n:09}"));
    Some((write_lines(&dir.join("getnetextr_20240916_1013903_c101.txt"), &all), all))
}

fn parse(path: &std::path::Path) -> (syncrocardpay_core::formats::StatementSummary, Vec<Record>) {
    let mut records = Vec::new();
    let s = read_statement(std::fs::File::open(path).unwrap(), "getnet", &mut |r| {
        records.push(r);
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    (s, records)
}

#[test]
fn the_real_v10_1_lines_read_field_by_field_as_the_worked_example_says() {
    let dir = tempfile::tempdir().unwrap();
    let Some((path, _)) = real_file(dir.path()) else { return };
    let (s, records) = parse(&path);
    assert!(s.is_valid(), "{:#?}", s.errors);
    assert_eq!((s.layout_version.as_deref(), s.merchant_code.as_deref()), (Some("10.1"), Some("1013903")));
    assert_eq!((s.processing_date, s.period_start), (day(16, 9, 2024), day(16, 9, 2024)));
    assert_eq!(s.sequence.as_deref(), Some("000002516"));
    // The 401-byte header is read as its 400 and kept as an anomaly; the CV's RV is not among the 7 lines.
    let kinds: Vec<AnomalyKind> = s.anomalies.iter().map(|a| a.kind).collect();
    assert_eq!(kinds, [AnomalyKind::PaddedLine, AnomalyKind::BlankCode], "{:#?}", s.anomalies);
    let trailer = s.trailer.as_ref().unwrap();
    assert!(trailer.matches && trailer.declared.total_records == 7);

    let rv = records.iter().find_map(|r| if let Record::ReceivableUnit(u) = r { Some(u) } else { None }).unwrap();
    assert_eq!(
        (rv.merchant_code.as_str(), rv.summary_number.as_str(), rv.ur_key.as_str()),
        ("1013903", "051190405", "1013903-051190405")
    );
    assert_eq!(
        (rv.product_code.as_deref(), rv.brand_code.as_str(), rv.settlement_type_code.as_str()),
        (Some("SR"), "MASTERCARD", "001")
    );
    assert_eq!(
        (rv.transaction_type.as_str(), rv.presentation_date, rv.payment_date),
        ("MAN", day(3, 9, 2024), day(16, 9, 2024))
    );
    assert_eq!((rv.bank_code.as_str(), rv.branch_code.as_str()), ("033", "003689"));
    assert_eq!(rv.account_number, "00000000000130028767", "the account in 289-308, the short field being zeros");
    assert_eq!((rv.gross_amount, rv.fee_amount, rv.net_amount), (dec("-148.90"), dec("0"), dec("-148.90")), "sign '-'");
    assert_eq!((rv.payment_status_code.as_str(), rv.installment, rv.installment_plan.as_str()), ("LQ", 1, "01"));
    assert_eq!((rv.payment_merchant_code.as_str(), rv.negotiation_flag.as_str()), ("1013903", "CC"));

    let txs: Vec<_> =
        records.iter().filter_map(|r| if let Record::Transaction(t) = r { Some(t) } else { None }).collect();
    let cv = txs.iter().find(|t| t.posting_type_code == "CV").unwrap();
    assert_eq!((cv.summary_number.as_str(), cv.nsu.as_str()), ("000524597", "000002000098"));
    assert_eq!(
        (cv.authorization_date, cv.sale_time.map(|t| t.to_string())),
        (day(16, 8, 2024), Some("10:44:22".into()))
    );
    assert_eq!((cv.card_bin.as_str(), cv.card_last_digits.as_str()), ("650921", "1796"));
    assert_eq!(cv.sale_total_amount, dec("24142.39"), "the sale's total");
    assert_eq!(
        (cv.installment, cv.installment_count, cv.gross_amount),
        (1, 6, dec("4023.74")),
        "its first installment"
    );
    assert_eq!((cv.fee_amount, cv.net_amount), (Some(dec("-87.75")), Some(dec("3935.99"))), "the commission");
    assert_eq!((cv.original_due_date, cv.authorization_code.as_str()), (day(16, 9, 2024), "0000385282"));
    assert_eq!(
        (cv.capture_type.as_str(), cv.transaction_type.as_str(), cv.terminal.as_str()),
        ("TEF", "C", "T4502939")
    );
    assert_eq!((cv.card_origin.as_str(), cv.payment_matrix_code.as_str()), ("N", "1013903"));

    let adj = txs.iter().find(|t| t.posting_type_code == "AJ02").unwrap();
    assert_eq!(
        (adj.summary_number.as_str(), adj.posting_date, adj.original_due_date),
        ("051190405", day(3, 9, 2024), day(16, 9, 2024))
    );
    assert_eq!((adj.gross_amount, adj.net_amount), (dec("-148.90"), Some(dec("-148.90"))));
    assert_eq!((adj.adjustment_code.as_deref(), adj.adjustment_reason.as_str()), (Some("02"), "Aluguel-"));
    assert_eq!((adj.processed_transaction_code.as_str(), adj.transaction_type.as_str()), ("240903003689439", "LQ"));
    assert_eq!((adj.brand_code.as_str(), adj.product_code.as_str()), ("MASTERCARD", "SR"), "its RV's product");
    assert_eq!(adj.original_sale_code, "", "no original RV");

    let neg = records.iter().find_map(|r| if let Record::Negotiation(n) = r { Some(n) } else { None }).unwrap();
    assert_eq!((neg.negotiation_date, neg.payment_date), (day(12, 9, 2024), day(16, 9, 2024)));
    assert_eq!(
        (neg.payment_form_code.as_str(), neg.gross_amount, neg.net_amount),
        ("PG", dec("3638.19"), dec("3638.19"))
    );
    assert_eq!(neg.holder_tax_id, "10656452007001");
    let credit =
        records.iter().find_map(|r| if let Record::NegotiationCredit(c) = r { Some(c) } else { None }).unwrap();
    assert_eq!(
        (
            credit.bank_code.as_str(),
            credit.branch_code.as_str(),
            credit.account_number.as_str(),
            credit.deposited_amount
        ),
        ("033", "003689", "00000000000130028767", dec("3638.19")),
        "the day's payment: what the bank statement should show"
    );
    assert_eq!(credit.negotiation_line_no, neg.line_no);
    let ur = records.iter().find_map(|r| if let Record::NegotiatedReceivable(u) = r { Some(u) } else { None }).unwrap();
    assert_eq!(
        (ur.original_due_date, ur.net_amount, ur.brand_code.as_str()),
        (day(5, 8, 2024), dec("148.90"), "MASTERCARD")
    );
    assert_eq!(ur.negotiation_line_no, neg.line_no, "a liquidated UR goes with the day's payment");
}

#[tokio::test]
async fn a_getnet_file_loads_into_the_facts_and_its_payment_is_a_deposit_to_find() {
    let dir = tempfile::tempdir().unwrap();
    let Some((path, _)) = real_file(dir.path()) else { return };
    let mut db = TestDb::new("getnet_load").await;
    let r = ingest_file(&mut db.client, &path, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(r.outcome, Outcome::Loaded, "{:?}", r.summary.map(|s| s.errors));
    let again = ingest_file(&mut db.client, &path, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(again.outcome, Outcome::Duplicate);
    let row = db
        .client
        .query_one(
            "SELECT a.code, t.name, t.category FROM fact_card_transaction f
               JOIN dim_establishment e USING (establishment_key) JOIN dim_acquirer a USING (acquirer_key)
               JOIN dim_posting_type t USING (posting_type_key)
              WHERE f.adjustment_code = '02'",
            &[],
        )
        .await
        .unwrap();
    let (acquirer, posting, category): (String, String, String) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(
        (acquirer.as_str(), posting.as_str(), category.as_str()),
        ("getnet", "Ajuste: Aluguel de POS", "rental")
    );
    let product: String = db
        .client
        .query_one(
            "SELECT p.name FROM fact_receivable_unit u JOIN dim_product p USING (product_key) WHERE u.summary_number = '051190405'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(product, "Cartão Débito Maestro");
    assert_eq!(db.count("SELECT count(*) FROM fact_negotiation_credit").await, 1);
    // The day's payment is what the bank area looks for in the merchant's statement.
    let scope = syncrocardpay_core::reconcile::Scope {
        from: day(1, 9, 2024).unwrap(),
        to: day(30, 9, 2024).unwrap(),
        merchant: None,
    };
    let settings = syncrocardpay_core::reconcile::Settings::new(day(30, 9, 2024).unwrap());
    let inputs = syncrocardpay_core::db::recon::inputs(&db.client, &scope, &settings).await.unwrap();
    let paid: Vec<_> =
        inputs.bank.payments.iter().map(|p| (p.acquirer.as_str(), p.date, p.amount, p.account.clone())).collect();
    assert_eq!(
        paid,
        [("getnet", day(16, 9, 2024).unwrap(), dec("3638.19"), ("33".to_string(), "130028767".to_string()))]
    );
}

#[test]
fn what_cannot_be_read_is_rejected_naming_line_column_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_, all)) = real_file(dir.path()) else { return };
    let case = |name: &str, edit: &dyn Fn(&mut Vec<Vec<u8>>)| {
        let mut l = all.clone();
        edit(&mut l);
        let (s, _) = parse(&write_lines(&dir.path().join(name), &l));
        assert!(!s.is_valid(), "{name} loaded");
        s.errors[0].clone()
    };
    let e = case("count", &|l| put(l.last_mut().unwrap(), 2, "000000047"));
    assert_eq!((e.line, e.column, e.field.as_str()), (7, Some(2), "trailer.total_records"), "{e}");
    assert!(e.reason.contains("declares 47 records, the file has 7"), "{e}");
    let e = case("sign", &|l| put(&mut l[2], 172, "*"));
    assert_eq!((e.line, e.column, e.field.as_str()), (3, Some(172), "2.sign"), "{e}");
    let e = case("dollars", &|l| put(&mut l[1], 282, "840"));
    assert_eq!((e.line, e.column, e.field.as_str()), (2, Some(282), "1.currency"), "{e}");
    let e = case("net", &|l| put(&mut l[1], 97, "000000014000"));
    assert_eq!((e.line, e.column, e.field.as_str()), (2, Some(97), "1.net_amount"), "{e}");
    let e = case("beyond", &|l| l[3].extend_from_slice(b"  X"));
    assert_eq!((e.line, e.column, e.field.as_str()), (4, Some(403), "line"), "{e}");
    let e = case("short", &|l| l[2].truncate(150));
    assert_eq!((e.line, e.column, e.field.as_str()), (3, Some(151), "line"), "{e}");
    let e = case("kind", &|l| put(&mut l[4], 1, "7"));
    assert_eq!((e.line, e.column, e.field.as_str()), (5, Some(1), "record_type"), "{e}");
    let e = case("after", &|l| {
        let rv = l[1].clone();
        l.push(rv)
    });
    assert_eq!((e.line, e.field.as_str()), (8, "line"), "{e}");
    let e = case("no-trailer", &|l| {
        l.pop();
    });
    assert_eq!((e.line, e.field.as_str()), (7, "trailer"), "{e}");
    let e = case("date", &|l| put(&mut l[5], 67, "32082024"));
    assert_eq!((e.line, e.column, e.field.as_str()), (6, Some(67), "6.original_due_date"), "{e}");
    let e = case("v9", &|l| put(&mut l[0], 92, "Sant. v.9.0 400 bytes    "));
    assert_eq!((e.line, e.column, e.field.as_str()), (1, Some(92), "header.layout_version"), "{e}");
    assert!(e.reason.contains("\"9.0\"") && e.reason.contains("V10"), "{e}");
    // A Pluxee (Sodexo) file with CEADM100 at the same place is not a Getnet statement.
    let mut pluxee = all[0][..200].to_vec();
    put(&mut pluxee, 47, "12345678000199PLUXEE              ");
    let (s, _) = parse(&write_lines(&dir.path().join("pluxee"), &[pluxee]));
    assert!(!s.is_valid() && s.acquirer.is_none(), "{:?}", s.errors);
}

/// The code tables the parser reads with are the ones V31 seeds: products with their names, adjustment
/// reasons with their categories.
#[test]
fn the_parser_tables_are_the_databases() {
    use syncrocardpay_core::formats::getnet::{ADJUSTMENT_REASONS, PRODUCTS};
    let sql = include_str!("../migrations/V31__getnet.sql");
    for (code, name, _, _) in PRODUCTS {
        assert!(sql.contains(&format!("(3, '{code}', '{name}')")), "{code}");
    }
    for (code, name, category) in ADJUSTMENT_REASONS {
        assert!(sql.contains(&format!("(3, 'getnet-v10', 'AJ{code}', 'Ajuste: {name}', '{category}')")), "{code}");
    }
    assert_eq!(sql.matches("(3, 'getnet-v10', 'AJ").count(), ADJUSTMENT_REASONS.len());
}

/// Getnet's receivables (issue 20, item 5): an RV is forecast (status `PF`) in the sales movement of one day's
/// file and paid (`LQ`) in the financial movement of a later one; the two meet by EC, RV and installment. One
/// RV paid as forecast, one never paid (overdue), and the rent adjustment listed with its RV.
#[tokio::test]
async fn getnet_rvs_forecast_in_one_file_are_met_by_their_payment_in_a_later_one() {
    use syncrocardpay_core::db::recon;
    use syncrocardpay_core::reconcile::{Scope, Settings, Status};
    let dir = tempfile::tempdir().unwrap();
    let Some((_, all)) = real_file(dir.path()) else { return };
    let (header, rv, adjustment, trailer) = (&all[0], &all[1], &all[3], all.last().unwrap());
    let with_count = |mut l: Vec<Vec<u8>>| {
        let mut t = trailer.clone();
        put(&mut t, 2, &format!("{:09}", l.len() + 1));
        l.push(t);
        l
    };
    // The sales movement of 03/09: the rent RV and a card RV (Visa credit, R$ 1 000 less 25), both forecast.
    let mut forecast_header = header.clone();
    put(&mut forecast_header, 2, "03092024");
    put(&mut forecast_header, 16, "03092024");
    put(&mut forecast_header, 81, "000002503");
    let mut rent = rv.clone();
    put(&mut rent, 169, "PF");
    let mut card = rv.clone();
    put(&mut card, 17, "SV");
    put(&mut card, 22, "051190999");
    put(&mut card, 39, "10092024");
    put(&mut card, 85, "000000100000000000097500000000000000000000002500");
    put(&mut card, 145, "000000097500");
    put(&mut card, 169, "PF");
    put(&mut card, 286, "+");
    // A sale of that RV: R$ 1 000 at once, R$ 25 of commission (2.5 %).
    let mut sale = all[2].clone();
    put(&mut sale, 17, "051190999");
    put(&mut sale, 71, "000000100000");
    put(&mut sale, 107, "0101000000100000");
    put(&mut sale, 176, "000000002500");
    let first = write_lines(&dir.path().join("c101_0309.txt"), &with_count(vec![forecast_header, rent, card, sale]));
    // The financial movement of 16/09: the rent RV paid (debited), with its adjustment.
    let paid = write_lines(
        &dir.path().join("c101_1609.txt"),
        &with_count(vec![header.clone(), rv.clone(), adjustment.clone()]),
    );
    let mut db = TestDb::new("getnet_recon").await;
    for f in [&first, &paid] {
        let r = ingest_file(&mut db.client, f, "test", IngestMode::StageAndLoad).await.unwrap();
        assert_eq!(r.outcome, Outcome::Loaded, "{:?}", r.summary.map(|s| s.errors));
    }
    // The contract: Visa credit at 2.5 %, written as people do (the rates file takes Getnet's products by name).
    let rates = syncrocardpay_core::reconcile::fees::read_rates(
        "merchant_code,acquirer,brand,product,installments_from,installments_to,rate_percent,valid_from,valid_to\n\
         1013903,getnet,Visa,Cartão Crédito Visa,1,12,2.5,2024-01-01,\n"
            .as_bytes(),
    )
    .unwrap();
    let vocabulary = recon::rate_vocabulary(&db.client).await.unwrap();
    let rates = syncrocardpay_core::reconcile::fees::resolve_rates(rates, &vocabulary).unwrap();
    assert_eq!(
        (rates[0].brand.as_str(), rates[0].product.as_str()),
        ("VISA", "SV"),
        "names resolved to Getnet's codes"
    );
    recon::import_rates(&mut db.client, &rates, "taxas.csv").await.unwrap();
    let scope = Scope { from: day(1, 8, 2024).unwrap(), to: day(30, 9, 2024).unwrap(), merchant: None };
    let run = recon::run(&mut db.client, &scope, &Settings::new(day(30, 9, 2024).unwrap())).await.unwrap();
    let items = recon::items(&db.client, run.run_id).await.unwrap();
    let settled = recon::links(&db.client, run.run_id).await.unwrap();
    let fees: Vec<_> = settled.iter().filter(|s| s.status == Status::Ok).collect();
    assert_eq!(fees.len(), 1, "the sale's commission is the contracted 2.5 %: {items:#?}");
    assert_eq!(fees[0].actual, Some(dec("25.00")));
    let paid: Vec<_> = settled.iter().filter(|s| s.status == Status::Paid).collect();
    assert_eq!(paid.len(), 1, "{settled:?}");
    assert_eq!(
        (paid[0].expected, paid[0].actual, paid[0].ref_date),
        (Some(dec("-148.90")), Some(dec("-148.90")), day(16, 9, 2024).unwrap())
    );
    let overdue: Vec<_> = items.iter().filter(|i| i.status == Status::Overdue).collect();
    assert_eq!(overdue.len(), 1, "{items:#?}");
    assert_eq!((overdue[0].sale_code.as_str(), overdue[0].expected), ("1013903-051190999", Some(dec("975.00"))));
    assert_eq!(overdue[0].acquirer, "getnet");
    let rent: Vec<_> = items.iter().filter(|i| i.status == Status::Rental).collect();
    assert_eq!(rent.len(), 1, "{items:#?}");
    assert_eq!(rent[0].actual, Some(dec("-148.90")));
    assert!(
        run.totals.not_reconciled.iter().all(|p| p.acquirer != "getnet" || p.missing.area().as_str() != "receivables"),
        "{run:#?}"
    );
}

/// The generator's Getnet files round-trip: generated → loaded → reconciled, with the known answer — every
/// sale loaded with its total, every RV installment due within the sample forecast (`PF`) in the file of its
/// sales and paid (`LQ`) in the file of its day, nothing else flagged, every day's payment (type 5 `PG`)
/// credited in the bank statement the bank sample writes for them.
#[tokio::test]
async fn the_sample_round_trips_every_rv_installment_paid_and_every_payment_credited() {
    use syncrocardpay_core::formats::bank::sample::AcquirerSampleSpec;
    use syncrocardpay_core::formats::getnet::sample;
    let spec = AcquirerSampleSpec {
        seed: 11,
        sales: 60,
        first: day(1, 9, 2026).unwrap(),
        days: 3,
        settle_until: day(30, 10, 2026).unwrap(),
    };
    let s = common::roundtrip::known_answers("getnetsample", sample::write, &spec, day(1, 8, 2026).unwrap()).await;
    assert_eq!(s.sales, 60);
    assert!(s.settled > 0 && s.settled < s.installments && s.deposits.len() > 3, "{s:?}");
    // What a deposit is: the net of the RV installments paid that day.
    let first_debit_day = day(2, 9, 2026).unwrap();
    assert!(s.deposits.iter().any(|d| d.date == first_debit_day), "the first day's debit sales are paid the next");
}
