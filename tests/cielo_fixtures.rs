//! The parser against real Cielo v15 lines (see ../shared/fixtures/PROVENANCE.md).

use crate::common;

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

// ------------------------------------------------------------------ Cielo's official v15 test kit (whole files)

use syncrocardpay_core::formats::{AnomalyKind, StatementSummary};

fn kit(name: &str) -> Option<StatementSummary> {
    let path = fixture(&format!("cielo-official-kit-v15/{name}"))?;
    Some(validate_statement(std::fs::File::open(&path).unwrap(), name).unwrap())
}

/// A CIELO03 with no D record: its trailer totals the E records, and the voucher sale loads as it is.
#[test]
fn official_kit_cielo03_voucher_sale_loads_with_an_e_based_trailer() {
    let Some(s) = kit("cielo03-venda-voucher.txt") else { return };
    assert!(s.is_valid(), "errors: {:?}", s.errors);
    assert_eq!((s.receivable_units.count, s.transactions.count), (0, 1));
    assert_eq!(
        (s.transactions.gross, s.transactions.fee, s.transactions.net),
        (dec("245.80"), dec("-7.35"), dec("238.45"))
    );
    let t = s.trailer.unwrap();
    assert!(t.matches);
    assert_eq!(t.reading, "detail_totals_no_units");
    assert_eq!((t.declared.total_records, t.declared.transaction_count), (1, 1));
    assert_eq!((t.declared.gross_total, t.declared.net_total), (Some(dec("245.80")), dec("238.45")));
    assert_eq!(s.anomaly_count, 0);
}

/// The ARV debit (posting 49): a debit of 238.45 with no fee, its product left blank (an anomaly, not an
/// error), tied to the anticipation operation of the kit's CIELO15 by its transaction code.
#[test]
fn official_kit_cielo03_arv_debit_loads_as_a_debit_with_a_blank_product_anomaly() {
    let Some(s) = kit("cielo03-debito-arv.txt") else { return };
    assert!(s.is_valid(), "errors: {:?}", s.errors);
    assert_eq!(
        (s.transactions.count, s.transactions.gross, s.transactions.fee, s.transactions.net),
        (1, dec("-238.45"), dec("0"), dec("-238.45"))
    );
    assert_eq!(s.trailer.as_ref().unwrap().reading, "detail_totals_no_units");
    assert!(s.trailer.as_ref().unwrap().matches);
    assert_eq!(s.anomaly_count, 1);
    let a = &s.anomalies[0];
    assert_eq!((a.line, a.column, a.field.as_str(), a.kind), (2, Some(156), "E.product_code", AnomalyKind::BlankCode));
    assert_eq!(a.found, "\"   \"");

    let path = fixture("cielo-official-kit-v15/cielo03-debito-arv.txt").unwrap();
    let text = std::fs::read(&path).unwrap();
    let line = text.split(|&b| b == b'\n').nth(1).unwrap();
    let mut r = FieldReader::new(line);
    let e = v15::parse_transaction(2, &mut r);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!((e.posting_type_code.as_str(), e.product_code.as_str(), e.nsu.as_str()), ("49", "", "000000"));
    assert_eq!(e.original_posting_type_code, "49");
    assert_eq!(e.negotiation_effect_id, "000010000000003");
    assert_eq!(e.sales_channel, "998");
    assert_eq!(e.negotiation_flag, "S");
    assert_eq!(e.posting_date.unwrap().to_string(), "2026-02-18");
    // The same operation as the kit's CIELO15 negotiation summary (record A, operation 02026021801077952119).
    let Some(cielo15) = fixture("williamsilva__CardSync__cielo15_v15_officialkit.txt") else { return };
    let text15 = std::fs::read(&cielo15).unwrap();
    let a_line = text15.split(|&b| b == b'\n').nth(1).unwrap();
    let mut r = FieldReader::new(a_line);
    let a = v15::parse_negotiation(2, &mut r, "1234567890");
    assert_eq!(a.operation_code.trim_start_matches('0'), e.transaction_code);
    assert_eq!(a.gross_amount, -e.gross_amount, "the debit takes back the anticipated gross");
}

