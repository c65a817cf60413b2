//! Getnet (Santander) "Extrato Eletrônico", layout V10.x: 400-byte positional records, header `CEADM100` at
//! 24-31. One file carries both the sales movement and the financial one. Layout and evidence:
//! ../shared/formats/getnet.md (every field of types 0, 1, 2, 3, 5, 6 and 9 checked on real V10.1 lines; type
//! 4 from the manual only), positions in [`layout`].
//!
//! Mapped into the same domain as Cielo's and Rede's:
//! - 1, the sales summary ("RV — resumo de vendas"), one per installment it pays: a [`ReceivableUnit`] keyed
//!   `EC-RV`, its status the manual's "indicador de tipo de pagamento" (`PF` forecast, `PG`/`LQ` paid…);
//! - 2, a sale or one of its installments ("CV — comprovante de venda"): a [`CardTransaction`] of its RV, the
//!   installment's value its gross, the commission its fee; brand and credit/debit come from its RV's product
//!   (Tabela I, [`PRODUCTS`]);
//! - 3, an adjustment ("ajuste financeiro"): a [`CardTransaction`] whose posting type is its reason (Tabela II,
//!   [`ADJUSTMENT_REASONS`]); the original RV it names is the sale it adjusts (`EC-RV`);
//! - 4, an anticipation, and 5, a negotiation (cessão, gravame) or the day's payment (`PG`): a
//!   [`ReceivablesNegotiation`]; what it credits to the merchant's account — an anticipation, a cession, the
//!   day's payment — a [`NegotiationCredit`] (the deposit the bank statement should show);
//! - 6, a receivable unit of a negotiation or a liquidation: a [`NegotiatedReceivable`] of the type 5 of the
//!   same operation.
//!
//! Amounts are unsigned with 2 implied decimals; types 1, 2 and 3 carry a sign byte, which applies to the
//! record's amounts. The merchant code ("EC") is written left-aligned in some records and zero-padded in
//! others: it is read as digits without leading zeros. Lines are 400 bytes; real files have a 401-byte header
//! (a trailing blank) and some tools trim trailing blanks: what lies beyond 400 must be blank, and a shorter
//! line must reach the last field its record needs (both kept as anomalies).

pub mod layout;
pub mod sample;

use crate::formats::detect::Detected;
use crate::formats::field::{latin1, Field, FieldReader};
use crate::formats::{
    AnomalyKind, Family, FieldAnomaly, Issue, ParseContext, StatementParser, TrailerCheck, TrailerFigures,
};
use crate::model::{
    Acquirer, CardTransaction, FileType, NegotiatedReceivable, NegotiationCredit, ReceivableUnit,
    ReceivablesNegotiation, Record, StatementHeader,
};
use layout::RECORD;
use rust_decimal::Decimal;
use std::collections::HashMap;

/// Getnet in the list of format families.
pub const FAMILY: Family = Family { recognise, open };

/// The code set of Getnet V10.x codes (posting types, payment statuses).
pub const CODE_SET: &str = "getnet-v10";

/// The file type every Getnet statement is (sales and payments in one).
pub const FILE_TYPE: &str = "CEADM100";

/// Getnet's tax id, as its headers write it at 47-60.
const GETNET_TAX_ID: &[u8] = b"10440482000154";

fn recognise(line: &[u8]) -> Option<Detected> {
    // A Pluxee (Sodexo) voucher file carries CEADM100 at the same place: a Getnet header names Getnet (its tax
    // id at 47-60, or its name at 61-80).
    if line.len() < 80 || line[0] != b'0' || &line[23..31] != FILE_TYPE.as_bytes() {
        return None;
    }
    let named = &line[46..60] == GETNET_TAX_ID || latin1(&line[60..80]).to_ascii_uppercase().starts_with("GETNET");
    if !named {
        return None;
    }
    let version = layout_version(&latin1(&line[91.min(line.len())..116.min(line.len())]));
    let supported = version == "10" || version.starts_with("10.");
    Some(Detected {
        acquirer: "getnet",
        format: "getnet",
        layout_version: version,
        file_type: FILE_TYPE.into(),
        file_kind: "sales_and_payments",
        supported,
    })
}

/// The version in the header's text (`SANT. V.10.1 400 BYTES`, `Sant. v.10 400 bytes`): `10.1`, `10`; the
/// text itself when it names none.
pub fn layout_version(text: &str) -> String {
    let upper = text.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b != b'V' {
            continue;
        }
        let rest = upper[i + 1..].trim_start_matches(['.', ' ']);
        let version: String = rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
        let version = version.trim_end_matches('.');
        if version.starts_with(|c: char| c.is_ascii_digit()) {
            return version.to_string();
        }
    }
    text.trim().to_string()
}

