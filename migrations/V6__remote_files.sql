-- Files seen on remote sources (FTPS): identified before download by source + path + size + modification
-- time, after download by content (statement_file.sha256). A listed file already loaded, duplicate or
-- rejected is not fetched again; the same path with another size or time is a new file, flagged `changed`.
CREATE TABLE remote_file (
    remote_file_id bigserial PRIMARY KEY,
    source         text NOT NULL,
    path           text NOT NULL,
    size_bytes     bigint NOT NULL,
    modified_at    timestamptz,
    status         text NOT NULL CHECK (status IN ('loaded', 'duplicate', 'rejected', 'failed')),
    changed        boolean NOT NULL DEFAULT false,
    sha256         text,
    file_id        bigint REFERENCES statement_file (file_id),
    raw_key        text,
    error          text,
    attempts       integer NOT NULL DEFAULT 1,
    first_seen_at  timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE NULLS NOT DISTINCT (source, path, size_bytes, modified_at)
);
CREATE INDEX remote_file_path_idx ON remote_file (source, path);
