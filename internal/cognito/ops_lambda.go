package cognito

import (
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// LambdaConfig: Gatehouse cannot run a Lambda function, but it calls the
// pool's webhooks with the event of the Lambda trigger of the same name
// (internal/hooks). A trigger in LambdaConfig becomes the pool's hook when
// its value is an ARN the configuration maps to a webhook
// (Options.Lambdas, cognito.lambdas) or an HTTPS URL in the ARN's place.
// Triggers Gatehouse has no hook for are refused, never dropped.

// LambdaTarget is the webhook a Lambda ARN stands for.
type LambdaTarget struct {
	URL    string
	Secret string // the webhook's signing secret (16 to 256 bytes)
}

type lambdaVersionConfig struct {
	LambdaArn     string `json:",omitempty"`
	LambdaVersion string `json:",omitempty"`
}

// lambdaConfigType is Cognito's LambdaConfigType.
type lambdaConfigType struct {
	PreSignUp                   string               `json:",omitempty"`
	CustomMessage               string               `json:",omitempty"`
	PostConfirmation            string               `json:",omitempty"`
	PreAuthentication           string               `json:",omitempty"`
	PostAuthentication          string               `json:",omitempty"`
	DefineAuthChallenge         string               `json:",omitempty"`
	CreateAuthChallenge         string               `json:",omitempty"`
	VerifyAuthChallengeResponse string               `json:",omitempty"`
	PreTokenGeneration          string               `json:",omitempty"`
	UserMigration               string               `json:",omitempty"`
	PreTokenGenerationConfig    *lambdaVersionConfig `json:",omitempty"`
	CustomSMSSender             *lambdaVersionConfig `json:",omitempty"`
	CustomEmailSender           *lambdaVersionConfig `json:",omitempty"`
	InboundFederation           *lambdaVersionConfig `json:",omitempty"`
	KMSKeyID                    string               `json:",omitempty"`
}

// unsupportedTriggers are the LambdaConfig members Gatehouse has no
// webhook for, with what to say.
func unsupportedTriggers(lc *lambdaConfigType) (string, string) {
	for _, x := range []struct{ name, v, why string }{
		{"PreAuthentication", lc.PreAuthentication, "Gatehouse has no PreAuthentication hook"},
		{"PostAuthentication", lc.PostAuthentication, "Gatehouse has no PostAuthentication hook"},
		{"DefineAuthChallenge", lc.DefineAuthChallenge, "Gatehouse has no custom authentication challenges"},
		{"CreateAuthChallenge", lc.CreateAuthChallenge, "Gatehouse has no custom authentication challenges"},
		{"VerifyAuthChallengeResponse", lc.VerifyAuthChallengeResponse, "Gatehouse has no custom authentication challenges"},
		{"KMSKeyID", lc.KMSKeyID, "Gatehouse sends its own email and has no custom sender triggers"},
	} {
		if x.v != "" {
			return x.name, x.why
		}
	}
	if lc.CustomSMSSender != nil {
		return "CustomSMSSender", "Gatehouse sends no SMS"
	}
	if lc.InboundFederation != nil {
		return "InboundFederation", "Gatehouse has no inbound federation hook; federated sign-ups go through PreSignUp (PreSignUp_ExternalProvider)"
	}
	if lc.CustomEmailSender != nil {
		return "CustomEmailSender", "Gatehouse sends its own email; use the CustomMessage trigger to change its text"
	}
	return "", ""
}

// lambdaHooks maps lc onto hooks. cur is the pool's current hooks (their
// secrets are kept for a URL given in an ARN's place); a hook named by a
// bare URL and new to the trigger gets a generated secret.
func (h *Handler) lambdaHooks(lc *lambdaConfigType, cur identity.HookSettings) (identity.HookSettings, error) {
	var out identity.HookSettings
	if lc == nil {
		return out, nil
	}
	if name, why := unsupportedTriggers(lc); name != "" {
		return out, identity.FieldError("LambdaConfig", "LambdaConfig.%s cannot be honoured: %s (docs/cognito.md).", name, why)
	}
	ptg, version := lc.PreTokenGeneration, ""
	if c := lc.PreTokenGenerationConfig; c != nil {
		switch c.LambdaVersion {
		case "V1_0":
		case "V2_0":
			version = "2"
		default:
			return out, identity.FieldError("LambdaConfig", "LambdaConfig.PreTokenGenerationConfig.LambdaVersion %s cannot be honoured: Gatehouse's pre_token_generation hook has the V1_0 and V2_0 events.", safeOpName(c.LambdaVersion))
		}
		if ptg != "" && c.LambdaArn != "" && ptg != c.LambdaArn {
			return out, identity.FieldError("LambdaConfig", "PreTokenGeneration and PreTokenGenerationConfig.LambdaArn name different functions.")
		}
		if c.LambdaArn != "" {
			ptg = c.LambdaArn
		}
	}
	for _, x := range []struct {
		t       identity.HookTrigger
		member  string
		v       string
		version string
	}{
		{identity.TriggerPreSignUp, "PreSignUp", lc.PreSignUp, ""},
		{identity.TriggerCustomMessage, "CustomMessage", lc.CustomMessage, ""},
		{identity.TriggerPostConfirmation, "PostConfirmation", lc.PostConfirmation, ""},
		{identity.TriggerPreTokenGeneration, "PreTokenGeneration", ptg, version},
		{identity.TriggerUserMigration, "UserMigration", lc.UserMigration, ""},
	} {
		if x.v == "" {
			continue
		}
		hk := &identity.Hook{LambdaARN: x.v, Version: x.version}
		switch target, ok := h.opts.Lambdas[x.v]; {
		case ok:
			hk.URL, hk.Secret = target.URL, target.Secret
		case strings.HasPrefix(x.v, "https://"):
			hk.URL = x.v
			if old := cur.Get(x.t); old != nil && old.Secret != "" {
				hk.Secret = old.Secret
			} else {
				s, err := h.svc.NewHookSecret()
				if err != nil {
					return out, err
				}
				hk.Secret = s
			}
		default:
			return out, identity.FieldError("LambdaConfig", "LambdaConfig.%s %s cannot be honoured: Gatehouse cannot run Lambda functions; map this ARN to a webhook in its configuration (cognito.lambdas) or give the webhook's HTTPS URL in its place.", x.member, safeOpName(x.v))
		}
		out.Set(x.t, hk)
	}
	return out, nil
}

// lambdaConfigOf shows a pool's hooks as LambdaConfig: the ARN or URL
// each was set with (the URL for hooks set Gatehouse's own way).
func lambdaConfigOf(hs identity.HookSettings) lambdaConfigType {
	var lc lambdaConfigType
	name := func(t identity.HookTrigger) string {
		hk := hs.Get(t)
		if !hk.Enabled() {
			return ""
		}
		if hk.LambdaARN != "" {
			return hk.LambdaARN
		}
		return hk.URL
	}
	lc.PreSignUp = name(identity.TriggerPreSignUp)
	lc.CustomMessage = name(identity.TriggerCustomMessage)
	lc.PostConfirmation = name(identity.TriggerPostConfirmation)
	lc.UserMigration = name(identity.TriggerUserMigration)
	if lc.PreTokenGeneration = name(identity.TriggerPreTokenGeneration); lc.PreTokenGeneration != "" && hs.PreTokenGeneration.Version == "2" {
		lc.PreTokenGenerationConfig = &lambdaVersionConfig{LambdaArn: lc.PreTokenGeneration, LambdaVersion: "V2_0"}
	}
	return lc
}
