//! What a reconciliation reads: one query per area (the acquirer sales carry each sale's fee: the sales and
//! fee areas share that one), each in the order its area consumes it, so a run can
//! stream them ([`Stream`]) and hold only what its pieces need (a few days of one merchant's sales, one
//! sale's installments, the contracts); [`super::inputs`] collects the same rows for tests and tools.

use crate::error::Result;
use crate::reconcile::fees::{ChargedFee, ContractRate};
use crate::reconcile::receivables::{AdjustmentLine, InstallmentLine, SaleHistory};
use crate::reconcile::sales::{AcquirerSale, MerchantSale};
use crate::reconcile::{Available, Scope, Settings};
use rust_decimal::Decimal;
use std::collections::VecDeque;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Portal, Row, Transaction};

/// Statement file types by their role (code tables are data): sales files forecast installments and carry
/// the fees; payment files say what was paid; open-balance files repeat the forecast of what is still due.
pub(super) const SALES_FILES: &[&str] = &["03", "EEVC", "EEVD", "CEADM100", "PAGBANK-T", "STONE"];
pub(super) const FORECAST_FILES: &[&str] = &["03", "09"];
pub(super) const PAYMENT_FILES: &[&str] = &["04"];
/// Acquirers whose receivables are summaries and their installments rather than sales (Rede: the RV, "resumo
/// de vendas"): forecast by the receivable units of their sales files, paid by those of their payment files.
pub(super) const RV_FORECAST_FILES: &[&str] = &["EEVC", "EEVD"];
pub(super) const RV_PAYMENT_FILES: &[&str] = &["EEFI"];
/// Acquirers whose receivables are told forecast from paid by their payment status rather than by the file
/// they are in: Getnet (one file type for both; an RV's status `PF` is a forecast, `PG`/`LQ`/`AC`… paid) and
/// PagBank (its transactional movement forecasts each installment, status `1`; the financial one settles it,
/// `3`) and Stone (one file a day: installments forecast, `PREVISION`, and settled, `PAID`). Statuses and their
/// stages are data (`ref_payment_status`, one code set per acquirer).
pub(super) const STATUS_FILES: &[&str] = &["CEADM100", "PAGBANK-T", "PAGBANK-F", "STONE"];
/// Those of them that say what was paid (a payment statement).
pub(super) const STATUS_PAYMENT_FILES: &[&str] = &["CEADM100", "PAGBANK-F", "STONE"];

/// The condition that a receivable unit `u` of [`STATUS_FILES`] is at a stage of its payment.
fn at_stage(stage: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM ref_payment_status ps WHERE ps.acquirer_key = e.acquirer_key
                   AND ps.code = u.payment_status_code AND ps.stage = '{stage}')"
    )
}

/// How far around the scope payments are looked for (paid early, or late).
pub(super) const PAYMENT_SEARCH_DAYS: i32 = 120;

/// The joins every query over card transactions needs.
const JOINS: &str = "
    JOIN dim_establishment e ON e.establishment_key = t.establishment_key
    JOIN dim_acquirer a ON a.acquirer_key = e.acquirer_key
    JOIN dim_posting_type pt ON pt.posting_type_key = t.posting_type_key
    JOIN dim_payment_method pm ON pm.payment_method_key = t.payment_method_key
    JOIN dim_product p ON p.product_key = t.product_key";

/// A transaction's receivable unit (the UR gives the date it is due or was paid): the first line of that UR
/// in the transaction's file. A relation rather than a lookup per transaction, so it is hash-joined.
const FIRST_UR: &str = "(SELECT DISTINCT ON (file_id, ur_key) file_id, ur_key, payment_date, payment_status_code
       FROM fact_receivable_unit ORDER BY file_id, ur_key, line_no)";

/// The joins every query over receivable units needs; `m` is the PV the summary belongs to (a credit names
/// the sale's PV besides the centralising one it was paid to).
pub(super) const UNIT_JOINS: &str = "
    JOIN dim_establishment e ON e.establishment_key = u.establishment_key
    JOIN dim_acquirer a ON a.acquirer_key = e.acquirer_key
    JOIN dim_posting_type pt ON pt.posting_type_key = u.posting_type_key
    JOIN dim_payment_method pm ON pm.payment_method_key = u.payment_method_key
    LEFT JOIN dim_product p ON p.product_key = u.product_key
    CROSS JOIN LATERAL (SELECT coalesce(nullif(u.payment_merchant_code, ''), e.merchant_code) AS code) m";

