-- A statement re-sent with the same natural identity (acquirer, merchant, file type, file date, sequence) but
-- other content replaces the earlier one in the load's transaction: the earlier file's facts are removed and
-- its control row kept as 'superseded', pointing at its successor (docs/formats.md, "Re-sent statements").
ALTER TABLE statement_file DROP CONSTRAINT statement_file_status_check;
ALTER TABLE statement_file ADD CONSTRAINT statement_file_status_check
    CHECK (status IN ('received', 'staged', 'loaded', 'rejected', 'superseded'));
ALTER TABLE statement_file
    ADD COLUMN superseded_by bigint REFERENCES statement_file (file_id),
    ADD COLUMN superseded_at timestamptz,
    ADD CONSTRAINT statement_file_superseded_check
        CHECK ((status = 'superseded') = (superseded_by IS NOT NULL));
CREATE INDEX statement_file_identity_idx
    ON statement_file (acquirer, merchant_code, file_type, processing_date, sequence) WHERE status = 'loaded';
