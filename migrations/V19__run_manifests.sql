-- A run's files are read from a manifest in S3 by a Distributed Map, so that no state's payload grows with the
-- night's files: the run that last listed a remote file is kept with it, and the run's load reads its
-- outcomes here (not from the Map's results).
ALTER TABLE remote_file ADD COLUMN run_id text;
CREATE INDEX remote_file_run_idx ON remote_file (run_id) WHERE run_id IS NOT NULL;
