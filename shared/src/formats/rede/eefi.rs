//! EEFI — Rede financial statement ("extrato financeiro"): what was credited to the merchant's account.
//! Positional, variable-length lines. Positions from Rede's EEFI manual v3.01 (1-based, inclusive), checked on
//! real lines.

use super::{money, positional_header, require_width, Declared, Parser};
use crate::formats::field::{Field, FieldReader};
use crate::formats::ParseContext;
use crate::model::{CardTransaction, ReceivableUnit, Record};
use rust_decimal::Decimal;

const fn f(name: &'static str, start: usize, len: usize) -> Field {
    Field::new(name, start, len)
}

/// 030: header do arquivo.
mod header {
    use super::*;
    pub const DATE: Field = f("processing_date", 4, 8);
    pub const SEQUENCE: Field = f("sequence", 76, 6);
    pub const GROUP_PV: Field = f("merchant_code", 82, 9);
}

/// 034: crédito ("ordem de crédito"): one credit of an RV (or of one of its installments) to an account.
mod credit {
    use super::*;
    pub const PV: Field = f("merchant_code", 4, 9);
    pub const DOCUMENT: Field = f("credit_document", 13, 11);
    pub const POSTING_DATE: Field = f("payment_date", 24, 8);
    pub const AMOUNT: Field = money("net_amount", 32);
    pub const CREDIT_FLAG: Field = f("credit_flag", 47, 1);
    pub const BANK: Field = f("bank_code", 48, 3);
    pub const BRANCH: Field = f("branch_code", 51, 6);
    pub const ACCOUNT: Field = f("account_number", 57, 11);
    pub const MOVEMENT_DATE: Field = f("sent_to_bank_date", 68, 8);
    pub const RV: Field = f("summary_number", 76, 9);
    pub const RV_DATE: Field = f("presentation_date", 85, 8);
    pub const BRAND: Field = f("brand_code", 93, 1);
    pub const TRANSACTION_TYPE: Field = f("transaction_type", 94, 1);
    pub const RV_GROSS: Field = money("rv_gross_amount", 95);
    pub const RV_DISCOUNT: Field = money("rv_discount_amount", 110);
    pub const INSTALLMENT: Field = f("installment", 125, 2);
    pub const INSTALLMENT_SLASH: Field = f("installment", 127, 1);
    pub const PLAN: Field = f("installment_plan", 128, 2);
    pub const STATUS: Field = f("payment_status_code", 130, 2);
    pub const ORIGINAL_PV: Field = f("payment_merchant_code", 132, 9);
    pub const WIDTH: usize = 140;
}

/// 036: antecipação (RAV — "recebimento antecipado de vendas"): an installment credit paid before its due
/// date, less the anticipation cost. The same leading fields as 034; then the credit as originally scheduled.
/// Positions checked on a real line (../shared/fixtures #7): its dates, "C", "01/06" and amounts fall in place,
/// and the real trailer's anticipated count and total (columns 42 and 48) read as 381 credits of 1 708 672.58.
mod anticipation {
    pub use super::credit::{ACCOUNT, AMOUNT, BANK, BRANCH, CREDIT_FLAG, DOCUMENT, POSTING_DATE, PV};
    use super::*;
    pub const RV: Field = f("summary_number", 68, 9);
    pub const RV_DATE: Field = f("presentation_date", 77, 8);
    pub const ORIGINAL_AMOUNT: Field = money("gross_amount", 85);
    pub const ORIGINAL_DUE_DATE: Field = f("original_due_date", 100, 8);
    pub const INSTALLMENT: Field = f("installment", 108, 2);
    pub const INSTALLMENT_SLASH: Field = f("installment", 110, 1);
    pub const PLAN: Field = f("installment_plan", 111, 2);
    pub const RV_GROSS: Field = money("rv_gross_amount", 113);
    pub const RV_DISCOUNT: Field = money("rv_discount_amount", 128);
    pub const ORIGINAL_PV: Field = f("payment_merchant_code", 143, 9);
    pub const BRAND: Field = f("brand_code", 152, 1);
    pub const WIDTH: usize = 152;
}

