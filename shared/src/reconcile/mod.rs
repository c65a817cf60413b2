//! Reconciliation ("conciliação"): pure, deterministic functions from loaded facts to items that each say
//! what was expected, what happened, the difference and why. Three questions:
//!
//! - [`sales`]: were all the merchant's sales captured by the acquirer, as sold? (merchant CSV vs E / CV)
//! - [`receivables`]: was every installment paid on time and in full? (forecast 03 vs paid 04), and what did
//!   adjustments (cancellations, chargebacks, rentals…) take away?
//! - [`fees`]: was each transaction charged the contracted rate? ("auditoria de taxas", MDR)
//! - [`deposits`]: did what the acquirers paid reach the merchant's bank account, on the day and in full?
//!   ("conferência bancária": their payments vs the bank statements' credits)
//!
//! Nothing here touches the database: [`crate::db::recon`] reads the inputs for a scope and writes a run's items.

pub mod bank;
pub mod deposits;
pub mod fees;
pub mod receivables;
pub mod report;
pub mod sales;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// Tolerances and the reference date of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// The day the run looks from: an unpaid installment due on or before it is overdue, after it pending.
    pub as_of: NaiveDate,
    /// Differences of money at most this large are rounding, not divergence (default R$ 0.01).
    pub amount_tolerance: Decimal,
    /// How many days a merchant's sale date may differ from the acquirer's and still match (default 1).
    pub sale_date_window_days: i64,
    /// What a day without the money costs the merchant, in percent of it (default 0.04 % a day, about 14.6 %
    /// a year: roughly the CDI): a late payment puts at stake the cost of its delay, not the installment.
    #[serde(default = "default_daily_cost_percent")]
    pub daily_cost_percent: Decimal,
    /// Business days after the pay day a bank credit may come and still be the acquirer's payment, late
    /// (default 2).
    #[serde(default = "default_deposit_window")]
    pub deposit_window_business_days: u32,
}

fn default_deposit_window() -> u32 {
    2
}

fn default_daily_cost_percent() -> Decimal {
    Decimal::new(4, 2)
}

impl Settings {
    pub fn new(as_of: NaiveDate) -> Settings {
        Settings {
            as_of,
            amount_tolerance: Decimal::new(1, 2),
            sale_date_window_days: 1,
            daily_cost_percent: default_daily_cost_percent(),
            deposit_window_business_days: default_deposit_window(),
        }
    }

    /// The cost of having had `amount` `days` late.
    pub fn cost_of_delay(&self, amount: Decimal, days: i32) -> Decimal {
        round2(
            amount.abs().checked_mul(self.daily_cost_percent).unwrap_or(Decimal::MAX) / Decimal::ONE_HUNDRED
                * Decimal::from(days.max(0)),
        )
    }
}

/// Which question an item answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Area {
    Sales,
    Receivables,
    Adjustments,
    Fees,
    /// The acquirers' payments against the bank statements' credits ("conferência bancária").
    Bank,
}

impl Area {
    pub fn as_str(self) -> &'static str {
        match self {
            Area::Sales => "sales",
            Area::Receivables => "receivables",
            Area::Adjustments => "adjustments",
            Area::Fees => "fees",
            Area::Bank => "bank",
        }
    }
}

