//! The merchant's own sales export (POS / ERP): the other side of a sales reconciliation. Any delimited text
//! file, read with the `csv` crate through a small mapping file that says which column is what and how dates
//! and amounts are written. Rows become [`MerchantSale`] records; every bad value is an [`Issue`] naming the
//! line, the column (its 1-based position in the row) and the field; codes stay strings.
//!
//! A mapping file (TOML):
//! ```toml
//! delimiter = ";"             # default ","
//! has_header = true           # default true; without a header, columns are given by position
//! encoding = "latin-1"        # or "utf-8" (default)
//! date_format = "%d/%m/%Y"    # chrono format; default "%Y-%m-%d"
//! time_format = "%H:%M:%S"    # default
//! decimal_separator = ","     # default "."
//! thousands_separator = "."   # optional
//! merchant_code = "1051583117"  # the store, when no column gives it
//!
//! [columns]                   # a header name, or a 1-based position
//! sale_id = "Pedido"
//! sale_date = "Data"
//! gross_amount = "Valor"
//! nsu = "NSU"                 # optional from here on
//! authorization_code = "Autorização"
//! installments = "Parcelas"
//! brand = "Bandeira"
//! sale_time = "Hora"
//! card_last_digits = "Final do cartão"
//! acquirer = "Adquirente"
//! payment_method = "Forma de pagamento"
//! merchant_code = "Loja"
//! ```

use crate::formats::lines::HashingReader;
use crate::formats::{ParseContext, StatementSummary, MAX_RAW_LINE};
use crate::model::{Acquirer, FileType, MerchantSale, Record};
use chrono::{NaiveDate, NaiveTime};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read};
use std::ops::ControlFlow;
use std::path::Path;
use std::str::FromStr;

/// Which column holds a value: its header name, or its 1-based position.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum ColumnRef {
    Position(usize),
    Name(String),
}

/// The columns of the merchant's file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    pub sale_id: ColumnRef,
    pub sale_date: ColumnRef,
    pub gross_amount: ColumnRef,
    pub nsu: Option<ColumnRef>,
    pub authorization_code: Option<ColumnRef>,
    pub installments: Option<ColumnRef>,
    pub brand: Option<ColumnRef>,
    pub sale_time: Option<ColumnRef>,
    pub card_last_digits: Option<ColumnRef>,
    pub acquirer: Option<ColumnRef>,
    pub payment_method: Option<ColumnRef>,
    pub merchant_code: Option<ColumnRef>,
}

/// How to read one merchant's sales export.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    #[serde(default = "comma")]
    pub delimiter: String,
    #[serde(default = "yes")]
    pub has_header: bool,
    #[serde(default = "utf8")]
    pub encoding: String,
    #[serde(default = "iso_date")]
    pub date_format: String,
    #[serde(default = "iso_time")]
    pub time_format: String,
    #[serde(default = "dot")]
    pub decimal_separator: String,
    pub thousands_separator: Option<String>,
    pub merchant_code: Option<String>,
    pub columns: Columns,
}

fn comma() -> String {
    ",".into()
}
fn yes() -> bool {
    true
}
fn utf8() -> String {
    "utf-8".into()
}
fn iso_date() -> String {
    "%Y-%m-%d".into()
}
fn iso_time() -> String {
    "%H:%M:%S".into()
}
fn dot() -> String {
    ".".into()
}

