-- Every file loaded is reconciled, whatever retries, timeouts or redrives happened (an outbox): the load's own
-- transaction queues the file here — and the files whose facts it replaced — and whoever reconciles next (the
-- load Lambda after its files, `run`) drains the queue idempotently: a reconciliation over a scope replaces the
-- previous one, and a file leaves the queue only after its scope was reconciled.
CREATE TABLE recon_pending (
    file_id   bigint PRIMARY KEY REFERENCES statement_file (file_id) ON DELETE CASCADE,
    queued_at timestamptz NOT NULL DEFAULT now()
);