/// What became of a reconciled thing: one list per [`Area`] (an adjustment's status is its posting type's
/// category). Stored as its snake_case name (`recon_item.status`, checked by V21); an unknown name is an
/// error, never a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    // Sales: the merchant's sale against the acquirer's.
    Matched,
    Divergent,
    MissingAtAcquirer,
    MissingInMerchant,
    Duplicate,
    // Receivables: the forecast installment against its payment.
    Paid,
    PaidLate,
    PaidDivergent,
    Overdue,
    Pending,
    UnexpectedPayment,
    // Adjustments: the posting type's category.
    Adjustment,
    /// A cancellation of the sale it names ("cancelamento"): listed with its sale, needs no attention.
    Cancellation,
    /// A chargeback of the sale it names ("chargeback", "contestação"): listed with its sale.
    Chargeback,
    /// A cancellation that names no sale, or one in no loaded statement, or that cancels an installment
    /// already cancelled: somebody must find out what it is.
    UnexplainedCancellation,
    /// A chargeback that names no sale, or one in no loaded statement, or the second standing chargeback of
    /// the same installment.
    UnexplainedChargeback,
    Rental,
    Negotiation,
    Lien,
    Compensation,
    Anticipation,
    Other,
    // Fees: the fee charged against the contracted rate.
    Ok,
    Overcharged,
    Undercharged,
    NoContract,
    // Bank: what the acquirers paid against the bank statements' credits (see [`deposits`]).
    /// Credited to the account on the pay day, in full ("creditado").
    Deposited,
    /// Credited in full, business days after the pay day.
    DepositedLate,
    /// Credited below what was paid, by a deduction nobody announced.
    DepositedShort,
    /// Announced, and the statements covering the account over the days it could come show no credit of it.
    NotDeposited,
    /// Credited to another account of the merchant's than the one announced.
    WrongAccount,
    /// A credit that says it is card money, that no acquirer announced.
    UnexpectedCredit,
}

