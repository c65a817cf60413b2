//! The bank statement readers on made-up files that each show one case: what is read, what is kept as an
//! anomaly, what rejects the file and how the error names it. (The real files are in tests/bank_statements.rs.)

use super::*;
use std::str::FromStr;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn ofx(transactions: &str) -> String {
    format!(
        "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nCHARSET:1252\r\n\r\n<OFX>\n<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0\
         <SEVERITY>INFO</STATUS><DTSERVER>20260910120000[-3:BRT]</SONRS></SIGNONMSGSRSV1>\n<BANKMSGSRSV1><STMTTRNRS>\
         <STMTRS><CURDEF>BRL\n<BANKACCTFROM><BANKID>0341<BRANCHID>1234<ACCTID>56789-0<ACCTTYPE>CHECKING</BANKACCTFROM>\n\
         <BANKTRANLIST><DTSTART>20260901<DTEND>20260930\n{transactions}</BANKTRANLIST>\n\
         <LEDGERBAL><BALAMT>1500.00<DTASOF>20260930</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"
    )
}

fn trn(date: &str, amount: &str, fitid: &str, memo: &str) -> String {
    format!(
        "<STMTTRN>\n<TRNTYPE>CREDIT\n<DTPOSTED>{date}\n<TRNAMT>{amount}\n<FITID>{fitid}\n<MEMO>{memo}\n</STMTTRN>\n"
    )
}

#[test]
fn an_ofx_statement_gives_its_account_period_balance_and_entries() {
    let text = ofx(&(trn("20260902100000[-03:EST]", "1234.56", "A1", "REDE VISA DB083323902  ")
        + &trn("20260903", "-10.00", "A2", "TARIFA")));
    let (s, entries) = read_all(text.as_bytes(), "x.ofx");
    assert!(s.is_valid(), "{:?}", s.errors);
    assert_eq!(
        s.accounts[0].account,
        BankAccount { bank: "0341".into(), branch: "1234".into(), number: "56789-0".into() }
    );
    assert_eq!(s.accounts[0].period_start, NaiveDate::from_ymd_opt(2026, 9, 1));
    assert_eq!(s.accounts[0].closing_balance, Some(dec("1500.00")));
    assert_eq!((s.accounts[0].credits, s.accounts[0].debits), (dec("1234.56"), dec("10.00")));
    assert_eq!(entries.len(), 2);
    assert_eq!((entries[0].date.to_string(), entries[0].amount), ("2026-09-02".into(), dec("1234.56")));
    assert_eq!(entries[0].memo, "REDE VISA DB083323902", "trimmed");
    assert_eq!(entries[0].line, 11, "the line its STMTTRN starts on");
    assert!(s.anomalies.is_empty(), "{:?}", s.anomalies);
}

#[test]
fn ofx_deviations_with_a_clear_meaning_are_read_and_kept() {
    let text = ofx(&(trn("20260902", "-600,00", "", "PIX")
        + &trn("20260902", "50.00", "X", "A")
        + &trn("20260902", "50.00", "X", "A")));
    let (s, entries) = read_all(text.as_bytes(), "x.ofx");
    assert!(s.is_valid(), "{:?}", s.errors);
    assert_eq!(entries[0].amount, dec("-600.00"));
    let kinds: Vec<AnomalyKind> = s.anomalies.iter().map(|a| a.kind).collect();
    assert_eq!(
        kinds,
        [AnomalyKind::CommaDecimal, AnomalyKind::MissingId, AnomalyKind::RepeatedId, AnomalyKind::RepeatedId]
    );
    // Two identical lines are two entries, numbered apart.
    assert_eq!((entries[1].occurrence, entries[2].occurrence), (0, 1));
    // Windows-1252 bytes under a UTF-8 declaration: read as what they are.
    let latin = ofx(&trn("20260902", "1.00", "Z", "CART\u{00C3}O")).replace("CHARSET:1252", "CHARSET:UTF-8");
    let bytes: Vec<u8> = latin.chars().map(|c| c as u32 as u8).collect();
    let (s, entries) = read_all(&bytes, "x.ofx");
    assert_eq!((s.encoding, entries[0].memo.as_str()), ("windows-1252", "CARTÃO"));
    assert_eq!(s.anomalies[0].kind, AnomalyKind::CharsetNotAsDeclared);
}

