//! The parser against real Cielo v15 lines (see ../shared/fixtures/PROVENANCE.md).

mod common;

use common::fixtures::fixture;
use rust_decimal::Decimal;
use std::str::FromStr;
use syncrocardpay_core::formats::cielo::v15;
use syncrocardpay_core::formats::{validate_statement, FieldReader};

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

#[test]
fn real_cielo04_v15_file_parses_and_its_trailer_matches() {
    let Some(path) = fixture("williamsilva__CardSync__cielo04_v15_lines.txt") else {
        return;
    };
    let s = validate_statement(std::fs::File::open(&path).unwrap(), "cielo04").unwrap();
    assert!(s.is_valid(), "errors: {:?}", s.errors);
    assert_eq!(s.layout_version.as_deref(), Some("015"));
    assert_eq!(s.file_type.as_ref().unwrap().code, "04");
    assert_eq!(s.merchant_code.as_deref(), Some("1051583117"));
    assert_eq!(s.record_counts.get("D"), Some(&1));
    assert_eq!(s.record_counts.get("E"), Some(&1));
    assert_eq!(s.receivable_units.gross, dec("132.11"));
    assert_eq!(s.receivable_units.fee, dec("-3.28"));
    assert_eq!(s.receivable_units.net, dec("128.83"));
    assert_eq!(s.transactions.gross, dec("132.11"));
    assert_eq!(s.transactions.fee, dec("-3.28"));
    assert_eq!(s.transactions.net, dec("128.83"));
    let t = s.trailer.unwrap();
    assert!(t.matches);
    assert_eq!(t.declared.total_records, 2);
    assert_eq!(t.declared.net_total, dec("128.83"));
    assert_eq!(t.declared.gross_total, dec("132.11"));
    assert_eq!(t.declared.transaction_count, 1);
}

#[test]
fn real_cielo04_v15_fields_come_out_right() {
    let Some(path) = fixture("williamsilva__CardSync__cielo04_v15_lines.txt") else {
        return;
    };
    let text = std::fs::read(&path).unwrap();
    let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l)).collect();
    let mut r = FieldReader::new(lines[1]);
    let d = v15::parse_receivable_unit(2, &mut r);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(d.brand_code, "001");
    assert_eq!(d.settlement_type_code, "002");
    assert_eq!(d.payment_status_code, "03");
    assert_eq!(d.bank_code, "0341");
    assert_eq!(d.account_number, "00000000000000024515");
    assert_eq!(d.payment_date.unwrap().to_string(), "2026-08-03");
    assert_eq!(d.sent_to_bank_date.unwrap().to_string(), "2026-07-31");
    let mut r = FieldReader::new(lines[2]);
    let e = v15::parse_transaction(3, &mut r);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(e.ur_key, d.ur_key, "D and E share the UR key");
    assert_eq!(e.authorization_code, "437940");
    assert_eq!(e.product_code, "040");
    assert_eq!(e.nsu, "046002");
    assert_eq!(e.card_bin, "498407");
    assert_eq!(e.card_last_digits, "3786");
    assert_eq!(e.mdr_rate, Some(dec("2.48")));
    assert_eq!(e.unique_sale_code, "618470748481898");
    assert_eq!(e.authorization_date.unwrap().to_string(), "2026-07-03");
    assert_eq!(e.capture_date.unwrap().to_string(), "2026-07-04");
    assert_eq!(e.sale_time.unwrap().to_string(), "21:16:44");
}

#[test]
fn real_chargeback_line_signs_come_out_right() {
    let Some(path) = fixture("williamsilva__CardSync__cielo_v15_E_chargeback_line.txt") else {
        return;
    };
    let raw = std::fs::read(&path).unwrap();
    let line = raw.split(|&b| b == b'\n').next().unwrap();
    // The author trimmed the line to 719 bytes and it is shifted after 302: use 1-302, blank the rest.
    let mut padded = line[..302].to_vec();
    padded.resize(760, b' ');
    let mut r = FieldReader::new(&padded);
    let e = v15::parse_transaction(1, &mut r);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(e.posting_type_code, "08");
    assert_eq!(e.adjustment_code.as_deref(), Some("0301"));
    assert_eq!(e.gross_amount, dec("-15.08"));
    assert_eq!(e.fee_amount, dec("0.37"));
    assert_eq!(e.net_amount, dec("-14.71"));
    assert_eq!(e.gross_amount + e.fee_amount, e.net_amount);
}
