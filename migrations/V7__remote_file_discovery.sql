-- The deployed pipeline registers what discovery found before any download (`discovered`), and the ingest
-- Lambda stages files that the load Lambda adds to the facts later (`staged`). Neither is "done": a
-- discovered file is fetched (again) until it is staged, loaded, a duplicate or rejected.
ALTER TABLE remote_file DROP CONSTRAINT remote_file_status_check;
ALTER TABLE remote_file ADD CONSTRAINT remote_file_status_check
    CHECK (status IN ('discovered', 'staged', 'loaded', 'duplicate', 'rejected', 'failed'));
