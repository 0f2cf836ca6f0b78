package auth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/jobs"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Bulk import (Cognito's user import jobs, docs/migration.md)
//
//	CreateUserImportJob   -> Created, with a pre-signed upload URL
//	PUT <PreSignedUrl>    <- the CSV (GetCSVHeader's columns), while Created
//	StartUserImportJob    -> Pending; one ImportJobKind job is enqueued
//	job run               -> InProgress; batches of ImportBatchSize rows,
//	                         each ONE transaction that creates its users and
//	                         moves next_offset on (compare-and-set), so a
//	                         crash resumes after the last committed batch
//	                      -> Succeeded (rows that failed are counted and
//	                         logged), or Failed (the file cannot be read)
//	StopUserImportJob     -> Stopping -> Stopped at the next batch
//
// Users arrive RESET_REQUIRED without a password, as in Cognito: their
// first sign-in answers PasswordResetRequiredException and ForgotPassword
// sends them a code. A username already in the pool is skipped; a row
// Gatehouse refuses (attributes, email, MFA) is failed, with its line in
// the job's failures and the log. Each imported user is activated as an
// admin-created one (activateUser: default and company groups).
//
// The upload URL is signed with an HMAC under the master key (purpose
// importUploadPurpose) over pool, job and expiry: it works for one job,
// until UploadExpiresAt, and only while the job is Created.

// Import limits and settings.
const (
	ImportJobKind       = "cognito.user_import"
	ImportBatchSize     = 1000
	ImportUploadTTL     = 15 * time.Minute
	MaxImportCSVBytes   = 100 << 20 // Cognito's limit on the file
	maxImportFailures   = 100       // failed rows kept on the job
	importUploadPurpose = "gatehouse import upload v1"
	// ImportUploadPath is the path of upload URLs:
	// /_import/upload/{pool}/{job}. (The literal second segment keeps the
	// pattern clear of the pages' /{pool}/<page>/{x} patterns.)
	ImportUploadPath = "/_import/upload/"
)

// importHeaderHead and importHeaderTail frame GetCSVHeader: Cognito's
// standard attributes in its order, the pool's custom attributes, then
// cognito:mfa_enabled and cognito:username.
var importHeaderHead = []string{"name", "given_name", "family_name", "middle_name", "nickname", "preferred_username", "profile",
	"picture", "website", "email", "email_verified", "gender", "birthdate", "zoneinfo", "locale", "phone_number",
	"phone_number_verified", "address", "updated_at"}

// GetCSVHeader returns the columns of the pool's import CSV.
//
// Errors: resource_not_found.
func (s *Service) GetCSVHeader(ctx context.Context, poolID string) ([]string, error) {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, err
	}
	h := append([]string{}, importHeaderHead...)
	for _, d := range p.Schema {
		h = append(h, d.Name)
	}
	return append(h, "cognito:mfa_enabled", "cognito:username"), nil
}

// ImportJobView is a job with its upload URL.
type ImportJobView struct {
	*identity.UserImportJob
	PreSignedURL string
}

// CreateUserImportJob creates a job in status Created with an upload URL
// valid ImportUploadTTL. name: 1..128 characters of Cognito's
// [\w\s+=,.@-]; roleARN is kept and echoed (Gatehouse logs instead of
// CloudWatch).
//
// Errors: resource_not_found (pool), invalid_parameter.
func (s *Service) CreateUserImportJob(ctx context.Context, poolID, name, roleARN string) (*ImportJobView, error) {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, err
	}
	if err := validateImportJobName(name); err != nil {
		return nil, err
	}
	if len(roleARN) > 2048 || hasControl(roleARN) {
		return nil, identity.FieldError("CloudWatchLogsRoleArn", "The CloudWatchLogsRoleArn is not a valid ARN.")
	}
	id, err := s.randomString(10, lowerAlnum)
	if err != nil {
		return nil, err
	}
	now := s.now()
	j := &identity.UserImportJob{PoolID: p.ID, ID: "import-" + id, Name: name, Status: identity.ImportCreated, RoleARN: roleARN,
		Failures: "[]", NextLine: 1, UploadExpiresAt: now.Add(ImportUploadTTL), CreatedAt: now}
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		if err := q.CreateImportJob(ctx, j); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, "admin.user_import_job_create", "import:"+j.ID, map[string]string{"name": name})
	})
	if err != nil {
		return nil, wrapStoreErr("create import job", err)
	}
	return s.importView(j), nil
}

