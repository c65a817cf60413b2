//! Cielo "Extrato Eletrônico" (EDI): layout 015 ([`v15`]: records D/E) and the older 250-byte layouts
//! 013/014 ([`v14`]: records 1 = RO, 2 = CV) and 001 (the same RO and CV, and [`v001`]'s anticipation records
//! 5/6/7). Field tables are in each module, positions as in Cielo's manual.

pub mod sample;
pub mod v001;
pub mod v14;
pub mod v15;

use crate::formats::detect::Detected;
use crate::formats::field::{latin1, Field, FieldError, FieldReader};
use crate::formats::{
    AnomalyKind, Family, FieldAnomaly, Issue, ParseContext, StatementParser, TrailerCheck, TrailerFigures,
};
use crate::model::{Acquirer, CardTransaction, FileType, ReceivableUnit, Record, StatementHeader, StatementTrailer};
use std::mem::take;

/// Cielo file types ("opção de extrato", header 48-49): code, kind, and whether the v15 / v13-v14 / 001
/// parsers load it.
pub const CIELO_FILE_TYPES: &[(&str, &str, bool, bool, bool)] = &[
    ("03", "sales", true, true, true),
    ("04", "payments", true, true, true),
    ("06", "anticipation", false, false, true),
    ("07", "anticipation_sale", false, false, false),
    ("08", "pending_installments", false, true, true),
    ("09", "open_balance", true, true, true),
    ("10", "alelo_anticipation", false, false, false),
    ("12", "alelo_sales", false, false, false),
    ("13", "alelo_payments", false, false, false),
    ("14", "alelo_open_balance", false, false, false),
    ("15", "receivables_negotiation", true, false, false),
    ("16", "pix", true, false, false),
];

/// Whether a Cielo file type (a row of [`CIELO_FILE_TYPES`]) is loaded in a layout.
fn loads(t: &(&str, &str, bool, bool, bool), layout: Layout) -> bool {
    match layout {
        Layout::V15 => t.2,
        Layout::V14 => t.3,
        Layout::V001 => t.4,
    }
}

/// Which detail records each file type holds, per layout (Cielo's manual, "Tipos de Arquivo"; v15 from the
/// layout notes): (file type, v15 records, v13/v14 records). A record of another type in a file of a listed
/// type means the header and the content disagree, and the file is rejected rather than loaded as what its
/// header says. Record types no layout knows are still ignored, as Cielo asks.
pub const RECORDS_BY_FILE_TYPE: &[(&str, &[u8], &[u8])] = &[
    ("03", b"DER", b"123"),
    ("04", b"DE8", b"123"),
    ("06", b"", b"2567"),
    ("08", b"", b"12"),
    ("09", b"DE", b"13"),
    ("15", b"ABC", b"ABC"),
    ("16", b"8", b"8"),
];

/// Recognise a Cielo header: "CIELO" at 43-47, the layout version at 71-73, the file type at 48-49.
fn recognise(line: &[u8]) -> Option<Detected> {
    if line.len() < 73 || line[0] != b'0' || &line[42..47] != b"CIELO" {
        return None;
    }
    let version = latin1(&line[70..73]);
    let code = latin1(&line[47..49]);
    let (format, layout) = match version.as_str() {
        "015" => ("cielo-v15", Some(Layout::V15)),
        "013" | "014" => ("cielo-v14", Some(Layout::V14)),
        "001" => ("cielo-v001", Some(Layout::V001)),
        _ => ("cielo-unknown", None),
    };
    let known = CIELO_FILE_TYPES.iter().find(|t| t.0 == code);
    let file_kind = known.map(|t| t.1).unwrap_or("unknown");
    let supported = layout.is_some_and(|l| known.is_some_and(|t| loads(t, l)));
    Some(Detected { acquirer: "cielo", format, layout_version: version, file_type: code, file_kind, supported })
}