/// 040 Serasa, 041 AVS, 042 SecureCode: a service's queries over a period and what they cost.
mod service {
    use super::*;
    pub const PV: Field = f("merchant_code", 4, 9);
    pub const QUERIES: Field = f("query_count", 13, 5);
    pub const TOTAL: Field = money("charged_amount", 18);
    pub const FROM: Field = f("period_start", 33, 8);
    pub const TO: Field = f("period_end", 41, 8);
    pub const UNIT_PRICE: Field = money("price_per_query", 49);
    pub const WIDTH: usize = 63;
}

/// 035: ajuste Net or desagendamento: a debit (or credit) on the merchant's receivables, most often for a
/// cancelled sale, pointing at the sale (original PV, RV, NSU) and at the RV it adjusts.
mod adjustment {
    use super::*;
    pub const PV: Field = f("merchant_code", 4, 9);
    pub const RV: Field = f("summary_number", 13, 9);
    pub const DATE: Field = f("posting_date", 22, 8);
    pub const AMOUNT: Field = money("gross_amount", 30);
    pub const DEBIT_CREDIT: Field = f("debit_credit", 45, 1);
    pub const REASON_CODE: Field = f("adjustment_code", 46, 2);
    pub const REASON: Field = f("adjustment_reason", 48, 28);
    pub const CARD: Field = f("card_number", 76, 16);
    pub const SALE_DATE: Field = f("authorization_date", 92, 8);
    pub const ORIGINAL_RV: Field = f("original_summary_number", 100, 9);
    pub const ORIGINAL_PV: Field = f("original_merchant_code", 138, 9);
    pub const ORIGINAL_RV_DATE: Field = f("original_posting_date", 147, 8);
    pub const SALE_AMOUNT: Field = money("sale_total_amount", 155);
    pub const KIND: Field = f("indicators", 170, 1);
    pub const CREDIT_DATE: Field = f("original_due_date", 171, 8);
    pub const NSU: Field = f("nsu", 239, 12);
    pub const AUTHORIZATION: Field = f("authorization_code", 251, 6);
    pub const DEBIT_TYPE: Field = f("transaction_type", 257, 1);
    pub const DEBIT_ORDER: Field = f("processed_transaction_code", 258, 11);
    pub const BRAND: Field = f("brand_code", 300, 1);
    /// Since 27/08/2023 the reason is a 4-digit code appended here (the 2-digit field is zero-filled).
    pub const REASON_CODE_4: Field = f("adjustment_code", 313, 4);
    pub const WIDTH: usize = 300;
}

/// 043: ajuste a crédito: money credited to the merchant outside the sales (refund of an overcharge…).
mod credit_adjustment {
    use super::*;
    pub const PV: Field = f("merchant_code", 4, 9);
    pub const SUMMARY: Field = f("summary_number", 13, 9);
    pub const DOCUMENT: Field = f("processed_transaction_code", 22, 11);
    pub const ISSUE_DATE: Field = f("posting_date", 33, 8);
    pub const CREDIT_DATE: Field = f("original_due_date", 41, 8);
    pub const AMOUNT: Field = money("gross_amount", 49);
    pub const CREDIT_FLAG: Field = f("credit_flag", 64, 1);
    pub const BANK: Field = f("bank_code", 65, 3);
    pub const BRANCH: Field = f("branch_code", 68, 6);
    pub const ACCOUNT: Field = f("account_number", 74, 11);
    pub const REASON_CODE: Field = f("adjustment_code", 85, 2);
    pub const REASON: Field = f("adjustment_reason", 87, 28);
    pub const BRAND: Field = f("brand_code", 115, 1);
    /// Since 27/08/2023 the reason is a 4-digit code appended here.
    pub const REASON_CODE_4: Field = f("adjustment_code", 116, 4);
    pub const WIDTH: usize = 114;
}