/// The CIELO04 of the kit: a voucher sale paid and the ARV debit of the same day, which nets the day to 0.00.
#[test]
fn official_kit_cielo04_day_nets_to_zero() {
    let Some(s) = kit("cielo04-pagamento.txt") else { return };
    assert!(s.is_valid(), "errors: {:?}", s.errors);
    assert_eq!((s.receivable_units.count, s.transactions.count), (2, 2));
    assert_eq!(
        (s.receivable_units.gross, s.receivable_units.fee, s.receivable_units.net),
        (dec("7.35"), dec("-7.35"), dec("0.00"))
    );
    assert_eq!(s.transactions.net, dec("0.00"));
    let t = s.trailer.unwrap();
    assert!(t.matches);
    assert_eq!(t.reading, "unit_totals");
    assert_eq!((t.declared.total_records, t.declared.transaction_count), (4, 2));
    assert_eq!((t.declared.net_total, t.declared.gross_total), (dec("0"), Some(dec("7.35"))));
    assert_eq!(s.anomaly_count, 1, "{:?}", s.anomalies);
    assert_eq!((s.anomalies[0].line, s.anomalies[0].field.as_str()), (5, "E.product_code"));
}

/// CIELO16 trailers total the Pix records but count none of them.
#[test]
fn official_kit_cielo16_pix_totals_hold_with_a_count_of_zero() {
    let Some(s) = kit("cielo16-pix.txt") else { return };
    assert!(s.is_valid(), "errors: {:?}", s.errors);
    assert_eq!(s.pix.count, 16);
    assert_eq!((s.pix.gross, s.pix.fee, s.pix.net), (dec("10028.78"), dec("-1.40"), dec("10027.38")));
    let t = s.trailer.unwrap();
    assert!(t.matches);
    assert_eq!(t.reading, "unit_totals_with_pix_not_counted");
    assert_eq!((t.declared.total_records, t.declared.transaction_count), (16, 0));
    assert_eq!((t.declared.net_total, t.declared.gross_total), (dec("10027.38"), Some(dec("10028.78"))));

    let Some(s) = kit("cielo16-pix-desbloqueio.txt") else { return };
    assert!(s.is_valid(), "errors: {:?}", s.errors);
    assert_eq!((s.pix.count, s.pix.gross, s.pix.fee, s.pix.net), (1, dec("200.00"), dec("-0.10"), dec("199.90")));
    assert!(s.trailer.unwrap().matches);
}

/// Every file of the kit loads (the kit's sixth, the CIELO15, is checked in cielo_v15_records.rs).
#[test]
fn every_official_kit_file_validates() {
    let Some(dir) = fixture("cielo-official-kit-v15/cielo04-pagamento.txt").map(|p| p.parent().unwrap().to_path_buf())
    else {
        return;
    };
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let s = validate_statement(std::fs::File::open(&path).unwrap(), &path.display().to_string()).unwrap();
        assert!(s.is_valid(), "{}: {:?}", path.display(), s.errors);
        assert!(s.trailer.unwrap().matches, "{}", path.display());
        seen += 1;
    }
    assert_eq!(seen, 5);
}