func validateImportJobName(name string) error {
	if name == "" || len([]rune(name)) > 128 {
		return identity.FieldError("JobName", "The JobName must be 1 to 128 characters.")
	}
	for _, r := range name {
		ok := r == '_' || r == ' ' || r == '+' || r == '=' || r == ',' || r == '.' || r == '@' || r == '-' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !ok {
			return identity.FieldError("JobName", "1 validation error detected: Value at 'jobName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+")
		}
	}
	return nil
}

// importView adds the upload URL while the job can take one.
// importExpired reports whether j is a Created job that can no longer be
// started: its upload URL expired before a file came (Cognito's Expired).
// The status is derived when the job is read; nothing runs to write it.
func (s *Service) importExpired(j *identity.UserImportJob) bool {
	return j.Status == identity.ImportCreated && j.CSVSize == 0 && !s.now().Before(j.UploadExpiresAt)
}

func (s *Service) importView(j *identity.UserImportJob) *ImportJobView {
	if s.importExpired(j) {
		c := *j
		c.Status = identity.ImportExpired
		j = &c
	}
	v := &ImportJobView{UserImportJob: j}
	if j.Status == identity.ImportCreated {
		exp := strconv.FormatInt(j.UploadExpiresAt.Unix(), 10)
		v.PreSignedURL = s.cfg.BaseURL + ImportUploadPath + url.PathEscape(j.PoolID) + "/" + url.PathEscape(j.ID) +
			"?X-Amz-Expires=" + exp + "&X-Amz-Signature=" + s.uploadSignature(j.PoolID, j.ID, exp)
	}
	return v
}

func (s *Service) uploadSignature(poolID, jobID, expires string) string {
	return base64.RawURLEncoding.EncodeToString(s.cfg.Secrets.MAC(importUploadPurpose, []byte(poolID+"\x00"+jobID+"\x00"+expires)))
}

var errBadUploadURL = identity.Errorf(identity.CodeForbidden, "The upload URL is not valid, or has expired.")

// UploadImportCSV stores the CSV of a job through its pre-signed URL
// (expires and signature are the URL's query values). The body is read up
// to MaxImportCSVBytes.
//
// Errors: forbidden (bad or expired URL), conflict (the job is no longer
// Created), payload_too_large, invalid_parameter (empty file).
func (s *Service) UploadImportCSV(ctx context.Context, poolID, jobID, expires, signature string, body io.Reader) error {
	want := s.uploadSignature(poolID, jobID, expires)
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return errBadUploadURL
	}
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || !s.now().Before(time.Unix(exp, 0)) {
		return errBadUploadURL
	}
	data, err := io.ReadAll(io.LimitReader(body, MaxImportCSVBytes+1))
	if err != nil {
		return identity.Errorf(identity.CodeInvalidParameter, "The upload could not be read.")
	}
	if len(data) > MaxImportCSVBytes {
		return identity.Errorf(identity.CodePayloadTooLarge, "The file is larger than %d bytes.", MaxImportCSVBytes)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return identity.Errorf(identity.CodeInvalidParameter, "The file is empty.")
	}
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		if err := q.PutImportCSV(ctx, poolID, jobID, data); err != nil {
			return err
		}
		return s.audit(ctx, q, poolID, "admin.user_import_upload", "import:"+jobID, map[string]string{"bytes": strconv.Itoa(len(data))})
	})
	if errors.Is(err, store.ErrConflict) {
		return identity.Errorf(identity.CodeConflict, "The import job no longer takes a file.")
	}
	return wrapStoreErr("upload import csv", err)
}

