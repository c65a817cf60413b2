//! Statement formats: from raw bytes to validated domain [`Record`]s, pure and synchronous.
//!
//! [`read_statement`] streams one file: it hashes the bytes, splits lines (bounded), detects the format from
//! the header — never from the file name — and hands every line to that format's [`StatementParser`], which
//! validates it, emits records to a sink and keeps the running totals the trailer is checked against.
//! Adding an acquirer means one new folder here (recognising its headers and implementing [`StatementParser`])
//! and one line in [`FAMILIES`].

pub mod balance;
pub mod bank;
pub mod cielo;
pub mod detect;
pub mod field;
#[doc(hidden)]
pub mod fuzzing;
pub mod getnet;
pub mod lines;
pub mod merchant;
pub mod pagbank;
pub mod rede;
pub mod sample_world;
pub mod stone;

use crate::model::{Acquirer, FileType, Record, RecordKind, StatementHeader};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, BufReader, Read};
use std::ops::ControlFlow;

pub use field::{AmountField, Field, FieldError, FieldReader};
pub use lines::{sha256_of, HashingReader, LineReader, MAX_LINE_BYTES};

/// At most this many problems are kept per file (the count of all of them is kept too).
pub const MAX_KEPT_ISSUES: usize = 1000;

/// One problem found in a statement, located to the byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// 1-based line number (for a problem of the whole file: the line after the last one).
    pub line: u64,
    /// 1-based byte column, when the problem has one.
    pub column: Option<usize>,
    /// The field concerned, e.g. `E.gross_amount`, `trailer.net_total`, `line`.
    pub field: String,
    pub reason: String,
    /// The offending line (latin-1, at most [`MAX_RAW_LINE`] bytes), kept with the rejection.
    #[serde(skip)]
    pub raw_line: Option<String>,
}

/// How much of a rejected line is kept.
pub const MAX_RAW_LINE: usize = 1000;

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(c) => write!(f, "line {}, column {}, field {}: {}", self.line, c, self.field, self.reason),
            None => write!(f, "line {}, field {}: {}", self.line, self.field, self.reason),
        }
    }
}

/// What kind of deviation an [`Anomaly`] is. Every kind, with what is used instead and why the meaning is
/// still unambiguous, is listed in docs/formats.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    /// A sign byte contradicts net = gross + fee; the one reading with the fewest changed signs that balances
    /// was used.
    SignContradictsAmounts,
    /// An optional code was left blank (e.g. the product of an ARV debit): loaded empty.
    BlankCode,
    /// A line shorter than its record, missing only trailing "uso Cielo" blanks (layout 001 archives).
    RightTrimmedLine,
    /// A line longer than its record, the bytes beyond it blank (real Getnet headers are 401 bytes).
    PaddedLine,
    /// A code outside the reference tables (a new product, brand or posting type): loaded raw. Found at load
    /// time, where the tables are (`db::store::flag_unknown_codes`).
    UnknownCode,
    /// Facts this statement states again, already live from an earlier statement of another identity (a
    /// recovered file beside the one it recovers): this one's replace them. Found at load time
    /// (`db::store::replace_restated_facts`), one per earlier file.
    RestatesEarlierFacts,
    /// A bank statement whose declared character set is not what its bytes are (OFX files declare 1252 and
    /// are UTF-8, or the reverse): read as what the bytes are.
    CharsetNotAsDeclared,
    /// A field that carries no data the statement is loaded with could not be read (an OFX `DTSERVER` of
    /// zeros, a CNAB sequence number out of order, stray text between elements): ignored.
    UnreadableOptionalField,
    /// An amount with a comma as its decimal separator and no point (`-600,00`): read as the separator.
    CommaDecimal,
    /// A bank statement entry without an id (an empty OFX FITID): told apart by account, date, amount, memo
    /// and its order.
    MissingId,
    /// Two entries of one bank statement with the same id (a FITID repeated): both kept.
    RepeatedId,
    /// A bank statement's closing balance is not its opening balance plus its entries, and one of them is a
    /// partial or intra-day position (CNAB `P`/`I`): the entries, which agree with the trailer, are loaded.
    BalanceNotFinal,
}