/// An installment's identity at its acquirer (`fact_card_transaction.sale_code`, stored at load: see V39):
/// the unique sale code when there is one, else NSU, authorization code and sale date.
const SALE_CODE: &str = "t.sale_code";

/// What the loaded statements say of the sale a cancellation or chargeback `t` (of posting type `pt`,
/// establishment `e`) names (see [`crate::reconcile::receivables::SaleHistory`]): whether a sale line of the
/// acquirer has that unique sale code, or a summary that "PV-RV" (Rede); and how often a posting of the same
/// category debited and reversed the same installment (`[debits, reversals]`). Looked up by index (V25), for
/// those postings only.
const SALE_HISTORY: &str = "
    CASE WHEN pt.category IN ('cancellation', 'chargeback') AND t.original_sale_code <> '' THEN
        EXISTS (SELECT 1 FROM fact_card_transaction s
                  JOIN dim_posting_type sp ON sp.posting_type_key = s.posting_type_key AND sp.is_sale
                  JOIN dim_establishment se ON se.establishment_key = s.establishment_key
                 WHERE s.unique_sale_code = t.original_sale_code AND se.acquirer_key = e.acquirer_key)
        OR (position('-' IN t.original_sale_code) > 0
            AND EXISTS (SELECT 1 FROM fact_receivable_unit s
                          JOIN dim_establishment se ON se.establishment_key = s.establishment_key
                         WHERE s.summary_number = split_part(t.original_sale_code, '-', 2)
                           AND se.acquirer_key = e.acquirer_key
                           AND coalesce(nullif(s.payment_merchant_code, ''), se.merchant_code)
                               = split_part(t.original_sale_code, '-', 1)))
    END,
    CASE WHEN pt.category IN ('cancellation', 'chargeback') AND t.original_sale_code <> '' THEN
        (SELECT ARRAY[count(*) FILTER (WHERE o.net_amount < 0), count(*) FILTER (WHERE o.net_amount > 0)]
           FROM fact_card_transaction o
           JOIN dim_posting_type op ON op.posting_type_key = o.posting_type_key
          WHERE o.original_sale_code = t.original_sale_code AND o.original_sale_code <> ''
            AND o.installment = t.installment AND o.establishment_key = t.establishment_key
            AND o.file_type = t.file_type AND op.category = pt.category)
    END";

/// An SQL list of code-table constants (never input).
pub(super) fn list(codes: &[&str]) -> String {
    codes.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(", ")
}

/// The parameters every query takes: the scope's first and last day, its merchant (or all) and the days
/// around it that matter (the sale date window, or how far payments are looked for).
pub(super) struct Params {
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    merchant: Option<String>,
    days: i32,
}

impl Params {
    fn new(scope: &Scope, days: i64) -> Params {
        Params { from: scope.from, to: scope.to, merchant: scope.merchant.clone(), days: days.clamp(0, 100_000) as i32 }
    }

    fn sql(&self) -> [&(dyn ToSql + Sync); 4] {
        [&self.from, &self.to, &self.merchant, &self.days]
    }
}

/// The merchant's own sales dated within the scope, in [`crate::reconcile::sales::merchant_order`].
pub(super) fn merchant_sales(scope: &Scope) -> (String, Params) {
    let sql = "SELECT e.merchant_code, s.sale_id, s.sale_date, s.nsu, s.authorization_code, s.gross_amount,
                greatest(s.installments, 1) AS installments, s.brand, s.card_last_digits, s.payment_method,
                s.file_id, s.line_no
           FROM fact_merchant_sale s
           JOIN dim_establishment e ON e.establishment_key = s.establishment_key
          WHERE s.sale_date BETWEEN $1 AND $2 AND ($3::text IS NULL OR e.merchant_code = $3) AND $4::int >= 0
          ORDER BY e.merchant_code COLLATE \"C\", s.sale_date, s.sale_id COLLATE \"C\", s.file_id, s.line_no";
    (sql.to_string(), Params::new(scope, 0))
}