/// Cielo in the list of format families.
pub const FAMILY: Family = Family { recognise, open };

/// The parser of a recognised Cielo file, or why this version cannot read it.
fn open(d: &Detected) -> Result<Box<dyn StatementParser>, Issue> {
    let fail =
        |column, field: &str, reason: String| Issue { line: 1, column, field: field.into(), reason, raw_line: None };
    match d.format {
        "cielo-v15" if d.supported => Ok(Box::new(Parser::new(Layout::V15))),
        "cielo-v14" if d.supported => Ok(Box::new(Parser::new(Layout::V14))),
        "cielo-v001" if d.supported => Ok(Box::new(Parser::new(Layout::V001))),
        "cielo-unknown" => Err(fail(
            Some(71),
            "header.layout_version",
            format!(
                "Cielo layout version {:?} is not supported (this version reads \"001\", \"013\", \"014\", \"015\")",
                d.layout_version
            ),
        )),
        _ => Err(fail(Some(48), "header.file_type", format!("{} is recognised but not supported yet", d.describe()))),
    }
}

/// Header (record 0), the same 250 bytes in every layout.
pub mod header {
    use crate::formats::field::Field;
    pub const MERCHANT: Field = Field::new("merchant_code", 2, 10);
    pub const PROCESSING_DATE: Field = Field::new("processing_date", 12, 8);
    pub const PERIOD_START: Field = Field::new("period_start", 20, 8);
    pub const PERIOD_END: Field = Field::new("period_end", 28, 8);
    pub const SEQUENCE: Field = Field::new("sequence", 36, 7);
    pub const ACQUIRER: Field = Field::new("acquirer", 43, 5);
    pub const FILE_TYPE: Field = Field::new("file_type", 48, 2);
    pub const MAILBOX: Field = Field::new("mailbox", 51, 20);
    pub const LAYOUT_VERSION: Field = Field::new("layout_version", 71, 3);
}

/// Parse a Cielo header; `layout` selects which file types count as supported.
pub fn parse_header(r: &mut FieldReader<'_>, layout: Layout) -> Option<StatementHeader> {
    let code_set = layout.code_set();
    use header::*;
    r.expect_literal(ACQUIRER, "CIELO");
    let layout_version = r.digits(LAYOUT_VERSION);
    let merchant_code = r.digits(MERCHANT);
    let processing_date = r.required_date_ymd(PROCESSING_DATE);
    let period_start = r.required_date_ymd(PERIOD_START);
    let period_end = r.required_date_ymd(PERIOD_END);
    let sequence = r.digits(SEQUENCE);
    let code = r.digits(FILE_TYPE);
    let kind = match CIELO_FILE_TYPES.iter().find(|t| t.0 == code) {
        Some(t @ &(_, kind, ..)) => {
            if !loads(t, layout) {
                fail(
                    r,
                    FILE_TYPE,
                    format!("Cielo file type {code} ({kind}) in layout {layout_version} is not supported yet"),
                );
            }
            kind
        }
        None => {
            if !code.is_empty() {
                fail(r, FILE_TYPE, format!("unknown Cielo file type {code:?}"));
            }
            "unknown"
        }
    };
    let mailbox = r.text(MAILBOX);
    if let (Some(s), Some(e)) = (period_start, period_end) {
        if s > e {
            fail(r, PERIOD_START, format!("period starts ({s}) after it ends ({e})"));
        }
    }
    Some(StatementHeader {
        acquirer: Acquirer::Cielo,
        layout_version,
        code_set,
        file_type: FileType { code, kind },
        merchant_code,
        processing_date: processing_date?,
        period_start: period_start?,
        period_end: period_end?,
        sequence,
        mailbox,
    })
}

fn fail(r: &mut FieldReader<'_>, f: Field, reason: String) {
    r.errors.push(FieldError { column: f.start, field: f.name, reason });
}