impl AnomalyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyKind::SignContradictsAmounts => "sign_contradicts_amounts",
            AnomalyKind::BlankCode => "blank_code",
            AnomalyKind::RightTrimmedLine => "right_trimmed_line",
            AnomalyKind::PaddedLine => "padded_line",
            AnomalyKind::UnknownCode => "unknown_code",
            AnomalyKind::RestatesEarlierFacts => "restates_earlier_facts",
            AnomalyKind::CharsetNotAsDeclared => "charset_not_as_declared",
            AnomalyKind::UnreadableOptionalField => "unreadable_optional_field",
            AnomalyKind::CommaDecimal => "comma_decimal",
            AnomalyKind::MissingId => "missing_id",
            AnomalyKind::RepeatedId => "repeated_id",
            AnomalyKind::BalanceNotFinal => "balance_not_final",
        }
    }

    /// Every kind, for the database's CHECK and the documentation test.
    pub const ALL: &'static [AnomalyKind] = &[
        AnomalyKind::SignContradictsAmounts,
        AnomalyKind::BlankCode,
        AnomalyKind::RightTrimmedLine,
        AnomalyKind::PaddedLine,
        AnomalyKind::UnknownCode,
        AnomalyKind::RestatesEarlierFacts,
        AnomalyKind::CharsetNotAsDeclared,
        AnomalyKind::UnreadableOptionalField,
        AnomalyKind::CommaDecimal,
        AnomalyKind::MissingId,
        AnomalyKind::RepeatedId,
        AnomalyKind::BalanceNotFinal,
    ];
}

/// A deviation from the layout whose meaning is unambiguous: the file still loads, and this is kept with it
/// (`statement_anomaly`), printed by `parse` and `ingest`, and counted by the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Anomaly {
    pub line: u64,
    pub column: Option<usize>,
    /// The field concerned, e.g. `D.fee_amount`.
    pub field: String,
    pub kind: AnomalyKind,
    /// What the file says (escaped for printing).
    pub found: String,
    /// What was loaded instead.
    pub used: String,
    /// Why that reading is the right one.
    pub reason: String,
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(c) => write!(f, "line {}, column {}, field {}", self.line, c, self.field)?,
            None => write!(f, "line {}, field {}", self.line, self.field)?,
        }
        write!(f, ": {} — found {}, used {}: {}", self.kind.as_str(), self.found, self.used, self.reason)
    }
}

/// A deviation found while reading one field (see [`Anomaly`]); the record's name is added by the parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldAnomaly {
    pub column: usize,
    pub field: &'static str,
    pub kind: AnomalyKind,
    pub found: String,
    pub used: String,
    pub reason: String,
}

/// Count and signed sums of a kind of record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub count: u64,
    pub gross: Decimal,
    pub fee: Decimal,
    pub net: Decimal,
}

impl Totals {
    pub fn add(&mut self, gross: Decimal, fee: Option<Decimal>, net: Option<Decimal>) {
        self.count += 1;
        self.gross += gross;
        self.fee += fee.unwrap_or_default();
        self.net += net.unwrap_or_default();
    }
}

/// The trailer's declared totals next to the ones computed from the records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TrailerFigures {
    pub total_records: u64,
    pub transaction_count: u64,
    /// Absent when the trailer leaves it blank (some v13 files): then it is not checked.
    pub gross_total: Option<Decimal>,
    pub net_total: Decimal,
    /// Soma dos valores negociados (receivables negotiation files): checked when declared.
    pub negotiated_total: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrailerCheck {
    pub declared: TrailerFigures,
    pub computed: TrailerFigures,
    pub matches: bool,
    /// Which of the format's accepted readings of the trailer the computed figures follow (the closest one
    /// when none matches), e.g. `unit_totals` or `detail_totals_no_units`; see docs/formats.md.
    pub reading: &'static str,
}

/// Outcome of validating a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Validity {
    Valid,
    Rejected,
}

