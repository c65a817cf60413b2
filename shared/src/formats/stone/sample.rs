//! Sample Stone conciliation files (XML, layout 2.4) for demos, tests and benchmarks: one StoneCode's card
//! sales over the sample's days, in Stone's static model — each day's file holds that day's captures (every
//! installment with its forecast), the installments paid that day (`FinancialTransactionsAccounts`, naming
//! the day's payment) and the day's deposit (`Payments`, to the merchant's bank account) — and those deposits
//! as payments the bank sample credits. Everything is paid exactly as forecast, so a round trip's known answer
//! is "every installment due within the sample paid, every deposit credited". The same seed gives
//! byte-identical files.

use crate::formats::bank::sample::{AcquirerSample, AcquirerSampleSpec, AnnouncedPayment, PosSale, SampleRate};
use chrono::{Duration, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::Path;

/// The sample merchant's StoneCode.
pub const STONE_CODE: &str = "912345678";
/// The account Stone deposits into: bank, branch, number, check digit.
pub const ACCOUNT: (&str, &str, &str, &str) = ("237", "2345", "876543", "2");

/// The brands the sample sells: Stone's BrandId, a BIN of theirs, the brand as a POS writes it.
const BRANDS: [(&str, &str, &str); 3] = [("1", "411111", "VISA"), ("2", "555555", "MASTER"), ("171", "650921", "ELO")];

/// The contracted MDR in percent: debit, or credit in `n` installments.
fn rate_percent(debit: bool, n: u32) -> Decimal {
    if debit {
        Decimal::new(149, 2)
    } else {
        Decimal::new(289 + 80 * (n as i64 - 1), 2)
    }
}

#[derive(Default)]
struct Day {
    captures: Vec<String>,
    /// (transaction key, installment, gross, net)
    paid: Vec<(String, u32, Decimal, Decimal)>,
}

/// The sample `spec` says, into `dir`: a file per day that has a capture or a payment.
pub fn write(dir: &Path, spec: &AcquirerSampleSpec) -> io::Result<AcquirerSample> {
    let AcquirerSampleSpec { seed, sales, first, days, settle_until } = *spec;
    std::fs::create_dir_all(dir)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0073_746f_6e65);
    let mut out = AcquirerSample::default();
    let mut calendar: BTreeMap<NaiveDate, Day> = BTreeMap::new();
    let d8 = |d: NaiveDate| d.format("%Y%m%d").to_string();
    for s in 0..sales {
        let day = first + Duration::days((s as u32 % days.max(1)) as i64);
        let brand = BRANDS[rng.gen_range(0..BRANDS.len())];
        let debit = rng.gen_bool(0.3);
        let n: u32 = if debit { 1 } else { rng.gen_range(1..=3) };
        let total = Decimal::new(rng.gen_range(1_000..=150_000), 2);
        let rate = rate_percent(debit, n) / Decimal::ONE_HUNDRED;
        let share = (total / Decimal::from(n)).round_dp(2);
        let key = format!("{:012}", 700_000_000_000u64 + s as u64);
        let at = format!("{}{:02}{:02}{:02}", d8(day), 9 + s % 10, (s * 7) % 60, (s * 13) % 60);
        let mut installments = String::new();
        for k in 1..=n {
            let gross = if k == n { total - share * Decimal::from(n - 1) } else { share };
            let mdr = (gross * rate).round_dp(2);
            let net = gross - mdr;
            let due = if debit { day + Duration::days(1) } else { day + Duration::days(30 * k as i64) };
            let _ = write!(
                installments,
                "\n        <Installment><InstallmentNumber>{k}</InstallmentNumber><GrossAmount>{gross:.2}</GrossAmount>\
                 <NetAmount>{net:.2}</NetAmount><PrevisionPaymentDate>{}</PrevisionPaymentDate><MdrAmount>{mdr:.2}</MdrAmount></Installment>",
                d8(due)
            );
            out.installments += 1;
            if due <= settle_until {
                calendar.entry(due).or_default().paid.push((key.clone(), k, gross, net));
                out.settled += 1;
            }
        }
        let capture = format!(
            "    <Transaction>
      <Events><CancellationCharges>0</CancellationCharges><Cancellations>0</Cancellations><Captures>1</Captures><ChargebackRefunds>0</ChargebackRefunds><Chargebacks>0</Chargebacks><Payments>0</Payments></Events>
      <AcquirerTransactionKey>{key}</AcquirerTransactionKey>
      <InitiatorTransactionKey>PEDIDO-{order:06}</InitiatorTransactionKey>
      <AuthorizationDateTime>{at}</AuthorizationDateTime>
      <CaptureLocalDateTime>{at}</CaptureLocalDateTime>
      <International>false</International>
      <AccountType>{account}</AccountType>
      <InstallmentType>{kind}</InstallmentType>
      <NumberOfInstallments>{n}</NumberOfInstallments>
      <AuthorizedAmount>{total:.2}</AuthorizedAmount>
      <CapturedAmount>{total:.2}</CapturedAmount>
      <CanceledAmount>0</CanceledAmount>
      <AuthorizationCurrencyCode>986</AuthorizationCurrencyCode>
      <IssuerAuthorizationCode>{auth:06}</IssuerAuthorizationCode>
      <BrandId>{brand_id}</BrandId>
      <CardNumber>{bin}******{last:04}</CardNumber>
      <Poi><PoiType>1</PoiType><SerialNumber>TERM-0001</SerialNumber></Poi>
      <EntryMode>1</EntryMode>
      <Installments>{installments}
      </Installments>
    </Transaction>\n",
            order = s + 1,
            account = if debit { 1 } else { 2 },
            kind = if n > 1 { 2 } else { 1 },
            auth = 100_000 + (s * 7919) % 900_000,
            brand_id = brand.0,
            bin = brand.1,
            last = 1000 + s % 9000,
        );
        calendar.entry(day).or_default().captures.push(capture);
        out.books.push(PosSale {
            merchant_code: STONE_CODE.into(),
            sale_id: format!("PEDIDO-{:06}", s + 1),
            date: day,
            time: format!("{:02}:{:02}:{:02}", 9 + s % 10, (s * 7) % 60, (s * 13) % 60),
            nsu: key.clone(),
            authorization_code: format!("{:06}", 100_000 + (s * 7919) % 900_000),
            total,
            installments: n,
            brand: brand.2,
            card_last_digits: format!("{:04}", 1000 + s % 9000),
            debit,
        });
        out.sales += 1;
        out.gross += total;
    }
    for (brand, ..) in BRANDS {
        let rate = |product: &'static str, debit: bool, n: u32| SampleRate {
            merchant_code: STONE_CODE.into(),
            acquirer: "stone",
            brand,
            product,
            installments: (n, n),
            rate_percent: rate_percent(debit, n),
            fixed_fee: Decimal::ZERO,
        };
        out.rates.push(rate("1-1", true, 1));
        out.rates.push(rate("2-1", false, 1));
        out.rates.extend((2..=3).map(|n| rate("2-2", false, n)));
    }
    let (bank, branch, number, digit) = ACCOUNT;
    for (file_no, (day, content)) in calendar.into_iter().enumerate() {
        let payment_id = format!("PAY-{}", d8(day));
        let mut x = String::new();
        let _ = write!(
            x,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Conciliation>\n  <Header>\n    <GenerationDateTime>{}053000</GenerationDateTime>\n    \
             <StoneCode>{STONE_CODE}</StoneCode>\n    <LayoutVersion>2.4</LayoutVersion>\n    <FileId>{}</FileId>\n    \
             <ReferenceDate>{}</ReferenceDate>\n  </Header>\n  <FinancialTransactions>\n",
            d8(day + Duration::days(1)),
            file_no + 1,
            d8(day)
        );
        for c in &content.captures {
            x.push_str(c);
        }
        x.push_str("  </FinancialTransactions>\n  <FinancialTransactionsAccounts>\n");
        let mut by_key: BTreeMap<&str, Vec<(u32, Decimal, Decimal)>> = BTreeMap::new();
        for (key, k, gross, net) in &content.paid {
            by_key.entry(key.as_str()).or_default().push((*k, *gross, *net));
        }
        for (key, installments) in &by_key {
            let _ = write!(
                x,
                "    <Transaction>\n      <Events><Captures>0</Captures><Payments>{}</Payments></Events>\n      \
                 <AcquirerTransactionKey>{key}</AcquirerTransactionKey>\n      <Installments>\n",
                installments.len()
            );
            for (k, gross, net) in installments {
                let _ = writeln!(
                    x,
                    "        <Installment><InstallmentNumber>{k}</InstallmentNumber><GrossAmount>{gross:.2}</GrossAmount>\
                     <NetAmount>{net:.2}</NetAmount><PaymentDate>{}</PaymentDate><PaymentId>{payment_id}</PaymentId></Installment>",
                    d8(day)
                );
            }
            x.push_str("      </Installments>\n    </Transaction>\n");
        }
        x.push_str("  </FinancialTransactionsAccounts>\n  <Payments>\n");
        let deposit: Decimal = content.paid.iter().map(|p| p.3).sum();
        if !content.paid.is_empty() {
            let _ = write!(
                x,
                "    <Payment>\n      <Id>{payment_id}</Id>\n      <WalletTypeId>1</WalletTypeId>\n      <TotalAmount>{deposit:.2}</TotalAmount>\n      \
                 <FavoredBankAccount><BankCode>{bank}</BankCode><BankBranch>{branch}</BankBranch><BankAccountNumber>{number}{digit}</BankAccountNumber></FavoredBankAccount>\n    </Payment>\n"
            );
            out.deposits.push(AnnouncedPayment::daily(
                STONE_CODE,
                "STONE",
                ACCOUNT,
                day,
                deposit,
                "TED STONE INSTITUICAO DE PAGAMENTO",
            ));
        }
        let _ = write!(
            x,
            "  </Payments>\n  <Trailer>\n    <CapturedTransactionsQuantity>{}</CapturedTransactionsQuantity>\n    \
             <CanceledTransactionsQuantity>0</CanceledTransactionsQuantity>\n    <PaidInstallmentsQuantity>{}</PaidInstallmentsQuantity>\n  \
             </Trailer>\n</Conciliation>\n",
            content.captures.len(),
            content.paid.len()
        );
        let path = dir.join(format!("stone-{STONE_CODE}-{}.xml", d8(day)));
        std::fs::write(&path, x)?;
        out.files.push(path);
    }
    Ok(out)
}
