package cognito_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// importCSV builds a CSV with the pool's header (GetCSVHeader) and rows
// given as column -> value.
func (e *env) importCSV(poolID string, rows ...map[string]string) string {
	e.t.Helper()
	h := must[*cip.GetCSVHeaderOutput](e.t)(e.admin.GetCSVHeader(ctx, &cip.GetCSVHeaderInput{UserPoolId: aws.String(poolID)}))
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write(h.CSVHeader)
	for _, r := range rows {
		rec := make([]string, len(h.CSVHeader))
		for i, c := range h.CSVHeader {
			rec[i] = r[c]
		}
		if _, ok := r["cognito:mfa_enabled"]; !ok {
			rec[len(rec)-2] = "false"
		}
		_ = w.Write(rec)
	}
	w.Flush()
	return b.String()
}

// upload PUTs body to a pre-signed URL as Cognito's documentation does
// (curl -T file -H "x-amz-server-side-encryption:aws:kms" URL).
func (e *env) upload(rawURL, body string) int {
	e.t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		e.t.Fatal(err)
	}
	// The URL names the configured base URL; send it to the test listener.
	req, _ := http.NewRequest(http.MethodPut, e.srv.URL+u.RequestURI(), strings.NewReader(body))
	req.Header.Set("x-amz-server-side-encryption", "aws:kms")
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// testUserImport: a pool's users arrive through an import job, in
// Cognito's CSV format, RESET_REQUIRED; rows that exist are skipped and
// rows Gatehouse refuses are failed and counted; a stopped job imports
// nothing more.
func testUserImport(t *testing.T, e *env) {
	poolID, clientID := e.newPool("imp")
	e.signUpConfirmed(poolID, clientID, "old@example.com")
	hdr := must[*cip.GetCSVHeaderOutput](t)(e.admin.GetCSVHeader(ctx, &cip.GetCSVHeaderInput{UserPoolId: aws.String(poolID)}))
	if got := strings.Join(hdr.CSVHeader, ","); !strings.HasSuffix(got, ",custom:company_name,cognito:mfa_enabled,cognito:username") || !strings.HasPrefix(got, "name,given_name,") {
		t.Fatalf("CSVHeader = %s", got)
	}
	job := must[*cip.CreateUserImportJobOutput](t)(e.admin.CreateUserImportJob(ctx, &cip.CreateUserImportJobInput{
		UserPoolId: aws.String(poolID), JobName: aws.String("first import"),
		CloudWatchLogsRoleArn: aws.String("arn:aws:iam::123456789012:role/CognitoImport")}))
	j := job.UserImportJob
	if j.Status != types.UserImportJobStatusTypeCreated || !strings.HasPrefix(aws.ToString(j.JobId), "import-") || aws.ToString(j.PreSignedUrl) == "" {
		t.Fatalf("CreateUserImportJob = %+v", j)
	}
	body := e.importCSV(poolID,
		map[string]string{"cognito:username": "ann@example.com", "email": "ann@example.com", "email_verified": "true", "name": "Ann"},
		map[string]string{"cognito:username": "bea@example.com", "email": "bea@example.com", "email_verified": "TRUE", "custom:company_name": "Acme"},
		map[string]string{"cognito:username": "old@example.com", "email": "old@example.com", "email_verified": "true"},      // exists: skipped
		map[string]string{"cognito:username": "ann@example.com", "email": "ann@example.com", "email_verified": "true"},      // twice: skipped
		map[string]string{"cognito:username": "not an email", "email": "x@example.com"},                                     // failed
		map[string]string{"cognito:username": "mfa@example.com", "email": "mfa@example.com", "cognito:mfa_enabled": "true"}, // failed: no MFA yet
	)
	if st := e.upload(aws.ToString(j.PreSignedUrl), body); st != http.StatusOK {
		t.Fatalf("upload: %d", st)
	}
	started := must[*cip.StartUserImportJobOutput](t)(e.admin.StartUserImportJob(ctx, &cip.StartUserImportJobInput{UserPoolId: aws.String(poolID), JobId: j.JobId}))
	if started.UserImportJob.Status != types.UserImportJobStatusTypePending {
		t.Fatalf("started: %s", started.UserImportJob.Status)
	}
	e.stack.Drain()
	d := must[*cip.DescribeUserImportJobOutput](t)(e.admin.DescribeUserImportJob(ctx, &cip.DescribeUserImportJobInput{UserPoolId: aws.String(poolID), JobId: j.JobId}))
	if g := d.UserImportJob; g.Status != types.UserImportJobStatusTypeSucceeded || g.ImportedUsers != 2 || g.SkippedUsers != 2 || g.FailedUsers != 2 {
		t.Fatalf("after the run: %s imported %d skipped %d failed %d (%s)", g.Status, g.ImportedUsers, g.SkippedUsers, g.FailedUsers, aws.ToString(g.CompletionMessage))
	}
	// Imported users must reset their password first, as in Cognito.
	_, err := e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeUserPasswordAuth, ClientId: aws.String(clientID),
		AuthParameters: map[string]string{"USERNAME": "ann@example.com", "PASSWORD": goodPassword}})
	wantErr(t, err, "PasswordResetRequiredException")
	must[*cip.ForgotPasswordOutput](t)(e.public.ForgotPassword(ctx, &cip.ForgotPasswordInput{ClientId: aws.String(clientID), Username: aws.String("ann@example.com")}))
	must[*cip.ConfirmForgotPasswordOutput](t)(e.public.ConfirmForgotPassword(ctx, &cip.ConfirmForgotPasswordInput{ClientId: aws.String(clientID),
		Username: aws.String("ann@example.com"), ConfirmationCode: aws.String(e.lastCode(poolID, "ann@example.com")), Password: aws.String(goodPassword)}))
	e.signIn(clientID, "ann@example.com", goodPassword)

	// A second job, stopped before its batches run.
	job2 := must[*cip.CreateUserImportJobOutput](t)(e.admin.CreateUserImportJob(ctx, &cip.CreateUserImportJobInput{
		UserPoolId: aws.String(poolID), JobName: aws.String("second"), CloudWatchLogsRoleArn: aws.String("arn:aws:iam::123456789012:role/CognitoImport")}))
	if st := e.upload(aws.ToString(job2.UserImportJob.PreSignedUrl), e.importCSV(poolID,
		map[string]string{"cognito:username": "cid@example.com", "email": "cid@example.com"})); st != http.StatusOK {
		t.Fatalf("upload 2: %d", st)
	}
	must[*cip.StartUserImportJobOutput](t)(e.admin.StartUserImportJob(ctx, &cip.StartUserImportJobInput{UserPoolId: aws.String(poolID), JobId: job2.UserImportJob.JobId}))
	stopped := must[*cip.StopUserImportJobOutput](t)(e.admin.StopUserImportJob(ctx, &cip.StopUserImportJobInput{UserPoolId: aws.String(poolID), JobId: job2.UserImportJob.JobId}))
	if stopped.UserImportJob.Status != types.UserImportJobStatusTypeStopping {
		t.Fatalf("stop: %s", stopped.UserImportJob.Status)
	}
	e.stack.Drain()
	d2 := must[*cip.DescribeUserImportJobOutput](t)(e.admin.DescribeUserImportJob(ctx, &cip.DescribeUserImportJobInput{UserPoolId: aws.String(poolID), JobId: job2.UserImportJob.JobId}))
	if d2.UserImportJob.Status != types.UserImportJobStatusTypeStopped || d2.UserImportJob.ImportedUsers != 0 {
		t.Fatalf("stopped job: %+v", d2.UserImportJob)
	}
	_, err = e.admin.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(poolID), Username: aws.String("cid@example.com")})
	wantErr(t, err, "UserNotFoundException")

	list := must[*cip.ListUserImportJobsOutput](t)(e.admin.ListUserImportJobs(ctx, &cip.ListUserImportJobsInput{UserPoolId: aws.String(poolID), MaxResults: aws.Int32(1)}))
	if len(list.UserImportJobs) != 1 || aws.ToString(list.UserImportJobs[0].JobName) != "second" || list.PaginationToken == nil {
		t.Fatalf("ListUserImportJobs = %+v", list)
	}
	list = must[*cip.ListUserImportJobsOutput](t)(e.admin.ListUserImportJobs(ctx, &cip.ListUserImportJobsInput{UserPoolId: aws.String(poolID),
		MaxResults: aws.Int32(1), PaginationToken: list.PaginationToken}))
	if len(list.UserImportJobs) != 1 || aws.ToString(list.UserImportJobs[0].JobName) != "first import" {
		t.Fatalf("ListUserImportJobs page 2 = %+v", list)
	}
}

