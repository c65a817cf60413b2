//! The bank statements the sample acquirer payments would produce ("extrato bancário" for demos, tests and
//! benchmarks): for each account the sample statements pay into, every day from the first payment to a week
//! after the last, the acquirers' credits with the bank's everyday entries between them (fees, a transfer
//! received, a supplier paid). Accounts alternate between the two formats and the two ways banks credit card
//! money: an OFX statement crediting each brand's payment on its own line (`CIELO VISA`), and a CNAB 240
//! extrato crediting each day's payments in one line (`CIELO S.A.`, category 222).
//!
//! With `planted`, the first account's statement carries one of each problem the bank reconciliation must
//! find, and [`BankSample::planted`] says which payment (or credit) it is and for how much:
//! a payment never credited, one credited R$ 12,34 short, one credited a business day late, and a credit
//! nobody announced. The same input gives byte-identical files.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

/// One payment an acquirer announced into an account (summed per day and brand, as the reconciliation reads
/// them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnouncedPayment {
    pub merchant_code: String,
    /// The acquirer as a bank's memo names it (`CIELO`).
    pub acquirer_word: &'static str,
    /// The account: bank code, branch, number and its check digit, as the acquirer's file gives them.
    pub bank: String,
    pub branch: String,
    pub number: String,
    pub check_digit: String,
    pub date: NaiveDate,
    /// The brand as banks write it (`VISA`), empty for a negotiation's proceeds.
    pub brand_word: &'static str,
    pub amount: Decimal,
    /// The whole memo of its credit, for an acquirer that pays a day in one credit (`PAGAMENTO CARTAO
    /// GETNET`); otherwise the memo is the acquirer's word and the brand's, or the day's sum (`CIELO S.A.`).
    pub memo: Option<&'static str>,
}

impl AnnouncedPayment {
    /// A day's payment in one credit (Getnet's `PG`, PagBank's cashout, Stone's deposit) of `amount` into
    /// `account` (bank, branch, number, check digit), its credit's memo `memo`.
    pub fn daily(
        merchant_code: &str,
        acquirer_word: &'static str,
        account: (&str, &str, &str, &str),
        date: NaiveDate,
        amount: Decimal,
        memo: &'static str,
    ) -> AnnouncedPayment {
        let (bank, branch, number, check_digit) = account;
        AnnouncedPayment {
            merchant_code: merchant_code.into(),
            acquirer_word,
            bank: bank.into(),
            branch: branch.into(),
            number: number.into(),
            check_digit: check_digit.into(),
            date,
            brand_word: "",
            amount,
            memo: Some(memo),
        }
    }
}

/// What an acquirer's sample (PagBank's, Stone's) covers: `sales` sales from `first` over `days` days, each
/// installment settled on its due day up to `settle_until`; the same seed, the same bytes.
#[derive(Debug, Clone, Copy)]
pub struct AcquirerSampleSpec {
    pub seed: u64,
    pub sales: usize,
    pub first: NaiveDate,
    pub days: u32,
    pub settle_until: NaiveDate,
}

/// What an acquirer's sample wrote (PagBank's, Stone's), and what a reconciliation of it should find.
#[derive(Debug, Clone, Default)]
pub struct AcquirerSample {
    pub files: Vec<PathBuf>,
    /// Sales, installments forecast, installments settled within the sample.
    pub sales: usize,
    pub installments: usize,
    pub settled: usize,
    /// Σ of the sales' totals.
    pub gross: Decimal,
    /// What the acquirer sends to the merchant's bank account (cashouts, deposits), per day: what the bank
    /// statement should credit.
    pub deposits: Vec<AnnouncedPayment>,
    /// The same sales as the merchant's POS export has them (the other side of the sales area).
    pub books: Vec<PosSale>,
    /// The contract the sales were priced at (empty when it cannot be written as a rates file).
    pub rates: Vec<SampleRate>,
}

/// A sale as the merchant's POS export writes it ("venda no PDV"): matched to the acquirer's by NSU,
/// authorization code and day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosSale {
    pub merchant_code: String,
    /// The merchant's own order number.
    pub sale_id: String,
    pub date: NaiveDate,
    /// `HH:MM:SS`.
    pub time: String,
    pub nsu: String,
    pub authorization_code: String,
    pub total: Decimal,
    pub installments: u32,
    /// As a POS writes it (`VISA`, `MASTER`, `ELO`).
    pub brand: &'static str,
    pub card_last_digits: String,
    pub debit: bool,
}

/// One line of the contract ("taxa contratada"): the MDR of a brand's product over a range of installments,
/// in the acquirer's own codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleRate {
    pub merchant_code: String,
    pub acquirer: &'static str,
    pub brand: &'static str,
    pub product: &'static str,
    pub installments: (u32, u32),
    pub rate_percent: Decimal,
    /// Reais per sale beside the rate (PagBank's tariff on a credit sale).
    pub fixed_fee: Decimal,
}

