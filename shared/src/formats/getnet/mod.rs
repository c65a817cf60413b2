//! Getnet (Santander) "Extrato Eletrônico" (400-byte positional, header `CEADM100` at 24-31): recognised
//! from its header so that a Getnet file is rejected with a clear "not supported yet" instead of being
//! mistaken for another format. Its parser is a later step (see ../shared/formats/rede-getnet-stone.md).

use crate::formats::detect::Detected;
use crate::formats::{Family, Issue, StatementParser};

/// Getnet in the list of format families.
pub const FAMILY: Family = Family { recognise, open };

fn recognise(line: &[u8]) -> Option<Detected> {
    if line.len() < 31 || line[0] != b'0' || &line[23..31] != b"CEADM100" {
        return None;
    }
    Some(Detected {
        acquirer: "getnet",
        format: "getnet",
        layout_version: String::new(),
        file_type: "CEADM100".into(),
        file_kind: "sales_and_payments",
        supported: false,
    })
}

fn open(d: &Detected) -> Result<Box<dyn StatementParser>, Issue> {
    Err(Issue {
        line: 1,
        column: Some(24),
        field: "header".into(),
        reason: format!("{} is recognised but not supported yet", d.describe()),
        raw_line: None,
    })
}