/// A CIELO09 D line as real production files carry it: `+` on a fee that was deducted (316.90 − 7.87 =
/// 309.03). The fee loads as −7.87 and the contradiction is kept as an anomaly; it is never +7.87.
#[test]
fn real_cielo09_d_line_with_a_plus_fee_sign_loads_the_fee_as_charged() {
    let Some(path) = fixture("williamsilva__CardSync__cielo09_v15_D_line.txt") else { return };
    let d = std::fs::read(&path).unwrap();
    let d = d.split(|&b| b == b'\n').next().unwrap().to_vec();
    let mut header = b"01051583117202601022026010220260102000100".to_vec();
    header.extend_from_slice(b"0CIELO09I                    015");
    header.resize(250, b' ');
    let zero = "0".repeat(17);
    let trailer = format!("9{:011}+{:017}{:011}+{:017}+{zero}+{zero}", 1, 30903, 0, 31690);
    let mut trailer = trailer.into_bytes();
    trailer.resize(250, b' ');
    let file: Vec<u8> = [header, d, trailer].join(&b'\n');
    let s = validate_statement(&file[..], "cielo09").unwrap();
    assert!(s.is_valid(), "errors: {:?}", s.errors);
    assert_eq!(s.file_type.as_ref().unwrap().code, "09");
    assert_eq!(
        (s.receivable_units.gross, s.receivable_units.fee, s.receivable_units.net),
        (dec("316.90"), dec("-7.87"), dec("309.03"))
    );
    assert_eq!(s.anomaly_count, 1);
    let a = &s.anomalies[0];
    assert_eq!((a.line, a.column, a.field.as_str()), (2, Some(86), "D.fee_amount"));
    assert_eq!((a.kind, a.found.as_str(), a.used.as_str()), (AnomalyKind::SignContradictsAmounts, "7.87", "-7.87"));
    assert!(s.trailer.unwrap().matches);

    // When the magnitudes themselves disagree, nothing can be determined: rejected, naming the figures.
    let mut bad = file.clone();
    let net_col = 251 + 100; // the D line starts at byte 252 (1-based), its net digits at 101..113
    bad[net_col + 11] = b'9';
    let s = validate_statement(&bad[..], "cielo09-bad").unwrap();
    assert!(!s.is_valid());
    let e = s.errors.iter().find(|e| e.field == "D.net_amount").expect("a net error");
    assert_eq!((e.line, e.column), (2, Some(100)));
    assert!(
        e.reason.contains("316.90") && e.reason.contains("7.87") && e.reason.contains("cannot be determined"),
        "{e}"
    );
}

// ------------------------------------------------------------------ Cielo layout 001 (2013 manual; 2015-2016 files)

/// The whole real CIELO03P of layout 001: 682 ROs and 936 CVs, every RO with net = gross + fee, and its
/// trailer's record count (all that trailer declares).
#[test]
fn real_layout_001_cielo03_loads_with_its_ro_identity_and_record_count() {
    let Some(path) = fixture("cielo-layout-001/adrianolaselva__doctrine-orm-batch__cielo03p_modelo_1.RET") else {
        return;
    };
    let s = validate_statement(std::fs::File::open(&path).unwrap(), "cielo03p").unwrap();
    assert!(s.is_valid(), "errors: {:?}", s.errors);
    assert_eq!((s.layout_version.as_deref(), s.code_set), (Some("001"), Some("cielo-v14")));
    assert_eq!((s.file_type.as_ref().unwrap().code.as_str(), s.merchant_code.as_deref()), ("03", Some("1038991452")));
    assert_eq!(s.sequence.as_deref(), Some("9999999"), "a recovered file");
    assert_eq!((s.receivable_units.count, s.transactions.count), (682, 936));
    assert_eq!(
        (s.receivable_units.gross, s.receivable_units.fee, s.receivable_units.net),
        (dec("112315.27"), dec("-2340.36"), dec("109974.91"))
    );
    let t = s.trailer.unwrap();
    assert!(t.matches);
    assert_eq!((t.reading, t.declared.total_records), ("record_count_only", 1618));
    assert_eq!(s.anomaly_count, 0);

    // Field by field: the first RO and its first CV.
    let text = std::fs::read(&path).unwrap();
    let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l)).collect();
    let mut r = FieldReader::new(lines[1]);
    let ro = v14::parse_ro(2, &mut r);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!((ro.merchant_code.as_str(), ro.summary_number.as_str()), ("1038991452", "0150501"));
    assert_eq!(ro.posting_type_code, "04");
    assert_eq!(ro.presentation_date.unwrap().to_string(), "2015-05-01");
    assert_eq!(ro.payment_date.unwrap().to_string(), "2015-05-05");
}

