-- The AWS ingest Lambda writes a file's bulk rows — receivable units (D) and transactions (E), nearly every
-- row of a statement — straight into their fact tables, as the one-go load does, and the load Lambda
-- attaches them. Before, they were staged in the wide stage_record and moved by the load with an
-- INSERT … SELECT joining four dimensions: every row was written twice, and the AWS path ran at 0.32× a raw
-- COPY (issue 17). Now each row is written once.
--
-- Written is not loaded: until its load, a staged file's facts must count nowhere. The tables keep every
-- row under a new name (…_all), a file whose rows are written but not attached is listed in
-- unattached_file, and the fact tables' names become views that leave those files out. Everything that
-- reads facts — reconciliation, reports, a finance team's own SQL or BI tool — reads the views and sees
-- exactly the loaded files, as before. Writers (the loaders, the supersede and restate rules) write the …_all
-- tables. A later migration that adds a column to one of these facts adds it to the …_all table and
-- recreates the view (a view's `*` is fixed when it is created).
--
-- unattached_file is tiny (the files staged and not loaded yet), so leaving them out costs an anti-join with
-- a handful of rows, whatever the size of the facts.
CREATE TABLE unattached_file (
    file_id   bigint PRIMARY KEY REFERENCES statement_file,
    staged_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE unattached_file IS
    'Files whose receivable units and transactions are written (by the ingest Lambda) but not loaded yet: the fact views leave them out';

ALTER TABLE fact_card_transaction RENAME TO fact_card_transaction_all;
CREATE VIEW fact_card_transaction AS
    SELECT * FROM fact_card_transaction_all t
     WHERE NOT EXISTS (SELECT 1 FROM unattached_file u WHERE u.file_id = t.file_id);
COMMENT ON VIEW fact_card_transaction IS
    'Card transactions (lançamentos, record E) of the loaded statements; fact_card_transaction_all also holds those of files staged and not loaded yet';

ALTER TABLE fact_receivable_unit RENAME TO fact_receivable_unit_all;
CREATE VIEW fact_receivable_unit AS
    SELECT * FROM fact_receivable_unit_all u
     WHERE NOT EXISTS (SELECT 1 FROM unattached_file x WHERE x.file_id = u.file_id);
COMMENT ON VIEW fact_receivable_unit IS
    'Receivable units (unidades de recebíveis, record D) of the loaded statements; fact_receivable_unit_all also holds those of files staged and not loaded yet';
