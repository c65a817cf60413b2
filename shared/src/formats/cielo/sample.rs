//! Realistic, internally consistent Cielo v15 statements for demos, tests and benchmarks.
//!
//! For each of a few merchants, `generate` writes one sales file (03: every installment forecast, grouped
//! in URs), one payments file (04: the URs falling due in its period, most paid on time, some late, a few
//! never paid, with chargebacks), an open-balance file (09: the URs still to be paid after that period), a
//! receivables-negotiation file (15: some future URs sold for cash, records A/B/C) and a Pix file (16).
//! Brands, products, installments, cancellations and chargebacks vary; trailers match. The same seed gives
//! byte-identical files. Files are written one merchant-day at a time, so memory does not grow with the number
//! of transactions.

use super::header as h;
use super::trailer as t;
use super::v15::{credit, negotiated, negotiation, pix, tx, ur};
use crate::formats::bank::sample::{PosSale, SampleRate};
use crate::formats::field::{AmountField, Field};
use chrono::{Duration, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// What to generate.
#[derive(Debug, Clone)]
pub struct SampleSpec {
    /// Number of sales across all merchants (each may have several installments).
    pub transactions: u64,
    pub seed: u64,
    pub merchants: usize,
    /// Random real-life noise: ~1% of sales cancelled, ~2% of URs paid late, ~1% never paid, chargebacks on
    /// ~0.5% of paid lines. Off, every sale is captured, forecast and paid exactly as contracted.
    pub anomalies: bool,
    /// Exact problems planted on chosen sales (for reconciliation scenarios with known answers).
    pub scenarios: Vec<Scenario>,
}

impl Default for SampleSpec {
    fn default() -> Self {
        SampleSpec { transactions: 1000, seed: 42, merchants: 3, anomalies: true, scenarios: Vec::new() }
    }
}

/// A problem planted on one sale of one merchant (by index: merchant 0…, sale 0… in that merchant's
/// order). Installment effects touch the sale's first installment, which is moved into a UR of its own so
/// that nothing else is affected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scenario {
    /// The acquirer captures the sale twice: a second sale, same card, amount and day, new NSU and code.
    CapturedTwice { merchant: usize, sale: u64 },
    /// In the merchant's books, never captured: absent from every acquirer file.
    NeverCaptured { merchant: usize, sale: u64 },
    /// The first installment is paid `days` after its due date.
    PaidLate { merchant: usize, sale: u64, days: i64 },
    /// The first installment is paid short by `amount`.
    PaidShort { merchant: usize, sale: u64, amount: Decimal },
    /// The first installment is never paid.
    NeverPaid { merchant: usize, sale: u64 },
    /// A payment of `amount` on the `day`-th day of the payment period, for no sale.
    UnexpectedPayment { merchant: usize, day: i64, amount: Decimal },
    /// The first installment is paid, then charged back `days` later.
    ChargebackAfterPayment { merchant: usize, sale: u64, days: i64 },
    /// The first installment is paid, then charged back `days` later and again the day after, the first
    /// chargeback standing (never reversed).
    ChargedBackTwice { merchant: usize, sale: u64, days: i64 },
    /// A chargeback on the `day`-th day of the payment period naming a sale in no statement.
    ChargebackOfUnknownSale { merchant: usize, day: i64, amount: Decimal },
    /// The sale's fee is charged `points` percentage points above the contracted rate.
    FeeAbove { merchant: usize, sale: u64, points: Decimal },
}

impl Scenario {
    fn target(&self) -> Option<(usize, u64)> {
        match *self {
            Scenario::CapturedTwice { merchant, sale }
            | Scenario::NeverCaptured { merchant, sale }
            | Scenario::PaidLate { merchant, sale, .. }
            | Scenario::PaidShort { merchant, sale, .. }
            | Scenario::NeverPaid { merchant, sale }
            | Scenario::ChargebackAfterPayment { merchant, sale, .. }
            | Scenario::ChargedBackTwice { merchant, sale, .. }
            | Scenario::FeeAbove { merchant, sale, .. } => Some((merchant, sale)),
            Scenario::UnexpectedPayment { .. } | Scenario::ChargebackOfUnknownSale { .. } => None,
        }
    }

    /// Whether the scenario changes how the sale's first installment is paid (it then gets a UR of its own).
    fn touches_payment(&self) -> bool {
        matches!(
            self,
            Scenario::PaidLate { .. }
                | Scenario::PaidShort { .. }
                | Scenario::NeverPaid { .. }
                | Scenario::ChargebackAfterPayment { .. }
                | Scenario::ChargedBackTwice { .. }
        )
    }
}

impl SampleSpec {
    fn scenarios_for(&self, merchant: usize, sale: u64) -> impl Iterator<Item = &Scenario> {
        self.scenarios.iter().filter(move |s| s.target() == Some((merchant, sale)))
    }
}

/// Offset of the sale numbers of second captures (`Scenario::CapturedTwice`).
const SECOND_CAPTURE: u64 = 900_000_000;
/// Sale numbers of payments for no sale (`Scenario::UnexpectedPayment`).
const UNEXPECTED_SALE: u64 = 800_000_000;
/// Sale numbers of sales in no statement, charged back (`Scenario::ChargebackOfUnknownSale`).
const UNKNOWN_SALE: u64 = 700_000_000;

/// One file written, with the figures its trailer declares.
#[derive(Debug, Clone)]
pub struct SampleFile {
    pub path: PathBuf,
    pub file_type: &'static str,
    pub merchant_code: String,
    pub receivable_units: u64,
    pub transactions: u64,
    /// Pix records (file 16).
    pub pix_transactions: u64,
    /// Negotiation records A + B + C (file 15).
    pub negotiation_records: u64,
    /// Trailer figures: Σ D gross and net (Pix and negotiations are not in them).
    pub gross_total: Decimal,
    pub net_total: Decimal,
    /// Trailer's negotiated total (file 15: Σ A net).
    pub negotiated_total: Decimal,
    /// What the file says Cielo pays (04: each UR paid or sent to the bank; 15: each negotiation's credit),
    /// into [`SampleFile::account`]: what the merchant's bank statement should show.
    pub payouts: Vec<Payout>,
    /// The merchant's account the payments go to.
    pub account: PayAccount,
}

/// One amount Cielo says it pays on a day (a UR of a brand, or a negotiation's proceeds: brand empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payout {
    pub date: NaiveDate,
    /// Cielo's brand code (`001` Visa…), empty for a negotiation.
    pub brand: &'static str,
    pub amount: Decimal,
}

/// A merchant's bank account as the sample files declare it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayAccount {
    pub bank: &'static str,
    pub branch: String,
    /// Digits, without the check digit.
    pub number: String,
    pub check_digit: &'static str,
}

/// What the sample files say Cielo pays each merchant, per day and brand, summed (as the reconciliation
/// reads them: a day and brand whose sum is a debit is no deposit): the input of
/// [`crate::formats::bank::sample::write`].
pub fn announced_payments(files: &[SampleFile]) -> Vec<crate::formats::bank::sample::AnnouncedPayment> {
    let mut sums: BTreeMap<(&str, NaiveDate, &'static str), (&SampleFile, Decimal)> = BTreeMap::new();
    for f in files {
        for p in &f.payouts {
            sums.entry((f.merchant_code.as_str(), p.date, p.brand)).or_insert((f, Decimal::ZERO)).1 += p.amount;
        }
    }
    sums.into_iter()
        .filter(|(_, (_, amount))| *amount > Decimal::ZERO)
        .map(|((merchant, date, brand), (f, amount))| crate::formats::bank::sample::AnnouncedPayment {
            merchant_code: merchant.to_string(),
            acquirer_word: "CIELO",
            bank: f.account.bank.to_string(),
            branch: f.account.branch.clone(),
            number: f.account.number.clone(),
            check_digit: f.account.check_digit.to_string(),
            date,
            brand_word: brand_word(brand),
            amount,
            memo: None,
        })
        .collect()
}

/// How a bank names the sample brands in a credit's memo (as Itaú and Bradesco do: `CIELO VISA`).
pub fn brand_word(brand: &str) -> &'static str {
    POS_BRAND_NAMES.iter().find(|(code, _)| *code == brand).map_or("", |(_, name)| name)
}

