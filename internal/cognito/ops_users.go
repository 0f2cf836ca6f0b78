package cognito

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// User and group administration (signed).

type userRef struct {
	UserPoolId string
	Username   string
}

func (h *Handler) adminCreateUser(c *call) (any, error) {
	var in struct {
		UserPoolId             string
		Username               string
		UserAttributes         []attributeType
		TemporaryPassword      string
		MessageAction          string
		DesiredDeliveryMediums []string
		ForceAliasCreation     bool
		// For the PreSignUp hook's event (PreSignUp_AdminCreateUser).
		ClientMetadata map[string]string
		ValidationData []attributeType
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	for _, m := range in.DesiredDeliveryMediums {
		if m != "EMAIL" {
			return nil, identity.FieldError("DesiredDeliveryMediums", "Gatehouse delivers invitations by EMAIL only; %s is not supported.", safeOpName(m))
		}
	}
	switch in.MessageAction {
	case "", "SUPPRESS", "RESEND":
	default:
		return nil, identity.FieldError("MessageAction", "1 validation error detected: Value '%s' at 'messageAction' failed to satisfy constraint: Member must satisfy enum value set: [RESEND, SUPPRESS]", safeOpName(in.MessageAction))
	}
	attrs, err := attrsFromWire("UserAttributes", in.UserAttributes)
	if err != nil {
		return nil, err
	}
	p, err := h.svc.GetPool(c.ctx, in.UserPoolId)
	if err != nil {
		return nil, err
	}
	if in.MessageAction == "" && p.UsernameMode != identity.UsernameEmail && attrs["email"] == "" && attrs["phone_number"] == "" {
		// No address to invite: Cognito creates the user and sends
		// nothing (AWS-verified: moto's tests create users so). The native
		// API and the CLI still ask for SUPPRESS there.
		in.MessageAction = "SUPPRESS"
	}
	v, err := h.svc.AdminCreateUser(c.ctx, auth.AdminCreateUserInput{PoolID: p.ID, Username: in.Username, Attributes: attrs,
		TemporaryPassword: in.TemporaryPassword, MessageAction: in.MessageAction, ForceAliasCreation: in.ForceAliasCreation,
		ClientMetadata: in.ClientMetadata, ValidationData: validationData(in.ValidationData)})
	if err != nil {
		return nil, err
	}
	return struct{ User userType }{toUserType(p, v.User, nil)}, nil
}

func (h *Handler) adminGetUser(c *call) (any, error) {
	var in userRef
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	p, err := h.svc.GetPool(c.ctx, in.UserPoolId)
	if err != nil {
		return nil, err
	}
	v, m, err := h.svc.AdminGetUserWithMFA(c.ctx, p.ID, in.Username)
	if err != nil {
		return nil, err
	}
	u := toUserType(p, v.User, nil)
	return struct {
		Username             string
		UserAttributes       []attributeType
		UserCreateDate       *epoch
		UserLastModifiedDate *epoch
		Enabled              bool
		UserStatus           string
		userMFAFields
	}{u.Username, u.Attributes, u.UserCreateDate, u.UserLastModifiedDate, u.Enabled, u.UserStatus, toUserMFAFields(m)}, nil
}

// adminUserOp runs one of the service's (pool, username) methods.
func (h *Handler) adminUserOp(c *call, fn func(ctx context.Context, poolID, username string) error) (any, error) {
	var in userRef
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return nil, fn(c.ctx, in.UserPoolId, in.Username)
}

func (h *Handler) adminDeleteUser(c *call) (any, error) {
	return h.adminUserOp(c, h.svc.AdminDeleteUser)
}
func (h *Handler) adminConfirmSignUp(c *call) (any, error) {
	return h.adminUserOp(c, h.svc.AdminConfirmSignUp)
}
func (h *Handler) adminDisableUser(c *call) (any, error) {
	return h.adminUserOp(c, h.svc.AdminDisableUser)
}
func (h *Handler) adminEnableUser(c *call) (any, error) {
	return h.adminUserOp(c, h.svc.AdminEnableUser)
}
func (h *Handler) adminResetUserPassword(c *call) (any, error) {
	return h.adminUserOp(c, h.svc.AdminResetUserPassword)
}
func (h *Handler) adminUserGlobalSignOut(c *call) (any, error) {
	return h.adminUserOp(c, h.svc.AdminUserGlobalSignOut)
}

func (h *Handler) adminSetUserPassword(c *call) (any, error) {
	var in struct {
		UserPoolId, Username, Password string
		Permanent                      bool
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return nil, h.svc.AdminSetUserPassword(c.ctx, in.UserPoolId, in.Username, in.Password, in.Permanent)
}

// poolClient checks that clientID belongs to poolID (AdminInitiateAuth and
// AdminRespondToAuthChallenge name both).
func (h *Handler) poolClient(c *call, poolID, clientID string) error {
	if clientID == "" {
		return identity.FieldError("ClientId", "A client id is required.")
	}
	_, err := h.svc.GetClient(c.ctx, poolID, clientID)
	return err
}

func (h *Handler) adminInitiateAuth(c *call) (any, error) {
	var in struct {
		UserPoolId     string
		ClientId       string
		AuthFlow       string
		AuthParameters map[string]string
		ClientMetadata map[string]string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if err := checkAuthFlow(in.AuthFlow); err != nil {
		return nil, err
	}
	if err := h.poolClient(c, in.UserPoolId, in.ClientId); err != nil {
		return nil, err
	}
	ain := authInput(in.ClientId, in.AuthFlow, in.AuthParameters, true, c.meta)
	ain.ClientMetadata = in.ClientMetadata // for the user_migration hook, as InitiateAuth
	res, err := h.svc.InitiateAuth(c.ctx, ain)
	if err != nil {
		return nil, err
	}
	return toAuthOutput(res), nil
}

func (h *Handler) adminRespondToAuthChallenge(c *call) (any, error) {
	var in struct {
		UserPoolId         string
		ClientId           string
		ChallengeName      string
		Session            string
		ChallengeResponses map[string]string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if err := h.poolClient(c, in.UserPoolId, in.ClientId); err != nil {
		return nil, err
	}
	res, err := h.svc.RespondToAuthChallenge(c.ctx, auth.RespondInput{Client: client(in.ClientId, in.ChallengeResponses["SECRET_HASH"]),
		ChallengeName: in.ChallengeName, Session: in.Session, Responses: in.ChallengeResponses, Admin: true, Meta: c.meta})
	if err != nil {
		return nil, err
	}
	return toAuthOutput(res), nil
}

func (h *Handler) adminUpdateUserAttributes(c *call) (any, error) {
	var in struct {
		UserPoolId     string
		Username       string
		UserAttributes []attributeType
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	attrs, err := attrsFromWire("UserAttributes", in.UserAttributes)
	if err != nil {
		return nil, err
	}
	return nil, h.svc.AdminUpdateUserAttributes(c.ctx, in.UserPoolId, in.Username, attrs)
}

func (h *Handler) adminDeleteUserAttributes(c *call) (any, error) {
	var in struct {
		UserPoolId         string
		Username           string
		UserAttributeNames []string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return nil, h.svc.AdminDeleteUserAttributes(c.ctx, in.UserPoolId, in.Username, in.UserAttributeNames)
}

func (h *Handler) listUsers(c *call) (any, error) {
	var in struct {
		UserPoolId string
		// AttributesToGet: null or absent lists every attribute, [] none
		// (as AWS answers), otherwise the names given.
		AttributesToGet *[]string
		Limit           int
		PaginationToken string
		Filter          string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	switch {
	case in.Limit > 60:
		return nil, identity.FieldError("Limit", "1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 60", in.Limit)
	case in.Limit < 0:
		return nil, identity.FieldError("Limit", "1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 0", in.Limit)
	}
	p, err := h.svc.GetPool(c.ctx, in.UserPoolId)
	if err != nil {
		return nil, err
	}
	var only []string
	if in.AttributesToGet != nil {
		only = *in.AttributesToGet
		for _, name := range only {
			if !isStandardAttr(name) && !customAttrOf(p, name) {
				return nil, identity.FieldError("AttributesToGet", "One or more requested attributes do not exist.")
			}
		}
		if only == nil {
			only = []string{}
		}
	}
	us, next, err := h.svc.ListUsers(c.ctx, auth.ListUsersInput{PoolID: p.ID, Filter: in.Filter, Limit: in.Limit, Token: in.PaginationToken})
	if err != nil {
		return nil, filterError(err, in.Filter)
	}
	out := make([]userType, 0, len(us))
	for _, u := range us {
		out = append(out, toUserType(p, u, only))
	}
	return struct {
		Users           []userType
		PaginationToken string `json:",omitempty"`
	}{out, next}, nil
}

func (h *Handler) listUsersInGroup(c *call) (any, error) {
	var in struct {
		UserPoolId, GroupName, NextToken string
		Limit                            int
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	p, err := h.svc.GetPool(c.ctx, in.UserPoolId)
	if err != nil {
		return nil, err
	}
	us, next, err := h.svc.ListUsersInGroup(c.ctx, p.ID, in.GroupName, in.Limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := make([]userType, 0, len(us))
	for _, u := range us {
		out = append(out, toUserType(p, u, nil))
	}
	return struct {
		Users     []userType
		NextToken string `json:",omitempty"`
	}{out, next}, nil
}

// Groups.

type groupInput struct {
	UserPoolId  string
	GroupName   string
	Description *string
	RoleArn     *string
	Precedence  *int
}

func (h *Handler) createGroup(c *call) (any, error) {
	var in groupInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	g := &identity.Group{PoolID: in.UserPoolId, Name: in.GroupName, Precedence: in.Precedence}
	if in.Description != nil {
		g.Description = *in.Description
	}
	if in.RoleArn != nil {
		g.RoleARN = *in.RoleArn
	}
	ng, err := h.svc.CreateGroup(c.ctx, g)
	if err != nil {
		return nil, err
	}
	return struct{ Group groupType }{toGroupType(ng)}, nil
}

func (h *Handler) getGroup(c *call) (any, error) {
	var in struct{ UserPoolId, GroupName string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	g, err := h.svc.GetGroup(c.ctx, in.UserPoolId, in.GroupName)
	if err != nil {
		return nil, err
	}
	return struct{ Group groupType }{toGroupType(g)}, nil
}

func (h *Handler) listGroups(c *call) (any, error) {
	var in struct {
		UserPoolId, NextToken string
		Limit                 int
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	gs, next, err := h.svc.ListGroups(c.ctx, in.UserPoolId, in.Limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	return struct {
		Groups    []groupType
		NextToken string `json:",omitempty"`
	}{toGroupTypes(gs), next}, nil
}

// updateGroup changes only the members given, as on AWS.
func (h *Handler) updateGroup(c *call) (any, error) {
	var in groupInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	g, err := h.svc.GetGroup(c.ctx, in.UserPoolId, in.GroupName)
	if err != nil {
		return nil, err
	}
	if in.Description != nil {
		g.Description = *in.Description
	}
	if in.RoleArn != nil {
		g.RoleARN = *in.RoleArn
	}
	if in.Precedence != nil {
		g.Precedence = in.Precedence
	}
	ng, err := h.svc.UpdateGroup(c.ctx, g)
	if err != nil {
		return nil, err
	}
	return struct{ Group groupType }{toGroupType(ng)}, nil
}

func (h *Handler) deleteGroup(c *call) (any, error) {
	var in struct{ UserPoolId, GroupName string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return nil, h.svc.DeleteGroup(c.ctx, in.UserPoolId, in.GroupName)
}

func (h *Handler) adminAddUserToGroup(c *call) (any, error) {
	var in struct{ UserPoolId, Username, GroupName string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return nil, h.svc.AdminAddUserToGroup(c.ctx, in.UserPoolId, in.Username, in.GroupName)
}

func (h *Handler) adminRemoveUserFromGroup(c *call) (any, error) {
	var in struct{ UserPoolId, Username, GroupName string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return nil, h.svc.AdminRemoveUserFromGroup(c.ctx, in.UserPoolId, in.Username, in.GroupName)
}

// adminListGroupsForUser pages the user's groups (at most 100) by offset:
// NextToken is the index of the next group.
func (h *Handler) adminListGroupsForUser(c *call) (any, error) {
	var in struct {
		UserPoolId, Username, NextToken string
		Limit                           int
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.Limit < 0 || in.Limit > 60 {
		return nil, identity.FieldError("Limit", "Limit must be between 1 and 60.")
	}
	if in.Limit == 0 {
		in.Limit = 60
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 {
			return nil, identity.FieldError("NextToken", "Invalid NextToken.")
		}
		start = n
	}
	gs, err := h.svc.AdminListGroupsForUser(c.ctx, in.UserPoolId, in.Username)
	if err != nil {
		return nil, err
	}
	if start > len(gs) {
		return nil, identity.FieldError("NextToken", "Invalid NextToken.")
	}
	gs = gs[start:]
	next := ""
	if len(gs) > in.Limit {
		gs = gs[:in.Limit]
		next = strconv.Itoa(start + in.Limit)
	}
	return struct {
		Groups    []groupType
		NextToken string `json:",omitempty"`
	}{toGroupTypes(gs), next}, nil
}

// customAttrOf reports whether name is a custom attribute of p's schema.
func customAttrOf(p *identity.Pool, name string) bool {
	for _, d := range p.Schema {
		if d.Name == name {
			return true
		}
	}
	return false
}

// filterError words a refused ListUsers filter as Cognito does: "Invalid
// search attribute: <name>" for an attribute that cannot be searched,
// "Error while parsing filter." for anything else.
func filterError(err error, filter string) error {
	var ie *identity.Error
	if !errors.As(err, &ie) || ie.Field != "filter" {
		return err
	}
	if strings.HasPrefix(ie.Message, "The attribute ") {
		attr := strings.TrimSpace(filter)
		if i := strings.IndexAny(attr, " =^"); i >= 0 {
			attr = attr[:i]
		}
		return identity.FieldError("Filter", "Invalid search attribute: %s", safeOpName(attr))
	}
	return identity.FieldError("Filter", "Error while parsing filter.")
}