impl Status {
    pub const ALL: [Status; 32] = [
        Status::Matched,
        Status::Divergent,
        Status::MissingAtAcquirer,
        Status::MissingInMerchant,
        Status::Duplicate,
        Status::Paid,
        Status::PaidLate,
        Status::PaidDivergent,
        Status::Overdue,
        Status::Pending,
        Status::UnexpectedPayment,
        Status::Adjustment,
        Status::Cancellation,
        Status::Chargeback,
        Status::UnexplainedCancellation,
        Status::UnexplainedChargeback,
        Status::Rental,
        Status::Negotiation,
        Status::Lien,
        Status::Compensation,
        Status::Anticipation,
        Status::Other,
        Status::Ok,
        Status::Overcharged,
        Status::Undercharged,
        Status::NoContract,
        Status::Deposited,
        Status::DepositedLate,
        Status::DepositedShort,
        Status::NotDeposited,
        Status::WrongAccount,
        Status::UnexpectedCredit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Matched => "matched",
            Status::Divergent => "divergent",
            Status::MissingAtAcquirer => "missing_at_acquirer",
            Status::MissingInMerchant => "missing_in_merchant",
            Status::Duplicate => "duplicate",
            Status::Paid => "paid",
            Status::PaidLate => "paid_late",
            Status::PaidDivergent => "paid_divergent",
            Status::Overdue => "overdue",
            Status::Pending => "pending",
            Status::UnexpectedPayment => "unexpected_payment",
            Status::Adjustment => "adjustment",
            Status::Cancellation => "cancellation",
            Status::Chargeback => "chargeback",
            Status::UnexplainedCancellation => "unexplained_cancellation",
            Status::UnexplainedChargeback => "unexplained_chargeback",
            Status::Rental => "rental",
            Status::Negotiation => "negotiation",
            Status::Lien => "lien",
            Status::Compensation => "compensation",
            Status::Anticipation => "anticipation",
            Status::Other => "other",
            Status::Ok => "ok",
            Status::Overcharged => "overcharged",
            Status::Undercharged => "undercharged",
            Status::NoContract => "no_contract",
            Status::Deposited => "deposited",
            Status::DepositedLate => "deposited_late",
            Status::DepositedShort => "deposited_short",
            Status::NotDeposited => "not_deposited",
            Status::WrongAccount => "wrong_account",
            Status::UnexpectedCredit => "unexpected_credit",
        }
    }

    /// The status of this name; `None` for a name that is none of them.
    pub fn parse(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The area whose list it is in.
    pub fn area(self) -> Area {
        use Status::*;
        match self {
            Matched | Divergent | MissingAtAcquirer | MissingInMerchant | Duplicate => Area::Sales,
            Paid | PaidLate | PaidDivergent | Overdue | Pending | UnexpectedPayment => Area::Receivables,
            Adjustment
            | Cancellation
            | Chargeback
            | UnexplainedCancellation
            | UnexplainedChargeback
            | Rental
            | Negotiation
            | Lien
            | Compensation
            | Anticipation
            | Other => Area::Adjustments,
            Ok | Overcharged | Undercharged | NoContract => Area::Fees,
            Deposited | DepositedLate | DepositedShort | NotDeposited | WrongAccount | UnexpectedCredit => Area::Bank,
        }
    }

    /// Settled as it should be: a clean match, an on-time payment in full, the right fee, a payment credited
    /// on its day in full.
    pub fn is_settled(self) -> bool {
        matches!(self, Status::Matched | Status::Paid | Status::Ok | Status::Deposited)
    }

    /// Needs somebody's attention: everything but settled items, installments not due yet, and the
    /// cancellations and chargebacks the acquirer explains by the sale they name (listed, not flagged).
    pub fn is_open(self) -> bool {
        !self.is_settled() && !matches!(self, Status::Pending | Status::Cancellation | Status::Chargeback)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// Where a fact came from: its statement file and line.
pub type SourceLine = (i64, i64);

/// One reconciled thing: a sale, an installment, an adjustment or a fee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconItem {
    pub area: Area,
    /// The status, from the area's list (`matched`, `paid_late`, `overcharged`…).
    pub status: Status,
    pub merchant_code: String,
    pub acquirer: String,
    /// The date the item is about: sale date (sales, fees), due date (receivables), posting date (adjustments).
    pub ref_date: NaiveDate,
    /// The acquirer's sale code (or the merchant's sale id when the acquirer has none).
    pub sale_code: String,
    pub nsu: String,
    pub authorization_code: String,
    /// 0 for a sale paid at once.
    pub installment: i32,
    pub brand: String,
    pub product: String,
    pub expected: Option<Decimal>,
    pub actual: Option<Decimal>,
    /// `actual − expected` where both exist.
    pub difference: Option<Decimal>,
    pub days_late: Option<i32>,
    /// Sales: the fields that differ (`gross`, `installments`, `brand`, `product`, `date`). Adjustments: the
    /// posting type's name as the acquirer gives it, then why it is unexplained when it is
    /// ([`receivables::Unexplained`]: `no_sale`, `sale_not_found`, `debited_twice`).
    pub fields: Vec<String>,
    /// For people: what was found, with the figures.
    pub reason: String,
    /// The merchant's line or the forecast (expected side) and the acquirer's line (actual side).
    pub expected_ref: Option<SourceLine>,
    pub actual_ref: Option<SourceLine>,
}

impl ReconItem {
    /// Whether the item needs somebody's attention (everything but a clean match / on-time payment / right fee,
    /// and not-yet-due installments).
    pub fn is_open(&self) -> bool {
        self.status.is_open()
    }

    /// The money at stake: nothing for a clean match, on-time payment or right fee, nor for a cancellation
    /// or chargeback of a known sale (the sale explains it); for an installment paid (or a payment credited)
    /// in full but late, the cost of the delay (see [`Settings::cost_of_delay`]); else the absolute
    /// difference when amounts differ (what is short or over), else the amount involved (a missing, pending
    /// or unexpected amount, an adjustment's effect).
    pub fn at_stake(&self, settings: &Settings) -> Decimal {
        if self.status.is_settled() || matches!(self.status, Status::Cancellation | Status::Chargeback) {
            return Decimal::ZERO;
        }
        if matches!(self.status, Status::PaidLate | Status::DepositedLate) {
            return settings.cost_of_delay(self.expected.unwrap_or_default(), self.days_late.unwrap_or(0));
        }
        match (self.difference, self.expected, self.actual) {
            (Some(d), _, _) if !d.is_zero() => d.abs(),
            (_, Some(e), _) => e.abs(),
            (_, None, Some(a)) => a.abs(),
            _ => Decimal::ZERO,
        }
    }
}

/// The order items are listed in: by area, merchant, date, sale and installment, then by their source lines
/// (a sale's books line first; an installment's payment first). Codes compare byte by byte (PostgreSQL's
/// `COLLATE "C"`, as [`crate::db::recon`] reads them back). No two items of a run compare equal: each comes
/// from its own line.
pub fn item_order(a: &ReconItem, b: &ReconItem) -> std::cmp::Ordering {
    let refs = |i: &ReconItem| {
        if i.area == Area::Sales {
            (i.expected_ref, i.actual_ref)
        } else {
            (i.actual_ref, i.expected_ref)
        }
    };
    (a.area, &a.merchant_code, a.ref_date, &a.sale_code, a.installment, refs(a)).cmp(&(
        b.area,
        &b.merchant_code,
        b.ref_date,
        &b.sale_code,
        b.installment,
        refs(b),
    ))
}

/// An item a run keeps as a link between lines (`recon_link`) rather than whole: a settled one (a sale matched
/// as sold, an installment paid on time in full, a fee as contracted: both lines) and an installment not due
/// yet (its forecast line alone). Its other fields are those of its lines; its reason is not kept. A large
/// merchant's month makes millions of them, and writing each whole was most of a run's time (issue 18).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub status: Status,
    pub ref_date: NaiveDate,
    pub expected: Option<Decimal>,
    /// What was paid or charged; none for an installment not due yet.
    pub actual: Option<Decimal>,
    /// The books' line or the forecast (none for a fee).
    pub expected_ref: Option<SourceLine>,
    /// The acquirer's line; none for an installment not due yet.
    pub actual_ref: Option<SourceLine>,
}