/// Trailer (record 9), 250 bytes in every layout. Amounts after the net total may be blank (v13).
pub mod trailer {
    use crate::formats::field::{AmountField, Field};
    pub const TOTAL_RECORDS: Field = Field::new("total_records", 2, 11);
    pub const NET_TOTAL: AmountField = AmountField::new("net_total", 13, 17, 2);
    pub const TRANSACTION_COUNT: Field = Field::new("transaction_count", 31, 11);
    pub const GROSS_TOTAL: AmountField = AmountField::new("gross_total", 42, 17, 2);
    pub const ANTICIPATED_TOTAL: AmountField = AmountField::new("anticipated_total", 60, 17, 2);
    pub const NEGOTIATED_TOTAL: AmountField = AmountField::new("negotiated_total", 78, 17, 2);
}

/// Parse a trailer line (record `9`).
pub fn parse_trailer(line_no: u64, r: &mut FieldReader<'_>) -> StatementTrailer {
    use trailer::*;
    StatementTrailer {
        line_no,
        total_records: r.number(TOTAL_RECORDS),
        net_total: r.amount(NET_TOTAL),
        transaction_count: r.number(TRANSACTION_COUNT),
        gross_total: r.opt_amount(GROSS_TOTAL),
        anticipated_total: r.opt_amount(ANTICIPATED_TOTAL),
        negotiated_total: r.opt_amount(NEGOTIATED_TOTAL),
    }
}

/// The Cielo layouts this parser reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// 013 / 014: records 1 (RO) and 2 (CV), all 250 bytes.
    V14,
    /// 015: records D (UR) and E (transaction).
    V15,
    /// 001 (Cielo's 2013 manual, files until about 2016): the 250-byte records 1 (RO) and 2 (CV) of 013/014,
    /// less the fields that layout added (read as "uso Cielo" here, so left empty), and a trailer that
    /// declares the record count only.
    V001,
}

impl Layout {
    fn widths(self) -> &'static [(u8, usize)] {
        match self {
            Layout::V14 | Layout::V001 => v14::RECORD_WIDTHS,
            Layout::V15 => v15::RECORD_WIDTHS,
        }
    }
    fn code_set(self) -> &'static str {
        match self {
            // Layout 001 uses the code tables of 013/014 (Tabela II transaction types, brands, products).
            Layout::V14 | Layout::V001 => "cielo-v14",
            Layout::V15 => "cielo-v15",
        }
    }
    /// The RO / CV layouts (001, 013, 014).
    fn ro_cv(self) -> bool {
        matches!(self, Layout::V14 | Layout::V001)
    }
    /// How short a line may be when a tool removed its trailing blanks: the end of its last field that is not
    /// "uso Cielo" (layout 001 only, where real archives come right-trimmed; elsewhere a short line is cut).
    fn trimmed_width(self, kind: u8) -> Option<usize> {
        match (self, kind) {
            (Layout::V001, b'0') => Some(73),
            (Layout::V001, b'1') => Some(235),
            (Layout::V001, b'2') => Some(217),
            (Layout::V001, b'9') => Some(12),
            (Layout::V001, _) => v001::TRIMMED_WIDTHS.iter().find(|(k, _)| *k == kind).map(|&(_, w)| w),
            _ => None,
        }
    }
}

/// Line-by-line validator of one Cielo file: structure (header first, trailer last), widths, every record,
/// and the trailer's counts and totals.
pub struct Parser {
    layout: Layout,
    header_seen: bool,
    /// The statement's merchant (header), for records that do not name one (A, C).
    merchant_code: String,
    file_type: String,
    trailer: Option<StatementTrailer>,
    /// The trailer line as read, kept with the trailer's own errors.
    trailer_raw: Option<String>,
    /// Records between header and trailer (all types).
    body_records: u64,
    /// v14: the RO the following CVs belong to.
    current_ro: Option<v14::RoContext>,
    /// v15: line of the negotiation summary (A) the following B and C records belong to.
    current_negotiation: Option<u64>,
    /// Layout 001: the anticipation operations (5) and the RO (6) being read.
    anticipations: v001::Anticipations,
}

