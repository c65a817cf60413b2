//! Cielo v15 records beyond D/E — Pix (8), receivables negotiation (A/B/C), financial reserve (R) — on lines
//! from Cielo's official v15 test kit (../shared/fixtures), parsed field by field and loaded into their facts.

use crate::common;

use common::db::TestDb;
use common::fixtures::fixture;
use common::statements::{lines, put, write_lines};
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use syncrocardpay_core::formats::cielo::v15;
use syncrocardpay_core::formats::{validate_statement, FieldReader};
use syncrocardpay_core::pipeline::{ingest_file, IngestMode, Outcome};

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// A trailer line: records between header and trailer, signed net total, E count, gross, negotiated.
fn trailer(records: u64, net: &str, e_count: u64, gross: &str, negotiated: &str) -> Vec<u8> {
    let amount = |v: &str| {
        let d = dec(v);
        let cents = (d.abs() * Decimal::from(100)).trunc().to_string();
        format!("{}{:0>17}", if d.is_sign_negative() { '-' } else { '+' }, cents)
    };
    let mut l =
        format!("9{records:011}{}{e_count:011}{}{}{}", amount(net), amount(gross), amount("0"), amount(negotiated));
    l.push_str(&" ".repeat(250 - l.len()));
    l.into_bytes()
}

/// The official kit's CIELO15 header, with another file type.
fn header_of_type(kit: &[Vec<u8>], file_type: &str) -> Vec<u8> {
    let mut h = kit[0].clone();
    put(&mut h, 48, file_type);
    h
}

fn kit_cielo15() -> Option<Vec<Vec<u8>>> {
    fixture("williamsilva__CardSync__cielo15_v15_officialkit.txt").map(|p| lines(&p))
}

fn kit_pix() -> Option<Vec<Vec<u8>>> {
    fixture("williamsilva__CardSync__cielo16_v15_officialkit_pix_lines.txt").map(|p| lines(&p))
}

fn write(dir: &Path, name: &str, lines: &[Vec<u8>]) -> PathBuf {
    write_lines(&dir.join(name), lines)
}

#[test]
fn official_kit_negotiation_fields_come_out_right() {
    let Some(kit) = kit_cielo15() else { return };
    let mut r = FieldReader::new(&kit[1]);
    let a = v15::parse_negotiation(2, &mut r, "1234567890");
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(a.negotiation_date.unwrap().to_string(), "2026-02-18");
    assert_eq!(a.payment_date.unwrap().to_string(), "2026-02-18");
    assert_eq!(a.average_term_days, 8);
    assert_eq!(a.nominal_rate, dec("3.250"), "A rates have 3 implied decimals");
    assert_eq!(a.gross_amount, dec("238.45"));
    assert_eq!(a.net_amount, dec("237.93"));
    assert_eq!(a.payment_form_code, "003");
    assert_eq!(a.effective_rate, Some(dec("0.871")));

    let mut r = FieldReader::new(&kit[2]);
    let b = v15::parse_negotiated_receivable(3, &mut r, 2, "0000000000");
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(b.original_due_date.unwrap().to_string(), "2026-02-20");
    assert_eq!((b.brand_code.as_str(), b.settlement_type_code.as_str()), ("007", "004"));
    assert_eq!((b.gross_amount, b.net_amount), (dec("238.45"), dec("237.93")));
    assert_eq!(b.effective_rate, dec("0.216"));
    assert_eq!(b.financial_institution, "Cielo");
    assert_eq!(b.merchant_code, "1234567890", "the record's own EC wins over the statement's");
    assert_eq!(b.discount_amount, Some(dec("-0.52")));
    assert_eq!(b.gross_amount + b.discount_amount.unwrap(), b.net_amount);

    let mut r = FieldReader::new(&kit[3]);
    let c = v15::parse_negotiation_credit(4, &mut r, 2, "1234567890");
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(c.deposited_amount, dec("237.93"));
}