fn open(d: &Detected) -> Result<Box<dyn StatementParser>, Issue> {
    if !d.supported {
        return Err(Issue {
            line: 1,
            column: Some(92),
            field: "header.layout_version".into(),
            reason: format!(
                "Getnet layout {} is recognised but not supported yet: this version reads V10.x (V10.0, V10.1, V10.3)",
                if d.layout_version.is_empty() {
                    "(blank: V7 or older)".to_string()
                } else {
                    format!("{:?}", d.layout_version)
                }
            ),
            raw_line: None,
        });
    }
    Ok(Box::new(Parser::new(d.layout_version.clone())))
}

/// Tabela I: product code, name, the brand it is (our code, named in `ref_brand`) and whether it settles as
/// debit (`001`) or credit (`002`); `000` when it is not a card product. Seeded for the database by V31 (a
/// test keeps the two the same).
pub const PRODUCTS: &[(&str, &str, &str, &str)] = &[
    ("1", "Título", "", "000"),
    ("2", "Convênio", "", "000"),
    ("3", "Crédito Digital", "", "000"),
    ("00", "Cupom Eletrônico", "", "000"),
    ("CE", "Cupom Eletrônico", "", "000"),
    ("CP", "Cupom Papel", "", "000"),
    ("SM", "Cartão Crédito Mastercard", "MASTERCARD", "002"),
    ("SV", "Cartão Crédito Visa", "VISA", "002"),
    ("SR", "Cartão Débito Maestro", "MASTERCARD", "001"),
    ("SE", "Cartão Débito Visa Electron", "VISA", "001"),
    ("PV", "Pagamento Carnê – Débito Visa Electron", "VISA", "001"),
    ("PM", "Pagamento Carnê – Débito Maestro", "MASTERCARD", "001"),
    ("PE", "Pagamento Carnê – Débito Elo", "ELO", "001"),
    ("PC", "Cartão Crédito Pré-Pago Mastercard", "MASTERCARD", "002"),
    ("PT", "Cartão Débito Pré-Pago Maestro", "MASTERCARD", "001"),
    ("PS", "Cartão Crédito Pré-Pago Visa", "VISA", "002"),
    ("PN", "Cartão Débito Pré-Pago Visa Electron", "VISA", "001"),
    ("PR", "Pagamento Recorrente", "", "000"),
    ("BM", "BNDES – Crédito Mastercard", "MASTERCARD", "002"),
    ("BV", "BNDES – Crédito Visa", "VISA", "002"),
    ("EC", "Cartão Crédito Elo", "ELO", "002"),
    ("ED", "Cartão Débito Elo", "ELO", "001"),
    ("AC", "Cartão Crédito Amex", "AMEX", "002"),
    ("HC", "Cartão Crédito Hiper/Hipercard", "HIPERCARD", "002"),
    ("CM", "Crediário Mastercard", "MASTERCARD", "002"),
    ("CV", "Crediário Visa", "VISA", "002"),
    ("CL", "Crediário Elo", "ELO", "002"),
    ("CA", "Crediário Amex", "AMEX", "002"),
    ("CH", "Crediário Hiper/Hipercard", "HIPERCARD", "002"),
    ("PL", "Cartão Crédito Pré-Pago Elo", "ELO", "002"),
    ("PO", "Cartão Débito Pré-Pago Elo", "ELO", "001"),
    ("PH", "Cartão Crédito Pré-Pago Hipercard", "HIPERCARD", "002"),
    ("PX", "Cartão Crédito Pré-Pago Amex", "AMEX", "002"),
];

/// Tabela II: an adjustment's reason ("motivo do ajuste"), its name and the posting category it is. The
/// posting type of an adjustment is `AJ` and its reason (`AJ02`); seeded by V31 (a test keeps them the same).
pub const ADJUSTMENT_REASONS: &[(&str, &str, &str)] = &[
    ("01", "Ajuste a crédito ou a débito", "adjustment"),
    ("02", "Aluguel de POS", "rental"),
    ("03", "Cancelamento", "cancellation"),
    ("04", "Chargeback", "chargeback"),
    ("05", "Recarga telecom", "other"),
    ("06", "Bilhetagem", "other"),
    ("07", "Consulta Serasa", "other"),
    ("08", "Aluguel de verticais", "rental"),
    ("09", "Carga e recarga cartão pré-pago", "other"),
    ("10", "Manutenção de cartão", "other"),
    ("11", "Venda de cartão", "other"),
    ("12", "Cancelamento com motivo de estorno", "cancellation"),
    ("13", "Recarga com cartão", "other"),
    ("14", "Plataforma digital", "other"),
    ("15", "GetData", "other"),
    ("16", "Reversão de chargeback", "chargeback"),
    ("20", "Revogação de contrato (CIP)", "other"),
];

