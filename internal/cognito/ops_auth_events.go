package cognito

import (
	"strconv"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// AdminListUserAuthEvents reads the user's sign-ins from the audit log
// (user.sign_in: Pass; user.sign_in_failed: Fail), newest first. Gatehouse
// keeps the log without an advanced-security add-on, so the events are
// there whatever UserPoolAddOns says; risk is not scored (NoRisk, Low).

type authEventType struct {
	EventId            string
	EventType          string
	CreationDate       *epoch
	EventResponse      string
	EventRisk          struct{ RiskDecision, RiskLevel string }
	ChallengeResponses []challengeResponseType
	EventContextData   struct{ IpAddress string }
}

type challengeResponseType struct{ ChallengeName, ChallengeResponse string }

func (h *Handler) adminListUserAuthEvents(c *call) (any, error) {
	var in struct {
		UserPoolId string
		Username   string
		MaxResults int
		NextToken  string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.MaxResults < 0 || in.MaxResults > 60 {
		return nil, identity.FieldError("MaxResults", "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value between 0 and 60.")
	}
	if in.MaxResults == 0 {
		in.MaxResults = 10
	}
	p, err := h.svc.GetPool(c.ctx, in.UserPoolId)
	if err != nil {
		return nil, err
	}
	v, err := h.svc.AdminGetUser(c.ctx, p.ID, in.Username)
	if err != nil {
		return nil, err
	}
	// One page of the user's audit events; the sign-ins among them are
	// answered (a page may hold fewer than MaxResults, as AWS allows).
	evs, next, err := h.svc.Audit(c.ctx, auth.AuditQuery{PoolID: p.ID, Subject: "user:" + v.User.Sub, Limit: in.MaxResults, Token: in.NextToken})
	if err != nil {
		return nil, err
	}
	out := []authEventType{}
	for _, e := range evs {
		var ev authEventType
		switch e.Action {
		case "user.sign_in":
			ev.EventResponse = "Pass"
			ev.ChallengeResponses = []challengeResponseType{{"Password", "Success"}}
		case "user.sign_in_failed":
			ev.EventResponse = "Fail"
			ev.ChallengeResponses = []challengeResponseType{{"Password", "Failure"}}
		default:
			continue
		}
		ev.EventId, ev.EventType, ev.CreationDate = strconv.FormatInt(e.ID, 10), "SignIn", toEpoch(e.Time)
		ev.EventRisk.RiskDecision, ev.EventRisk.RiskLevel = "NoRisk", "Low"
		ev.EventContextData.IpAddress = e.IP
		out = append(out, ev)
	}
	return struct {
		AuthEvents []authEventType
		NextToken  string `json:",omitempty"`
	}{out, next}, nil
}