/// 045: débito liquidado: a debit order (cancellation, chargeback…) settled against the merchant's credits.
mod settled_debit {
    use super::*;
    pub const PV: Field = f("merchant_code", 4, 9);
    pub const ORDER: Field = f("processed_transaction_code", 13, 11);
    pub const ORDER_DATE: Field = f("posting_date", 24, 8);
    pub const AMOUNT: Field = money("gross_amount", 32);
    pub const REASON_CODE: Field = f("adjustment_code", 47, 2);
    pub const REASON: Field = f("adjustment_reason", 49, 28);
    pub const CARD: Field = f("card_number", 77, 16);
    pub const NSU: Field = f("nsu", 93, 12);
    pub const SALE_DATE: Field = f("authorization_date", 105, 8);
    pub const AUTHORIZATION: Field = f("authorization_code", 113, 6);
    pub const SALE_AMOUNT: Field = money("sale_total_amount", 119);
    pub const ORIGINAL_RV: Field = f("original_summary_number", 134, 9);
    pub const ORIGINAL_RV_DATE: Field = f("original_posting_date", 143, 8);
    pub const ORIGINAL_PV: Field = f("original_merchant_code", 151, 9);
    pub const NET: Field = money("net_amount", 204);
    pub const SETTLED_DATE: Field = f("original_due_date", 219, 8);
    pub const BRAND: Field = f("brand_code", 272, 1);
    /// Since 27/08/2023 the reason is a 4-digit code appended here.
    pub const REASON_CODE_4: Field = f("adjustment_code", 273, 4);
    pub const WIDTH: usize = 272;
}

/// 044: débito pendente: a debit order not (fully) settled yet — what was ordered, what was compensated so far,
/// what is still pending. The same fields as 045 up to the sale's data.
mod pending_debit {
    pub use super::settled_debit::{
        AMOUNT, AUTHORIZATION, CARD, NSU, ORDER, ORDER_DATE, ORIGINAL_PV, ORIGINAL_RV, ORIGINAL_RV_DATE, PV, REASON,
        REASON_CODE, SALE_AMOUNT, SALE_DATE,
    };
    use super::*;
    pub const COMPENSATED: Field = money("net_amount", 204);
    pub const PAYMENT_DATE: Field = f("original_due_date", 219, 8);
    pub const PENDING: Field = money("pending_amount", 227);
    pub const BRAND: Field = f("brand_code", 287, 1);
    /// Since 27/08/2023 the reason is a 4-digit code appended here.
    pub const REASON_CODE_4: Field = f("adjustment_code", 288, 4);
    pub const WIDTH: usize = 287;
}

/// 049: desagendamento de parcela: a future installment credit reduced (a cancelled sale), with the new and
/// the original installment value.
mod unscheduled_installment {
    use super::*;
    pub const PV: Field = f("merchant_code", 4, 9);
    pub const RV: Field = f("summary_number", 13, 9);
    pub const REFERENCE: Field = f("processed_transaction_code", 22, 15);
    pub const CREDIT_DATE: Field = f("original_due_date", 37, 8);
    pub const NEW_VALUE: Field = money("new_installment_amount", 45);
    pub const ORIGINAL_VALUE: Field = money("original_installment_amount", 60);
    pub const AMOUNT: Field = money("gross_amount", 75);
    pub const CANCEL_DATE: Field = f("posting_date", 90, 8);
    pub const RV_AMOUNT: Field = money("rv_gross_amount", 98);
    pub const CANCELLED: Field = money("sale_total_amount", 113);
    pub const CARD: Field = f("card_number", 128, 16);
    pub const SALE_DATE: Field = f("authorization_date", 144, 8);
    pub const NSU: Field = f("nsu", 152, 12);
    pub const DEBIT_TYPE: Field = f("transaction_type", 164, 1);
    pub const INSTALLMENT: Field = f("installment", 165, 2);
    pub const BRAND: Field = f("brand_code", 167, 1);
    pub const WIDTH: usize = 167;
}

/// 052: trailer do arquivo.
mod trailer {
    use super::*;
    pub const RECORDS: Field = f("total_records", 8, 6);
    pub const CREDITS: Field = money("credit_total", 27);
    pub const ANTICIPATED_COUNT: Field = f("anticipated_count", 42, 6);
    pub const ANTICIPATED: Field = money("anticipated_total", 48);
    pub const CREDIT_ADJUSTMENT_COUNT: Field = f("credit_adjustment_count", 63, 4);
    pub const CREDIT_ADJUSTMENTS: Field = money("credit_adjustment_total", 67);
    pub const DEBIT_ADJUSTMENT_COUNT: Field = f("debit_adjustment_count", 82, 4);
    pub const DEBIT_ADJUSTMENTS: Field = money("debit_adjustment_total", 86);
    pub const WIDTH: usize = 100;
}

pub(super) fn trailer_column(field: &str) -> usize {
    use trailer::*;
    [
        RECORDS,
        CREDITS,
        ANTICIPATED,
        CREDIT_ADJUSTMENTS,
        DEBIT_ADJUSTMENTS,
        CREDIT_ADJUSTMENT_COUNT,
        DEBIT_ADJUSTMENT_COUNT,
    ]
    .iter()
    .find(|f| f.name == field)
    .map_or(1, |f| f.start)
}