/// The brand and settlement type of a product code; unknown codes are loaded raw and flagged at load.
fn product(code: &str) -> (&'static str, &'static str) {
    PRODUCTS.iter().find(|p| p.0 == code).map_or(("", "000"), |p| (p.2, p.3))
}

/// Record types: code, name (as in Getnet's manual), and whether it is a frame (header, trailer).
pub const RECORD_TYPES: &[(u8, &str)] = &[
    (b'0', "header"),
    (b'1', "resumo de vendas (RV)"),
    (b'2', "comprovante de venda (CV)"),
    (b'3', "ajuste financeiro"),
    (b'4', "antecipação de recebíveis"),
    (b'5', "negociação (cessão, gravame, pagamento)"),
    (b'6', "unidade de recebível (UR)"),
    (b'9', "trailer"),
];

/// What the records add up to (for the summary and the trailer).
#[derive(Debug, Clone, Default)]
struct Sums {
    records: u64,
    cvs: u64,
    rv_gross: Decimal,
    rv_net: Decimal,
}

/// The parser of one Getnet file.
pub struct Parser {
    layout_version: String,
    trailer_seen: bool,
    sums: Sums,
    /// Each RV's product (EC, RV → product code), for the CVs and adjustments that follow it.
    products: HashMap<(String, String), String>,
    /// Each negotiation's line (EC, operation number, operation type → line of its type 5), for its URs.
    negotiations: HashMap<(String, String, String), u64>,
    /// The trailer: line, declared record count.
    trailer: Option<(u64, u64)>,
}

impl Parser {
    pub fn new(layout_version: String) -> Parser {
        Parser {
            layout_version,
            trailer_seen: false,
            sums: Sums::default(),
            products: HashMap::new(),
            negotiations: HashMap::new(),
            trailer: None,
        }
    }
}

/// The last byte each record type's data reach (a shorter line cannot be read).
fn data_end(kind: u8) -> usize {
    match kind {
        b'0' => layout::header::END,
        b'1' => layout::rv::END,
        b'2' => layout::cv::END,
        b'3' => layout::adjustment::END,
        b'4' => layout::anticipation::END,
        b'5' => layout::negotiation::END,
        b'6' => layout::unit::END,
        b'9' => layout::trailer::END,
        _ => RECORD,
    }
}

/// A merchant code ("EC"): digits, left-aligned or zero-padded; read without the padding.
fn ec(r: &mut FieldReader<'_>, f: Field) -> String {
    let text = r.text(f);
    if let Some(pos) = text.bytes().position(|b| !b.is_ascii_digit()) {
        r.fail(f.start + pos, f.name, format!("a merchant code (EC) is digits, found {text:?}"));
        return String::new();
    }
    let trimmed = text.trim_start_matches('0');
    if trimmed.is_empty() && !text.is_empty() {
        "0".into()
    } else {
        trimmed.to_string()
    }
}

/// A sign byte: `+` is 1, `-` is −1; anything else an error.
fn sign(r: &mut FieldReader<'_>, f: Field) -> Decimal {
    match r.raw(f) {
        b"+" => Decimal::ONE,
        b"-" => Decimal::NEGATIVE_ONE,
        other => {
            let found = crate::formats::field::escaped_line(other);
            r.fail(f.start, f.name, format!("sign must be '+' or '-', found {found:?}"));
            Decimal::ONE
        }
    }
}

/// An amount: 12 digits, 2 implied decimals.
fn money(r: &mut FieldReader<'_>, f: Field) -> Decimal {
    r.unsigned_decimal(f, 2)
}

/// A rate in percent a month, 4 integers and 7 decimals, kept to the 3 decimals the facts hold; more is an
/// error naming the field rather than a rate silently rounded.
fn rate(r: &mut FieldReader<'_>, f: Field) -> Decimal {
    let v = r.unsigned_decimal(f, 7);
    let kept = v.round_dp(3);
    if kept != v {
        r.fail(f.start, f.name, format!("rate {v} has more than the 3 decimals the facts keep"));
    }
    kept.normalize()
}

/// Only amounts in reais are loaded: an amount in another currency (`840`, dollars) is not the merchant's
/// money in the account and would be summed with reais.
fn require_real(r: &mut FieldReader<'_>, f: Field) {
    let raw = r.raw(f);
    if raw != b"986" && !raw.iter().all(|&b| b == b' ' || b == b'0') {
        let found = crate::formats::field::escaped_line(raw);
        r.fail(f.start, f.name, format!("currency {found:?}: only reais (986) are supported"));
    }
}