pub(super) fn merchant_sale(r: &Row) -> Result<MerchantSale> {
    Ok(MerchantSale {
        merchant_code: r.get("merchant_code"),
        sale_id: r.get("sale_id"),
        date: r.get("sale_date"),
        nsu: r.get("nsu"),
        authorization_code: r.get("authorization_code"),
        gross: r.get("gross_amount"),
        installments: r.get("installments"),
        brand: r.get("brand"),
        card_last_digits: r.get("card_last_digits"),
        payment_method: r.get("payment_method"),
        source: (r.get("file_id"), r.get("line_no")),
    })
}

/// The acquirers' sales (installments taken together) dated within the scope widened by the sale date
/// window on both sides, in [`crate::reconcile::sales::acquirer_order`], each with the fee charged on its
/// lines dated within the scope ([`ChargedFee`]: the fee area audits every sale's fee, and summing it here
/// rather than grouping the same million lines again in a query of its own saved ~2 s of a 15 s run).
pub(super) fn acquirer_sales(scope: &Scope, settings: &Settings) -> (String, Params) {
    // The lines a sale's fee is summed from: those with a fee, dated within the scope itself.
    let fee =
        "FILTER (WHERE t.fee_amount IS NOT NULL AND coalesce(t.authorization_date, t.capture_date) BETWEEN $1 AND $2)";
    let sql = format!(
        "SELECT * FROM (
         SELECT e.merchant_code, a.code AS acquirer, {SALE_CODE} AS sale_code,
                min(coalesce(t.authorization_date, t.capture_date)) AS sale_date,
                min(t.nsu) AS nsu, min(t.authorization_code) AS authorization_code,
                CASE WHEN max(t.sale_total_amount) > 0 THEN max(t.sale_total_amount) ELSE sum(t.gross_amount) END
                  AS gross,
                max(greatest(t.installment_count, 1)) AS installments, pm.brand_code, pm.brand_name,
                p.code AS product, pm.settlement, min(t.card_last_digits) AS card_last_digits,
                min({LINE}) AS first_line,
                count(*) {fee} AS fee_lines, max(greatest(t.installment_count, 1)) {fee} AS fee_installments,
                min(coalesce(t.authorization_date, t.capture_date)) {fee} AS fee_date,
                min(t.nsu) {fee} AS fee_nsu, min(t.authorization_code) {fee} AS fee_authorization_code,
                sum(t.gross_amount) {fee} AS fee_gross, sum(abs(t.fee_amount)) {fee} AS fee,
                min({LINE}) {fee} AS fee_first_line
           FROM fact_card_transaction t {JOINS}
          WHERE pt.is_sale AND t.file_type IN ({sales})
            AND coalesce(t.authorization_date, t.capture_date) BETWEEN $1::date - $4::int AND $2::date + $4::int
            AND ($3::text IS NULL OR e.merchant_code = $3)
          GROUP BY e.merchant_code, a.code, sale_code, pm.brand_code, pm.brand_name, p.code, pm.settlement
         ) sales
         ORDER BY merchant_code COLLATE \"C\", sale_date, sale_code COLLATE \"C\", first_line",
        sales = list(SALES_FILES)
    );
    (sql, Params::new(scope, settings.sale_date_window_days))
}

/// A line of a statement as one integer, file then line (`file_id · 2³² + line_no`), ordered as the pair: a
/// group's first line is its `min`, which the server compares as fast as any number (an array per line cost
/// ~0.4 s of the acquirer sales query). Line numbers stay below 2³² (a file of 4 billion lines is 1 TB) and
/// file ids, a sequence, below 2³¹ (two billion files): assumed, not enforced — [`first_line`] refuses only
/// the negative values that file ids from 2³¹ to 2³² would give.
const LINE: &str = "(t.file_id << 32) + t.line_no";

/// A grouped row's first line ([`LINE`]) in column `column`.
fn first_line(r: &Row, column: &str) -> Result<(i64, i64)> {
    let line: i64 = r.get(column);
    if line < 0 {
        return Err(crate::Error::Other(format!("{column}: a file id beyond 2^31 in {line}")));
    }
    Ok((line >> 32, line & 0xffff_ffff))
}

