//! A run's items written as they are made: a few thousand at a time by binary COPY — by a [`Writer`] polled
//! beside the run, so the server stores a batch while the run makes the next —, settled and pending ones
//! as links (`recon_link`, see [`crate::reconcile::Link`]), the others whole (`recon_item`); counted into
//! the run's totals on the way, so a run holds a few batches of items, never the whole result.

use crate::error::Result;
use crate::reconcile::{Available, Link, ReconItem, Scope, Settings, SourceLine, Tally, Totals};
use futures_util::pin_mut;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;
use tokio_postgres::Transaction;

/// A source line as its two nullable columns (file id, line number).
fn file_and_line(line: Option<SourceLine>) -> (Option<i64>, Option<i64>) {
    (line.map(|l| l.0), line.map(|l| l.1))
}

const COLUMNS: &str = "run_id, item_no, area, status, is_open, merchant_code, acquirer, ref_date, sale_code, nsu,
     authorization_code, installment, brand, product, expected, actual, difference, at_stake, days_late, fields,
     reason, expected_file_id, expected_line_no, actual_file_id, actual_line_no";

const LINK_COLUMNS: &str = "run_id, status, ref_date, expected, actual, expected_file_id, expected_line_no,
     actual_file_id, actual_line_no";

/// Items (or links) kept before they are sent.
const BATCH_ITEMS: usize = 10_000;

/// Batches made and not written yet, besides the one being written: the run reconciles while the server
/// stores what it made (memory: a few batches of items, whatever the volume).
const BATCHES_AHEAD: usize = 2;

/// What the run hands the [`Writer`]: items whole (numbered from `first_no`), or links.
enum Batch {
    Items { first_no: i32, items: Vec<ReconItem> },
    Links(Vec<Link>),
}

pub(super) struct Sink<'a> {
    scope: &'a Scope,
    available: &'a Available,
    batches: tokio::sync::mpsc::Sender<Batch>,
    buffer: Vec<ReconItem>,
    links: Vec<Link>,
    /// Items made whole so far: the next one's `item_no` is this plus one.
    numbered: i32,
    tally: Tally,
    /// Time spent waiting for the writer (it had [`BATCHES_AHEAD`] batches to write already).
    pub(super) waiting: std::time::Duration,
    /// For progress reports: the scope as people read it, the area being reconciled, the items made so far
    /// and at the last report.
    pub(super) label: String,
    pub(super) area: &'static str,
    made: u64,
    reported: u64,
}

/// Writes a run's batches by binary COPY, in the run's transaction, as the run makes them: polled beside the
/// run (`try_join`), so the server stores one batch while the run makes the next.
pub(super) struct Writer {
    run_id: i64,
    types: Vec<Type>,
    link_types: Vec<Type>,
    batches: tokio::sync::mpsc::Receiver<Batch>,
}

/// Items between two progress reports.
const REPORT_EVERY_ITEMS: u64 = 50_000;

