package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// testImportJobs: round trip, the CSV stored only while Created, the
// compare-and-set on (status, offset), newest-first paging, and the
// cascade with the pool.
func testImportJobs(t *testing.T, s store.Store) {
	p := mustPool(t, s, "us-east-1_imp")
	j := &identity.UserImportJob{PoolID: p.ID, ID: "import-aaaaaaaaaa", Name: "one", Status: identity.ImportCreated, RoleARN: "arn:x",
		NextLine: 1, Failures: "[]", UploadExpiresAt: t0.Add(15 * time.Minute), CreatedAt: t0}
	if err := s.CreateImportJob(ctx(t), j); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "same id twice", s.CreateImportJob(ctx(t), j), store.ErrConflict)
	got, err := s.GetImportJob(ctx(t), p.ID, j.ID)
	if err != nil || *got != *j {
		t.Fatalf("round trip:\n got %+v %v\nwant %+v", got, err, j)
	}
	csv := []byte("cognito:username\nann\n")
	if err := s.PutImportCSV(ctx(t), p.ID, j.ID, csv); err != nil {
		t.Fatal(err)
	}
	if b, err := s.GetImportCSV(ctx(t), p.ID, j.ID); err != nil || !bytes.Equal(b, csv) {
		t.Fatalf("csv = %q, %v", b, err)
	}
	if got, _ := s.GetImportJob(ctx(t), p.ID, j.ID); got.CSVSize != int64(len(csv)) {
		t.Fatalf("csv size %d", got.CSVSize)
	}
	started := *j
	started.Status, started.StartedAt = identity.ImportInProgress, t0.Add(time.Minute)
	if err := s.UpdateImportJob(ctx(t), &started, identity.ImportCreated, 0); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "upload after start", s.PutImportCSV(ctx(t), p.ID, j.ID, csv), store.ErrConflict)
	// Two runs of the batch at offset 0: only one moves it on.
	a, b := started, started
	a.NextOffset, a.Imported = 100, 5
	b.NextOffset, b.Imported = 100, 5
	if err := s.UpdateImportJob(ctx(t), &a, identity.ImportInProgress, 0); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "the same batch twice", s.UpdateImportJob(ctx(t), &b, identity.ImportInProgress, 0), store.ErrConflict)
	wantErr(t, "an unknown job", s.UpdateImportJob(ctx(t), &identity.UserImportJob{PoolID: p.ID, ID: "import-nothere"}, identity.ImportCreated, 0), store.ErrNotFound)
	if got, _ := s.GetImportJob(ctx(t), p.ID, j.ID); got.Imported != 5 || got.NextOffset != 100 {
		t.Fatalf("after the batch: %+v", got)
	}
	for i, id := range []string{"import-bbbbbbbbbb", "import-cccccccccc"} {
		k := *j
		k.ID, k.CreatedAt = id, t0.Add(time.Duration(i+1)*time.Hour)
		if err := s.CreateImportJob(ctx(t), &k); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	tok := ""
	for {
		list, next, err := s.ListImportJobs(ctx(t), p.ID, store.Page{Limit: 2, Token: tok})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range list {
			ids = append(ids, l.ID)
		}
		if next == "" {
			break
		}
		tok = next
	}
	if len(ids) != 3 || ids[0] != "import-cccccccccc" || ids[2] != "import-aaaaaaaaaa" {
		t.Fatalf("listed %v", ids)
	}
	if err := s.DeletePool(ctx(t), p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetImportJob(ctx(t), p.ID, j.ID); err == nil {
		t.Fatal("the job outlived its pool")
	}
}