/// An acquirer's sale as [`acquirer_sales`] reads it, and the fee charged on its lines dated within the
/// scope (none when it has no such line).
pub(super) struct SaleAndFee {
    pub(super) sale: AcquirerSale,
    pub(super) fee: Option<ChargedFee>,
}

pub(super) fn acquirer_sale(r: &Row) -> Result<SaleAndFee> {
    let sale = AcquirerSale {
        merchant_code: r.get("merchant_code"),
        acquirer: r.get("acquirer"),
        sale_code: r.get("sale_code"),
        date: r.get("sale_date"),
        nsu: r.get("nsu"),
        authorization_code: r.get("authorization_code"),
        gross: r.get("gross"),
        installments: r.get("installments"),
        brand: r.get("brand_code"),
        brand_name: r.get("brand_name"),
        product: r.get("product"),
        settlement: match r.get::<_, &str>("settlement") {
            s @ ("credit" | "debit") => s.to_string(),
            _ => String::new(),
        },
        card_last_digits: r.get("card_last_digits"),
        source: first_line(r, "first_line")?,
    };
    let fee = match r.get::<_, i64>("fee_lines") {
        0 => None,
        lines => Some(ChargedFee {
            merchant_code: sale.merchant_code.clone(),
            acquirer: sale.acquirer.clone(),
            brand: sale.brand.clone(),
            product: sale.product.clone(),
            installments: r.get("fee_installments"),
            lines,
            date: r.get("fee_date"),
            sale_code: sale.sale_code.clone(),
            nsu: r.get("fee_nsu"),
            authorization_code: r.get("fee_authorization_code"),
            gross: r.get("fee_gross"),
            fee: r.get("fee"),
            source: first_line(r, "fee_first_line")?,
        }),
    };
    Ok(SaleAndFee { sale, fee })
}

/// What a receivables row is.
pub(super) enum ReceivableLine {
    /// An installment forecast to be paid (due within the scope).
    Expected(InstallmentLine),
    /// An installment paid (around the scope: early and late payments included).
    Paid(InstallmentLine),
    /// A posting that is not a sale (dated within the scope), keyed by the sale it names.
    Adjustment(AdjustmentLine),
}

impl ReceivableLine {
    /// The sale it belongs to (see [`crate::reconcile::receivables::SaleLines`]).
    pub(super) fn sale(&self) -> (&str, &str, &str) {
        match self {
            ReceivableLine::Expected(l) | ReceivableLine::Paid(l) => (&l.merchant_code, &l.acquirer, &l.sale_code),
            ReceivableLine::Adjustment(a) => (&a.merchant_code, &a.acquirer, &a.original_sale_code),
        }
    }
}

/// Forecast installments, payments and adjustments in one list, sale by sale (merchant, acquirer, sale
/// code): the installments of card sales (dated by their UR), the summaries and their installments of
/// acquirers that pay by summary (Rede's RV; an anticipation pays the installment at the credit it brought
/// forward, and its cost is an adjustment), and the postings that are not sales.
///
/// A sale's lines need only be adjacent, not in any order of sales: the sort's first key is a hash of the
/// sale (an integer, compared at once), the sale itself only breaks ties between sales whose hashes collide.
/// Sorting two million lines that way took 2.2 s where three text keys took 4.3 s.
pub(super) fn receivables(scope: &Scope) -> (String, Params) {
    let sql = format!(
        "{} ORDER BY hashtext(merchant_code || '|' || acquirer || '|' || sale_code), merchant_code COLLATE \"C\",
                  acquirer COLLATE \"C\", sale_code COLLATE \"C\"",
        receivable_lines()
    );
    (sql, Params::new(scope, PAYMENT_SEARCH_DAYS as i64))
}