// importJobPayload is the payload of ImportJobKind.
type importJobPayload struct {
	PoolID string `json:"pool_id"`
	JobID  string `json:"job_id"`
}

var errNoSuchImportJob = identity.Errorf(identity.CodeResourceNotFound, "The import job does not exist.")

// getImportJob reads a job of the pool.
func (s *Service) getImportJob(ctx context.Context, q store.Querier, poolID, jobID string) (*identity.UserImportJob, error) {
	j, err := q.GetImportJob(ctx, poolID, jobID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoSuchImportJob
	}
	return j, err
}

// StartUserImportJob starts a Created job whose CSV was uploaded: Pending,
// and its first batch is enqueued in the same transaction.
//
// Errors: resource_not_found, precondition_not_met (not Created, or no
// file uploaded).
func (s *Service) StartUserImportJob(ctx context.Context, poolID, jobID string) (*ImportJobView, error) {
	var out *identity.UserImportJob
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		j, err := s.getImportJob(ctx, q, poolID, jobID)
		if err != nil {
			return err
		}
		if s.importExpired(j) {
			return identity.Errorf(identity.CodePreconditionNotMet, "The import job is %s; only a Created job can be started.", identity.ImportExpired)
		}
		if j.Status != identity.ImportCreated {
			return identity.Errorf(identity.CodePreconditionNotMet, "The import job is %s; only a Created job can be started.", j.Status)
		}
		if j.CSVSize == 0 {
			return identity.Errorf(identity.CodePreconditionNotMet, "No file was uploaded to the job's PreSignedUrl.")
		}
		from := j.Status
		j.Status, j.StartedAt = identity.ImportPending, s.now()
		if err := q.UpdateImportJob(ctx, j, from, j.NextOffset); err != nil {
			return err
		}
		if _, err := jobs.EnqueueForPool(ctx, q, poolID, ImportJobKind, importJobPayload{PoolID: poolID, JobID: jobID}, s.now()); err != nil {
			return err
		}
		out = j
		return s.audit(ctx, q, poolID, "admin.user_import_job_start", "import:"+jobID, nil)
	})
	if err != nil {
		return nil, wrapStoreErr("start import job", err)
	}
	return s.importView(out), nil
}

// StopUserImportJob stops a Pending or InProgress job: Stopping, then
// Stopped once the batch running (if any) ends without committing.
//
// Errors: resource_not_found, precondition_not_met (any other status).
func (s *Service) StopUserImportJob(ctx context.Context, poolID, jobID string) (*ImportJobView, error) {
	for range 10 {
		var out *identity.UserImportJob
		err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
			j, err := s.getImportJob(ctx, q, poolID, jobID)
			if err != nil {
				return err
			}
			if j.Status != identity.ImportPending && j.Status != identity.ImportInProgress {
				return identity.Errorf(identity.CodePreconditionNotMet, "The import job is %s; only a Pending or InProgress job can be stopped.", j.Status)
			}
			from := j.Status
			j.Status = identity.ImportStopping
			if err := q.UpdateImportJob(ctx, j, from, j.NextOffset); err != nil {
				return err
			}
			out = j
			return s.audit(ctx, q, poolID, "admin.user_import_job_stop", "import:"+jobID, nil)
		})
		if errors.Is(err, store.ErrConflict) {
			continue // a batch committed meanwhile: read again
		}
		if err != nil {
			return nil, wrapStoreErr("stop import job", err)
		}
		return s.importView(out), nil
	}
	return nil, identity.Errorf(identity.CodeTooManyRequests, "The import job is busy; try again.")
}