/// What a statement holds and whether it is valid: printed by `parse`, stored with the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementSummary {
    pub file: String,
    pub size_bytes: u64,
    pub sha256: String,
    pub acquirer: Option<Acquirer>,
    pub layout_version: Option<String>,
    /// Code tables the file's codes belong to (e.g. `cielo-v15`).
    pub code_set: Option<&'static str>,
    pub file_type: Option<FileType>,
    pub merchant_code: Option<String>,
    pub processing_date: Option<NaiveDate>,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub sequence: Option<String>,
    pub lines: u64,
    /// Lines per record type byte, ignored types included.
    pub record_counts: BTreeMap<String, u64>,
    /// Records of types this version does not load (kept in the counts, not in the facts).
    pub ignored_records: u64,
    pub receivable_units: Totals,
    pub transactions: Totals,
    /// Pix transactions (Cielo record 8): gross, fee, net.
    pub pix: Totals,
    /// Receivables negotiations (Cielo record A): gross and net negotiated.
    pub negotiations: Totals,
    /// Negotiated receivables (Cielo record B): gross and net.
    pub negotiated_receivables: Totals,
    /// Accounts credited with negotiations (Cielo record C): deposited amount as gross and net.
    pub negotiation_credits: Totals,
    /// Financial reserves (Cielo record R): reserved amount as gross.
    pub financial_reserves: Totals,
    /// Debits offset against anticipated ROs (Cielo layout 001 record 7): the amount offset as gross.
    pub anticipation_offsets: Totals,
    /// The merchant's own sales (merchant sales files): gross.
    pub merchant_sales: Totals,
    pub trailer: Option<TrailerCheck>,
    pub status: Validity,
    pub error_count: u64,
    pub errors: Vec<Issue>,
    /// Deviations loaded with a clear meaning (at most [`MAX_KEPT_ISSUES`] kept; all counted).
    pub anomaly_count: u64,
    pub anomalies: Vec<Anomaly>,
}

impl StatementSummary {
    /// The count and sums of one record kind.
    pub fn totals_of(&self, kind: RecordKind) -> &Totals {
        match kind {
            RecordKind::ReceivableUnit => &self.receivable_units,
            RecordKind::CardTransaction => &self.transactions,
            RecordKind::PixTransaction => &self.pix,
            RecordKind::ReceivablesNegotiation => &self.negotiations,
            RecordKind::NegotiatedReceivable => &self.negotiated_receivables,
            RecordKind::NegotiationCredit => &self.negotiation_credits,
            RecordKind::FinancialReserve => &self.financial_reserves,
            RecordKind::AnticipationOffset => &self.anticipation_offsets,
            RecordKind::MerchantSale => &self.merchant_sales,
        }
    }

    fn new(file: &str) -> Self {
        StatementSummary {
            file: file.to_string(),
            size_bytes: 0,
            sha256: String::new(),
            acquirer: None,
            layout_version: None,
            code_set: None,
            file_type: None,
            merchant_code: None,
            processing_date: None,
            period_start: None,
            period_end: None,
            sequence: None,
            lines: 0,
            record_counts: BTreeMap::new(),
            ignored_records: 0,
            receivable_units: Totals::default(),
            transactions: Totals::default(),
            pix: Totals::default(),
            negotiations: Totals::default(),
            negotiated_receivables: Totals::default(),
            negotiation_credits: Totals::default(),
            financial_reserves: Totals::default(),
            anticipation_offsets: Totals::default(),
            merchant_sales: Totals::default(),
            trailer: None,
            status: Validity::Valid,
            error_count: 0,
            errors: Vec::new(),
            anomaly_count: 0,
            anomalies: Vec::new(),
        }
    }

    pub fn is_valid(&self) -> bool {
        self.status == Validity::Valid
    }

    /// The summary of a file that cannot be read at all (e.g. an archive that does not expand): rejected with
    /// one problem at line 1.
    pub fn unreadable(file: &str, sha256: &str, size: u64, field: &str, reason: &str) -> Self {
        let mut s = StatementSummary::new(file);
        s.sha256 = sha256.to_string();
        s.size_bytes = size;
        s.status = Validity::Rejected;
        s.error_count = 1;
        s.errors.push(Issue { line: 1, column: None, field: field.into(), reason: reason.into(), raw_line: None });
        s
    }

    fn set_header(&mut self, h: &StatementHeader) {
        self.acquirer = Some(h.acquirer);
        self.layout_version = Some(h.layout_version.clone());
        self.code_set = Some(h.code_set);
        self.file_type = Some(h.file_type.clone());
        self.merchant_code = Some(h.merchant_code.clone());
        self.processing_date = Some(h.processing_date);
        self.period_start = Some(h.period_start);
        self.period_end = Some(h.period_end);
        self.sequence = Some(h.sequence.clone());
    }
}