/// The rows of [`receivables`] (kind, merchant_code, acquirer, sale_code, installment, …, date, net, …), in
/// no order: also what the period's money received and adjusted is summed from.
pub(super) fn receivable_lines() -> String {
    let in_scope = "BETWEEN $1 AND $2";
    let searched = "BETWEEN $1::date - $4::int AND $2::date + $4::int";
    let card = |kind: &str, files: &[&str], dates: &str, paid_only: bool| {
        let stage = if paid_only {
            "LEFT JOIN ref_payment_status ps ON ps.acquirer_key = e.acquirer_key
                  AND ps.code_set = 'cielo-v15' AND ps.code = u.payment_status_code
              WHERE ps.stage IN ('paid', 'sent') AND"
        } else {
            "WHERE"
        };
        format!(
            "SELECT '{kind}' AS kind, e.merchant_code, a.code AS acquirer, {SALE_CODE} AS sale_code, t.installment,
                    t.nsu, t.authorization_code, pm.brand_code AS brand, p.code AS product, u.payment_date AS date,
                    t.net_amount AS net, t.file_id, t.line_no, NULL::text AS category, NULL::text AS posting_name,
                    NULL::bool AS sale_found, NULL::bigint[] AS postings
               FROM fact_card_transaction t {JOINS}
               JOIN {FIRST_UR} u ON u.file_id = t.file_id AND u.ur_key = t.ur_key
               {stage} pt.is_sale AND t.file_type IN ({files}) AND t.net_amount IS NOT NULL
                AND u.payment_date {dates} AND ($3::text IS NULL OR e.merchant_code = $3)",
            files = list(files)
        )
    };
    let summary = |kind: &str, files: &[&str], dates: &str, net: &str, stage: Option<&str>| {
        format!(
            "SELECT '{kind}', m.code, a.code, m.code || '-' || u.summary_number, greatest(u.installment, 1), '', '',
                    pm.brand_code, coalesce(p.code, ''), u.payment_date, {net}, u.file_id, u.line_no, NULL, NULL, NULL,
                    NULL
               FROM fact_receivable_unit u {UNIT_JOINS}
              WHERE (pt.is_sale OR pt.category = 'anticipation') AND u.file_type IN ({files})
                AND u.payment_date {dates} AND ($3::text IS NULL OR m.code = $3) {stage}",
            files = list(files),
            stage = stage.map(|s| format!("AND {}", at_stage(s))).unwrap_or_default()
        )
    };
    let scheduled = "CASE WHEN pt.category = 'anticipation' THEN u.gross_amount ELSE u.net_amount END";
    format!(
        "SELECT * FROM (
            {expected}
            UNION ALL {paid}
            UNION ALL {expected_summaries}
            UNION ALL {paid_summaries}
            UNION ALL {expected_by_status}
            UNION ALL {paid_by_status}
            UNION ALL
            SELECT 'adjustment', m.code, a.code, m.code || '-' || u.summary_number, greatest(u.installment, 1), '',
                   '', pm.brand_code, coalesce(p.code, ''), u.payment_date, u.fee_amount, u.file_id, u.line_no,
                   pt.category, pt.name, true, ARRAY[0, 0]::bigint[]
              FROM fact_receivable_unit u {UNIT_JOINS}
             WHERE pt.category = 'anticipation' AND u.file_type IN ({anticipating}) AND u.fee_amount <> 0
               AND u.payment_date {in_scope} AND ($3::text IS NULL OR m.code = $3)
            UNION ALL
            SELECT 'adjustment', e.merchant_code, a.code, t.original_sale_code, t.installment, t.nsu,
                   t.authorization_code, pm.brand_code, p.code, u.payment_date, t.net_amount, t.file_id, t.line_no,
                   pt.category, pt.name, {history}
              FROM fact_card_transaction t {JOINS}
              JOIN {FIRST_UR} u ON u.file_id = t.file_id AND u.ur_key = t.ur_key
             WHERE NOT pt.is_sale AND t.file_type IN ({payments}) AND t.net_amount IS NOT NULL
               AND u.payment_date {in_scope} AND ($3::text IS NULL OR e.merchant_code = $3)
         ) lines",
        expected = card("expected", FORECAST_FILES, in_scope, false),
        paid = card("paid", PAYMENT_FILES, searched, true),
        expected_summaries = summary("expected", RV_FORECAST_FILES, in_scope, "u.net_amount", None),
        paid_summaries = summary("paid", RV_PAYMENT_FILES, searched, scheduled, None),
        expected_by_status = summary("expected", STATUS_FILES, in_scope, "u.net_amount", Some("scheduled")),
        paid_by_status = summary("paid", STATUS_FILES, searched, scheduled, Some("paid")),
        anticipating = list(&[RV_PAYMENT_FILES, STATUS_PAYMENT_FILES].concat()),
        payments = list(&[PAYMENT_FILES, STATUS_FILES].concat()),
        history = SALE_HISTORY,
    )
}