impl<'a> Sink<'a> {
    /// A sink for run `run_id`, and the writer that must be polled beside the run (until the sink is
    /// finished) for the sink's batches to be written.
    pub(super) async fn new(
        tx: &Transaction<'_>,
        scope: &'a Scope,
        settings: &'a Settings,
        available: &'a Available,
        run_id: i64,
    ) -> Result<(Sink<'a>, Writer)> {
        let types_of = |sql: String| async move {
            Ok::<_, crate::Error>(tx.prepare(&sql).await?.columns().iter().map(|c| c.type_().clone()).collect())
        };
        let (send, receive) = tokio::sync::mpsc::channel(BATCHES_AHEAD);
        let writer = Writer {
            run_id,
            types: types_of(format!("SELECT {COLUMNS} FROM recon_item LIMIT 0")).await?,
            link_types: types_of(format!("SELECT {LINK_COLUMNS} FROM recon_link LIMIT 0")).await?,
            batches: receive,
        };
        let sink = Sink {
            scope,
            available,
            batches: send,
            buffer: Vec::with_capacity(BATCH_ITEMS),
            links: Vec::with_capacity(BATCH_ITEMS),
            numbered: 0,
            tally: Tally::new(settings),
            waiting: Default::default(),
            label: format!(
                "{} to {}{}",
                scope.from,
                scope.to,
                scope.merchant.as_deref().map(|m| format!(", merchant {m}")).unwrap_or_default()
            ),
            area: "",
            made: 0,
            reported: 0,
        };
        Ok((sink, writer))
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

    /// Hand a full batch to the writer (waiting when it is [`BATCHES_AHEAD`] behind).
    pub(super) async fn flush_if_full(&mut self) -> Result<()> {
        if self.made - self.reported >= REPORT_EVERY_ITEMS {
            self.reported = self.made;
            crate::progress::reconcile(&self.label, self.area, self.made);
        }
        if self.buffer.len() >= BATCH_ITEMS {
            self.send_items().await?;
        }
        if self.links.len() >= BATCH_ITEMS {
            self.send_links().await?;
        }
        Ok(())
    }

    async fn send(&mut self, batch: Batch) -> Result<()> {
        let t = std::time::Instant::now();
        // The writer only stops listening when it failed, and then the run fails with its error.
        let sent = self.batches.send(batch).await;
        self.waiting += t.elapsed();
        sent.map_err(|_| crate::Error::Other("the reconciliation's writer stopped".into()))
    }

    async fn send_items(&mut self) -> Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let items = std::mem::replace(&mut self.buffer, Vec::with_capacity(BATCH_ITEMS));
        let first_no = self.numbered + 1;
        self.numbered += items.len() as i32;
        self.send(Batch::Items { first_no, items }).await
    }

    async fn send_links(&mut self) -> Result<()> {
        if self.links.is_empty() {
            return Ok(());
        }
        let links = std::mem::replace(&mut self.links, Vec::with_capacity(BATCH_ITEMS));
        self.send(Batch::Links(links)).await
    }

    /// Hand what is left to the writer and let it finish; the run's totals.
    pub(super) async fn finish(mut self) -> Result<Totals> {
        self.send_items().await?;
        self.send_links().await?;
        Ok(self.tally.totals())
    }
}

impl Writer {
    /// Write every batch the sink hands over, until the sink is finished (or dropped); the time spent
    /// writing.
    pub(super) async fn run(mut self, tx: &Transaction<'_>, settings: &Settings) -> Result<std::time::Duration> {
        let mut writing = std::time::Duration::ZERO;
        while let Some(batch) = self.batches.recv().await {
            let t = std::time::Instant::now();
            match batch {
                Batch::Items { first_no, items } => self.write_items(tx, settings, first_no, items).await?,
                Batch::Links(links) => self.write_links(tx, links).await?,
            }
            writing += t.elapsed();
        }
        Ok(writing)
    }

    async fn write_items(
        &self,
        tx: &Transaction<'_>,
        settings: &Settings,
        first_no: i32,
        items: Vec<ReconItem>,
    ) -> Result<()> {
        let sink = tx.copy_in(&format!("COPY recon_item ({COLUMNS}) FROM STDIN (FORMAT binary)")).await?;
        let writer = BinaryCopyInWriter::new(sink, &self.types);
        pin_mut!(writer);
        for (no, i) in (first_no..).zip(items) {
            let (area, status, open, at_stake) =
                (i.area.as_str(), i.status.as_str(), i.is_open(), i.at_stake(settings));
            let (e_file, e_line) = file_and_line(i.expected_ref);
            let (a_file, a_line) = file_and_line(i.actual_ref);
            writer
                .as_mut()
                .write(&[
                    &self.run_id,
                    &no,
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
        Ok(())
    }

    async fn write_links(&self, tx: &Transaction<'_>, links: Vec<Link>) -> Result<()> {
        let sink = tx.copy_in(&format!("COPY recon_link ({LINK_COLUMNS}) FROM STDIN (FORMAT binary)")).await?;
        let writer = BinaryCopyInWriter::new(sink, &self.link_types);
        pin_mut!(writer);
        for l in links {
            let (e_file, e_line) = file_and_line(l.expected_ref);
            let (a_file, a_line) = file_and_line(l.actual_ref);
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
        Ok(())
    }
}