/// Layout 001 files come right-trimmed from some tools: a line missing only its trailing "uso Cielo" blanks
/// is read padded, and kept as an anomaly; one cut into its fields is still an error.
#[test]
fn right_trimmed_layout_001_lines_are_read_as_an_anomaly() {
    let Some(path) = fixture("cielo-layout-001/adrianolaselva__doctrine-orm-batch__v001_header_ro_cv_lines.txt") else {
        return;
    };
    let mut lines = common::statements::lines(&path);
    lines.push(b"900000000002".to_vec());
    let s = validate_statement(&lines.join(&b'\n')[..], "trimmed").unwrap();
    assert!(s.is_valid(), "errors: {:?}", s.errors);
    let kinds: Vec<(u64, &str, AnomalyKind)> = s.anomalies.iter().map(|a| (a.line, a.field.as_str(), a.kind)).collect();
    assert_eq!(
        kinds,
        [
            (1, "header.line", AnomalyKind::RightTrimmedLine),
            (2, "RO.line", AnomalyKind::RightTrimmedLine),
            (3, "CV.line", AnomalyKind::RightTrimmedLine),
            (4, "trailer.line", AnomalyKind::RightTrimmedLine)
        ]
    );
    assert_eq!((s.receivable_units.net, s.transactions.gross), (dec("10.35"), dec("11.00")));
    // Cut inside its fields (the RO's product code), a line is still an error.
    lines[1].truncate(230);
    let s = validate_statement(&lines.join(&b'\n')[..], "cut").unwrap();
    assert!(s.errors.iter().any(|e| e.line == 2 && e.field == "line"), "{:?}", s.errors);
}

