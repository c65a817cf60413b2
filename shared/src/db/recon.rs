//! The database edge of reconciliation: contracted rates in, a scope's inputs out of the facts, a run's items
//! back in (replacing the previous run over the same scope, in one transaction).

use crate::error::Result;
use crate::reconcile::fees::{ChargedFee, ContractRate};
use crate::reconcile::receivables::{AdjustmentLine, InstallmentLine};
use crate::reconcile::sales::{AcquirerSale, MerchantSale};
use crate::reconcile::{self, Inputs, ReconItem, Scope, Settings, Totals};
use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;
use tokio_postgres::{Client, GenericClient, Transaction};

/// Statement file types by their role (code tables are data): sales files forecast installments and carry
/// the fees; payment files say what was paid; open-balance files repeat the forecast of what is still due.
const SALES_FILES: &[&str] = &["03", "EEVC", "EEVD"];
const FORECAST_FILES: &[&str] = &["03", "09"];
const PAYMENT_FILES: &[&str] = &["04"];
/// Acquirers whose receivables are summaries and their installments rather than sales (Rede: the RV, "resumo
/// de vendas"): forecast by the receivable units of their sales files, paid by those of their payment files.
const RV_FORECAST_FILES: &[&str] = &["EEVC", "EEVD"];
const RV_PAYMENT_FILES: &[&str] = &["EEFI"];

/// The joins every query over receivable units needs; `m` is the PV the summary belongs to (a credit names
/// the sale's PV besides the centralising one it was paid to).
const UNIT_JOINS: &str = "
    JOIN dim_establishment e ON e.establishment_key = u.establishment_key
    JOIN dim_acquirer a ON a.acquirer_key = e.acquirer_key
    JOIN dim_posting_type pt ON pt.posting_type_key = u.posting_type_key
    JOIN dim_payment_method pm ON pm.payment_method_key = u.payment_method_key
    LEFT JOIN dim_product p ON p.product_key = u.product_key
    CROSS JOIN LATERAL (SELECT coalesce(nullif(u.payment_merchant_code, ''), e.merchant_code) AS code) m";

/// How far around the scope payments are looked for (paid early, or late).
const PAYMENT_SEARCH_DAYS: i64 = 120;

/// An installment's identity at its acquirer: the unique sale code when there is one, else NSU,
/// authorization code and sale date.
const SALE_CODE: &str = "CASE WHEN t.unique_sale_code ~ '[1-9]' THEN t.unique_sale_code
     ELSE t.nsu || '/' || t.authorization_code || '/' || coalesce(t.authorization_date, t.capture_date)::text END";

/// The joins every query over card transactions needs.
const JOINS: &str = "
    JOIN dim_establishment e ON e.establishment_key = t.establishment_key
    JOIN dim_acquirer a ON a.acquirer_key = e.acquirer_key
    JOIN dim_posting_type pt ON pt.posting_type_key = t.posting_type_key
    JOIN dim_payment_method pm ON pm.payment_method_key = t.payment_method_key
    JOIN dim_product p ON p.product_key = t.product_key";

/// What an import did to the contracted rates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RatesImported {
    pub added: u64,
    /// Already there with another rate or end of validity: replaced.
    pub changed: u64,
    /// Already there as they are.
    pub unchanged: u64,
}

/// Replace (or add) contracted rates, in one transaction: a rate already there as it is stays untouched and
/// is counted unchanged (re-importing the same contract changes nothing, and says so).
pub async fn import_rates(db: &mut Client, rates: &[ContractRate], source_file: &str) -> Result<RatesImported> {
    let tx = db.transaction().await?;
    let mut done = RatesImported::default();
    for r in rates {
        let row = tx
            .query_opt(
                "INSERT INTO contract_rate (merchant_code, acquirer, brand, product, installments_from,
                     installments_to, rate_percent, valid_from, valid_to, source_file)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (merchant_code, acquirer, brand, product, installments_from, installments_to, valid_from)
                 DO UPDATE SET rate_percent = EXCLUDED.rate_percent, valid_to = EXCLUDED.valid_to,
                     source_file = EXCLUDED.source_file, imported_at = now()
                 WHERE (contract_rate.rate_percent, contract_rate.valid_to)
                       IS DISTINCT FROM (EXCLUDED.rate_percent, EXCLUDED.valid_to)
                 RETURNING xmax = 0",
                &[
                    &r.merchant_code,
                    &r.acquirer,
                    &r.brand,
                    &r.product,
                    &r.installments_from,
                    &r.installments_to,
                    &r.rate,
                    &r.valid_from,
                    &r.valid_to,
                    &source_file,
                ],
            )
            .await?;
        match row.map(|r| r.get::<_, bool>(0)) {
            Some(true) => done.added += 1,
            Some(false) => done.changed += 1,
            None => done.unchanged += 1,
        }
    }
    tx.commit().await?;
    Ok(done)
}

