//! The acquirer-neutral domain model: what every statement format is parsed into.
//!
//! Codes (merchant numbers, brands, products, NSU, authorization codes…) stay strings: leading zeros are
//! data. Money is [`Decimal`] with its sign applied.

use chrono::{NaiveDate, NaiveTime};
use rust_decimal::Decimal;
use serde::Serialize;

/// The card acquirer ("credenciadora") that issued a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Acquirer {
    Cielo,
    /// Rede (ex-Redecard).
    Rede,
    /// Getnet (Santander).
    Getnet,
    /// PagBank (PagSeguro).
    Pagbank,
    /// Stone.
    Stone,
    /// Not an acquirer: the merchant's own sales records (POS / ERP export), the other side of a reconciliation.
    Merchant,
}

impl Acquirer {
    pub fn code(self) -> &'static str {
        match self {
            Acquirer::Cielo => "cielo",
            Acquirer::Rede => "rede",
            Acquirer::Getnet => "getnet",
            Acquirer::Pagbank => "pagbank",
            Acquirer::Stone => "stone",
            Acquirer::Merchant => "merchant",
        }
    }
}

/// What a statement file reports (Cielo "opção de extrato").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileType {
    /// The acquirer's own code, e.g. `"03"`.
    pub code: String,
    /// e.g. `"sales"`, `"payments"`.
    pub kind: &'static str,
}

/// Header record: who the statement is for and which period it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementHeader {
    pub acquirer: Acquirer,
    /// Layout version as written in the file, e.g. `"015"`.
    pub layout_version: String,
    /// Which code tables the file's codes belong to (posting types, payment statuses differ by layout),
    /// e.g. `"cielo-v15"`, `"cielo-v14"`.
    pub code_set: &'static str,
    pub file_type: FileType,
    /// Estabelecimento matriz: the merchant (EC) the statement group belongs to.
    pub merchant_code: String,
    pub processing_date: NaiveDate,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// Sequence number; Cielo writes `9999999` for a recovered ("reprocessado") file.
    pub sequence: String,
    /// Caixa postal / mailbox.
    pub mailbox: String,
}

/// Receivable unit ("UR — unidade de recebível", Cielo v15 record D): what the acquirer will pay or paid
/// on one date, for one merchant, brand and settlement type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReceivableUnit {
    pub line_no: u64,
    /// EC submissor.
    pub merchant_code: String,
    pub holder_tax_id: String,
    pub movement_holder_tax_id: String,
    pub receiver_tax_id: String,
    /// Bandeira.
    pub brand_code: String,
    /// Tipo de liquidação: 001 débito, 002 crédito, 004 voucher…
    pub settlement_type_code: String,
    pub payment_matrix_code: String,
    /// Status de pagamento (v15 table).
    pub payment_status_code: String,
    pub gross_amount: Decimal,
    /// Taxa administrativa, signed (negative when charged).
    pub fee_amount: Decimal,
    pub net_amount: Decimal,
    pub bank_code: String,
    pub branch_code: String,
    pub account_number: String,
    pub account_check_digit: String,
    /// Quantidade de lançamentos (E records) in this UR.
    pub entry_count: u64,
    /// Tipo de lançamento (v15) / tipo de transação (v14), in the header's code set.
    pub posting_type_code: String,
    /// Chave da UR (v15) or número único do RO (v14): joins this unit to its transaction details.
    pub ur_key: String,
    /// Número do RO / RV (sales summary), where the layout has one.
    pub summary_number: String,
    /// Parcela paid by this unit (v14 RO; 0 otherwise) and the plan (maximum installments of the group).
    pub installment: u32,
    pub installment_plan: String,
    /// Product ("forma de pagamento"), where the layout gives it per unit (v14 RO).
    pub product_code: Option<String>,
    /// Origem do ajuste (v14 RO).
    pub adjustment_code: Option<String>,
    /// Data de apresentação / captura (v14 RO).
    pub presentation_date: Option<NaiveDate>,
    pub capture_date: Option<NaiveDate>,
    /// Valor rejeitado (v14 RO), signed.
    pub rejected_amount: Decimal,
    /// Taxa administrativa in percent (v14 RO).
    pub fee_rate: Option<Decimal>,
    pub payment_date: Option<NaiveDate>,
    pub sent_to_bank_date: Option<NaiveDate>,
    pub original_due_date: Option<NaiveDate>,
    pub payment_merchant_code: String,
    pub pending_flag: String,
    pub payment_resend_flag: String,
    pub negotiation_flag: String,
    pub negotiator_tax_id: String,
    pub open_balance_flag: String,
    /// Número do documento / ordem de crédito (Rede EEFI): the bank credit this unit was paid in.
    pub credit_document: String,
    /// Tipo de transação of a credit (Rede EEFI).
    pub transaction_type: String,
}