impl Mapping {
    /// Read and check a mapping file; errors name the file and what is wrong.
    pub fn from_file(path: &Path) -> Result<Mapping, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Mapping::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn from_toml(text: &str) -> Result<Mapping, String> {
        let m: Mapping = toml::from_str(text).map_err(|e| format!("invalid mapping: {e}"))?;
        if m.delimiter.len() != 1 {
            return Err(format!("delimiter must be one byte, found {:?}", m.delimiter));
        }
        if !matches!(m.encoding.to_ascii_lowercase().as_str(), "utf-8" | "utf8" | "latin-1" | "latin1" | "iso-8859-1") {
            return Err(format!("encoding must be \"utf-8\" or \"latin-1\", found {:?}", m.encoding));
        }
        if m.decimal_separator.chars().count() != 1 {
            return Err(format!("decimal_separator must be one character, found {:?}", m.decimal_separator));
        }
        if let Some(t) = &m.thousands_separator {
            if t.chars().count() != 1 {
                return Err(format!("thousands_separator must be one character, found {t:?}"));
            }
            if *t == m.decimal_separator {
                return Err(format!(
                    "thousands_separator and decimal_separator are both {t:?}: \"1{t}50\" could not be read"
                ));
            }
        }
        if !m.has_header {
            for (name, c) in m.all_columns() {
                if matches!(c, ColumnRef::Name(_)) {
                    return Err(format!("columns.{name}: without a header row, columns are given by position"));
                }
            }
        }
        if m.columns.merchant_code.is_none() && m.merchant_code.is_none() {
            return Err("give either merchant_code (the store) or columns.merchant_code".into());
        }
        Ok(m)
    }

    fn all_columns(&self) -> Vec<(&'static str, &ColumnRef)> {
        let c = &self.columns;
        let mut v = vec![("sale_id", &c.sale_id), ("sale_date", &c.sale_date), ("gross_amount", &c.gross_amount)];
        for (name, opt) in [
            ("nsu", &c.nsu),
            ("authorization_code", &c.authorization_code),
            ("installments", &c.installments),
            ("brand", &c.brand),
            ("sale_time", &c.sale_time),
            ("card_last_digits", &c.card_last_digits),
            ("acquirer", &c.acquirer),
            ("payment_method", &c.payment_method),
            ("merchant_code", &c.merchant_code),
        ] {
            if let Some(r) = opt {
                v.push((name, r));
            }
        }
        v
    }

    fn latin1(&self) -> bool {
        !matches!(self.encoding.to_ascii_lowercase().as_str(), "utf-8" | "utf8")
    }
}

/// Column indexes (0-based) resolved against the header row.
struct Resolved {
    index: BTreeMap<&'static str, (usize, String)>,
}

impl Resolved {
    fn new(m: &Mapping, header: Option<&[String]>) -> Result<Resolved, String> {
        let mut index = BTreeMap::new();
        for (name, c) in m.all_columns() {
            let i = match c {
                ColumnRef::Position(0) => return Err(format!("columns.{name}: positions start at 1")),
                ColumnRef::Position(p) => p - 1,
                ColumnRef::Name(n) => header
                    .and_then(|h| h.iter().position(|x| x.trim().eq_ignore_ascii_case(n.trim())))
                    .ok_or_else(|| {
                        format!(
                            "columns.{name}: no column {n:?} in the header ({})",
                            header.map(|h| h.join(", ")).unwrap_or_default()
                        )
                    })?,
            };
            let label = match c {
                ColumnRef::Name(n) => n.clone(),
                ColumnRef::Position(p) => format!("#{p}"),
            };
            index.insert(name, (i, label));
        }
        Ok(Resolved { index })
    }
}

fn decode(bytes: &[u8], latin1: bool) -> Result<String, ()> {
    if latin1 {
        Ok(crate::formats::field::latin1(bytes))
    } else {
        String::from_utf8(bytes.to_vec()).map_err(|_| ())
    }
}

