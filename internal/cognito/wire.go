package cognito

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Wire structs: Cognito's JSON member names (PascalCase), timestamps as
// epoch seconds (JSON numbers). Only members Gatehouse reads or writes are
// declared; others in a request are ignored.

// epoch is a timestamp sent as epoch seconds with a fraction, as AWS does.
type epoch float64

func toEpoch(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(math.Round(float64(t.UnixMilli())) / 1000)
	return &e
}

// attributeType is Cognito's {Name, Value}.
type attributeType struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

type codeDeliveryDetails struct {
	Destination    string `json:"Destination,omitempty"`
	DeliveryMedium string `json:"DeliveryMedium,omitempty"`
	AttributeName  string `json:"AttributeName,omitempty"`
}

func toDelivery(c *auth.CodeDelivery) *codeDeliveryDetails {
	if c == nil {
		return nil
	}
	return &codeDeliveryDetails{Destination: c.Destination, DeliveryMedium: c.DeliveryMedium, AttributeName: c.AttributeName}
}

type authenticationResult struct {
	AccessToken  string `json:"AccessToken,omitempty"`
	ExpiresIn    int    `json:"ExpiresIn"`
	IdToken      string `json:"IdToken,omitempty"`
	RefreshToken string `json:"RefreshToken,omitempty"`
	TokenType    string `json:"TokenType,omitempty"`
	// NewDeviceMetadata: a new device in a pool that tracks devices
	// (ops_devices.go).
	NewDeviceMetadata *newDeviceMetadataType `json:"NewDeviceMetadata,omitempty"`
}

// authOutput is InitiateAuth's, RespondToAuthChallenge's and their admin
// twins' output.
type authOutput struct {
	AuthenticationResult *authenticationResult `json:"AuthenticationResult,omitempty"`
	AvailableChallenges  []string              `json:"AvailableChallenges,omitempty"`
	ChallengeName        string                `json:"ChallengeName,omitempty"`
	ChallengeParameters  map[string]string     `json:"ChallengeParameters"` // {} with tokens, as on AWS
	Session              string                `json:"Session,omitempty"`
}

func toAuthOutput(res *auth.AuthResult) *authOutput {
	out := &authOutput{ChallengeParameters: map[string]string{}}
	if res == nil {
		return out
	}
	if t := res.Tokens; t != nil {
		out.AuthenticationResult = &authenticationResult{AccessToken: t.AccessToken, ExpiresIn: t.ExpiresIn,
			IdToken: t.IDToken, RefreshToken: t.RefreshToken, TokenType: t.TokenType}
		if d := res.NewDevice; d != nil {
			out.AuthenticationResult.NewDeviceMetadata = &newDeviceMetadataType{DeviceKey: d.DeviceKey, DeviceGroupKey: d.DeviceGroupKey}
		}
	}
	out.AvailableChallenges = res.AvailableChallenges
	if ch := res.Challenge; ch != nil {
		out.ChallengeName = ch.Name
		out.Session = ch.Session
		if ch.Parameters != nil {
			out.ChallengeParameters = ch.Parameters
		}
	}
	return out
}

// attrsFromWire turns [{Name, Value}] into a map; a repeated name is
// invalid, as on AWS.
func attrsFromWire(field string, list []attributeType) (map[string]string, error) {
	m := make(map[string]string, len(list))
	for _, a := range list {
		if a.Name == "" {
			return nil, identity.FieldError(field, "1 validation error detected: Value at '%s' failed to satisfy constraint: Attribute names must not be empty.", field)
		}
		if _, dup := m[a.Name]; dup {
			return nil, identity.FieldError(field, "Duplicate attribute %s.", safeOpName(a.Name))
		}
		v := a.Value
		if (a.Name == "email_verified" || a.Name == "phone_number_verified") && (strings.EqualFold(v, "true") || strings.EqualFold(v, "false")) {
			v = strings.ToLower(v) // AWS takes "True" (AWS-verified: moto's test_forgot_password_with_email_delivery_details)
		}
		m[a.Name] = v
	}
	return m, nil
}

// cognitoUsername is the Username Cognito shows: the sub in pools where the
// email is the username, else the username.
func cognitoUsername(p *identity.Pool, u *identity.User) string {
	if p != nil && p.UsernameMode == identity.UsernameEmail {
		return u.Sub
	}
	return u.Username
}

// userAttributes lists the user's attributes as Cognito does: sub first,
// then the others sorted by name; email_verified only once it was given a
// value (true, or false by an admin or an email change), as AWS lists only
// the attributes that were set. Every read path (AdminGetUser, GetUser,
// ListUsers, ListUsersInGroup, AdminCreateUser's answer) lists through it.
func userAttributes(u *identity.User) []attributeType {
	out := []attributeType{{"sub", u.Sub}}
	var rest []attributeType
	if u.Email != "" {
		rest = append(rest, attributeType{"email", u.Email})
		if u.EmailVerified || u.EmailVerifiedFalse {
			rest = append(rest, attributeType{"email_verified", strconv.FormatBool(u.EmailVerified)})
		}
	}
	for k, v := range u.Attributes {
		rest = append(rest, attributeType{k, v})
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i].Name < rest[j].Name })
	return append(out, rest...)
}

// userType is Cognito's UserType (AdminCreateUser, ListUsers).
type userType struct {
	Username             string          `json:"Username"`
	Attributes           []attributeType `json:"Attributes"`
	UserCreateDate       *epoch          `json:"UserCreateDate,omitempty"`
	UserLastModifiedDate *epoch          `json:"UserLastModifiedDate,omitempty"`
	Enabled              bool            `json:"Enabled"`
	UserStatus           string          `json:"UserStatus"`
}

// toUserType answers u; only, when not nil, keeps just those attributes
// (ListUsers' AttributesToGet; empty keeps none).
func toUserType(p *identity.Pool, u *identity.User, only []string) userType {
	attrs := userAttributes(u)
	if only != nil {
		keep := attrs[:0:0]
		for _, a := range attrs {
			if contains(only, a.Name) {
				keep = append(keep, a)
			}
		}
		attrs = keep
	}
	return userType{Username: cognitoUsername(p, u), Attributes: attrs, UserCreateDate: toEpoch(u.CreatedAt),
		UserLastModifiedDate: toEpoch(u.UpdatedAt), Enabled: u.Enabled, UserStatus: string(u.Status)}
}

// groupType is Cognito's GroupType.
type groupType struct {
	GroupName        string `json:"GroupName"`
	UserPoolId       string `json:"UserPoolId"`
	Description      string `json:"Description,omitempty"`
	RoleArn          string `json:"RoleArn,omitempty"`
	Precedence       *int   `json:"Precedence,omitempty"`
	LastModifiedDate *epoch `json:"LastModifiedDate,omitempty"`
	CreationDate     *epoch `json:"CreationDate,omitempty"`
}

func toGroupType(g *identity.Group) groupType {
	return groupType{GroupName: g.Name, UserPoolId: g.PoolID, Description: g.Description, RoleArn: g.RoleARN,
		Precedence: g.Precedence, LastModifiedDate: toEpoch(g.UpdatedAt), CreationDate: toEpoch(g.CreatedAt)}
}

func toGroupTypes(gs []*identity.Group) []groupType {
	out := make([]groupType, 0, len(gs))
	for _, g := range gs {
		out = append(out, toGroupType(g))
	}
	return out
}