/// An account that may be written in either of two fields (the manual: the short one for `CC`, the long one
/// otherwise; real V10.1 lines: the long one always): the one that is not zeros.
fn account(r: &mut FieldReader<'_>, short: Field, long: Field) -> String {
    let short = r.text(short);
    let long = r.text(long);
    let zero = |s: &str| s.bytes().all(|b| b == b'0');
    if !zero(&short) {
        short
    } else if !zero(&long) {
        long
    } else {
        String::new()
    }
}

impl StatementParser for Parser {
    fn line(&mut self, line_no: u64, raw: &[u8], cx: &mut ParseContext<'_>) {
        if cx.outside_records(line_no, raw, self.trailer_seen) {
            return;
        }
        let kind = raw[0];
        cx.count_record(kind);
        self.sums.records += 1;
        let Some(&(_, name)) = RECORD_TYPES.iter().find(|t| t.0 == kind) else {
            let found = crate::formats::field::escaped_line(&raw[..1]);
            cx.issue(line_no, Some(1), "record_type", format!("unknown Getnet record type {found:?}"));
            return;
        };
        if (line_no == 1) != (kind == b'0') {
            let why = if line_no == 1 { "the first line must be the header (0)" } else { "a second header" };
            cx.issue(line_no, Some(1), "record_type", why);
            return;
        }
        // Every record is 400 bytes: blanks beyond them are padding; a line cut short must still hold its data.
        let mut line = [b' '; RECORD];
        if raw.len() > RECORD {
            if let Some(pos) = raw[RECORD..].iter().position(|&b| b != b' ') {
                cx.issue(
                    line_no,
                    Some(RECORD + pos + 1),
                    "line",
                    format!("{} bytes: a Getnet record has 400, and byte {} is not blank", raw.len(), RECORD + pos + 1),
                );
                return;
            }
            cx.anomaly(
                line_no,
                FieldAnomaly {
                    column: RECORD + 1,
                    field: "line",
                    kind: AnomalyKind::PaddedLine,
                    found: format!("{} bytes", raw.len()),
                    used: "the first 400".into(),
                    reason: "the bytes beyond the record's 400 are blank (real Getnet headers are 401 bytes)".into(),
                },
                name,
            );
            line.copy_from_slice(&raw[..RECORD]);
        } else {
            let needed = data_end(kind);
            if raw.len() < needed {
                cx.issue(
                    line_no,
                    Some(raw.len() + 1),
                    "line",
                    format!(
                        "{} bytes: record {} ({name}) needs {needed} (a Getnet record has 400)",
                        raw.len(),
                        kind as char
                    ),
                );
                return;
            }
            if raw.len() < RECORD {
                cx.anomaly(
                    line_no,
                    FieldAnomaly {
                        column: raw.len() + 1,
                        field: "line",
                        kind: AnomalyKind::RightTrimmedLine,
                        found: format!("{} bytes", raw.len()),
                        used: "400 bytes, blank-padded".into(),
                        reason: "every field this record needs lies within the line; what is missing is blank".into(),
                    },
                    name,
                );
            }
            line[..raw.len()].copy_from_slice(raw);
        }
        let mut r = FieldReader::new(&line);
        match kind {
            b'0' => self.header(line_no, &mut r, cx),
            b'1' => self.rv(line_no, &mut r, cx),
            b'2' => self.cv(line_no, &mut r, cx),
            b'3' => self.adjustment(line_no, &mut r, cx),
            b'4' => self.anticipation(line_no, &mut r, cx),
            b'5' => self.negotiation(line_no, &mut r, cx),
            b'6' => self.unit(line_no, &mut r, cx),
            _ => {
                self.trailer_seen = true;
                let declared = r.number(layout::trailer::RECORDS);
                let errors = std::mem::take(&mut r.errors);
                if errors.is_empty() {
                    self.trailer = Some((line_no, declared));
                } else {
                    cx.field_errors(line_no, "trailer", errors);
                }
            }
        }
    }

    fn finish(&mut self, last_line: u64, cx: &mut ParseContext<'_>) {
        let Some((line_no, declared)) = self.trailer else {
            if !self.trailer_seen {
                cx.issue(
                    last_line + 1,
                    None,
                    "trailer",
                    "the file ends without a Getnet trailer (9): truncated or incomplete",
                );
            }
            return;
        };
        // The count is of every record, header and trailer included (the manual; two real V10.3 files).
        let records = self.sums.records;
        let matches = declared == records;
        if !matches {
            cx.issue(
                line_no,
                Some(layout::trailer::RECORDS.start),
                "trailer.total_records",
                format!("declares {declared} records, the file has {records} (header and trailer included)"),
            );
        }
        let figures = |total_records| TrailerFigures {
            total_records,
            transaction_count: self.sums.cvs,
            gross_total: Some(self.sums.rv_gross),
            net_total: self.sums.rv_net,
            negotiated_total: None,
        };
        cx.summary.trailer = Some(TrailerCheck {
            declared: figures(declared),
            computed: figures(records),
            matches,
            reading: "all_records_counted",
        });
    }
}

