//! Every sample at once, as `syncrocardpay sample`, the demo `run` and the benchmark write them: Cielo's
//! statements of many merchants, the other acquirers' days ([`super::DAY_SAMPLES`]: Getnet, PagBank, Stone),
//! the bank statements that credit every acquirer's payments, and the merchants' side — their POS export
//! ("vendas do PDV") with its mapping and their contracted rates ("taxas contratadas"). Files only: loading
//! them is the pipeline's (`pipeline::load_books` loads the merchants' side).

use super::bank::sample::{self as bank_sample, AcquirerSample, AcquirerSampleSpec, BankSample};
use super::cielo::sample::{self, SampleFile, SampleSpec};
use std::io;
use std::path::{Path, PathBuf};

/// One acquirer's days of one merchant, and the bank statement that credits its deposits.
#[derive(Debug, Clone)]
pub struct DaySample {
    /// `getnet`, `pagbank`, `stone`.
    pub name: &'static str,
    /// What its files are (`Getnet V10.1`).
    pub what: &'static str,
    pub statements: AcquirerSample,
    pub bank: BankSample,
}

/// The merchants' side of a reconciliation: their POS export, its mapping, their contract.
#[derive(Debug, Clone)]
pub struct Books {
    /// The POS export (CSV) of every sale, Cielo's merchants' and the other acquirers'.
    pub merchant_sales: PathBuf,
    /// The TOML mapping that reads it (`merchant-sales --mapping`).
    pub mapping: PathBuf,
    /// The contracted rates (`rates import`).
    pub rates: PathBuf,
}

/// What [`write`] wrote.
#[derive(Debug, Clone)]
pub struct SampleWorld {
    pub cielo: Vec<SampleFile>,
    /// The bank statements crediting Cielo's payments.
    pub cielo_bank: BankSample,
    pub others: Vec<DaySample>,
    /// Under `OUT/merchant`.
    pub books: Books,
}

impl SampleWorld {
    /// Every statement and bank statement file written (the books apart).
    pub fn statement_count(&self) -> (usize, usize) {
        let statements = self.cielo.len() + self.others.iter().map(|o| o.statements.files.len()).sum::<usize>();
        let bank = self.cielo_bank.files.len() + self.others.iter().map(|o| o.bank.files.len()).sum::<usize>();
        (statements, bank)
    }
}

/// Write Cielo's sample `spec` describes, `sales_of(name)` sales of each acquirer of [`super::DAY_SAMPLES`]
/// (none at 0) over the same days, every bank statement, and the books under `out/merchant`.
pub fn write(out: &Path, spec: &SampleSpec, sales_of: impl Fn(&str) -> usize) -> io::Result<SampleWorld> {
    let cielo = sample::generate(out, spec).map_err(|e| context(e, format!("writing samples to {}", out.display())))?;
    let cielo_bank = bank_sample::write(out, &sample::announced_payments(&cielo), spec.anomalies)
        .map_err(|e| context(e, format!("writing sample bank statements to {}", out.display())))?;
    let others = write_day_samples(out, spec, sales_of)?;
    let books = write_books(&out.join("merchant"), spec, &others)?;
    Ok(SampleWorld { cielo, cielo_bank, others, books })
}

/// The samples of the acquirers that are one merchant's days (`sales_of(name)` sales each, none at 0), over
/// the days of the Cielo sample `spec` describes, each with the bank statement that credits its deposits
/// (accounts of their own).
pub fn write_day_samples(
    out: &Path,
    spec: &SampleSpec,
    sales_of: impl Fn(&str) -> usize,
) -> io::Result<Vec<DaySample>> {
    let (first, days, settle_until) = sample::calendar(spec);
    let mut written = Vec::new();
    for &(name, what, write) in super::DAY_SAMPLES {
        let sales = sales_of(name);
        if sales == 0 {
            continue;
        }
        let day_spec = AcquirerSampleSpec { seed: spec.seed, sales, first, days, settle_until };
        let statements =
            write(out, &day_spec).map_err(|e| context(e, format!("writing {what} samples to {}", out.display())))?;
        let bank = bank_sample::write(out, &statements.deposits, false)
            .map_err(|e| context(e, format!("writing the bank statement of the {what} deposits")))?;
        written.push(DaySample { name, what, statements, bank });
    }
    Ok(written)
}

/// The merchants' side of the samples in `dir`: the POS export of every sale (Cielo's merchants' and the
/// other acquirers') with its mapping, and the contracted rates.
pub fn write_books(dir: &Path, spec: &SampleSpec, others: &[DaySample]) -> io::Result<Books> {
    let (merchant_sales, mapping) = sample::write_merchant_sales(dir, spec)
        .map_err(|e| context(e, format!("writing the merchants' POS export to {}", dir.display())))?;
    let rates = sample::write_contract_rates(dir, spec)
        .map_err(|e| context(e, format!("writing the contracted rates to {}", dir.display())))?;
    for o in others {
        sample::append_books(dir, &o.statements.books, &o.statements.rates).map_err(|e| {
            context(e, format!("adding the {} sales to the merchants' books in {}", o.what, dir.display()))
        })?;
    }
    Ok(Books { merchant_sales, mapping, rates })
}

fn context(e: io::Error, what: String) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}
