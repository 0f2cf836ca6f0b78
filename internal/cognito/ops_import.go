package cognito

import (
	"net/http"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/httpserver"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Bulk import (auth/importjobs.go, docs/migration.md): Cognito's user
// import jobs, and the pre-signed upload URL they hand out, served here.

func init() {
	for name, op := range map[string]operation{
		"GetCSVHeader":          {true, (*Handler).getCSVHeader},
		"CreateUserImportJob":   {true, (*Handler).createUserImportJob},
		"StartUserImportJob":    {true, (*Handler).startUserImportJob},
		"StopUserImportJob":     {true, (*Handler).stopUserImportJob},
		"DescribeUserImportJob": {true, (*Handler).describeUserImportJob},
		"ListUserImportJobs":    {true, (*Handler).listUserImportJobs},
	} {
		operations[name] = op
	}
}

// UploadPattern is the ServeMux pattern of import uploads (PUT, as to
// S3's pre-signed URLs); mount Handler.Upload on it.
const UploadPattern = "PUT " + auth.ImportUploadPath + "{pool}/{job}"

// UploadBodyLimit is the body cap the upload route needs (httpserver's
// BodyLimits); the default cap stays for every other route.
var UploadBodyLimit = httpserver.BodyLimit{PathPrefix: auth.ImportUploadPath, Max: auth.MaxImportCSVBytes}

// userImportJob is Cognito's UserImportJobType.
type userImportJob struct {
	JobName               string
	JobId                 string
	UserPoolId            string
	PreSignedUrl          string `json:",omitempty"`
	CreationDate          *epoch `json:",omitempty"`
	StartDate             *epoch `json:",omitempty"`
	CompletionDate        *epoch `json:",omitempty"`
	Status                string
	CloudWatchLogsRoleArn string `json:",omitempty"`
	ImportedUsers         int64
	SkippedUsers          int64
	FailedUsers           int64
	CompletionMessage     string `json:",omitempty"`
}

func toImportJob(v *auth.ImportJobView) userImportJob {
	j := v.UserImportJob
	return userImportJob{JobName: j.Name, JobId: j.ID, UserPoolId: j.PoolID, PreSignedUrl: v.PreSignedURL,
		CreationDate: toEpoch(j.CreatedAt), StartDate: toEpoch(j.StartedAt), CompletionDate: toEpoch(j.CompletedAt),
		Status: j.Status, CloudWatchLogsRoleArn: j.RoleARN, ImportedUsers: j.Imported, SkippedUsers: j.Skipped,
		FailedUsers: j.Failed, CompletionMessage: j.Message}
}

type importJobOutput struct{ UserImportJob userImportJob }

func (h *Handler) getCSVHeader(c *call) (any, error) {
	var in struct{ UserPoolId string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	hdr, err := h.svc.GetCSVHeader(c.ctx, in.UserPoolId)
	if err != nil {
		return nil, err
	}
	return struct {
		UserPoolId string
		CSVHeader  []string
	}{in.UserPoolId, hdr}, nil
}

func (h *Handler) createUserImportJob(c *call) (any, error) {
	var in struct{ JobName, UserPoolId, CloudWatchLogsRoleArn string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	v, err := h.svc.CreateUserImportJob(c.ctx, in.UserPoolId, in.JobName, in.CloudWatchLogsRoleArn)
	if err != nil {
		return nil, err
	}
	return importJobOutput{toImportJob(v)}, nil
}

// importJobOp runs one of the service's (pool, job) operations.
func (h *Handler) importJobOp(c *call, fn func(h *Handler, c *call, poolID, jobID string) (*auth.ImportJobView, error)) (any, error) {
	var in struct{ UserPoolId, JobId string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.JobId == "" {
		return nil, identity.FieldError("JobId", "1 validation error detected: Value null at 'jobId' failed to satisfy constraint: Member must not be null")
	}
	v, err := fn(h, c, in.UserPoolId, in.JobId)
	if err != nil {
		return nil, err
	}
	return importJobOutput{toImportJob(v)}, nil
}

func (h *Handler) startUserImportJob(c *call) (any, error) {
	return h.importJobOp(c, func(h *Handler, c *call, p, j string) (*auth.ImportJobView, error) {
		return h.svc.StartUserImportJob(c.ctx, p, j)
	})
}

func (h *Handler) stopUserImportJob(c *call) (any, error) {
	return h.importJobOp(c, func(h *Handler, c *call, p, j string) (*auth.ImportJobView, error) {
		return h.svc.StopUserImportJob(c.ctx, p, j)
	})
}

func (h *Handler) describeUserImportJob(c *call) (any, error) {
	return h.importJobOp(c, func(h *Handler, c *call, p, j string) (*auth.ImportJobView, error) {
		return h.svc.DescribeUserImportJob(c.ctx, p, j)
	})
}

func (h *Handler) listUserImportJobs(c *call) (any, error) {
	var in struct {
		UserPoolId, PaginationToken string
		MaxResults                  int
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	list, next, err := h.svc.ListUserImportJobs(c.ctx, in.UserPoolId, in.MaxResults, in.PaginationToken)
	if err != nil {
		return nil, err
	}
	out := make([]userImportJob, len(list))
	for i, v := range list {
		out[i] = toImportJob(v)
	}
	return struct {
		UserImportJobs  []userImportJob
		PaginationToken string `json:",omitempty"`
	}{out, next}, nil
}

// Upload serves UploadPattern: the CSV of an import job, authorized by the
// URL's signature alone (as S3's pre-signed URLs). Errors are S3-like
// plain statuses: 403 for a bad or expired URL, 409 when the job no longer
// takes a file, 413 for a file over MaxImportCSVBytes.
func (h *Handler) Upload(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	err := h.svc.UploadImportCSV(r.Context(), r.PathValue("pool"), r.PathValue("job"), q.Get("X-Amz-Expires"), q.Get("X-Amz-Signature"), r.Body)
	if err == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	status := http.StatusInternalServerError
	switch identity.ErrorCode(err) {
	case identity.CodeForbidden:
		status = http.StatusForbidden
	case identity.CodeConflict:
		status = http.StatusConflict
	case identity.CodePayloadTooLarge:
		status = http.StatusRequestEntityTooLarge
	case identity.CodeInvalidParameter:
		status = http.StatusBadRequest
	}
	if httpserver.IsBodyTooLarge(err) {
		status = http.StatusRequestEntityTooLarge
	}
	if status == http.StatusInternalServerError {
		h.opts.Log.ErrorContext(r.Context(), "import upload", "err", err)
		http.Error(w, "An internal error occurred.", status)
		return
	}
	http.Error(w, identity.ErrorMessage(err), status)
}