impl Parser {
    fn header(&mut self, line_no: u64, r: &mut FieldReader<'_>, cx: &mut ParseContext<'_>) {
        use layout::header::*;
        let created = r.date_dmy(CREATED);
        let _time = r.time_hms(CREATED_TIME);
        let reference = r.date_dmy(REFERENCE);
        let merchant_code = ec(r, MERCHANT);
        let _acquirer = (r.digits(ACQUIRER_TAX_ID), r.text(ACQUIRER_NAME), r.text(ACQUIRER_CODE));
        let sequence = r.digits(SEQUENCE);
        let _version = r.text(VERSION);
        let _file = r.text(FILE);
        for (date, field) in [(created, CREATED), (reference, REFERENCE)] {
            if date.is_none() && !r.errors.iter().any(|e| e.field == field.name) {
                r.fail(field.start, field.name, "date is required (DDMMAAAA)".into());
            }
        }
        let errors = std::mem::take(&mut r.errors);
        if !errors.is_empty() {
            cx.field_errors(line_no, "header", errors);
            return;
        }
        let (Some(created), Some(reference)) = (created, reference) else { return };
        cx.emit(Record::Header(StatementHeader {
            acquirer: Acquirer::Getnet,
            layout_version: self.layout_version.clone(),
            code_set: CODE_SET,
            file_type: FileType { code: FILE_TYPE.into(), kind: "sales_and_payments" },
            merchant_code,
            processing_date: created,
            period_start: reference,
            period_end: reference,
            sequence,
            mailbox: String::new(),
        }));
    }

    /// The product of the RV a CV or adjustment belongs to, if that RV came before it.
    fn product_of(&self, merchant: &str, rv: &str) -> Option<&str> {
        self.products.get(&(merchant.to_string(), rv.to_string())).map(String::as_str)
    }

    fn rv(&mut self, line_no: u64, r: &mut FieldReader<'_>, cx: &mut ParseContext<'_>) {
        use layout::rv::*;
        let merchant_code = ec(r, MERCHANT);
        let product_code = r.text(PRODUCT);
        let rv = r.digits(RV);
        let s = sign(r, SIGN);
        require_real(r, CURRENCY);
        let gross = money(r, GROSS);
        let net = money(r, NET);
        let tariff = money(r, TARIFF);
        let discount = money(r, DISCOUNT);
        let rejected = money(r, REJECTED_AMOUNT);
        let _credit_and_charges = (money(r, CREDIT), money(r, CHARGES));
        // Net is the gross less the commission: the MDR discount, with or without the tariff (the sources say
        // "commission" without saying which; both readings are accepted, nothing else).
        if r.errors.is_empty() && net != gross - discount - tariff && net != gross - discount {
            r.fail(
                NET.start,
                NET.name,
                format!(
                    "net {net} is not gross {gross} less the discount {discount} (and tariff {tariff}): the amounts of \
                     the record disagree"
                ),
            );
        }
        let (brand, settlement) = product(&product_code);
        self.products.insert((merchant_code.clone(), rv.clone()), product_code.clone());
        let unit = ReceivableUnit {
            line_no,
            ur_key: format!("{merchant_code}-{rv}"),
            summary_number: rv,
            merchant_code,
            brand_code: brand.into(),
            settlement_type_code: settlement.into(),
            product_code: Some(product_code),
            transaction_type: r.text(CAPTURE),
            presentation_date: r.date_dmy(RV_DATE),
            payment_date: r.date_dmy(PAYMENT_DATE),
            bank_code: r.digits(BANK),
            branch_code: r.digits(BRANCH),
            account_number: account(r, ACCOUNT, PAYMENT_ACCOUNT),
            entry_count: r.number(ACCEPTED),
            gross_amount: s * gross,
            net_amount: s * net,
            fee_amount: s * (net - gross),
            rejected_amount: s * rejected,
            payment_status_code: r.text(STATUS),
            installment: r.number(INSTALLMENT) as u32,
            installment_plan: r.digits(PLAN),
            payment_merchant_code: ec(r, CENTRAL),
            credit_document: r.text(OPERATION).trim_start_matches('0').to_string(),
            original_due_date: r.date_dmy(ORIGINAL_DUE_DATE),
            negotiation_flag: r.text(ACCOUNT_TYPE),
            posting_type_code: "RV".into(),
            ..Default::default()
        };
        let _rejected_count = r.number(REJECTED);
        let _ur_key = r.text(UR_KEY);
        if r.errors.is_empty() {
            self.sums.rv_gross += unit.gross_amount;
            self.sums.rv_net += unit.net_amount;
        }
        cx.accept(line_no, "1", std::mem::take(&mut r.errors), Record::ReceivableUnit(Box::new(unit)));
    }