/// A planted problem: what the reconciliation should say of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlantedDeposit {
    /// `not_deposited`, `deposited_short`, `deposited_late` or `unexpected_credit`.
    pub status: &'static str,
    pub merchant_code: String,
    /// The payment's day (the credit's, for an unexpected credit).
    pub date: NaiveDate,
    /// What was announced (what was credited, for an unexpected credit).
    pub amount: Decimal,
    /// What was credited (None when nothing was).
    pub credited: Option<Decimal>,
}

/// What [`write`] wrote.
#[derive(Debug, Clone, Default)]
pub struct BankSample {
    pub files: Vec<PathBuf>,
    pub planted: Vec<PlantedDeposit>,
}

/// How much short the planted short deposit is.
pub const SHORT_BY: Decimal = Decimal::from_parts(1234, 0, 0, false, 2);
/// The planted unexpected credit.
pub const UNEXPECTED: Decimal = Decimal::from_parts(32109, 0, 0, false, 2);

/// One line of a statement.
#[derive(Debug, Clone)]
struct Line {
    date: NaiveDate,
    amount: Decimal,
    memo: String,
    /// CNAB 240 category (`222`: card money; `105`… others).
    category: &'static str,
}

/// Write one statement per account the payments go to, into `dir` (see the module).
pub fn write(dir: &Path, payments: &[AnnouncedPayment], planted: bool) -> io::Result<BankSample> {
    std::fs::create_dir_all(dir)?;
    let mut accounts: BTreeMap<(String, String), Vec<&AnnouncedPayment>> = BTreeMap::new();
    for p in payments {
        accounts.entry((p.bank.clone(), format!("{}{}", p.number, p.check_digit))).or_default().push(p);
    }
    let mut out = BankSample::default();
    for (n, ps) in accounts.values_mut().enumerate() {
        ps.sort_by(|a, b| (a.date, a.brand_word, a.amount).cmp(&(b.date, b.brand_word, b.amount)));
        let first = ps[0];
        let (Some(start), Some(last)) = (ps.first().map(|p| p.date), ps.last().map(|p| p.date)) else { continue };
        let end = last + Duration::days(7);
        let per_brand = n % 2 == 0;
        // The planted problems, on distinct days of the first account's payments.
        let mut plants: BTreeMap<usize, &'static str> = BTreeMap::new();
        let mut unexpected_day = None;
        if planted && n == 0 && ps.len() >= 12 {
            let mut used_days = Vec::new();
            for (share, status) in [(3, "not_deposited"), (5, "deposited_short"), (7, "deposited_late")] {
                let target = ps.len() * share / 10;
                // A late one on a Tuesday or Wednesday: the next day is a business day in every year sampled.
                let weekday_ok =
                    |d: NaiveDate| status != "deposited_late" || matches!(d.weekday(), Weekday::Tue | Weekday::Wed);
                if let Some(i) = (target..ps.len()).chain(0..target).find(|&i| {
                    ps[i].amount > Decimal::ONE_HUNDRED
                        && !ps[i].brand_word.is_empty()
                        && !used_days.contains(&ps[i].date)
                        && weekday_ok(ps[i].date)
                        && ps[i].date + Duration::days(4) < end
                }) {
                    used_days.push(ps[i].date);
                    plants.insert(i, status);
                }
            }
            unexpected_day = start
                .iter_days()
                .take_while(|d| *d <= last)
                .find(|d| !used_days.contains(d) && *d > start + Duration::days(1));
        }
        let mut lines: Vec<Line> = Vec::new();
        let acquirer = first.acquirer_word;
        let mut by_day: BTreeMap<NaiveDate, Decimal> = BTreeMap::new();
        for (i, p) in ps.iter().enumerate() {
            let mut date = p.date;
            let mut amount = p.amount;
            match plants.get(&i) {
                Some(&"not_deposited") => {
                    out.planted.push(planted_of(p, "not_deposited", None));
                    continue;
                }
                Some(&"deposited_short") => {
                    amount -= SHORT_BY;
                    out.planted.push(planted_of(p, "deposited_short", Some(amount)));
                }
                Some(&"deposited_late") => {
                    date = next_business_day(p.date);
                    out.planted.push(planted_of(p, "deposited_late", Some(amount)));
                }
                _ => {}
            }
            let planted_here = plants.contains_key(&i);
            if let Some(memo) = p.memo {
                lines.push(Line { date, amount, memo: memo.into(), category: "222" });
            } else if p.brand_word.is_empty() {
                lines.push(Line { date, amount, memo: format!("{acquirer} ANTECIPACAO"), category: "222" });
            } else if per_brand || planted_here {
                lines.push(Line { date, amount, memo: format!("{acquirer} {}", p.brand_word), category: "222" });
            } else {
                *by_day.entry(date).or_default() += amount;
            }
        }
        for (date, amount) in by_day {
            lines.push(Line { date, amount, memo: format!("{acquirer} S.A."), category: "222" });
        }
        if let Some(day) = unexpected_day {
            lines.push(Line { date: day, amount: UNEXPECTED, memo: format!("{acquirer} MASTER"), category: "222" });
            out.planted.push(PlantedDeposit {
                status: "unexpected_credit",
                merchant_code: first.merchant_code.clone(),
                date: day,
                amount: UNEXPECTED,
                credited: Some(UNEXPECTED),
            });
        }
        // The bank's everyday entries: the package fee on the 1st business day of each week, a transfer received
        // every tenth day, a supplier paid every fifth.
        for (k, day) in start.iter_days().take_while(|d| *d <= end).enumerate() {
            if day.weekday() == Weekday::Mon {
                lines.push(Line {
                    date: day,
                    amount: Decimal::new(-4590, 2),
                    memo: "TAR PACOTE SERVICOS".into(),
                    category: "105",
                });
            }
            if k % 10 == 3 {
                lines.push(Line {
                    date: day,
                    amount: Decimal::new(250_000 + k as i64, 2),
                    memo: "TED RECEBIDA CLIENTE".into(),
                    category: "206",
                });
            }
            if k % 5 == 1 {
                lines.push(Line {
                    date: day,
                    amount: Decimal::new(-(123_400 + k as i64 * 7), 2),
                    memo: "PIX ENVIADO FORNECEDOR".into(),
                    category: "103",
                });
            }
        }
        lines.sort_by(|a, b| {
            (a.date, a.amount < Decimal::ZERO, &a.memo).cmp(&(b.date, b.amount < Decimal::ZERO, &b.memo))
        });
        let name = if per_brand {
            format!("extrato_{}_{}.ofx", first.bank.trim_start_matches('0'), first.number.trim_start_matches('0'))
        } else {
            format!("extrato_{}_{}.ret", first.bank.trim_start_matches('0'), first.number.trim_start_matches('0'))
        };
        let path = dir.join(name);
        let text = if per_brand { ofx(first, start, end, &lines) } else { cnab240(first, start, end, &lines) };
        std::fs::write(&path, text)?;
        out.files.push(path);
    }
    Ok(out)
}

