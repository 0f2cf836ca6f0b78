package sqlstore

import (
	"context"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// importJobCols are the columns of user_import_jobs but the CSV itself.
const importJobCols = `pool_id, id, name, status, role_arn, csv_size, next_offset, next_line, imported, skipped, failed,
	failures, message, upload_expires_at, created_at, started_at, completed_at`

func scanImportJob(sc interface{ Scan(...any) error }) (*identity.UserImportJob, error) {
	var (
		j                               identity.UserImportJob
		expires, created, started, done int64
	)
	if err := sc.Scan(&j.PoolID, &j.ID, &j.Name, &j.Status, &j.RoleARN, &j.CSVSize, &j.NextOffset, &j.NextLine,
		&j.Imported, &j.Skipped, &j.Failed, &j.Failures, &j.Message, &expires, &created, &started, &done); err != nil {
		return nil, err
	}
	j.UploadExpiresAt, j.CreatedAt, j.StartedAt, j.CompletedAt = fromMS(expires), fromMS(created), fromMS(started), fromMS(done)
	return &j, nil
}

// CreateImportJob stores j (without a CSV). ErrConflict if the id is taken.
func (q *querier) CreateImportJob(ctx context.Context, j *identity.UserImportJob) error {
	return q.execGuarded(ctx, `INSERT INTO user_import_jobs (`+importJobCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		j.PoolID, j.ID, j.Name, j.Status, j.RoleARN, j.CSVSize, j.NextOffset, j.NextLine, j.Imported, j.Skipped, j.Failed,
		j.Failures, j.Message, ms(j.UploadExpiresAt), ms(j.CreatedAt), ms(j.StartedAt), ms(j.CompletedAt))
}

// GetImportJob returns the job (not its CSV).
func (q *querier) GetImportJob(ctx context.Context, poolID, id string) (*identity.UserImportJob, error) {
	j, err := scanImportJob(q.queryRow(ctx, q.inTx, `SELECT `+importJobCols+` FROM user_import_jobs WHERE pool_id = ? AND id = ?`, poolID, id))
	if err != nil {
		return nil, q.scanErr(err, "import job "+id)
	}
	return j, nil
}

// ListImportJobs lists the pool's jobs, newest first.
func (q *querier) ListImportJobs(ctx context.Context, poolID string, page store.Page) ([]*identity.UserImportJob, string, error) {
	afterAt, afterID := int64(1<<62), ""
	if page.Token != "" {
		if err := decodeToken(page.Token, &afterAt, &afterID); err != nil {
			return nil, "", err
		}
	}
	n := page.Size()
	rows, err := q.query(ctx, q.inTx, `SELECT `+importJobCols+` FROM user_import_jobs
		WHERE pool_id = ? AND (created_at < ? OR (created_at = ? AND id < ?)) ORDER BY created_at DESC, id DESC LIMIT ?`,
		poolID, afterAt, afterAt, afterID, n+1)
	if err != nil {
		return nil, "", err
	}
	list, err := collect(rows, scanImportJob)
	if err != nil {
		return nil, "", q.mapErr(err)
	}
	var next string
	if len(list) > n {
		list = list[:n]
		next = encodeToken(ms(list[n-1].CreatedAt), list[n-1].ID)
	}
	return list, next, nil
}

// UpdateImportJob writes j's status, progress, counters, failures,
// message and dates if the stored job still has status fromStatus and
// next_offset fromOffset (compare-and-set: two runs of one batch cannot
// both count it); ErrConflict otherwise, ErrNotFound if it is gone.
func (q *querier) UpdateImportJob(ctx context.Context, j *identity.UserImportJob, fromStatus string, fromOffset int64) error {
	n, err := q.execN(ctx, `UPDATE user_import_jobs SET status = ?, next_offset = ?, next_line = ?, imported = ?, skipped = ?, failed = ?,
		failures = ?, message = ?, started_at = ?, completed_at = ? WHERE pool_id = ? AND id = ? AND status = ? AND next_offset = ?`,
		j.Status, j.NextOffset, j.NextLine, j.Imported, j.Skipped, j.Failed, j.Failures, j.Message, ms(j.StartedAt), ms(j.CompletedAt),
		j.PoolID, j.ID, fromStatus, fromOffset)
	if err != nil {
		return err
	}
	if n == 0 {
		if _, err := q.GetImportJob(ctx, j.PoolID, j.ID); err != nil {
			return err
		}
		return store.ErrConflict
	}
	return nil
}

// PutImportCSV stores the job's CSV while its status is Created and
// until the upload expires (now, the caller's clock); ErrConflict
// otherwise.
func (q *querier) PutImportCSV(ctx context.Context, poolID, id string, data []byte) error {
	n, err := q.execN(ctx, `UPDATE user_import_jobs SET csv = ?, csv_size = ? WHERE pool_id = ? AND id = ? AND status = ?`,
		data, int64(len(data)), poolID, id, identity.ImportCreated)
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrConflict
	}
	return nil
}

// GetImportCSV returns the job's CSV (nil if none was uploaded).
func (q *querier) GetImportCSV(ctx context.Context, poolID, id string) ([]byte, error) {
	var data []byte
	if err := q.queryRow(ctx, q.inTx, `SELECT csv FROM user_import_jobs WHERE pool_id = ? AND id = ?`, poolID, id).Scan(&data); err != nil {
		return nil, q.scanErr(err, "import job "+id)
	}
	return data, nil
}
