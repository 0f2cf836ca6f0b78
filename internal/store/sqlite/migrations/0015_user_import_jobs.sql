-- Bulk user imports (Cognito's CreateUserImportJob, docs/migration.md): the
-- job, the uploaded CSV, and the progress of its batches (next_offset is the
-- byte offset of the next row; a batch advances it in the transaction that
-- creates its users, so a crash resumes where the last batch committed).
CREATE TABLE user_import_jobs (
    pool_id TEXT NOT NULL REFERENCES pools(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    role_arn TEXT NOT NULL DEFAULT '',
    csv BLOB,
    csv_size BIGINT NOT NULL DEFAULT 0,
    next_offset BIGINT NOT NULL DEFAULT 0,
    next_line BIGINT NOT NULL DEFAULT 0,
    imported BIGINT NOT NULL DEFAULT 0,
    skipped BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0,
    failures TEXT NOT NULL DEFAULT '[]',
    message TEXT NOT NULL DEFAULT '',
    upload_expires_at BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL DEFAULT 0,
    started_at BIGINT NOT NULL DEFAULT 0,
    completed_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (pool_id, id)
);
CREATE INDEX user_import_jobs_created ON user_import_jobs (pool_id, created_at);