/// What rates can be written in: per acquirer (not the `merchant` pseudo-acquirer of the merchants' own
/// exports), its brands and catalogued products (code, name), their
/// aliases (`ref_alias`), the merchants loaded so far and the digits of a merchant's code.
pub async fn rate_vocabulary(db: &impl GenericClient) -> Result<reconcile::fees::RateVocabulary> {
    let mut vocabulary = reconcile::fees::RateVocabulary::default();
    for a in db
        .query(
            "SELECT acquirer_key, code, merchant_code_digits FROM dim_acquirer WHERE code <> 'merchant' ORDER BY code",
            &[],
        )
        .await?
    {
        let key: i16 = a.get(0);
        let pairs = |rows: Vec<tokio_postgres::Row>| -> Vec<(String, String)> {
            rows.iter().map(|r| (r.get(0), r.get(1))).collect()
        };
        let brands =
            pairs(db.query("SELECT code, name FROM ref_brand WHERE acquirer_key = $1 ORDER BY code", &[&key]).await?);
        let products = pairs(
            db.query(
                "SELECT code, name FROM dim_product WHERE acquirer_key = $1 AND catalogued ORDER BY code",
                &[&key],
            )
            .await?,
        );
        let aliases = db
            .query("SELECT kind, alias, code FROM ref_alias WHERE acquirer_key = $1 ORDER BY kind, alias", &[&key])
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        let merchants = db
            .query("SELECT merchant_code FROM dim_establishment WHERE acquirer_key = $1 ORDER BY 1", &[&key])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        vocabulary.acquirers.push(reconcile::fees::AcquirerVocabulary {
            code: a.get(1),
            merchant_code_digits: a.get::<_, Option<i16>>(2).map(|d| d as usize),
            brands,
            products,
            aliases,
            merchants,
        });
    }
    Ok(vocabulary)
}

/// The merchant codes loaded (the acquirers' establishments and the merchants' stores), the first `limit`
/// in order, with "and N more" when there are more.
pub async fn known_merchants(db: &impl GenericClient, limit: i64) -> Result<Vec<String>> {
    let rows = db
        .query(
            "SELECT merchant_code, count(*) OVER () FROM (SELECT DISTINCT merchant_code FROM dim_establishment) m
              ORDER BY 1 LIMIT $1",
            &[&limit],
        )
        .await?;
    let mut out: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    if let Some(total) = rows.first().map(|r| r.get::<_, i64>(1)) {
        if total > limit {
            out.push(format!("and {} more", total - limit));
        }
    }
    Ok(out)
}

/// The dates the loaded facts cover (sale, due and payment dates, merchant sales), for a default scope.
pub async fn covered_dates(db: &impl GenericClient, merchant: Option<&str>) -> Result<Option<(NaiveDate, NaiveDate)>> {
    let row = db
        .query_one(
            "SELECT min(d), max(d) FROM (
                SELECT coalesce(t.authorization_date, t.capture_date) AS d FROM fact_card_transaction t
                  JOIN dim_establishment e ON e.establishment_key = t.establishment_key
                 WHERE $1::text IS NULL OR e.merchant_code = $1
                UNION ALL
                SELECT u.payment_date FROM fact_receivable_unit u
                  JOIN dim_establishment e ON e.establishment_key = u.establishment_key
                 WHERE $1::text IS NULL OR e.merchant_code = $1
                UNION ALL
                SELECT s.sale_date FROM fact_merchant_sale s
                  JOIN dim_establishment e ON e.establishment_key = s.establishment_key
                 WHERE $1::text IS NULL OR e.merchant_code = $1) dates",
            &[&merchant],
        )
        .await?;
    Ok(row.get::<_, Option<NaiveDate>>(0).zip(row.get::<_, Option<NaiveDate>>(1)))
}

