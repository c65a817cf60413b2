-- Settled items (a sale matched as sold, an installment paid on time and in full, a fee as contracted) are
-- kept as links between the lines they settle rather than as wide rows with a reason each (issue 18): a run
-- over a large merchant's month settles millions of them, and their details are the lines themselves.
-- `recon_item` keeps what is not settled: divergences, missing or late money, adjustments, pending
-- installments. The reason of a settled item is not stored; the statuses, amounts and both lines are.
-- No foreign key to recon_run: its check per row cost 8 of 14 s writing a run's 1.6 M links (measured); a
-- run's links are deleted with it, in the same transaction (db::recon::start_run).
CREATE TABLE recon_link (
    run_id           bigint NOT NULL,
    status           text NOT NULL CHECK (status IN ('matched', 'paid', 'ok')),
    -- Sale date (sales, fees) or due date (receivables).
    ref_date         date NOT NULL,
    expected         numeric(15, 2),
    actual           numeric(15, 2) NOT NULL,
    -- The books' line or the forecast (none for a fee), and the acquirer's line.
    expected_file_id bigint,
    expected_line_no bigint,
    actual_file_id   bigint NOT NULL,
    actual_line_no   bigint NOT NULL
);
CREATE INDEX recon_link_run_idx ON recon_link (run_id, status);

INSERT INTO recon_link (run_id, status, ref_date, expected, actual, expected_file_id, expected_line_no,
                        actual_file_id, actual_line_no)
SELECT run_id, status, ref_date, expected, actual, expected_file_id, expected_line_no, actual_file_id, actual_line_no
  FROM recon_item
 WHERE status IN ('matched', 'paid', 'ok') AND actual IS NOT NULL AND actual_file_id IS NOT NULL;
DELETE FROM recon_item WHERE status IN ('matched', 'paid', 'ok');

ALTER TABLE recon_item ADD CONSTRAINT recon_item_not_settled CHECK (status NOT IN ('matched', 'paid', 'ok'));

-- Every item of a run, settled or not, for counting and SQL/BI: a settled item's descriptive columns
-- (merchant, acquirer, sale, installment, reason) are those of its lines and are NULL here.
CREATE VIEW recon_result AS
SELECT run_id, area, status, is_open, merchant_code, acquirer, ref_date, sale_code, installment, expected, actual,
       difference, at_stake, reason, expected_file_id, expected_line_no, actual_file_id, actual_line_no
  FROM recon_item
UNION ALL
SELECT run_id, CASE status WHEN 'matched' THEN 'sales' WHEN 'paid' THEN 'receivables' ELSE 'fees' END, status,
       false, NULL, NULL, ref_date, NULL, NULL, expected, actual, actual - expected, 0, NULL, expected_file_id,
       expected_line_no, actual_file_id, actual_line_no
  FROM recon_link;