    /// Brand, settlement and product of what belongs to an RV; when the RV is not before it in the file, blank
    /// and kept as an anomaly.
    fn rv_product(
        &self,
        merchant: &str,
        rv: &str,
        line_no: u64,
        cx: &mut ParseContext<'_>,
        record: &str,
    ) -> (String, String, String) {
        match self.product_of(merchant, rv) {
            Some(code) => {
                let (brand, settlement) = product(code);
                (brand.into(), settlement.into(), code.into())
            }
            None => {
                cx.anomaly(
                    line_no,
                    FieldAnomaly {
                        column: 17,
                        field: "summary_number",
                        kind: AnomalyKind::BlankCode,
                        found: format!("RV {rv}"),
                        used: "\"\" (no product, brand or settlement type)".into(),
                        reason: format!(
                            "the product is given by the RV, and RV {rv} is not before this record in the file"
                        ),
                    },
                    record,
                );
                (String::new(), "000".into(), String::new())
            }
        }
    }

    fn cv(&mut self, line_no: u64, r: &mut FieldReader<'_>, cx: &mut ParseContext<'_>) {
        use layout::cv::*;
        let merchant_code = ec(r, MERCHANT);
        let rv = r.digits(RV);
        let s = sign(r, SIGN);
        require_real(r, CURRENCY);
        let installment_amount = money(r, INSTALLMENT_AMOUNT);
        let commission = money(r, COMMISSION);
        let card = r.text(CARD);
        let (card_bin, card_last_digits) = crate::formats::rede::card_parts(&card);
        let content = r.text(CONTENT_ID);
        let (tid, order_reference) = match content.as_str() {
            "01" => (String::new(), r.text(ORDER_01)),
            "02" => (r.text(TID_02), r.text(ORDER_02)),
            "03" => (r.text(TID_03), r.text(ORDER_01)),
            "05" => (r.text(TID_05), String::new()),
            _ => (String::new(), String::new()),
        };
        let (brand, settlement, product_code) = self.rv_product(&merchant_code, &rv, line_no, cx, "2");
        let gross = s * installment_amount;
        let fee = -(s * commission);
        let t = CardTransaction {
            line_no,
            ur_key: format!("{merchant_code}-{rv}"),
            summary_number: rv,
            merchant_code,
            brand_code: brand,
            settlement_type_code: settlement,
            product_code,
            nsu: r.digits(NSU),
            authorization_date: r.date_dmy(DATE),
            sale_time: r.time_hms(TIME),
            card_bin,
            card_last_digits,
            sale_total_amount: s * money(r, AMOUNT),
            withdrawal_amount: money(r, WITHDRAWAL),
            boarding_fee_amount: money(r, BOARDING),
            installment_count: r.number(INSTALLMENTS) as u32,
            installment: r.number(INSTALLMENT) as u32,
            gross_amount: gross,
            fee_amount: Some(fee),
            net_amount: Some(gross + fee),
            original_due_date: r.date_dmy(PAYMENT_DATE),
            authorization_code: r.text(AUTHORIZATION),
            capture_type: r.text(CAPTURE),
            transaction_type: r.text(STATUS),
            payment_matrix_code: ec(r, CENTRAL),
            terminal: r.text(TERMINAL),
            card_origin: r.text(ORIGIN),
            card_group: r.text(WALLET),
            tid,
            order_reference,
            posting_type_code: "CV".into(),
            ..Default::default()
        };
        if r.errors.is_empty() {
            self.sums.cvs += 1;
        }
        cx.accept(line_no, "2", std::mem::take(&mut r.errors), Record::Transaction(Box::new(t)));
    }

