package auth

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// maxClaimsParam bounds the claims request parameter (OIDC Core §5.5).
const maxClaimsParam = 4096

// StepUpRequested reports whether an authorization request q asks for a
// second factor (docs/oidc.md "Step-up"): acr_values names ACRMFA,
// or the claims parameter asks for an essential id_token acr whose value
// or values include it. A session that did not prove MFA then signs in
// again with a factor (StepUpMFA), however the pool's policy is set.
// Other acr values are accepted and ignored (acr_values is a voluntary
// request, OIDC Core §3.1.2.1); a claims parameter that is not a JSON
// object is an error.
func StepUpRequested(q url.Values) (bool, error) {
	if slices.Contains(strings.Fields(q.Get("acr_values")), ACRMFA) {
		return true, nil
	}
	raw := q.Get("claims")
	if raw == "" {
		return false, nil
	}
	if len(raw) > maxClaimsParam {
		return false, identity.FieldError("claims", "claims is too long.")
	}
	var c struct {
		IDToken map[string]*struct {
			Essential bool     `json:"essential"`
			Value     string   `json:"value"`
			Values    []string `json:"values"`
		} `json:"id_token"`
	}
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return false, identity.FieldError("claims", "claims is not a valid JSON object.")
	}
	acr := c.IDToken["acr"]
	if acr == nil || !acr.Essential {
		return false, nil
	}
	return acr.Value == ACRMFA || slices.Contains(acr.Values, ACRMFA), nil
}