impl ReconItem {
    /// The item as a link, when it is kept as one: settled, linking an acquirer's line (as every settled item
    /// does), or pending, with its forecast line. A deposit is kept whole: it can link several payments and
    /// credits, and says which rule made it.
    pub fn link(&self) -> Option<Link> {
        let linked = match self.status {
            Status::Pending => self.expected.is_some() && self.expected_ref.is_some(),
            s => s.is_settled() && self.area != Area::Bank && self.actual.is_some() && self.actual_ref.is_some(),
        };
        linked.then_some(Link {
            status: self.status,
            ref_date: self.ref_date,
            expected: self.expected,
            actual: self.actual,
            expected_ref: self.expected_ref,
            actual_ref: self.actual_ref,
        })
    }
}

/// What a run reconciles: sales and fees by sale date, receivables by due date, adjustments by posting date,
/// within `[from, to]`; one merchant or all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub merchant: Option<String>,
}

impl Scope {
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.from <= d && d <= self.to
    }
}

/// Everything a run reads, as the database gave it (see [`crate::db::recon::inputs`]).
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub merchant_sales: Vec<sales::MerchantSale>,
    /// Acquirer sales dated within the scope widened by the sale date window on both sides.
    pub acquirer_sales: Vec<sales::AcquirerSale>,
    /// Forecast installments due within the scope.
    pub expected: Vec<receivables::InstallmentLine>,
    /// Paid installments around the scope (early and late payments included).
    pub paid: Vec<receivables::InstallmentLine>,
    pub adjustments: Vec<receivables::AdjustmentLine>,
    pub charged: Vec<fees::ChargedFee>,
    pub rates: Vec<fees::ContractRate>,
    pub available: Available,
    /// The acquirers' payments and the bank statements' credits.
    pub bank: deposits::BankInputs,
}

/// Reconcile a scope: every item of the three questions, in [`item_order`], each exactly once. Things dated
/// outside the scope (read to match what is inside it) yield no item of their own (see [`in_scope`]), nor do
/// those a missing input leaves unanswered (see [`Available::missing_for`]; [`run_with_totals`] counts them).
pub fn run(scope: &Scope, inputs: &Inputs, settings: &Settings) -> Vec<ReconItem> {
    run_with_totals(scope, inputs, settings).0
}

