//! Cielo EDI layouts 013 and 014 (and the identical 250-byte records of older archives): record 1 = RO
//! ("resumo de operações": one installment of a group of sales, what is paid on one date) and record 2 = CV
//! ("comprovante de venda": one sale or adjustment of the RO before it). Positions from Cielo's v14 manual,
//! checked on a real v13 CIELO08 file.
//!
//! Mapped into the same domain as v15: an RO is a [`ReceivableUnit`] keyed by its "número único do RO"; a CV
//! is a [`CardTransaction`] that inherits brand, product, posting type and UR key from its RO. CVs carry no
//! fee or net amount (the RO does): those stay `None`.

use crate::formats::field::{AmountField, Field, FieldReader};
use crate::model::{CardTransaction, ReceivableUnit};
use rust_decimal::Decimal;

const fn f(name: &'static str, start: usize, len: usize) -> Field {
    Field::new(name, start, len)
}
const fn money(name: &'static str, sign_col: usize) -> AmountField {
    AmountField::new(name, sign_col, 13, 2)
}

/// Every record of these layouts is 250 bytes. Types 3, 5, 6, 7, 8, A, B, C are known and not loaded yet.
pub const RECORD_WIDTHS: &[(u8, usize)] = &[
    (b'0', 250),
    (b'1', 250),
    (b'2', 250),
    (b'3', 250),
    (b'5', 250),
    (b'6', 250),
    (b'7', 250),
    (b'8', 250),
    (b'A', 250),
    (b'B', 250),
    (b'C', 250),
    (b'9', 250),
];

/// Record 1: RO.
pub mod ro {
    use super::*;
    pub const MERCHANT: Field = f("merchant_code", 2, 10);
    pub const NUMBER: Field = f("summary_number", 12, 7);
    pub const INSTALLMENT: Field = f("installment", 19, 2);
    pub const FILLER: Field = f("installment_marker", 21, 1);
    pub const PLAN: Field = f("installment_plan", 22, 2);
    pub const TRANSACTION_TYPE: Field = f("posting_type_code", 24, 2);
    pub const PRESENTATION_DATE: Field = f("presentation_date", 26, 6);
    pub const EXPECTED_PAYMENT_DATE: Field = f("payment_date", 32, 6);
    pub const ORIGINAL_DUE_DATE: Field = f("original_due_date", 38, 6);
    pub const GROSS: AmountField = money("gross_amount", 44);
    pub const FEE: AmountField = money("fee_amount", 58);
    pub const REJECTED: AmountField = money("rejected_amount", 72);
    pub const NET: AmountField = money("net_amount", 86);
    pub const BANK: Field = f("bank_code", 100, 4);
    pub const BRANCH: Field = f("branch_code", 104, 5);
    pub const ACCOUNT: Field = f("account_number", 109, 14);
    pub const PAYMENT_STATUS: Field = f("payment_status_code", 123, 2);
    pub const ACCEPTED_CVS: Field = f("entry_count", 125, 6);
    pub const CAPTURE_DATE: Field = f("capture_date", 140, 6);
    pub const ADJUSTMENT_ORIGIN: Field = f("adjustment_code", 146, 2);
    pub const BRAND: Field = f("brand_code", 185, 3);
    pub const UNIQUE_NUMBER: Field = f("ur_key", 188, 22);
    pub const FEE_RATE: Field = f("fee_rate", 210, 4);
    pub const PRODUCT: Field = f("product_code", 233, 3);
    pub const PAYMENT_MATRIX: Field = f("payment_matrix_code", 236, 10);
    pub const RESEND: Field = f("payment_resend_flag", 246, 1);
    pub const OPEN_BALANCE: Field = f("open_balance_flag", 250, 1);
}

/// Record 2: CV.
pub mod cv {
    use super::*;
    pub const MERCHANT: Field = f("merchant_code", 2, 10);
    pub const RO_NUMBER: Field = f("summary_number", 12, 7);
    pub const CARD: Field = f("card_number", 19, 19);
    pub const SALE_DATE: Field = f("authorization_date", 38, 8);
    pub const AMOUNT: AmountField = money("gross_amount", 46);
    pub const INSTALLMENT: Field = f("installment", 60, 2);
    pub const INSTALLMENT_COUNT: Field = f("installment_count", 62, 2);
    pub const REJECTION_REASON: Field = f("rejection_reason", 64, 3);
    pub const AUTHORIZATION: Field = f("authorization_code", 67, 6);
    pub const TID: Field = f("tid", 73, 20);
    pub const NSU: Field = f("nsu", 93, 6);
    pub const COMPLEMENTARY: Field = f("withdrawal_amount", 99, 13);
    pub const SALE_TOTAL: Field = f("sale_total_amount", 114, 13);
    pub const INVOICE: Field = f("invoice_number", 140, 9);
    pub const CARD_TYPE: Field = f("card_type", 149, 2);
    pub const CARD_GROUP: Field = f("card_group", 151, 2);
    pub const TERMINAL: Field = f("terminal", 153, 8);
    pub const ORDER_REF: Field = f("order_reference", 163, 20);
    pub const TIME: Field = f("sale_time", 183, 6);
    pub const UNIQUE_NUMBER: Field = f("unique_sale_code", 189, 29);
    pub const PROMO: Field = f("indicators", 218, 1);
    pub const ENTRY_MODE: Field = f("capture_type", 219, 2);
    pub const TRANSACTION_CODE: Field = f("transaction_code", 221, 15);
    pub const PROCESSED_TRANSACTION: Field = f("processed_transaction_code", 236, 15);
}