/// The period's business per merchant and acquirer (see [`crate::reconcile::report::PeriodLine`]): sales by
/// sale date (distinct sales, gross, fee, net); what was paid and adjusted by payment date, summed from the
/// same lines as the receivables. Parameters as [`Params`] with the payment search days.
pub(super) fn period_summary() -> String {
    format!(
        "WITH sold AS (
            SELECT e.merchant_code, a.code AS acquirer, count(DISTINCT {SALE_CODE}) AS sales,
                   coalesce(sum(t.gross_amount), 0) AS gross, coalesce(sum(abs(t.fee_amount)), 0) AS fee,
                   coalesce(sum(t.net_amount), 0) AS net
              FROM fact_card_transaction t {JOINS}
             WHERE pt.is_sale AND t.file_type IN ({sales})
               AND coalesce(t.authorization_date, t.capture_date) BETWEEN $1 AND $2
               AND ($3::text IS NULL OR e.merchant_code = $3)
             GROUP BY 1, 2),
         moved AS (
            SELECT merchant_code, acquirer,
                   coalesce(sum(net) FILTER (WHERE kind = 'paid'), 0) AS received,
                   coalesce(sum(net) FILTER (WHERE kind = 'adjustment'), 0) AS adjustments
              FROM ({lines}) l
             WHERE kind IN ('paid', 'adjustment') AND date BETWEEN $1 AND $2
             GROUP BY 1, 2)
         SELECT coalesce(s.merchant_code, m.merchant_code) AS merchant_code,
                coalesce(s.acquirer, m.acquirer) AS acquirer, coalesce(s.sales, 0) AS sales,
                coalesce(s.gross, 0) AS gross, coalesce(s.fee, 0) AS fee, coalesce(s.net, 0) AS net,
                coalesce(m.received, 0) AS received, coalesce(m.adjustments, 0) AS adjustments
           FROM sold s FULL JOIN moved m ON m.merchant_code = s.merchant_code AND m.acquirer = s.acquirer
          ORDER BY 1, 2",
        sales = list(SALES_FILES),
        lines = receivable_lines(),
    )
}

pub(super) fn receivable_line(r: &Row) -> Result<ReceivableLine> {
    let installment = || InstallmentLine {
        merchant_code: r.get("merchant_code"),
        acquirer: r.get("acquirer"),
        sale_code: r.get("sale_code"),
        installment: r.get("installment"),
        nsu: r.get("nsu"),
        authorization_code: r.get("authorization_code"),
        brand: r.get("brand"),
        product: r.get("product"),
        date: r.get("date"),
        net: r.get("net"),
        source: (r.get("file_id"), r.get("line_no")),
    };
    Ok(match r.get::<_, &str>("kind") {
        "expected" => ReceivableLine::Expected(installment()),
        "paid" => ReceivableLine::Paid(installment()),
        _ => ReceivableLine::Adjustment(AdjustmentLine {
            merchant_code: r.get("merchant_code"),
            acquirer: r.get("acquirer"),
            category: super::status(r.get("category"))?,
            posting_name: r.get("posting_name"),
            date: r.get("date"),
            net: r.get("net"),
            original_sale_code: r.get("sale_code"),
            installment: r.get("installment"),
            nsu: r.get("nsu"),
            authorization_code: r.get("authorization_code"),
            brand: r.get("brand"),
            product: r.get("product"),
            source: (r.get("file_id"), r.get("line_no")),
            history: match r.get::<_, Option<bool>>("sale_found") {
                // Not a cancellation or chargeback, or one that names no sale: nothing to look up.
                None => SaleHistory { sale_found: false, debits: 0, reversals: 0 },
                Some(sale_found) => {
                    let postings = r.get::<_, Option<Vec<i64>>>("postings").unwrap_or_default();
                    SaleHistory {
                        sale_found,
                        debits: postings.first().copied().unwrap_or(0),
                        reversals: postings.get(1).copied().unwrap_or(0),
                    }
                }
            },
        }),
    })
}