/// Card products a sample sale can use: brand, settlement type, product code, posting type, installments.
struct Product {
    brand: &'static str,
    settlement: &'static str,
    code: &'static str,
    installments: bool,
}

/// Product codes from Cielo's table IV, by brand (Visa, Mastercard, Elo, Amex, Hipercard).
const PRODUCTS: &[Product] = &[
    Product { brand: "001", settlement: "002", code: "040", installments: false },
    Product { brand: "001", settlement: "001", code: "041", installments: false },
    Product { brand: "001", settlement: "002", code: "043", installments: true },
    Product { brand: "002", settlement: "002", code: "010", installments: false },
    Product { brand: "002", settlement: "001", code: "011", installments: false },
    Product { brand: "002", settlement: "002", code: "012", installments: true },
    Product { brand: "007", settlement: "002", code: "070", installments: false },
    Product { brand: "007", settlement: "001", code: "071", installments: false },
    Product { brand: "007", settlement: "002", code: "072", installments: true },
    Product { brand: "003", settlement: "002", code: "082", installments: false },
    Product { brand: "003", settlement: "002", code: "083", installments: true },
    Product { brand: "040", settlement: "002", code: "164", installments: false },
    Product { brand: "040", settlement: "002", code: "165", installments: true },
];

/// MDR in percent by settlement and installments: the "contract" samples are generated with.
pub fn sample_mdr_rate(settlement: &str, installments: u32) -> Decimal {
    match (settlement, installments) {
        ("001", _) => Decimal::new(119, 2),
        (_, 0 | 1) => Decimal::new(248, 2),
        (_, 2..=6) => Decimal::new(289, 2),
        _ => Decimal::new(329, 2),
    }
}

/// First day of sales in every sample.
fn base_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 9, 1).expect("valid date")
}

/// The sample's calendar, for the other acquirers' samples to cover the same days: the first day of sales,
/// the number of days with sales (of the busiest merchant), and the end of the payment period.
pub fn calendar(spec: &SampleSpec) -> (NaiveDate, u32, NaiveDate) {
    let ms = spec.merchants.max(1) as u64;
    let busiest = spec.transactions / ms + u64::from(spec.transactions % ms > 0);
    let days = busiest.div_ceil(5000).clamp(3, 365);
    let first = base_date();
    (first, days as u32, first + Duration::days(days as i64 - 1 + 31))
}

struct Merchant {
    code: String,
    tax_id: String,
    bank: &'static str,
    branch: String,
    account: String,
}

fn merchants(spec: &SampleSpec) -> Vec<Merchant> {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed ^ 0x5eed_0000_0000_0001);
    (0..spec.merchants.max(1))
        .map(|i| {
            // Every third merchant code starts with zeros: leading zeros are data.
            let code = if i % 3 == 1 {
                format!("00{:08}", rng.gen_range(10_000_000..99_999_999u64))
            } else {
                format!("{:010}", rng.gen_range(1_000_000_000..9_999_999_999u64))
            };
            Merchant {
                code,
                tax_id: format!("{:08}0001{:02}", rng.gen_range(1_000_000..99_999_999u64), rng.gen_range(0..100)),
                bank: ["0341", "0001", "0237", "0033", "0104"][i % 5],
                branch: format!("{:05}", rng.gen_range(100..99_999)),
                account: format!("{:020}", rng.gen_range(10_000..99_999_999u64)),
            }
        })
        .collect()
}

/// One installment (or adjustment) line of a UR.
#[derive(Clone)]
struct Entry {
    sale_no: u64,
    product: usize,
    installment: u32,
    installment_count: u32,
    posting: &'static str,
    adjustment: &'static str,
    sale_day: NaiveDate,
    due: NaiveDate,
    sale_total: Decimal,
    gross: Decimal,
    fee: Decimal,
    rate: Decimal,
    nsu: String,
    auth: String,
    bin: String,
    last4: String,
    time: String,
    original_sale_code: String,
    cancelled: bool,
}

impl Entry {
    fn net(&self) -> Decimal {
        self.gross + self.fee
    }
    fn unique_sale_code(&self, m: usize) -> String {
        format!("{:01}{:014}", m % 10, self.sale_no)
    }
    fn transaction_code(&self, m: usize) -> String {
        format!("{}{:07}", self.sale_day.format("%y%m%d"), (m as u64) * 1_000_000 + self.sale_no % 1_000_000)
    }
}

