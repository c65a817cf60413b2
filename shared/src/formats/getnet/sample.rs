//! Sample Getnet statements ("Extrato Eletrônico" V10.1, 400 bytes) for demos, tests and benchmarks: one
//! EC's card sales over the sample's days, as Getnet sends them — one file a day holding the day's sales
//! movement and its financial movement:
//! - the sales movement: per product and installment plan, an RV ("resumo de vendas", type 1) for each
//!   installment with its forecast (status `PF`, its due day), each followed by its CVs ("comprovante de
//!   venda", type 2: the sale's total, that installment's value and commission);
//! - the financial movement of a day an installment is due: each RV installment re-sent paid (status `LQ`,
//!   as real V10.1 files write it) and the day's payment to the merchant's account (type 5, `PG`), which
//!   the bank sample credits.
//!
//! Every record is 400 bytes and every file ends with a trailer counting its records. Everything is paid
//! exactly as forecast, so a round trip's known answer is "every RV installment due within the sample paid,
//! every day's payment credited". The same seed gives byte-identical files.

use super::layout::{self, RECORD};
use crate::formats::bank::sample::{AcquirerSample, AcquirerSampleSpec, AnnouncedPayment, PosSale, SampleRate};
use crate::formats::field::Field;
use chrono::{Duration, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::io;
use std::path::Path;

/// The sample merchant's EC ("código do estabelecimento").
pub const EC: &str = "4012345";
/// The merchant's CNPJ, the holder of what it is paid.
pub const TAX_ID: &str = "40123450000190";
/// The account Getnet pays into: bank (Santander), branch, number, check digit.
pub const PAID_INTO: (&str, &str, &str, &str) = ("033", "1234", "13004567", "8");

/// The products the sample sells (Tabela I): credit and debit of three brands, with the brand as Getnet's
/// table names it and as a POS writes it.
const CREDIT: [&str; 3] = ["SV", "SM", "EC"];
const DEBIT: [&str; 3] = ["SE", "SR", "ED"];
const BRANDS: [(&str, &str); 3] = [("VISA", "VISA"), ("MASTERCARD", "MASTER"), ("ELO", "ELO")];

/// The contracted MDR in percent: debit, or credit in `count` installments.
fn rate_percent(debit: bool, count: u32) -> Decimal {
    if debit {
        Decimal::new(159, 2)
    } else {
        Decimal::new(299 + 90 * (count as i64 - 1), 2)
    }
}

/// One record being written: 400 blanks, fields put at their layout positions.
struct Line([u8; RECORD]);

impl Line {
    fn new(kind: u8) -> Line {
        let mut l = Line([b' '; RECORD]);
        l.0[0] = kind;
        l
    }

    /// `text` into `f`, which it must fill exactly (a writer's mistake, not data, if it does not).
    fn put(&mut self, f: Field, text: &str) -> &mut Line {
        assert_eq!(text.len(), f.len, "{} takes {} bytes: {text:?}", f.name, f.len);
        self.0[f.start - 1..f.start - 1 + f.len].copy_from_slice(text.as_bytes());
        self
    }

    /// A number, zero-padded to the field.
    fn num(&mut self, f: Field, n: impl std::fmt::Display) -> &mut Line {
        let text = format!("{n:0>w$}", w = f.len);
        self.put(f, &text)
    }

    /// Text, left-aligned and blank-padded.
    fn text(&mut self, f: Field, s: &str) -> &mut Line {
        let text = format!("{s:<w$}", w = f.len);
        self.put(f, &text)
    }

    /// An amount: unsigned, 2 implied decimals.
    fn money(&mut self, f: Field, d: Decimal) -> &mut Line {
        let cents = (d.abs() * Decimal::ONE_HUNDRED).round();
        self.num(f, cents)
    }

    fn date(&mut self, f: Field, d: NaiveDate) -> &mut Line {
        self.put(f, &d.format("%d%m%Y").to_string())
    }
}

/// One installment of one sale, as its CV writes it.
struct SaleInstallment {
    nsu: u64,
    day: NaiveDate,
    time: String,
    card: String,
    total: Decimal,
    count: u32,
    number: u32,
    gross: Decimal,
    mdr: Decimal,
    due: NaiveDate,
    authorization: u64,
}

/// An RV's installment: its number, product, plan and the CVs of that installment.
struct RvInstallment {
    rv: u64,
    rv_day: NaiveDate,
    product: &'static str,
    plan: u32,
    number: u32,
    due: NaiveDate,
    cvs: Vec<SaleInstallment>,
}

impl RvInstallment {
    fn gross(&self) -> Decimal {
        self.cvs.iter().map(|c| c.gross).sum()
    }
    fn mdr(&self) -> Decimal {
        self.cvs.iter().map(|c| c.mdr).sum()
    }
    fn net(&self) -> Decimal {
        self.gross() - self.mdr()
    }

    /// Its type 1 record at `status` (`PF` forecast in the sales movement, `LQ` paid in the financial one).
    fn record(&self, status: &str) -> Line {
        use layout::rv::*;
        let (bank, branch, number, digit) = PAID_INTO;
        let mut l = Line::new(b'1');
        l.text(MERCHANT, EC)
            .put(PRODUCT, self.product)
            .put(CAPTURE, "POS")
            .num(RV, self.rv)
            .date(RV_DATE, self.rv_day)
            .date(PAYMENT_DATE, self.due)
            .put(BANK, bank)
            .num(BRANCH, branch)
            .num(ACCOUNT, 0)
            .num(ACCEPTED, self.cvs.len())
            .num(REJECTED, 0)
            .money(GROSS, self.gross())
            .money(NET, self.net())
            .money(TARIFF, Decimal::ZERO)
            .money(DISCOUNT, self.mdr())
            .money(REJECTED_AMOUNT, Decimal::ZERO)
            .money(CREDIT, self.net())
            .money(CHARGES, Decimal::ZERO)
            .put(STATUS, status)
            .num(INSTALLMENT, self.number)
            .num(PLAN, self.plan)
            .text(CENTRAL, EC)
            .num(OPERATION, 0)
            .num(ORIGINAL_DUE_DATE, 0)
            .put(CURRENCY, "986")
            .put(SIGN, "+")
            .put(ACCOUNT_TYPE, "CC")
            .num(PAYMENT_ACCOUNT, format!("{number}{digit}"));
        l
    }
}

/// A CV of `rv`.
fn cv(rv: u64, c: &SaleInstallment) -> Line {
    use layout::cv::*;
    let mut l = Line::new(b'2');
    l.text(MERCHANT, EC)
        .num(RV, rv)
        .num(NSU, c.nsu)
        .date(DATE, c.day)
        .put(TIME, &c.time)
        .text(CARD, &c.card)
        .money(AMOUNT, c.total)
        .money(WITHDRAWAL, Decimal::ZERO)
        .money(BOARDING, Decimal::ZERO)
        .num(INSTALLMENTS, c.count)
        .num(INSTALLMENT, c.number)
        .money(INSTALLMENT_AMOUNT, c.gross)
        .date(PAYMENT_DATE, c.due)
        .num(AUTHORIZATION, c.authorization)
        .put(CAPTURE, "POS")
        .put(STATUS, "C")
        .text(CENTRAL, EC)
        .put(TERMINAL, "GT000001")
        .put(CURRENCY, "986")
        .put(ORIGIN, "N")
        .put(SIGN, "+")
        .money(COMMISSION, c.mdr);
    l
}

/// The day's payment (type 5, `PG`): `net` to the merchant's account on `day`.
fn payment(day: NaiveDate, net: Decimal) -> Line {
    use layout::negotiation::*;
    let (bank, branch, number, digit) = PAID_INTO;
    let mut l = Line::new(b'5');
    l.text(MERCHANT, EC)
        .date(DATE, day)
        .date(CREDIT_DATE, day)
        .num(OPERATION, 0)
        .put(KIND, "PG")
        .money(TOTAL_GROSS, Decimal::ZERO)
        .money(GROSS, net)
        .money(COST, Decimal::ZERO)
        .money(NET, net)
        .num(RATE, 0)
        .put(ACCOUNT_TYPE, "CC")
        .put(BANK, bank)
        .num(BRANCH, branch)
        .num(ACCOUNT, format!("{number}{digit}"))
        .put(MOVEMENT, "L")
        .put(PARTICIPANT_DOCUMENT, TAX_ID)
        .num(CENTRAL, EC);
    l
}

/// What one day's file holds.
#[derive(Default)]
struct Day {
    /// RV installments forecast (the day's sales).
    forecast: Vec<usize>,
    /// RV installments paid that day.
    paid: Vec<usize>,
}

/// The sample `spec` says, into `dir`: a file per day that has a sale or a payment. `installments` and
/// `settled` count RV installments — what Getnet forecasts and pays, and what the reconciliation matches.
pub fn write(dir: &Path, spec: &AcquirerSampleSpec) -> io::Result<AcquirerSample> {
    let AcquirerSampleSpec { seed, sales, first, days, settle_until } = *spec;
    std::fs::create_dir_all(dir)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0000_6765_746e_6574);
    let mut out = AcquirerSample::default();
    // The day's sales, by product and plan: one RV each, numbered in order.
    let mut groups: BTreeMap<(NaiveDate, &'static str, u32), Vec<SaleInstallment>> = BTreeMap::new();
    for s in 0..sales {
        let day = first + Duration::days((s as u32 % days.max(1)) as i64);
        let brand = rng.gen_range(0..3);
        let debit = rng.gen_bool(0.3);
        let count: u32 = if debit { 1 } else { rng.gen_range(1..=3) };
        let total = Decimal::new(rng.gen_range(1_000..=150_000), 2);
        let rate = rate_percent(debit, count) / Decimal::ONE_HUNDRED;
        let share = (total / Decimal::from(count)).round_dp(2);
        let product = if debit { DEBIT[brand] } else { CREDIT[brand] };
        let bin = ["411111", "555555", "650921"][brand];
        for number in 1..=count {
            let gross = if number == count { total - share * Decimal::from(count - 1) } else { share };
            let due = if debit { day + Duration::days(1) } else { day + Duration::days(30 * number as i64) };
            groups.entry((day, product, count)).or_default().push(SaleInstallment {
                nsu: 2_000_000 + s as u64,
                day,
                time: format!("{:02}{:02}{:02}", 9 + s % 10, (s * 7) % 60, (s * 13) % 60),
                card: format!("{bin}******{:04}", 1000 + s % 9000),
                total,
                count,
                number,
                gross,
                mdr: (gross * rate).round_dp(2),
                due,
                authorization: 100_000 + (s as u64 * 7919) % 900_000,
            });
        }
        out.books.push(PosSale {
            merchant_code: EC.into(),
            sale_id: format!("G{:08}", s + 1),
            date: day,
            time: format!("{:02}:{:02}:{:02}", 9 + s % 10, (s * 7) % 60, (s * 13) % 60),
            nsu: format!("{:012}", 2_000_000 + s as u64),
            authorization_code: format!("{:010}", 100_000 + (s as u64 * 7919) % 900_000),
            total,
            installments: count,
            brand: BRANDS[brand].1,
            card_last_digits: format!("{:04}", 1000 + s % 9000),
            debit,
        });
        out.sales += 1;
        out.gross += total;
    }
    for b in 0..BRANDS.len() {
        let rate = |product: &'static str, debit: bool, count: u32| SampleRate {
            merchant_code: EC.into(),
            acquirer: "getnet",
            brand: BRANDS[b].0,
            product,
            installments: (count, count),
            rate_percent: rate_percent(debit, count),
            fixed_fee: Decimal::ZERO,
        };
        out.rates.push(rate(DEBIT[b], true, 1));
        out.rates.extend((1..=3).map(|n| rate(CREDIT[b], false, n)));
    }
    let mut units: Vec<RvInstallment> = Vec::new();
    let mut calendar: BTreeMap<NaiveDate, Day> = BTreeMap::new();
    for (n, ((day, product, plan), installments)) in groups.into_iter().enumerate() {
        let mut by_number: BTreeMap<u32, Vec<SaleInstallment>> = BTreeMap::new();
        for i in installments {
            by_number.entry(i.number).or_default().push(i);
        }
        for (number, cvs) in by_number {
            let due = cvs[0].due;
            let unit = units.len();
            calendar.entry(day).or_default().forecast.push(unit);
            out.installments += 1;
            if due <= settle_until {
                calendar.entry(due).or_default().paid.push(unit);
                out.settled += 1;
            }
            units.push(RvInstallment { rv: 510_000_000 + n as u64, rv_day: day, product, plan, number, due, cvs });
        }
    }
    for (sequence, (day, content)) in calendar.into_iter().enumerate() {
        let mut lines = Vec::new();
        let mut header = Line::new(b'0');
        {
            use layout::header::*;
            header
                .date(CREATED, day + Duration::days(1))
                .put(CREATED_TIME, "053000")
                .date(REFERENCE, day)
                .put(FILE, super::FILE_TYPE)
                .text(MERCHANT, EC)
                .put(ACQUIRER_TAX_ID, "10440482000154")
                .text(ACQUIRER_NAME, "GETNET S.A.")
                .num(SEQUENCE, sequence + 1)
                .put(ACQUIRER_CODE, "GS")
                .text(VERSION, "SANT. V.10.1 400 BYTES");
        }
        lines.push(header);
        for &u in &content.forecast {
            let unit = &units[u];
            lines.push(unit.record("PF"));
            lines.extend(unit.cvs.iter().map(|c| cv(unit.rv, c)));
        }
        let deposit: Decimal = content.paid.iter().map(|&u| units[u].net()).sum();
        for &u in &content.paid {
            let mut paid = units[u].record("LQ");
            paid.date(layout::rv::PAYMENT_DATE, day);
            lines.push(paid);
        }
        if !content.paid.is_empty() {
            lines.push(payment(day, deposit));
            out.deposits.push(AnnouncedPayment::daily(
                EC,
                "GETNET",
                PAID_INTO,
                day,
                deposit,
                "PAGAMENTO CARTAO GETNET",
            ));
        }
        let mut trailer = Line::new(b'9');
        trailer.num(layout::trailer::RECORDS, lines.len() + 1);
        lines.push(trailer);
        let mut bytes = Vec::with_capacity(lines.len() * (RECORD + 2));
        for l in &lines {
            bytes.extend_from_slice(&l.0);
            bytes.extend_from_slice(b"\r\n");
        }
        let path = dir.join(format!("getnetextr_{}_{EC}.txt", day.format("%Y%m%d")));
        std::fs::write(&path, bytes)?;
        out.files.push(path);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_record_is_400_bytes_and_the_files_validate_with_their_trailer_counts() {
        let dir = tempfile::tempdir().unwrap();
        let first = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
        let spec = AcquirerSampleSpec { seed: 3, sales: 30, first, days: 2, settle_until: first + Duration::days(40) };
        let s = write(dir.path(), &spec).unwrap();
        assert_eq!(s.sales, 30);
        assert!(s.settled > 0 && s.settled < s.installments, "{s:?}");
        for f in &s.files {
            let bytes = std::fs::read(f).unwrap();
            assert!(bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()).all(|l| l.len() == RECORD + 1));
            let summary = &crate::formats::validate_statement(std::fs::File::open(f).unwrap(), "getnet").unwrap();
            assert!(summary.is_valid(), "{}: {:?}", f.display(), summary.errors);
            assert_eq!(summary.anomaly_count, 0, "{}: {:?}", f.display(), summary.anomalies);
            let trailer = summary.trailer.as_ref().unwrap();
            assert!(trailer.matches);
        }
    }
}