    fn adjustment(&mut self, line_no: u64, r: &mut FieldReader<'_>, cx: &mut ParseContext<'_>) {
        use layout::adjustment::*;
        let merchant_code = ec(r, MERCHANT);
        let rv = r.digits(RV);
        let s = sign(r, SIGN);
        require_real(r, CURRENCY);
        let amount = money(r, AMOUNT);
        let reason = r.digits(REASON);
        let card = r.text(CARD);
        let (card_bin, card_last_digits) = crate::formats::rede::card_parts(card.trim_start_matches('0'));
        let original_rv = r.digits(ORIGINAL_RV);
        let content = r.text(CONTENT_ID);
        let (tid, order_reference, description) = match content.as_str() {
            "01" => (r.text(TID), String::new(), String::new()),
            "02" => (r.text(TID), r.text(ORDER), String::new()),
            "03" => (String::new(), String::new(), r.text(DESCRIPTION_03)),
            "04" => (String::new(), String::new(), r.text(DESCRIPTION_04)),
            _ => (String::new(), String::new(), String::new()),
        };
        let (brand, settlement, product_code) = self.rv_product(&merchant_code, &rv, line_no, cx, "3");
        let gross = s * amount;
        // The sale it adjusts is its original RV, named as an RV is: EC-RV.
        let original_sale_code = if original_rv.bytes().all(|b| b == b'0') {
            String::new()
        } else {
            format!("{merchant_code}-{original_rv}")
        };
        let t = CardTransaction {
            line_no,
            ur_key: format!("{merchant_code}-{rv}"),
            summary_number: rv,
            merchant_code,
            brand_code: brand,
            settlement_type_code: settlement,
            product_code,
            posting_date: r.date_dmy(RV_DATE),
            original_due_date: r.date_dmy(PAYMENT_DATE),
            processed_transaction_code: r.text(ID),
            gross_amount: gross,
            fee_amount: Some(Decimal::ZERO),
            net_amount: Some(gross),
            // The commission of the sale it adjusts (returned with a cancellation), as Getnet states it.
            mdr_tariff_amount: money(r, COMMISSION),
            adjustment_code: Some(reason.clone()),
            adjustment_reason: description,
            card_bin,
            card_last_digits,
            original_sale_code,
            nsu: r.digits(ORIGINAL_NSU),
            authorization_date: r.date_dmy(ORIGINAL_DATE),
            transaction_type: r.text(STATUS),
            terminal: r.text(TERMINAL),
            tid,
            order_reference,
            posting_type_code: format!("AJ{reason}"),
            ..Default::default()
        };
        let _letter = r.date_dmy(LETTER_DATE);
        let _original_payment = r.opt_text(ORIGINAL_PAYMENT_DATE);
        cx.accept(line_no, "3", std::mem::take(&mut r.errors), Record::Transaction(Box::new(t)));
    }

    fn anticipation(&mut self, line_no: u64, r: &mut FieldReader<'_>, cx: &mut ParseContext<'_>) {
        use layout::anticipation::*;
        let merchant_code = ec(r, MERCHANT);
        let gross = money(r, GROSS);
        let cost = money(r, COST);
        let net = money(r, NET);
        if r.errors.is_empty() && gross - cost != net {
            r.fail(NET.start, NET.name, format!("net {net} is not gross {gross} less the cost {cost}"));
        }
        let negotiation = ReceivablesNegotiation {
            line_no,
            merchant_code: merchant_code.clone(),
            negotiation_date: r.date_dmy(DATE),
            payment_date: r.date_dmy(CREDIT_DATE),
            holder_tax_id: String::new(),
            average_term_days: 0,
            nominal_rate: rate(r, RATE),
            gross_amount: gross,
            net_amount: net,
            operation_code: r.digits(OPERATION),
            payment_form_code: "AC".into(),
            effective_rate: None,
        };
        let credit = NegotiationCredit {
            line_no,
            negotiation_line_no: line_no,
            merchant_code,
            bank_code: r.digits(BANK),
            branch_code: r.digits(BRANCH),
            account_number: account(r, ACCOUNT, PAYMENT_ACCOUNT),
            deposited_amount: net,
        };
        let _rest = (ec(r, CENTRAL), r.text(CHANNEL), r.text(STATUS), r.text(ACCOUNT_TYPE));
        let errors = std::mem::take(&mut r.errors);
        let valid = errors.is_empty();
        cx.accept(line_no, "4", errors, Record::Negotiation(Box::new(negotiation)));
        if valid {
            cx.accept(line_no, "4", Vec::new(), Record::NegotiationCredit(Box::new(credit)));
        }
    }

