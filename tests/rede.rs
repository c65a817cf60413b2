//! Rede EEVC / EEVD / EEFI on real lines (../shared/fixtures/PROVENANCE.md #7, #8): field by field, trailer
//! checks, types not supported yet rejected by name, and loading into the same facts as Cielo's with the
//! acquirer as a dimension.

use crate::common;

use common::db::TestDb;
use common::fixtures::fixture;
use common::statements::{lines, put, write_lines};
use rust_decimal::Decimal;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use syncrocardpay_core::formats::{read_statement, StatementSummary};
use syncrocardpay_core::model::{CardTransaction, ReceivableUnit, Record};
use syncrocardpay_core::pipeline::{ingest_file, IngestMode, Outcome};

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn real_lines() -> Option<Vec<Vec<u8>>> {
    fixture("murilotuvani__redecard-extrato-reader__eevc_eefi_eevd_lines.txt").map(|p| lines(&p))
}

/// The first real line starting with `prefix` (and containing `also`).
fn pick(all: &[Vec<u8>], prefix: &str, also: &str) -> Vec<u8> {
    all.iter()
        .find(|l| l.starts_with(prefix.as_bytes()) && String::from_utf8_lossy(l).contains(also))
        .unwrap_or_else(|| panic!("no real line {prefix}…{also}"))
        .clone()
}

fn amount15(d: Decimal) -> String {
    format!("{:015}", (d * Decimal::ONE_HUNDRED).trunc())
}