/// [`run`], and the run's totals with what it left aside.
pub fn run_with_totals(scope: &Scope, inputs: &Inputs, settings: &Settings) -> (Vec<ReconItem>, Totals) {
    let mut tally = Tally::new(settings);
    let mut items: Vec<ReconItem> =
        every_item(inputs, settings).into_iter().filter_map(|i| tally.take(scope, &inputs.available, i)).collect();
    let (deposits, aside) = deposits::reconcile(&inputs.bank, settings);
    items.extend(deposits.into_iter().filter_map(|i| tally.take(scope, &inputs.available, i)));
    for i in aside.iter().filter(|i| in_scope(scope, i)) {
        tally.left_aside(i, MissingInput::BankStatement);
    }
    (items, tally.totals())
}

fn every_item(inputs: &Inputs, settings: &Settings) -> Vec<ReconItem> {
    let mut items = sales::reconcile(&inputs.merchant_sales, &inputs.acquirer_sales, settings);
    items.extend(receivables::reconcile(&inputs.expected, &inputs.paid, &inputs.adjustments, settings));
    items.extend(fees::audit(&inputs.charged, &inputs.rates, settings));
    items
}

/// Whether an item belongs to a run over `scope`: an acquirer's sale the books lack (or captured twice) and
/// a payment nobody forecast count where they are dated; the rest were selected by their dates already (a
/// sale read from around the scope to match one inside it, or a payment made before or after it, is only
/// context).
///
/// The bank area reads payments and credits around the scope: its items count by their date (the pay day,
/// or the credit's), and with a merchant in the scope, only those of that merchant (a credit into an account
/// nobody declared may have matched one of its payments, but is not its item).
pub fn in_scope(scope: &Scope, item: &ReconItem) -> bool {
    if item.area == Area::Bank {
        return scope.contains(item.ref_date) && scope.merchant.as_ref().is_none_or(|m| *m == item.merchant_code);
    }
    !matches!(item.status, Status::MissingInMerchant | Status::Duplicate | Status::UnexpectedPayment)
        || scope.contains(item.ref_date)
}

/// Count and money at stake of one status of one area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusTotal {
    pub area: Area,
    pub status: Status,
    pub open: bool,
    pub count: u64,
    pub at_stake: Decimal,
}

/// An input a question cannot be answered without. Its absence is reported as such — what was left aside,
/// and why — never as items needing attention: a merchant whose own sales are not loaded has not 300 000
/// sales "missing in the books", it has a file to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingInput {
    /// The merchant's own sales (POS / ERP export) within the scope: the acquirer's sales have nothing to be
    /// checked against.
    MerchantSales,
    /// A contract (contracted rates) of the merchant with the acquirer: no fee can be audited.
    Contract,
    /// A payment statement of the acquirer for the merchant: nothing is known to be paid, so an installment
    /// due is not known to be unpaid either.
    PaymentStatement,
    /// A bank statement of the account an acquirer paid into, over the days the deposit could come: nothing
    /// tells whether the money landed.
    BankStatement,
}

impl MissingInput {
    pub fn area(self) -> Area {
        match self {
            MissingInput::MerchantSales => Area::Sales,
            MissingInput::Contract => Area::Fees,
            MissingInput::PaymentStatement => Area::Receivables,
            MissingInput::BankStatement => Area::Bank,
        }
    }

    /// For people: what is missing and how to give it.
    pub fn describe(self) -> &'static str {
        match self {
            MissingInput::MerchantSales => {
                "the merchant's own sales are not loaded for this period (syncrocardpay merchant-sales)"
            }
            MissingInput::Contract => {
                "no contracted rate of the merchant with this acquirer (syncrocardpay rates import)"
            }
            MissingInput::PaymentStatement => {
                "no payment statement of this acquirer is loaded for the merchant: what is due is not known to be unpaid"
            }
            MissingInput::BankStatement => {
                "no bank statement of the account paid into covers the days the money could land (syncrocardpay bank-statement)"
            }
        }
    }
}