pub(super) fn line(p: &mut Parser, code: &str, line_no: u64, line: &[u8], cx: &mut ParseContext<'_>) {
    let mut r = FieldReader::new(line);
    match code {
        "030" => {
            if !require_width(line, header::GROUP_PV.end(), code, line_no, cx) {
                p.header(None, cx);
                return;
            }
            let h = positional_header(
                super::FileKind::Eefi,
                &p.layout_version,
                &mut r,
                header::DATE,
                header::SEQUENCE,
                header::GROUP_PV,
            );
            cx.field_errors(line_no, "header", std::mem::take(&mut r.errors));
            p.header(h, cx);
        }
        "034" => {
            use credit::*;
            if !require_width(line, WIDTH, code, line_no, cx) {
                return;
            }
            r.expect_literal(CREDIT_FLAG, "C");
            r.expect_literal(INSTALLMENT_SLASH, "/");
            let net = r.unsigned_decimal(AMOUNT, 2);
            let rv_gross = r.unsigned_decimal(RV_GROSS, 2);
            let rv_discount = r.unsigned_decimal(RV_DISCOUNT, 2);
            let installment = r.number(INSTALLMENT) as u32;
            let plan = r.digits(PLAN);
            // A credit of a whole RV (parcela 01/01) carries its gross and discount; a credit of one installment
            // of several carries only what was credited (the installment's gross is in the EEVC 014 record).
            let whole = plan == "01" || plan == "00";
            let (gross, fee) = if whole { (rv_gross, -rv_discount) } else { (net, Decimal::ZERO) };
            if whole && r.errors.is_empty() && gross + fee != net {
                cx.issue(
                    line_no,
                    Some(AMOUNT.start),
                    "034.net_amount",
                    format!("credit {net} is not the RV's gross {rv_gross} less its discount {rv_discount}"),
                );
            }
            let merchant_code = r.digits(PV);
            let rv = r.digits(RV);
            p.sums.credit_total += net;
            let unit = ReceivableUnit {
                line_no,
                ur_key: format!("{merchant_code}-{rv}"),
                summary_number: rv,
                payment_merchant_code: r.digits(ORIGINAL_PV),
                merchant_code,
                credit_document: r.text(DOCUMENT),
                payment_date: r.date_dmy(POSTING_DATE),
                sent_to_bank_date: r.date_dmy(MOVEMENT_DATE),
                presentation_date: r.date_dmy(RV_DATE),
                net_amount: net,
                gross_amount: gross,
                fee_amount: fee,
                bank_code: r.text(BANK),
                branch_code: r.text(BRANCH),
                account_number: r.text(ACCOUNT),
                brand_code: r.text(BRAND),
                settlement_type_code: "000".into(),
                transaction_type: r.text(TRANSACTION_TYPE),
                installment,
                installment_plan: plan,
                payment_status_code: r.text(STATUS),
                posting_type_code: code.into(),
                ..Default::default()
            };
            cx.accept(line_no, code, std::mem::take(&mut r.errors), Record::ReceivableUnit(Box::new(unit)));
        }
        "036" => {
            use anticipation::*;
            if !require_width(line, WIDTH, code, line_no, cx) {
                return;
            }
            r.expect_literal(CREDIT_FLAG, "C");
            r.expect_literal(INSTALLMENT_SLASH, "/");
            let net = r.unsigned_decimal(AMOUNT, 2);
            let original = r.unsigned_decimal(ORIGINAL_AMOUNT, 2);
            let _rv_figures = (r.unsigned_decimal(RV_GROSS, 2), r.unsigned_decimal(RV_DISCOUNT, 2));
            if r.errors.is_empty() && net > original {
                cx.issue(
                    line_no,
                    Some(AMOUNT.start),
                    "036.net_amount",
                    format!("anticipated credit {net} is more than the credit it anticipates ({original})"),
                );
            }
            let merchant_code = r.digits(PV);
            let rv = r.digits(RV);
            p.sums.anticipated.0 += 1;
            p.sums.anticipated.1 += net;
            // The installment as scheduled is the gross; what anticipating it cost is the fee: net = gross + fee.
            let unit = ReceivableUnit {
                line_no,
                ur_key: format!("{merchant_code}-{rv}"),
                summary_number: rv,
                payment_merchant_code: r.digits(ORIGINAL_PV),
                merchant_code,
                credit_document: r.text(DOCUMENT),
                payment_date: r.date_dmy(POSTING_DATE),
                original_due_date: r.date_dmy(ORIGINAL_DUE_DATE),
                presentation_date: r.date_dmy(RV_DATE),
                net_amount: net,
                gross_amount: original,
                fee_amount: net - original,
                bank_code: r.text(BANK),
                branch_code: r.text(BRANCH),
                account_number: r.text(ACCOUNT),
                brand_code: r.text(BRAND),
                settlement_type_code: "000".into(),
                installment: r.number(INSTALLMENT) as u32,
                installment_plan: r.digits(PLAN),
                posting_type_code: code.into(),
                ..Default::default()
            };
            cx.accept(line_no, code, std::mem::take(&mut r.errors), Record::ReceivableUnit(Box::new(unit)));
        }
        "040" | "041" | "042" => {
            use service::*;
            if !require_width(line, WIDTH, code, line_no, cx) {
                return;
            }
            let _pv = r.digits(PV);
            let queries = r.number(QUERIES);
            let total = r.unsigned_decimal(TOTAL, 2);
            let (from, to) = (r.date_dmy(FROM), r.date_dmy(TO));
            let _unit_price = r.unsigned_decimal(UNIT_PRICE, 2);
            let errors = std::mem::take(&mut r.errors);
            let had_errors = !errors.is_empty();
            cx.field_errors(line_no, code, errors);
            if !had_errors && !total.is_zero() {
                let name = super::record_type(super::FileKind::Eefi, code).map_or("", |t| t.0);
                let period = match (from, to) {
                    (Some(a), Some(b)) => format!(" from {a} to {b}"),
                    _ => String::new(),
                };
                cx.issue(
                    line_no,
                    Some(TOTAL.start),
                    format!("{code}.charged_amount"),
                    format!(
                        "{code} ({name}) charges {total} for {queries} queries{period}: service charges are not mapped \
                         yet, so the file is rejected rather than loaded without them"
                    ),
                );
            }
        }
        "035" => {
            use adjustment::*;
            if !require_width(line, WIDTH, code, line_no, cx) {
                return;
            }
            let amount = r.unsigned_decimal(AMOUNT, 2);
            let debit = match r.raw(DEBIT_CREDIT) {
                b"D" => true,
                b"C" => false,
                other => {
                    let found = crate::formats::field::escaped_line(other);
                    cx.issue(
                        line_no,
                        Some(DEBIT_CREDIT.start),
                        "035.debit_credit",
                        format!("expected D or C, found {found:?}"),
                    );
                    true
                }
            };
            let gross = if debit { -amount } else { amount };
            if debit {
                p.sums.debit_adjustments.0 += 1;
                p.sums.debit_adjustments.1 += amount;
            } else {
                p.sums.credit_adjustments.0 += 1;
                p.sums.credit_adjustments.1 += amount;
            }
            let card = r.text(CARD);
            let (card_bin, card_last_digits) = super::card_parts(&card);
            let merchant_code = r.digits(PV);
            let rv = r.digits(RV);
            let adjustment_code = super::reason_code(&mut r, line, REASON_CODE, REASON_CODE_4);
            let t = CardTransaction {
                line_no,
                ur_key: format!("{merchant_code}-{rv}"),
                merchant_code,
                summary_number: rv,
                posting_date: r.date_dmy(DATE),
                gross_amount: gross,
                fee_amount: Some(Decimal::ZERO),
                net_amount: Some(gross),
                adjustment_code,
                adjustment_reason: r.text(REASON),
                card_bin,
                card_last_digits,
                authorization_date: r.date_dmy(SALE_DATE),
                original_sale_code: format!("{}-{}", r.digits(ORIGINAL_PV), r.digits(ORIGINAL_RV)),
                original_posting_date: r.date_dmy(ORIGINAL_RV_DATE),
                sale_total_amount: r.unsigned_decimal(SALE_AMOUNT, 2),
                indicators: r.text(KIND),
                original_due_date: r.date_dmy(CREDIT_DATE),
                nsu: r.digits(NSU),
                authorization_code: r.text(AUTHORIZATION),
                transaction_type: r.text(DEBIT_TYPE),
                processed_transaction_code: r.text(DEBIT_ORDER),
                brand_code: r.text(BRAND),
                settlement_type_code: "000".into(),
                posting_type_code: code.into(),
                product_code: "000".into(),
                ..Default::default()
            };
            cx.accept(line_no, code, std::mem::take(&mut r.errors), Record::Transaction(Box::new(t)));
        }
        "043" => {
            use credit_adjustment::*;
            if !require_width(line, WIDTH, code, line_no, cx) {
                return;
            }
            r.expect_literal(CREDIT_FLAG, "C");
            let amount = r.unsigned_decimal(AMOUNT, 2);
            p.sums.adjustment_credits.0 += 1;
            p.sums.adjustment_credits.1 += amount;
            let merchant_code = r.digits(PV);
            let summary = r.digits(SUMMARY);
            let t = CardTransaction {
                line_no,
                ur_key: format!("{merchant_code}-{summary}"),
                merchant_code,
                summary_number: summary,
                processed_transaction_code: r.text(DOCUMENT),
                posting_date: r.date_dmy(ISSUE_DATE),
                original_due_date: r.date_dmy(CREDIT_DATE),
                gross_amount: amount,
                fee_amount: Some(Decimal::ZERO),
                net_amount: Some(amount),
                bank_code: r.text(BANK),
                branch_code: r.text(BRANCH),
                account_number: r.text(ACCOUNT),
                adjustment_code: super::reason_code(&mut r, line, REASON_CODE, REASON_CODE_4),
                adjustment_reason: r.text(REASON),
                brand_code: r.text(BRAND),
                settlement_type_code: "000".into(),
                posting_type_code: code.into(),
                product_code: "000".into(),
                ..Default::default()
            };
            cx.accept(line_no, code, std::mem::take(&mut r.errors), Record::Transaction(Box::new(t)));
        }
        "045" => {
            use settled_debit::*;
            if !require_width(line, WIDTH, code, line_no, cx) {
                return;
            }
            let amount = r.unsigned_decimal(AMOUNT, 2);
            p.sums.settled_debits.0 += 1;
            p.sums.settled_debits.1 += amount;
            let card = r.text(CARD);
            let (card_bin, card_last_digits) = super::card_parts(&card);
            let merchant_code = r.digits(PV);
            let order = r.text(ORDER);
            let t = CardTransaction {
                line_no,
                ur_key: format!("{merchant_code}-OD{order}"),
                merchant_code,
                processed_transaction_code: order,
                posting_date: r.date_dmy(ORDER_DATE),
                gross_amount: -amount,
                fee_amount: Some(Decimal::ZERO),
                net_amount: Some(-r.unsigned_decimal(NET, 2)),
                adjustment_code: super::reason_code(&mut r, line, REASON_CODE, REASON_CODE_4),
                adjustment_reason: r.text(REASON),
                card_bin,
                card_last_digits,
                nsu: r.digits(NSU),
                authorization_date: r.date_dmy(SALE_DATE),
                authorization_code: r.text(AUTHORIZATION),
                sale_total_amount: r.unsigned_decimal(SALE_AMOUNT, 2),
                summary_number: r.digits(ORIGINAL_RV),
                original_posting_date: r.date_dmy(ORIGINAL_RV_DATE),
                original_sale_code: {
                    let pv = r.digits(ORIGINAL_PV);
                    format!("{pv}-{}", r.digits(ORIGINAL_RV))
                },
                original_due_date: r.date_dmy(SETTLED_DATE),
                brand_code: r.text(BRAND),
                settlement_type_code: "000".into(),
                posting_type_code: code.into(),
                product_code: "000".into(),
                ..Default::default()
            };
            cx.accept(line_no, code, std::mem::take(&mut r.errors), Record::Transaction(Box::new(t)));
        }
        "044" => {
            use pending_debit::*;
            if !require_width(line, WIDTH, code, line_no, cx) {
                return;
            }
            let card = r.text(CARD);
            let (card_bin, card_last_digits) = super::card_parts(&card);
            let merchant_code = r.digits(PV);
            let order = r.text(ORDER);
            let t = CardTransaction {
                line_no,
                ur_key: format!("{merchant_code}-OD{order}"),
                merchant_code,
                processed_transaction_code: order,
                posting_date: r.date_dmy(ORDER_DATE),
                gross_amount: -r.unsigned_decimal(AMOUNT, 2),
                fee_amount: Some(Decimal::ZERO),
                adjustment_code: super::reason_code(&mut r, line, REASON_CODE, REASON_CODE_4),
                adjustment_reason: r.text(REASON),
                card_bin,
                card_last_digits,
                nsu: r.digits(NSU),
                authorization_date: r.date_dmy(SALE_DATE),
                authorization_code: r.text(AUTHORIZATION),
                sale_total_amount: r.unsigned_decimal(SALE_AMOUNT, 2),
                summary_number: r.digits(ORIGINAL_RV),
                original_posting_date: r.date_dmy(ORIGINAL_RV_DATE),
                original_sale_code: {
                    let pv = r.digits(ORIGINAL_PV);
                    format!("{pv}-{}", r.digits(ORIGINAL_RV))
                },
                // What has been taken so far; the rest is still owed.
                net_amount: Some(-r.unsigned_decimal(COMPENSATED, 2)),
                original_due_date: r.date_dmy(PAYMENT_DATE),
                pending_amount: -r.unsigned_decimal(PENDING, 2),
                brand_code: r.text(BRAND),
                settlement_type_code: "000".into(),
                posting_type_code: code.into(),
                product_code: "000".into(),
                ..Default::default()
            };
            cx.accept(line_no, code, std::mem::take(&mut r.errors), Record::Transaction(Box::new(t)));
        }
        "049" => {
            use unscheduled_installment::*;
            if !require_width(line, WIDTH, code, line_no, cx) {
                return;
            }
            let amount = r.unsigned_decimal(AMOUNT, 2);
            let (new_value, original_value) = (r.unsigned_decimal(NEW_VALUE, 2), r.unsigned_decimal(ORIGINAL_VALUE, 2));
            if r.errors.is_empty() && original_value - new_value != amount {
                cx.issue(
                    line_no,
                    Some(AMOUNT.start),
                    "049.gross_amount",
                    format!(
                        "adjustment {amount} is not the original installment {original_value} less the new {new_value}"
                    ),
                );
            }
            let card = r.text(CARD);
            let (card_bin, card_last_digits) = super::card_parts(&card);
            let merchant_code = r.digits(PV);
            let rv = r.digits(RV);
            let _rv_amount = r.unsigned_decimal(RV_AMOUNT, 2);
            let t = CardTransaction {
                line_no,
                ur_key: format!("{merchant_code}-{rv}"),
                original_sale_code: format!("{merchant_code}-{rv}"),
                merchant_code,
                summary_number: rv,
                processed_transaction_code: r.text(REFERENCE),
                original_due_date: r.date_dmy(CREDIT_DATE),
                gross_amount: -amount,
                fee_amount: Some(Decimal::ZERO),
                net_amount: Some(-amount),
                posting_date: r.date_dmy(CANCEL_DATE),
                sale_total_amount: r.unsigned_decimal(CANCELLED, 2),
                card_bin,
                card_last_digits,
                authorization_date: r.date_dmy(SALE_DATE),
                nsu: r.digits(NSU),
                transaction_type: r.text(DEBIT_TYPE),
                installment: r.number(INSTALLMENT) as u32,
                brand_code: r.text(BRAND),
                settlement_type_code: "000".into(),
                posting_type_code: code.into(),
                product_code: "000".into(),
                ..Default::default()
            };
            cx.accept(line_no, code, std::mem::take(&mut r.errors), Record::Transaction(Box::new(t)));
        }
        "052" => {
            use trailer::*;
            p.trailer_seen = true;
            if !require_width(line, WIDTH, code, line_no, cx) {
                return;
            }
            let d = Declared {
                records: r.number(RECORDS),
                credit_total: Some(r.unsigned_decimal(CREDITS, 2)),
                anticipated: Some((r.number(ANTICIPATED_COUNT), r.unsigned_decimal(ANTICIPATED, 2))),
                credit_adjustments: Some((
                    r.number(CREDIT_ADJUSTMENT_COUNT),
                    r.unsigned_decimal(CREDIT_ADJUSTMENTS, 2),
                )),
                debit_adjustments: Some((r.number(DEBIT_ADJUSTMENT_COUNT), r.unsigned_decimal(DEBIT_ADJUSTMENTS, 2))),
                ..Default::default()
            };
            p.set_trailer(line_no, d, line, r.errors, cx);
        }
        _ => {}
    }
}