/// Transaction detail ("detalhe do lançamento", Cielo v15 record E): a sale, one installment of a sale
/// ("parcela"), or an adjustment (cancellation, chargeback, rental, anticipation…) tied to a UR.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CardTransaction {
    pub line_no: u64,
    pub merchant_code: String,
    pub brand_code: String,
    pub settlement_type_code: String,
    /// Parcela (0 for à vista).
    pub installment: u32,
    /// Total de parcelas (Cielo writes 0 for à vista).
    pub installment_count: u32,
    pub authorization_code: String,
    pub posting_type_code: String,
    pub ur_key: String,
    /// Número do RO / RV (sales summary) the line belongs to, where the layout has one.
    pub summary_number: String,
    pub transaction_code: String,
    /// Código de ajuste (blank for sales).
    pub adjustment_code: Option<String>,
    /// The acquirer's text for the adjustment, where it gives one (Rede: "CANCEL.DE VENDAS").
    pub adjustment_reason: String,
    /// Forma de pagamento = product code.
    pub product_code: String,
    /// The seven one-byte indicators (Promo, DCC, comissão mínima, RA/TC, taxa zero, rejeitada, tardia).
    pub indicators: String,
    pub card_bin: String,
    pub card_last_digits: String,
    /// NSU/DOC.
    pub nsu: String,
    pub invoice_number: String,
    pub tid: String,
    pub order_reference: String,
    /// MDR rate in percent (2.48 = 2.48 %).
    pub mdr_rate: Option<Decimal>,
    pub auto_receipt_rate: Option<Decimal>,
    pub sale_rate: Option<Decimal>,
    pub sale_total_amount: Decimal,
    pub gross_amount: Decimal,
    /// Net and fee per line exist in v15 (E); v13/v14 CVs carry none (`None`): the RO has them.
    pub net_amount: Option<Decimal>,
    /// Valor da comissão (MDR amount), signed: net = gross + fee.
    pub fee_amount: Option<Decimal>,
    pub minimum_fee_amount: Decimal,
    pub down_payment_amount: Decimal,
    pub mdr_tariff_amount: Decimal,
    pub fast_receipt_amount: Decimal,
    pub withdrawal_amount: Decimal,
    pub boarding_fee_amount: Decimal,
    pub pending_amount: Decimal,
    pub total_debt_amount: Decimal,
    pub charged_amount: Decimal,
    pub admin_tariff_amount: Decimal,
    pub promo_amount: Decimal,
    pub dcc_amount: Decimal,
    pub sale_time: Option<NaiveTime>,
    pub card_group: String,
    pub receiver_tax_id: String,
    pub authorization_brand_code: String,
    /// Código único da venda.
    pub unique_sale_code: String,
    /// Código original da venda (adjustments point at the sale).
    pub original_sale_code: String,
    pub negotiation_effect_id: String,
    pub sales_channel: String,
    pub terminal: String,
    pub original_posting_type_code: String,
    pub transaction_type: String,
    pub pricing_modality: String,
    pub authorization_date: Option<NaiveDate>,
    pub capture_date: Option<NaiveDate>,
    pub posting_date: Option<NaiveDate>,
    pub original_posting_date: Option<NaiveDate>,
    pub batch_number: String,
    /// Número da transação processada: on adjustments, the original sale's transaction.
    pub processed_transaction_code: String,
    pub rejection_reason: String,
    pub original_due_date: Option<NaiveDate>,
    pub payment_matrix_code: String,
    pub card_type: String,
    pub card_origin: String,
    pub bank_code: String,
    pub branch_code: String,
    pub account_number: String,
    pub account_check_digit: String,
    pub arn: String,
    pub negotiation_flag: String,
    pub capture_type: String,
    pub negotiator_tax_id: String,
}

