//! A run's items written as they are made: a few thousand at a time by binary COPY, settled and pending ones
//! as links (`recon_link`, see [`crate::reconcile::Link`]), the others whole (`recon_item`); counted into the run's totals on the way, so a run
//! holds a batch of items, never the whole result.

use crate::error::Result;
use crate::reconcile::{Available, Link, ReconItem, Scope, Settings, Tally, Totals};
use futures_util::pin_mut;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;
use tokio_postgres::Transaction;

const COLUMNS: &str = "run_id, item_no, area, status, is_open, merchant_code, acquirer, ref_date, sale_code, nsu,
     authorization_code, installment, brand, product, expected, actual, difference, at_stake, days_late, fields,
     reason, expected_file_id, expected_line_no, actual_file_id, actual_line_no";

const LINK_COLUMNS: &str = "run_id, status, ref_date, expected, actual, expected_file_id, expected_line_no,
     actual_file_id, actual_line_no";

/// Items (or links) kept before they are sent.
const BATCH_ITEMS: usize = 10_000;

pub(super) struct Sink<'a> {
    scope: &'a Scope,
    settings: &'a Settings,
    available: &'a Available,
    run_id: i64,
    types: Vec<Type>,
    link_types: Vec<Type>,
    buffer: Vec<ReconItem>,
    links: Vec<Link>,
    /// Items written so far: the next one's `item_no` is this plus one.
    written: i32,
    tally: Tally,
    /// Time spent writing.
    pub(super) writing: std::time::Duration,
    /// For progress reports: the scope as people read it, the area being reconciled, the items made so far
    /// and at the last report.
    pub(super) label: String,
    pub(super) area: &'static str,
    made: u64,
    reported: u64,
}

/// Items between two progress reports.
const REPORT_EVERY_ITEMS: u64 = 50_000;

impl<'a> Sink<'a> {
    pub(super) async fn new(
        tx: &Transaction<'_>,
        scope: &'a Scope,
        settings: &'a Settings,
        available: &'a Available,
        run_id: i64,
    ) -> Result<Sink<'a>> {
        let types_of = |sql: String| async move {
            Ok::<_, crate::Error>(tx.prepare(&sql).await?.columns().iter().map(|c| c.type_().clone()).collect())
        };
        Ok(Sink {
            scope,
            settings,
            available,
            run_id,
            types: types_of(format!("SELECT {COLUMNS} FROM recon_item LIMIT 0")).await?,
            link_types: types_of(format!("SELECT {LINK_COLUMNS} FROM recon_link LIMIT 0")).await?,
            buffer: Vec::with_capacity(BATCH_ITEMS),
            links: Vec::with_capacity(BATCH_ITEMS),
            written: 0,
            tally: Tally::new(settings),
            writing: Default::default(),
            label: format!(
                "{} to {}{}",
                scope.from,
                scope.to,
                scope.merchant.as_deref().map(|m| format!(", merchant {m}")).unwrap_or_default()
            ),
            area: "",
            made: 0,
            reported: 0,
        })
    }

    /// Say which area is being reconciled now (and report it).
    pub(super) fn start(&mut self, area: &'static str) {
        self.area = area;
        self.reported = self.made;
        crate::progress::reconcile(&self.label, area, self.made);
    }

    /// Take an item of the run; one about something outside the scope (read only to match what is inside
    /// it) is dropped, one a missing input leaves unanswered is counted as such.
    pub(super) fn push(&mut self, item: ReconItem) {
        self.made += 1;
        if let Some(item) = self.tally.take(self.scope, self.available, item) {
            match item.link() {
                Some(link) => self.links.push(link),
                None => self.buffer.push(item),
            }
        }
    }

    /// Count an item of the run as left aside for want of an input (that it is in the scope is checked).
    pub(super) fn left_aside(&mut self, item: ReconItem, missing: crate::reconcile::MissingInput) {
        if crate::reconcile::in_scope(self.scope, &item) {
            self.tally.left_aside(&item, missing);
        }
    }

    /// Send the batch when it is full.
    pub(super) async fn flush_if_full(&mut self, tx: &Transaction<'_>) -> Result<()> {
        if self.made - self.reported >= REPORT_EVERY_ITEMS {
            self.reported = self.made;
            crate::progress::reconcile(&self.label, self.area, self.made);
        }
        if self.buffer.len() >= BATCH_ITEMS {
            self.flush(tx).await?;
        }
        if self.links.len() >= BATCH_ITEMS {
            self.flush_links(tx).await?;
        }
        Ok(())
    }

    async fn flush(&mut self, tx: &Transaction<'_>) -> Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let t = std::time::Instant::now();
        let sink = tx.copy_in(&format!("COPY recon_item ({COLUMNS}) FROM STDIN (FORMAT binary)")).await?;
        let writer = BinaryCopyInWriter::new(sink, &self.types);
        pin_mut!(writer);
        for i in self.buffer.drain(..) {
            self.written += 1;
            let (area, status, open, at_stake) =
                (i.area.as_str(), i.status.as_str(), i.is_open(), i.at_stake(self.settings));
            let (e_file, e_line) = (i.expected_ref.map(|r| r.0), i.expected_ref.map(|r| r.1));
            let (a_file, a_line) = (i.actual_ref.map(|r| r.0), i.actual_ref.map(|r| r.1));
            writer
                .as_mut()
                .write(&[
                    &self.run_id,
                    &self.written,
                    &area,
                    &status,
                    &open,
                    &i.merchant_code,
                    &i.acquirer,
                    &i.ref_date,
                    &i.sale_code,
                    &i.nsu,
                    &i.authorization_code,
                    &i.installment,
                    &i.brand,
                    &i.product,
                    &i.expected,
                    &i.actual,
                    &i.difference,
                    &at_stake,
                    &i.days_late,
                    &i.fields,
                    &i.reason,
                    &e_file,
                    &e_line,
                    &a_file,
                    &a_line,
                ])
                .await?;
        }
        writer.finish().await?;
        self.writing += t.elapsed();
        Ok(())
    }

    async fn flush_links(&mut self, tx: &Transaction<'_>) -> Result<()> {
        if self.links.is_empty() {
            return Ok(());
        }
        let t = std::time::Instant::now();
        let sink = tx.copy_in(&format!("COPY recon_link ({LINK_COLUMNS}) FROM STDIN (FORMAT binary)")).await?;
        let writer = BinaryCopyInWriter::new(sink, &self.link_types);
        pin_mut!(writer);
        for l in self.links.drain(..) {
            let (e_file, e_line) = (l.expected_ref.map(|r| r.0), l.expected_ref.map(|r| r.1));
            let (a_file, a_line) = (l.actual_ref.map(|r| r.0), l.actual_ref.map(|r| r.1));
            writer
                .as_mut()
                .write(&[
                    &self.run_id,
                    &l.status.as_str(),
                    &l.ref_date,
                    &l.expected,
                    &l.actual,
                    &e_file,
                    &e_line,
                    &a_file,
                    &a_line,
                ])
                .await?;
        }
        writer.finish().await?;
        self.writing += t.elapsed();
        Ok(())
    }

    /// Send what is left; the run's totals.
    pub(super) async fn finish(mut self, tx: &Transaction<'_>) -> Result<Totals> {
        self.flush(tx).await?;
        self.flush_links(tx).await?;
        Ok(self.tally.totals())
    }
}