fn planted_of(p: &AnnouncedPayment, status: &'static str, credited: Option<Decimal>) -> PlantedDeposit {
    PlantedDeposit { status, merchant_code: p.merchant_code.clone(), date: p.date, amount: p.amount, credited }
}

fn next_business_day(d: NaiveDate) -> NaiveDate {
    let mut n = d + Duration::days(1);
    while matches!(n.weekday(), Weekday::Sat | Weekday::Sun) {
        n += Duration::days(1);
    }
    n
}

/// The opening balance of every sample statement.
const OPENING: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 2);

/// An OFX 1.02 (SGML) statement as Itaú emits it.
fn ofx(a: &AnnouncedPayment, start: NaiveDate, end: NaiveDate, lines: &[Line]) -> String {
    let mut s = String::new();
    let day = |d: NaiveDate| d.format("%Y%m%d100000[-03:EST]").to_string();
    s.push_str(
        "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\nCHARSET:1252\n\
         COMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n<OFX>\n<SIGNONMSGSRSV1>\n<SONRS>\n<STATUS>\n<CODE>0\n\
         <SEVERITY>INFO\n</STATUS>\n",
    );
    let _ = write!(s, "<DTSERVER>{}\n<LANGUAGE>POR\n</SONRS>\n</SIGNONMSGSRSV1>\n", day(end));
    s.push_str("<BANKMSGSRSV1>\n<STMTTRNRS>\n<TRNUID>1001\n<STATUS>\n<CODE>0\n<SEVERITY>INFO\n</STATUS>\n<STMTRS>\n");
    let _ = write!(
        s,
        "<CURDEF>BRL\n<BANKACCTFROM>\n<BANKID>{}\n<BRANCHID>{}\n<ACCTID>{}-{}\n<ACCTTYPE>CHECKING\n</BANKACCTFROM>\n",
        a.bank,
        a.branch.trim_start_matches('0'),
        a.number.trim_start_matches('0'),
        a.check_digit
    );
    let _ = write!(s, "<BANKTRANLIST>\n<DTSTART>{}\n<DTEND>{}\n", day(start), day(end));
    let mut balance = OPENING;
    for (k, l) in lines.iter().enumerate() {
        balance += l.amount;
        let _ = write!(
            s,
            "<STMTTRN>\n<TRNTYPE>{}\n<DTPOSTED>{}\n<TRNAMT>{:.2}\n<FITID>{}{:04}\n<MEMO>{}\n</STMTTRN>\n",
            if l.amount < Decimal::ZERO { "DEBIT" } else { "CREDIT" },
            day(l.date),
            l.amount,
            l.date.format("%Y%m%d"),
            k + 1,
            l.memo
        );
    }
    let _ = write!(
        s,
        "</BANKTRANLIST>\n<LEDGERBAL>\n<BALAMT>{balance:.2}\n<DTASOF>{}\n</LEDGERBAL>\n</STMTRS>\n</STMTTRNRS>\n\
         </BANKMSGSRSV1>\n</OFX>\n",
        day(end)
    );
    s
}

