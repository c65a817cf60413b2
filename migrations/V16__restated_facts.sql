-- A fact stated again by a later statement of another identity (a recovered file alongside the one it
-- recovers, a re-issue under a new sequence) replaces the earlier one: the later file keeps a
-- 'restates_earlier_facts' anomaly naming the file whose facts it replaced and how many.
ALTER TABLE statement_anomaly DROP CONSTRAINT statement_anomaly_kind_check;
ALTER TABLE statement_anomaly ADD CONSTRAINT statement_anomaly_kind_check
    CHECK (kind IN ('sign_contradicts_amounts', 'blank_code', 'right_trimmed_line', 'unknown_code',
                    'restates_earlier_facts'));