fn parse(path: &Path) -> (StatementSummary, Vec<ReceivableUnit>, Vec<CardTransaction>) {
    let (mut units, mut txs) = (Vec::new(), Vec::new());
    let s = read_statement(std::fs::File::open(path).unwrap(), "rede", &mut |r| {
        match r {
            Record::ReceivableUnit(u) => units.push(*u),
            Record::Transaction(t) => txs.push(*t),
            _ => {}
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    (s, units, txs)
}

/// An EEVC file of real lines: header, matriz, one RV rotativo with a CV, one RV parcelado (the real 010,
/// renumbered to own the real 012 and 014) — and a trailer with the given figures.
fn eevc_file(dir: &Path, all: &[Vec<u8>], trailer_net: Option<Decimal>) -> PathBuf {
    let mut rv010 = pick(all, "010", "");
    put(&mut rv010, 4, "014797470");
    put(&mut rv010, 13, "009949683");
    let body = vec![
        pick(all, "004", ""),
        pick(all, "006", ""),
        pick(all, "008", ""),
        rv010,
        pick(all, "012", "524820"),
        pick(all, "014", "014797470"),
    ];
    // RVs: 006 gross 70.00 discount 2.80 net 67.20; 010 gross 8105.90 discount 475.03 net 7630.87.
    let gross = dec("70.00") + dec("8105.90");
    let discount = dec("2.80") + dec("475.03");
    let net = trailer_net.unwrap_or(dec("67.20") + dec("7630.87"));
    let mut t = format!(
        "0280001{:06}014797470{}000000{}{}{}{}{}{}{}{}{}{:06}",
        body.len() + 2,
        amount15(gross),
        amount15(Decimal::ZERO),
        amount15(dec("70.00")),
        amount15(dec("8105.90")),
        amount15(Decimal::ZERO),
        amount15(Decimal::ZERO),
        amount15(discount),
        amount15(net),
        amount15(Decimal::ZERO),
        amount15(Decimal::ZERO),
        2
    );
    t.push_str("   ");
    let mut file = vec![pick(all, "002", "EEVC")];
    file.extend(body);
    file.push(t.into_bytes());
    write_lines(&dir.join(format!("eevc-{}.txt", trailer_net.is_some())), &file)
}

#[test]
fn real_eevc_lines_parse_field_by_field_with_the_trailer_checked() {
    let Some(all) = real_lines() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (s, units, txs) = parse(&eevc_file(dir.path(), &all, None));
    assert!(s.is_valid(), "{:#?}", s.errors);
    assert_eq!(s.acquirer.map(|a| a.code()), Some("rede"));
    assert_eq!(s.file_type.as_ref().unwrap().code, "EEVC");
    assert_eq!(s.merchant_code.as_deref(), Some("014797470"));
    assert_eq!(s.processing_date.unwrap().to_string(), "2019-06-01");
    assert_eq!(s.layout_version.as_deref(), Some("V2.01"));
    assert!(s.trailer.as_ref().unwrap().matches);

    // 006 RV rotativo: a receivable unit.
    let rv = &units[0];
    assert_eq!((rv.merchant_code.as_str(), rv.summary_number.as_str()), ("099999999", "099131701"));
    assert_eq!((rv.gross_amount, rv.fee_amount, rv.net_amount), (dec("70.00"), dec("-2.80"), dec("67.20")));
    assert_eq!(rv.gross_amount + rv.fee_amount, rv.net_amount);
    assert_eq!(rv.payment_date.unwrap().to_string(), "2012-01-27");
    assert_eq!(rv.presentation_date.unwrap().to_string(), "2011-12-28");
    assert_eq!(
        (rv.bank_code.as_str(), rv.branch_code.as_str(), rv.account_number.as_str()),
        ("341", "00361", "00000580970")
    );
    assert_eq!((rv.brand_code.as_str(), rv.entry_count), ("3", 1));
    assert_eq!(rv.ur_key, "099999999-099131701");

    // 008 CV rotativo: a sale.
    let cv = &txs[0];
    assert_eq!((cv.merchant_code.as_str(), cv.summary_number.as_str()), ("014797470", "064131102"));
    assert_eq!(cv.authorization_date.unwrap().to_string(), "2020-01-31");
    assert_eq!((cv.gross_amount, cv.fee_amount, cv.net_amount), (dec("20.98"), Some(dec("-0.33")), Some(dec("20.65"))));
    assert_eq!((cv.card_bin.as_str(), cv.card_last_digits.as_str()), ("544891", "0003"));
    assert_eq!((cv.nsu.as_str(), cv.authorization_code.as_str()), ("000246671956", "066848"));
    assert_eq!(cv.sale_time.unwrap().to_string(), "17:12:24");
    assert_eq!((cv.terminal.as_str(), cv.brand_code.as_str(), cv.capture_type.as_str()), ("WW876746", "1", "2"));
    assert_eq!((cv.installment, cv.installment_count, cv.product_code.as_str()), (0, 0, "ROT"));

    // 012 CV parcelado sem juros, and 014 its first installment (under the renumbered 010).
    let cv = &txs[1];
    assert_eq!((cv.installment_count, cv.gross_amount, cv.net_amount), (3, dec("165.09"), Some(dec("157.88"))));
    assert_eq!(
        (cv.nsu.as_str(), cv.authorization_code.as_str(), cv.product_code.as_str()),
        ("000002866720", "029968", "PSJ")
    );
    let p = &units[1];
    assert_eq!((p.installment, p.summary_number.as_str(), p.ur_key.as_str()), (1, "009949683", "014797470-009949683"));
    assert_eq!((p.gross_amount, p.fee_amount, p.net_amount), (dec("2309.23"), dec("-109.45"), dec("2199.78")));
    assert_eq!(p.payment_date.unwrap().to_string(), "2019-06-04");
    assert_eq!((p.bank_code.as_str(), p.account_number.as_str()), ("341", "00000177381"), "from its 010");
    assert_eq!(units.len(), 2, "the 010 itself is a summary, not a receivable: its 014s are");

    // A trailer that disagrees is caught, naming the figure.
    let (s, _, _) = parse(&eevc_file(dir.path(), &all, Some(dec("7698.06"))));
    assert!(!s.is_valid());
    assert_eq!(s.errors.len(), 1, "{:?}", s.errors);
    assert_eq!((s.errors[0].field.as_str(), s.errors[0].column), ("trailer.net_total", Some(134)));
    assert!(s.errors[0].reason.contains("7698.07"), "{}", s.errors[0].reason);
}

/// Rede's amounts are unsigned: a record whose net is not its gross less its discount — as it is on every
/// real RV, CV and installment line — cannot be read either way and rejects the file naming the record and
/// the three figures (issue 13, item 2).
#[test]
fn rede_records_whose_net_is_not_gross_less_discount_are_refused_with_the_figures() {
    let Some(all) = real_lines() else { return };
    let dir = tempfile::tempdir().unwrap();
    let good = lines(&eevc_file(dir.path(), &all, None));
    // (line index, column of the net, record, the figures said)
    for (i, column, record, says) in [
        (2, 114, "006", "net 67.21 is not gross 70.00 less discount 2.80"),
        (3, 204, "008", "net 20.66 is not gross 20.98 less discount 0.33"),
        (5, 206, "012", "net 157.89 is not gross 165.09 less discount 7.21"),
        (6, 70, "014", "net 2199.79 is not gross 2309.23 less discount 109.45"),
    ] {
        let mut l = good.clone();
        let net = &mut l[i][column - 1..column - 1 + 15];
        let last = net[14] - b'0';
        net[14] = b'0' + (last + 1) % 10; // one cent more (none of these nets ends in 9)
        let (s, _, _) = parse(&write_lines(&dir.path().join(format!("bad-{record}.txt")), &l));
        let e = s
            .errors
            .iter()
            .find(|e| e.field == format!("{record}.net_amount"))
            .unwrap_or_else(|| panic!("{record}: {:?}", s.errors));
        assert_eq!((e.line, e.column), (i as u64 + 1, Some(column)));
        assert!(e.reason.contains(says), "{e}");
    }
}

fn eefi_file(dir: &Path, all: &[Vec<u8>], extra: Option<Vec<u8>>) -> PathBuf {
    eefi_file_with(dir, all, extra, (0, Decimal::ZERO))
}

/// An EEFI file of real lines, its trailer declaring `debits` (count, amount) of debit adjustments.
fn eefi_file_with(dir: &Path, all: &[Vec<u8>], extra: Option<Vec<u8>>, debits: (u64, Decimal)) -> PathBuf {
    eefi_file_full(dir, all, extra.into_iter().collect(), debits, (0, Decimal::ZERO))
}

/// An EEFI file of real lines and `extra` ones, its trailer declaring `debits` and `anticipated` (count, amount).
fn eefi_file_full(
    dir: &Path,
    all: &[Vec<u8>],
    extra: Vec<Vec<u8>>,
    debits: (u64, Decimal),
    anticipated: (u64, Decimal),
) -> PathBuf {
    let mut body =
        vec![pick(all, "032", ""), pick(all, "034", "C3410002780000017738130012020"), pick(all, "034", "05/06")];
    body.extend(extra);
    let total = dec("549.99") + dec("100.58");
    let mut t = format!("0520001{:06}014797470{:04}{}", body.len() + 2, 2, amount15(total));
    t.push_str(&format!(
        "{:06}{}{:04}{}{:04}{}",
        anticipated.0,
        amount15(anticipated.1),
        0,
        amount15(Decimal::ZERO),
        debits.0,
        amount15(debits.1)
    ));
    let mut file = vec![pick(all, "030", "AUTO GERAL")];
    file.extend(body);
    file.push(t.into_bytes());
    write_lines(&dir.join(format!("eefi-{}.txt", file.len())), &file)
}

#[test]
fn real_eefi_credits_parse_and_unsupported_types_reject_the_file_by_name() {
    let Some(all) = real_lines() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (s, units, _) = parse(&eefi_file(dir.path(), &all, None));
    assert!(s.is_valid(), "{:#?}", s.errors);
    assert_eq!((s.file_type.as_ref().unwrap().code.as_str(), s.merchant_code.as_deref()), ("EEFI", Some("014797470")));
    let c = &units[0];
    assert_eq!((c.net_amount, c.gross_amount, c.fee_amount), (dec("549.99"), dec("558.65"), dec("-8.66")));
    assert_eq!((c.credit_document.as_str(), c.summary_number.as_str()), ("00002440978", "051431596"));
    assert_eq!((c.installment, c.installment_plan.as_str(), c.payment_status_code.as_str()), (1, "01", "07"));
    assert_eq!(c.payment_date.unwrap().to_string(), "2020-02-03");
    assert_eq!(c.presentation_date.unwrap().to_string(), "2020-01-02");
    assert_eq!(
        (c.bank_code.as_str(), c.branch_code.as_str(), c.account_number.as_str()),
        ("341", "000278", "00000177381")
    );
    let c = &units[1];
    assert_eq!((c.installment, c.installment_plan.as_str(), c.net_amount), (5, "06", dec("100.58")));
    assert_eq!(
        (c.gross_amount, c.fee_amount),
        (dec("100.58"), Decimal::ZERO),
        "an installment credit carries no gross of its own"
    );

    // A real ajuste Net (035): a debit for a cancelled sale, pointing at the sale it cancels.
    let Some(eefi) = fixture("armando-couto__goleitoredirede__eefi_lines.txt").map(|p| lines(&p)) else { return };
    let ajuste = pick(&eefi, "035", "");
    let path = eefi_file_with(dir.path(), &all, Some(ajuste.clone()), (1, dec("111.58")));
    let (s, _, txs) = parse(&path);
    assert!(s.is_valid(), "{:#?}", s.errors);
    let a = &txs[0];
    assert_eq!(
        (a.posting_type_code.as_str(), a.gross_amount, a.net_amount),
        ("035", dec("-111.58"), Some(dec("-111.58")))
    );
    assert_eq!((a.adjustment_code.as_deref(), a.adjustment_reason.as_str()), (Some("18"), "CANCEL.DE VENDAS"));
    assert_eq!((a.merchant_code.as_str(), a.summary_number.as_str()), ("080956998", "051149220"));
    assert_eq!((a.original_sale_code.as_str(), a.sale_total_amount), ("080956998-051149220", dec("680.00")));
    assert_eq!((a.nsu.as_str(), a.authorization_code.as_str()), ("000257409999", "023166"));
    assert_eq!((a.card_bin.as_str(), a.card_last_digits.as_str()), ("341445", "8018"));
    assert_eq!(a.posting_date.unwrap().to_string(), "2022-01-28");
    assert_eq!(a.authorization_date.unwrap().to_string(), "2022-01-19");
    assert_eq!(a.original_due_date.unwrap().to_string(), "2022-04-19", "the installment credit it reduces");
    // The trailer's debit adjustments must account for it.
    let (s, _, _) = parse(&eefi_file_with(dir.path(), &all, Some(ajuste), (1, dec("111.57"))));
    assert_eq!(s.errors.len(), 1, "{:?}", s.errors);
    assert_eq!((s.errors[0].field.as_str(), s.errors[0].column), ("trailer.debit_adjustment_total", Some(82)));

    // A type this version does not map that moves money rejects the whole file, naming it.
    let mut rav = pick(&eefi, "036", "");
    rav[..3].copy_from_slice(b"038");
    let (s, _, _) = parse(&eefi_file(dir.path(), &all, Some(rav)));
    assert!(!s.is_valid());
    let e = s.errors.iter().find(|e| e.field == "record_type").unwrap();
    assert_eq!(e.line, 5);
    assert!(e.reason.contains("038 (ajustes a débito via banco) moves money and is not supported yet"), "{}", e.reason);
}

/// A real RAV (036): an installment credit anticipated, less what anticipating it cost, field by field; the
/// trailer's count and total of anticipated credits must account for it.
#[test]
fn real_eefi_anticipation_rav_loads_with_its_cost_and_the_trailer_checked() {
    let Some(all) = real_lines() else { return };
    let Some(eefi) = fixture("armando-couto__goleitoredirede__eefi_lines.txt").map(|p| lines(&p)) else { return };
    let rav = pick(&eefi, "036", "");
    let dir = tempfile::tempdir().unwrap();
    let path = eefi_file_full(dir.path(), &all, vec![rav.clone()], (0, Decimal::ZERO), (1, dec("39224.50")));
    let (s, units, _) = parse(&path);
    assert!(s.is_valid(), "{:#?}", s.errors);
    let a = units.iter().find(|u| u.posting_type_code == "036").unwrap();
    assert_eq!((a.merchant_code.as_str(), a.summary_number.as_str()), ("080956998", "031649374"));
    assert_eq!(a.ur_key, "080956998-031649374");
    assert_eq!((a.credit_document.as_str(), a.payment_merchant_code.as_str()), ("02034052842", "080956998"));
    assert_eq!(
        (a.net_amount, a.gross_amount, a.fee_amount),
        (dec("39224.50"), dec("39618.11"), dec("-393.61")),
        "credited now, as scheduled, and what anticipating it cost"
    );
    assert_eq!(a.payment_date.unwrap().to_string(), "2022-02-04");
    assert_eq!(a.original_due_date.unwrap().to_string(), "2022-03-07", "the day it would have been paid");
    assert_eq!(a.presentation_date.unwrap().to_string(), "2022-02-03");
    assert_eq!((a.installment, a.installment_plan.as_str()), (1, "06"));
    assert_eq!(
        (a.bank_code.as_str(), a.branch_code.as_str(), a.account_number.as_str(), a.brand_code.as_str()),
        ("341", "001646", "00000508679", "1")
    );

    // The trailer declaring no anticipation (or another amount) does not match: the file is rejected.
    let path = eefi_file_full(dir.path(), &all, vec![rav.clone()], (0, Decimal::ZERO), (1, dec("39224.51")));
    let (s, _, _) = parse(&path);
    assert_eq!(s.errors.len(), 1, "{:#?}", s.errors);
    assert_eq!((s.errors[0].field.as_str(), s.errors[0].column), ("trailer.anticipated_total", Some(48)));
    assert!(s.errors[0].reason.contains("declares 1 anticipated credits of 39224.51, the file has 1 of 39224.50"));

    // An anticipated credit above the credit it anticipates is a money error, reported at the amount.
    let mut more = rav.clone();
    more[84..99].copy_from_slice(b"000000003922449");
    let path = eefi_file_full(dir.path(), &all, vec![more], (0, Decimal::ZERO), (1, dec("39224.50")));
    let (s, _, _) = parse(&path);
    assert_eq!(s.errors.len(), 1, "{:#?}", s.errors);
    assert_eq!((s.errors[0].field.as_str(), s.errors[0].column), ("036.net_amount", Some(32)));
    assert_eq!(s.errors[0].reason, "anticipated credit 39224.50 is more than the credit it anticipates (39224.49)");
}

/// Real Serasa / AVS / SecureCode records (040-042) with nothing charged are counted; a charge is not mapped
/// yet, so a file with one is rejected, saying what was charged.
#[test]
fn real_eefi_service_records_count_when_free_and_reject_a_charge() {
    let Some(all) = real_lines() else { return };
    let Some(eefi) = fixture("armando-couto__goleitoredirede__eefi_lines.txt").map(|p| lines(&p)) else { return };
    let services: Vec<Vec<u8>> = ["040", "041", "042"].iter().map(|c| pick(&eefi, c, "")).collect();
    let dir = tempfile::tempdir().unwrap();
    let (s, units, txs) =
        parse(&eefi_file_full(dir.path(), &all, services.clone(), (0, Decimal::ZERO), (0, Decimal::ZERO)));
    assert!(s.is_valid(), "{:#?}", s.errors);
    assert_eq!((units.len(), txs.len()), (2, 0), "counted, nothing loaded");
    assert_eq!([s.record_counts.get("040"), s.record_counts.get("041"), s.record_counts.get("042")], [Some(&1); 3]);

    let mut charged = services[1].clone();
    charged[12..32].copy_from_slice(b"00012000000000000360"); // 12 queries, R$ 3.60
    let (s, _, _) = parse(&eefi_file_full(dir.path(), &all, vec![charged], (0, Decimal::ZERO), (0, Decimal::ZERO)));
    assert_eq!(s.errors.len(), 1, "{:#?}", s.errors);
    let e = &s.errors[0];
    assert_eq!((e.line, e.field.as_str(), e.column), (5, "041.charged_amount", Some(18)));
    assert_eq!(
        e.reason,
        "041 (AVS) charges 3.60 for 12 queries from 2022-01-01 to 2022-01-31: service charges are not mapped yet, so \
         the file is rejected rather than loaded without them"
    );
}

fn eevd_file(dir: &Path, header: &[u8], cv_net: &str) -> PathBuf {
    let file: Vec<Vec<u8>> = vec![
        header.to_vec(),
        b"01,021644942,23092021,22092021,000123456,000002,000000000010000,000000000000150,000000000009850,D,341,001646,00000508679,2".to_vec(),
        format!("05,021644942,000123456,22092021,000000000006000,000000000000090,{cv_net},498407******3786,V,000000046002,23092021,00,101010,WW000001,01,00000,000000000006000,000000000000000,2").into_bytes(),
        b"05,021644942,000123456,22092021,000000000004000,000000000000060,000000000003940,544731******6409,V,000000046003,23092021,00,111111,WW000001,01,00000,000000000004000,000000000000000,2".to_vec(),
        b"02,021644942,000001,000002,000000000010000,000000000000150,000000000009850".to_vec(),
        b"04,021644942,000001,000002,000000000010000,000000000000150,000000000009850,000000000000000,000000000000000,000000000000000,000006".to_vec(),
    ];
    write_lines(&dir.join(format!("eevd-{cv_net}.csv")), &file)
}

#[test]
fn eevd_comma_separated_sales_parse_with_their_trailer() {
    let Some(headers) = fixture("lavinas__cielo-edi__header_lines.txt").map(|p| lines(&p)) else { return };
    let header = headers.iter().find(|l| l.starts_with(b"00,")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (s, units, txs) = parse(&eevd_file(dir.path(), header, "000000000005910"));
    assert!(s.is_valid(), "{:#?}", s.errors);
    assert_eq!((s.file_type.as_ref().unwrap().code.as_str(), s.merchant_code.as_deref()), ("EEVD", Some("021644942")));
    assert_eq!(s.processing_date.unwrap().to_string(), "2021-09-22");
    assert_eq!((units.len(), txs.len()), (1, 2));
    let rv = &units[0];
    assert_eq!((rv.gross_amount, rv.fee_amount, rv.net_amount), (dec("100.00"), dec("-1.50"), dec("98.50")));
    assert_eq!((rv.product_code.as_deref(), rv.settlement_type_code.as_str()), (Some("DEB"), "001"));
    assert_eq!(rv.payment_date.unwrap().to_string(), "2021-09-23");
    let cv = &txs[0];
    assert_eq!(
        (cv.nsu.as_str(), cv.card_bin.as_str(), cv.card_last_digits.as_str()),
        ("000000046002", "498407", "3786")
    );
    assert_eq!((cv.gross_amount, cv.net_amount), (dec("60.00"), Some(dec("59.10"))));
    assert_eq!(cv.sale_time.unwrap().to_string(), "10:10:10");

    // A non-numeric amount is reported at the byte where its column starts.
    let (s, _, _) = parse(&eevd_file(dir.path(), header, "00000000000591X"));
    assert!(!s.is_valid());
    let e = &s.errors[0];
    assert_eq!((e.line, e.field.as_str()), (3, "05.net_amount"));
    assert_eq!(e.column, Some(65 + 14), "the X is the 15th byte of the column starting at byte 65");
}

/// EEVD dates and times are whole comma-separated columns: one of 7 or 9 digits is an error at its column,
/// never a date read from its first 8 bytes or an index out of range (both were possible before).
#[test]
fn eevd_dates_and_times_must_fill_their_column() {
    let header = b"00,021644942,22092021,21092021,Movimentacao diaria - Cartoes de Debito,Redecard,LOJA,000427,DIARIO,V1.04 - 07/10 - EEVD";
    let dir = tempfile::tempdir().unwrap();
    let (s, _, txs) = parse(&eevd_file(dir.path(), header, "000000000005910"));
    assert!(s.is_valid(), "{:#?}", s.errors);
    assert_eq!(txs[0].original_due_date.unwrap().to_string(), "2021-09-23");
    for (from, to, field, reason) in [
        (
            ",23092021,00,101010,",
            ",230920211,00,101010,",
            "05.payment_date",
            "expected a date DDMMAAAA, found \"230920211\"",
        ),
        (
            ",23092021,00,101010,",
            ",2309202,00,101010,",
            "05.payment_date",
            "expected a date DDMMAAAA, found \"2309202\"",
        ),
        (",23092021,00,101010,", ",23092021,00,10101,", "05.sale_time", "expected a time HHMMSS, found \"10101\""),
    ] {
        let path = eevd_file(dir.path(), header, "000000000005910");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from));
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
        let (s, _, _) = parse(&path);
        assert_eq!(s.errors.len(), 1, "{to}: {:#?}", s.errors);
        let e = &s.errors[0];
        assert_eq!((e.line, e.field.as_str()), (3, field), "{to}");
        assert!(e.reason.starts_with(reason), "{to}: {}", e.reason);
        let column =
            text.lines().nth(2).unwrap().find(from).unwrap() + 2 + if field == "05.sale_time" { 12 } else { 0 };
        assert_eq!(e.column, Some(column), "{to}: the column where the value starts");
    }
}

#[tokio::test]
async fn rede_files_load_into_the_same_facts_with_the_acquirer_as_a_dimension() {
    let Some(all) = real_lines() else { return };
    let Some(headers) = fixture("lavinas__cielo-edi__header_lines.txt").map(|p| lines(&p)) else { return };
    let Some(eefi) = fixture("armando-couto__goleitoredirede__eefi_lines.txt").map(|p| lines(&p)) else { return };
    let mut db = TestDb::new("rede").await;
    let dir = tempfile::tempdir().unwrap();
    let eevd_header = headers.iter().find(|l| l.starts_with(b"00,")).unwrap();
    let rav = pick(&eefi, "036", "");
    for path in [
        eevc_file(dir.path(), &all, None),
        eefi_file_full(dir.path(), &all, vec![rav], (0, Decimal::ZERO), (1, dec("39224.50"))),
        eevd_file(dir.path(), eevd_header, "000000000005910"),
    ] {
        let r = ingest_file(&mut db.client, &path, "test", IngestMode::StageAndLoad).await.unwrap();
        assert_eq!(r.outcome, Outcome::Loaded, "{}: {:?}", path.display(), r.summary.map(|s| s.errors));
    }
    let rows = db
        .client
        .query(
            "SELECT f.file_type, count(*), sum(t.gross_amount), sum(t.net_amount), bool_and(pt.is_sale),
                    min(p.name), min(a.code)
             FROM fact_card_transaction t
             JOIN statement_file f USING (file_id)
             JOIN dim_posting_type pt USING (posting_type_key)
             JOIN dim_product p USING (product_key)
             JOIN dim_establishment e USING (establishment_key)
             JOIN dim_acquirer a ON a.acquirer_key = e.acquirer_key
             GROUP BY f.file_type ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].get::<_, String>(0), "EEVC");
    assert_eq!(rows[0].get::<_, i64>(1), 2);
    assert_eq!(rows[0].get::<_, Decimal>(2), dec("186.07"));
    assert!(rows[0].get::<_, bool>(4));
    assert_eq!(rows[0].get::<_, String>(6), "rede");
    assert_eq!(rows[1].get::<_, String>(0), "EEVD");
    assert_eq!(rows[1].get::<_, Decimal>(3), dec("98.50"));
    assert_eq!(rows[1].get::<_, String>(5), "Débito à vista");
    let credits = db
        .client
        .query_one(
            "SELECT count(*), sum(u.net_amount), min(u.credit_document), min(pm.settlement_type_name)
             FROM fact_receivable_unit u JOIN statement_file f USING (file_id)
             JOIN dim_payment_method pm USING (payment_method_key)
             WHERE f.file_type = 'EEFI'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(credits.get::<_, i64>(0), 3);
    assert_eq!(credits.get::<_, Decimal>(1), dec("650.57") + dec("39224.50"));
    assert_eq!(credits.get::<_, String>(2), "00002440978");
    // The RAV is an anticipation, not a sale: credited early, its cost as the fee.
    let rav = db
        .client
        .query_one(
            "SELECT pt.category, pt.is_sale, u.gross_amount, u.fee_amount, u.net_amount, u.original_due_date::text
               FROM fact_receivable_unit u JOIN dim_posting_type pt USING (posting_type_key)
              WHERE pt.code = '036'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!((rav.get::<_, String>(0), rav.get::<_, bool>(1)), ("anticipation".to_string(), false));
    assert_eq!(
        (rav.get::<_, Decimal>(2), rav.get::<_, Decimal>(3), rav.get::<_, Decimal>(4)),
        (dec("39618.11"), dec("-393.61"), dec("39224.50"))
    );
    assert_eq!(rav.get::<_, String>(5), "2022-03-07");
    // Rede's and Cielo's establishments are distinct even with the same code.
    // (The RAV's PV, 080956998, is a fourth.)
    assert_eq!(db.count("SELECT count(*) FROM dim_establishment WHERE acquirer_key = 2").await, 4);

    // Rede's sales are reconciled like Cielo's: against the merchant's books (none here) and the contract.
    let sales = db
        .count(
            "SELECT count(*) FROM fact_card_transaction t JOIN dim_posting_type pt USING (posting_type_key)
              WHERE pt.is_sale AND t.fee_amount IS NOT NULL",
        )
        .await;
    let (from, to): (chrono::NaiveDate, chrono::NaiveDate) = {
        let r = db
            .client
            .query_one("SELECT min(authorization_date), max(authorization_date) FROM fact_card_transaction", &[])
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    let scope = syncrocardpay_core::reconcile::Scope { from, to, merchant: None };
    let settings = syncrocardpay_core::reconcile::Settings::new(to);
    let run = syncrocardpay_core::db::recon::run(&mut db.client, &scope, &settings).await.unwrap();
    let count = |area: &'static str, status: &'static str| {
        let db = &db;
        let run_id = run.run_id;
        async move {
            db.client
                .query_one(
                    "SELECT count(*) FROM recon_item WHERE run_id = $1 AND area = $2 AND status = $3 AND acquirer = 'rede'",
                    &[&run_id, &area, &status],
                )
                .await
                .unwrap()
                .get::<_, i64>(0)
        }
    };
    // Neither the books nor a contract are loaded: both areas wait for them, every Rede sale counted.
    assert_eq!(count("fees", "no_contract").await, 0);
    assert_eq!(count("sales", "missing_in_merchant").await, 0);
    let left_aside = |missing: syncrocardpay_core::reconcile::MissingInput| -> u64 {
        run.totals.not_reconciled.iter().filter(|p| p.missing == missing && p.acquirer == "rede").map(|p| p.lines).sum()
    };
    assert_eq!(left_aside(syncrocardpay_core::reconcile::MissingInput::Contract), sales as u64, "every sale's fee");
    assert!(left_aside(syncrocardpay_core::reconcile::MissingInput::MerchantSales) >= 1);
    // With a contract at each sale's own discount rate (by brand, product and installments), every fee is right.
    let rows = db
        .client
        .query(
            "SELECT DISTINCT e.merchant_code, pm.brand_code, p.code, greatest(t.installment_count, 1),
                    round(abs(t.fee_amount) / t.gross_amount * 100, 2)
               FROM fact_card_transaction t JOIN dim_establishment e USING (establishment_key)
               JOIN dim_posting_type pt USING (posting_type_key) JOIN dim_payment_method pm USING (payment_method_key)
               JOIN dim_product p USING (product_key)
              WHERE pt.is_sale AND t.fee_amount IS NOT NULL AND t.gross_amount > 0",
            &[],
        )
        .await
        .unwrap();
    let rates: Vec<syncrocardpay_core::reconcile::fees::ContractRate> = rows
        .iter()
        .map(|r| syncrocardpay_core::reconcile::fees::ContractRate {
            merchant_code: r.get(0),
            acquirer: "rede".into(),
            brand: r.get(1),
            product: r.get(2),
            installments_from: r.get(3),
            installments_to: r.get(3),
            rate: r.get(4),
            fixed_fee: rust_decimal::Decimal::ZERO,
            valid_from: from,
            valid_to: None,
        })
        .collect();
    syncrocardpay_core::db::recon::import_rates(&mut db.client, &rates, "test").await.unwrap();
    let run = syncrocardpay_core::db::recon::run(&mut db.client, &scope, &settings).await.unwrap();
    let ok = db
        .client
        .query_one(
            "SELECT count(*) FROM recon_result WHERE run_id = $1 AND area = 'fees' AND status = 'ok'",
            &[&run.run_id],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(ok, sales);
}

#[test]
fn real_eefi_credit_adjustments_and_settled_debits() {
    let Some(all) = real_lines() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = |credits: (u64, &str), debits: (u64, &str)| {
        let body = vec![pick(&all, "043", ""), pick(&all, "045", "")];
        let mut t = format!("0520001{:06}999999999{:04}{}", body.len() + 2, 0, amount15(Decimal::ZERO));
        t.push_str(&format!("{:06}{}", 0, amount15(Decimal::ZERO)));
        t.push_str(&format!("{:04}{}{:04}{}", credits.0, amount15(dec(credits.1)), debits.0, amount15(dec(debits.1))));
        let mut lines = vec![pick(&all, "030", "OTICA")];
        lines.extend(body);
        lines.push(t.into_bytes());
        write_lines(&dir.path().join(format!("eefi-adj-{}-{}.txt", credits.1, debits.1)), &lines)
    };
    let (s, _, txs) = parse(&file((1, "25.00"), (1, "126.66")));
    assert!(s.is_valid(), "{:#?}", s.errors);
    let c = &txs[0];
    assert_eq!((c.posting_type_code.as_str(), c.gross_amount, c.net_amount), ("043", dec("25.00"), Some(dec("25.00"))));
    assert_eq!((c.adjustment_code.as_deref(), c.adjustment_reason.as_str()), (Some("61"), "DEV CRED PGTO MAIOR"));
    assert_eq!((c.processed_transaction_code.as_str(), c.account_number.as_str()), ("04140944451", "88888888888"));
    assert_eq!(c.original_due_date.unwrap().to_string(), "2014-05-22", "credited on");
    let d = &txs[1];
    assert_eq!(
        (d.posting_type_code.as_str(), d.gross_amount, d.net_amount),
        ("045", dec("-126.66"), Some(dec("-126.66")))
    );
    assert_eq!((d.adjustment_code.as_deref(), d.adjustment_reason.as_str()), (Some("18"), "CANCEL.DE VENDAS"));
    assert_eq!(
        (d.nsu.as_str(), d.authorization_code.as_str(), d.sale_total_amount),
        ("999999999999", "777777", dec("129.90"))
    );
    assert_eq!(
        (d.processed_transaction_code.as_str(), d.original_sale_code.as_str()),
        ("14043012716", "999999999-999999999")
    );
    assert_eq!(d.posting_date.unwrap().to_string(), "2014-02-12");
    // Adjustment totals declared without the 043/045 records are the other accepted reading; anything else is not.
    assert!(parse(&file((0, "0"), (0, "0"))).0.is_valid());
    let (s, _, _) = parse(&file((1, "25.00"), (1, "126.65")));
    assert_eq!(s.errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["trailer.debit_adjustment_total"]);
}

#[test]
fn real_sales_file_adjustments_eevc_011_and_eevd_11() {
    let Some(all) = real_lines() else { return };
    let Some(headers) = fixture("lavinas__cielo-edi__header_lines.txt").map(|p| lines(&p)) else { return };
    let dir = tempfile::tempdir().unwrap();
    // EEVC: header, the real 011 (a credit of 3.15), and an empty trailer.
    // An empty trailer: 3 records, gross, 0 CVs, then the nine totals and the accepted-CV count, all zero.
    let t =
        format!("0280001{:06}014797470{}000000{}000000", 3, amount15(Decimal::ZERO), amount15(Decimal::ZERO).repeat(9));
    let eevc = write_lines(
        &dir.path().join("eevc-011.txt"),
        &[pick(&all, "002", "EEVC"), pick(&all, "011", "COMISS"), t.into_bytes()],
    );
    let (s, _, txs) = parse(&eevc);
    assert!(s.is_valid(), "{:#?}", s.errors);
    let a = &txs[0];
    assert_eq!((a.posting_type_code.as_str(), a.gross_amount, a.net_amount), ("011", dec("3.15"), Some(dec("3.15"))));
    assert_eq!((a.adjustment_code.as_deref(), a.summary_number.as_str()), (Some("67"), "015201941"));
    assert!(a.adjustment_reason.starts_with("COMISS"), "{}", a.adjustment_reason);
    assert_eq!(a.original_due_date.unwrap().to_string(), "2019-06-10", "credited on");

    // EEVD: header, the real "011" CSV line (an ajuste Net of 132.55 debited), and a trailer.
    let header = headers.iter().find(|l| l.starts_with(b"00,")).unwrap().clone();
    let trailer = b"04,021644942,000000,000000,000000000000000,000000000000000,000000000000000,000000000000000,000000000000000,000000000000000,000003".to_vec();
    let eevd = write_lines(&dir.path().join("eevd-11.csv"), &[header, pick(&all, "011,", ""), trailer]);
    let (s, _, txs) = parse(&eevd);
    assert!(s.is_valid(), "{:#?}", s.errors);
    assert_eq!(s.record_counts.get("11"), Some(&1), "\"011\" is type 11");
    let a = &txs[0];
    assert_eq!((a.gross_amount, a.adjustment_code.as_deref()), (dec("-132.55"), Some("18")));
    assert_eq!((a.adjustment_reason.as_str(), a.merchant_code.as_str()), ("CANCEL.DE VENDAS", "015254640"));
    assert_eq!((a.card_bin.as_str(), a.card_last_digits.as_str()), ("541465", "8050"));
    assert_eq!((a.original_sale_code.as_str(), a.sale_total_amount), ("015254640-049449440", dec("275.22")));
    assert_eq!((a.nsu.as_str(), a.authorization_code.as_str()), ("000998466334", "021704"));
    assert_eq!(a.authorization_date.unwrap().to_string(), "2019-04-13");
}

#[test]
fn real_eefi_pending_debits_and_unscheduled_installments() {
    let Some(all) = real_lines() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut t = format!("0520001{:06}999999999{:04}{}", 4, 0, amount15(Decimal::ZERO));
    t.push_str(&format!(
        "{:06}{}{:04}{}{:04}{}",
        0,
        amount15(Decimal::ZERO),
        0,
        amount15(Decimal::ZERO),
        0,
        amount15(Decimal::ZERO)
    ));
    let path = write_lines(
        &dir.path().join("eefi-044-049.txt"),
        &[pick(&all, "030", "OTICA"), pick(&all, "044", ""), pick(&all, "049", ""), t.into_bytes()],
    );
    let (s, _, txs) = parse(&path);
    assert!(s.is_valid(), "{:#?}", s.errors);
    let p = &txs[0];
    assert_eq!((p.posting_type_code.as_str(), p.gross_amount, p.net_amount), ("044", dec("-541.46"), Some(dec("0"))));
    assert_eq!(p.pending_amount, dec("-541.46"), "nothing compensated yet: all of it pending");
    assert_eq!((p.adjustment_code.as_deref(), p.adjustment_reason.as_str()), (Some("23"), "CONTESTACAO VDA"));
    assert_eq!((p.processed_transaction_code.as_str(), p.sale_total_amount), ("14079010509", dec("1656.68")));
    let u = &txs[1];
    assert_eq!((u.posting_type_code.as_str(), u.gross_amount, u.installment), ("049", dec("-126.67"), 1));
    assert_eq!(u.original_due_date.unwrap().to_string(), "2014-02-17", "the installment credit it reduces");
    assert_eq!((u.sale_total_amount, u.nsu.as_str()), (dec("129.90"), "999999999999"));
}

/// A positional line: `width` zeros with `fields` (1-based column, value) written over them.
fn positional(width: usize, fields: &[(usize, &str)]) -> Vec<u8> {
    let mut l = vec![b'0'; width];
    for (col, v) in fields {
        l[col - 1..col - 1 + v.len()].copy_from_slice(v.as_bytes());
    }
    l
}

/// An EEVC file of IATA sales written field by field from the layouts (no real IATA line is at hand): the RV
/// (016), two sales (018) with their boarding fees, and — when `installments` — two installments (020).
fn iata_file(dir: &Path, installments: bool, trailer_iata: Decimal) -> PathBuf {
    iata_file_with(dir, installments, trailer_iata, Vec::new())
}

/// [`iata_file`] with `extra` lines after the sales.
fn iata_file_with(dir: &Path, installments: bool, trailer_iata: Decimal, extra: Vec<Vec<u8>>) -> PathBuf {
    let m = |s: &str| amount15(dec(s));
    let header = format!(
        "00201062019REDECARDEXTRATO DE MOVIMENTO DE VENDAS{:<22}000078014797470DIARIO         V2.01 - 09/06 - EEVC",
        "AGENCIA"
    );
    let (gross, fee, disc, net) = (m("1000.00"), m("50.00"), m("30.00"), m("970.00"));
    let rv = positional(
        137,
        &[
            (1, "016"),
            (4, "014797470"),
            (13, "123456789"),
            (22, "341"),
            (25, "00278"),
            (30, "00000177381"),
            (41, "01062019"),
            (49, "00002"),
            (54, &gross),
            (69, &fee),
            (99, &disc),
            (114, &net),
            (129, "01072019"),
            (137, "1"),
        ],
    );
    let sale = |nsu: &str, gross: &str, fee: &str, disc: &str, net: &str| {
        let mut l = positional(
            262,
            &[
                (1, "018"),
                (4, "014797470"),
                (13, "123456789"),
                (22, "31052019"),
                (38, &m(gross)),
                (53, &m(fee)),
                (68, "544731******6409"),
                (84, "   "),
                (87, if installments { "02" } else { "00" }),
                (89, nsu),
                (114, &m(disc)),
                (129, "A1B2C3"),
                (135, "101010"),
                (205, "1"),
                (206, &m(net)),
                (251, "WW000001"),
                (259, "BRA"),
                (262, "1"),
            ],
        );
        l[100..113].fill(b' ');
        l[140..204].fill(b' ');
        l
    };
    let mut body = vec![
        rv,
        sale("000000046002", "600.00", "30.00", "18.00", "582.00"),
        sale("000000046003", "400.00", "20.00", "12.00", "388.00"),
    ];
    body.extend(extra);
    if installments {
        for (n, date) in [("01", "01072019"), ("02", "01082019")] {
            body.push(positional(
                92,
                &[
                    (1, "020"),
                    (4, "014797470"),
                    (13, "123456789"),
                    (22, "01062019"),
                    (38, n),
                    (40, &m("500.00")),
                    (55, &m("15.00")),
                    (70, &m("485.00")),
                    (85, date),
                ],
            ));
        }
    }
    let trailer = positional(
        184,
        &[
            (1, "028"),
            (8, &format!("{:06}", body.len() + 2)),
            (23, &gross),
            (89, &amount15(trailer_iata)),
            (119, &disc),
            (134, &net),
            (179, "000002"),
        ],
    );
    let mut file = vec![header.into_bytes()];
    file.extend(body);
    file.push(trailer);
    write_lines(&dir.join(format!("iata-{installments}-{trailer_iata}-{}.txt", file.len())), &file)
}

/// IATA sales (airlines, travel agencies): an RV paid at once is its own receivable; one paid in installments
/// has its 020 records as receivables instead. The sales keep their boarding fee, the trailer's IATA total must
/// account for the RVs, and they load as sales of their own product.
#[tokio::test]
async fn eevc_iata_sales_load_with_their_boarding_fee_and_the_iata_total_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (s, units, txs) = parse(&iata_file(dir.path(), false, dec("1000.00")));
    assert!(s.is_valid(), "{:#?}", s.errors);
    assert_eq!(units.len(), 1);
    let u = &units[0];
    assert_eq!((u.posting_type_code.as_str(), u.product_code.as_deref(), u.line_no), ("016", Some("IAT"), 2));
    assert_eq!((u.gross_amount, u.fee_amount, u.net_amount), (dec("1000.00"), dec("-30.00"), dec("970.00")));
    assert_eq!(u.payment_date.unwrap().to_string(), "2019-07-01");
    assert_eq!(txs.len(), 2);
    let t = &txs[0];
    assert_eq!((t.posting_type_code.as_str(), t.product_code.as_str(), t.nsu.as_str()), ("018", "IAT", "000000046002"));
    assert_eq!(
        (t.gross_amount, t.boarding_fee_amount, t.fee_amount, t.net_amount),
        (dec("600.00"), dec("30.00"), Some(dec("-18.00")), Some(dec("582.00")))
    );
    assert_eq!((t.ur_key.as_str(), t.card_last_digits.as_str()), ("014797470-123456789", "6409"));
    assert_eq!(txs[1].boarding_fee_amount, dec("20.00"));

    // In installments: the two 020 records are the receivables, not the RV.
    let (s, units, _) = parse(&iata_file(dir.path(), true, dec("1000.00")));
    assert!(s.is_valid(), "{:#?}", s.errors);
    let got: Vec<(&str, u32, Decimal, String)> = units
        .iter()
        .map(|u| (u.posting_type_code.as_str(), u.installment, u.net_amount, u.payment_date.unwrap().to_string()))
        .collect();
    assert_eq!(
        got,
        [("020", 1, dec("485.00"), "2019-07-01".to_string()), ("020", 2, dec("485.00"), "2019-08-01".to_string())]
    );
    assert!(units.iter().all(|u| u.product_code.as_deref() == Some("IAT") && u.bank_code == "341"));

    // AVS (017) and SecureCode (021) queries carry no money in the sales file: counted, nothing else.
    let queries = vec![b"01701479747000012010620190".to_vec(), b"021014797470000030106201901".to_vec()];
    let (s, units, txs) = parse(&iata_file_with(dir.path(), false, dec("1000.00"), queries.clone()));
    assert!(s.is_valid(), "{:#?}", s.errors);
    assert_eq!((units.len(), txs.len(), s.record_counts["017"], s.record_counts["021"]), (1, 2, 1, 1));
    // Between the sales and the installments they do not end the RV: its receivables are still only the 020s.
    let (s, units, _) = parse(&iata_file_with(dir.path(), true, dec("1000.00"), queries));
    assert!(s.is_valid(), "{:#?}", s.errors);
    assert_eq!(units.iter().map(|u| u.posting_type_code.as_str()).collect::<Vec<_>>(), ["020", "020"]);

    // The trailer's IATA total must be the RVs' gross.
    let (s, _, _) = parse(&iata_file(dir.path(), false, dec("999.99")));
    assert_eq!(s.errors.len(), 1, "{:#?}", s.errors);
    assert_eq!((s.errors[0].field.as_str(), s.errors[0].column), ("trailer.iata_total", Some(89)));
    assert_eq!(s.errors[0].reason, "declares 999.99, the records sum to 1000.00");

    // Loaded: sales of the IATA product, the RV a receivable, the boarding fee kept.
    let mut db = TestDb::new("rede_iata").await;
    let r = ingest_file(&mut db.client, &iata_file(dir.path(), false, dec("1000.00")), "t", IngestMode::StageAndLoad)
        .await
        .unwrap();
    assert_eq!(r.outcome, Outcome::Loaded);
    let row = db
        .client
        .query_one(
            "SELECT count(*), sum(t.boarding_fee_amount), bool_and(pt.is_sale), min(p.name)
               FROM fact_card_transaction t JOIN dim_posting_type pt USING (posting_type_key)
               JOIN dim_product p USING (product_key)",
            &[],
        )
        .await
        .unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, Decimal>(1), row.get::<_, bool>(2)), (2, dec("50.00"), true));
    assert_eq!(row.get::<_, String>(3), "Crédito IATA (companhias aéreas e agências de turismo)");
    assert_eq!(db.count("SELECT count(*) FROM fact_receivable_unit").await, 1);
}

/// An EEFI file of credits (034) and anticipations (036) of the IATA RV of [`iata_file`], written field by
/// field with the verified 034 layout and the 036 checked on a real line.
fn eefi_credits(dir: &Path, name: &str, credits: &[(&str, &str, &str)], ravs: &[(&str, &str, &str, &str)]) -> PathBuf {
    let m = |s: &str| amount15(dec(s));
    // Each file its own sequence number (header 76-81), as Rede numbers the files it sends: the same number,
    // date and PV would make the second a re-sent first, which supersedes it.
    let sequence = 110 + name.bytes().map(u32::from).sum::<u32>() % 1000;
    let header = format!(
        "03003072019RedecardExtrato de Movimentacao Financeira{:<22}{sequence:06}014797470DIARIO         V3.01 - 09/06 - EEFI",
        "AGENCIA"
    );
    let mut body = Vec::new();
    let (mut credited, mut anticipated) = (Decimal::ZERO, Decimal::ZERO);
    // 034 and 036 open alike: type, PV, document, date, amount, "C", bank, branch, account.
    let credit = |width: usize, code: &str, doc: &str, date: &str, amount: &str, rest: &[(usize, &str)]| {
        let amount = m(amount);
        let mut fields = vec![
            (1, code),
            (4, "014797470"),
            (13, doc),
            (24, date),
            (32, amount.as_str()),
            (47, "C"),
            (48, "341"),
            (51, "000278"),
            (57, "00000177381"),
        ];
        fields.extend_from_slice(rest);
        positional(width, &fields)
    };
    // (installment, date, amount)
    for (n, date, amount) in credits {
        credited += dec(amount);
        body.push(credit(
            140,
            "034",
            "00002440978",
            date,
            amount,
            &[
                (68, date),
                (76, "123456789"),
                (85, "01062019"),
                (93, "1"),
                (94, "1"),
                (95, &m("1000.00")),
                (110, &m("30.00")),
                (125, &format!("{n}/02")),
                (130, "07"),
                (132, "014797470"),
            ],
        ));
    }
    // (installment, date credited, amount credited, scheduled amount) — due 2019-08-01
    for (n, date, amount, scheduled) in ravs {
        anticipated += dec(amount);
        body.push(credit(
            152,
            "036",
            "00002440979",
            date,
            amount,
            &[
                (68, "123456789"),
                (77, "01062019"),
                (85, &m(scheduled)),
                (100, "01082019"),
                (108, &format!("{n}/02")),
                (113, &m("1000.00")),
                (128, &m("30.00")),
                (143, "014797470"),
                (152, "1"),
            ],
        ));
    }
    let trailer = positional(
        100,
        &[
            (1, "052"),
            (4, "0001"),
            (8, &format!("{:06}", body.len() + 2)),
            (14, "014797470"),
            (27, &amount15(credited)),
            (42, &format!("{:06}", ravs.len())),
            (48, &amount15(anticipated)),
        ],
    );
    let mut file = vec![header.into_bytes()];
    file.extend(body);
    file.push(trailer);
    write_lines(&dir.join(name), &file)
}

type Item = (String, i32, String, Option<Decimal>, Option<Decimal>, String, String);

/// Load `files`, reconcile `scope`, and list Rede's receivables and adjustments items.
async fn recon_items(
    db: &mut TestDb,
    files: Vec<PathBuf>,
    scope: &syncrocardpay_core::reconcile::Scope,
    settings: &syncrocardpay_core::reconcile::Settings,
) -> Vec<Item> {
    for f in files {
        let r = ingest_file(&mut db.client, &f, "t", IngestMode::StageAndLoad).await.unwrap();
        assert_eq!(r.outcome, Outcome::Loaded, "{}: {:?}", f.display(), r.summary.map(|s| s.errors));
    }
    // What the run found, settled items with their details (a stored run keeps those as links; that it
    // stores what it computes is tests/reconcile.rs's round trip).
    syncrocardpay_core::db::recon::run(&mut db.client, scope, settings).await.unwrap();
    let inputs = syncrocardpay_core::db::recon::inputs(&db.client, scope, settings).await.unwrap();
    let mut items: Vec<Item> = syncrocardpay_core::reconcile::run(scope, &inputs, settings)
        .into_iter()
        .filter(|i| i.acquirer == "rede" && matches!(i.area.as_str(), "receivables" | "adjustments"))
        .map(|i| {
            (
                i.area.as_str().to_string(),
                i.installment,
                i.status.as_str().to_string(),
                i.expected,
                i.actual,
                i.sale_code,
                i.reason,
            )
        })
        .collect();
    items.sort_by(|a, b| (std::cmp::Reverse(&a.0), a.1, &a.2).cmp(&(std::cmp::Reverse(&b.0), b.1, &b.2)));
    items
}

/// Rede's receivables are summaries and their installments: the EEVC forecasts each installment of the RV,
/// the EEFI pays it (034) or brings it forward (036, matched at the credit it anticipated, its cost listed
/// as an anticipation). An installment nobody paid by its due date is overdue.
#[tokio::test]
async fn rede_receivables_are_reconciled_per_summary_installment_with_anticipations() {
    let mut db = TestDb::new("rede_receivables").await;
    let dir = tempfile::tempdir().unwrap();
    let sales = iata_file(dir.path(), true, dec("1000.00"));
    let credit = eefi_credits(dir.path(), "eefi-1.txt", &[("01", "01072019", "485.00")], &[]);
    let rav = eefi_credits(dir.path(), "eefi-2.txt", &[], &[("02", "10072019", "480.00", "485.00")]);
    let scope = syncrocardpay_core::reconcile::Scope {
        from: chrono::NaiveDate::from_ymd_opt(2019, 6, 1).unwrap(),
        to: chrono::NaiveDate::from_ymd_opt(2019, 8, 31).unwrap(),
        merchant: None,
    };
    let settings = syncrocardpay_core::reconcile::Settings::new(chrono::NaiveDate::from_ymd_opt(2019, 9, 30).unwrap());
    let key = "014797470-123456789".to_string();
    let got = recon_items(&mut db, vec![sales, credit], &scope, &settings).await;
    let brief: Vec<_> = got.iter().map(|i| (i.0.as_str(), i.1, i.2.as_str(), i.3, i.4, i.5.clone())).collect();
    assert_eq!(
        brief,
        [
            ("receivables", 1, "paid", Some(dec("485.00")), Some(dec("485.00")), key.clone()),
            ("receivables", 2, "overdue", Some(dec("485.00")), None, key.clone()),
        ]
    );
    let got = recon_items(&mut db, vec![rav], &scope, &settings).await;
    let brief: Vec<_> = got.iter().map(|i| (i.0.as_str(), i.1, i.2.as_str(), i.3, i.4, i.5.clone())).collect();
    assert_eq!(
        brief,
        [
            ("receivables", 1, "paid", Some(dec("485.00")), Some(dec("485.00")), key.clone()),
            ("receivables", 2, "paid", Some(dec("485.00")), Some(dec("485.00")), key.clone()),
            ("adjustments", 2, "anticipation", None, Some(dec("-5.00")), key.clone()),
        ]
    );
    assert!(got[1].6.contains("paid on 2019-07-10"), "{}", got[1].6);
    assert!(got[2].6.starts_with("Antecipação de crédito (RAV): "), "{}", got[2].6);
    // What Rede says it credited, as the bank area reads it: the credit and the anticipation, each into the
    // account its record names.
    let inputs = syncrocardpay_core::db::recon::inputs(&db.client, &scope, &settings).await.unwrap();
    let paid: Vec<_> =
        inputs.bank.payments.iter().map(|p| (p.acquirer.as_str(), p.date, p.amount, &p.account)).collect();
    let d = |day: u32| chrono::NaiveDate::from_ymd_opt(2019, 7, day).unwrap();
    let account = ("341".to_string(), "177381".to_string());
    assert_eq!(
        paid,
        [("rede", d(1), dec("485.00"), &account), ("rede", d(10), dec("480.00"), &account)],
        "the anticipation deposits its net: 485.00 less its cost"
    );
}

/// EEVD amounts have no fixed width: one wider than any amount a statement holds (2^128 + 90 cents, or 29
/// digits) is an error at its field, never wrapped around to 0.90 nor a panic (issue 14, item 2).
#[test]
fn eevd_amounts_wider_than_the_database_holds_are_rejected_naming_the_field() {
    let Some(headers) = fixture("lavinas__cielo-edi__header_lines.txt").map(|p| lines(&p)) else { return };
    let header = headers.iter().find(|l| l.starts_with(b"00,")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let two_pow_128_plus_90 = "340282366920938463463374607431768211546";
    for net in [two_pow_128_plus_90, "12345678901234567890123456789", "0000000000000000001000000000000000"] {
        let (s, _, txs) = parse(&eevd_file(dir.path(), header, net));
        assert!(!s.is_valid(), "{net} loaded");
        assert!(txs.iter().all(|t| t.net_amount != Some(dec("0.90"))));
        let e = s.errors.iter().find(|e| e.field == "05.net_amount").expect("an error at the net amount");
        assert_eq!((e.line, e.column), (3, Some(65)));
        assert!(e.reason.contains("larger than any amount a statement holds"), "{e}");
    }
    // R$ 10^13 is one too many; the widest amount the facts hold (13 nines before the decimals) still reads.
    // (It reads, and then disagrees with the CV's gross 60.00 less its discount 0.90: that is its only error.)
    let (s, _, _) = parse(&eevd_file(dir.path(), header, "000999999999999999"));
    let at_net: Vec<&str> = s.errors.iter().filter(|e| e.field == "05.net_amount").map(|e| e.reason.as_str()).collect();
    assert_eq!(
        at_net,
        ["net 9999999999999.99 is not gross 60.00 less discount 0.90: the amounts of the record disagree"]
    );
}
