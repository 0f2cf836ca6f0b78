package cognito_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/gatehouse-id/gatehouse/internal/password"
)

// BenchmarkInitiateAuthPassword measures USER_PASSWORD_AUTH sign-ins
// through the Cognito API (AWS SDK for Go v2 over loopback HTTP, the real
// stack on SQLite, argon2id at the default cost) with concurrent callers,
// and reports the throughput next to this machine's raw argon2id rate
// (password.MeasureRawRate, all CPUs, before and after) measured in the
// same run. The SDK client runs on the same CPUs, so the ratio is
// conservative:
//
//	go test -run '^$' -bench InitiateAuthPassword -benchtime 5s ./internal/cognito
func BenchmarkInitiateAuthPassword(b *testing.B) {
	params := password.DefaultParams()
	e := setup(b, setupOpts{hash: &params})
	poolID, clientID := e.newPool("bench")
	email := "bench@example.com"
	e.signUpConfirmed(poolID, clientID, email)
	in := &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": email, "PASSWORD": goodPassword}}
	before := password.MeasureRawRate(params, 2*time.Second)
	b.SetParallelism(2) // 2 × GOMAXPROCS callers keep every core busy
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.public.InitiateAuth(ctx, in); err != nil {
				b.Error(err)
				return
			}
		}
	})
	rate := float64(b.N) / time.Since(start).Seconds()
	b.StopTimer()
	// The raw rate before and after, averaged: on a shared machine the
	// load changes during the run.
	raw := (before + password.MeasureRawRate(params, 2*time.Second)) / 2
	b.ReportMetric(rate, "signins/s")
	b.ReportMetric(raw, "raw-hashes/s")
	b.ReportMetric(rate/raw, "ratio")
}
