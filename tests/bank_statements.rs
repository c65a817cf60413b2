//! Bank statements (issue 19, item 1) against every real and third-party file in `../shared/fixtures/bank`:
//! each reads with its own count of entries, balances and totals, its account, and the quirks it is known
//! for kept as anomalies (docs/formats.md, bank statements).

use crate::common;

use common::fixtures::fixture;
use rust_decimal::Decimal;
use std::str::FromStr;
use syncrocardpay_core::formats::bank::{read_all, BankFormat};
use syncrocardpay_core::formats::AnomalyKind;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Count the `<STMTTRN>` elements and read the first `<BALAMT>` by plain text search — independently of
/// the reader under test.
fn independent_ofx_figures(bytes: &[u8]) -> (usize, Option<Decimal>, String) {
    let text = String::from_utf8_lossy(bytes).to_uppercase();
    let count = text.matches("<STMTTRN>").count();
    let value_after = |tag: &str| {
        text.find(tag).map(|i| {
            let rest = &text[i + tag.len()..];
            rest[..rest.find(['<', '\r', '\n']).unwrap_or(rest.len())].trim().to_string()
        })
    };
    let balance = value_after("<BALAMT>").map(|v| dec(&v.replace(',', ".")));
    (count, balance, value_after("<ACCTID>").unwrap_or_default())
}

#[test]
fn every_ofx_fixture_reads_with_its_entries_balance_and_account() {
    let expected: [(&str, usize); 7] = [
        ("ofx-reader__ofx-reader__BancodoBrasil.ofx", 7),
        ("ofx-reader__ofx-reader__bb.ofx", 81),
        ("ofx-reader__ofx-reader__Bradesco.ofx", 6),
        ("ofx-reader__ofx-reader__CaixaEconomicaFederal.ofx", 3),
        ("ofx-reader__ofx-reader__Itau.ofx", 17),
        ("ofx-reader__ofx-reader__nubank.ofx", 0),
        ("ofx-reader__ofx-reader__sicredi.ofx", 54),
    ];
    for (name, count) in expected {
        let Some(path) = fixture(&format!("bank/{name}")) else { return };
        let bytes = std::fs::read(&path).unwrap();
        let (summary, entries) = read_all(&bytes, name);
        assert!(summary.is_valid(), "{name}: {:#?}", summary.errors);
        assert_eq!(summary.format, Some(BankFormat::Ofx));
        let (stmttrn, balance, acctid) = independent_ofx_figures(&bytes);
        let count = if count == 0 { stmttrn } else { count };
        assert_eq!(stmttrn, count, "{name}: the file's own count");
        assert_eq!(entries.len(), count, "{name}");
        assert_eq!(summary.entries(), count as u64);
        let account = &summary.accounts[0];
        assert_eq!(account.account.number.to_uppercase(), acctid, "{name}");
        assert_eq!(account.closing_balance, balance, "{name}: LEDGERBAL");
        let credits: Decimal = entries.iter().map(|e| e.amount).filter(|a| *a > Decimal::ZERO).sum();
        assert_eq!(account.credits, credits);
        assert!(entries.iter().all(|e| e.memo == e.memo.trim() && e.bank_id == e.bank_id.trim()), "{name}: trimmed");
    }
}