fn round2(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// The sales of one merchant on one day, expanded into installments, cancellations included: as the acquirer
/// sees them (`acquirer`: planted capture and fee problems applied) or as the merchant's books have them.
fn day_entries(
    spec: &SampleSpec,
    m: usize,
    day_idx: u64,
    sales: u64,
    first_sale_no: u64,
    acquirer: bool,
) -> Vec<Entry> {
    let mut rng =
        ChaCha8Rng::seed_from_u64(spec.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ ((m as u64) << 40) ^ day_idx);
    let day = base_date() + Duration::days(day_idx as i64);
    let mut out = Vec::with_capacity(sales as usize * 2);
    for s in 0..sales {
        let product = rng.gen_range(0..PRODUCTS.len());
        let p = &PRODUCTS[product];
        let n: u32 = if p.installments { rng.gen_range(2..=12) } else { 1 };
        let total = Decimal::new(rng.gen_range(500..250_000), 2);
        let rate = sample_mdr_rate(p.settlement, n);
        let nsu = format!("{:06}", rng.gen_range(0..1_000_000));
        let auth = format!("{:06}", rng.gen_range(0..1_000_000));
        let bin = format!("{:06}", rng.gen_range(400_000..560_000));
        let last4 = format!("{:04}", rng.gen_range(0..10_000));
        let time = format!("{:02}{:02}{:02}", rng.gen_range(8..22), rng.gen_range(0..60), rng.gen_range(0..60));
        let cancelled = rng.gen_bool(0.01) && spec.anomalies;
        let sale_no = first_sale_no + s;
        let planted: Vec<&Scenario> = if acquirer { spec.scenarios_for(m, sale_no).collect() } else { Vec::new() };
        if planted.iter().any(|p| matches!(p, Scenario::NeverCaptured { .. })) {
            continue;
        }
        let rate = rate
            + planted
                .iter()
                .map(|p| match p {
                    Scenario::FeeAbove { points, .. } => *points,
                    _ => Decimal::ZERO,
                })
                .sum::<Decimal>();
        let first_of_sale = out.len();
        let base = round2(total / Decimal::from(n));
        let first = total - base * Decimal::from(n - 1);
        for k in 1..=n {
            let gross = if k == 1 { first } else { base };
            let due = if p.settlement == "001" { day + Duration::days(1) } else { day + Duration::days(30 * k as i64) };
            let (installment, count, posting) = match (p.settlement, n) {
                ("001", _) => (0, 0, "01"),
                (_, 1) => (0, 0, "02"),
                _ => (k, n, "03"),
            };
            let e = Entry {
                sale_no,
                product,
                installment,
                installment_count: count,
                posting,
                adjustment: "",
                sale_day: day,
                due,
                sale_total: total,
                gross,
                fee: -round2(gross * rate / Decimal::ONE_HUNDRED),
                rate,
                nsu: nsu.clone(),
                auth: auth.clone(),
                bin: bin.clone(),
                last4: last4.clone(),
                time: time.clone(),
                original_sale_code: String::new(),
                cancelled: false,
            };
            if cancelled && k == 1 {
                // Cancelamento: reverses the first installment, in the same UR.
                let mut c = e.clone();
                c.posting = "06";
                c.adjustment = "0006";
                c.gross = -e.gross;
                c.fee = -e.fee;
                c.original_sale_code = e.unique_sale_code(m);
                c.cancelled = true;
                out.push(e);
                out.push(c);
            } else {
                out.push(e);
            }
        }
        if planted.iter().any(|p| matches!(p, Scenario::CapturedTwice { .. })) {
            let again: Vec<Entry> = out[first_of_sale..]
                .iter()
                .map(|e| Entry {
                    sale_no: e.sale_no + SECOND_CAPTURE,
                    nsu: format!("{:06}", (e.nsu.parse::<u64>().unwrap_or(0) + 500_000) % 1_000_000),
                    ..e.clone()
                })
                .collect();
            out.extend(again);
        }
    }
    out
}

/// UR grouping key: due date, brand, settlement type, posting type of the sale.
type UrKey = (NaiveDate, &'static str, &'static str, &'static str);

fn group(entries: Vec<Entry>) -> BTreeMap<UrKey, Vec<Entry>> {
    let mut urs: BTreeMap<UrKey, Vec<Entry>> = BTreeMap::new();
    for e in entries {
        let p = &PRODUCTS[e.product];
        let posting = match e.posting {
            "06" | "08" => {
                if e.installment_count > 0 {
                    "03"
                } else if p.settlement == "001" {
                    "01"
                } else {
                    "02"
                }
            }
            other => other,
        };
        urs.entry((e.due, p.brand, p.settlement, posting)).or_default().push(e);
    }
    urs
}

/// A fixed-width line being written with the same field tables the parser reads.
struct LineBuilder(Vec<u8>);

impl LineBuilder {
    fn new(kind: u8, width: usize) -> Self {
        let mut v = vec![b' '; width];
        v[0] = kind;
        LineBuilder(v)
    }
    fn text(&mut self, f: Field, value: &str) -> &mut Self {
        let bytes = value.as_bytes();
        let n = bytes.len().min(f.len);
        self.0[f.start - 1..f.start - 1 + n].copy_from_slice(&bytes[..n]);
        self
    }
    fn num(&mut self, f: Field, value: u64) -> &mut Self {
        let s = format!("{value:0width$}", width = f.len);
        self.text(f, &s)
    }
    fn amount(&mut self, a: AmountField, value: Decimal) -> &mut Self {
        self.0[a.sign.start - 1] = if value.is_sign_negative() && !value.is_zero() { b'-' } else { b'+' };
        let mut v = value.abs();
        v.rescale(a.scale);
        let digits = v.mantissa().to_string();
        let s = format!("{digits:0>width$}", width = a.digits.len);
        self.text(a.digits, &s)
    }
    fn rate(&mut self, f: Field, value: Decimal) -> &mut Self {
        let mut v = value;
        v.rescale(2);
        self.num(f, v.mantissa() as u64)
    }
    fn date(&mut self, f: Field, d: NaiveDate) -> &mut Self {
        self.text(f, &d.format("%d%m%Y").to_string())
    }
    fn short_date(&mut self, f: Field, d: NaiveDate) -> &mut Self {
        self.text(f, &d.format("%y%m%d").to_string())
    }
    fn scaled(&mut self, f: Field, value: Decimal, scale: u32) -> &mut Self {
        let mut v = value;
        v.rescale(scale);
        self.num(f, v.mantissa() as u64)
    }
    fn finish(&self, out: &mut impl Write) -> io::Result<()> {
        out.write_all(&self.0)?;
        out.write_all(b"\r\n")
    }
}

/// A statement being written, with the totals its trailer will declare.
struct StatementWriter {
    out: BufWriter<File>,
    records: u64,
    urs: u64,
    txs: u64,
    pix: u64,
    negotiation_records: u64,
    gross: Decimal,
    net: Decimal,
    negotiated: Decimal,
    /// Open-balance file (09): URs carry the "saldo em aberto" flag.
    open_balance: bool,
    /// Payments file (04) or negotiations (15): what is paid is kept as [`Payout`]s.
    pays: bool,
    payouts: Vec<Payout>,
}

impl StatementWriter {
    fn create(
        path: &Path,
        m: &Merchant,
        file_type: &str,
        processing: NaiveDate,
        start: NaiveDate,
        end: NaiveDate,
    ) -> io::Result<Self> {
        let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
        let mut l = LineBuilder::new(b'0', 250);
        l.text(h::MERCHANT, &m.code)
            .text(h::PROCESSING_DATE, &processing.format("%Y%m%d").to_string())
            .text(h::PERIOD_START, &start.format("%Y%m%d").to_string())
            .text(h::PERIOD_END, &end.format("%Y%m%d").to_string())
            .num(h::SEQUENCE, 1)
            .text(h::ACQUIRER, "CIELO")
            .text(h::FILE_TYPE, file_type)
            .text(Field::new("transmission", 50, 1), "I")
            .text(h::LAYOUT_VERSION, "015")
            .text(Field::new("reserved", 74, 3), "03N");
        l.finish(&mut out)?;
        Ok(StatementWriter {
            out,
            records: 0,
            urs: 0,
            txs: 0,
            pix: 0,
            negotiation_records: 0,
            gross: Decimal::ZERO,
            net: Decimal::ZERO,
            negotiated: Decimal::ZERO,
            open_balance: file_type == "09",
            pays: matches!(file_type, "04" | "15"),
            payouts: Vec::new(),
        })
    }

    fn ur(
        &mut self,
        mi: usize,
        m: &Merchant,
        key: &UrKey,
        entries: &[Entry],
        status: &str,
        paid: Option<NaiveDate>,
    ) -> io::Result<()> {
        self.ur_keyed(mi, m, key, "", entries, status, paid)
    }

    /// A UR whose key carries `suffix` (a UR split off its group by a planted scenario).
    #[allow(clippy::too_many_arguments)]
    fn ur_keyed(
        &mut self,
        mi: usize,
        m: &Merchant,
        key: &UrKey,
        suffix: &str,
        entries: &[Entry],
        status: &str,
        paid: Option<NaiveDate>,
    ) -> io::Result<()> {
        let (due, brand, settlement, posting) = *key;
        let gross: Decimal = entries.iter().map(|e| e.gross).sum();
        let fee: Decimal = entries.iter().map(|e| e.fee).sum();
        let net = gross + fee;
        let ur_key = format!("{}{suffix}", ur_key(m, key, mi));
        let mut d = LineBuilder::new(b'D', 400);
        d.text(ur::MERCHANT, &m.code)
            .text(ur::HOLDER_TAX_ID, &m.tax_id)
            .text(ur::MOVEMENT_TAX_ID, &m.tax_id)
            .text(ur::RECEIVER_TAX_ID, &m.tax_id)
            .text(ur::BRAND, brand)
            .text(ur::SETTLEMENT_TYPE, settlement)
            .text(ur::PAYMENT_MATRIX, &m.code)
            .text(ur::PAYMENT_STATUS, status)
            .amount(ur::GROSS, gross)
            .amount(ur::FEE, fee)
            .amount(ur::NET, net)
            .text(ur::BANK, m.bank)
            .text(ur::BRANCH, &m.branch)
            .text(ur::ACCOUNT, &m.account)
            .text(ur::ACCOUNT_DIGIT, "1")
            .num(ur::ENTRY_COUNT, entries.len() as u64)
            .text(ur::POSTING_TYPE, posting)
            .text(ur::UR_KEY, &ur_key)
            .date(ur::PAYMENT_DATE, paid.unwrap_or(due))
            .date(ur::ORIGINAL_DUE_DATE, due)
            .text(ur::PAYMENT_MERCHANT, &m.code)
            .text(ur::PENDING_FLAG, "N")
            .text(ur::RESEND_FLAG, "N")
            .text(ur::NEGOTIATION_FLAG, "N")
            .num(ur::NEGOTIATOR_TAX_ID, 0);
        if let Some(p) = paid {
            d.date(ur::SENT_TO_BANK_DATE, p - Duration::days(1));
            // Paid (04) or sent to the bank (03): on its way to the account.
            if self.pays && matches!(status, "03" | "04") {
                self.payouts.push(Payout { date: p, brand, amount: net });
            }
        }
        if self.open_balance {
            d.text(ur::OPEN_BALANCE_FLAG, "S");
        }
        d.finish(&mut self.out)?;
        for e in entries {
            self.tx(mi, m, &ur_key, e)?;
        }
        self.records += 1;
        self.urs += 1;
        self.gross += gross;
        self.net += net;
        Ok(())
    }

    fn tx(&mut self, mi: usize, m: &Merchant, ur_key: &str, e: &Entry) -> io::Result<()> {
        let p = &PRODUCTS[e.product];
        let mut l = LineBuilder::new(b'E', 760);
        l.text(tx::MERCHANT, &m.code)
            .text(tx::BRAND, p.brand)
            .text(tx::SETTLEMENT_TYPE, p.settlement)
            .num(tx::INSTALLMENT, u64::from(e.installment))
            .num(tx::INSTALLMENT_COUNT, u64::from(e.installment_count))
            .text(tx::AUTHORIZATION, &e.auth)
            .text(tx::POSTING_TYPE, e.posting)
            .text(tx::UR_KEY, ur_key)
            .text(tx::TRANSACTION_CODE, &e.transaction_code(mi))
            .text(tx::ADJUSTMENT_CODE, e.adjustment)
            .text(tx::PRODUCT, p.code)
            .text(tx::INDICATORS, "NNNNNNN")
            .text(tx::BIN, &e.bin)
            .text(tx::CARD_LAST, &e.last4)
            .text(tx::NSU, &e.nsu)
            .rate(tx::MDR_RATE, e.rate)
            .rate(tx::SALE_RATE, e.rate)
            .amount(tx::SALE_TOTAL, if e.gross.is_sign_negative() { -e.sale_total } else { e.sale_total })
            .amount(tx::GROSS, e.gross)
            .amount(tx::NET, e.net())
            .amount(tx::FEE, e.fee)
            .text(tx::SALE_TIME, &e.time)
            .text(tx::CARD_GROUP, "01")
            .text(tx::RECEIVER_TAX_ID, &m.tax_id)
            .text(tx::AUTHORIZATION_BRAND, p.brand)
            .text(tx::UNIQUE_SALE_CODE, &e.unique_sale_code(mi))
            .text(tx::ORIGINAL_SALE_CODE, &e.original_sale_code)
            .text(tx::SALES_CHANNEL, "001")
            .text(tx::TERMINAL, &format!("{:08}", 10_000_000 + mi as u64))
            .date(tx::AUTHORIZATION_DATE, e.sale_day)
            .date(tx::CAPTURE_DATE, e.sale_day)
            .date(tx::ORIGINAL_DUE_DATE, e.due)
            .text(tx::PAYMENT_MATRIX, &m.code)
            .text(tx::CARD_ORIGIN, "N")
            .text(tx::BANK, m.bank)
            .text(tx::BRANCH, &m.branch)
            .text(tx::ACCOUNT, &m.account)
            .text(tx::ACCOUNT_DIGIT, "1")
            .text(tx::CAPTURE_TYPE, "10");
        for a in [
            tx::MINIMUM_FEE,
            tx::DOWN_PAYMENT,
            tx::MDR_TARIFF,
            tx::FAST_RECEIPT,
            tx::WITHDRAWAL,
            tx::BOARDING_FEE,
            tx::PENDING,
            tx::TOTAL_DEBT,
            tx::CHARGED,
            tx::ADMIN_TARIFF,
            tx::PROMO,
            tx::DCC,
        ] {
            l.amount(a, Decimal::ZERO);
        }
        if e.cancelled || e.posting == "08" {
            l.text(tx::PROCESSED_TRANSACTION, &e.transaction_code(mi))
                .text(tx::ORIGINAL_POSTING_TYPE, if e.installment_count > 0 { "03" } else { "02" });
        }
        l.finish(&mut self.out)?;
        self.records += 1;
        self.txs += 1;
        Ok(())
    }

    /// A Pix received (type 01) or a debit adjustment of an earlier one (type 03).
    fn pix(&mut self, m: &Merchant, p: &PixEntry) -> io::Result<()> {
        let mut l = LineBuilder::new(b'8', 400);
        l.text(pix::MERCHANT, &m.code)
            .text(pix::TRANSACTION_TYPE, p.kind)
            .short_date(pix::DATE, p.day)
            .text(pix::TIME, &p.time)
            .text(pix::PIX_ID, &p.id)
            .text(pix::NSU, &p.nsu)
            .short_date(pix::PAYMENT_DATE, p.day)
            .amount(pix::GROSS, p.gross)
            .amount(pix::FEE, p.fee)
            .amount(pix::NET, p.gross + p.fee)
            .num(pix::BANK, 0)
            .num(pix::BRANCH, 0)
            .num(pix::ACCOUNT, 0)
            .short_date(pix::CAPTURE_DATE, p.day)
            .scaled(pix::FEE_RATE, PIX_RATE, 2)
            .num(pix::TARIFF, 0)
            .text(pix::CHANNEL, "01")
            .text(pix::TERMINAL, &p.terminal)
            .text(pix::AUTOMATIC_TRANSFER, "S")
            .text(pix::TRANSFER_STATUS, "05")
            .short_date(pix::CIELO_ACCOUNT_DATE, p.day)
            .text(pix::NSU_LONG, &format!("00{}", p.nsu))
            .text(pix::SCHEDULED_TRANSFER, "N")
            .text(pix::TXID, &format!("CIELO{}{:0>22}", p.day.format("%Y%m%d"), p.nsu));
        if let Some((day, time, id)) = &p.original {
            l.short_date(pix::ORIGINAL_DATE, *day).text(pix::ORIGINAL_TIME, time).text(pix::ORIGINAL_PIX_ID, id);
        }
        l.finish(&mut self.out)?;
        self.records += 1;
        self.pix += 1;
        Ok(())
    }

    /// One negotiation: its summary (A), one detail per UR sold (B), and the account credited (C).
    fn negotiation(&mut self, m: &Merchant, day: NaiveDate, number: u64, sold: &[SoldUr]) -> io::Result<()> {
        if sold.is_empty() {
            return Ok(());
        }
        let gross: Decimal = sold.iter().map(|s| s.gross).sum();
        let net: Decimal = sold.iter().map(|s| s.gross - s.discount).sum();
        let days: i64 = sold.iter().map(|s| (s.due - day).num_days()).sum();
        let average_term = (days / sold.len() as i64) as u64;
        let effective = |g: Decimal, n: Decimal| (g - n) / g * Decimal::ONE_HUNDRED;
        let mut a = LineBuilder::new(b'A', 250);
        a.short_date(negotiation::DATE, day)
            .short_date(negotiation::PAYMENT_DATE, day)
            .text(negotiation::TAX_ID, &m.tax_id)
            .num(negotiation::AVERAGE_TERM, average_term)
            .scaled(negotiation::NOMINAL_RATE, NEGOTIATION_RATE, 3)
            .amount(negotiation::GROSS, gross)
            .amount(negotiation::NET, net)
            .text(negotiation::OPERATION, &format!("{:020}", number))
            .text(negotiation::PAYMENT_FORM, "003")
            .scaled(negotiation::EFFECTIVE_RATE, round3(effective(gross, net)), 3);
        a.finish(&mut self.out)?;
        for s in sold {
            let mut b = LineBuilder::new(b'B', 250);
            b.short_date(negotiated::DATE, day)
                .short_date(negotiated::ORIGINAL_DUE_DATE, s.due)
                .text(negotiated::TAX_ID, &m.tax_id)
                .text(negotiated::BRAND, s.brand)
                .text(negotiated::SETTLEMENT_TYPE, s.settlement)
                .amount(negotiated::GROSS, s.gross)
                .amount(negotiated::NET, s.gross - s.discount)
                .scaled(negotiated::EFFECTIVE_RATE, round3(effective(s.gross, s.gross - s.discount)), 3)
                .text(negotiated::INSTITUTION, &format!("{:>50}", "Cielo"))
                .text(negotiated::MERCHANT, &m.code)
                .amount(negotiated::DISCOUNT, -s.discount);
            b.finish(&mut self.out)?;
        }
        let mut c = LineBuilder::new(b'C', 250);
        c.text(credit::BANK, m.bank)
            .text(credit::BRANCH, &m.branch)
            .text(credit::ACCOUNT, &m.account)
            .amount(credit::DEPOSITED, net);
        c.finish(&mut self.out)?;
        self.payouts.push(Payout { date: day, brand: "", amount: net });
        let n = sold.len() as u64 + 2;
        self.records += n;
        self.negotiation_records += n;
        self.negotiated += net;
        Ok(())
    }

    fn finish(mut self, path: PathBuf, file_type: &'static str, m: &Merchant) -> io::Result<SampleFile> {
        let mut l = LineBuilder::new(b'9', 250);
        l.num(t::TOTAL_RECORDS, self.records)
            .amount(t::NET_TOTAL, self.net)
            .num(t::TRANSACTION_COUNT, self.txs)
            .amount(t::GROSS_TOTAL, self.gross)
            .amount(t::ANTICIPATED_TOTAL, Decimal::ZERO)
            .amount(t::NEGOTIATED_TOTAL, self.negotiated);
        l.finish(&mut self.out)?;
        self.out.flush()?;
        Ok(SampleFile {
            path,
            file_type,
            merchant_code: m.code.clone(),
            receivable_units: self.urs,
            transactions: self.txs,
            pix_transactions: self.pix,
            negotiation_records: self.negotiation_records,
            gross_total: self.gross,
            net_total: self.net,
            negotiated_total: self.negotiated,
            payouts: self.payouts,
            account: PayAccount { bank: m.bank, branch: m.branch.clone(), number: m.account.clone(), check_digit: "1" },
        })
    }
}

/// Pix MDR in percent, and the monthly nominal rate of sample negotiations (ARV).
const PIX_RATE: Decimal = Decimal::from_parts(99, 0, 0, false, 2);
const NEGOTIATION_RATE: Decimal = Decimal::from_parts(1990, 0, 0, false, 3);

fn round3(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(3, RoundingStrategy::MidpointAwayFromZero)
}

/// A Pix of the sample: `original` = (date, time, id) of the Pix an adjustment reverses.
struct PixEntry {
    kind: &'static str,
    day: NaiveDate,
    time: String,
    id: String,
    nsu: String,
    terminal: String,
    gross: Decimal,
    fee: Decimal,
    original: Option<(NaiveDate, String, String)>,
}

/// The Pix of one merchant on one day: about one for every eight card sales; ~3% are later reversed.
fn day_pix(spec: &SampleSpec, m: usize, day_idx: u64, card_sales: u64) -> Vec<PixEntry> {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed ^ 0x1600_0000 ^ ((m as u64) << 32) ^ day_idx);
    let day = base_date() + Duration::days(day_idx as i64);
    let mut out = Vec::new();
    for k in 0..(card_sales / 8).max(1) {
        let gross = Decimal::new(rng.gen_range(100..200_000), 2);
        let time = format!("{:02}{:02}{:02}", rng.gen_range(8..22), rng.gen_range(0..60), rng.gen_range(0..60));
        let id = format!("E{:08}{}{:011}{:04}", rng.gen_range(0..100_000_000u64), day.format("%Y%m%d"), k, m);
        let nsu = format!("{:06}", rng.gen_range(0..1_000_000));
        let fee = -round2(gross * PIX_RATE / Decimal::ONE_HUNDRED);
        let terminal = format!("{:08}", 20_000_000 + m as u64);
        if rng.gen_bool(0.03) {
            let reversal = PixEntry {
                kind: "03",
                day,
                time: time.clone(),
                id: format!("D{}", &id[1..]),
                nsu: nsu.clone(),
                terminal: terminal.clone(),
                gross: -gross,
                fee: -fee,
                original: Some((day, time.clone(), id.clone())),
            };
            out.push(PixEntry { kind: "01", day, time, id, nsu, terminal, gross, fee, original: None });
            out.push(reversal);
        } else {
            out.push(PixEntry { kind: "01", day, time, id, nsu, terminal, gross, fee, original: None });
        }
    }
    out
}

/// A future UR sold in a sample negotiation: its net is the negotiated gross, discounted at
/// [`NEGOTIATION_RATE`] a month, pro rata.
struct SoldUr {
    due: NaiveDate,
    brand: &'static str,
    settlement: &'static str,
    gross: Decimal,
    discount: Decimal,
}

/// A Visa credit sale paid at once that no sales file holds (a payment or chargeback planted for no sale):
/// sold on `sale_day`, due `due`, its fee at the sample rate.
fn lone_sale(sale_no: u64, sale_day: NaiveDate, due: NaiveDate, amount: Decimal, nsu: usize, auth: usize) -> Entry {
    let rate = sample_mdr_rate("002", 1);
    Entry {
        sale_no,
        product: 0,
        installment: 0,
        installment_count: 0,
        posting: "02",
        adjustment: "",
        sale_day,
        due,
        sale_total: amount,
        gross: amount,
        fee: -round2(amount * rate / Decimal::ONE_HUNDRED),
        rate,
        nsu: format!("{nsu:06}"),
        auth: format!("{auth:06}"),
        bin: "411111".into(),
        last4: "0000".into(),
        time: "120000".into(),
        original_sale_code: String::new(),
        cancelled: false,
    }
}

/// The chargeback (posting 08) of a paid line: the same amounts reversed, pointing at the sale.
fn chargeback_of(e: &Entry, mi: usize) -> Entry {
    let mut c = e.clone();
    c.posting = "08";
    c.adjustment = "0301";
    c.gross = -e.gross;
    c.fee = -e.fee;
    c.original_sale_code = e.unique_sale_code(mi);
    c
}

/// Chave da UR, shaped like Cielo's: CNPJ, dashed due date, brand, settlement, posting, merchant.
fn ur_key(m: &Merchant, key: &UrKey, mi: usize) -> String {
    let (due, brand, settlement, posting) = key;
    format!("{}{}{brand}{settlement}{posting}{mi:02}{}", m.tax_id, due.format("%Y-%m-%d"), m.code)
}

/// Write the sample statements into `dir`; returns what each file holds.
pub fn generate(dir: &Path, spec: &SampleSpec) -> io::Result<Vec<SampleFile>> {
    std::fs::create_dir_all(dir)?;
    let ms = merchants(spec);
    let per_merchant = spec.transactions / ms.len() as u64;
    let mut files = Vec::new();
    for (mi, m) in ms.iter().enumerate() {
        let sales = per_merchant + u64::from((mi as u64) < spec.transactions % ms.len() as u64);
        let days = sales.div_ceil(5000).clamp(3, 365);
        let per_day = |d: u64| sales / days + u64::from(d < sales % days);
        let first_sale_no = |d: u64| (0..d).map(per_day).sum::<u64>();
        let first = base_date();
        let last = first + Duration::days(days as i64 - 1);

        // 03: every installment forecast, with status "00" (agendado).
        let name = format!("CIELO03_{}_{}.TXT", m.code, last.format("%Y%m%d"));
        let path = dir.join(&name);
        let mut w = StatementWriter::create(&path, m, "03", last, first, last)?;
        for d in 0..days {
            for (key, entries) in group(day_entries(spec, mi, d, per_day(d), first_sale_no(d), true)) {
                w.ur(mi, m, &key, &entries, "00", None)?;
            }
        }
        files.push(w.finish(path, "03", m)?);

        // 04: URs due in the payment period; ~2% paid late, ~1% never paid, chargebacks on ~0.5% of lines.
        let p_start = first + Duration::days(1);
        let p_end = last + Duration::days(31);
        let name = format!("CIELO04_{}_{}.TXT", m.code, p_end.format("%Y%m%d"));
        let path = dir.join(&name);
        let mut w = StatementWriter::create(&path, m, "04", p_end, p_start, p_end)?;
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed ^ 0x0400_0000 ^ mi as u64);
        for d in 0..days {
            for (key, entries) in group(day_entries(spec, mi, d, per_day(d), first_sale_no(d), true)) {
                let due = key.0;
                if due < p_start || due > p_end || (spec.anomalies && rng.gen_bool(0.01)) {
                    continue;
                }
                let paid =
                    if spec.anomalies && rng.gen_bool(0.02) { due + Duration::days(rng.gen_range(1..=3)) } else { due };
                if paid > p_end {
                    continue;
                }
                // Planted payment problems: the sale's first installment leaves its group for a UR of its own.
                let (planted, mut entries): (Vec<Entry>, Vec<Entry>) = entries.into_iter().partition(|e| {
                    e.installment <= 1
                        && e.posting != "06"
                        && e.posting != "08"
                        && spec.scenarios_for(mi, e.sale_no).any(Scenario::touches_payment)
                });
                let mut chargebacks = Vec::new();
                for e in entries.iter().filter(|e| e.posting != "06" && e.posting != "08") {
                    if spec.anomalies && rng.gen_bool(0.005) {
                        chargebacks.push(chargeback_of(e, mi));
                    }
                }
                entries.extend(chargebacks);
                let status = if paid + Duration::days(2) > p_end { "03" } else { "04" };
                if !entries.is_empty() {
                    w.ur(mi, m, &key, &entries, status, Some(paid))?;
                }
                for e in planted {
                    let mut e = e;
                    let mut paid_on = Some(paid);
                    let mut chargeback_after = None;
                    let mut chargebacks = 1;
                    for sc in spec.scenarios_for(mi, e.sale_no) {
                        match sc {
                            Scenario::NeverPaid { .. } => paid_on = None,
                            Scenario::PaidLate { days, .. } => paid_on = paid_on.map(|p| p + Duration::days(*days)),
                            Scenario::PaidShort { amount, .. } => e.fee -= *amount,
                            Scenario::ChargebackAfterPayment { days, .. } => chargeback_after = Some(*days),
                            Scenario::ChargedBackTwice { days, .. } => {
                                chargeback_after = Some(*days);
                                chargebacks = 2;
                            }
                            _ => {}
                        }
                    }
                    let Some(paid_on) = paid_on.filter(|p| *p <= p_end) else { continue };
                    let suffix = format!("S{}", e.sale_no);
                    w.ur_keyed(mi, m, &key, &suffix, std::slice::from_ref(&e), "04", Some(paid_on))?;
                    for k in 0..chargebacks {
                        let Some(days) = chargeback_after else { break };
                        let on = paid_on + Duration::days(days + k);
                        if on <= p_end {
                            let mut c = chargeback_of(&e, mi);
                            if k > 0 {
                                // Another posting of the acquirer's: its own NSU.
                                c.nsu = format!("{:06}", 970_000 + e.sale_no % 10_000);
                            }
                            let cb_key = (on, key.1, key.2, key.3);
                            w.ur_keyed(mi, m, &cb_key, &format!("C{}_{k}", e.sale_no), &[c], "04", Some(on))?;
                        }
                    }
                }
            }
        }
        // Planted payments for no sale.
        for (n, sc) in spec.scenarios.iter().enumerate() {
            let Scenario::UnexpectedPayment { merchant, day, amount } = sc else { continue };
            if *merchant != mi {
                continue;
            }
            let due = (p_start + Duration::days(*day)).min(p_end);
            let e =
                lone_sale(UNEXPECTED_SALE + n as u64, due - Duration::days(30), due, *amount, 990_000 + n, 880_000 + n);
            let key = (due, PRODUCTS[0].brand, PRODUCTS[0].settlement, "02");
            w.ur_keyed(mi, m, &key, &format!("U{n}"), &[e], "04", Some(due))?;
        }
        // Planted chargebacks of sales in no statement.
        for (n, sc) in spec.scenarios.iter().enumerate() {
            let Scenario::ChargebackOfUnknownSale { merchant, day, amount } = sc else { continue };
            if *merchant != mi {
                continue;
            }
            let on = (p_start + Duration::days(*day)).min(p_end);
            let sale =
                lone_sale(UNKNOWN_SALE + n as u64, on - Duration::days(40), on, *amount, 960_000 + n, 860_000 + n);
            let key = (on, PRODUCTS[0].brand, PRODUCTS[0].settlement, "08");
            w.ur_keyed(mi, m, &key, &format!("K{n}"), &[chargeback_of(&sale, mi)], "04", Some(on))?;
        }
        files.push(w.finish(path, "04", m)?);

        // 09: the open balance at the end of the payment period — URs still to be paid.
        let name = format!("CIELO09_{}_{}.TXT", m.code, p_end.format("%Y%m%d"));
        let path = dir.join(&name);
        let mut w = StatementWriter::create(&path, m, "09", p_end, p_end, p_end)?;
        for d in 0..days {
            for (key, entries) in group(day_entries(spec, mi, d, per_day(d), first_sale_no(d), true)) {
                if key.0 > p_end {
                    w.ur(mi, m, &key, &entries, "00", None)?;
                }
            }
        }
        files.push(w.finish(path, "09", m)?);

        // 15: on the last sales day, ~1 in 10 credit URs due more than 30 days later is sold (ARV).
        let name = format!("CIELO15_{}_{}.TXT", m.code, last.format("%Y%m%d"));
        let path = dir.join(&name);
        let mut w = StatementWriter::create(&path, m, "15", last, last, last)?;
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed ^ 0x1500_0000 ^ mi as u64);
        let mut sold = Vec::new();
        for d in 0..days {
            for ((due, brand, settlement, posting), entries) in
                group(day_entries(spec, mi, d, per_day(d), first_sale_no(d), true))
            {
                let net: Decimal = entries.iter().map(Entry::net).sum();
                if posting == "01" || due <= last + Duration::days(30) || net <= Decimal::ZERO || !rng.gen_bool(0.1) {
                    continue;
                }
                let months = Decimal::from((due - last).num_days()) / Decimal::from(30);
                let discount = round2(net * NEGOTIATION_RATE / Decimal::ONE_HUNDRED * months);
                sold.push(SoldUr { due, brand, settlement, gross: net, discount });
            }
        }
        w.negotiation(m, last, spec.seed * 1000 + mi as u64, &sold)?;
        files.push(w.finish(path, "15", m)?);

        // 16: the Pix received in the sales period.
        let name = format!("CIELO16_{}_{}.TXT", m.code, last.format("%Y%m%d"));
        let path = dir.join(&name);
        let mut w = StatementWriter::create(&path, m, "16", last, first, last)?;
        for d in 0..days {
            for p in day_pix(spec, mi, d, per_day(d)) {
                w.pix(m, &p)?;
            }
        }
        files.push(w.finish(path, "16", m)?);
    }
    Ok(files)
}

