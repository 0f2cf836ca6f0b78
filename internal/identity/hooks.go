package identity

// HookTrigger names one of a pool's webhook triggers. Each one receives the
// event shape of the Cognito Lambda trigger of the same name (see
// docs/hooks.md and internal/hooks).
type HookTrigger string

const (
	TriggerPreSignUp          HookTrigger = "pre_sign_up"
	TriggerPostConfirmation   HookTrigger = "post_confirmation"
	TriggerPreTokenGeneration HookTrigger = "pre_token_generation"
	TriggerCustomMessage      HookTrigger = "custom_message"
	// TriggerUserMigration is Cognito's migrate-user trigger: called for a
	// user the pool does not know who signs in with a password or asks
	// for a password reset (lazy migration, docs/migration.md).
	TriggerUserMigration HookTrigger = "user_migration"
)

// HookTriggers lists every trigger, in the order a sign-up meets them.
var HookTriggers = []HookTrigger{TriggerUserMigration, TriggerPreSignUp, TriggerCustomMessage, TriggerPostConfirmation, TriggerPreTokenGeneration}

// Valid reports whether t is a known trigger.
func (t HookTrigger) Valid() bool {
	for _, k := range HookTriggers {
		if t == k {
			return true
		}
	}
	return false
}

// MaskedSecret is what reads show instead of a hook's secret. Writing it
// back (a read-modify-write round trip) keeps the stored secret.
const MaskedSecret = "********"

// Hook is one webhook: Gatehouse POSTs the trigger's event as JSON to URL,
// signed with Secret (HMAC-SHA256, Standard Webhooks headers), and waits
// at most TimeoutMS (default and maximum 5000) for the answer.
//
// Secret is a shared secret: Gatehouse must read it to sign, so it is
// stored as given in the pool's settings (protect the database and its
// backups); API reads show MaskedSecret instead, and it is never logged.
type Hook struct {
	URL       string `json:"url"`
	Secret    string `json:"secret,omitempty"`
	TimeoutMS int    `json:"timeout_ms,omitempty"`
	// Disabled keeps the configuration but stops calling the hook. (The
	// zero value is "on", so a hook declared with a URL is called.)
	Disabled bool `json:"disabled,omitempty"`
	// Version is the event version of pre_token_generation: "1" (default:
	// ID token claims only) or "2" (ID and access token claims, scopes).
	Version string `json:"version,omitempty"`
	// LambdaARN is the Lambda function ARN (or HTTPS URL) a Cognito
	// CreateUserPool/UpdateUserPool LambdaConfig named for this hook; the
	// Cognito API shows it back in LambdaConfig. Empty for hooks set
	// Gatehouse's own way.
	LambdaARN string `json:"lambda_arn,omitempty"`
}

// Enabled reports whether the hook is configured and switched on.
func (h *Hook) Enabled() bool { return h != nil && h.URL != "" && !h.Disabled }

// HookSettings declares a pool's webhook triggers; a nil entry is no hook.
type HookSettings struct {
	PreSignUp          *Hook `json:"pre_sign_up,omitempty"`
	PostConfirmation   *Hook `json:"post_confirmation,omitempty"`
	PreTokenGeneration *Hook `json:"pre_token_generation,omitempty"`
	CustomMessage      *Hook `json:"custom_message,omitempty"`
	UserMigration      *Hook `json:"user_migration,omitempty"`
}

// Get returns the hook of t (nil if none or t is unknown).
func (s HookSettings) Get(t HookTrigger) *Hook {
	switch t {
	case TriggerPreSignUp:
		return s.PreSignUp
	case TriggerPostConfirmation:
		return s.PostConfirmation
	case TriggerPreTokenGeneration:
		return s.PreTokenGeneration
	case TriggerCustomMessage:
		return s.CustomMessage
	case TriggerUserMigration:
		return s.UserMigration
	}
	return nil
}

// Set replaces the hook of t (nil removes it); unknown triggers are ignored.
func (s *HookSettings) Set(t HookTrigger, h *Hook) {
	switch t {
	case TriggerPreSignUp:
		s.PreSignUp = h
	case TriggerPostConfirmation:
		s.PostConfirmation = h
	case TriggerPreTokenGeneration:
		s.PreTokenGeneration = h
	case TriggerCustomMessage:
		s.CustomMessage = h
	case TriggerUserMigration:
		s.UserMigration = h
	}
}

// Masked returns a copy whose secrets are replaced by MaskedSecret, for
// reads through the API and the CLI.
func (s HookSettings) Masked() HookSettings {
	var out HookSettings
	for _, t := range HookTriggers {
		if h := s.Get(t); h != nil {
			c := *h
			if c.Secret != "" {
				c.Secret = MaskedSecret
			}
			out.Set(t, &c)
		}
	}
	return out
}
