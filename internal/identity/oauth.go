package identity

import "time"

// OAuth client flows (AppClient.OAuthFlows, Cognito's AllowedOAuthFlows).
const (
	OAuthFlowCode              = "code"
	OAuthFlowClientCredentials = "client_credentials"
)

// OAuthCode is an OAuth 2.0 authorization code issued by /oauth2/authorize
// (internal/oidc). Only the SHA-256 of the code is stored; it is valid for
// a minute and used once (compare-and-set on UsedAt). FamilyID is the
// refresh token family issued when it was redeemed, so that a second
// redemption can revoke what the first one got.
type OAuthCode struct {
	Hash                string // hex SHA-256 of the code
	PoolID              string
	ClientID            string
	UserSub             string
	RedirectURI         string // exactly as sent to /oauth2/authorize
	CodeChallenge       string // PKCE S256 challenge, "" when none was sent
	CodeChallengeMethod string // "S256" or ""
	Nonce               string
	Scope               string // space-separated, as granted
	AuthTime            time.Time
	AMR                 string // how the user signed in (space-separated amr values)
	ExpiresAt           time.Time
	CreatedAt           time.Time
	UsedAt              time.Time // zero until redeemed
	FamilyID            string    // refresh family issued from it, once redeemed
	OriginJTI           string    // origin_jti of the sign-in issued from it, once redeemed
}