impl Parser {
    pub fn new(layout: Layout) -> Self {
        Parser {
            layout,
            header_seen: false,
            merchant_code: String::new(),
            file_type: String::new(),
            trailer: None,
            trailer_raw: None,
            body_records: 0,
            current_ro: None,
            current_negotiation: None,
            anticipations: v001::Anticipations::default(),
        }
    }

    fn body_record(&mut self, kind: u8, line_no: u64, r: &mut FieldReader<'_>, cx: &mut ParseContext<'_>) {
        match (self.layout, kind) {
            (Layout::V15, b'D') => {
                let mut ur = v15::parse_receivable_unit(line_no, r);
                if r.errors.is_empty() {
                    use v15::ur::{FEE, GROSS, NET};
                    let amounts =
                        [(&mut ur.gross_amount, &GROSS), (&mut ur.fee_amount, &FEE), (&mut ur.net_amount, &NET)];
                    cx.check_balance(line_no, "D", amounts);
                }
                self.unit(ur, r, cx, "D");
            }
            (Layout::V15, b'E') => {
                let mut t = v15::parse_transaction(line_no, r);
                if let (true, Some(fee), Some(net)) =
                    (r.errors.is_empty(), t.fee_amount.as_mut(), t.net_amount.as_mut())
                {
                    use v15::tx::{FEE, GROSS, NET};
                    cx.check_balance(line_no, "E", [(&mut t.gross_amount, &GROSS), (fee, &FEE), (net, &NET)]);
                }
                self.transaction(t, r, cx, "E");
            }
            (Layout::V15, b'8') => {
                let mut p = v15::parse_pix(line_no, r);
                if r.errors.is_empty() {
                    use v15::pix::{FEE, GROSS, NET};
                    let amounts = [(&mut p.gross_amount, &GROSS), (&mut p.fee_amount, &FEE), (&mut p.net_amount, &NET)];
                    cx.check_balance(line_no, "8", amounts);
                }
                cx.accept(line_no, "8", take(&mut r.errors), Record::Pix(Box::new(p)));
            }
            (Layout::V15, b'A') => {
                let a = v15::parse_negotiation(line_no, r, &self.merchant_code);
                self.current_negotiation = r.errors.is_empty().then_some(line_no);
                cx.accept(line_no, "A", take(&mut r.errors), Record::Negotiation(Box::new(a)));
            }
            (Layout::V15, b'B' | b'C') => {
                let name = if kind == b'B' { "B" } else { "C" };
                let Some(group) = self.current_negotiation else {
                    cx.issue(
                        line_no,
                        Some(1),
                        name,
                        format!("record {name} without a valid negotiation summary (record A) before it"),
                    );
                    return;
                };
                let record = if kind == b'B' {
                    let mut b = v15::parse_negotiated_receivable(line_no, r, group, &self.merchant_code);
                    // What the negotiation pays: net = gross + the (negative) discount, when one is given.
                    if let (true, Some(discount)) = (r.errors.is_empty(), b.discount_amount.as_mut()) {
                        use v15::negotiated::{DISCOUNT, GROSS, NET};
                        let amounts = [(&mut b.gross_amount, &GROSS), (discount, &DISCOUNT), (&mut b.net_amount, &NET)];
                        cx.check_balance(line_no, "B", amounts);
                    }
                    Record::NegotiatedReceivable(Box::new(b))
                } else {
                    Record::NegotiationCredit(Box::new(v15::parse_negotiation_credit(
                        line_no,
                        r,
                        group,
                        &self.merchant_code,
                    )))
                };
                cx.accept(line_no, name, take(&mut r.errors), record);
            }
            (Layout::V15, b'R') => {
                let res = v15::parse_financial_reserve(line_no, r);
                cx.accept(line_no, "R", take(&mut r.errors), Record::FinancialReserve(Box::new(res)));
            }
            (Layout::V14 | Layout::V001, b'1') => {
                let mut ro = v14::parse_ro(line_no, r);
                if self.layout == Layout::V001 {
                    v14::clear_fields_not_in_layout_001_ro(&mut ro);
                }
                // With CVs rejected, the manual does not say whether the rejected sum is inside the gross: the
                // identity is checked only on ROs without rejections (every RO of the real files at hand).
                if r.errors.is_empty() && ro.rejected_amount.is_zero() {
                    use v14::ro::{FEE, GROSS, NET};
                    let amounts =
                        [(&mut ro.gross_amount, &GROSS), (&mut ro.fee_amount, &FEE), (&mut ro.net_amount, &NET)];
                    cx.check_balance(line_no, "RO", amounts);
                }
                self.current_ro = r.errors.is_empty().then(|| v14::RoContext::of(&ro));
                self.unit(ro, r, cx, "RO");
            }
            (Layout::V14 | Layout::V001, b'2') => {
                let Some(ro) = &self.current_ro else {
                    cx.issue(line_no, Some(1), "CV", "CV (type 2) without a valid RO (type 1) before it");
                    cx.summary.transactions.count += 1;
                    return;
                };
                let mut cv = v14::parse_cv(line_no, r, ro);
                if self.layout == Layout::V001 {
                    v14::read_layout_001_cv(&mut cv, r);
                }
                self.transaction(cv, r, cx, "CV");
            }
            (Layout::V001, b'5') => self.anticipations.operation(line_no, r, cx),
            (Layout::V001, b'6') => self.current_ro = self.anticipations.summary(line_no, r, cx),
            (Layout::V001, b'7') => self.current_ro = self.anticipations.offset(line_no, r, cx),
            _ => cx.summary.ignored_records += 1, // a known type this version does not load (v14 ARV…)
        }
    }

