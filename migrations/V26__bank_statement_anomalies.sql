-- Bank statements (issue 19) are read with the anomalies of their own formats: a character set that is not
-- the declared one, an unreadable field that carries no data (an OFX DTSERVER of zeros), a comma as decimal
-- separator, an entry without an id or with another entry's id (OFX FITIDs are neither present nor unique),
-- a closing balance the entries do not reach when a balance is a partial or intra-day position (CNAB P/I).
ALTER TABLE statement_anomaly DROP CONSTRAINT statement_anomaly_kind_check;
ALTER TABLE statement_anomaly ADD CONSTRAINT statement_anomaly_kind_check
    CHECK (kind IN ('sign_contradicts_amounts', 'blank_code', 'right_trimmed_line', 'unknown_code',
                    'restates_earlier_facts', 'charset_not_as_declared', 'unreadable_optional_field',
                    'comma_decimal', 'missing_id', 'repeated_id', 'balance_not_final'));
