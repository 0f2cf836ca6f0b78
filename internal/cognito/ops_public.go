package cognito

import (
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// The unsigned operations: the client id (or the access token) names the
// pool, as on AWS.

func (h *Handler) signUp(c *call) (any, error) {
	var in struct {
		ClientId       string
		SecretHash     string
		Username       string
		Password       string
		UserAttributes []attributeType
		// For the PreSignUp hook's event, as on AWS.
		ClientMetadata map[string]string
		ValidationData []attributeType
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	attrs, err := attrsFromWire("UserAttributes", in.UserAttributes)
	if err != nil {
		return nil, err
	}
	out, err := h.svc.SignUp(c.ctx, auth.SignUpInput{Client: client(in.ClientId, in.SecretHash), Username: in.Username,
		Password: in.Password, Attributes: attrs, ClientMetadata: in.ClientMetadata, ValidationData: validationData(in.ValidationData), Meta: c.meta})
	if err != nil {
		return nil, err
	}
	return struct {
		UserConfirmed       bool
		UserSub             string
		CodeDeliveryDetails *codeDeliveryDetails `json:",omitempty"`
	}{out.UserConfirmed, out.UserSub, toDelivery(out.CodeDelivery)}, nil
}

// validationData is the map a PreSignUp event carries for a request's
// ValidationData ([{Name, Value}]; a repeated name keeps its last value).
// It is the hook's to judge; Gatehouse stores none of it.
func validationData(list []attributeType) map[string]string {
	if len(list) == 0 {
		return nil
	}
	m := make(map[string]string, len(list))
	for _, a := range list {
		m[a.Name] = a.Value
	}
	return m
}

func client(id, secretHash string) auth.Client {
	return auth.Client{ID: id, SecretHash: secretHash}
}

func (h *Handler) confirmSignUp(c *call) (any, error) {
	var in struct {
		ClientId, SecretHash, Username, ConfirmationCode string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return nil, h.svc.ConfirmSignUp(c.ctx, auth.ConfirmSignUpInput{Client: client(in.ClientId, in.SecretHash),
		Username: in.Username, Code: in.ConfirmationCode, Meta: c.meta})
}

func (h *Handler) resendConfirmationCode(c *call) (any, error) {
	var in struct{ ClientId, SecretHash, Username string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	cd, err := h.svc.ResendConfirmationCode(c.ctx, client(in.ClientId, in.SecretHash), in.Username, c.meta)
	if err != nil {
		return nil, err
	}
	return deliveryOutput(cd), nil
}

func deliveryOutput(cd *auth.CodeDelivery) any {
	return struct {
		CodeDeliveryDetails *codeDeliveryDetails `json:",omitempty"`
	}{toDelivery(cd)}
}

// authInput maps Cognito's AuthFlow + AuthParameters onto the service's
// InitiateAuthInput. The whole AuthParameters map also travels in Params
// (SRP_A, DEVICE_KEY, ...).
// authFlows is AWS's AuthFlowType enum, in its model's order.
var authFlows = []string{"USER_SRP_AUTH", "REFRESH_TOKEN_AUTH", "REFRESH_TOKEN", "CUSTOM_AUTH", "ADMIN_NO_SRP_AUTH",
	"USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH", "USER_AUTH"}

// checkAuthFlow refuses an AuthFlow outside AWS's enum in AWS's words (a
// flow of the enum that Gatehouse does not serve, CUSTOM_AUTH, is the
// service's refusal).
func checkAuthFlow(flow string) error {
	if flow == "" || contains(authFlows, flow) {
		return nil
	}
	return identity.FieldError("AuthFlow", "1 validation error detected: Value '%s' at 'authFlow' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
		safeOpName(flow), strings.Join(authFlows, ", "))
}

func authInput(clientID, flow string, params map[string]string, admin bool, meta auth.RequestMeta) auth.InitiateAuthInput {
	return auth.InitiateAuthInput{
		Client:       client(clientID, params["SECRET_HASH"]),
		Flow:         flow,
		Username:     params["USERNAME"],
		Password:     params["PASSWORD"],
		RefreshToken: params["REFRESH_TOKEN"],
		Params:       params,
		Admin:        admin,
		Meta:         meta,
		// REFRESH_TOKEN_AUTH here is refused on a client with rotation
		// ENABLED, as on AWS; GetTokensFromRefreshToken rotates.
		RefreshCall: auth.RefreshInitiateAuth,
	}
}

func (h *Handler) initiateAuth(c *call) (any, error) {
	var in struct {
		AuthFlow       string
		ClientId       string
		AuthParameters map[string]string
		ClientMetadata map[string]string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if err := checkAuthFlow(in.AuthFlow); err != nil {
		return nil, err
	}
	ain := authInput(in.ClientId, in.AuthFlow, in.AuthParameters, false, c.meta)
	ain.ClientMetadata = in.ClientMetadata // for the user_migration hook
	res, err := h.svc.InitiateAuth(c.ctx, ain)
	if err != nil {
		return nil, err
	}
	return toAuthOutput(res), nil
}

func (h *Handler) respondToAuthChallenge(c *call) (any, error) {
	var in struct {
		ClientId           string
		ChallengeName      string
		Session            string
		ChallengeResponses map[string]string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	res, err := h.svc.RespondToAuthChallenge(c.ctx, auth.RespondInput{Client: client(in.ClientId, in.ChallengeResponses["SECRET_HASH"]),
		ChallengeName: in.ChallengeName, Session: in.Session, Responses: in.ChallengeResponses, Meta: c.meta})
	if err != nil {
		return nil, err
	}
	return toAuthOutput(res), nil
}

func (h *Handler) getTokensFromRefreshToken(c *call) (any, error) {
	var in struct {
		RefreshToken, ClientId, ClientSecret, DeviceKey string
		ClientMetadata                                  map[string]string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.RefreshToken == "" {
		return nil, identity.FieldError("RefreshToken", "1 validation error detected: Value null at 'refreshToken' failed to satisfy constraint: Member must not be null")
	}
	// A new refresh token comes back only when the client rotates
	// (RefreshTokenRotation ENABLED); DeviceKey is checked as
	// REFRESH_TOKEN_AUTH's DEVICE_KEY is.
	res, err := h.svc.InitiateAuth(c.ctx, auth.InitiateAuthInput{Client: auth.Client{ID: in.ClientId, Secret: in.ClientSecret},
		Flow: auth.AuthRefreshToken, RefreshToken: in.RefreshToken, Params: map[string]string{"DEVICE_KEY": in.DeviceKey},
		ClientMetadata: in.ClientMetadata, Meta: c.meta, RefreshCall: auth.RefreshGetTokens})
	if err != nil {
		return nil, err
	}
	out := toAuthOutput(res)
	return struct {
		AuthenticationResult *authenticationResult `json:",omitempty"`
	}{out.AuthenticationResult}, nil
}

func (h *Handler) forgotPassword(c *call) (any, error) {
	var in struct {
		ClientId, SecretHash, Username string
		ClientMetadata                 map[string]string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	cd, err := h.svc.ForgotPassword(c.ctx, auth.ForgotPasswordInput{Client: client(in.ClientId, in.SecretHash), Username: in.Username,
		ClientMetadata: in.ClientMetadata, RefuseInvited: true, Meta: c.meta})
	if err != nil {
		return nil, err
	}
	return deliveryOutput(cd), nil
}

func (h *Handler) confirmForgotPassword(c *call) (any, error) {
	var in struct{ ClientId, SecretHash, Username, ConfirmationCode, Password string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return nil, h.svc.ConfirmForgotPassword(c.ctx, auth.ConfirmForgotPasswordInput{Client: client(in.ClientId, in.SecretHash),
		Username: in.Username, Code: in.ConfirmationCode, NewPassword: in.Password, Meta: c.meta})
}

func (h *Handler) changePassword(c *call) (any, error) {
	var in struct{ AccessToken, PreviousPassword, ProposedPassword string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return nil, h.svc.ChangePassword(c.ctx, in.AccessToken, in.PreviousPassword, in.ProposedPassword)
}

func (h *Handler) getUser(c *call) (any, error) {
	var in struct{ AccessToken string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	v, p, m, err := h.svc.GetUserWithMFA(c.ctx, in.AccessToken) // one verification, one read
	if err != nil {
		return nil, err
	}
	return struct {
		Username       string
		UserAttributes []attributeType
		userMFAFields
	}{cognitoUsername(p, v.User), userAttributes(v.User), toUserMFAFields(m)}, nil
}

func (h *Handler) updateUserAttributes(c *call) (any, error) {
	var in struct {
		AccessToken    string
		UserAttributes []attributeType
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	attrs, err := attrsFromWire("UserAttributes", in.UserAttributes)
	if err != nil {
		return nil, err
	}
	res, err := h.svc.UpdateUserAttributes(c.ctx, in.AccessToken, attrs)
	if err != nil {
		return nil, err
	}
	// A pending email (AttributesRequireVerificationBeforeUpdate) shows
	// only here, as in Cognito: GetUser keeps the address in force.
	list := make([]*codeDeliveryDetails, 0, len(res.CodeDeliveries))
	for i := range res.CodeDeliveries {
		list = append(list, toDelivery(&res.CodeDeliveries[i]))
	}
	return struct {
		CodeDeliveryDetailsList []*codeDeliveryDetails
	}{list}, nil
}

func (h *Handler) deleteUserAttributes(c *call) (any, error) {
	var in struct {
		AccessToken        string
		UserAttributeNames []string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return nil, h.svc.DeleteUserAttributes(c.ctx, in.AccessToken, in.UserAttributeNames)
}

func (h *Handler) verifyUserAttribute(c *call) (any, error) {
	var in struct{ AccessToken, AttributeName, Code string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return nil, h.svc.VerifyUserAttribute(c.ctx, in.AccessToken, in.AttributeName, in.Code)
}

func (h *Handler) getUserAttributeVerificationCode(c *call) (any, error) {
	var in struct{ AccessToken, AttributeName string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	cd, err := h.svc.GetUserAttributeVerificationCode(c.ctx, in.AccessToken, in.AttributeName, c.meta)
	if err != nil {
		return nil, err
	}
	return deliveryOutput(cd), nil
}

func (h *Handler) deleteUser(c *call) (any, error) {
	var in struct{ AccessToken string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return nil, h.svc.DeleteUser(c.ctx, in.AccessToken)
}

func (h *Handler) globalSignOut(c *call) (any, error) {
	var in struct{ AccessToken string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return nil, h.svc.GlobalSignOut(c.ctx, in.AccessToken)
}

func (h *Handler) revokeToken(c *call) (any, error) {
	var in struct{ Token, ClientId, ClientSecret string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return nil, h.svc.RevokeToken(c.ctx, auth.Client{ID: in.ClientId, Secret: in.ClientSecret}, in.Token)
}