fn types(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// An installment line from a row of: merchant, acquirer, sale code, installment, NSU, authorization code,
/// brand, product, date, net, file id, line.
fn installment_line(r: &tokio_postgres::Row) -> InstallmentLine {
    InstallmentLine {
        merchant_code: r.get(0),
        acquirer: r.get(1),
        sale_code: r.get(2),
        installment: r.get(3),
        nsu: r.get(4),
        authorization_code: r.get(5),
        brand: r.get(6),
        product: r.get(7),
        date: r.get(8),
        net: r.get(9),
        source: (r.get(10), r.get(11)),
    }
}

/// An adjustment line from a row of: merchant, acquirer, category, posting name, date, net, original sale code,
/// installment, NSU, authorization code, brand, product, file id, line.
fn adjustment_line(r: &tokio_postgres::Row) -> Result<AdjustmentLine> {
    Ok(AdjustmentLine {
        merchant_code: r.get(0),
        acquirer: r.get(1),
        category: status(r.get(2))?,
        posting_name: r.get(3),
        date: r.get(4),
        net: r.get(5),
        original_sale_code: r.get(6),
        installment: r.get(7),
        nsu: r.get(8),
        authorization_code: r.get(9),
        brand: r.get(10),
        product: r.get(11),
        source: (r.get(12), r.get(13)),
    })
}

/// A stored status (or posting category) read back: an unknown name is an error, never a default.
fn status(name: &str) -> Result<reconcile::Status> {
    reconcile::Status::parse(name)
        .ok_or_else(|| crate::Error::Other(format!("unknown reconciliation status or posting category {name:?}")))
}

/// Read everything a run over `scope` needs.
pub async fn inputs(db: &impl GenericClient, scope: &Scope, settings: &Settings) -> Result<Inputs> {
    let merchant = scope.merchant.as_deref();
    let window = Duration::days(settings.sale_date_window_days.max(0));
    let mut inputs = Inputs::default();

    for r in db
        .query(
            "SELECT e.merchant_code, s.sale_id, s.sale_date, s.nsu, s.authorization_code, s.gross_amount,
                    greatest(s.installments, 1), s.brand, s.card_last_digits, s.payment_method, s.file_id, s.line_no
               FROM fact_merchant_sale s
               JOIN dim_establishment e ON e.establishment_key = s.establishment_key
              WHERE s.sale_date BETWEEN $1 AND $2 AND ($3::text IS NULL OR e.merchant_code = $3)",
            &[&scope.from, &scope.to, &merchant],
        )
        .await?
    {
        inputs.merchant_sales.push(MerchantSale {
            merchant_code: r.get(0),
            sale_id: r.get(1),
            date: r.get(2),
            nsu: r.get(3),
            authorization_code: r.get(4),
            gross: r.get(5),
            installments: r.get(6),
            brand: r.get(7),
            card_last_digits: r.get(8),
            payment_method: r.get(9),
            source: (r.get(10), r.get(11)),
        });
    }

    let sql = format!(
        "SELECT e.merchant_code, a.code, {SALE_CODE} AS sale_code,
                min(coalesce(t.authorization_date, t.capture_date)) AS sale_date,
                min(t.nsu), min(t.authorization_code),
                CASE WHEN max(t.sale_total_amount) > 0 THEN max(t.sale_total_amount) ELSE sum(t.gross_amount) END,
                max(greatest(t.installment_count, 1)), pm.brand_code, pm.brand_name, p.code, pm.settlement,
                min(t.card_last_digits),
                (array_agg(t.file_id ORDER BY t.file_id, t.line_no))[1],
                (array_agg(t.line_no ORDER BY t.file_id, t.line_no))[1]
           FROM fact_card_transaction t {JOINS}
          WHERE pt.is_sale AND t.file_type = ANY($1)
            AND coalesce(t.authorization_date, t.capture_date) BETWEEN $2 AND $3
            AND ($4::text IS NULL OR e.merchant_code = $4)
          GROUP BY e.merchant_code, a.code, sale_code, pm.brand_code, pm.brand_name, p.code, pm.settlement"
    );
    let (from, to) = (scope.from - window, scope.to + window);
    for r in db.query(&sql, &[&types(SALES_FILES), &from, &to, &merchant]).await? {
        inputs.acquirer_sales.push(AcquirerSale {
            merchant_code: r.get(0),
            acquirer: r.get(1),
            sale_code: r.get(2),
            date: r.get(3),
            nsu: r.get(4),
            authorization_code: r.get(5),
            gross: r.get(6),
            installments: r.get(7),
            brand: r.get(8),
            brand_name: r.get(9),
            product: r.get(10),
            settlement: match r.get::<_, &str>(11) {
                s @ ("credit" | "debit") => s.to_string(),
                _ => String::new(),
            },
            card_last_digits: r.get(12),
            source: (r.get(13), r.get(14)),
        });
    }

    // Installments: forecast (due in scope) and paid (around it). The UR gives the date.
    let installments = |roles: &[&str], from: NaiveDate, to: NaiveDate, stages: &[&str]| {
        let sql = format!(
            "SELECT e.merchant_code, a.code, {SALE_CODE}, t.installment, t.nsu, t.authorization_code,
                    pm.brand_code, p.code, u.payment_date, t.net_amount, t.file_id, t.line_no
               FROM fact_card_transaction t {JOINS}
               JOIN LATERAL (SELECT u.payment_date, u.payment_status_code FROM fact_receivable_unit u
                              WHERE u.file_id = t.file_id AND u.ur_key = t.ur_key
                              ORDER BY u.line_no LIMIT 1) u ON true
               LEFT JOIN ref_payment_status ps ON ps.acquirer_key = e.acquirer_key
                    AND ps.code_set = 'cielo-v15' AND ps.code = u.payment_status_code
              WHERE pt.is_sale AND t.file_type = ANY($1) AND t.net_amount IS NOT NULL
                AND u.payment_date BETWEEN $2 AND $3
                AND ($4::text IS NULL OR e.merchant_code = $4)
                AND (cardinality($5::text[]) = 0 OR ps.stage = ANY($5))"
        );
        let (roles, stages) = (types(roles), types(stages));
        async move {
            let rows = db.query(&sql, &[&roles, &from, &to, &merchant, &stages]).await?;
            Ok::<_, crate::Error>(rows.iter().map(installment_line).collect::<Vec<_>>())
        }
    };
    inputs.expected = installments(FORECAST_FILES, scope.from, scope.to, &[]).await?;
    let search = Duration::days(PAYMENT_SEARCH_DAYS);
    inputs.paid = installments(PAYMENT_FILES, scope.from - search, scope.to + search, &["paid", "sent"]).await?;

    // Summaries (Rede): the RV paid at once or each of its installments, keyed PV-RV and installment. An
    // anticipation pays the installment at the credit it brought forward; its cost is listed below.
    let summaries = |roles: &[&str], from: NaiveDate, to: NaiveDate, net: &'static str| {
        let sql = format!(
            "SELECT m.code, a.code, m.code || '-' || u.summary_number, greatest(u.installment, 1), '', '',
                    pm.brand_code, coalesce(p.code, ''), u.payment_date, {net}, u.file_id, u.line_no
               FROM fact_receivable_unit u {UNIT_JOINS}
              WHERE (pt.is_sale OR pt.category = 'anticipation') AND u.file_type = ANY($1)
                AND u.payment_date BETWEEN $2 AND $3 AND ($4::text IS NULL OR m.code = $4)"
        );
        let roles = types(roles);
        async move {
            let rows = db.query(&sql, &[&roles, &from, &to, &merchant]).await?;
            Ok::<_, crate::Error>(rows.iter().map(installment_line).collect::<Vec<_>>())
        }
    };
    inputs.expected.extend(summaries(RV_FORECAST_FILES, scope.from, scope.to, "u.net_amount").await?);
    let scheduled = "CASE WHEN pt.category = 'anticipation' THEN u.gross_amount ELSE u.net_amount END";
    inputs.paid.extend(summaries(RV_PAYMENT_FILES, scope.from - search, scope.to + search, scheduled).await?);
    let sql = format!(
        "SELECT m.code, a.code, pt.category, pt.name, u.payment_date, u.fee_amount, m.code || '-' || u.summary_number,
                greatest(u.installment, 1), '', '', pm.brand_code, coalesce(p.code, ''), u.file_id, u.line_no
           FROM fact_receivable_unit u {UNIT_JOINS}
          WHERE pt.category = 'anticipation' AND u.file_type = ANY($1) AND u.fee_amount <> 0
            AND u.payment_date BETWEEN $2 AND $3 AND ($4::text IS NULL OR m.code = $4)"
    );
    let rows = db.query(&sql, &[&types(RV_PAYMENT_FILES), &scope.from, &scope.to, &merchant]).await?;
    inputs.adjustments.extend(rows.iter().map(adjustment_line).collect::<Result<Vec<_>>>()?);

    let sql = format!(
        "SELECT e.merchant_code, a.code, pt.category, pt.name, u.payment_date, t.net_amount,
                t.original_sale_code, t.installment, t.nsu, t.authorization_code, pm.brand_code, p.code,
                t.file_id, t.line_no
           FROM fact_card_transaction t {JOINS}
           JOIN LATERAL (SELECT u.payment_date FROM fact_receivable_unit u
                          WHERE u.file_id = t.file_id AND u.ur_key = t.ur_key
                          ORDER BY u.line_no LIMIT 1) u ON true
          WHERE NOT pt.is_sale AND t.file_type = ANY($1) AND t.net_amount IS NOT NULL
            AND u.payment_date BETWEEN $2 AND $3 AND ($4::text IS NULL OR e.merchant_code = $4)"
    );
    let rows = db.query(&sql, &[&types(PAYMENT_FILES), &scope.from, &scope.to, &merchant]).await?;
    inputs.adjustments.extend(rows.iter().map(adjustment_line).collect::<Result<Vec<_>>>()?);

    let sql = format!(
        "SELECT e.merchant_code, a.code, pm.brand_code, p.code, greatest(t.installment_count, 1), t.installment,
                coalesce(t.authorization_date, t.capture_date), {SALE_CODE}, t.nsu, t.authorization_code,
                t.gross_amount, abs(t.fee_amount), t.file_id, t.line_no
           FROM fact_card_transaction t {JOINS}
          WHERE pt.is_sale AND t.file_type = ANY($1) AND t.fee_amount IS NOT NULL
            AND coalesce(t.authorization_date, t.capture_date) BETWEEN $2 AND $3
            AND ($4::text IS NULL OR e.merchant_code = $4)"
    );
    for r in db.query(&sql, &[&types(SALES_FILES), &scope.from, &scope.to, &merchant]).await? {
        inputs.charged.push(ChargedFee {
            merchant_code: r.get(0),
            acquirer: r.get(1),
            brand: r.get(2),
            product: r.get(3),
            installments: r.get(4),
            installment: r.get(5),
            date: r.get(6),
            sale_code: r.get(7),
            nsu: r.get(8),
            authorization_code: r.get(9),
            gross: r.get(10),
            fee: r.get(11),
            source: (r.get(12), r.get(13)),
        });
    }

    for r in db
        .query(
            "SELECT merchant_code, acquirer, brand, product, installments_from, installments_to, rate_percent,
                    valid_from, valid_to
               FROM contract_rate WHERE $1::text IS NULL OR merchant_code = $1
              ORDER BY contract_rate_id",
            &[&merchant],
        )
        .await?
    {
        inputs.rates.push(ContractRate {
            merchant_code: r.get(0),
            acquirer: r.get(1),
            brand: r.get(2),
            product: r.get(3),
            installments_from: r.get(4),
            installments_to: r.get(5),
            rate: r.get::<_, Decimal>(6).normalize(),
            valid_from: r.get(7),
            valid_to: r.get(8),
        });
    }
    Ok(inputs)
}