    fn negotiation(&mut self, line_no: u64, r: &mut FieldReader<'_>, cx: &mut ParseContext<'_>) {
        use layout::negotiation::*;
        let merchant_code = ec(r, MERCHANT);
        let kind = r.text(KIND);
        let operation = r.text(OPERATION);
        let gross = money(r, GROSS);
        let cost = money(r, COST);
        let net = money(r, NET);
        let _total_gross = money(r, TOTAL_GROSS);
        if r.errors.is_empty() && gross - cost != net {
            r.fail(NET.start, NET.name, format!("net {net} is not the acquiring gross {gross} less the cost {cost}"));
        }
        self.negotiations.insert((merchant_code.clone(), operation.clone(), kind.clone()), line_no);
        let negotiation = ReceivablesNegotiation {
            line_no,
            merchant_code: merchant_code.clone(),
            negotiation_date: r.date_dmy(DATE),
            payment_date: r.date_dmy(CREDIT_DATE),
            holder_tax_id: r.digits(PARTICIPANT_DOCUMENT),
            average_term_days: 0,
            nominal_rate: rate(r, RATE),
            gross_amount: gross,
            net_amount: net,
            operation_code: operation,
            payment_form_code: kind.clone(),
            effective_rate: None,
        };
        // The day's payment (PG) and a cession's proceeds (CS) are credited to the merchant's account; a lien
        // (GV, CF) pays its holder.
        let credit = matches!(kind.as_str(), "PG" | "CS").then(|| NegotiationCredit {
            line_no,
            negotiation_line_no: line_no,
            merchant_code,
            bank_code: r.digits(BANK),
            branch_code: r.digits(BRANCH),
            account_number: r.text(ACCOUNT),
            deposited_amount: net,
        });
        let _rest = (
            r.text(ACCOUNT_TYPE),
            r.text(CHANNEL),
            r.text(MOVEMENT),
            r.text(PARTICIPANT_TYPE),
            ec(r, CENTRAL),
            r.text(PARTICIPANT_NAME),
            r.text(ARRANGEMENT),
            r.text(UR_KEY),
        );
        let errors = std::mem::take(&mut r.errors);
        let valid = errors.is_empty();
        cx.accept(line_no, "5", errors, Record::Negotiation(Box::new(negotiation)));
        if let (true, Some(c)) = (valid, credit) {
            cx.accept(line_no, "5", Vec::new(), Record::NegotiationCredit(Box::new(c)));
        }
    }

    fn unit(&mut self, line_no: u64, r: &mut FieldReader<'_>, cx: &mut ParseContext<'_>) {
        use layout::unit::*;
        let merchant_code = ec(r, MERCHANT);
        let operation = r.text(OPERATION);
        let kind = r.text(KIND);
        let product_code = r.text(PRODUCT);
        let (brand, settlement) = product(&product_code);
        // Its negotiation: the type 5 of the same operation (a liquidation's URs go with the day's payment, PG,
        // whose operation number is zeros like theirs).
        let negotiation_line_no = self
            .negotiations
            .get(&(merchant_code.clone(), operation.clone(), kind.clone()))
            .or_else(|| {
                let paid = matches!(kind.as_str(), "LQ" | "PG");
                paid.then(|| self.negotiations.get(&(merchant_code.clone(), operation.clone(), "PG".into()))).flatten()
            })
            .copied()
            .unwrap_or(0);
        let cost = money(r, COST);
        let u = NegotiatedReceivable {
            line_no,
            negotiation_line_no,
            merchant_code,
            negotiation_date: r.date_dmy(DATE),
            original_due_date: r.date_dmy(DUE_DATE),
            holder_tax_id: r.digits(PARTICIPANT_DOCUMENT),
            brand_code: brand.into(),
            settlement_type_code: settlement.into(),
            gross_amount: money(r, GROSS),
            net_amount: money(r, NET),
            effective_rate: Decimal::ZERO,
            financial_institution: r.text(PARTICIPANT_NAME),
            discount_amount: Some(-cost),
            summary: None,
        };
        let _rest = (
            money(r, TOTAL_GROSS),
            r.text(BANK),
            r.text(BRANCH),
            r.text(ACCOUNT),
            r.text(MOVEMENT),
            ec(r, CENTRAL),
            r.text(UR_KEY),
        );
        cx.accept(line_no, "6", std::mem::take(&mut r.errors), Record::NegotiatedReceivable(Box::new(u)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_the_header_text_as_real_files_write_them() {
        assert_eq!(layout_version("SANT. V.10.1 400 BYTES   "), "10.1");
        assert_eq!(layout_version("Sant. v.10 400 bytes"), "10");
        assert_eq!(layout_version("SANT. V.10.3 400 BYTES"), "10.3");
        assert_eq!(layout_version("Sant. v.9.0 400 bytes"), "9.0");
        assert_eq!(layout_version("LAYOUT400POSICOES-V4"), "4");
        assert_eq!(layout_version("   "), "");
    }

    #[test]
    fn every_product_has_a_known_settlement_and_the_codes_are_unique() {
        for (i, p) in PRODUCTS.iter().enumerate() {
            assert!(["000", "001", "002"].contains(&p.3), "{p:?}");
            assert!(p.3 == "000" || !p.2.is_empty(), "a card product names its brand: {p:?}");
            assert!(PRODUCTS[i + 1..].iter().all(|q| q.0 != p.0), "{p:?}");
        }
    }
}