/// Where a parser reports to: the summary it maintains, the issues, and the sink of valid records.
pub struct ParseContext<'a> {
    pub summary: StatementSummary,
    sink: &'a mut dyn FnMut(Record) -> ControlFlow<()>,
    stopped: bool,
}

impl<'a> ParseContext<'a> {
    /// A context for one file, handing valid records to `sink`.
    pub fn new(file: &str, sink: &'a mut dyn FnMut(Record) -> ControlFlow<()>) -> Self {
        ParseContext { summary: StatementSummary::new(file), sink, stopped: false }
    }

    /// The summary, once the file is read.
    pub fn into_summary(self) -> StatementSummary {
        self.summary
    }

    /// Record a problem. Once a file has one, no further records reach the sink: it will be rejected whole.
    pub fn issue(&mut self, line: u64, column: Option<usize>, field: impl Into<String>, reason: impl Into<String>) {
        self.summary.status = Validity::Rejected;
        self.summary.error_count += 1;
        if self.summary.errors.len() < MAX_KEPT_ISSUES {
            self.summary.errors.push(Issue {
                line,
                column,
                field: field.into(),
                reason: reason.into(),
                raw_line: None,
            });
        }
    }

    /// Whether a line is not a record to read: a blank line (an error before the trailer, the file's last line
    /// after it) or any line after the trailer (an error). Rede and Getnet frame their files the same way.
    pub fn outside_records(&mut self, line_no: u64, line: &[u8], trailer_seen: bool) -> bool {
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            if !trailer_seen {
                self.issue(line_no, Some(1), "line", "empty line inside the statement");
            }
            return true;
        }
        if trailer_seen {
            self.issue(line_no, Some(1), "line", "record after the trailer (it must be the last record)");
            return true;
        }
        false
    }

    /// Keep a deviation whose meaning is clear; the file stays valid.
    pub fn anomaly(&mut self, line: u64, anomaly: FieldAnomaly, record: &str) {
        self.summary.anomaly_count += 1;
        if self.summary.anomalies.len() < MAX_KEPT_ISSUES {
            self.summary.anomalies.push(Anomaly {
                line,
                column: Some(anomaly.column),
                field: format!("{record}.{}", anomaly.field),
                kind: anomaly.kind,
                found: anomaly.found,
                used: anomaly.used,
                reason: anomaly.reason,
            });
        }
    }

    /// The anomalies of one record's fields, prefixed with the record's name.
    pub fn field_anomalies(&mut self, line: u64, record: &str, anomalies: Vec<FieldAnomaly>) {
        for a in anomalies {
            self.anomaly(line, a, record);
        }
    }

    /// Check net = gross + signed fee on a record carrying all three. When the sign bytes contradict the
    /// amounts, the readings that change the fewest (non-zero) signs are tried: exactly one that balances is
    /// used and kept as an anomaly; none or several is an error naming the three figures. Returns whether the
    /// record may be loaded.
    pub fn check_balance(&mut self, line: u64, record: &str, amounts: [(&mut Decimal, &AmountField); 3]) -> bool {
        let [(gross, g_field), (fee, f_field), (net, n_field)] = amounts;
        match balance::reread(*gross, *fee, *net) {
            balance::Reading::Balanced => true,
            balance::Reading::Reread(fixed) => {
                let fields = [g_field, f_field, n_field];
                let old = [*gross, *fee, *net];
                for ((field, before), after) in fields.iter().zip(old).zip(fixed) {
                    if before != after {
                        self.anomaly(
                            line,
                            FieldAnomaly {
                                column: field.sign.start,
                                field: field.sign.name,
                                kind: AnomalyKind::SignContradictsAmounts,
                                found: before.to_string(),
                                used: after.to_string(),
                                reason: format!(
                                    "gross {} + fee {} must equal net {}; only this sign balances them ({} + {} = {})",
                                    old[0], old[1], old[2], fixed[0], fixed[1], fixed[2]
                                ),
                            },
                            record,
                        );
                    }
                }
                [*gross, *fee, *net] = fixed;
                true
            }
            balance::Reading::Unbalanced => {
                self.issue(
                    line,
                    Some(n_field.sign.start),
                    format!("{record}.{}", n_field.sign.name),
                    format!(
                        "gross {gross} + fee {fee} must equal net {net}, and no reading of the sign bytes balances \
                         them: the amounts cannot be determined"
                    ),
                );
                false
            }
            balance::Reading::Ambiguous(readings) => {
                let shown: Vec<String> =
                    readings.iter().map(|[g, f, n]| format!("{g} + {f} = {n}")).collect::<Vec<_>>();
                self.issue(
                    line,
                    Some(n_field.sign.start),
                    format!("{record}.{}", n_field.sign.name),
                    format!(
                        "gross {gross} + fee {fee} must equal net {net}; the sign bytes contradict the amounts and \
                         several readings balance ({}): the amounts cannot be determined",
                        shown.join("; ")
                    ),
                );
                false
            }
        }
    }

    /// Field errors of one record, prefixed with the record's name.
    pub fn field_errors(&mut self, line: u64, record: &str, errors: Vec<FieldError>) {
        for e in errors {
            self.issue(line, Some(e.column), format!("{record}.{}", e.field), e.reason);
        }
    }

    /// A parsed body record: without field errors it is added to its totals and handed to the sink; with
    /// errors they are reported and the record is still counted (so that the trailer check does not add a
    /// misleading second error).
    pub fn accept(&mut self, line_no: u64, name: &str, errors: Vec<FieldError>, record: Record) {
        let valid = errors.is_empty();
        if let Some((totals, gross, fee, net)) = totals_of(&mut self.summary, &record) {
            if valid {
                totals.add(gross, fee, net);
            } else {
                totals.count += 1;
            }
        }
        if valid {
            self.emit(record);
        } else {
            self.field_errors(line_no, name, errors);
        }
    }

    /// Hand a validated record to the sink (only while the file is still valid).
    pub fn emit(&mut self, record: Record) {
        if let Record::Header(h) = &record {
            self.summary.set_header(h);
        }
        if self.summary.is_valid() && !self.stopped && (self.sink)(record).is_break() {
            self.stopped = true;
        }
    }

    pub fn count_record(&mut self, record_type: u8) {
        let key = if record_type.is_ascii_graphic() {
            (record_type as char).to_string()
        } else {
            format!("\\x{record_type:02x}")
        };
        *self.summary.record_counts.entry(key).or_insert(0) += 1;
    }

    /// Count a record whose type is a multi-byte code (Rede: "006", "05").
    pub fn count_record_code(&mut self, code: &str) {
        match self.summary.record_counts.get_mut(code) {
            Some(n) => *n += 1,
            None => {
                self.summary.record_counts.insert(code.to_string(), 1);
            }
        }
    }

    /// The sink asked to stop (e.g. the database side failed).
    pub fn stopped(&self) -> bool {
        self.stopped
    }
}