/// Parse an amount as merchants write it, strictly: one optional currency sign `R$`, one sign — a leading
/// minus (before or after the `R$`) or parentheses, never both —, thousands separators only between groups of
/// three digits, one decimal separator followed by one or two digits, at most 13 digits before it (what the
/// facts hold). Anything else is an error naming what was found: `(-5,00)`, `12.34,5`, `1.2.3,45` and
/// `R$R$ 7,00` are refused rather than read as a different amount.
pub fn parse_amount(raw: &str, decimal: char, thousands: Option<char>) -> Result<Decimal, String> {
    let bad = |why: &str| format!("not an amount: {raw:?} ({why})");
    let mut s = raw.trim();
    let parens = s.starts_with('(') && s.ends_with(')') && s.len() >= 2;
    if parens {
        s = s[1..s.len() - 1].trim();
    }
    let mut minus = false;
    if let Some(rest) = s.strip_prefix('-') {
        minus = true;
        s = rest.trim_start();
    }
    if let Some(rest) = s.strip_prefix("R$") {
        s = rest.trim_start();
    }
    if let Some(rest) = s.strip_prefix('-') {
        if minus {
            return Err(bad("two minus signs"));
        }
        minus = true;
        s = rest.trim_start();
    }
    if minus && parens {
        return Err(bad("a minus sign inside parentheses: which sign is meant?"));
    }
    if s.contains("R$") {
        return Err(bad("more than one currency sign"));
    }
    let (int_part, frac) = match s.split_once(decimal) {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    if let Some(f) = frac {
        if f.is_empty() || !f.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad("digits must follow the decimal separator"));
        }
        if f.len() > 2 {
            return Err(format!("{raw:?} has more than 2 decimal places"));
        }
    }
    let digits: String = match thousands {
        Some(t) if int_part.contains(t) => {
            let groups: Vec<&str> = int_part.split(t).collect();
            let first_ok = (1..=3).contains(&groups[0].len());
            let rest_ok = groups[1..].iter().all(|g| g.len() == 3);
            if !first_ok || !rest_ok || !groups.iter().all(|g| g.chars().all(|c| c.is_ascii_digit())) {
                return Err(bad(&format!("thousands separators {t:?} must set off groups of three digits")));
            }
            groups.concat()
        }
        _ => int_part.to_string(),
    };
    if digits.is_empty() && frac.is_none() {
        return Err(bad("no digits"));
    }
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad(&format!("decimal separator {decimal:?}, thousands separator {thousands:?}")));
    }
    if digits.trim_start_matches('0').len() > crate::formats::field::MAX_INTEGER_DIGITS {
        return Err(bad("larger than any sale (at most 13 digits before the decimals)"));
    }
    let text = format!("{}.{}", if digits.is_empty() { "0" } else { &digits }, frac.unwrap_or("0"));
    let d = Decimal::from_str(&text).map_err(|e| bad(&e.to_string()))?;
    let d = if minus || parens { -d } else { d };
    Ok(if d.is_zero() { Decimal::ZERO } else { d })
}

/// The most bytes one CSV record may take: a sale is a few hundred; far more is an unterminated quote
/// swallowing the rest of the file, which must not be held in memory.
pub const MAX_RECORD_BYTES: u64 = 1 << 20;

/// A record past [`MAX_RECORD_BYTES`].
#[derive(Debug)]
struct RecordTooLong;

impl fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a record longer than {MAX_RECORD_BYTES} bytes: an unterminated quote? the file is rejected")
    }
}

impl std::error::Error for RecordTooLong {}

/// Passes bytes through, counting those since the last record boundary (a newline outside quotes: quotes
/// doubled inside a field keep the count even), and fails past [`MAX_RECORD_BYTES`] — so the CSV reader
/// never buffers an unbounded record.
struct RecordBound<R> {
    inner: R,
    in_quotes: bool,
    since_boundary: u64,
}

impl<R: Read> RecordBound<R> {
    fn new(inner: R) -> Self {
        RecordBound { inner, in_quotes: false, since_boundary: 0 }
    }
}

impl<R: Read> Read for RecordBound<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            match b {
                b'"' => self.in_quotes = !self.in_quotes,
                b'\n' if !self.in_quotes => self.since_boundary = 0,
                _ => {}
            }
            self.since_boundary += 1;
            if self.since_boundary > MAX_RECORD_BYTES {
                return Err(io::Error::new(io::ErrorKind::InvalidData, RecordTooLong));
            }
        }
        Ok(n)
    }
}