    /// The detail records the header's file type holds in this layout (empty when the type is not listed).
    fn expected_records(&self) -> &'static [u8] {
        RECORDS_BY_FILE_TYPE.iter().find(|t| t.0 == self.file_type).map_or(&[], |t| {
            if self.layout == Layout::V15 {
                t.1
            } else {
                t.2
            }
        })
    }

    fn unit(&mut self, ur: ReceivableUnit, r: &mut FieldReader<'_>, cx: &mut ParseContext<'_>, name: &str) {
        cx.accept(ur.line_no, name, take(&mut r.errors), Record::ReceivableUnit(Box::new(ur)));
    }

    fn transaction(&mut self, t: CardTransaction, r: &mut FieldReader<'_>, cx: &mut ParseContext<'_>, name: &str) {
        cx.accept(t.line_no, name, take(&mut r.errors), Record::Transaction(Box::new(t)));
    }
}

impl StatementParser for Parser {
    fn line(&mut self, line_no: u64, line: &[u8], cx: &mut ParseContext<'_>) {
        let Some(&kind) = line.first() else {
            if self.trailer.is_none() {
                cx.issue(line_no, Some(1), "line", "empty line inside the statement");
            }
            return;
        };
        if self.trailer.is_some() {
            if line.iter().all(|b| b.is_ascii_whitespace()) {
                return;
            }
            cx.issue(line_no, Some(1), "line", "record after the trailer (type 9 must be the last record)");
            return;
        }
        cx.count_record(kind);
        if line_no == 1 && kind != b'0' {
            cx.issue(line_no, Some(1), "record_type", "the first line must be the header (type 0)");
        }
        if kind != b'0' && kind != b'9' {
            self.body_records += 1;
        }
        let mut padded = Vec::new();
        match self.layout.widths().iter().find(|(k, _)| *k == kind).map(|&(_, w)| w) {
            None => {
                // Unknown record type: Cielo's manual says to ignore it (it may be added later).
                cx.summary.ignored_records += 1;
                return;
            }
            Some(width) if line.len() < width && self.layout.trimmed_width(kind).is_some_and(|w| line.len() >= w) => {
                // Right-trimmed by some tool: only "uso Cielo" blanks are missing, so they are put back.
                padded = line.to_vec();
                padded.resize(width, b' ');
                let anomaly = FieldAnomaly {
                    column: line.len() + 1,
                    field: "line",
                    kind: AnomalyKind::RightTrimmedLine,
                    found: format!("{} bytes", line.len()),
                    used: format!("{width} bytes, padded with blanks"),
                    reason: format!(
                        "record {} is {width} bytes; the {} missing at its end are \"uso Cielo\" or optional flags \
                         in layout 001, read as blanks",
                        kind as char,
                        width - line.len()
                    ),
                };
                let record = match kind {
                    b'0' => "header",
                    b'1' => "RO",
                    b'2' => "CV",
                    b'9' => "trailer",
                    _ => &(kind as char).to_string(),
                };
                cx.anomaly(line_no, anomaly, record);
            }
            Some(width) if width != line.len() => {
                cx.issue(
                    line_no,
                    Some(line.len().min(width) + 1),
                    "line",
                    format!("record {} must be {width} bytes wide, found {}", kind as char, line.len()),
                );
                match kind {
                    b'0' => self.header_seen = true,
                    b'9' => self.trailer = Some(unreadable_trailer(line_no)),
                    b'1' => self.current_ro = None,
                    _ => {}
                }
                return;
            }
            Some(_) => {}
        }
        let line: &[u8] = if padded.is_empty() { line } else { &padded };
        // A detail record the header's file type does not hold (any record, before a header or for a type
        // not listed).
        let expected = self.expected_records();
        if kind != b'0' && kind != b'9' && !expected.is_empty() && !expected.contains(&kind) {
            let holds = expected.iter().map(|&k| (k as char).to_string()).collect::<Vec<_>>();
            cx.issue(
                line_no,
                Some(1),
                "record_type",
                format!(
                    "record {} cannot appear in a file of type {}, as its header declares (that type holds {} only)",
                    kind as char,
                    self.file_type,
                    holds.join(", ")
                ),
            );
            return;
        }
        let mut r = FieldReader::new(line);
        match kind {
            b'0' => {
                if self.header_seen {
                    cx.issue(line_no, Some(1), "record_type", "a second header (type 0) in the same file");
                    return;
                }
                self.header_seen = true;
                let h = parse_header(&mut r, self.layout);
                cx.field_errors(line_no, "header", r.errors);
                if let Some(h) = h {
                    self.merchant_code = h.merchant_code.clone();
                    self.file_type = h.file_type.code.clone();
                    cx.emit(Record::Header(h));
                }
            }
            b'9' => {
                let t = if self.layout == Layout::V001 {
                    // Layout 001's trailer declares the record count only.
                    StatementTrailer { total_records: r.number(trailer::TOTAL_RECORDS), ..unreadable_trailer(line_no) }
                } else {
                    parse_trailer(line_no, &mut r)
                };
                self.trailer_raw = Some(crate::formats::field::escaped_line(line));
                let ok = r.errors.is_empty();
                cx.field_errors(line_no, "trailer", r.errors);
                if ok {
                    cx.emit(Record::Trailer(t.clone()));
                    self.trailer = Some(t);
                } else {
                    self.trailer = Some(unreadable_trailer(line_no));
                }
            }
            _ => {
                self.body_record(kind, line_no, &mut r, cx);
                let name = match (self.layout, kind) {
                    (Layout::V14 | Layout::V001, b'1') => "RO".to_string(),
                    (Layout::V14 | Layout::V001, b'2') => "CV".to_string(),
                    _ => (kind as char).to_string(),
                };
                cx.field_anomalies(line_no, &name, take(&mut r.anomalies));
            }
        }
    }