#[test]
fn what_cannot_be_read_rejects_the_ofx_naming_line_and_field() {
    let (s, _) = read_all(ofx(&trn("20260902", "12.3.4", "A", "M")).as_bytes(), "x.ofx");
    assert!(!s.is_valid());
    assert_eq!((s.errors[0].line, s.errors[0].field.as_str()), (14, "STMTTRN.TRNAMT"));
    assert!(s.errors[0].reason.contains("\"12.3.4\" is not an amount"), "{:?}", s.errors);
    let (s, _) = read_all(ofx(&trn("20261302", "1.00", "A", "M")).as_bytes(), "x.ofx");
    assert_eq!(s.errors[0].field, "STMTTRN.DTPOSTED");
    let no_account = ofx("").replace("<ACCTID>56789-0", "");
    let (s, _) = read_all(no_account.as_bytes(), "x.ofx");
    assert!(s.errors[0].reason.contains("no number"), "{:?}", s.errors);
    let (s, _) = read_all(b"hello, world\n", "x.txt");
    assert!(s.format.is_none() && s.errors[0].reason.starts_with("neither an OFX"));
}

#[test]
fn an_empty_leaf_left_unclosed_does_not_hide_the_account() {
    let text = ofx(&trn("20260902", "1.00", "A", "M")).replace("<BRANCHID>1234", "<BRANCHID>\n");
    let (s, entries) = read_all(text.as_bytes(), "x.ofx");
    assert!(s.is_valid(), "{:?}", s.errors);
    assert_eq!((s.accounts[0].account.branch.as_str(), s.accounts[0].account.number.as_str()), ("", "56789-0"));
    assert_eq!(entries.len(), 1);
}

#[test]
fn an_ofx_2_xml_statement_reads_the_same() {
    let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<?OFX OFXHEADER=\"200\" VERSION=\"211\" SECURITY=\"NONE\"?>\n<OFX>\
        <BANKMSGSRSV1><STMTTRNRS><STMTRS><BANKACCTFROM><BANKID>001</BANKID><ACCTID>99-1</ACCTID></BANKACCTFROM>\
        <BANKTRANLIST><STMTTRN><TRNTYPE>CREDIT</TRNTYPE><DTPOSTED>20260905</DTPOSTED><TRNAMT>10.50</TRNAMT>\
        <FITID>F1</FITID><MEMO>CIELO &amp; CIA</MEMO></STMTTRN></BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>";
    let (s, entries) = read_all(xml.as_bytes(), "x.ofx");
    assert!(s.is_valid(), "{:?}", s.errors);
    assert_eq!((entries[0].amount, entries[0].memo.as_str()), (dec("10.50"), "CIELO & CIA"));
}

/// A CNAB 240 extrato of one account: `entries` as (DDMMAAAA, amount in centavos, D/C, memo), the opening
/// balance and the closing one the trailer states, both final.
fn cnab(entries: &[(&str, i64, char, &str)], opening: i64, closing: i64) -> String {
    let pad = |s: String| format!("{s:<240}");
    let mut lines = vec![pad(format!(
        "34100000{:9}2{:014}{:20}{:05}1{:012}12{:30}{:30}{:10}2{}",
        "", 12345678000199u64, "", 1234, 56789, "EMPRESA", "BANCO", "", "01092026120000000001082"
    ))];
    lines.push(pad(format!(
        "34100011E0440033 2{:014}{:20}{:05}1{:012}12{:30}{:40}01092026{opening:018}CFBRL00001",
        12345678000199u64, "", 1234, 56789, "EMPRESA", ""
    )));
    let (mut debits, mut credits) = (0, 0);
    for (n, (date, amount, side, memo)) in entries.iter().enumerate() {
        if *side == 'D' {
            debits += amount
        } else {
            credits += amount
        }
        lines.push(pad(format!(
            "3410001300{:03}E   2{:014}{:20}{:05}1{:012}12{:30}{:6}DPV00{:20}N{date}{date}{amount:018}{side}2050000{memo:<25}{:39}",
            n + 1, 12345678000199u64, "", 1234, 56789, "EMPRESA", "", "", "DOC1"
        )));
    }
    lines.push(pad(format!(
        "34100015{:9}2{:014}{:20}{:05}1{:012}12{:16}{:018}{:018}{:018}30092026{closing:018}CF{:06}{debits:018}{credits:018}",
        "", 12345678000199u64, "", 1234, 56789, "", 0, 0, 0, entries.len() + 2
    )));
    lines.push(pad(format!("34199999{:9}{:06}{:06}{:06}", "", 1, entries.len() + 4, 1)));
    lines.join("\r\n") + "\r\n"
}