/// The totals a record counts in, with its gross, fee and net.
fn totals_of<'s>(
    s: &'s mut StatementSummary,
    record: &Record,
) -> Option<(&'s mut Totals, Decimal, Option<Decimal>, Option<Decimal>)> {
    Some(match record {
        Record::ReceivableUnit(u) => (&mut s.receivable_units, u.gross_amount, Some(u.fee_amount), Some(u.net_amount)),
        Record::Transaction(t) => (&mut s.transactions, t.gross_amount, t.fee_amount, t.net_amount),
        Record::Pix(p) => (&mut s.pix, p.gross_amount, Some(p.fee_amount), Some(p.net_amount)),
        Record::Negotiation(a) => (&mut s.negotiations, a.gross_amount, None, Some(a.net_amount)),
        Record::NegotiatedReceivable(b) => (&mut s.negotiated_receivables, b.gross_amount, None, Some(b.net_amount)),
        Record::NegotiationCredit(c) => {
            (&mut s.negotiation_credits, c.deposited_amount, None, Some(c.deposited_amount))
        }
        Record::FinancialReserve(r) => (&mut s.financial_reserves, r.reserve_amount, None, None),
        Record::AnticipationOffset(o) => (&mut s.anticipation_offsets, o.offset_amount, None, None),
        Record::MerchantSale(m) => (&mut s.merchant_sales, m.gross_amount, None, None),
        Record::Header(_) | Record::Trailer(_) => return None,
    })
}