    fn finish(&mut self, last_line: u64, cx: &mut ParseContext<'_>) {
        let Some(t) = self.trailer.clone() else {
            cx.issue(
                last_line + 1,
                None,
                "trailer",
                "the file ends without a trailer (type 9): truncated or incomplete",
            );
            return;
        };
        if t.total_records == u64::MAX {
            return; // the trailer itself was malformed and already reported
        }
        if self.layout == Layout::V001 {
            self.anticipations.finish(cx);
        }
        let sm = &cx.summary;
        if self.layout == Layout::V001 {
            let computed = TrailerFigures {
                total_records: self.body_records,
                transaction_count: sm.transactions.count,
                gross_total: None,
                net_total: sm.receivable_units.net,
                negotiated_total: None,
            };
            let declared = TrailerFigures { total_records: t.total_records, ..computed.clone() };
            let matches = declared.total_records == computed.total_records;
            if !matches {
                let (_, field, reason) = trailer_mismatches(&declared, &computed, "RO", "CV").remove(0);
                cx.issue(t.line_no, Some(trailer::TOTAL_RECORDS.start), field, reason);
            }
            cx.summary.trailer = Some(TrailerCheck { declared, computed, matches, reading: "record_count_only" });
            return;
        }
        let negotiation_file = self.file_type == "15";
        let computed = TrailerFigures {
            total_records: self.body_records,
            transaction_count: sm.transactions.count,
            gross_total: Some(sm.receivable_units.gross),
            net_total: sm.receivable_units.net,
            negotiated_total: negotiation_file.then_some(sm.negotiations.net),
        };
        let declared = TrailerFigures {
            total_records: t.total_records,
            transaction_count: t.transaction_count,
            gross_total: t.gross_total,
            net_total: t.net_total,
            negotiated_total: if negotiation_file { t.negotiated_total } else { None },
        };
        // The readings real files show, and no other (a mismatch under every one is an error):
        // - totals of the D (v15) or RO (v13/v14) records, count of the E / CV records: the manual's reading;
        // - with no D record at all, totals of the E records (Cielo's v15 test kit: a CIELO03 of E records only);
        // - either of those with the Pix records (8) added to the totals, counted (older readings) or not
        //   (Cielo's v15 kit: CIELO16 trailers total the Pix records with a transaction count of 0).
        let names = if self.layout.ro_cv() { ("RO", "CV (type 2)") } else { ("D", "E") };
        let mut bases = vec![(computed.clone(), names, TrailerReading::UnitTotals)];
        if self.layout == Layout::V15 && sm.receivable_units.count == 0 && sm.transactions.count > 0 {
            let by_details = TrailerFigures {
                gross_total: Some(sm.transactions.gross),
                net_total: sm.transactions.net,
                ..computed.clone()
            };
            bases.push((by_details, ("E", "E"), TrailerReading::DetailTotals));
        }
        let mut readings = Vec::new();
        for (base, (unit, detail), reading) in bases {
            readings.push((base.clone(), (unit, detail), reading));
            if sm.pix.count > 0 {
                let with_pix = TrailerFigures {
                    gross_total: base.gross_total.map(|g| g + sm.pix.gross),
                    net_total: base.net_total + sm.pix.net,
                    ..base.clone()
                };
                let counted =
                    TrailerFigures { transaction_count: base.transaction_count + sm.pix.count, ..with_pix.clone() };
                readings.push((with_pix, ("totals with Pix (8)", detail), reading.with_pix(false)));
                readings.push((counted, ("totals with Pix (8)", "E and Pix (8)"), reading.with_pix(true)));
            }
        }
        let (computed, problems, reading) = readings
            .into_iter()
            .map(|(c, (unit, detail), reading)| {
                let p = trailer_mismatches(&declared, &c, unit, detail);
                (c, p, reading)
            })
            .min_by_key(|(_, p, _)| p.len())
            .expect("at least one reading");
        let matches = problems.is_empty();
        for (column, field, reason) in problems {
            cx.issue(t.line_no, Some(column), field, reason);
        }
        for i in cx.summary.errors.iter_mut().filter(|i| i.line == t.line_no && i.raw_line.is_none()) {
            i.raw_line = self.trailer_raw.clone();
        }
        cx.summary.trailer = Some(TrailerCheck { declared, computed, matches, reading: reading.as_str() });
    }
}