// DescribeUserImportJob returns one job.
//
// Errors: resource_not_found.
func (s *Service) DescribeUserImportJob(ctx context.Context, poolID, jobID string) (*ImportJobView, error) {
	if _, err := s.getPool(ctx, s.cfg.Store, poolID); err != nil {
		return nil, err
	}
	j, err := s.getImportJob(ctx, s.cfg.Store, poolID, jobID)
	if err != nil {
		return nil, wrapStoreErr("get import job", err)
	}
	return s.importView(j), nil
}

// ListUserImportJobs lists the pool's jobs, newest first; max 1..60.
//
// Errors: resource_not_found, invalid_parameter.
func (s *Service) ListUserImportJobs(ctx context.Context, poolID string, max int, token string) ([]*ImportJobView, string, error) {
	if max < 1 || max > 60 {
		return nil, "", identity.FieldError("MaxResults", "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 60")
	}
	if _, err := s.getPool(ctx, s.cfg.Store, poolID); err != nil {
		return nil, "", err
	}
	list, next, err := s.cfg.Store.ListImportJobs(ctx, poolID, page{Limit: max, Token: token})
	if err != nil {
		return nil, "", wrapStoreErr("list import jobs", err)
	}
	out := make([]*ImportJobView, len(list))
	for i, j := range list {
		out[i] = s.importView(j)
	}
	return out, next, nil
}

// ImportJobHandler runs ImportJobKind jobs (register it on the runner).
// One run imports batches until its deadline draws near, then enqueues
// the next run in the transaction of its last batch.
func (s *Service) ImportJobHandler() jobs.Handler {
	return func(ctx context.Context, job *identity.Job) error {
		var pl importJobPayload
		if err := json.Unmarshal(job.Payload, &pl); err != nil {
			return fmt.Errorf("import job payload: %w", err)
		}
		return s.runImport(ctx, pl.PoolID, pl.JobID)
	}
}

// importFailure is one failed row, as kept on the job.
type importFailure struct {
	Line     int64  `json:"line"`
	Username string `json:"username,omitempty"`
	Error    string `json:"error"`
}

func (s *Service) runImport(ctx context.Context, poolID, jobID string) error {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if identity.ErrorCode(err) == identity.CodeResourceNotFound {
		return nil // the pool went away with its jobs
	}
	if err != nil {
		return err
	}
	j, err := s.getImportJob(ctx, s.cfg.Store, poolID, jobID)
	if identity.ErrorCode(err) == identity.CodeResourceNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	switch j.Status {
	case identity.ImportPending:
		from := j.Status
		j.Status = identity.ImportInProgress
		if err := s.cfg.Store.UpdateImportJob(ctx, j, from, j.NextOffset); err != nil {
			return err // Stop won the race: the next run sees it
		}
	case identity.ImportInProgress:
	case identity.ImportStopping:
		return s.finishImport(ctx, j, identity.ImportStopped, "The import job was stopped.")
	default:
		return nil // finished: a duplicate run
	}
	data, err := s.cfg.Store.GetImportCSV(ctx, poolID, jobID)
	if err != nil {
		return err
	}
	imp, err := newCSVImport(p, data)
	if err != nil {
		return s.finishImport(ctx, j, identity.ImportFailed, err.Error())
	}
	deadline, hasDeadline := ctx.Deadline()
	for {
		done, err := s.importBatch(ctx, p, j, imp)
		switch {
		case errors.Is(err, store.ErrConflict): // stopped, or another run moved on
			cur, gerr := s.getImportJob(ctx, s.cfg.Store, poolID, jobID)
			if gerr != nil {
				return gerr
			}
			if cur.Status == identity.ImportStopping {
				return s.finishImport(ctx, cur, identity.ImportStopped, "The import job was stopped.")
			}
			return nil
		case err != nil:
			var pe *csvFatal
			if errors.As(err, &pe) {
				return s.finishImport(ctx, j, identity.ImportFailed, pe.Error())
			}
			return err
		case done:
			return nil
		}
		if hasDeadline && time.Until(deadline) < 10*time.Second {
			// Hand over to a new run, committed with the last batch would
			// be tighter; a separate small transaction is enough: if it is
			// lost, this run is retried and resumes at next_offset.
			return s.cfg.Store.InTx(ctx, func(q store.Querier) error {
				_, err := jobs.EnqueueForPool(ctx, q, poolID, ImportJobKind, importJobPayload{PoolID: poolID, JobID: jobID}, s.now())
				return err
			})
		}
	}
}