#[test]
fn the_ofx_quirks_of_real_banks_are_read_and_kept_as_anomalies() {
    let read = |name: &str| {
        let path = fixture(&format!("bank/{name}"))?;
        Some(read_all(&std::fs::read(path).unwrap(), name))
    };
    let kinds = |s: &syncrocardpay_core::formats::bank::BankStatementSummary| {
        s.anomalies.iter().map(|a| a.kind).collect::<Vec<_>>()
    };
    // Banco do Brasil 2016: a header split by carriage returns only, Latin-1 text, two entries with the
    // same FITID (both kept, numbered apart only if everything else is equal too).
    let Some((s, entries)) = read("ofx-reader__ofx-reader__BancodoBrasil.ofx") else { return };
    assert_eq!(s.encoding, "windows-1252");
    let repeated: Vec<_> = entries.iter().filter(|e| e.bank_id == "201606031433760").collect();
    assert_eq!(repeated.len(), 2, "{entries:#?}");
    assert_eq!(repeated[0].amount, dec("-200.00"));
    assert!(repeated[0].memo.contains("cartão"), "Latin-1 decoded: {}", repeated[0].memo);
    assert_eq!(kinds(&s).iter().filter(|k| **k == AnomalyKind::RepeatedId).count(), 2);
    assert_eq!(s.accounts[0].account.number, "54321-9");
    // Bradesco: DTSERVER of zeros is ignored (it carries no statement data), not a rejection.
    let Some((s, entries)) = read("ofx-reader__ofx-reader__Bradesco.ofx") else { return };
    assert!(kinds(&s).contains(&AnomalyKind::UnreadableOptionalField), "{:?}", s.anomalies);
    assert_eq!(entries.len(), 6);
    // Nubank: UTF-8 although CHARSET says 1252; a card statement without BANKTRANLIST still has its entries.
    let Some((s, entries)) = read("ofx-reader__ofx-reader__nubank.ofx") else { return };
    assert_eq!(s.encoding, "utf-8");
    assert!(kinds(&s).contains(&AnomalyKind::CharsetNotAsDeclared), "{:?}", s.anomalies);
    assert!(!entries.is_empty(), "no silent loss of a card statement's entries");
    // Sicredi: a FITID of " -4" is "-4".
    let Some((_, entries)) = read("ofx-reader__ofx-reader__sicredi.ofx") else { return };
    assert!(entries.iter().any(|e| e.bank_id == "-4"));
    // Caixa: date-only period bounds.
    let Some((s, _)) = read("ofx-reader__ofx-reader__CaixaEconomicaFederal.ofx") else { return };
    assert_eq!(s.accounts[0].period_start.map(|d| d.to_string()).as_deref(), Some("2016-06-01"));
}

#[test]
fn every_cnab240_fixture_reads_and_its_lot_and_file_trailers_agree() {
    for bank in ["bb", "bradesco", "caixa", "daycoval", "itau", "santander"] {
        let name = format!("marcodpt__cnab__conciliacao_{bank}.txt");
        let Some(path) = fixture(&format!("bank/{name}")) else { return };
        let bytes = std::fs::read(path).unwrap();
        let (s, entries) = read_all(&bytes, &name);
        assert!(s.is_valid(), "{name}: {:#?}", s.errors);
        assert_eq!(s.format, Some(BankFormat::Cnab240));
        assert_eq!(entries.len(), 9, "{name}");
        // The trailer de lote's sums, read here by position, are the entries'.
        let text = String::from_utf8_lossy(&bytes);
        let trailer = text.lines().find(|l| l.as_bytes().get(7) == Some(&b'5')).unwrap();
        let amount = |a: usize, b: usize| Decimal::new(trailer[a - 1..b].parse::<i64>().unwrap(), 2);
        let a = &s.accounts[0];
        assert_eq!((a.debits, a.credits), (amount(177, 194), amount(195, 212)), "{name}");
        let credits: Decimal = entries.iter().map(|e| e.amount).filter(|x| *x > Decimal::ZERO).sum();
        assert_eq!(a.credits, credits);
        // These generated files' balances do not follow from their entries; the closing one is partial
        // (position P): kept as an anomaly, not a rejection.
        assert_eq!(&trailer[169..170], "P");
        assert!(s.anomalies.iter().any(|x| x.kind == AnomalyKind::BalanceNotFinal), "{name}: {:?}", s.anomalies);
        assert!(entries.iter().all(|e| e.category.is_some() && !e.memo.is_empty()), "{name}");
    }
    // The real Itaú mini-file (2013): its header de arquivo came cut to 171 bytes — read, kept as an
    // anomaly; one credit of 6.01, opening 50.00, closing 56.01.
    let Some(path) = fixture("bank/autogeral__CNAB__itau_extrato240_lines.txt") else { return };
    let (s, entries) = read_all(&std::fs::read(path).unwrap(), "itau");
    assert!(s.is_valid(), "{:#?}", s.errors);
    assert_eq!(s.anomalies.len(), 1);
    assert_eq!((s.anomalies[0].line, s.anomalies[0].kind), (1, AnomalyKind::RightTrimmedLine));
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(
        (e.amount, e.date.to_string(), e.memo.as_str()),
        (dec("6.01"), "2013-05-20".into(), "DESBLOQUEIO JUDICIAL")
    );
    assert_eq!(e.category.as_deref(), Some("205"));
    let a = &s.accounts[0];
    assert_eq!((a.opening_balance, a.closing_balance), (Some(dec("50.00")), Some(dec("56.01"))));
    assert_eq!(a.account.bank, "341");
}