#[test]
fn official_kit_cielo15_validates_with_its_negotiated_total() {
    let Some(kit) = kit_cielo15() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "CIELO15.TXT", &kit);
    let s = validate_statement(std::fs::File::open(&path).unwrap(), "CIELO15").unwrap();
    assert!(s.is_valid(), "{:?}", s.errors);
    assert_eq!(s.file_type.as_ref().unwrap().kind, "receivables_negotiation");
    assert_eq!((s.negotiations.count, s.negotiated_receivables.count, s.negotiation_credits.count), (1, 1, 1));
    assert_eq!(s.negotiations.net, dec("237.93"));
    let t = s.trailer.unwrap();
    assert!(t.matches);
    assert_eq!(t.declared.negotiated_total, Some(dec("237.93")));

    // A trailer whose negotiated total disagrees with the A records is caught.
    let mut bad = kit.clone();
    put(&mut bad[4], 79, "00000000000023794");
    let path = write(dir.path(), "CIELO15_bad.TXT", &bad);
    let s = validate_statement(std::fs::File::open(&path).unwrap(), "bad").unwrap();
    assert!(!s.is_valid());
    assert_eq!(s.errors[0].field, "trailer.negotiated_total");
    assert_eq!((s.errors[0].line, s.errors[0].column), (5, Some(78)));
}

#[test]
fn negotiation_details_need_their_summary() {
    let Some(kit) = kit_cielo15() else { return };
    let dir = tempfile::tempdir().unwrap();
    // B and C without the A before them.
    let orphan = vec![kit[0].clone(), kit[2].clone(), kit[3].clone(), trailer(2, "0", 0, "0", "0")];
    let path = write(dir.path(), "orphan.TXT", &orphan);
    let s = validate_statement(std::fs::File::open(&path).unwrap(), "orphan").unwrap();
    assert!(!s.is_valid());
    assert_eq!((s.errors[0].line, s.errors[0].field.as_str()), (2, "B"));
    assert!(s.errors[0].reason.contains("without a valid negotiation summary"), "{}", s.errors[0].reason);
    assert_eq!((s.errors[1].line, s.errors[1].field.as_str()), (3, "C"));
}

#[test]
fn official_kit_pix_fields_come_out_right() {
    let Some(pix) = kit_pix() else { return };
    let mut r = FieldReader::new(&pix[0]);
    let p = v15::parse_pix(2, &mut r);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(p.merchant_code, "1234567890");
    assert_eq!(p.transaction_type_code, "01");
    assert_eq!(p.transaction_date.unwrap().to_string(), "2026-03-02");
    assert_eq!(p.transaction_time.unwrap().to_string(), "10:18:03");
    assert_eq!(p.pix_id, "E9040088820260302131856721392001");
    assert_eq!(p.nsu, "656547");
    assert_eq!(p.nsu_long, "00656547");
    assert_eq!((p.gross_amount, p.fee_amount, p.net_amount), (dec("200.00"), dec("-0.10"), dec("199.90")));
    assert_eq!(p.gross_amount + p.fee_amount, p.net_amount);
    assert_eq!(p.tariff_amount, dec("0.10"));
    assert_eq!(p.fee_rate, Decimal::ZERO);
    assert_eq!(p.sales_channel, "01");
    assert_eq!(p.terminal, "01438790");
    assert_eq!(p.automatic_transfer_flag, "S");
    assert_eq!(p.transfer_status_code, "05");
    assert_eq!(p.scheduled_transfer_flag, "S");
    assert_eq!(p.txid, "CIELO202603020000000000000000656547");
    assert_eq!(p.payout_pix_id, "E01027058202603022053glyBLqLT5uP");
    let mut r = FieldReader::new(&pix[1]);
    let p = v15::parse_pix(3, &mut r);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!((p.gross_amount, p.net_amount), (dec("1132.89"), dec("1132.79")));
}

#[test]
fn pix_files_validate_under_either_trailer_reading_and_nothing_else() {
    let (Some(kit), Some(pix)) = (kit_cielo15(), kit_pix()) else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = |t: Vec<u8>| vec![header_of_type(&kit, "16"), pix[0].clone(), pix[1].clone(), t];
    for (name, t) in
        [("pix_excluded", trailer(2, "0", 0, "0", "0")), ("pix_included", trailer(2, "1332.69", 2, "1332.89", "0"))]
    {
        let path = write(dir.path(), name, &file(t));
        let s = validate_statement(std::fs::File::open(&path).unwrap(), name).unwrap();
        assert!(s.is_valid(), "{name}: {:?}", s.errors);
        assert_eq!(s.pix.count, 2);
        assert_eq!(s.pix.net, dec("1332.69"));
        assert!(s.trailer.unwrap().matches);
    }
    let path = write(dir.path(), "pix_wrong", &file(trailer(2, "1332.68", 2, "1332.89", "0")));
    let s = validate_statement(std::fs::File::open(&path).unwrap(), "wrong").unwrap();
    assert!(!s.is_valid());
    assert_eq!(s.errors.len(), 1, "{:?}", s.errors);
    assert_eq!(s.errors[0].field, "trailer.net_total");
    assert!(s.errors[0].reason.contains("1332.69"), "{}", s.errors[0].reason);
}