/// Which of the accepted readings of a Cielo trailer a file follows (see [`Parser::finish`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TrailerReading {
    UnitTotals,
    DetailTotals,
    UnitTotalsWithPix { counted: bool },
    DetailTotalsWithPix { counted: bool },
}

impl TrailerReading {
    fn with_pix(self, counted: bool) -> Self {
        match self {
            TrailerReading::UnitTotals | TrailerReading::UnitTotalsWithPix { .. } => {
                TrailerReading::UnitTotalsWithPix { counted }
            }
            TrailerReading::DetailTotals | TrailerReading::DetailTotalsWithPix { .. } => {
                TrailerReading::DetailTotalsWithPix { counted }
            }
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            TrailerReading::UnitTotals => "unit_totals",
            TrailerReading::DetailTotals => "detail_totals_no_units",
            TrailerReading::UnitTotalsWithPix { counted: true } => "unit_totals_with_pix_counted",
            TrailerReading::UnitTotalsWithPix { counted: false } => "unit_totals_with_pix_not_counted",
            TrailerReading::DetailTotalsWithPix { counted: true } => "detail_totals_with_pix_counted",
            TrailerReading::DetailTotalsWithPix { counted: false } => "detail_totals_with_pix_not_counted",
        }
    }
}

/// What differs between the trailer's declared figures and the computed ones: (column, field, reason).
fn trailer_mismatches(
    declared: &TrailerFigures,
    computed: &TrailerFigures,
    unit: &str,
    detail: &str,
) -> Vec<(usize, &'static str, String)> {
    let mut out = Vec::new();
    if declared.total_records != computed.total_records {
        out.push((
            trailer::TOTAL_RECORDS.start,
            "trailer.total_records",
            format!(
                "declares {} records between header and trailer, the file has {}",
                declared.total_records, computed.total_records
            ),
        ));
    }
    if declared.net_total != computed.net_total {
        out.push((
            trailer::NET_TOTAL.sign.start,
            "trailer.net_total",
            format!("declares net total {}, the {unit} records sum to {}", declared.net_total, computed.net_total),
        ));
    }
    if declared.transaction_count != computed.transaction_count {
        out.push((
            trailer::TRANSACTION_COUNT.start,
            "trailer.transaction_count",
            format!(
                "declares {} {detail} records, the file has {}",
                declared.transaction_count, computed.transaction_count
            ),
        ));
    }
    if let (Some(g), Some(c)) = (declared.gross_total, computed.gross_total) {
        if g != c {
            out.push((
                trailer::GROSS_TOTAL.sign.start,
                "trailer.gross_total",
                format!("declares gross total {g}, the {unit} records sum to {c}"),
            ));
        }
    }
    if let (Some(n), Some(c)) = (declared.negotiated_total, computed.negotiated_total) {
        if n != c {
            out.push((
                trailer::NEGOTIATED_TOTAL.sign.start,
                "trailer.negotiated_total",
                format!("declares negotiated total {n}, the negotiation summaries (A) sum to net {c}"),
            ));
        }
    }
    out
}

/// Stands for a trailer that was present but unreadable (its errors are already reported).
fn unreadable_trailer(line_no: u64) -> StatementTrailer {
    StatementTrailer {
        line_no,
        total_records: u64::MAX,
        net_total: rust_decimal::Decimal::ZERO,
        transaction_count: 0,
        gross_total: None,
        anticipated_total: None,
        negotiated_total: None,
    }
}