// finishImport moves j to a final status with a completion message.
func (s *Service) finishImport(ctx context.Context, j *identity.UserImportJob, status, msg string) error {
	from := j.Status
	j.Status, j.Message, j.CompletedAt = status, msg, s.now()
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		if err := q.UpdateImportJob(ctx, j, from, j.NextOffset); err != nil {
			return err
		}
		return s.audit(ctx, q, j.PoolID, "admin.user_import_job_finish", "import:"+j.ID, map[string]string{"status": status,
			"imported": strconv.FormatInt(j.Imported, 10), "skipped": strconv.FormatInt(j.Skipped, 10), "failed": strconv.FormatInt(j.Failed, 10)})
	})
	if errors.Is(err, store.ErrConflict) {
		return nil // someone else finished it
	}
	return err
}

// importBatch imports up to ImportBatchSize rows from j.NextOffset in one
// transaction, moving the job's progress on with them (compare-and-set
// on the offset it started from). It reports whether the file is done (the
// job then Succeeded in the same transaction).
func (s *Service) importBatch(ctx context.Context, p *identity.Pool, j *identity.UserImportJob, imp *csvImport) (bool, error) {
	rows, end, err := imp.rows(j.NextOffset, j.NextLine, ImportBatchSize)
	if err != nil {
		return false, err
	}
	next := *j
	var failures []importFailure
	if err := json.Unmarshal([]byte(j.Failures), &failures); err != nil {
		failures = nil
	}
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		n := next // a retried transaction starts again from the job as read
		fs := append([]importFailure(nil), failures...)
		for _, r := range rows {
			outcome, err := s.importRow(ctx, q, p, r)
			switch {
			case err != nil && !isRowError(err):
				return err
			case err != nil:
				n.Failed++
				s.cfg.Log.InfoContext(ctx, "user import: row failed", "pool", p.ID, "job", j.ID, "line", r.line, "username", safeEcho(r.username), "err", identity.ErrorMessage(err))
				if len(fs) < maxImportFailures {
					fs = append(fs, importFailure{Line: r.line, Username: safeEcho(r.username), Error: identity.ErrorMessage(err)})
				}
			case outcome == "skipped":
				n.Skipped++
			default:
				n.Imported++
			}
		}
		n.NextOffset, n.NextLine = end.offset, end.line
		b, _ := json.Marshal(fs)
		n.Failures = string(b)
		if end.done {
			n.Status, n.CompletedAt = identity.ImportSucceeded, s.now()
			n.Message = "Import Job Completed Successfully."
			if n.Failed > 0 {
				n.Message = fmt.Sprintf("Import Job Completed: %d users failed to import (see the job's failures and the log).", n.Failed)
			}
		}
		if err := q.UpdateImportJob(ctx, &n, j.Status, j.NextOffset); err != nil {
			return err
		}
		next = n
		return s.audit(ctx, q, p.ID, "admin.user_import_batch", "import:"+j.ID, map[string]string{
			"line": strconv.FormatInt(j.NextLine, 10), "rows": strconv.Itoa(len(rows)), "status": n.Status})
	})
	if err != nil {
		return false, err
	}
	*j = next
	return end.done, nil
}

// rowError marks a problem of one row (counted as failed), as opposed to
// an error of the store that stops the batch.
type rowError struct{ err error }