/// What CVs inherit from the RO they follow.
#[derive(Debug, Clone)]
pub struct RoContext {
    pub(crate) merchant_code: String,
    pub(crate) number: String,
    pub(crate) brand_code: String,
    pub(crate) product_code: Option<String>,
    pub(crate) posting_type_code: String,
    pub(crate) ur_key: String,
    pub(crate) capture_date: Option<chrono::NaiveDate>,
    pub(crate) payment_matrix_code: String,
    pub(crate) bank_code: String,
    pub(crate) branch_code: String,
    pub(crate) account_number: String,
    pub(crate) original_due_date: Option<chrono::NaiveDate>,
    pub(crate) fee_rate: Option<Decimal>,
}

impl RoContext {
    pub fn of(ro: &ReceivableUnit) -> Self {
        RoContext {
            merchant_code: ro.merchant_code.clone(),
            number: ro.summary_number.clone(),
            brand_code: ro.brand_code.clone(),
            product_code: ro.product_code.clone(),
            posting_type_code: ro.posting_type_code.clone(),
            ur_key: ro.ur_key.clone(),
            capture_date: ro.capture_date,
            payment_matrix_code: ro.payment_matrix_code.clone(),
            bank_code: ro.bank_code.clone(),
            branch_code: ro.branch_code.clone(),
            account_number: ro.account_number.clone(),
            original_due_date: ro.original_due_date,
            fee_rate: ro.fee_rate,
        }
    }
}

/// Parse an RO line (record `1`).
pub fn parse_ro(line_no: u64, r: &mut FieldReader<'_>) -> ReceivableUnit {
    use ro::*;
    let marker = r.text(FILLER);
    ReceivableUnit {
        line_no,
        merchant_code: r.digits(MERCHANT),
        holder_tax_id: String::new(),
        movement_holder_tax_id: String::new(),
        receiver_tax_id: String::new(),
        brand_code: r.digits(BRAND),
        // The RO has no settlement type; the product says débito/crédito.
        settlement_type_code: "000".into(),
        payment_matrix_code: r.text(PAYMENT_MATRIX),
        payment_status_code: r.text(PAYMENT_STATUS),
        gross_amount: r.amount(GROSS),
        fee_amount: r.amount(FEE),
        net_amount: r.amount(NET),
        bank_code: r.text(BANK),
        branch_code: r.text(BRANCH),
        account_number: r.text(ACCOUNT),
        account_check_digit: String::new(),
        entry_count: r.number_or_blank(ACCEPTED_CVS),
        posting_type_code: r.digits(TRANSACTION_TYPE),
        ur_key: r.text(UNIQUE_NUMBER),
        summary_number: r.digits(NUMBER),
        installment: r.number_or_blank(INSTALLMENT) as u32,
        installment_plan: format!("{marker}{}", r.text(PLAN)),
        product_code: r.opt_digits(PRODUCT),
        adjustment_code: r.opt_text(ADJUSTMENT_ORIGIN),
        presentation_date: r.date_yymmdd(PRESENTATION_DATE),
        capture_date: r.date_yymmdd(CAPTURE_DATE),
        rejected_amount: r.amount(REJECTED),
        fee_rate: r.opt_unsigned_decimal(FEE_RATE, 2),
        payment_date: r.date_yymmdd(EXPECTED_PAYMENT_DATE),
        sent_to_bank_date: None,
        original_due_date: r.date_yymmdd(ORIGINAL_DUE_DATE),
        payment_merchant_code: String::new(),
        pending_flag: String::new(),
        payment_resend_flag: r.text(RESEND),
        negotiation_flag: String::new(),
        negotiator_tax_id: String::new(),
        open_balance_flag: r.text(OPEN_BALANCE),
        credit_document: String::new(),
        transaction_type: String::new(),
    }
}

/// Layout 001 (Cielo's 2013 manual) has "uso Cielo" where 013/014 later put the payment matrix (236-245),
/// the payment resend flag (246) and the open-balance flag (250): nothing is read from there.
pub fn clear_fields_not_in_layout_001_ro(ro: &mut ReceivableUnit) {
    ro.payment_matrix_code.clear();
    ro.payment_resend_flag.clear();
    ro.open_balance_flag.clear();
}

