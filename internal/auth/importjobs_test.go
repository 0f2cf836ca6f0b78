package auth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

func importRowsCSV(n int) []byte {
	var b strings.Builder
	b.WriteString("cognito:username,email,email_verified,cognito:mfa_enabled\n")
	for i := range n {
		fmt.Fprintf(&b, "u%05d@example.com,u%05d@example.com,true,false\n", i, i)
	}
	return []byte(b.String())
}

// A run that dies after a batch committed loses nothing and imports
// nothing twice: the next run resumes at the committed offset; and two
// runs of the same batch cannot both count it (compare-and-set on the
// offset).
func TestImportJobResumesAfterCrash(t *testing.T) {
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := setup(nil, nil)
		const n = 2*ImportBatchSize + 500
		v, err := e.s.CreateUserImportJob(e.ctx, e.pool.ID, "crash", "")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.st.PutImportCSV(e.ctx, e.pool.ID, v.ID, importRowsCSV(n)); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.StartUserImportJob(e.ctx, e.pool.ID, v.ID); err != nil {
			t.Fatal(err)
		}
		j, _ := e.st.GetImportJob(e.ctx, e.pool.ID, v.ID)
		j.Status = identity.ImportInProgress
		if err := e.st.UpdateImportJob(e.ctx, j, identity.ImportPending, j.NextOffset); err != nil {
			t.Fatal(err)
		}
		data, _ := e.st.GetImportCSV(e.ctx, e.pool.ID, v.ID)
		imp, err := newCSVImport(e.pool, data)
		if err != nil {
			t.Fatal(err)
		}
		stale := *j
		if done, err := e.s.importBatch(e.ctx, e.pool, j, imp); err != nil || done {
			t.Fatalf("first batch: %v %v", done, err)
		}
		// The same batch again, from the job as it was read before: refused.
		if _, err := e.s.importBatch(e.ctx, e.pool, &stale, imp); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a second run of the batch: %v", err)
		}
		if c, _ := e.st.CountUsers(e.ctx, e.pool.ID); c != ImportBatchSize {
			t.Fatalf("%d users after one batch", c)
		}
		// "Crash" here; the job runs again from the start of its handler.
		if err := e.s.runImport(context.Background(), e.pool.ID, v.ID); err != nil {
			t.Fatal(err)
		}
		got, _ := e.st.GetImportJob(e.ctx, e.pool.ID, v.ID)
		if got.Status != identity.ImportSucceeded || got.Imported != n || got.Skipped != 0 || got.Failed != 0 {
			t.Fatalf("job %s imported %d skipped %d failed %d", got.Status, got.Imported, got.Skipped, got.Failed)
		}
		if c, _ := e.st.CountUsers(e.ctx, e.pool.ID); c != n {
			t.Fatalf("%d users, want %d", c, n)
		}
		if u := e.getUser("u02499@example.com"); u.Status != identity.StatusResetRequired || !u.EmailVerified || u.PasswordHash != "" {
			t.Fatalf("imported user %+v", u)
		}
		// A late duplicate run of the finished job changes nothing.
		if err := e.s.runImport(context.Background(), e.pool.ID, v.ID); err != nil {
			t.Fatal(err)
		}
	})
}

// BenchmarkImportJob100k runs one import job of 100,000 CSV rows (the
// batches of a real run, one transaction per 1,000 users, each activated)
// on each database; docs/benchmarks.md has the numbers. Run with
// -benchtime=1x.
func BenchmarkImportJob100k(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("GATEHOUSE_BENCH_IMPORT_USERS")); err == nil && v > 0 {
		n = v // a smaller run, e.g. for a profile
	}
	data := importRowsCSV(n)
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				e := userSetupStore(b, be.open(b), nil, nil)
				v, err := e.s.CreateUserImportJob(e.ctx, e.pool.ID, "bench", "")
				if err != nil {
					b.Fatal(err)
				}
				if err := e.st.PutImportCSV(e.ctx, e.pool.ID, v.ID, data); err != nil {
					b.Fatal(err)
				}
				if _, err := e.s.StartUserImportJob(e.ctx, e.pool.ID, v.ID); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := e.s.runImport(context.Background(), e.pool.ID, v.ID); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if c, _ := e.st.CountUsers(e.ctx, e.pool.ID); c != n {
					b.Fatalf("%d users imported", c)
				}
			}
		})
	}
}

// A job whose upload URL expired before a file came reads Expired, as
// Cognito's do, and cannot be started; a job with its file keeps Created.
func TestImportJobExpires(t *testing.T) {
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := setup(nil, nil)
		empty, err := e.s.CreateUserImportJob(e.ctx, e.pool.ID, "empty", "")
		if err != nil {
			t.Fatal(err)
		}
		full, err := e.s.CreateUserImportJob(e.ctx, e.pool.ID, "full", "")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.st.PutImportCSV(e.ctx, e.pool.ID, full.ID, importRowsCSV(1)); err != nil {
			t.Fatal(err)
		}
		e.advance(ImportUploadTTL - time.Second)
		if v, err := e.s.DescribeUserImportJob(e.ctx, e.pool.ID, empty.ID); err != nil || v.Status != identity.ImportCreated || v.PreSignedURL == "" {
			t.Fatalf("before expiry: %+v %v", v, err)
		}
		e.advance(time.Second)
		v, err := e.s.DescribeUserImportJob(e.ctx, e.pool.ID, empty.ID)
		if err != nil || v.Status != identity.ImportExpired || v.PreSignedURL != "" {
			t.Fatalf("after expiry: %+v %v", v, err)
		}
		list, _, err := e.s.ListUserImportJobs(e.ctx, e.pool.ID, 10, "")
		if err != nil || len(list) != 2 {
			t.Fatalf("list: %v %v", list, err)
		}
		for _, j := range list {
			if want := map[string]string{empty.ID: identity.ImportExpired, full.ID: identity.ImportCreated}[j.ID]; j.Status != want {
				t.Fatalf("listed %s as %s, want %s", j.ID, j.Status, want)
			}
		}
		_, err = e.s.StartUserImportJob(e.ctx, e.pool.ID, empty.ID)
		wantErr(t, err, identity.CodePreconditionNotMet, "The import job is Expired; only a Created job can be started.")
		if _, err := e.s.StartUserImportJob(e.ctx, e.pool.ID, full.ID); err != nil {
			t.Fatalf("start of an uploaded job after the URL expired: %v", err)
		}
	})
}