func (e rowError) Error() string { return e.err.Error() }
func (e rowError) Unwrap() error { return e.err }

func isRowError(err error) bool {
	var re rowError
	return errors.As(err, &re)
}

// importRow creates one user from a CSV row: "imported", "skipped" (the
// username exists), or a rowError.
func (s *Service) importRow(ctx context.Context, q store.Querier, p *identity.Pool, r csvRow) (string, error) {
	if r.err != nil {
		return "", rowError{r.err}
	}
	u, err := s.importedToUser(p, r.user)
	if err != nil {
		return "", rowError{err}
	}
	if err := checkUserFree(ctx, q, p, u); err != nil {
		if errors.Is(err, errUserExists) {
			if _, gerr := q.GetUserByUsername(ctx, p.ID, u.Username); gerr == nil {
				return "skipped", nil
			}
		}
		if _, ok := err.(*identity.Error); ok {
			return "", rowError{err}
		}
		return "", err
	}
	if err := q.CreateUser(ctx, u, uniqueEmail(p)); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return "", rowError{errUserExists}
		}
		return "", err
	}
	if err := s.activateUser(ctx, q, p, u, "admin_import"); err != nil {
		if _, ok := err.(*identity.Error); ok {
			return "", rowError{err}
		}
		return "", err
	}
	return "imported", nil
}

// csvImport reads a Cognito import CSV.
type csvImport struct {
	data   []byte
	header []string
	start  int64 // offset of the first row
	pool   *identity.Pool
}

// csvFatal is a file that cannot be read on (the job Fails).
type csvFatal struct{ msg string }

func (e *csvFatal) Error() string { return e.msg }

// csvRow is one parsed row.
type csvRow struct {
	line     int64
	username string
	user     ImportedUser
	err      error
}

type csvEnd struct {
	offset, line int64
	done         bool
}

// newCSVImport reads and checks the header: every column must be one of
// GetCSVHeader's, cognito:username is required, and no column repeats.
func newCSVImport(p *identity.Pool, data []byte) (*csvImport, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a BOM from spreadsheets
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, &csvFatal{"The CSV header cannot be read: " + err.Error()}
	}
	known := map[string]bool{"cognito:mfa_enabled": true, "cognito:username": true}
	for _, h := range importHeaderHead {
		known[h] = true
	}
	for _, d := range p.Schema {
		known[d.Name] = true
	}
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		header[i] = h
		if !known[h] {
			return nil, &csvFatal{fmt.Sprintf("The CSV header has a column %q that is not an attribute of the user pool (see GetCSVHeader).", safeEcho(h))}
		}
		if seen[h] {
			return nil, &csvFatal{fmt.Sprintf("The CSV header repeats the column %q.", h)}
		}
		seen[h] = true
	}
	if !seen["cognito:username"] {
		return nil, &csvFatal{"The CSV header has no cognito:username column."}
	}
	return &csvImport{data: data, header: header, start: r.InputOffset(), pool: p}, nil
}

// rows parses up to n rows from offset (0: the first row); line is the
// line number of the row before the first one returned.
func (c *csvImport) rows(offset, line int64, n int) ([]csvRow, csvEnd, error) {
	if offset < c.start {
		offset = c.start
	}
	if offset > int64(len(c.data)) {
		return nil, csvEnd{offset, line, true}, nil
	}
	r := csv.NewReader(bytes.NewReader(c.data[offset:]))
	r.FieldsPerRecord = -1
	var out []csvRow
	for len(out) < n {
		rec, err := r.Read()
		if err == io.EOF {
			return out, csvEnd{int64(len(c.data)), line, true}, nil
		}
		if err != nil {
			return nil, csvEnd{}, &csvFatal{fmt.Sprintf("The CSV cannot be read after line %d: %v", line, err)}
		}
		line++
		out = append(out, c.row(line, rec))
	}
	end := offset + r.InputOffset()
	return out, csvEnd{end, line, end >= int64(len(c.data)) || len(bytes.TrimSpace(c.data[end:])) == 0}, nil
}

