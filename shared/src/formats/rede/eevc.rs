//! EEVC — Rede credit sales ("vendas a crédito"), positional, variable-length lines. Positions from Rede's
//! EEVC manual v2.01 (1-based, inclusive), checked on real lines.

use super::{
    card_parts, check_net, money, positional_header, require_width, zero_or_blank, Declared, Parser, RvContext,
};
use crate::formats::field::{Field, FieldReader};
use crate::formats::ParseContext;
use crate::model::{CardTransaction, ReceivableUnit, Record};

const fn f(name: &'static str, start: usize, len: usize) -> Field {
    Field::new(name, start, len)
}

/// 002: header do arquivo.
mod header {
    use super::*;
    pub const DATE: Field = f("processing_date", 4, 8);
    pub const SEQUENCE: Field = f("sequence", 72, 6);
    pub const GROUP_PV: Field = f("merchant_code", 78, 9);
}

/// 006 (RV rotativo), 010 (RV parcelado sem juros) and 016 (RV IATA) share a layout; 010's credit date is
/// the first installment's; 016's second amount is the boarding fee ("taxa de embarque") where the others
/// have the tip.
mod rv {
    use super::*;
    pub const PV: Field = f("merchant_code", 4, 9);
    pub const RV: Field = f("summary_number", 13, 9);
    pub const BANK: Field = f("bank_code", 22, 3);
    pub const BRANCH: Field = f("branch_code", 25, 5);
    pub const ACCOUNT: Field = f("account_number", 30, 11);
    pub const DATE: Field = f("presentation_date", 41, 8);
    pub const CV_COUNT: Field = f("entry_count", 49, 5);
    pub const GROSS: Field = money("gross_amount", 54);
    pub const TIP: Field = money("tip_amount", 69);
    pub const REJECTED: Field = money("rejected_amount", 84);
    pub const DISCOUNT: Field = money("discount_amount", 99);
    pub const NET: Field = money("net_amount", 114);
    pub const CREDIT_DATE: Field = f("payment_date", 129, 8);
    pub const BRAND: Field = f("brand_code", 137, 1);
    pub const WIDTH: usize = 137;
}

/// A sale (CV/NSU): 008 (rotativo) and 012 (parcelado sem juros) hold the same fields, 012 shifted by its
/// number of installments.
struct CvLayout {
    pv: Field,
    rv: Field,
    date: Field,
    gross: Field,
    card: Field,
    status: Field,
    installments: Option<Field>,
    nsu: Field,
    reference: Field,
    discount: Field,
    authorization: Field,
    time: Field,
    capture: Field,
    net: Field,
    terminal: Field,
    brand: Field,
    /// IATA sales (018): the boarding fee ("taxa de embarque").
    boarding_fee: Option<Field>,
    /// Bytes a line must have (the brand may be cut off in real 012 lines: it is read as blank then).
    width: usize,
    product: &'static str,
}

/// 008: CV/NSU rotativo.
const CV: CvLayout = CvLayout {
    pv: f("merchant_code", 4, 9),
    rv: f("summary_number", 13, 9),
    date: f("authorization_date", 22, 8),
    gross: money("gross_amount", 38),
    card: f("card_number", 68, 16),
    status: f("status", 84, 3),
    installments: None,
    nsu: f("nsu", 87, 12),
    reference: f("order_reference", 99, 13),
    discount: money("discount_amount", 112),
    authorization: f("authorization_code", 127, 6),
    time: f("sale_time", 133, 6),
    capture: f("capture_type", 203, 1),
    net: money("net_amount", 204),
    terminal: f("terminal", 219, 8),
    brand: f("brand_code", 230, 1),
    boarding_fee: None,
    width: 230,
    product: "ROT",
};