/// The real layout 001 anticipation file (CIELO06, ARV of 2016-06-06): one operation (record 5) of
/// 23 256.33 gross / 22 116.98 net at 1.30 %, its 235 ROs (records 6) adding up to exactly that, 11 debits
/// offset against anticipated ROs (records 7), and 278 CVs of those ROs and debits; field by field.
#[test]
fn real_layout_001_anticipation_file_loads_operation_ros_and_offsets() {
    use syncrocardpay_core::model::Record;
    let Some(path) = fixture("cielo-layout-001/adrianolaselva__doctrine-orm-batch__cielo06.txt") else { return };
    let mut records = Vec::new();
    let s = syncrocardpay_core::formats::read_statement(std::fs::File::open(&path).unwrap(), "cielo06", &mut |r| {
        records.push(r);
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    assert!(s.is_valid(), "errors: {:?}", s.errors);
    assert_eq!((s.file_type.as_ref().unwrap().kind, s.layout_version.as_deref()), ("anticipation", Some("001")));
    assert_eq!((s.negotiations.count, s.negotiated_receivables.count, s.negotiation_credits.count), (1, 235, 1));
    assert_eq!((s.anticipation_offsets.count, s.transactions.count), (11, 278));
    assert_eq!((s.negotiations.gross, s.negotiations.net), (dec("23256.33"), dec("22116.98")));
    assert_eq!((s.negotiated_receivables.gross, s.negotiated_receivables.net), (dec("23256.33"), dec("22116.98")));
    assert_eq!(s.negotiation_credits.net, dec("22116.98"));
    assert_eq!(s.anticipation_offsets.gross, dec("-1061.46"));
    assert_eq!(s.trailer.as_ref().map(|t| (t.matches, t.declared.total_records)), Some((true, 525)));

    let a = records.iter().find_map(|r| if let Record::Negotiation(a) = r { Some(a) } else { None }).unwrap();
    assert_eq!((a.line_no, a.operation_code.as_str(), a.merchant_code.as_str()), (2, "190832236", "1053063048"));
    assert_eq!(a.payment_date.unwrap().to_string(), "2016-06-06");
    assert_eq!(a.nominal_rate, dec("1.30"));
    let c = records.iter().find_map(|r| if let Record::NegotiationCredit(c) = r { Some(c) } else { None }).unwrap();
    assert_eq!(
        (c.bank_code.as_str(), c.branch_code.as_str(), c.account_number.as_str()),
        ("0001", "02973", "0000484911")
    );
    assert_eq!((c.negotiation_line_no, c.deposited_amount), (2, dec("22116.98")));
    // The first RO anticipated: R$ 400.00 of sales, 394.80 net, all of it offset by two debits of 253.98.
    let b = records.iter().find_map(|r| if let Record::NegotiatedReceivable(b) = r { Some(b) } else { None }).unwrap();
    let ro = b.summary.as_ref().unwrap();
    assert_eq!((b.line_no, b.negotiation_line_no, b.brand_code.as_str()), (3, 2, "001"));
    assert_eq!((ro.summary_number.as_str(), ro.ur_key.as_str()), ("5160601", "1615311702911610000000"));
    assert_eq!(b.original_due_date.unwrap().to_string(), "2016-06-02");
    assert_eq!((ro.installment, ro.installment_count), (0, 0));
    assert_eq!((ro.original_gross_amount, ro.original_net_amount), (dec("400.00"), dec("394.80")));
    assert_eq!((b.gross_amount, b.net_amount, b.discount_amount), (dec("0"), dec("0"), Some(dec("0"))));
    let offsets: Vec<_> =
        records.iter().filter_map(|r| if let Record::AnticipationOffset(o) = r { Some(o) } else { None }).collect();
    let o = offsets[0];
    assert_eq!((o.line_no, o.summary_number.as_str(), o.ur_key.as_str()), (5, "5160601", "1615311702911610000000"));
    assert_eq!(
        (o.adjustment_summary_number.as_str(), o.adjustment_payment_date.unwrap().to_string()),
        ("0160525", "2016-05-25".into())
    );
    assert_eq!(
        (o.summary_amount, o.adjustment_amount, o.offset_amount, o.balance_amount),
        (dec("394.80"), dec("-253.98"), dec("-253.98"), dec("140.82"))
    );
    assert_eq!((offsets[1].offset_amount, offsets[1].balance_amount), (dec("-140.82"), dec("0")));
    // CVs inherit the RO they follow: the sale of the anticipated RO, then the debit offset against it.
    let cvs: Vec<_> =
        records.iter().filter_map(|r| if let Record::Transaction(t) = r { Some(t) } else { None }).collect();
    assert_eq!(
        (cvs[0].summary_number.as_str(), cvs[0].posting_type_code.as_str(), cvs[0].gross_amount),
        ("5160601", "01", dec("400.00"))
    );
    assert_eq!(
        (cvs[1].summary_number.as_str(), cvs[1].posting_type_code.as_str(), cvs[1].gross_amount),
        ("0160525", "03", dec("-253.98"))
    );
}

/// What an anticipation file declares must add up, or it is refused naming the record and the figures: an
/// RO whose debits do not explain what was anticipated, an operation its ROs do not add up to, a debit offset
/// that follows another RO, an RO of an operation not declared before it.
#[test]
fn layout_001_anticipation_figures_that_do_not_add_up_are_refused() {
    let Some(path) = fixture("cielo-layout-001/adrianolaselva__doctrine-orm-batch__cielo06.txt") else { return };
    let lines = common::statements::lines(&path);
    let check = |edit: &dyn Fn(&mut Vec<Vec<u8>>), line: u64, field: &str, says: &str| {
        let mut l = lines.clone();
        edit(&mut l);
        let s = validate_statement(&l.join(&b'\n')[..], "edited").unwrap();
        assert!(
            s.errors.iter().any(|e| e.line == line && e.field == field && e.reason.contains(says)),
            "{field} at line {line}: {:?}",
            s.errors
        );
    };
    // The first offset (line 5) takes 253.97 instead of 253.98: the RO at line 3 no longer adds up.
    check(&|l| common::statements::put(&mut l[4], 114, "-0000000025397"), 3, "6.gross_amount", "original net 394.80");
    // The RO at line 3 anticipates 1.00 more than its debits leave, and so its operation is off too.
    check(
        &|l| common::statements::put(&mut l[2], 68, "+0000000000100"),
        2,
        "5.gross_amount",
        "add up to gross 23257.33",
    );
    // The operation's agendas do not add up to its total.
    check(&|l| common::statements::put(&mut l[1], 29, "+0000000374078"), 2, "5.gross_amount", "sum of its agendas");
    // An RO of another operation.
    check(&|l| common::statements::put(&mut l[2], 12, "190832237"), 3, "6.operation_code", "record 5 is not before it");
    // An offset against an RO it does not follow.
    check(&|l| common::statements::put(&mut l[4], 34, "5160602"), 5, "7.ur_key", "does not follow");
}