#[test]
fn a_cnab240_extrato_gives_its_account_balances_and_entries_checked_against_its_trailers() {
    let file =
        cnab(&[("02092026", 123456, 'C', "REDE VISA   DB083323902"), ("03092026", 1000, 'D', "TARIFA")], 50000, 172456);
    let (s, entries) = read_all(file.as_bytes(), "x.ret");
    assert!(s.is_valid(), "{:#?}", s.errors);
    assert_eq!(s.format, Some(BankFormat::Cnab240));
    let a = &s.accounts[0];
    assert_eq!(
        a.account,
        BankAccount { bank: "341".into(), branch: "01234-1".into(), number: "000000056789-12".into() }
    );
    assert_eq!((a.opening_balance, a.closing_balance), (Some(dec("500.00")), Some(dec("1724.56"))));
    assert_eq!((entries[0].amount, entries[1].amount), (dec("1234.56"), dec("-10.00")));
    assert_eq!(entries[0].memo, "REDE VISA DB083323902", "runs of blanks collapsed");
    assert_eq!(
        (entries[0].category.as_deref(), entries[0].bank_code.as_str(), entries[0].bank_id.as_str()),
        (Some("205"), "0000", "DOC1")
    );
    assert_eq!(entries[1].line, 4);
}

#[test]
fn a_cnab240_extrato_that_does_not_add_up_is_rejected_naming_the_field() {
    let ok = cnab(&[("02092026", 123456, 'C', "CIELO")], 50000, 173456);
    // The trailer's credits changed by a centavo.
    let lines: Vec<&str> = ok.split("\r\n").collect();
    let mut trailer = lines[3].to_string();
    trailer.replace_range(194..212, "000000000000123457");
    let wrong = ok.replace(lines[3], &trailer);
    let (s, _) = read_all(wrong.as_bytes(), "x.ret");
    assert!(!s.is_valid());
    let e = s.errors.iter().find(|e| e.field == "5.somatoria_creditos").unwrap_or_else(|| panic!("{:#?}", s.errors));
    assert_eq!((e.line, e.column), (4, Some(195)));
    assert!(e.reason.contains("declares credits of 1234.57, the entries add up to 1234.56"), "{}", e.reason);
    // Final balances the entries do not join: rejected.
    let (s, _) = read_all(cnab(&[("02092026", 100, 'C', "X")], 50000, 50000).as_bytes(), "x.ret");
    assert!(s.errors.iter().any(|e| e.field == "5.saldo_final" && e.reason.contains("= 501.00")), "{:#?}", s.errors);
    // Cut short: no trailer de arquivo.
    let cut: String = ok.split_inclusive("\r\n").take(4).collect();
    let (s, _) = read_all(cut.as_bytes(), "x.ret");
    assert!(s.errors.iter().any(|e| e.field == "9" && e.reason.contains("cut short")), "{:#?}", s.errors);
    // A detail line cut before its amount.
    let short = ok.replace(lines[2], &lines[2][..150]);
    let (s, _) = read_all(short.as_bytes(), "x.ret");
    assert!(s.errors.iter().any(|e| e.line == 3 && e.reason.starts_with("150 bytes")), "{:#?}", s.errors);
    // Trailing blanks trimmed off a line: read, kept as an anomaly.
    let trimmed = ok.replace(lines[4], lines[4].trim_end());
    let (s, _) = read_all(trimmed.as_bytes(), "x.ret");
    assert!(s.is_valid(), "{:#?}", s.errors);
    assert_eq!((s.anomalies[0].line, s.anomalies[0].kind), (5, AnomalyKind::RightTrimmedLine));
}

/// Cut, spliced and byte-flipped statements never panic the readers: each ends valid or with errors.
#[test]
fn mangled_statements_end_in_errors_never_in_a_panic() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(19);
    let seeds = [
        ofx(&(trn("20260902", "-600,00", "", "PIX") + &trn("20260903", "1.00", "A", "Ç"))).into_bytes(),
        cnab(&[("02092026", 100, 'C', "X")], 0, 100).into_bytes(),
    ];
    for _ in 0..3000 {
        let mut bytes = seeds[rng.gen_range(0..seeds.len())].clone();
        for _ in 0..rng.gen_range(1..6) {
            match rng.gen_range(0..4) {
                0 if !bytes.is_empty() => {
                    let at = rng.gen_range(0..bytes.len());
                    bytes[at] = rng.gen();
                }
                1 if !bytes.is_empty() => bytes.truncate(rng.gen_range(0..bytes.len())),
                2 => {
                    let at = rng.gen_range(0..=bytes.len());
                    bytes.insert(
                        at,
                        *[b'<', b'>', b'/', b'\r', b'\n', b'0', b'-', b','].get(rng.gen_range(0..8)).unwrap_or(&b' '),
                    );
                }
                _ => {
                    let at = rng.gen_range(0..=bytes.len());
                    let from = rng.gen_range(0..bytes.len().max(1));
                    let piece: Vec<u8> = bytes.iter().skip(from).take(40).copied().collect();
                    bytes.splice(at..at, piece);
                }
            }
        }
        let (s, entries) = read_all(&bytes, "mangled");
        assert!(s.is_valid() || s.error_count > 0 || s.format.is_none());
        assert_eq!(entries.len() as u64, s.entries());
    }
}