/// A format's line-by-line parser and validator. One instance per file.
pub trait StatementParser {
    /// Validate one line (the header was already handed to [`detect`]) and emit its record.
    fn line(&mut self, line_no: u64, line: &[u8], cx: &mut ParseContext<'_>);
    /// End of input after `last_line` lines: check the trailer and the structure.
    fn finish(&mut self, last_line: u64, cx: &mut ParseContext<'_>);
}

/// A family of statement formats (an acquirer): how to recognise its headers and open a parser for them.
pub struct Family {
    /// What a first line is, if it is one of this family's headers.
    pub recognise: fn(&[u8]) -> Option<detect::Detected>,
    /// The parser for a recognised file, or why this version cannot read it.
    pub open: fn(&detect::Detected) -> Result<Box<dyn StatementParser>, Issue>,
}

/// Every format family, tried in order on a file's first line. Adding an acquirer is its folder and one line
/// here.
pub const FAMILIES: &[Family] = &[cielo::FAMILY, rede::FAMILY, getnet::FAMILY];

/// What writes an acquirer's sample of one merchant's days ([`bank::sample::AcquirerSampleSpec`]).
pub type DaySampleWriter =
    fn(&std::path::Path, &bank::sample::AcquirerSampleSpec) -> std::io::Result<bank::sample::AcquirerSample>;

/// The acquirers whose samples are one merchant's days — name, what their files are, writer — for `sample`,
/// the demo and the benchmark. Cielo's sample (many merchants, its own spec) is [`cielo::sample`].
pub const DAY_SAMPLES: &[(&str, &str, DaySampleWriter)] = &[
    ("getnet", "Getnet V10.1", getnet::sample::write),
    ("pagbank", "PagBank EDI", pagbank::sample::write),
    ("stone", "Stone conciliation", stone::sample::write),
];

/// Recognise the format from the first line and return its parser. `Err` explains why the file is not a
/// statement this version can read (unknown header, or a recognised one not supported yet).
pub fn detect(first_line: &[u8]) -> Result<Box<dyn StatementParser>, Issue> {
    let (family, d) = detect::classify_family(first_line).map_err(|reason| Issue {
        line: 1,
        column: Some(1),
        field: "header".into(),
        reason,
        raw_line: None,
    })?;
    (family.open)(&d)
}

/// Stream a statement: hash it, validate every line, emit valid records to `sink`, and summarise.
/// I/O errors are returned as such; everything wrong with the content is in the summary's issues.
pub fn read_statement<R: Read>(
    input: R,
    file: &str,
    sink: &mut dyn FnMut(Record) -> ControlFlow<()>,
) -> io::Result<StatementSummary> {
    let mut input = BufReader::with_capacity(256 * 1024, HashingReader::new(input));
    // A document rather than lines (PagBank's JSON, Stone's XML): read whole, bounded, then parsed.
    let head = io::BufRead::fill_buf(&mut input)?;
    type ReadDocument = fn(&[u8], &mut ParseContext<'_>);
    let document: Option<(usize, ReadDocument)> = if pagbank::recognise(head) {
        Some((pagbank::MAX_DOCUMENT_BYTES, pagbank::read_document))
    } else if stone::recognise(head) {
        Some((stone::MAX_DOCUMENT_BYTES, stone::read_document))
    } else {
        None
    };
    if let Some((limit, read_document)) = document {
        let mut cx = ParseContext::new(file, sink);
        let mut bytes = Vec::new();
        (&mut input).take(limit as u64 + 1).read_to_end(&mut bytes)?;
        if bytes.len() > limit {
            cx.issue(1, None, "file", format!("larger than the {limit} bytes of any statement document"));
        } else {
            read_document(&bytes, &mut cx);
        }
        cx.summary.lines =
            bytes.split(|&b| b == b'\n').count() as u64 - u64::from(bytes.ends_with(b"\n") || bytes.is_empty());
        // Neither format declares what it holds in a way that can be checked (PagBank's element count may
        // exceed the page; Stone's own example's trailer does not add up): nothing declared, nothing to match.
        if cx.summary.is_valid() && cx.summary.trailer.is_none() {
            let s = &cx.summary;
            let records = s.receivable_units.count
                + s.transactions.count
                + s.negotiations.count
                + s.negotiation_credits.count
                + s.negotiated_receivables.count;
            let figures = TrailerFigures {
                total_records: records,
                transaction_count: s.transactions.count,
                gross_total: None,
                net_total: s.transactions.net,
                negotiated_total: None,
            };
            cx.summary.trailer = Some(TrailerCheck {
                declared: figures.clone(),
                computed: figures,
                matches: true,
                reading: "none_declared",
            });
        }
        io::copy(&mut input, &mut io::sink())?;
        let (sha, size) = input.into_inner().finish();
        cx.summary.sha256 = sha;
        cx.summary.size_bytes = size;
        return Ok(cx.summary);
    }
    let mut reader = LineReader::new(input);
    let mut cx = ParseContext::new(file, sink);
    let mut parser: Option<Box<dyn StatementParser>> = None;
    let mut line_no: u64 = 0;
    let mut rejected_at_header = false;
    while let Some(line) = reader.next_line()? {
        line_no += 1;
        if let Some(len) = line.overlong {
            cx.issue(
                line_no,
                Some(MAX_LINE_BYTES + 1),
                "line",
                format!("line is {len} bytes long, over the {MAX_LINE_BYTES}-byte limit of any statement record"),
            );
            continue;
        }
        let kept_before = cx.summary.errors.len();
        match &mut parser {
            Some(p) => p.line(line_no, line.bytes, &mut cx),
            None if rejected_at_header => {}
            None => match detect(line.bytes) {
                Ok(mut p) => {
                    p.line(line_no, line.bytes, &mut cx);
                    parser = Some(p);
                }
                Err(issue) => {
                    cx.issue(issue.line, issue.column, issue.field, issue.reason);
                    rejected_at_header = true;
                }
            },
        }
        if cx.summary.errors.len() > kept_before {
            let raw = field::escaped_line(&line.bytes[..line.bytes.len().min(MAX_RAW_LINE)]);
            for i in &mut cx.summary.errors[kept_before..] {
                i.raw_line = Some(raw.clone());
            }
        }
        if cx.stopped() {
            break;
        }
    }
    if cx.stopped() {
        // The consumer gave up; drain for an honest hash and size anyway.
        let inner = reader.into_inner();
        let mut hashing = inner.into_inner();
        io::copy(&mut hashing, &mut io::sink())?;
        let (sha, size) = hashing.finish();
        cx.summary.sha256 = sha;
        cx.summary.size_bytes = size;
        cx.summary.lines = line_no;
        return Ok(cx.summary);
    }
    match &mut parser {
        Some(p) => p.finish(line_no, &mut cx),
        None if line_no == 0 => cx.issue(1, None, "file", "the file is empty"),
        None => {}
    }
    let (sha, size) = reader.into_inner().into_inner().finish();
    cx.summary.sha256 = sha;
    cx.summary.size_bytes = size;
    cx.summary.lines = line_no;
    Ok(cx.summary)
}

/// Validate only: the summary of a statement, without keeping any record.
pub fn validate_statement<R: Read>(input: R, file: &str) -> io::Result<StatementSummary> {
    // A bank statement is validated by its own reader (it is not loaded yet: `read_statement` refuses it by
    // name).
    let mut input = BufReader::with_capacity(64 * 1024, input);
    if bank::detect(io::BufRead::fill_buf(&mut input)?).is_some() {
        let mut bytes = Vec::new();
        input.take(bank::MAX_BANK_STATEMENT_BYTES as u64 + 1).read_to_end(&mut bytes)?;
        let (sha256, size) = sha256_of(&bytes[..])?;
        let s = bank::read_bank_statement(&bytes, file, &mut |_| {});
        return Ok(s.as_statement_summary(size, sha256));
    }
    read_statement(input, file, &mut |_| ControlFlow::Continue(()))
}

#[cfg(test)]
mod anomaly_kind_tests {
    use super::AnomalyKind;

    /// Every anomaly kind is documented in docs/formats.md and allowed by the database's CHECK.
    #[test]
    fn every_anomaly_kind_is_documented_and_storable() {
        let doc = include_str!("../../../docs/formats.md");
        // The CHECK as the latest migration to redefine it says.
        let migration = include_str!("../../../migrations/V31__getnet.sql");
        for kind in AnomalyKind::ALL {
            assert!(doc.contains(&format!("| `{}` |", kind.as_str())), "{} is not in docs/formats.md", kind.as_str());
            assert!(migration.contains(&format!("'{}'", kind.as_str())), "{} is not in the CHECK", kind.as_str());
        }
    }
}