/// 012: CV/NSU parcelado sem juros.
const INSTALLMENT_CV: CvLayout = CvLayout {
    pv: f("merchant_code", 4, 9),
    rv: f("summary_number", 13, 9),
    date: f("authorization_date", 22, 8),
    gross: money("gross_amount", 38),
    card: f("card_number", 68, 16),
    status: f("status", 84, 3),
    installments: Some(f("installment_count", 87, 2)),
    nsu: f("nsu", 89, 12),
    reference: f("order_reference", 101, 13),
    discount: money("discount_amount", 114),
    authorization: f("authorization_code", 129, 6),
    time: f("sale_time", 135, 6),
    capture: f("capture_type", 205, 1),
    net: money("net_amount", 206),
    terminal: f("terminal", 251, 8),
    brand: f("brand_code", 262, 1),
    boarding_fee: None,
    width: 261,
    product: "PSJ",
};

/// 018: CV/NSU IATA (airlines and travel agencies): 012's fields, the boarding fee after the amount, and the
/// ticket numbers after the time.
const IATA_CV: CvLayout =
    CvLayout { boarding_fee: Some(money("boarding_fee_amount", 53)), product: "IAT", ..INSTALLMENT_CV };

/// The amount at 53-67 of a CV: the tip (008) or the boarding fee (012's layout, 018).
const CV_SECOND_AMOUNT: Field = money("tip_amount", 53);

fn parse_cv(l: &CvLayout, code: &str, line_no: u64, r: &mut FieldReader<'_>) -> CardTransaction {
    let card = r.text(l.card);
    let (card_bin, card_last_digits) = card_parts(&card);
    let merchant_code = r.digits(l.pv);
    let rv = r.digits(l.rv);
    let gross = r.unsigned_decimal(l.gross, 2);
    CardTransaction {
        line_no,
        ur_key: format!("{merchant_code}-{rv}"),
        merchant_code,
        summary_number: rv,
        authorization_date: r.date_dmy(l.date),
        gross_amount: gross,
        sale_total_amount: gross,
        card_bin,
        card_last_digits,
        transaction_type: r.text(l.status),
        installment_count: l.installments.map_or(0, |f| r.number(f) as u32),
        nsu: r.digits(l.nsu),
        order_reference: r.text(l.reference),
        fee_amount: Some(-r.unsigned_decimal(l.discount, 2)),
        authorization_code: r.text(l.authorization),
        sale_time: r.time_hms(l.time),
        capture_type: r.text(l.capture),
        net_amount: Some(r.unsigned_decimal(l.net, 2)),
        terminal: r.text(l.terminal),
        brand_code: r.text(l.brand),
        boarding_fee_amount: l.boarding_fee.map_or(rust_decimal::Decimal::ZERO, |f| r.unsigned_decimal(f, 2)),
        settlement_type_code: "002".into(),
        posting_type_code: code.into(),
        product_code: l.product.into(),
        ..Default::default()
    }
}

/// 014: one installment of an RV parcelado sem juros; 020, of an RV IATA (the same layout).
mod installment {
    use super::*;
    pub const PV: Field = f("merchant_code", 4, 9);
    pub const RV: Field = f("summary_number", 13, 9);
    pub const DATE: Field = f("presentation_date", 22, 8);
    pub const NUMBER: Field = f("installment", 38, 2);
    pub const GROSS: Field = money("gross_amount", 40);
    pub const DISCOUNT: Field = money("discount_amount", 55);
    pub const NET: Field = money("net_amount", 70);
    pub const CREDIT_DATE: Field = f("payment_date", 85, 8);
    pub const WIDTH: usize = 92;
}