/// What a run came to.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub run_id: i64,
    pub scope: Scope,
    pub settings: Settings,
    pub totals: Totals,
    pub seconds: f64,
}

/// The anomalies kept with the loaded statements of a scope (the merchant's, or all), over the files whose
/// period meets the scope's.
pub async fn anomaly_count(db: &impl GenericClient, scope: &Scope) -> Result<crate::reconcile::report::AnomalyCount> {
    let row = db
        .query_one(
            "SELECT coalesce(sum(anomaly_count), 0)::bigint, count(*) FILTER (WHERE anomaly_count > 0)
               FROM statement_file
              WHERE status = 'loaded' AND period_start <= $2 AND period_end >= $1
                AND ($3::text IS NULL OR merchant_code = $3)",
            &[&scope.from, &scope.to, &scope.merchant],
        )
        .await?;
    Ok(crate::reconcile::report::AnomalyCount {
        anomalies: row.get::<_, i64>(0) as u64,
        files: row.get::<_, i64>(1) as u64,
    })
}

/// Reconcile a scope and keep the result: the previous run over the same scope is replaced, in the same
/// transaction (readers see the old run or the new one, never half of either). The inputs are read from one
/// snapshot of the facts.
pub async fn run(db: &mut Client, scope: &Scope, settings: &Settings) -> Result<RunReport> {
    let started = std::time::Instant::now();
    refresh_statistics(db).await?;
    // One reconciliation of a scope at a time (two `run`s finishing together both reconcile what they
    // loaded): the later one waits, then reads inputs that include the other's loads and replaces its result.
    // Every input is read from one snapshot (REPEATABLE READ): a file loaded while the reconciliation reads
    // is in none of its areas, never in some (once, 67 089 fee items of a file were stored beside none of
    // its sales). The snapshot is taken by the first statement, so the turn is taken without waiting inside
    // it: when another reconciliation of the scope holds the lock, wait for it outside, then start afresh.
    let key = format!("recon:{}:{}:{}", scope.from, scope.to, scope.merchant.as_deref().unwrap_or("*"));
    let tx = loop {
        let tx = db.build_transaction().isolation_level(tokio_postgres::IsolationLevel::RepeatableRead).start().await?;
        let ours: bool = tx.query_one("SELECT pg_try_advisory_xact_lock(hashtext($1))", &[&key]).await?.get(0);
        if ours {
            break tx;
        }
        tx.rollback().await?;
        let wait = db.transaction().await?;
        wait.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&key]).await?;
        wait.commit().await?;
    };
    let inputs = inputs(&tx, scope, settings).await?;
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "reconciliation inputs read");
    let items = reconcile::run(scope, &inputs, settings);
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), items = items.len(), "reconciled in memory");
    let totals = reconcile::totals(&items);
    let run_id = save(&tx, scope, settings, &items, &totals).await?;
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "items saved");
    tx.commit().await?;
    tracing::info!(run_id, items = totals.items, open = totals.open, "reconciled");
    Ok(RunReport {
        run_id,
        scope: scope.clone(),
        settings: settings.clone(),
        totals,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The tables reconciliation reads in bulk.
const RECONCILED_TABLES: [&str; 4] =
    ["fact_card_transaction_all", "fact_receivable_unit_all", "fact_merchant_sale", "contract_rate"];

/// Bring the planner's statistics up to date on the tables reconciliation reads when loads changed more than
/// a tenth of them since they were last analyzed: a reconciliation right after a load would otherwise be
/// planned on no statistics at all (autovacuum analyzes a minute or more later) — estimates of one row where
/// there are a hundred thousand, nested loops, inputs read 2.8× slower (measured). Sampled, so it costs a
/// fraction of a second whatever the size. Only the tables' owner may analyze them: for another user (the
/// Lambdas' runtime user) the server skips them with a warning and autovacuum does it later.
async fn refresh_statistics(db: &Client) -> Result<()> {
    let stale: Vec<String> = db
        .query(
            "SELECT relname::text FROM pg_stat_user_tables
              WHERE relname = ANY($1) AND n_mod_since_analyze > greatest(1000, n_live_tup / 10)
                AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = relid), 'USAGE')
              ORDER BY 1",
            &[&RECONCILED_TABLES.to_vec()],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if !stale.is_empty() {
        let t = std::time::Instant::now();
        // Table names come from RECONCILED_TABLES, never from input.
        db.batch_execute(&format!("ANALYZE {}", stale.join(", "))).await?;
        tracing::debug!(tables = ?stale, seconds = t.elapsed().as_secs_f64(), "planner statistics refreshed");
    }
    Ok(())
}

/// Store a run, replacing the previous one over the same scope, inside the caller's transaction.
async fn save(
    tx: &Transaction<'_>,
    scope: &Scope,
    settings: &Settings,
    items: &[ReconItem],
    totals: &Totals,
) -> Result<i64> {
    tx.execute(
        "DELETE FROM recon_run WHERE date_from = $1 AND date_to = $2 AND coalesce(merchant_code, '') = coalesce($3, '')",
        &[&scope.from, &scope.to, &scope.merchant],
    )
    .await?;
    let settings_json = serde_json::to_value(settings).map_err(|e| crate::Error::Other(e.to_string()))?;
    let totals_json = serde_json::to_value(totals).map_err(|e| crate::Error::Other(e.to_string()))?;
    let run_id: i64 = tx
        .query_one(
            "INSERT INTO recon_run (date_from, date_to, merchant_code, as_of, settings, totals)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING run_id",
            &[&scope.from, &scope.to, &scope.merchant, &settings.as_of, &settings_json, &totals_json],
        )
        .await?
        .get(0);
    // One binary COPY of every item (streamed: the writer sends as it goes).
    const COLUMNS: &str = "run_id, item_no, area, status, is_open, merchant_code, acquirer, ref_date, sale_code, nsu,
         authorization_code, installment, brand, product, expected, actual, difference, at_stake, days_late, fields,
         reason, expected_file_id, expected_line_no, actual_file_id, actual_line_no";
    let types: Vec<tokio_postgres::types::Type> = tx
        .prepare(&format!("SELECT {COLUMNS} FROM recon_item LIMIT 0"))
        .await?
        .columns()
        .iter()
        .map(|c| c.type_().clone())
        .collect();
    let sink = tx.copy_in(&format!("COPY recon_item ({COLUMNS}) FROM STDIN (FORMAT binary)")).await?;
    let writer = tokio_postgres::binary_copy::BinaryCopyInWriter::new(sink, &types);
    futures_util::pin_mut!(writer);
    for (n, i) in items.iter().enumerate() {
        let item_no = n as i32 + 1;
        let (area, status, open, at_stake) = (i.area.as_str(), i.status.as_str(), i.is_open(), i.at_stake());
        let (e_file, e_line) = (i.expected_ref.map(|r| r.0), i.expected_ref.map(|r| r.1));
        let (a_file, a_line) = (i.actual_ref.map(|r| r.0), i.actual_ref.map(|r| r.1));
        writer
            .as_mut()
            .write(&[
                &run_id,
                &item_no,
                &area,
                &status,
                &open,
                &i.merchant_code,
                &i.acquirer,
                &i.ref_date,
                &i.sale_code,
                &i.nsu,
                &i.authorization_code,
                &i.installment,
                &i.brand,
                &i.product,
                &i.expected,
                &i.actual,
                &i.difference,
                &at_stake,
                &i.days_late,
                &i.fields,
                &i.reason,
                &e_file,
                &e_line,
                &a_file,
                &a_line,
            ])
            .await?;
    }
    writer.finish().await?;
    tx.execute("UPDATE recon_run SET finished_at = now() WHERE run_id = $1", &[&run_id]).await?;
    Ok(run_id)
}

/// The last day payments are known for: the latest period end of a loaded payment statement (of the merchant).
pub async fn payments_known_until(db: &impl GenericClient, merchant: Option<&str>) -> Result<Option<NaiveDate>> {
    let row = db
        .query_one(
            "SELECT max(period_end) FROM statement_file
              WHERE status = 'loaded' AND file_type = ANY($1) AND ($2::text IS NULL OR merchant_code = $2)",
            &[&types(&[PAYMENT_FILES, RV_PAYMENT_FILES].concat()), &merchant],
        )
        .await?;
    Ok(row.get(0))
}

/// The day a run looks from when none is given: today, or the end of the last payment statement loaded if
/// that is earlier — an installment due after it is not known to be unpaid, only not yet reported.
pub async fn default_as_of(db: &impl GenericClient, merchant: Option<&str>, today: NaiveDate) -> Result<NaiveDate> {
    Ok(payments_known_until(db, merchant).await?.map_or(today, |known| known.min(today)))
}

/// The scopes some loaded files touched: one per merchant, from the earliest to the latest day their
/// periods cover (acquirer statements; a merchant's own sales file names no single merchant).
pub async fn touched_scopes(db: &impl GenericClient, file_ids: &[i64]) -> Result<Vec<Scope>> {
    let rows = db
        .query(
            "SELECT merchant_code, min(least(period_start, processing_date)), max(greatest(period_end, processing_date))
               FROM statement_file
              WHERE file_id = ANY($1) AND status IN ('loaded', 'superseded', 'withdrawn')
                AND merchant_code IS NOT NULL AND merchant_code <> ''
                AND coalesce(period_start, processing_date) IS NOT NULL
              GROUP BY merchant_code ORDER BY merchant_code",
            &[&file_ids],
        )
        .await?;
    Ok(rows.iter().map(|r| Scope { merchant: Some(r.get(0)), from: r.get(1), to: r.get(2) }).collect())
}

/// Reconcile what some loaded files touched (see [`touched_scopes`]), each scope as of
/// [`default_as_of`]. Returns one report per scope.
pub async fn reconcile_touched(db: &mut Client, file_ids: &[i64], today: NaiveDate) -> Result<Vec<RunReport>> {
    let mut reports = Vec::new();
    for scope in touched_scopes(&*db, file_ids).await? {
        let as_of = default_as_of(&*db, scope.merchant.as_deref(), today).await?;
        reports.push(run(db, &scope, &Settings::new(as_of)).await?);
    }
    Ok(reports)
}

/// Drain the reconciliation outbox (`recon_pending`, queued by every load in its own transaction): reconcile
/// the scopes its files touched, then take exactly those files off the queue. Idempotent and safe to run
/// concurrently (a run over a scope replaces the previous one; runs of a scope take turns); a failure leaves
/// the files queued for the next drain. Returns one report per scope.
pub async fn reconcile_pending(db: &mut Client, today: NaiveDate) -> Result<Vec<RunReport>> {
    let ids: Vec<i64> =
        db.query("SELECT file_id FROM recon_pending ORDER BY file_id", &[]).await?.iter().map(|r| r.get(0)).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let reports = reconcile_touched(db, &ids, today).await?;
    db.execute("DELETE FROM recon_pending WHERE file_id = ANY($1)", &[&ids]).await?;
    tracing::info!(files = ids.len(), scopes = reports.len(), "pending reconciliation drained");
    Ok(reports)
}

/// Files loaded and not reconciled since.
pub async fn pending_count(db: &impl GenericClient) -> Result<i64> {
    Ok(db.query_one("SELECT count(*) FROM recon_pending", &[]).await?.get(0))
}

/// The stored run over exactly this scope, if any: (run id, settings, totals).
pub async fn find_run(db: &impl GenericClient, scope: &Scope) -> Result<Option<(i64, Settings, Totals)>> {
    let row = db
        .query_opt(
            "SELECT run_id, settings, totals FROM recon_run
              WHERE date_from = $1 AND date_to = $2 AND coalesce(merchant_code, '') = coalesce($3, '')
                AND finished_at IS NOT NULL",
            &[&scope.from, &scope.to, &scope.merchant],
        )
        .await?;
    let Some(r) = row else { return Ok(None) };
    let bad = |e: serde_json::Error| crate::Error::Other(format!("recon_run {}: {e}", r.get::<_, i64>(0)));
    let settings: Settings = serde_json::from_value(r.get(1)).map_err(bad)?;
    let totals: Totals = serde_json::from_value(r.get(2)).map_err(bad)?;
    Ok(Some((r.get(0), settings, totals)))
}

/// The items of a run, in order.
pub async fn items(db: &impl GenericClient, run_id: i64) -> Result<Vec<ReconItem>> {
    let rows = db
        .query(
            "SELECT area, status, merchant_code, acquirer, ref_date, sale_code, nsu, authorization_code, installment,
                    brand, product, expected, actual, difference, days_late, fields, reason,
                    expected_file_id, expected_line_no, actual_file_id, actual_line_no
               FROM recon_item WHERE run_id = $1 ORDER BY item_no",
            &[&run_id],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let status = status(r.get(1))?;
            let area = r.get::<_, &str>(0);
            if area != status.area().as_str() {
                return Err(crate::Error::Other(format!("a {status} item in area {area:?}")));
            }
            Ok(ReconItem {
                area: status.area(),
                status,
                merchant_code: r.get(2),
                acquirer: r.get(3),
                ref_date: r.get(4),
                sale_code: r.get(5),
                nsu: r.get(6),
                authorization_code: r.get(7),
                installment: r.get(8),
                brand: r.get(9),
                product: r.get(10),
                expected: r.get(11),
                actual: r.get(12),
                difference: r.get(13),
                days_late: r.get(14),
                fields: r.get(15),
                reason: r.get(16),
                expected_ref: r.get::<_, Option<i64>>(17).zip(r.get::<_, Option<i64>>(18)),
                actual_ref: r.get::<_, Option<i64>>(19).zip(r.get::<_, Option<i64>>(20)),
            })
        })
        .collect()
}