/// What a run has to reconcile with, besides the acquirers' sales statements: per merchant, whether its own
/// sales are loaded within the scope, with which acquirers it has contracted rates, and from which it has a
/// payment statement. Empty (the default) means none of them: every area is then left aside.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Available {
    pub merchant_sales: std::collections::HashSet<String>,
    /// (merchant, acquirer).
    pub contracts: std::collections::HashSet<(String, String)>,
    /// (merchant, acquirer) with a payment statement loaded (any period).
    pub payments: std::collections::HashSet<(String, String)>,
}

impl Available {
    /// The input an item would be about the absence of: an acquirer sale "missing" from books that are not
    /// loaded at all, a fee "without contract" where there is no contract at all, an installment "overdue"
    /// where no payment of the acquirer is known at all. `None` for a real item.
    pub fn missing_for(&self, item: &ReconItem) -> Option<MissingInput> {
        match item.status {
            Status::MissingInMerchant if !self.merchant_sales.contains(&item.merchant_code) => {
                Some(MissingInput::MerchantSales)
            }
            Status::NoContract if !self.contracts.contains(&(item.merchant_code.clone(), item.acquirer.clone())) => {
                Some(MissingInput::Contract)
            }
            Status::Overdue if !self.payments.contains(&(item.merchant_code.clone(), item.acquirer.clone())) => {
                Some(MissingInput::PaymentStatement)
            }
            _ => None,
        }
    }
}

/// A part of a scope not reconciled for want of an input: which, for whom, and what was left aside (the
/// acquirer's sales or fee lines, and their amount).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotReconciled {
    pub area: Area,
    pub missing: MissingInput,
    pub merchant_code: String,
    pub acquirer: String,
    pub lines: u64,
    pub amount: Decimal,
}

/// The headline numbers of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub items: u64,
    /// Items needing attention.
    pub open: u64,
    /// Money at stake in the open items.
    pub open_at_stake: Decimal,
    pub by_status: Vec<StatusTotal>,
    /// What was not reconciled, and the input it waits for (runs stored before this was kept have none).
    #[serde(default)]
    pub not_reconciled: Vec<NotReconciled>,
}

pub fn totals(items: &[ReconItem], settings: &Settings) -> Totals {
    let mut tally = Tally::new(settings);
    for i in items {
        tally.add(i);
    }
    tally.totals()
}

/// [`Totals`] counted one item at a time, as a run streams them.
#[derive(Debug)]
pub struct Tally {
    settings: Settings,
    /// In order of area, then status name.
    by: std::collections::BTreeMap<(Area, &'static str), StatusTotal>,
    not_reconciled: std::collections::BTreeMap<(Area, MissingInput, String, String), (u64, Decimal)>,
    totals: Totals,
}

impl Tally {
    pub fn new(settings: &Settings) -> Tally {
        Tally {
            settings: settings.clone(),
            by: Default::default(),
            not_reconciled: Default::default(),
            totals: Totals::default(),
        }
    }

    /// Take an item of a run over `scope` with what is `available`: the item back to keep, counted; `None`
    /// for one about something outside the scope (read only to match what is inside it: dropped) or one a
    /// missing input leaves unanswered (counted as left aside).
    pub fn take(&mut self, scope: &Scope, available: &Available, item: ReconItem) -> Option<ReconItem> {
        if !in_scope(scope, &item) {
            return None;
        }
        if let Some(missing) = available.missing_for(&item) {
            self.left_aside(&item, missing);
            return None;
        }
        self.add(&item);
        Some(item)
    }

    /// Count what an item would have been about, left aside for want of an input (when the input is
    /// missing for that item only: a bank statement over its days).
    pub fn left_aside(&mut self, i: &ReconItem, missing: MissingInput) {
        let e = self
            .not_reconciled
            .entry((missing.area(), missing, i.merchant_code.clone(), i.acquirer.clone()))
            .or_default();
        e.0 += 1;
        e.1 += i.actual.or(i.expected).unwrap_or_default().abs();
    }

