-- A loaded file can be withdrawn (`syncrocardpay unload FILE_ID|SHA256`, issue 18, item 6): its facts are
-- removed in one transaction, its control row kept as 'withdrawn' (with when), the withdrawal logged as a
-- delivery, and the scopes it touched queued for reconciliation. Its content may be ingested again later.
ALTER TABLE statement_file DROP CONSTRAINT statement_file_status_check;
ALTER TABLE statement_file ADD CONSTRAINT statement_file_status_check
    CHECK (status IN ('received', 'staged', 'loaded', 'rejected', 'superseded', 'withdrawn'));
ALTER TABLE statement_file ADD COLUMN withdrawn_at timestamptz;

ALTER TABLE statement_delivery DROP CONSTRAINT statement_delivery_outcome_check;
ALTER TABLE statement_delivery ADD CONSTRAINT statement_delivery_outcome_check
    CHECK (outcome IN ('loaded', 'staged', 'duplicate', 'rejected', 'failed', 'withdrawn'));