/// Trailer record: what the acquirer declares the file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementTrailer {
    pub line_no: u64,
    /// Records between header and trailer.
    pub total_records: u64,
    pub net_total: Decimal,
    /// Number of transaction details (E records / CVs).
    pub transaction_count: u64,
    /// Blank in some v13 files.
    pub gross_total: Option<Decimal>,
    /// Valor bruto antecipado / líquido cedido.
    pub anticipated_total: Option<Decimal>,
    /// Soma de valores negociados (gravame).
    pub negotiated_total: Option<Decimal>,
}

/// Pix transaction ("transação Pix", Cielo record 8, file 16): a Pix payment received through Cielo, or an
/// adjustment of one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PixTransaction {
    pub line_no: u64,
    pub merchant_code: String,
    /// Tipo de transação: 01 Pix, 02 ajuste a crédito, 03 ajuste a débito.
    pub transaction_type_code: String,
    pub transaction_date: Option<NaiveDate>,
    pub transaction_time: Option<NaiveTime>,
    /// ID Pix (end-to-end id).
    pub pix_id: String,
    /// NSU/DOC (6 digits; `nsu_long` has the 8-digit form of layout 15.9+).
    pub nsu: String,
    pub payment_date: Option<NaiveDate>,
    pub gross_amount: Decimal,
    /// Taxa administrativa, signed (negative when charged): net = gross + fee.
    pub fee_amount: Decimal,
    pub net_amount: Decimal,
    pub bank_code: String,
    pub branch_code: String,
    pub account_number: String,
    pub capture_date: Option<NaiveDate>,
    /// Taxa administrativa in percent.
    pub fee_rate: Decimal,
    /// Tarifa administrativa (fixed amount per transaction).
    pub tariff_amount: Decimal,
    /// Meio / canal de captura.
    pub sales_channel: String,
    pub terminal: String,
    /// The original Pix, for adjustments: date, time and end-to-end id.
    pub original_transaction_date: Option<NaiveDate>,
    pub original_transaction_time: Option<NaiveTime>,
    pub original_pix_id: String,
    /// Indicativo de transferência automática (S/N).
    pub automatic_transfer_flag: String,
    /// Status da transferência (01/05 pago, 02 em transferência, 03 negada…).
    pub transfer_status_code: String,
    /// Data de pagamento na conta Cielo.
    pub cielo_account_date: Option<NaiveDate>,
    pub nsu_long: String,
    /// Indicativo de transferência programada (S/N).
    pub scheduled_transfer_flag: String,
    pub txid: String,
    /// A second end-to-end id (Cielo's ISPB): presumably the payout to the merchant's account.
    pub payout_pix_id: String,
}

/// Receivables negotiation summary ("resumo da negociação de recebíveis", Cielo record A, file 15): the
/// merchant sold (or pledged) future receivables for an amount paid now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceivablesNegotiation {
    pub line_no: u64,
    /// The statement's merchant (the record itself names only the tax id).
    pub merchant_code: String,
    pub negotiation_date: Option<NaiveDate>,
    pub payment_date: Option<NaiveDate>,
    pub holder_tax_id: String,
    /// Prazo médio, days.
    pub average_term_days: u32,
    /// Taxa nominal, percent a month (3 implied decimals).
    pub nominal_rate: Decimal,
    pub gross_amount: Decimal,
    pub net_amount: Decimal,
    /// Número da negociação na registradora.
    pub operation_code: String,
    /// Forma de pagamento of the negotiation.
    pub payment_form_code: String,
    /// Taxa efetiva (layout 15.10+), percent (3 implied decimals).
    pub effective_rate: Option<Decimal>,
}

/// One receivable negotiated ("detalhe da negociação", Cielo record B): what was due on a date for a brand
/// and settlement type, and what it was sold for. Belongs to the record A before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NegotiatedReceivable {
    pub line_no: u64,
    /// Line of the negotiation summary (record A) this detail belongs to.
    pub negotiation_line_no: u64,
    /// The record's EC (layout 15.10+), else the statement's merchant.
    pub merchant_code: String,
    pub negotiation_date: Option<NaiveDate>,
    pub original_due_date: Option<NaiveDate>,
    pub holder_tax_id: String,
    pub brand_code: String,
    pub settlement_type_code: String,
    pub gross_amount: Decimal,
    pub net_amount: Decimal,
    /// Taxa efetiva, percent (3 implied decimals).
    pub effective_rate: Decimal,
    /// Instituição financeira that bought the receivable.
    pub financial_institution: String,
    /// Valor do desconto (layout 15.10+), signed.
    pub discount_amount: Option<Decimal>,
    /// The RO this receivable is, when the statement names it (Cielo layout 001 ARV, record 6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<AnticipatedSummary>,
}

