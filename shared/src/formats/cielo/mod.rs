//! Cielo "Extrato Eletrônico" (EDI). Layout notes: `docs/formats` in the shared reference, summarised in
//! each record's field table in [`v15`].

pub mod sample;
pub mod v15;

use super::{Issue, StatementParser};
use crate::formats::field::latin1;

/// Cielo file types ("opção de extrato", header 48-49): code, kind, whether this version loads it.
pub const FILE_TYPES: &[(&str, &str, bool)] = &[
    ("03", "sales", true),
    ("04", "payments", true),
    ("06", "anticipation", false),
    ("08", "pending_installments", false),
    ("09", "open_balance", false),
    ("10", "alelo_anticipation", false),
    ("12", "alelo_sales", false),
    ("13", "alelo_payments", false),
    ("14", "alelo_open_balance", false),
    ("15", "receivables_negotiation", false),
    ("16", "pix", false),
];

/// A Cielo header: record type `0` with the literal `CIELO` at 43-47.
pub fn is_cielo_header(line: &[u8]) -> bool {
    line.len() >= 73 && line[0] == b'0' && &line[42..47] == b"CIELO"
}

/// The parser for a Cielo header's layout version (71-73).
pub fn parser_for(header: &[u8]) -> Result<Box<dyn StatementParser>, Issue> {
    match &header[70..73] {
        b"015" => Ok(Box::new(v15::Parser::default())),
        other => Err(Issue {
            line: 1,
            column: Some(71),
            field: "header.layout_version".into(),
            reason: format!(
                "Cielo layout version {:?} is not supported yet (this version reads \"015\")",
                latin1(other)
            ),
            raw_line: None,
        }),
    }
}

/// The kind of a Cielo file type code, and whether it is loaded.
pub fn file_type(code: &str) -> Option<(&'static str, bool)> {
    FILE_TYPES.iter().find(|(c, _, _)| *c == code).map(|&(_, kind, loaded)| (kind, loaded))
}