/// 011: ajuste a crédito: an amount credited to the merchant outside its sales (commissions, refunds).
mod credit_adjustment {
    use super::*;
    pub const PV: Field = f("merchant_code", 4, 9);
    pub const SUMMARY: Field = f("summary_number", 13, 9);
    pub const DATE: Field = f("posting_date", 22, 8);
    pub const AMOUNT: Field = money("gross_amount", 30);
    pub const CREDIT_DATE: Field = f("original_due_date", 45, 8);
    pub const CREDITED: Field = money("net_amount", 53);
    pub const CREDIT_FLAG: Field = f("credit_flag", 68, 1);
    pub const BANK: Field = f("bank_code", 69, 3);
    pub const BRANCH: Field = f("branch_code", 72, 6);
    pub const ACCOUNT: Field = f("account_number", 78, 11);
    pub const REASON_CODE: Field = f("adjustment_code", 89, 2);
    pub const REASON: Field = f("adjustment_reason", 91, 28);
    pub const BRAND: Field = f("brand_code", 119, 1);
    /// Since 27/08/2023 the reason is a 4-digit code appended here.
    pub const REASON_CODE_4: Field = f("adjustment_code", 120, 4);
    pub const WIDTH: usize = 118;
}

/// 028: trailer do arquivo.
mod trailer {
    use super::*;
    pub const RECORDS: Field = f("total_records", 8, 6);
    pub const GROSS: Field = money("gross_total", 23);
    pub const REJECTED: Field = money("rejected_total", 44);
    pub const REVOLVING: Field = money("revolving_gross_total", 59);
    pub const INSTALLMENT: Field = money("installment_gross_total", 74);
    pub const IATA: Field = money("iata_total", 89);
    pub const DOLLAR: Field = money("dollar_total", 104);
    pub const DISCOUNT: Field = money("discount_total", 119);
    pub const NET: Field = money("net_total", 134);
    pub const CV_ACCEPTED: Field = f("cv_count", 179, 6);
    pub const WIDTH: usize = 184;
}

pub(super) fn trailer_column(field: &str) -> usize {
    use trailer::*;
    [RECORDS, GROSS, REVOLVING, INSTALLMENT, DISCOUNT, NET, CV_ACCEPTED, IATA, DOLLAR]
        .iter()
        .find(|f| f.name == field)
        .map_or(1, |f| f.start)
}