// Bad input to the import operations and the upload URL: Cognito's
// exceptions, plain S3-like statuses for the upload, nothing changed.
func TestUserImportBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	poolID, _ := e.newPool("bad")
	_, err := e.admin.CreateUserImportJob(ctx, &cip.CreateUserImportJobInput{UserPoolId: aws.String(poolID), JobName: aws.String("bad/name"),
		CloudWatchLogsRoleArn: aws.String("arn:aws:iam::123456789012:role/x")})
	wantErr(t, err, "InvalidParameterException")
	_, err = e.admin.CreateUserImportJob(ctx, &cip.CreateUserImportJobInput{UserPoolId: aws.String("eu-west-1_nopenope1"), JobName: aws.String("x"),
		CloudWatchLogsRoleArn: aws.String("arn:aws:iam::123456789012:role/x")})
	wantErr(t, err, "ResourceNotFoundException")
	_, err = e.public.CreateUserImportJob(ctx, &cip.CreateUserImportJobInput{UserPoolId: aws.String(poolID), JobName: aws.String("x"),
		CloudWatchLogsRoleArn: aws.String("arn:aws:iam::123456789012:role/x")})
	if errCode(err) == "" {
		t.Fatal("an unsigned CreateUserImportJob was accepted")
	}
	_, err = e.admin.ListUserImportJobs(ctx, &cip.ListUserImportJobsInput{UserPoolId: aws.String(poolID), MaxResults: aws.Int32(61)})
	wantErr(t, err, "InvalidParameterException")
	_, err = e.admin.StartUserImportJob(ctx, &cip.StartUserImportJobInput{UserPoolId: aws.String(poolID), JobId: aws.String("import-nothere123")})
	wantErr(t, err, "ResourceNotFoundException")

	job := must[*cip.CreateUserImportJobOutput](t)(e.admin.CreateUserImportJob(ctx, &cip.CreateUserImportJobInput{UserPoolId: aws.String(poolID),
		JobName: aws.String("j"), CloudWatchLogsRoleArn: aws.String("arn:aws:iam::123456789012:role/x")}))
	j := job.UserImportJob
	_, err = e.admin.StartUserImportJob(ctx, &cip.StartUserImportJobInput{UserPoolId: aws.String(poolID), JobId: j.JobId})
	wantErr(t, err, "PreconditionNotMetException") // nothing uploaded
	_, err = e.admin.StopUserImportJob(ctx, &cip.StopUserImportJobInput{UserPoolId: aws.String(poolID), JobId: j.JobId})
	wantErr(t, err, "PreconditionNotMetException") // not started

	raw := aws.ToString(j.PreSignedUrl)
	good := e.importCSV(poolID, map[string]string{"cognito:username": "ann@example.com", "email": "ann@example.com"})
	tampered := strings.Replace(raw, "X-Amz-Signature=", "X-Amz-Signature=A", 1)
	other := must[*cip.CreateUserImportJobOutput](t)(e.admin.CreateUserImportJob(ctx, &cip.CreateUserImportJobInput{UserPoolId: aws.String(poolID),
		JobName: aws.String("other"), CloudWatchLogsRoleArn: aws.String("arn:aws:iam::123456789012:role/x")}))
	// The other job's signature on this job's path.
	sig := raw[strings.Index(raw, "?"):]
	otherURL := aws.ToString(other.UserImportJob.PreSignedUrl)
	crossed := otherURL[:strings.Index(otherURL, "?")] + sig
	later := strings.Replace(raw, "X-Amz-Expires=", "X-Amz-Expires=9", 1) // a longer expiry is another signature
	for name, tc := range map[string]struct {
		url, body string
		want      int
	}{
		"tampered": {tampered, good, http.StatusForbidden},
		"crossed":  {crossed, good, http.StatusForbidden},
		"extended": {later, good, http.StatusForbidden},
		"empty":    {raw, "\n", http.StatusBadRequest},
	} {
		if st := e.upload(tc.url, tc.body); st != tc.want {
			t.Errorf("%s upload: %d, want %d", name, st, tc.want)
		}
	}
	// A header Gatehouse does not know fails the job with a message.
	if st := e.upload(raw, "cognito:username,custom:nope\nann@example.com,x\n"); st != http.StatusOK {
		t.Fatalf("upload: %d", st)
	}
	must[*cip.StartUserImportJobOutput](t)(e.admin.StartUserImportJob(ctx, &cip.StartUserImportJobInput{UserPoolId: aws.String(poolID), JobId: j.JobId}))
	if st := e.upload(raw, good); st != http.StatusConflict {
		t.Errorf("upload after start: %d, want 409", st)
	}
	e.stack.Drain()
	d := must[*cip.DescribeUserImportJobOutput](t)(e.admin.DescribeUserImportJob(ctx, &cip.DescribeUserImportJobInput{UserPoolId: aws.String(poolID), JobId: j.JobId}))
	if d.UserImportJob.Status != types.UserImportJobStatusTypeFailed || !strings.Contains(aws.ToString(d.UserImportJob.CompletionMessage), "custom:nope") {
		t.Fatalf("job with a bad header: %s %q", d.UserImportJob.Status, aws.ToString(d.UserImportJob.CompletionMessage))
	}
	if n, _ := e.db.CountUsers(ctx, poolID); n != 0 {
		t.Fatalf("%d users written", n)
	}
}