/// The RO ("resumo de operação") an anticipation bought (Cielo layout 001 record 6, "RO antecipado"): which
/// scheduled payment the merchant was paid early, and what it was worth before the anticipation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnticipatedSummary {
    /// Número do RO antecipado.
    pub summary_number: String,
    /// Número único do RO: joins the anticipation to the RO of the sales and payment files.
    pub ur_key: String,
    /// Parcela antecipada and total de parcelas (0 and 0 for an à vista RO).
    pub installment: u32,
    pub installment_count: u32,
    /// Valor bruto original do RO.
    pub original_gross_amount: Decimal,
    /// Valor líquido original do RO: what would have been paid on the due date. Less the debits offset
    /// against it ([`AnticipationOffset`]), it is the gross of the anticipation.
    pub original_net_amount: Decimal,
}

/// Account credited with a negotiation ("conta de recebimento", Cielo record C).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NegotiationCredit {
    pub line_no: u64,
    pub negotiation_line_no: u64,
    pub merchant_code: String,
    pub bank_code: String,
    pub branch_code: String,
    pub account_number: String,
    pub deposited_amount: Decimal,
}

/// Financial reserve ("reserva financeira", Cielo record R, layout 15.7+): an amount of a UR held back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FinancialReserve {
    pub line_no: u64,
    pub merchant_code: String,
    pub movement_holder_tax_id: String,
    pub brand_code: String,
    pub payment_matrix_code: String,
    pub reserve_amount: Decimal,
    pub ur_key: String,
    pub original_due_date: Option<NaiveDate>,
    pub payment_merchant_code: String,
}

/// A debit offset against an anticipated RO ("débito de RO antecipado", Cielo layout 001 record 7): Cielo kept
/// part of an anticipated RO to pay a scheduled debit (a cancellation, a chargeback), so the anticipation paid
/// that much less for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnticipationOffset {
    pub line_no: u64,
    pub merchant_code: String,
    /// Número único do RO original da venda: the anticipated RO.
    pub ur_key: String,
    /// Número do RO antecipado.
    pub summary_number: String,
    /// Data de pagamento do RO antecipado.
    pub payment_date: Option<NaiveDate>,
    /// Valor do RO antecipado, signed.
    pub summary_amount: Decimal,
    /// Número único do RO da venda que originou o ajuste.
    pub adjustment_origin_ur_key: String,
    /// Número do RO de ajuste a débito.
    pub adjustment_summary_number: String,
    pub adjustment_payment_date: Option<NaiveDate>,
    /// Valor do ajuste a débito (the whole debit), signed.
    pub adjustment_amount: Decimal,
    /// Valor compensado: the part of the debit taken from this RO, signed (negative).
    pub offset_amount: Decimal,
    /// Saldo: what is left after this offset, as Cielo states it.
    pub balance_amount: Decimal,
}

/// A sale as the merchant's own system recorded it ("venda do PDV / ERP"): what a sales reconciliation matches
/// against the acquirers' transactions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MerchantSale {
    pub line_no: u64,
    /// The store (the merchant's code for it; the acquirer's EC when the export has it).
    pub merchant_code: String,
    /// The merchant's own id of the sale (order, ticket, invoice).
    pub sale_id: String,
    pub sale_date: Option<NaiveDate>,
    pub sale_time: Option<NaiveTime>,
    pub nsu: String,
    pub authorization_code: String,
    /// Total of the sale, whatever the number of installments.
    pub gross_amount: Decimal,
    /// 1 for à vista.
    pub installments: u32,
    /// As the merchant writes it ("Visa", "MASTER"…).
    pub brand: String,
    pub card_last_digits: String,
    /// As the merchant writes it ("Cielo", "Rede"…).
    pub acquirer: String,
    /// As the merchant writes it ("crédito", "débito", "pix"…).
    pub payment_method: String,
}