/// `parse` validates a bank statement and prints what it found; the acquirers' reader names one rather than
/// calling it an unknown file.
#[test]
fn parse_validates_a_bank_statement_and_the_acquirers_reader_names_it() {
    let Some(ofx) = fixture("bank/ofx-reader__ofx-reader__BancodoBrasil.ofx") else { return };
    let Some(cnab) = fixture("bank/marcodpt__cnab__conciliacao_itau.txt") else { return };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_syncrocardpay"))
        .arg("parse")
        .arg(&ofx)
        .arg(&cnab)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("BancodoBrasil.ofx: VALID") && text.contains("file type OFX (bank_statement)"), "{text}");
    assert!(text.contains("accounts=1 entries=7") && text.contains("repeated_id"), "{text}");
    assert!(text.contains("conciliacao_itau.txt: VALID") && text.contains("accounts=1 entries=9"), "{text}");
    // The acquirers' reader names it, should one be handed to it.
    let mut records = 0;
    let s = syncrocardpay_core::formats::read_statement(std::fs::File::open(&cnab).unwrap(), "x", &mut |_| {
        records += 1;
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    assert!(!s.is_valid() && records == 0);
    assert!(s.errors[0].reason.starts_with("a bank statement (CNAB 240 extrato)"), "{:?}", s.errors);
}

fn ofx_of(account: &str, entries: &[(&str, &str, &str, &str)]) -> String {
    let trns: String = entries
        .iter()
        .map(|(date, amount, fitid, memo)| {
            format!("<STMTTRN><TRNTYPE>OTHER<DTPOSTED>{date}<TRNAMT>{amount}<FITID>{fitid}<MEMO>{memo}</STMTTRN>\n")
        })
        .collect();
    format!(
        "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\n\n<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>BRL\n\
         <BANKACCTFROM><BANKID>0341<ACCTID>{account}</BANKACCTFROM><BANKTRANLIST><DTSTART>20260901<DTEND>20260930\n\
         {trns}</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"
    )
}

/// Every fixture loads with its entries as facts, once: the same content again is a duplicate; a daily and a
/// monthly statement of the same account never count an entry twice (by the bank's id where each entry has a
/// distinct one, else by date, amount, memo and order); withdrawing a statement takes its entries out.
#[tokio::test]
async fn bank_statements_load_once_and_overlapping_statements_never_double_an_entry() {
    use syncrocardpay_core::pipeline::{ingest_file, IngestMode, Outcome};
    let Some(first) = fixture("bank/ofx-reader__ofx-reader__bb.ofx") else { return };
    let dir = first.parent().unwrap().to_path_buf();
    let mut db = common::db::TestDb::new("bank_load").await;
    let mut expected = 0u64;
    let mut paths: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    for path in &paths {
        let (s, _) = read_all(&std::fs::read(path).unwrap(), "x");
        let r = ingest_file(&mut db.client, path, "test", IngestMode::StageAndLoad).await.unwrap();
        assert_eq!(r.outcome, Outcome::Loaded, "{}: {:?}", path.display(), r.summary.map(|s| s.errors));
        // The six generated CNAB files are the same entries of the same account number at six banks.
        assert_eq!(r.rows.bank_entries + r.rows.bank_entries_already_loaded, s.entries(), "{}", path.display());
        expected += r.rows.bank_entries;
    }
    assert_eq!(db.count("SELECT count(*) FROM fact_bank_entry").await as u64, expected);
    assert_eq!(
        db.count("SELECT count(*) FROM statement_file WHERE file_kind = 'bank_statement' AND status = 'loaded'").await,
        paths.len() as i64
    );
    let again = ingest_file(&mut db.client, &paths[0], "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(again.outcome, Outcome::Duplicate);
    // Banco do Brasil's two entries with one FITID (same day, amount and memo) are both there.
    let bb = db
        .client
        .query(
            "SELECT dedupe_rule, occurrence FROM fact_bank_entry WHERE bank_id = '201606031433760' ORDER BY entry_no",
            &[],
        )
        .await
        .unwrap();
    let rules: Vec<(String, i32)> = bb.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        rules,
        [("content".to_string(), 0), ("content".to_string(), 1)],
        "identical twins: both kept, numbered apart"
    );

    // A daily statement, then the month's that repeats its entries (and adds one): each entry once.
    let tmp = tempfile::tempdir().unwrap();
    let daily = tmp.path().join("daily.ofx");
    let monthly = tmp.path().join("monthly.ofx");
    std::fs::write(
        &daily,
        ofx_of("777-1", &[("20260902", "1000.00", "D1", "REDE VISA DB083323902"), ("20260902", "-5.00", "", "TARIFA")]),
    )
    .unwrap();
    std::fs::write(
        &monthly,
        ofx_of(
            "0000777-1",
            &[
                ("20260902", "1000.00", "D1", "REDE  VISA DB083323902"),
                ("20260902", "-5.00", "", "tarifa"),
                ("20260903", "250.00", "D3", "CIELO"),
            ],
        ),
    )
    .unwrap();
    let d = ingest_file(&mut db.client, &daily, "test", IngestMode::StageAndLoad).await.unwrap();
    let m = ingest_file(&mut db.client, &monthly, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!((d.rows.bank_entries, d.rows.bank_entries_already_loaded), (2, 0));
    assert_eq!((m.rows.bank_entries, m.rows.bank_entries_already_loaded), (1, 2), "same account (0000777-1 is 777-1)");
    let sum: Decimal = db
        .client
        .query_one(
            "SELECT sum(amount) FROM fact_bank_entry e JOIN dim_bank_account a USING (bank_account_key)
              WHERE a.number_norm = '7771'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(sum, dec("1245.00"), "1000 − 5 + 250, nothing twice");
    // What each entry says about card money, kept with it (the words are data: ref_bank_memo_keyword).
    let said: Vec<Vec<Option<String>>> = db
        .client
        .query(
            "SELECT memo, acquirer, acquirer_brand, acquirer_merchant, acquirer_settlement, card_money_rule
               FROM fact_bank_entry e JOIN dim_bank_account a USING (bank_account_key)
              WHERE a.number_norm = '7771' ORDER BY entry_date, amount",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (0..6).map(|i| r.get::<_, Option<String>>(i)).collect())
        .collect();
    let row = |v: [&str; 6]| v.iter().map(|x| (!x.is_empty()).then(|| x.to_string())).collect::<Vec<_>>();
    assert_eq!(
        said,
        [
            row(["TARIFA", "", "", "", "", ""]),
            row(["REDE VISA DB083323902", "rede", "Visa", "83323902", "debit", "keyword:REDE"]),
            row(["CIELO", "cielo", "", "", "", "keyword:CIELO"]),
        ]
    );
    // Withdrawn, a statement's entries go with it.
    let w = syncrocardpay_core::db::store::withdraw(&mut db.client, &m.file_id.to_string()).await.unwrap();
    assert_eq!(w.facts.bank_entries, 1);
    assert_eq!(db.count(&format!("SELECT count(*) FROM fact_bank_entry WHERE file_id = {}", m.file_id)).await, 0);
}

/// The accounts the acquirers' own files declare (Cielo's D records) meet a bank statement's account however
/// each writes it: `acquirer_declared_account` and `dim_bank_account` share one key (issue 19, item 2).
#[tokio::test]
async fn a_bank_statement_meets_the_account_the_acquirer_declares_for_the_merchant() {
    use syncrocardpay_core::formats::cielo::sample::{self, SampleSpec};
    use syncrocardpay_core::pipeline::{ingest_file, IngestMode, Outcome};
    let mut db = common::db::TestDb::new("bank_declared").await;
    let dir = tempfile::tempdir().unwrap();
    let spec = SampleSpec { transactions: 40, seed: 7, merchants: 1, anomalies: false, scenarios: Vec::new() };
    let files = sample::generate(dir.path(), &spec).unwrap();
    let payments = files.iter().find(|f| f.file_type == "04").unwrap();
    let r = ingest_file(&mut db.client, &payments.path, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(r.outcome, Outcome::Loaded);
    let declared = db
        .client
        .query("SELECT acquirer, merchant_code, bank, number FROM acquirer_declared_account", &[])
        .await
        .unwrap();
    assert_eq!(declared.len(), 1, "one merchant, one account");
    let (acquirer, merchant, bank, number): (String, String, String, String) =
        (declared[0].get(0), declared[0].get(1), declared[0].get(2), declared[0].get(3));
    assert_eq!((acquirer.as_str(), merchant.as_str()), ("cielo", payments.merchant_code.as_str()));
    // The bank writes the account its own way: no leading zeros, the check digit after a dash.
    let digits = number.trim_start_matches('0');
    let acctid = format!("{}-{}", &digits[..digits.len() - 1], &digits[digits.len() - 1..]);
    let ofx = dir.path().join("extrato.ofx");
    std::fs::write(&ofx, ofx_of_bank(bank.trim_start_matches('0'), &acctid)).unwrap();
    let r = ingest_file(&mut db.client, &ofx, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(r.outcome, Outcome::Loaded, "{:?}", r.summary.map(|s| s.errors));
    let met = db
        .client
        .query(
            "SELECT d.acquirer, d.merchant_code FROM dim_bank_account a
               JOIN acquirer_declared_account d USING (bank_norm, number_norm)",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(met.len(), 1);
    assert_eq!(met[0].get::<_, String>(1), payments.merchant_code);
}

fn ofx_of_bank(bank: &str, account: &str) -> String {
    ofx_of(account, &[("20260902", "100.00", "X1", "CIELO VENDAS")]).replace("<BANKID>0341", &format!("<BANKID>{bank}"))
}

/// `syncrocardpay bank-statement` loads bank statements and says, per account, the period, balances, entries
/// and card money; a file that is not one is refused, saying so, and the exit status says it.
#[tokio::test]
async fn the_bank_statement_command_loads_and_describes_each_account() {
    let Some(cnab) = fixture("bank/autogeral__CNAB__itau_extrato240_lines.txt") else { return };
    let db = common::db::TestDb::new("bank_cli").await;
    let dir = tempfile::tempdir().unwrap();
    let ofx = dir.path().join("extrato.ofx");
    std::fs::write(&ofx, ofx_of("12345-6", &[("20260902", "100.00", "X1", "REDE VISA CR012345678")])).unwrap();
    let not_bank = dir.path().join("notes.txt");
    std::fs::write(&not_bank, "hello\n").unwrap();
    let run = |args: &[&std::path::Path], json: bool| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_syncrocardpay"));
        c.arg("bank-statement").args(args).env("DATABASE_URL", &db.url);
        if json {
            c.arg("--json");
        }
        c.output().unwrap()
    };
    let out = run(&[&ofx, &cnab], false);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1 bank entries"), "{text}");
    assert!(text.contains("bank 0341 branch  account 12345-6: 2026-09-01 .. 2026-09-30"), "{text}");
    assert!(text.contains("1 entries (credits R$ 100,00, debits R$ 0,00), 1 card money"), "{text}");
    assert!(text.contains("opening R$ 50,00, closing R$ 56,01"), "the CNAB file's balances: {text}");
    let out = run(&[&ofx], true);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["file"]["outcome"], "duplicate");
    assert_eq!(v["accounts"][0]["number"], "12345-6");
    let out = run(&[&not_bank], false);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a bank statement"));
}

/// Issue 19, items 3 and 4: the sample's bank statements (an OFX crediting each brand apart, a CNAB 240
/// crediting each day's payments in one line) loaded with the Cielo statements whose payments they show, and
/// reconciled: every planted problem ends in its status with its exact amounts, everything else is deposited,
/// and no money is lost or counted twice between what was announced and what the items say.
#[tokio::test]
async fn the_sample_bank_statements_end_in_the_planted_statuses_with_exact_amounts() {
    use syncrocardpay_core::db::recon;
    use syncrocardpay_core::db::store::withdraw;
    use syncrocardpay_core::formats::bank::sample as bank_sample;
    use syncrocardpay_core::formats::cielo::sample::{self, SampleSpec};
    use syncrocardpay_core::pipeline::{ingest_file, IngestMode, Outcome};
    use syncrocardpay_core::reconcile::{MissingInput, Scope, Settings};
    let mut db = common::db::TestDb::new("bank_recon").await;
    let dir = tempfile::tempdir().unwrap();
    let spec = SampleSpec { transactions: 600, seed: 42, merchants: 2, ..SampleSpec::default() };
    let files = sample::generate(dir.path(), &spec).unwrap();
    let announced = sample::announced_payments(&files);
    let bank = bank_sample::write(dir.path(), &announced, true).unwrap();
    assert_eq!(bank.files.len(), 2, "one statement per account");
    let planted: Vec<&str> = bank.planted.iter().map(|p| p.status).collect();
    assert_eq!(planted, ["deposited_late", "not_deposited", "deposited_short", "unexpected_credit"]);
    let mut cnab_file_id = None;
    for path in files.iter().map(|f| &f.path).chain(&bank.files) {
        let r = ingest_file(&mut db.client, path, "test", IngestMode::StageAndLoad).await.unwrap();
        assert_eq!(r.outcome, Outcome::Loaded, "{}: {:?}", path.display(), r.summary.map(|s| s.errors));
        if path.extension().is_some_and(|e| e == "ret") {
            cnab_file_id = Some(r.file_id);
        }
    }
    let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
    let scope = Scope { from: d("2026-08-01"), to: d("2026-12-31"), merchant: None };
    let settings = Settings::new(d("2026-12-31"));
    let run = recon::run(&mut db.client, &scope, &settings).await.unwrap();
    let items: Vec<_> = recon::items(&db.client, run.run_id)
        .await
        .unwrap()
        .into_iter()
        .filter(|i| i.area == syncrocardpay_core::reconcile::Area::Bank)
        .collect();
    assert!(run.totals.not_reconciled.iter().all(|p| p.missing != MissingInput::BankStatement), "{run:#?}");
    // Each planted problem: one item, its status, day and amounts.
    for p in &bank.planted {
        let found: Vec<_> = items.iter().filter(|i| i.status.as_str() == p.status).collect();
        assert_eq!(found.len(), 1, "{p:?}: {found:#?}");
        let i = found[0];
        assert_eq!((i.merchant_code.as_str(), i.ref_date), (p.merchant_code.as_str(), p.date), "{p:?}");
        if p.status == "unexpected_credit" {
            assert_eq!((i.expected, i.actual), (None, Some(p.amount)), "{p:?}");
        } else {
            assert_eq!((i.expected, i.actual), (Some(p.amount), p.credited), "{p:?}");
        }
        let at_stake = i.at_stake(&settings);
        match p.status {
            "not_deposited" | "unexpected_credit" => assert_eq!(at_stake, p.amount),
            "deposited_short" => assert_eq!(at_stake, bank_sample::SHORT_BY),
            _ => {
                assert_eq!(i.days_late, Some(1), "a business day late");
                assert_eq!(at_stake, settings.cost_of_delay(p.amount, 1), "the cost of the delay, not the amount");
            }
        }
    }
    // Everything else deposited on its day, in full; each announced payment in exactly one item.
    let others: Vec<_> = items.iter().filter(|i| !planted.contains(&i.status.as_str())).collect();
    assert!(others.iter().all(|i| i.status.as_str() == "deposited" && i.expected == i.actual), "{others:#?}");
    let rules: std::collections::BTreeSet<&str> = others.iter().map(|i| i.fields[0].as_str()).collect();
    assert!(rules.contains("same day") && rules.contains("payments summed"), "both ways banks credit: {rules:?}");
    let announced_total: Decimal = announced.iter().map(|p| p.amount).sum();
    let items_expected: Decimal = items.iter().filter_map(|i| i.expected).sum();
    assert_eq!(items_expected, announced_total, "every payment in one item, none twice");
    let open: Vec<_> = items.iter().filter(|i| i.is_open()).collect();
    assert_eq!(open.len(), 4, "{open:#?}");
    // Each merchant's one account is named one way, whether a UR, a negotiation (no check digit) or the bank
    // statement names it.
    for f in files.iter().filter(|f| f.file_type == "04") {
        let names: std::collections::BTreeSet<&str> =
            items.iter().filter(|i| i.merchant_code == f.merchant_code).map(|i| i.sale_code.as_str()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(names.iter().all(|n| n.ends_with("-1")), "with its check digit: {names:?}");
    }

    // Without the CNAB account's statement, its payments are left aside, never "not deposited".
    withdraw(&mut db.client, &cnab_file_id.expect("a CNAB 240 statement").to_string()).await.unwrap();
    let run = recon::run(&mut db.client, &scope, &settings).await.unwrap();
    let aside: Vec<_> = run.totals.not_reconciled.iter().filter(|p| p.missing == MissingInput::BankStatement).collect();
    assert_eq!(aside.len(), 1, "{aside:#?}");
    let of_second: Vec<_> = announced.iter().filter(|p| p.merchant_code == aside[0].merchant_code).collect();
    assert_eq!(aside[0].lines, of_second.len() as u64);
    assert_eq!(aside[0].amount, of_second.iter().map(|p| p.amount).sum::<Decimal>());
    let not_deposited = run.totals.by_status.iter().find(|s| s.status.as_str() == "not_deposited").unwrap();
    assert_eq!(not_deposited.count, 1, "only the planted one");
}
