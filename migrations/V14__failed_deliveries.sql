-- A delivery whose ingest failed (the file could not be processed: the database refused its data, its
-- staging was lost…) is logged as 'failed' with the error, so a file never stays 'received' without a word.
ALTER TABLE statement_delivery DROP CONSTRAINT statement_delivery_outcome_check;
ALTER TABLE statement_delivery ADD CONSTRAINT statement_delivery_outcome_check
    CHECK (outcome IN ('loaded', 'staged', 'duplicate', 'rejected', 'failed'));
