//! The parser against real Cielo v15 lines (see ../shared/fixtures/PROVENANCE.md).

mod common;

use common::fixtures::fixture;
use rust_decimal::Decimal;
use std::str::FromStr;
use syncrocardpay_core::formats::cielo::{v14, v15};
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
    assert_eq!(t.declared.gross_total, Some(dec("132.11")));
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
    assert_eq!(e.fee_amount, Some(dec("0.37")));
    assert_eq!(e.net_amount, Some(dec("-14.71")));
    assert_eq!(Some(e.gross_amount + e.fee_amount.unwrap()), e.net_amount);
}

#[test]
fn real_v13_file_parses_with_its_trailer_matching() {
    let Some(path) = fixture("am10tecnologia__php-edi-parser__edi-file-sample.txt") else { return };
    let s = validate_statement(std::fs::File::open(&path).unwrap(), "v13").unwrap();
    assert!(s.is_valid(), "errors: {:?}", s.errors);
    assert_eq!(s.layout_version.as_deref(), Some("013"));
    assert_eq!(s.code_set, Some("cielo-v14"));
    assert_eq!(s.file_type.as_ref().unwrap().code, "08");
    assert_eq!(s.merchant_code.as_deref(), Some("1074397387"));
    assert_eq!(s.record_counts.get("1"), Some(&578));
    assert_eq!(s.record_counts.get("2"), Some(&320));
    assert_eq!(s.receivable_units.count, 578);
    assert_eq!(s.transactions.count, 320);
    assert_eq!(s.receivable_units.net, dec("118334.43"));
    assert_eq!(s.receivable_units.gross, dec("122029.14"));
    assert_eq!(s.receivable_units.fee, dec("-3694.71"));
    let t = s.trailer.unwrap();
    assert!(t.matches);
    assert_eq!((t.declared.total_records, t.declared.transaction_count), (898, 320));
    assert_eq!(t.declared.gross_total, None, "blank in this v13 trailer, so not checked");
}

#[test]
fn real_v13_ro_and_cv_fields_come_out_right() {
    let Some(path) = fixture("am10tecnologia__php-edi-parser__edi-file-sample.txt") else { return };
    let text = std::fs::read(&path).unwrap();
    let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    let mut r = FieldReader::new(lines[1]);
    let ro = v14::parse_ro(2, &mut r);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(ro.merchant_code, "1074397387");
    assert_eq!(ro.summary_number, "4171028");
    assert_eq!((ro.installment, ro.installment_plan.as_str()), (4, "/08"));
    assert_eq!(ro.posting_type_code, "01");
    assert_eq!(ro.presentation_date.unwrap().to_string(), "2017-10-28");
    assert_eq!(ro.payment_date.unwrap().to_string(), "2018-02-26");
    assert_eq!(ro.gross_amount, dec("157.58"));
    assert_eq!(ro.fee_amount, dec("-6.21"));
    assert_eq!(ro.net_amount, dec("151.37"));
    assert_eq!(ro.bank_code, "0341");
    assert_eq!(ro.brand_code, "040");
    assert_eq!(ro.product_code.as_deref(), Some("165"), "Hipercard parcelado loja");
    assert_eq!(ro.fee_rate, Some(dec("3.94")));
    let ctx = v14::RoContext::of(&ro);
    let mut r = FieldReader::new(lines[2]);
    let cv = v14::parse_cv(3, &mut r, &ctx);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(cv.summary_number, "4171028");
    assert_eq!(cv.card_bin, "637095");
    assert_eq!(cv.card_last_digits, "4699");
    assert_eq!(cv.authorization_date.unwrap().to_string(), "2017-10-28");
    assert_eq!(cv.gross_amount, dec("157.58"));
    assert_eq!((cv.installment, cv.installment_count), (4, 8));
    assert_eq!(cv.authorization_code, "035700");
    assert_eq!(cv.nsu, "102230");
    assert_eq!(cv.ur_key, ro.ur_key);
    assert_eq!((cv.fee_amount, cv.net_amount), (None, None), "CVs carry no fee/net");
}

#[test]
fn real_headers_are_classified() {
    use syncrocardpay_core::formats::detect::classify;
    let Some(path) = fixture("lavinas__cielo-edi__header_lines.txt") else { return };
    let text = std::fs::read(&path).unwrap();
    let got: Vec<(String, String, String, bool)> = text
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let d = classify(l).unwrap_or_else(|e| panic!("{e}"));
            (d.acquirer.to_string(), d.format.to_string(), d.file_type.clone(), d.supported)
        })
        .collect();
    let want = [
        ("cielo", "cielo-v14", "04", true),
        ("cielo", "cielo-v14", "03", true),
        ("cielo", "cielo-v14", "06", false),
        ("rede", "rede-eevc", "EEVC", true),
        ("rede", "rede-eefi", "EEFI", true),
        ("rede", "rede-eevd", "EEVD", true),
        ("getnet", "getnet", "CEADM100", false),
        ("cielo", "cielo-v14", "10", false),
    ];
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert_eq!((g.0.as_str(), g.1.as_str(), g.2.as_str(), g.3), w);
    }
}
