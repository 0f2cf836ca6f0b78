package loadtest

import (
	"fmt"
	"net"
	"net/url"
	"runtime"
	"strings"
	"time"
)

// Phase names accepted in Options.Phases, in the order Run executes them.
const (
	PhaseSignUp  = "signup"
	PhaseSignIn  = "signin"
	PhaseRefresh = "refresh"
	// The Cognito surface (JSON 1.1): InitiateAuth REFRESH_TOKEN_AUTH,
	// GetUser (access token), and the SigV4-signed AdminGetUser and
	// ListUsers (need Options.AccessKeyID and SecretAccessKey).
	PhaseCognitoRefresh = "cognito-refresh"
	// PhaseCognitoRefreshStatic is InitiateAuth REFRESH_TOKEN_AUTH on a
	// second client with refresh token rotation off (Cognito's DISABLED,
	// the default of clients made by CreateUserPoolClient): each worker
	// sends its one refresh token again and again, and no refresh writes.
	// PhaseCognitoRefresh stays the rotating figure (the bench's main
	// client is made by the native API, whose default rotates).
	PhaseCognitoRefreshStatic = "cognito-refresh-static"
	PhaseGetUser              = "getuser"
	PhaseAdminGetUser         = "admingetuser"
	PhaseListUsers            = "listusers"
)

// allPhases is every phase in the order they run.
var allPhases = []string{PhaseSignUp, PhaseSignIn, PhaseRefresh, PhaseCognitoRefresh, PhaseCognitoRefreshStatic, PhaseGetUser, PhaseAdminGetUser, PhaseListUsers}

// Options configures one load run against a running Gatehouse.
type Options struct {
	// BaseURL of the server, e.g. http://127.0.0.1:8080. The host must be a
	// loopback address or "localhost"; anything else is refused.
	BaseURL string
	// AdminKey is the admin API key, sent as "Authorization: Bearer <key>".
	AdminKey string
	// PoolID of an existing pool to use. "" = create a fresh pool
	// "bench-<random>" with a public client and delete it at the end.
	// With an existing pool, the client and the pre-created users are
	// deleted at the end; the (unconfirmed) sign-up users stay, and Run
	// says so.
	PoolID string
	// Duration of each phase; default 10s.
	Duration time.Duration
	// Concurrency is the number of concurrent workers; default 2*NumCPU.
	Concurrency int
	// Users to pre-create for the sign-in and refresh phases; default 200.
	Users int
	// The server's argon2id parameters (default 19456 KiB / 2 / 1), used to
	// measure this machine's raw hash rate with the same cost.
	HashMemoryKiB, HashTime uint32
	HashThreads             uint8
	// Phases to run: any of allPhases; empty = signup, signin, refresh.
	Phases []string
	// AccessKeyID and SecretAccessKey sign the Cognito admin operations
	// (one of the server's cognito.access_keys).
	AccessKeyID, SecretAccessKey string
	// SigningAlg of the fresh pool: "ES256" (default, the native default)
	// or "RS256" (what a pool created through the Cognito API signs with).
	// The report compares the hash-free phases with this algorithm's raw
	// rates. Ignored with PoolID.
	SigningAlg string
}

// Defaults used when an Options field is zero.
const (
	DefaultDuration      = 10 * time.Second
	DefaultUsers         = 200
	DefaultHashMemoryKiB = 19456
	DefaultHashTime      = 2
	DefaultHashThreads   = 1
)

// withDefaults returns a copy of o with zero fields filled in, or an error
// for values that cannot work (bad URL, non-loopback host, unknown phase).
func (o Options) withDefaults() (Options, error) {
	if o.BaseURL == "" {
		o.BaseURL = "http://127.0.0.1:8080"
	}
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return o, fmt.Errorf("loadtest: base URL %q must be http(s)://host[:port]", o.BaseURL)
	}
	if !isLoopback(u.Hostname()) {
		return o, fmt.Errorf("loadtest: refusing non-loopback target %q: the load command only drives a server on this machine (127.0.0.1, ::1 or localhost)", u.Host)
	}
	if o.Duration <= 0 {
		o.Duration = DefaultDuration
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 2 * runtime.NumCPU()
	}
	if o.Users <= 0 {
		o.Users = DefaultUsers
	}
	if o.HashMemoryKiB == 0 {
		o.HashMemoryKiB = DefaultHashMemoryKiB
	}
	if o.HashTime == 0 {
		o.HashTime = DefaultHashTime
	}
	if o.HashThreads == 0 {
		o.HashThreads = DefaultHashThreads
	}
	switch o.SigningAlg {
	case "":
		o.SigningAlg = "ES256"
	case "ES256", "RS256":
	default:
		return o, fmt.Errorf("loadtest: signing algorithm %q: want ES256 or RS256", o.SigningAlg)
	}
	if len(o.Phases) == 0 {
		o.Phases = []string{PhaseSignUp, PhaseSignIn, PhaseRefresh}
	}
	for _, p := range o.Phases {
		if !wants(allPhases, p) {
			return o, fmt.Errorf("loadtest: unknown phase %q (want one of %s)", p, strings.Join(allPhases, ", "))
		}
		if (p == PhaseAdminGetUser || p == PhaseListUsers) && (o.AccessKeyID == "" || o.SecretAccessKey == "") {
			return o, fmt.Errorf("loadtest: phase %s signs Cognito admin calls: give an access key id and secret", p)
		}
	}
	return o, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