/// How a merchant's POS names the sample brands (spelled as people do, not as Cielo's table).
const POS_BRAND_NAMES: &[(&str, &str)] =
    &[("001", "VISA"), ("002", "MASTER"), ("003", "AMEX"), ("007", "ELO"), ("040", "HIPER")];

/// The merchants' own sales export for the same sales, as their POS recorded them (no planted acquirer
/// problem: a sale "never captured" is here, a second capture is not): one `;`-separated CSV with Brazilian
/// dates and decimals, and the mapping that reads it (`syncrocardpay merchant-sales --mapping`). Returns the
/// CSV and mapping paths.
pub fn write_merchant_sales(dir: &Path, spec: &SampleSpec) -> io::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let csv_path = dir.join("vendas_pdv.csv");
    let mut out = BufWriter::new(File::create(&csv_path)?);
    writeln!(out, "Loja;Pedido;Data;Hora;NSU;Autorização;Valor;Parcelas;Bandeira;Final;Forma")?;
    let ms = merchants(spec);
    let per_merchant = spec.transactions / ms.len() as u64;
    for (mi, m) in ms.iter().enumerate() {
        let sales = per_merchant + u64::from((mi as u64) < spec.transactions % ms.len() as u64);
        let days = sales.div_ceil(5000).clamp(3, 365);
        let per_day = |d: u64| sales / days + u64::from(d < sales % days);
        let first_sale_no = |d: u64| (0..d).map(per_day).sum::<u64>();
        for d in 0..days {
            for e in day_entries(spec, mi, d, per_day(d), first_sale_no(d), false) {
                if e.installment > 1 || e.posting == "06" || e.posting == "08" {
                    continue;
                }
                let p = &PRODUCTS[e.product];
                let brand = POS_BRAND_NAMES.iter().find(|(c, _)| *c == p.brand).map_or(p.brand, |(_, n)| n);
                pos_line(
                    &mut out,
                    &PosSale {
                        merchant_code: m.code.clone(),
                        sale_id: format!("V{:08}", e.sale_no),
                        date: e.sale_day,
                        time: format!("{}:{}:{}", &e.time[0..2], &e.time[2..4], &e.time[4..6]),
                        nsu: e.nsu.clone(),
                        authorization_code: e.auth.clone(),
                        total: e.sale_total,
                        installments: e.installment_count.max(1),
                        brand,
                        card_last_digits: e.last4.clone(),
                        debit: p.settlement == "001",
                    },
                )?;
            }
        }
    }
    out.flush()?;
    let mapping_path = dir.join("vendas_pdv.toml");
    std::fs::write(
        &mapping_path,
        "# The sample POS export (syncrocardpay sample --merchant-sales)\n\
         delimiter = \";\"\n\
         date_format = \"%d/%m/%Y\"\n\
         decimal_separator = \",\"\n\n\
         [columns]\n\
         merchant_code = \"Loja\"\n\
         sale_id = \"Pedido\"\n\
         sale_date = \"Data\"\n\
         sale_time = \"Hora\"\n\
         nsu = \"NSU\"\n\
         authorization_code = \"Autorização\"\n\
         gross_amount = \"Valor\"\n\
         installments = \"Parcelas\"\n\
         brand = \"Bandeira\"\n\
         card_last_digits = \"Final\"\n\
         payment_method = \"Forma\"\n",
    )?;
    Ok((csv_path, mapping_path))
}

