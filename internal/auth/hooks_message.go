package auth

import (
	"context"
	"fmt"
	"html"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Custom messages
//
// The custom_message hook may rewrite an email's subject and body, as
// Cognito's CustomMessage trigger does: the event carries codeParameter
// "{####}" and usernameParameter "{username}" instead of the real code and
// username, and the hook's emailMessage must contain "{####}" (and, for
// an invitation, "{username}" too); Gatehouse substitutes them, HTML-escaped
// in the HTML part. The hook never sees the code or temporary password.
//
// Flows call prepareMessage before their transaction and carry the answer
// in ctx to enqueueMessage (called where the email is enqueued). Flows
// that do not prepare (some admin and self-service flows) call the hook
// from enqueueMessage, inside their transaction.

const (
	codeParameter     = "{####}"
	usernameParameter = "{username}"
	maxEmailMessage   = 20000 // characters (Cognito's limit)
	maxEmailSubject   = 140   // characters (Cognito's limit)
)

// preparedMessage is a custom_message answer (nil fields: no hook).
type preparedMessage struct {
	source  string
	subject string // "" keeps the template's subject
	body    string // "" keeps the template's body
}

type preparedMessageKey struct{}

// prepareMessage calls the pool's custom_message hook for an email to u
// with trigger source, before the flow's transaction; the answer rides in
// the returned context to enqueueMessage. Without a hook ctx is returned
// unchanged. Errors: the hook's (see callHook), invalid_lambda_response
// for an answer without the placeholders.
func (s *Service) prepareMessage(ctx context.Context, p *identity.Pool, u *identity.User, clientID, source string) (context.Context, error) {
	m, err := s.customMessage(ctx, p, u, clientID, source)
	if err != nil || m == nil {
		return ctx, err
	}
	return context.WithValue(ctx, preparedMessageKey{}, m), nil
}

// customMessage calls the hook (nil, nil without one).
func (s *Service) customMessage(ctx context.Context, p *identity.Pool, u *identity.User, clientID, source string) (*preparedMessage, error) {
	h := hookFor(p, identity.TriggerCustomMessage)
	if h == nil {
		return nil, nil
	}
	ev := hooks.CustomMessageEvent{}
	ev.CognitoEventUserPoolsHeader = hooks.Header(p, clientID, source, cognitoUsername(p, u), "1")
	attrs := map[string]any{}
	for k, v := range hookUserAttributes(u) {
		attrs[k] = v
	}
	ev.Request.UserAttributes = attrs
	ev.Request.CodeParameter = codeParameter
	ev.Request.UsernameParameter = usernameParameter
	ev.Request.ClientMetadata = map[string]string{}
	var resp hooks.CustomMessageResponse
	if err := s.callHook(ctx, p, h, identity.TriggerCustomMessage, source, ev, &resp); err != nil {
		return nil, err
	}
	m := &preparedMessage{source: source, subject: strings.TrimSpace(resp.EmailSubject), body: resp.EmailMessage}
	invalid := func(reason string) error {
		return (&hooks.Error{Kind: hooks.KindInvalidResponse, Trigger: identity.TriggerCustomMessage, Reason: reason}).Identity()
	}
	switch {
	case strings.ContainsAny(m.subject, "\r\n") || !utf8.ValidString(m.subject):
		return nil, invalid("emailSubject must be one line of text")
	case utf8.RuneCountInString(m.subject) > maxEmailSubject:
		return nil, invalid(fmt.Sprintf("emailSubject is longer than %d characters", maxEmailSubject))
	case !utf8.ValidString(m.body):
		return nil, invalid("emailMessage is not valid UTF-8")
	case utf8.RuneCountInString(m.body) > maxEmailMessage:
		return nil, invalid(fmt.Sprintf("emailMessage is longer than %d characters", maxEmailMessage))
	case m.body != "" && !strings.Contains(m.body, codeParameter):
		return nil, invalid("emailMessage must contain " + codeParameter)
	case m.body != "" && source == hooks.SourceCustomMessageAdminCreateUser && !strings.Contains(m.body, usernameParameter):
		return nil, invalid("emailMessage must contain " + usernameParameter + " and " + codeParameter)
	}
	return m, nil
}

// messageSource is the default triggerSource of a template.
func messageSource(ctx context.Context, template string) string {
	switch template {
	case TemplateSignUpCode:
		return hooks.SourceCustomMessageSignUp
	case TemplateForgotPassword:
		return hooks.SourceCustomMessageForgotPassword
	case TemplateInvite:
		return hooks.SourceCustomMessageAdminCreateUser
	case TemplateVerifyEmail:
		return hooks.SourceCustomMessageUpdateUserAttribute
	case TemplateMFACode:
		return hooks.SourceCustomMessageAuthentication // the EMAIL_OTP sign-in code, as on Cognito
	}
	return ""
}

// sourceTemplate is the email template a custom message source rewrites.
func sourceTemplate(source string) string {
	switch source {
	case hooks.SourceCustomMessageSignUp, hooks.SourceCustomMessageResendCode:
		return TemplateSignUpCode
	case hooks.SourceCustomMessageForgotPassword:
		return TemplateForgotPassword
	case hooks.SourceCustomMessageAdminCreateUser:
		return TemplateInvite
	case hooks.SourceCustomMessageUpdateUserAttribute, hooks.SourceCustomMessageVerifyUserAttribute:
		return TemplateVerifyEmail
	case hooks.SourceCustomMessageAuthentication:
		return TemplateMFACode
	}
	return ""
}

// enqueueMessage enqueues template to u.Email through q (the Mailer), then
// applies the pool's custom message, if any: the one prepared in ctx, or
// else the hook is called now. The email's subject and body are replaced
// in the same transaction. data's "Code" (or "TemporaryPassword") and
// "Username" fill the placeholders.
func (s *Service) enqueueMessage(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User, template string, data map[string]any) (*identity.Email, error) {
	e, err := s.cfg.Mail.Enqueue(ctx, q, p, u.Email, template, data)
	if err != nil {
		return nil, err
	}
	source := messageSource(ctx, template)
	m, _ := ctx.Value(preparedMessageKey{}).(*preparedMessage)
	if m != nil && sourceTemplate(m.source) != template {
		m = nil // prepared for another email of the flow
	}
	if m == nil && source != "" && hookFor(p, identity.TriggerCustomMessage) != nil {
		if m, err = s.customMessage(ctx, p, u, "", source); err != nil {
			return nil, err
		}
	}
	if m == nil || (m.subject == "" && m.body == "") {
		return e, nil
	}
	code, _ := data["Code"].(string)
	if template == TemplateInvite {
		code, _ = data["TemporaryPassword"].(string)
	}
	username, _ := data["Username"].(string)
	if m.subject != "" {
		e.Subject = m.subject
	}
	if m.body != "" {
		e.HTML = strings.NewReplacer(codeParameter, html.EscapeString(code), usernameParameter, html.EscapeString(username)).Replace(m.body)
		e.Text = strings.NewReplacer(codeParameter, code, usernameParameter, username).Replace(htmlToText(m.body))
	}
	if err := q.UpdateEmail(ctx, e); err != nil {
		return nil, fmt.Errorf("update email with custom message: %w", err)
	}
	return e, nil
}

var (
	reBreak = regexp.MustCompile(`(?i)<\s*(br|/p|/div|/h[1-6]|/li|/tr)\s*/?>`)
	reTag   = regexp.MustCompile(`<[^>]*>`)
	reBlank = regexp.MustCompile(`\n{3,}`)
)

// htmlToText is the plain-text part of a custom HTML message: line breaks
// for block ends, tags dropped, entities decoded.
func htmlToText(s string) string {
	s = reBreak.ReplaceAllString(s, "$0\n")
	s = reTag.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	s = reBlank.ReplaceAllString(s, "\n\n")
	return strings.TrimSpace(s) + "\n"
}
