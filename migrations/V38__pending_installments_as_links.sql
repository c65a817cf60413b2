-- Installments not due yet are kept as links, like settled items (issue 18, item 1): a large merchant's month
-- has hundreds of thousands of them (631 434 of 647 693 items not settled at 300 000 sales), each was a wide
-- row with a reason, and writing them was the largest part of a run's time. A pending link has its forecast
-- line and amount and no acquirer line nor amount; `recon_result` shows it as it showed the item (at stake:
-- the amount due; its reason is not kept, as a settled item's is not).
ALTER TABLE recon_link DROP CONSTRAINT recon_link_status_check;
ALTER TABLE recon_link ALTER COLUMN actual DROP NOT NULL,
                       ALTER COLUMN actual_file_id DROP NOT NULL,
                       ALTER COLUMN actual_line_no DROP NOT NULL;
ALTER TABLE recon_link ADD CONSTRAINT recon_link_lines CHECK (
    (status IN ('matched', 'paid', 'ok') AND actual IS NOT NULL AND actual_file_id IS NOT NULL
        AND actual_line_no IS NOT NULL)
    OR (status = 'pending' AND expected IS NOT NULL AND expected_file_id IS NOT NULL
        AND expected_line_no IS NOT NULL AND actual IS NULL AND actual_file_id IS NULL));

INSERT INTO recon_link (run_id, status, ref_date, expected, actual, expected_file_id, expected_line_no,
                        actual_file_id, actual_line_no)
SELECT run_id, status, ref_date, expected, NULL, expected_file_id, expected_line_no, NULL, NULL
  FROM recon_item
 WHERE status = 'pending' AND expected IS NOT NULL AND expected_file_id IS NOT NULL
   AND expected_line_no IS NOT NULL;
DELETE FROM recon_item
 WHERE status = 'pending' AND expected IS NOT NULL AND expected_file_id IS NOT NULL
   AND expected_line_no IS NOT NULL;

CREATE OR REPLACE VIEW recon_result AS
SELECT run_id, area, status, is_open, merchant_code, acquirer, ref_date, sale_code, installment, expected, actual,
       difference, at_stake, reason, expected_file_id, expected_line_no, actual_file_id, actual_line_no
  FROM recon_item
UNION ALL
SELECT run_id, CASE status WHEN 'matched' THEN 'sales' WHEN 'ok' THEN 'fees' ELSE 'receivables' END, status,
       false, NULL, NULL, ref_date, NULL, NULL, expected, actual, actual - expected,
       CASE WHEN status = 'pending' THEN abs(expected) ELSE 0 END, NULL, expected_file_id, expected_line_no,
       actual_file_id, actual_line_no
  FROM recon_link;