/// A 240-byte record: blanks, with fields put at their 1-based positions.
struct Record([u8; 240]);

impl Record {
    fn new(bank: &str, lot: u32, kind: u8) -> Record {
        let mut r = Record([b' '; 240]);
        r.put(1, &format!("{:0>3}", bank.trim_start_matches('0')));
        r.put(4, &format!("{lot:04}"));
        r.0[7] = kind;
        r
    }
    fn put(&mut self, start: usize, value: &str) -> &mut Record {
        for (i, b) in value.bytes().enumerate() {
            if let Some(slot) = self.0.get_mut(start - 1 + i) {
                *slot = b;
            }
        }
        self
    }
    fn amount(&mut self, start: usize, value: Decimal) -> &mut Record {
        let cents = (value.abs() * Decimal::ONE_HUNDRED).round().to_string();
        self.put(start, &format!("{cents:0>18}"))
    }
    fn push(&self, out: &mut String) {
        out.push_str(std::str::from_utf8(&self.0).unwrap_or_default());
        out.push_str("\r\n");
    }
}

/// A FEBRABAN CNAB 240 "extrato para conciliação bancária": header de arquivo, one lote (header, a segment E
/// per entry, trailer with balances and sums), trailer de arquivo.
fn cnab240(a: &AnnouncedPayment, start: NaiveDate, end: NaiveDate, lines: &[Line]) -> String {
    let mut out = String::new();
    let dmy = |d: NaiveDate| d.format("%d%m%Y").to_string();
    let account = |r: &mut Record| {
        r.put(18, "2")
            .put(19, "12345678000199")
            .put(53, &format!("{:0>5}", a.branch.trim_start_matches('0')))
            .put(58, "0")
            .put(59, &format!("{:0>12}", a.number.trim_start_matches('0')))
            .put(71, &a.check_digit)
            .put(73, "LOJA SYNCROCARDPAY DEMO LTDA");
    };
    let mut header = Record::new(&a.bank, 0, b'0');
    account(&mut header);
    header.put(103, "BANCO").put(143, "2").put(144, &dmy(end)).put(152, "100000").put(158, "000001").put(164, "030");
    header.push(&mut out);
    let mut lot = Record::new(&a.bank, 1, b'1');
    account(&mut lot);
    lot.put(9, "E04")
        .put(12, "40")
        .put(14, "033")
        .put(143, &dmy(start))
        .amount(151, OPENING)
        .put(169, "C")
        .put(170, "F");
    lot.put(171, "BRL").put(174, "00001");
    lot.push(&mut out);
    let (mut credits, mut debits) = (Decimal::ZERO, Decimal::ZERO);
    for (k, l) in lines.iter().enumerate() {
        let mut e = Record::new(&a.bank, 1, b'3');
        account(&mut e);
        e.put(9, &format!("{:05}", k + 1)).put(14, "E").put(143, &dmy(l.date)).amount(151, l.amount);
        e.put(169, if l.amount < Decimal::ZERO { "D" } else { "C" }).put(170, l.category).put(173, "0000");
        e.put(177, &format!("{:<25}", l.memo.chars().take(25).collect::<String>()));
        e.put(202, &format!("{}{:06}", l.date.format("%Y%m%d"), k + 1));
        e.push(&mut out);
        if l.amount < Decimal::ZERO {
            debits -= l.amount;
        } else {
            credits += l.amount;
        }
    }
    let closing = OPENING + credits - debits;
    let mut trailer = Record::new(&a.bank, 1, b'5');
    trailer.put(19, "12345678000199").put(143, &dmy(end)).amount(151, closing);
    trailer.put(169, if closing < Decimal::ZERO { "D" } else { "C" }).put(170, "F");
    trailer.put(171, &format!("{:06}", lines.len() + 2)).amount(177, debits).amount(195, credits);
    trailer.push(&mut out);
    let mut file = Record::new(&a.bank, 9999, b'9');
    file.put(18, "000001").put(24, &format!("{:06}", lines.len() + 4)).put(30, "000001");
    file.push(&mut out);
    out
}