// row turns one record into an ImportedUser (no password: RESET_REQUIRED).
func (c *csvImport) row(line int64, rec []string) csvRow {
	r := csvRow{line: line}
	if len(rec) != len(c.header) {
		r.err = identity.Errorf(identity.CodeInvalidParameter, "The row has %d fields; the header has %d.", len(rec), len(c.header))
		return r
	}
	u := ImportedUser{Enabled: true, Attributes: map[string]string{}}
	for i, h := range c.header {
		v := rec[i]
		switch h {
		case "cognito:username":
			u.Username, r.username = v, v
		case "cognito:mfa_enabled":
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "", "false":
			case "true":
				r.err = identity.FieldError(h, "MFA settings cannot be imported yet; import the user with cognito:mfa_enabled false.")
			default:
				r.err = identity.FieldError(h, "cognito:mfa_enabled must be true or false.")
			}
		case "email":
			u.Email = strings.TrimSpace(v)
		case "email_verified", "phone_number_verified":
			b := strings.ToLower(strings.TrimSpace(v))
			if b != "" && b != "true" && b != "false" {
				r.err = identity.FieldError(h, "%s must be true or false.", h)
			}
			if h == "email_verified" {
				u.EmailVerified = b == "true"
			} else if b != "" {
				u.Attributes[h] = b
			}
		default:
			if v != "" {
				u.Attributes[h] = v
			}
		}
	}
	if r.err == nil && strings.TrimSpace(u.Username) == "" {
		r.err = identity.FieldError("cognito:username", "cognito:username is required.")
	}
	r.user = u
	return r
}

// ImportCSV imports a Cognito import CSV directly (the CLI's users import
// with a .csv file), in batches as an import job does, calling progress
// after each batch with the rows done. Rows that fail are returned with
// their line numbers; a file that cannot be read is an error.
//
// Errors: resource_not_found (pool), invalid_parameter (header, file).
func (s *Service) ImportCSV(ctx context.Context, poolID string, data []byte, progress func(rows int)) (imported, skipped int64, failed []ImportRowFailure, err error) {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return 0, 0, nil, err
	}
	imp, err := newCSVImport(p, data)
	if err != nil {
		return 0, 0, nil, identity.Errorf(identity.CodeInvalidParameter, "%s", err.Error())
	}
	offset, line := int64(0), int64(1)
	for {
		rows, end, err := imp.rows(offset, line, ImportBatchSize)
		if err != nil {
			return imported, skipped, failed, identity.Errorf(identity.CodeInvalidParameter, "%s", err.Error())
		}
		var bi, bs int64
		var bf []ImportRowFailure
		err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
			bi, bs, bf = 0, 0, nil
			for _, r := range rows {
				outcome, err := s.importRow(ctx, q, p, r)
				switch {
				case err != nil && !isRowError(err):
					return err
				case err != nil:
					bf = append(bf, ImportRowFailure{Line: r.line, Username: r.username, Err: err})
				case outcome == "skipped":
					bs++
				default:
					bi++
				}
			}
			return s.audit(ctx, q, p.ID, "admin.user_import_batch", "import:cli", map[string]string{
				"line": strconv.FormatInt(line, 10), "rows": strconv.Itoa(len(rows))})
		})
		if err != nil {
			return imported, skipped, failed, wrapStoreErr("import users", err)
		}
		imported, skipped, failed = imported+bi, skipped+bs, append(failed, bf...)
		if progress != nil {
			progress(len(rows))
		}
		if end.done {
			return imported, skipped, failed, nil
		}
		offset, line = end.offset, end.line
		if err := ctx.Err(); err != nil {
			return imported, skipped, failed, err
		}
	}
}

// ImportRowFailure is a row ImportCSV could not import.
type ImportRowFailure struct {
	Line     int64
	Username string
	Err      error
}