/// Layout 001's CV differs from 013/014's after position 148: 149-152 is the foreign-card indicator
/// ("indicador de cartão emitido no exterior", read as the card's origin) where 013/014 have card type and
/// group, and 219-250 is "uso Cielo" where 013/014 have the entry mode and transaction codes.
pub fn read_layout_001_cv(cv: &mut CardTransaction, r: &mut FieldReader<'_>) {
    cv.card_origin = r.text(f("foreign_card_indicator", 149, 4));
    cv.card_type.clear();
    cv.card_group.clear();
    cv.capture_type.clear();
    cv.transaction_code.clear();
    cv.processed_transaction_code.clear();
}

/// Parse a CV line (record `2`) that follows `ro`.
pub fn parse_cv(line_no: u64, r: &mut FieldReader<'_>, ro: &RoContext) -> CardTransaction {
    use cv::*;
    let merchant_code = r.digits(MERCHANT);
    let summary_number = r.digits(RO_NUMBER);
    if !summary_number.is_empty() && (summary_number != ro.number || merchant_code != ro.merchant_code) {
        r.errors.push(crate::formats::FieldError {
            column: RO_NUMBER.start,
            field: RO_NUMBER.name,
            reason: format!(
                "CV of RO {summary_number} (EC {merchant_code}) follows RO {} (EC {}): a CV must follow its RO",
                ro.number, ro.merchant_code
            ),
        });
    }
    let card = r.text(CARD);
    let card_bin: String = card.chars().take(6).filter(char::is_ascii_digit).collect();
    let card_last_digits: String = card.chars().rev().take(4).collect::<String>().chars().rev().collect();
    let gross_amount = r.amount(AMOUNT);
    let sign = if gross_amount.is_sign_negative() { -Decimal::ONE } else { Decimal::ONE };
    CardTransaction {
        line_no,
        merchant_code,
        brand_code: ro.brand_code.clone(),
        settlement_type_code: "000".into(),
        installment: r.number_or_blank(INSTALLMENT) as u32,
        installment_count: r.number_or_blank(INSTALLMENT_COUNT) as u32,
        authorization_code: r.text(AUTHORIZATION),
        posting_type_code: ro.posting_type_code.clone(),
        ur_key: ro.ur_key.clone(),
        summary_number,
        transaction_code: r.text(TRANSACTION_CODE),
        adjustment_code: None,
        adjustment_reason: String::new(),
        product_code: ro.product_code.clone().unwrap_or_else(|| "000".into()),
        indicators: r.text(PROMO),
        card_bin: if card_bin.len() == 6 { card_bin } else { String::new() },
        card_last_digits,
        nsu: r.text(NSU),
        invoice_number: r.text(INVOICE),
        tid: r.text(TID),
        order_reference: r.text(ORDER_REF),
        mdr_rate: ro.fee_rate,
        auto_receipt_rate: None,
        sale_rate: None,
        sale_total_amount: sign * r.unsigned_decimal(SALE_TOTAL, 2),
        gross_amount,
        net_amount: None,
        fee_amount: None,
        minimum_fee_amount: Decimal::ZERO,
        down_payment_amount: Decimal::ZERO,
        mdr_tariff_amount: Decimal::ZERO,
        fast_receipt_amount: Decimal::ZERO,
        withdrawal_amount: r.unsigned_decimal(COMPLEMENTARY, 2),
        boarding_fee_amount: Decimal::ZERO,
        pending_amount: Decimal::ZERO,
        total_debt_amount: Decimal::ZERO,
        charged_amount: Decimal::ZERO,
        admin_tariff_amount: Decimal::ZERO,
        promo_amount: Decimal::ZERO,
        dcc_amount: Decimal::ZERO,
        sale_time: r.time_hms(TIME),
        card_group: r.text(CARD_GROUP),
        receiver_tax_id: String::new(),
        authorization_brand_code: String::new(),
        unique_sale_code: r.text(UNIQUE_NUMBER),
        original_sale_code: String::new(),
        negotiation_effect_id: String::new(),
        sales_channel: String::new(),
        terminal: r.text(TERMINAL),
        original_posting_type_code: String::new(),
        transaction_type: String::new(),
        pricing_modality: String::new(),
        authorization_date: r.date_ymd(SALE_DATE),
        capture_date: ro.capture_date,
        posting_date: None,
        original_posting_date: None,
        batch_number: String::new(),
        processed_transaction_code: r.text(PROCESSED_TRANSACTION),
        rejection_reason: r.text(REJECTION_REASON),
        original_due_date: ro.original_due_date,
        payment_matrix_code: ro.payment_matrix_code.clone(),
        card_type: r.text(CARD_TYPE),
        card_origin: String::new(),
        bank_code: ro.bank_code.clone(),
        branch_code: ro.branch_code.clone(),
        account_number: ro.account_number.clone(),
        account_check_digit: String::new(),
        arn: String::new(),
        negotiation_flag: String::new(),
        capture_type: r.text(ENTRY_MODE),
        negotiator_tax_id: String::new(),
    }
}