/// What a record is to the store: one kind per fact table, each with its one-letter code (`stage_record.kind`,
/// V15's CHECK; the record type letters of Cielo's layout where there is one) and the `statement_file` column
/// where the parser's count of it is kept. Adding a record kind starts here (ARCHITECTURE.md, "adding a
/// record kind").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordKind {
    /// UR / RO / RV (`D`).
    ReceivableUnit,
    /// A sale, installment or adjustment line (`E`).
    CardTransaction,
    /// A Pix sale (`8`).
    PixTransaction,
    /// A receivables negotiation (`A`).
    ReceivablesNegotiation,
    /// A receivable a negotiation took (`B`).
    NegotiatedReceivable,
    /// The credit a negotiation paid (`C`).
    NegotiationCredit,
    /// A financial reserve (`R`).
    FinancialReserve,
    /// A debit offset against an anticipated RO (`O`).
    AnticipationOffset,
    /// A sale of the merchant's own books (`M`).
    MerchantSale,
}

impl RecordKind {
    pub const ALL: [RecordKind; 9] = [
        RecordKind::ReceivableUnit,
        RecordKind::CardTransaction,
        RecordKind::PixTransaction,
        RecordKind::ReceivablesNegotiation,
        RecordKind::NegotiatedReceivable,
        RecordKind::NegotiationCredit,
        RecordKind::FinancialReserve,
        RecordKind::AnticipationOffset,
        RecordKind::MerchantSale,
    ];

    /// Its code in `stage_record.kind`.
    pub fn code(self) -> &'static str {
        match self {
            RecordKind::ReceivableUnit => "D",
            RecordKind::CardTransaction => "E",
            RecordKind::PixTransaction => "8",
            RecordKind::ReceivablesNegotiation => "A",
            RecordKind::NegotiatedReceivable => "B",
            RecordKind::NegotiationCredit => "C",
            RecordKind::FinancialReserve => "R",
            RecordKind::AnticipationOffset => "O",
            RecordKind::MerchantSale => "M",
        }
    }

    /// The `statement_file` column holding how many of it the parser counted in a file.
    pub fn count_column(self) -> &'static str {
        match self {
            RecordKind::ReceivableUnit => "receivable_unit_count",
            RecordKind::CardTransaction => "transaction_count",
            RecordKind::PixTransaction => "pix_count",
            RecordKind::ReceivablesNegotiation => "negotiation_count",
            RecordKind::NegotiatedReceivable => "negotiated_receivable_count",
            RecordKind::NegotiationCredit => "negotiation_credit_count",
            RecordKind::FinancialReserve => "financial_reserve_count",
            RecordKind::AnticipationOffset => "anticipation_offset_count",
            RecordKind::MerchantSale => "merchant_sale_count",
        }
    }
}

impl std::fmt::Display for RecordKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.code())
    }
}

/// One parsed record, as the parser hands it to a sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Header(StatementHeader),
    ReceivableUnit(Box<ReceivableUnit>),
    Transaction(Box<CardTransaction>),
    Pix(Box<PixTransaction>),
    Negotiation(Box<ReceivablesNegotiation>),
    NegotiatedReceivable(Box<NegotiatedReceivable>),
    NegotiationCredit(Box<NegotiationCredit>),
    FinancialReserve(Box<FinancialReserve>),
    AnticipationOffset(Box<AnticipationOffset>),
    MerchantSale(Box<MerchantSale>),
    Trailer(StatementTrailer),
}

impl Record {
    /// Its kind; `None` for the header and trailer, which are the file's own (`statement_file`).
    pub fn kind(&self) -> Option<RecordKind> {
        Some(match self {
            Record::Header(_) | Record::Trailer(_) => return None,
            Record::ReceivableUnit(_) => RecordKind::ReceivableUnit,
            Record::Transaction(_) => RecordKind::CardTransaction,
            Record::Pix(_) => RecordKind::PixTransaction,
            Record::Negotiation(_) => RecordKind::ReceivablesNegotiation,
            Record::NegotiatedReceivable(_) => RecordKind::NegotiatedReceivable,
            Record::NegotiationCredit(_) => RecordKind::NegotiationCredit,
            Record::FinancialReserve(_) => RecordKind::FinancialReserve,
            Record::AnticipationOffset(_) => RecordKind::AnticipationOffset,
            Record::MerchantSale(_) => RecordKind::MerchantSale,
        })
    }
}