    pub fn add(&mut self, i: &ReconItem) {
        let open = i.is_open();
        let at_stake = i.at_stake(&self.settings);
        let e = self.by.entry((i.area, i.status.as_str())).or_insert_with(|| StatusTotal {
            area: i.area,
            status: i.status,
            open,
            count: 0,
            at_stake: Decimal::ZERO,
        });
        e.count += 1;
        e.at_stake += at_stake;
        self.totals.items += 1;
        if open {
            self.totals.open += 1;
            self.totals.open_at_stake += at_stake;
        }
    }

    pub fn totals(self) -> Totals {
        let not_reconciled = self
            .not_reconciled
            .into_iter()
            .map(|((area, missing, merchant_code, acquirer), (lines, amount))| NotReconciled {
                area,
                missing,
                merchant_code,
                acquirer,
                lines,
                amount,
            })
            .collect();
        Totals { by_status: self.by.into_values().collect(), not_reconciled, ..self.totals }
    }
}

/// Round money to centavos, half away from zero (as the acquirers do).
pub fn round2(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// `R$ 1.234,56` for reasons people read.
pub fn brl(d: Decimal) -> String {
    let d = round2(d);
    let negative = d.is_sign_negative() && !d.is_zero();
    let s = format!("{:.2}", d.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(c);
    }
    format!("{}R$ {grouped},{frac}", if negative { "-" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_one_name_one_area_and_an_unknown_name_is_none() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            assert_eq!(Status::ALL.iter().filter(|t| t.as_str() == s.as_str()).count(), 1);
        }
        assert_eq!(Status::parse("Matched"), None);
        assert_eq!(Status::parse(""), None);
        assert_eq!(Status::Overcharged.area(), Area::Fees);
        assert_eq!(Status::Chargeback.area(), Area::Adjustments);
        assert!(!Status::Pending.is_open() && !Status::Paid.is_open() && Status::PaidLate.is_open());
    }

    /// V30's CHECK (V21's, widened by V25 and V30) lists, per area, exactly the statuses of that area.
    #[test]
    fn the_database_checks_the_same_statuses_per_area() {
        let sql = include_str!("../../../migrations/V30__bank_reconciliation.sql");
        for area in [Area::Sales, Area::Receivables, Area::Adjustments, Area::Fees, Area::Bank] {
            let start = format!("(area = '{}' AND status IN (", area.as_str());
            let list = sql.split_once(&start).unwrap_or_else(|| panic!("{area:?}")).1.split_once("))").unwrap().0;
            let mut checked: Vec<&str> = list.split(", ").map(|n| n.trim_matches('\'')).collect();
            let mut ours: Vec<&str> = Status::ALL.iter().filter(|s| s.area() == area).map(|s| s.as_str()).collect();
            checked.sort();
            ours.sort();
            assert_eq!(checked, ours, "{area:?}");
        }
    }

    #[test]
    fn a_late_payment_in_full_puts_at_stake_the_cost_of_its_delay() {
        let mut settings = Settings::new(NaiveDate::from_ymd_opt(2026, 10, 1).unwrap());
        assert_eq!(settings.cost_of_delay(Decimal::new(100000, 2), 3), Decimal::new(120, 2), "R$ 1.000 × 0.04 % × 3");
        assert_eq!(settings.cost_of_delay(Decimal::new(-100000, 2), 0), Decimal::ZERO);
        settings.daily_cost_percent = Decimal::ZERO;
        assert_eq!(settings.cost_of_delay(Decimal::new(100000, 2), 30), Decimal::ZERO);
        let old: Settings =
            serde_json::from_str(r#"{"as_of":"2026-10-01","amount_tolerance":"0.01","sale_date_window_days":1}"#)
                .unwrap();
        assert_eq!(old.daily_cost_percent, Decimal::new(4, 2), "a run stored before the setting reads the default");
    }

    #[test]
    fn money_for_people() {
        assert_eq!(brl(Decimal::new(123456, 2)), "R$ 1.234,56");
        assert_eq!(brl(Decimal::new(-5, 3)), "-R$ 0,01");
        assert_eq!(brl(Decimal::new(100000000, 2)), "R$ 1.000.000,00");
        assert_eq!(brl(Decimal::ZERO), "R$ 0,00");
    }
}