/// The contracted rates of the scope's merchant (or all), in the order they were imported.
pub(super) async fn rates(db: &impl tokio_postgres::GenericClient, scope: &Scope) -> Result<Vec<ContractRate>> {
    let rows = db
        .query(
            "SELECT merchant_code, acquirer, brand, product, installments_from, installments_to, rate_percent,
                    fixed_fee, valid_from, valid_to
               FROM contract_rate WHERE $1::text IS NULL OR merchant_code = $1
              ORDER BY contract_rate_id",
            &[&scope.merchant],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| ContractRate {
            merchant_code: r.get("merchant_code"),
            acquirer: r.get("acquirer"),
            brand: r.get("brand"),
            product: r.get("product"),
            installments_from: r.get("installments_from"),
            installments_to: r.get("installments_to"),
            rate: r.get::<_, Decimal>("rate_percent").normalize(),
            fixed_fee: r.get("fixed_fee"),
            valid_from: r.get("valid_from"),
            valid_to: r.get("valid_to"),
        })
        .collect())
}

/// What the scope has to reconcile with besides the sales statements: the merchants whose own sales are
/// loaded within it, and the (merchant, acquirer) pairs with contracted rates and with payments loaded.
pub(super) async fn available(db: &impl tokio_postgres::GenericClient, scope: &Scope) -> Result<Available> {
    let merchant_sales = db
        .query(
            "SELECT DISTINCT e.merchant_code FROM fact_merchant_sale s
               JOIN dim_establishment e ON e.establishment_key = s.establishment_key
              WHERE s.sale_date BETWEEN $1 AND $2 AND ($3::text IS NULL OR e.merchant_code = $3)",
            &[&scope.from, &scope.to, &scope.merchant],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let contracts = db
        .query(
            "SELECT DISTINCT merchant_code, acquirer FROM contract_rate WHERE $1::text IS NULL OR merchant_code = $1",
            &[&scope.merchant],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    // As the receivables list names them: a Rede summary by the PV it belongs to.
    let payments = db
        .query(
            &format!(
                "SELECT DISTINCT e.merchant_code, a.code FROM fact_card_transaction t {JOINS}
                  WHERE t.file_type IN ({payments}) AND ($1::text IS NULL OR e.merchant_code = $1)
                 UNION
                 SELECT DISTINCT m.code, a.code FROM fact_receivable_unit u {UNIT_JOINS}
                  WHERE u.file_type IN ({rv_payments}) AND ($1::text IS NULL OR m.code = $1)
                 UNION
                 SELECT DISTINCT m.code, a.code FROM fact_receivable_unit u {UNIT_JOINS}
                  WHERE u.file_type IN ({status_files}) AND {paid} AND ($1::text IS NULL OR m.code = $1)",
                payments = list(PAYMENT_FILES),
                rv_payments = list(RV_PAYMENT_FILES),
                status_files = list(STATUS_PAYMENT_FILES),
                paid = at_stage("paid")
            ),
            &[&scope.merchant],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    Ok(Available { merchant_sales, contracts, payments })
}

/// All the rows of a query at once (for [`super::inputs`]).
pub(super) async fn all<T>(
    db: &impl tokio_postgres::GenericClient,
    (sql, params): (String, Params),
    parse: impl Fn(&Row) -> Result<T>,
) -> Result<Vec<T>> {
    db.query(&sql, &params.sql()).await?.iter().map(parse).collect()
}

/// A query read a batch of rows at a time through a portal of the run's transaction: several streams can be
/// open at once in one transaction, and between batches the transaction is free for other statements (the
/// run writes its items there).
pub(super) struct Stream<T> {
    portal: Portal,
    parse: fn(&Row) -> Result<T>,
    buffered: VecDeque<Row>,
    done: bool,
    /// Time spent waiting for the server's rows.
    pub(super) fetching: std::time::Duration,
}

/// Rows fetched per round trip: enough to keep the server busy, few enough to stay small (a few MB).
const BATCH_ROWS: i32 = 5_000;

impl<T> Stream<T> {
    pub(super) async fn open(
        tx: &Transaction<'_>,
        (sql, params): (String, Params),
        parse: fn(&Row) -> Result<T>,
    ) -> Result<Stream<T>> {
        let statement = tx.prepare(&sql).await?;
        let portal = tx.bind(&statement, &params.sql()).await?;
        Ok(Stream { portal, parse, buffered: VecDeque::new(), done: false, fetching: Default::default() })
    }

    /// The next row, parsed; `None` after the last.
    pub(super) async fn next(&mut self, tx: &Transaction<'_>) -> Result<Option<T>> {
        if self.buffered.is_empty() && !self.done {
            let t = std::time::Instant::now();
            let rows = tx.query_portal(&self.portal, BATCH_ROWS).await?;
            self.fetching += t.elapsed();
            self.done = rows.len() < BATCH_ROWS as usize;
            self.buffered.extend(rows);
        }
        self.buffered.pop_front().map(|r| (self.parse)(&r)).transpose()
    }
}

/// Rows a reader sends at a time, and batches it may have ready ahead of the run (memory stays a few MB).
const READER_BATCH: usize = 5_000;
const READER_AHEAD: usize = 2;

/// Where one area's rows come from: a portal of the run's transaction, or a reader on a connection of its own
/// that imported the run's snapshot ([`read_in_snapshot`]): the server then plans and sorts the areas side by
/// side while the run reconciles, instead of one after the other.
pub(super) enum Source<T> {
    Portal(Stream<T>),
    Reader { rows: tokio::sync::mpsc::Receiver<Result<Vec<T>>>, buffered: VecDeque<T>, fetching: std::time::Duration },
}

impl<T> Source<T> {
    /// The next row, parsed; `None` after the last.
    pub(super) async fn next(&mut self, tx: &Transaction<'_>) -> Result<Option<T>> {
        match self {
            Source::Portal(s) => s.next(tx).await,
            Source::Reader { rows, buffered, fetching } => {
                if buffered.is_empty() {
                    let t = std::time::Instant::now();
                    if let Some(batch) = rows.recv().await {
                        buffered.extend(batch?);
                    }
                    *fetching += t.elapsed();
                }
                Ok(buffered.pop_front())
            }
        }
    }

    /// Time spent waiting for rows.
    pub(super) fn fetching(&self) -> std::time::Duration {
        match self {
            Source::Portal(s) => s.fetching,
            Source::Reader { fetching, .. } => *fetching,
        }
    }
}

/// Read a query on `client` inside the snapshot `snapshot` (exported by the run's transaction), sending its
/// rows parsed, in batches, until the run stops listening. A failure is sent as the last item.
pub(super) fn read_in_snapshot<T: Send + 'static>(
    client: tokio_postgres::Client,
    snapshot: String,
    (sql, params): (String, Params),
    parse: fn(&Row) -> Result<T>,
) -> Source<T> {
    let (send, rows) = tokio::sync::mpsc::channel(READER_AHEAD);
    tokio::spawn(async move {
        let result: Result<()> = async {
            // The snapshot id is the server's own (`pg_export_snapshot()`), never input; quoted all the same.
            // No parallel workers: the areas' queries already run side by side with the run itself, and
            // workers on top of them only add their overhead (300 000 sales: 24 → 21.5 s, 40 → 33 s of CPU).
            client
                .batch_execute(&format!(
                    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '{}'; \
                     SET LOCAL enable_nestloop = off; SET LOCAL work_mem = '256MB'; \
                     SET LOCAL max_parallel_workers_per_gather = 0",
                    snapshot.replace('\'', "''")
                ))
                .await?;
            let stream = client.query_raw(&sql, params.sql()).await?;
            futures_util::pin_mut!(stream);
            let mut batch = Vec::with_capacity(READER_BATCH);
            while let Some(row) = futures_util::StreamExt::next(&mut stream).await {
                batch.push(parse(&row?)?);
                if batch.len() == READER_BATCH
                    && send.send(Ok(std::mem::replace(&mut batch, Vec::with_capacity(READER_BATCH)))).await.is_err()
                {
                    return Ok(());
                }
            }
            if !batch.is_empty() {
                let _ = send.send(Ok(batch)).await;
            }
            client.batch_execute("COMMIT").await?;
            Ok(())
        }
        .await;
        if let Err(e) = result {
            let _ = send.send(Err(e)).await;
        }
    });
    Source::Reader { rows, buffered: VecDeque::new(), fetching: Default::default() }
}