pub(super) fn line(p: &mut Parser, code: &str, line_no: u64, line: &[u8], cx: &mut ParseContext<'_>) {
    // An IATA RV held back: paid at once unless installments of its own (020) follow. Its records end with the
    // next RV, the matriz's header or totals, or the trailer.
    if matches!(code, "004" | "006" | "010" | "016" | "022" | "026" | "028") {
        if let Some((rv_line, unit)) = p.pending_iata_rv.take() {
            cx.accept(rv_line, "016", Vec::new(), Record::ReceivableUnit(unit));
        }
    }
    let mut r = FieldReader::new(line);
    match code {
        "002" => {
            if !require_width(line, header::GROUP_PV.end(), code, line_no, cx) {
                p.header(None, cx);
                return;
            }
            let h = positional_header(
                super::FileKind::Eevc,
                &p.layout_version,
                &mut r,
                header::DATE,
                header::SEQUENCE,
                header::GROUP_PV,
            );
            cx.field_errors(line_no, "header", std::mem::take(&mut r.errors));
            p.header(h, cx);
        }
        "006" | "010" | "016" => {
            if !require_width(line, rv::WIDTH, code, line_no, cx) {
                p.rv = None;
                return;
            }
            use rv::*;
            let ctx = RvContext {
                merchant_code: r.digits(PV),
                rv: r.digits(RV),
                brand_code: r.text(BRAND),
                bank_code: r.text(BANK),
                branch_code: r.text(BRANCH),
                account_number: r.text(ACCOUNT),
                presentation_date: r.date_dmy(DATE),
                entry_count: r.number(CV_COUNT),
            };
            let gross = r.unsigned_decimal(GROSS, 2);
            let _tip_or_boarding_fee = r.unsigned_decimal(TIP, 2);
            let rejected = r.unsigned_decimal(REJECTED, 2);
            let discount = r.unsigned_decimal(DISCOUNT, 2);
            let net = r.unsigned_decimal(NET, 2);
            let credit_date = r.date_dmy(CREDIT_DATE);
            if !r.errors.is_empty() {
                p.rv = None;
                cx.field_errors(line_no, code, std::mem::take(&mut r.errors));
                return;
            }
            // With a tip, boarding fee or rejected CVs the layout does not say what the net leaves out (no real
            // line shows one): the identity is checked on the others.
            if _tip_or_boarding_fee.is_zero()
                && rejected.is_zero()
                && !check_net(cx, line_no, code, NET.start, (gross, discount, net))
            {
                p.rv = None;
                return;
            }
            p.sums.rv_count += 1;
            p.sums.rv_gross += gross;
            p.sums.rv_discount += discount;
            p.sums.rv_net += net;
            if code == "010" {
                // The RV of installment sales: its receivables are its installments (014).
                p.sums.installment_gross += gross;
                p.rv = Some(ctx);
                return;
            }
            if code == "016" {
                p.sums.iata_gross += gross;
            } else {
                p.sums.revolving_gross += gross;
            }
            let unit = ReceivableUnit {
                line_no,
                merchant_code: ctx.merchant_code.clone(),
                brand_code: ctx.brand_code.clone(),
                settlement_type_code: "002".into(),
                posting_type_code: code.into(),
                ur_key: format!("{}-{}", ctx.merchant_code, ctx.rv),
                summary_number: ctx.rv.clone(),
                gross_amount: gross,
                fee_amount: -discount,
                net_amount: net,
                rejected_amount: rejected,
                bank_code: ctx.bank_code.clone(),
                branch_code: ctx.branch_code.clone(),
                account_number: ctx.account_number.clone(),
                entry_count: ctx.entry_count,
                presentation_date: ctx.presentation_date,
                original_due_date: credit_date,
                payment_date: credit_date,
                product_code: Some(if code == "016" { "IAT" } else { "ROT" }.into()),
                ..Default::default()
            };
            p.rv = Some(ctx);
            if code == "016" {
                p.pending_iata_rv = Some((line_no, Box::new(unit)));
                return;
            }
            cx.accept(line_no, code, std::mem::take(&mut r.errors), Record::ReceivableUnit(Box::new(unit)));
        }
        "008" | "012" | "018" => {
            let layout = match code {
                "008" => &CV,
                "012" => &INSTALLMENT_CV,
                _ => &IATA_CV,
            };
            p.sums.cv_count += 1;
            if require_width(line, layout.width, code, line_no, cx) {
                let t = parse_cv(layout, code, line_no, &mut r);
                if let (true, Some(fee), Some(net)) = (r.errors.is_empty(), t.fee_amount, t.net_amount) {
                    // With a tip or boarding fee, what the net leaves out is not said (no real line has one).
                    if zero_or_blank(r.raw(CV_SECOND_AMOUNT))
                        && !check_net(cx, line_no, code, layout.net.start, (t.gross_amount, -fee, net))
                    {
                        return;
                    }
                }
                cx.accept(line_no, code, std::mem::take(&mut r.errors), Record::Transaction(Box::new(t)));
            }
        }
        "014" | "020" => {
            use installment::*;
            if !require_width(line, WIDTH, code, line_no, cx) {
                return;
            }
            let merchant_code = r.digits(PV);
            let rv = r.digits(RV);
            let (rv_code, product) = if code == "014" { ("010", "PSJ") } else { ("016", "IAT") };
            if code == "020" && p.pending_iata_rv.as_ref().is_some_and(|(_, u)| u.summary_number == rv) {
                // Paid in installments: they are its receivables, not the RV itself.
                p.pending_iata_rv = None;
            }
            let Some(ctx) = p.rv.as_ref().filter(|c| c.merchant_code == merchant_code && c.rv == rv) else {
                cx.issue(
                    line_no,
                    Some(RV.start),
                    format!("{code}.summary_number"),
                    format!("installment of RV {rv} (PV {merchant_code}) without its RV ({rv_code}) before it"),
                );
                return;
            };
            let credit_date = r.date_dmy(CREDIT_DATE);
            let unit = ReceivableUnit {
                line_no,
                ur_key: format!("{merchant_code}-{rv}"),
                brand_code: ctx.brand_code.clone(),
                settlement_type_code: "002".into(),
                posting_type_code: code.into(),
                summary_number: rv,
                presentation_date: r.date_dmy(DATE),
                installment: r.number(NUMBER) as u32,
                gross_amount: r.unsigned_decimal(GROSS, 2),
                fee_amount: -r.unsigned_decimal(DISCOUNT, 2),
                net_amount: r.unsigned_decimal(NET, 2),
                original_due_date: credit_date,
                payment_date: credit_date,
                bank_code: ctx.bank_code.clone(),
                branch_code: ctx.branch_code.clone(),
                account_number: ctx.account_number.clone(),
                entry_count: ctx.entry_count,
                product_code: Some(product.into()),
                merchant_code,
                ..Default::default()
            };
            if r.errors.is_empty()
                && !check_net(cx, line_no, code, NET.start, (unit.gross_amount, -unit.fee_amount, unit.net_amount))
            {
                return;
            }
            cx.accept(line_no, code, std::mem::take(&mut r.errors), Record::ReceivableUnit(Box::new(unit)));
        }
        "011" => {
            use credit_adjustment::*;
            if !require_width(line, WIDTH, code, line_no, cx) {
                return;
            }
            r.expect_literal(CREDIT_FLAG, "C");
            let merchant_code = r.digits(PV);
            let summary = r.digits(SUMMARY);
            let t = CardTransaction {
                line_no,
                ur_key: format!("{merchant_code}-{summary}"),
                merchant_code,
                summary_number: summary,
                posting_date: r.date_dmy(DATE),
                gross_amount: r.unsigned_decimal(AMOUNT, 2),
                fee_amount: Some(rust_decimal::Decimal::ZERO),
                original_due_date: r.date_dmy(CREDIT_DATE),
                net_amount: Some(r.unsigned_decimal(CREDITED, 2)),
                bank_code: r.text(BANK),
                branch_code: r.text(BRANCH),
                account_number: r.text(ACCOUNT),
                adjustment_code: super::reason_code(&mut r, line, REASON_CODE, REASON_CODE_4),
                adjustment_reason: r.text(REASON),
                brand_code: r.text(BRAND),
                settlement_type_code: "002".into(),
                posting_type_code: code.into(),
                product_code: "000".into(),
                ..Default::default()
            };
            cx.accept(line_no, code, std::mem::take(&mut r.errors), Record::Transaction(Box::new(t)));
        }
        "028" => {
            use trailer::*;
            p.trailer_seen = true;
            if !require_width(line, WIDTH, code, line_no, cx) {
                return;
            }
            let mut d = Declared {
                records: r.number(RECORDS),
                gross: Some(r.unsigned_decimal(GROSS, 2)),
                revolving_gross: Some(r.unsigned_decimal(REVOLVING, 2)),
                installment_gross: Some(r.unsigned_decimal(INSTALLMENT, 2)),
                discount: Some(r.unsigned_decimal(DISCOUNT, 2)),
                net: Some(r.unsigned_decimal(NET, 2)),
                cv_count: Some(r.number(CV_ACCEPTED)),
                ..Default::default()
            };
            let _rejected = r.unsigned_decimal(REJECTED, 2);
            d.iata_gross = Some(r.unsigned_decimal(IATA, 2));
            d.must_be_zero = vec![("dollar_total", DOLLAR.start, r.unsigned_decimal(DOLLAR, 2))];
            p.set_trailer(line_no, d, line, r.errors, cx);
        }
        // Counted only: headers of matriz, totals per matriz, requests, e-commerce complements.
        _ => {}
    }
}