/// A financial reserve line (layout 15.7+) built field by field from the layout, for one UR.
fn reserve_line() -> Vec<u8> {
    let mut l = String::from("R");
    l.push_str("0012345678"); // EC
    l.push_str("36033801000109"); // CNPJ titular do movimento
    l.push_str("002"); // bandeira
    l.push_str("0012345678"); // matriz de pagamento
    l.push_str("-0000000012345"); // valor da reserva
    l.push_str(&format!("{:<100}", "360338010001092026-08-03001000720000210515831173603")); // chave da UR
    l.push_str("03082026"); // vencimento original
    l.push_str("0012345678"); // EC de pagamento
    l.push_str(&" ".repeat(250 - l.len()));
    l.into_bytes()
}

#[tokio::test]
async fn negotiation_pix_and_reserve_files_load_into_their_facts() {
    let (Some(kit), Some(pix)) = (kit_cielo15(), kit_pix()) else { return };
    let mut db = TestDb::new("v15records").await;
    let dir = tempfile::tempdir().unwrap();

    let path = write(dir.path(), "CIELO15.TXT", &kit);
    let r = ingest_file(&mut db.client, &path, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(r.outcome, Outcome::Loaded, "{:?}", r.summary.map(|s| s.errors));
    assert_eq!((r.rows.negotiations, r.rows.negotiated_receivables, r.rows.negotiation_credits), (1, 1, 1));
    let row = db
        .client
        .query_one(
            "SELECT n.nominal_rate, n.effective_rate, n.net_amount, e.merchant_code, d.negotiation_line_no,
                    d.discount_amount, pm.brand_name, pm.settlement, c.deposited_amount
             FROM fact_receivables_negotiation n
             JOIN dim_establishment e USING (establishment_key)
             JOIN fact_negotiated_receivable d ON d.file_id = n.file_id AND d.negotiation_line_no = n.line_no
             JOIN dim_payment_method pm ON pm.payment_method_key = d.payment_method_key
             JOIN fact_negotiation_credit c ON c.file_id = n.file_id AND c.negotiation_line_no = n.line_no
             WHERE n.file_id = $1",
            &[&r.file_id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, Decimal>(0), dec("3.250"));
    assert_eq!(row.get::<_, Decimal>(1), dec("0.871"));
    assert_eq!(row.get::<_, Decimal>(2), dec("237.93"));
    assert_eq!(row.get::<_, String>(3), "1234567890");
    assert_eq!(row.get::<_, i64>(4), 2, "B points at its A (line 2)");
    assert_eq!(row.get::<_, Decimal>(5), dec("-0.52"));
    assert_eq!(row.get::<_, String>(6), "Elo");
    assert_eq!(row.get::<_, String>(7), "voucher");
    assert_eq!(row.get::<_, Decimal>(8), dec("237.93"));

    let pix_file = vec![header_of_type(&kit, "16"), pix[0].clone(), pix[1].clone(), trailer(2, "0", 0, "0", "0")];
    let path = write(dir.path(), "CIELO16.TXT", &pix_file);
    let r = ingest_file(&mut db.client, &path, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(r.outcome, Outcome::Loaded, "{:?}", r.summary.map(|s| s.errors));
    assert_eq!(r.rows.pix_transactions, 2);
    let row = db
        .client
        .query_one(
            "SELECT count(*), sum(gross_amount), sum(fee_amount), sum(net_amount), min(pix_id), min(transaction_date),
                    bool_and(s.stage = 'paid'), bool_and(t.is_sale)
             FROM fact_pix_transaction p
             JOIN ref_pix_transfer_status s ON s.code = p.transfer_status_code
             JOIN ref_pix_transaction_type t ON t.code = p.transaction_type_code
             WHERE p.file_id = $1",
            &[&r.file_id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 2);
    assert_eq!(row.get::<_, Decimal>(1), dec("1332.89"));
    assert_eq!(row.get::<_, Decimal>(2), dec("-0.20"));
    assert_eq!(row.get::<_, Decimal>(3), dec("1332.69"));
    assert_eq!(row.get::<_, String>(4), "E00360305202603021417db5ae9fc45d");
    assert_eq!(row.get::<_, chrono::NaiveDate>(5).to_string(), "2026-03-02");
    assert!(row.get::<_, bool>(6) && row.get::<_, bool>(7));

    let reserve_file = vec![header_of_type(&kit, "03"), reserve_line(), trailer(1, "0", 0, "0", "0")];
    let path = write(dir.path(), "CIELO03_R.TXT", &reserve_file);
    let r = ingest_file(&mut db.client, &path, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(r.outcome, Outcome::Loaded, "{:?}", r.summary.map(|s| s.errors));
    assert_eq!(r.rows.financial_reserves, 1);
    let row = db
        .client
        .query_one(
            "SELECT r.reserve_amount, r.brand_code, r.ur_key, r.original_due_date, e.merchant_code
             FROM fact_financial_reserve r JOIN dim_establishment e USING (establishment_key) WHERE r.file_id = $1",
            &[&r.file_id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, Decimal>(0), dec("-123.45"));
    assert_eq!(row.get::<_, String>(1), "002");
    assert_eq!(row.get::<_, String>(2), "360338010001092026-08-03001000720000210515831173603");
    assert_eq!(row.get::<_, chrono::NaiveDate>(3).to_string(), "2026-08-03");
    assert_eq!(row.get::<_, String>(4), "0012345678", "leading zeros kept");

    // Nothing left in staging, and re-delivery adds nothing.
    assert_eq!(db.staged_rows(None).await, 0);
    let r = ingest_file(&mut db.client, &path, "again", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(r.outcome, Outcome::Duplicate);
    assert_eq!(db.count("SELECT count(*) FROM fact_financial_reserve").await, 1);
}

/// The generator writes the quirks real files show (issue 13), and each loads as docs/formats.md says: an
/// E-only CIELO03 on its E-based trailer, a blank product and a `+` fee sign as anomalies, a CIELO16 trailer
/// counting no Pix, a right-trimmed layout-001 file, a zip of two statements.
#[test]
fn the_generators_quirk_files_all_load_with_their_readings_and_anomalies() {
    use syncrocardpay_core::formats::AnomalyKind;
    let dir = tempfile::tempdir().unwrap();
    use syncrocardpay_core::formats::cielo::sample;
    let spec = sample::SampleSpec { transactions: 60, seed: 5, merchants: 1, ..Default::default() };
    let files = sample::generate(dir.path(), &spec).unwrap();
    let quirks = sample::write_quirks(&dir.path().join("quirks"), &files).unwrap();
    let names: Vec<&str> = quirks.iter().map(|q| q.quirk).collect();
    assert_eq!(
        names,
        ["e_only_sales", "blank_product", "layout_001", "plus_fee_sign", "pix_not_counted", "re_sent", "zipped"]
    );
    for q in &quirks {
        let summaries = syncrocardpay_core::pipeline::validate_path(&q.path, &q.path.display().to_string()).unwrap();
        for s in &summaries {
            assert!(s.is_valid(), "{}: {:?}", q.quirk, s.errors);
        }
        let s = &summaries[0];
        let kinds: Vec<AnomalyKind> = s.anomalies.iter().map(|a| a.kind).collect();
        let reading = s.trailer.as_ref().map(|t| t.reading).unwrap_or_default();
        match q.quirk {
            "e_only_sales" => assert_eq!((reading, kinds.len()), ("detail_totals_no_units", 0)),
            "blank_product" => assert_eq!(kinds, [AnomalyKind::BlankCode]),
            "plus_fee_sign" => assert_eq!(kinds, [AnomalyKind::SignContradictsAmounts]),
            "pix_not_counted" => assert_eq!(reading, "unit_totals_with_pix_not_counted"),
            "layout_001" => {
                assert_eq!((s.layout_version.as_deref(), reading), (Some("001"), "record_count_only"));
                assert!(kinds.contains(&AnomalyKind::RightTrimmedLine), "{kinds:?}");
            }
            "zipped" => assert_eq!(summaries.len(), 2),
            "re_sent" => assert_eq!(kinds.len(), 0),
            other => panic!("{other}"),
        }
    }
}