/// One sale of the POS export [`write_merchant_sales`] writes.
fn pos_line(out: &mut impl Write, s: &PosSale) -> io::Result<()> {
    writeln!(
        out,
        "{};{};{};{};{};{};{};{};{};{};{}",
        s.merchant_code,
        s.sale_id,
        s.date.format("%d/%m/%Y"),
        s.time,
        s.nsu,
        s.authorization_code,
        format!("{:.2}", s.total).replace('.', ","),
        s.installments.max(1),
        s.brand,
        s.card_last_digits,
        if s.debit { "Débito" } else { "Crédito" }
    )
}

/// The other acquirers' sales and contracts ([`crate::formats::DAY_SAMPLES`]) added to the POS export and
/// the rates file that [`write_merchant_sales`] and [`write_contract_rates`] wrote into `dir`.
pub fn append_books(dir: &Path, books: &[PosSale], rates: &[SampleRate]) -> io::Result<()> {
    let open = |name: &str| std::fs::OpenOptions::new().append(true).open(dir.join(name)).map(BufWriter::new);
    let mut out = open("vendas_pdv.csv")?;
    for b in books {
        pos_line(&mut out, b)?;
    }
    out.flush()?;
    let mut out = open("taxas_contratadas.csv")?;
    let from = base_date() - Duration::days(365);
    for r in rates {
        writeln!(
            out,
            "{},{},{},{},{},{},{},{from},,{}",
            r.merchant_code,
            r.acquirer,
            r.brand,
            r.product,
            r.installments.0,
            r.installments.1,
            r.rate_percent,
            r.fixed_fee
        )?;
    }
    out.flush()
}

