package identity

import "time"

// Import job statuses (Cognito's UserImportJobStatusType).
const (
	ImportCreated    = "Created"    // waiting for its CSV and StartUserImportJob
	ImportPending    = "Pending"    // started; the first batch is queued
	ImportInProgress = "InProgress" // batches running
	ImportStopping   = "Stopping"   // StopUserImportJob; the running batch ends it
	ImportStopped    = "Stopped"
	ImportSucceeded  = "Succeeded"
	ImportFailed     = "Failed"
	ImportExpired    = "Expired" // never started before its upload URL expired
)

// UserImportJob is a bulk import of users from a CSV in Cognito's format
// (CreateUserImportJob). The CSV is uploaded to a pre-signed URL Gatehouse
// serves, then imported by durable jobs in batches; NextOffset and
// NextLine say where the next batch starts, so a crash resumes there.
type UserImportJob struct {
	PoolID  string
	ID      string // "import-" + 10 characters, as Cognito's
	Name    string
	Status  string
	RoleARN string // CloudWatchLogsRoleArn, echoed

	Imported, Skipped, Failed int64
	NextOffset                int64  // byte offset of the next row in the CSV
	NextLine                  int64  // line number of that row (1 = header)
	Failures                  string // JSON array of the first failed rows {line, username, error}
	Message                   string // CompletionMessage
	CSVSize                   int64  // bytes uploaded; 0 before the upload

	UploadExpiresAt time.Time
	CreatedAt       time.Time
	StartedAt       time.Time
	CompletedAt     time.Time
}
