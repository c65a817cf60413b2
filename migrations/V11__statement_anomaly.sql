-- Deviations from a layout whose meaning is unambiguous (docs/formats.md): the file loads, and each deviation
-- is kept here with what was found, what was used instead and why. Stored in the same transaction as the
-- file's facts (a rejected file keeps its errors in rejected_line instead).
CREATE TABLE statement_anomaly (
    anomaly_id  bigserial PRIMARY KEY,
    file_id     bigint NOT NULL REFERENCES statement_file (file_id) ON DELETE CASCADE,
    line_no     bigint NOT NULL,
    byte_column integer,
    field       text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('sign_contradicts_amounts', 'blank_code', 'right_trimmed_line', 'unknown_code')),
    found       text NOT NULL,
    used        text NOT NULL,
    reason      text NOT NULL
);
CREATE INDEX statement_anomaly_file_idx ON statement_anomaly (file_id, line_no);

ALTER TABLE statement_file
    ADD COLUMN anomaly_count bigint NOT NULL DEFAULT 0,
    -- Which accepted reading of the trailer the file follows (e.g. unit_totals, detail_totals_no_units).
    ADD COLUMN trailer_reading text;