/// The contract the samples are priced with ([`sample_mdr_rate`]), as a rates CSV for
/// `syncrocardpay rates import`: per merchant and product, by installment range, valid from the first day.
pub fn write_contract_rates(dir: &Path, spec: &SampleSpec) -> io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("taxas_contratadas.csv");
    let mut out = BufWriter::new(File::create(&path)?);
    writeln!(
        out,
        "merchant_code,acquirer,brand,product,installments_from,installments_to,rate_percent,valid_from,valid_to,fixed_fee"
    )?;
    let from = base_date() - Duration::days(365);
    for m in merchants(spec) {
        for p in PRODUCTS {
            let ranges: &[(u32, u32)] = if p.installments { &[(2, 6), (7, 12)] } else { &[(1, 1)] };
            for &(lo, hi) in ranges {
                writeln!(
                    out,
                    "{},cielo,{},{},{lo},{hi},{},{},,",
                    m.code,
                    p.brand,
                    p.code,
                    sample_mdr_rate(p.settlement, lo),
                    from
                )?;
            }
        }
    }
    out.flush()?;
    Ok(path)
}

/// The quirks real files show, written beside a generated sample from its own files, so that tests and the
/// fuzzer's corpus cover them beyond the fixtures (docs/formats.md): each is a statement that loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuirkFile {
    pub path: PathBuf,
    /// What it shows, e.g. `e_only_sales`.
    pub quirk: &'static str,
}