/// Stream a merchant sales file: hash it, validate every row, emit valid sales to `sink`, and summarise
/// (sales in `merchant_sales`). I/O errors are returned; everything wrong with the content is an issue.
pub fn read_merchant_sales<R: Read>(
    input: R,
    file: &str,
    mapping: &Mapping,
    sink: &mut dyn FnMut(Record) -> ControlFlow<()>,
) -> io::Result<StatementSummary> {
    let mut hashing = HashingReader::new(input);
    let mut cx = ParseContext::new(file, sink);
    cx.summary.acquirer = Some(Acquirer::Merchant);
    cx.summary.code_set = Some("merchant");
    cx.summary.file_type = Some(FileType { code: "merchant_sales".into(), kind: "merchant_sales" });
    cx.summary.layout_version = Some("csv".into());
    let latin1 = mapping.latin1();
    let decimal = mapping.decimal_separator.chars().next().unwrap_or('.');
    let thousands = mapping.thousands_separator.as_ref().and_then(|t| t.chars().next());
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(mapping.delimiter.as_bytes()[0])
        .has_headers(false)
        .flexible(true)
        .from_reader(RecordBound::new(&mut hashing));
    let mut record = csv::ByteRecord::new();
    let mut resolved: Option<Resolved> = None;
    let mut first_date: Option<NaiveDate> = None;
    let mut last_date: Option<NaiveDate> = None;
    let mut header_emitted = false;
    let mut rows = 0u64;
    loop {
        let line_no = rdr.position().line();
        match rdr.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                if let csv::ErrorKind::Io(_) = e.kind() {
                    let csv::ErrorKind::Io(io) = e.into_kind() else { unreachable!() };
                    if io.get_ref().is_some_and(|inner| inner.is::<RecordTooLong>()) {
                        cx.issue(line_no, None, "row", io.to_string());
                        break;
                    }
                    return Err(io);
                }
                cx.issue(line_no, None, "row", format!("unreadable CSV row: {e}"));
                break;
            }
        }
        let line = record.position().map_or(line_no, |p| p.line());
        let raw = || {
            let joined = record.iter().map(crate::formats::field::escaped_line).collect::<Vec<_>>();
            // At most MAX_RAW_LINE characters (never cut inside one).
            joined.join(&mapping.delimiter).chars().take(MAX_RAW_LINE).collect::<String>()
        };
        if resolved.is_none() {
            let header: Option<Vec<String>> = if mapping.has_header {
                Some(record.iter().map(|f| decode(f, latin1).unwrap_or_default()).collect())
            } else {
                None
            };
            match Resolved::new(mapping, header.as_deref()) {
                Ok(r) => resolved = Some(r),
                Err(reason) => {
                    cx.issue(line, Some(1), "header", reason);
                    break;
                }
            }
            if mapping.has_header {
                continue;
            }
        }
        let cols = resolved.as_ref().expect("resolved above");
        if record.iter().all(|f| f.iter().all(|b| b.is_ascii_whitespace())) {
            continue; // blank line
        }
        rows += 1;
        let before = cx.summary.errors.len();
        if let Some((name, (i, label))) = cols.index.iter().max_by_key(|(_, (i, _))| *i) {
            if record.len() <= *i {
                cx.issue(
                    line,
                    Some(record.len() + 1),
                    "row",
                    format!("row has {} columns, the mapping reads column {label} ({name}) at {}", record.len(), i + 1),
                );
                cx.summary.errors.last_mut().expect("just added").raw_line = Some(raw());
                cx.summary.merchant_sales.count += 1;
                continue;
            }
        }
        let get = |name: &'static str, cx: &mut ParseContext<'_>| -> Option<String> {
            let (i, label) = cols.index.get(name)?;
            match record.get(*i) {
                None => {
                    cx.issue(line, Some(i + 1), name, format!("row has {} columns, no column {label}", record.len()));
                    None
                }
                Some(b) => match decode(b, latin1) {
                    // A NUL cannot be stored in text (and no export holds one): an error at its column.
                    Ok(s) if s.contains('\0') => {
                        cx.issue(line, Some(i + 1), name, format!("column {label} holds a NUL character"));
                        None
                    }
                    Ok(s) => Some(s.trim().to_string()),
                    Err(()) => {
                        cx.issue(line, Some(i + 1), name, format!("column {label} is not valid UTF-8 (set encoding)"));
                        None
                    }
                },
            }
        };
        let col = |name: &str| cols.index.get(name).map(|(i, _)| i + 1);
        let sale_id = get("sale_id", &mut cx).unwrap_or_default();
        let date_raw = get("sale_date", &mut cx);
        let amount_raw = get("gross_amount", &mut cx);
        let mut sale = MerchantSale {
            line_no: line,
            sale_id: sale_id.clone(),
            merchant_code: match get("merchant_code", &mut cx) {
                Some(m) => m,
                None => mapping.merchant_code.clone().unwrap_or_default(),
            },
            nsu: get("nsu", &mut cx).unwrap_or_default(),
            authorization_code: get("authorization_code", &mut cx).unwrap_or_default(),
            brand: get("brand", &mut cx).unwrap_or_default(),
            card_last_digits: get("card_last_digits", &mut cx).unwrap_or_default(),
            acquirer: get("acquirer", &mut cx).unwrap_or_default(),
            payment_method: get("payment_method", &mut cx).unwrap_or_default(),
            ..Default::default()
        };
        if sale_id.is_empty() && cx.summary.errors.len() == before {
            cx.issue(line, col("sale_id"), "sale_id", "the sale id is empty");
        }
        if sale.merchant_code.is_empty() && cx.summary.errors.len() == before {
            cx.issue(line, col("merchant_code"), "merchant_code", "the store (merchant code) is empty");
        }
        if let Some(d) = date_raw {
            match NaiveDate::parse_from_str(&d, &mapping.date_format) {
                Ok(date) => {
                    sale.sale_date = Some(date);
                    first_date = Some(first_date.map_or(date, |f| f.min(date)));
                    last_date = Some(last_date.map_or(date, |l| l.max(date)));
                }
                Err(e) => cx.issue(
                    line,
                    col("sale_date"),
                    "sale_date",
                    format!("{d:?} is not a date in the format {} ({e})", mapping.date_format),
                ),
            }
        }
        if let Some(t) = get("sale_time", &mut cx).filter(|t| !t.is_empty()) {
            match NaiveTime::parse_from_str(&t, &mapping.time_format) {
                Ok(time) => sale.sale_time = Some(time),
                Err(e) => cx.issue(line, col("sale_time"), "sale_time", format!("{t:?} is not a time ({e})")),
            }
        }
        if let Some(a) = amount_raw {
            match parse_amount(&a, decimal, thousands) {
                Ok(v) => sale.gross_amount = v,
                Err(reason) => cx.issue(line, col("gross_amount"), "gross_amount", reason),
            }
        }
        if let Some(n) = get("installments", &mut cx) {
            match n.parse::<u32>() {
                Ok(v) if v <= 99 => sale.installments = v.max(1),
                _ if n.is_empty() => sale.installments = 1,
                _ => cx.issue(
                    line,
                    col("installments"),
                    "installments",
                    format!("{n:?} is not a number of installments"),
                ),
            }
        } else {
            sale.installments = 1;
        }
        if cx.summary.errors.len() > before {
            let r = raw();
            for i in &mut cx.summary.errors[before..] {
                i.raw_line = Some(r.clone());
            }
            cx.summary.merchant_sales.count += 1;
            continue;
        }
        if !header_emitted {
            header_emitted = true;
            cx.summary.merchant_code = Some(sale.merchant_code.clone());
        }
        cx.summary.merchant_sales.add(sale.gross_amount, None, None);
        cx.emit(Record::MerchantSale(Box::new(sale)));
        if cx.stopped() {
            break;
        }
    }
    if rows == 0 && cx.summary.errors.is_empty() {
        cx.issue(rdr.position().line(), None, "file", "no sales in the file");
    }
    drop(rdr);
    io::copy(&mut hashing, &mut io::sink())?;
    let (sha, size) = hashing.finish();
    let mut s = cx.into_summary();
    s.sha256 = sha;
    s.size_bytes = size;
    s.lines = rows;
    s.processing_date = last_date;
    s.period_start = first_date;
    s.period_end = last_date;
    s.record_counts.insert("sale".into(), rows);
    Ok(s)
}