/// Write the quirk files derived from `files` (one merchant's 03, 04, 09 and 16 are enough) into `dir`:
/// - `e_only_sales`: a CIELO03 of E records only, its trailer totalling them (Cielo's v15 kit);
/// - `blank_product`: that file with the first E's product (forma de pagamento) left blank;
/// - `plus_fee_sign`: a CIELO09 whose first D carries `+` on its deducted fee (a real CIELO09 line);
/// - `pix_not_counted`: a CIELO16 whose trailer counts no Pix record (the kit);
/// - `layout_001`: the CIELO03 with its header saying layout 001, trailer reduced to the record count,
///   right-trimmed lines;
/// - `zipped`: the E-only 03 and the 09 in one zip;
/// - `re_sent`: the CIELO04 with one order reference changed (same identity, other content).
pub fn write_quirks(dir: &Path, files: &[SampleFile]) -> io::Result<Vec<QuirkFile>> {
    std::fs::create_dir_all(dir)?;
    let of = |t: &str| files.iter().find(|f| f.file_type == t);
    let read = |p: &Path| -> io::Result<Vec<Vec<u8>>> {
        let text = std::fs::read(p)?;
        Ok(text
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec())
            .collect())
    };
    let write = |name: &str, lines: &[Vec<u8>]| -> io::Result<PathBuf> {
        let path = dir.join(name);
        let mut out = Vec::new();
        for l in lines {
            out.extend_from_slice(l);
            out.extend_from_slice(b"\r\n");
        }
        std::fs::write(&path, out)?;
        Ok(path)
    };
    let amount_at = |l: &[u8], sign: usize, width: usize| -> Decimal {
        let digits = std::str::from_utf8(&l[sign..sign + width]).unwrap_or("0");
        let v = Decimal::new(digits.parse::<i64>().unwrap_or(0), 2);
        if l[sign - 1] == b'-' {
            -v
        } else {
            v
        }
    };
    let put_amount = |l: &mut [u8], sign_col: usize, width: usize, v: Decimal| {
        l[sign_col - 1] = if v.is_sign_negative() { b'-' } else { b'+' };
        let cents = (v.abs() * Decimal::from(100)).trunc().to_string();
        let s = format!("{cents:0>width$}");
        l[sign_col..sign_col + width].copy_from_slice(s.as_bytes());
    };
    let mut out = Vec::new();
    if let Some(sales) = of("03") {
        let lines = read(&sales.path)?;
        let mut e_only: Vec<Vec<u8>> = lines.iter().filter(|l| l.first() != Some(&b'D')).cloned().collect();
        let es: Vec<&Vec<u8>> = e_only.iter().filter(|l| l.first() == Some(&b'E')).collect();
        let gross: Decimal = es.iter().map(|l| amount_at(l, 261, 13)).sum();
        let net: Decimal = es.iter().map(|l| amount_at(l, 275, 13)).sum();
        e_only[0][35..42].copy_from_slice(b"0000900");
        let body = e_only.len() - 2;
        let t = e_only.len() - 1;
        let trailer = &mut e_only[t];
        trailer[1..12].copy_from_slice(format!("{body:011}").as_bytes());
        put_amount(trailer, 13, 17, net);
        put_amount(trailer, 42, 17, gross);
        out.push(QuirkFile { path: write("QUIRK_E_ONLY_CIELO03.TXT", &e_only)?, quirk: "e_only_sales" });
        let mut blank = e_only.clone();
        let first_e = blank.iter().position(|l| l.first() == Some(&b'E')).unwrap_or(1);
        blank[first_e][155..158].copy_from_slice(b"   ");
        blank[0][35..42].copy_from_slice(b"0000901");
        out.push(QuirkFile { path: write("QUIRK_BLANK_PRODUCT_CIELO03.TXT", &blank)?, quirk: "blank_product" });

        // Layout 001 wants the 250-byte RO/CV records: only the header and trailer of an empty day are
        // derived here (the RO/CV layouts come from the v13/v14 generator's records of the same file).
        let mut old = [lines[0].clone(), lines[lines.len() - 1].clone()];
        old[0][70..73].copy_from_slice(b"001");
        old[0][35..42].copy_from_slice(b"0000902");
        let mut trailer = b"9".to_vec();
        trailer.extend_from_slice(b"00000000000");
        old[1] = trailer;
        let trimmed: Vec<Vec<u8>> =
            old.iter().map(|l| l[..l.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1)].to_vec()).collect();
        out.push(QuirkFile { path: write("QUIRK_LAYOUT_001_CIELO03.TXT", &trimmed)?, quirk: "layout_001" });
    }
    if let Some(open) = of("09") {
        let mut lines = read(&open.path)?;
        if let Some(d) =
            lines.iter().position(|l| l.first() == Some(&b'D') && l[85] == b'-' && l[86..99].iter().any(|&b| b != b'0'))
        {
            lines[d][85] = b'+';
            out.push(QuirkFile { path: write("QUIRK_PLUS_FEE_CIELO09.TXT", &lines)?, quirk: "plus_fee_sign" });
        }
    }
    if let Some(pix) = of("16") {
        let mut lines = read(&pix.path)?;
        let pixes: Vec<&Vec<u8>> = lines.iter().filter(|l| l.first() == Some(&b'8')).collect();
        let gross: Decimal = pixes.iter().map(|l| amount_at(l, 74, 13)).sum();
        let net: Decimal = pixes.iter().map(|l| amount_at(l, 102, 13)).sum();
        let t = lines.len() - 1;
        // As Cielo's kit writes it: the Pix records totalled, none counted.
        put_amount(&mut lines[t], 13, 17, net);
        put_amount(&mut lines[t], 42, 17, gross);
        lines[t][30..41].copy_from_slice(b"00000000000");
        out.push(QuirkFile { path: write("QUIRK_PIX_NOT_COUNTED_CIELO16.TXT", &lines)?, quirk: "pix_not_counted" });
    }
    if let Some(payments) = of("04") {
        let mut lines = read(&payments.path)?;
        if let Some(e) = lines.iter().position(|l| l.first() == Some(&b'E')) {
            lines[e][211..231].copy_from_slice(b"RE-SENT WITH A FIX  ");
            out.push(QuirkFile { path: write("QUIRK_RE_SENT_CIELO04.TXT", &lines)?, quirk: "re_sent" });
        }
    }
    let members: Vec<(String, PathBuf)> = out
        .iter()
        .filter(|q| matches!(q.quirk, "e_only_sales" | "plus_fee_sign"))
        .map(|q| (q.path.file_name().unwrap_or_default().to_string_lossy().to_string(), q.path.clone()))
        .collect();
    if !members.is_empty() {
        let zip = dir.join("QUIRK_ZIPPED.zip");
        let refs: Vec<(&str, &Path)> = members.iter().map(|(n, p)| (n.as_str(), p.as_path())).collect();
        crate::archive::write_zip(&zip, &refs)?;
        out.push(QuirkFile { path: zip, quirk: "zipped" });
    }
    Ok(out)
}
