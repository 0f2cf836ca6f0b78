package auth

import (
	"context"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// runPreSignUp calls the pool's pre_sign_up hook (if any) for u, which is
// about to be created and is not written yet. A rejection is
// user_lambda_validation "PreSignUp failed with error <message>."; a
// failing hook is unexpected_lambda or invalid_lambda_response. On
// success the answer is applied to u:
//   - autoVerifyEmail: EmailVerified (when u has an email);
//   - autoVerifyPhone: phone_number_verified "true" (when u has a phone);
//
// and autoConfirm reports autoConfirmUser (honoured for PreSignUp_SignUp
// only; an invited user still has to set a password).
func (s *Service) runPreSignUp(ctx context.Context, p *identity.Pool, clientID, source string, u *identity.User, clientMetadata, validationData map[string]string) (autoConfirm bool, err error) {
	h := hookFor(p, identity.TriggerPreSignUp)
	if h == nil {
		return false, nil
	}
	ev := hooks.PreSignUpEvent{}
	ev.CognitoEventUserPoolsHeader = hooks.Header(p, clientID, source, cognitoUsername(p, u), "1")
	ev.Request.UserAttributes = hookUserAttributes(u)
	ev.Request.ValidationData = validationData
	if ev.Request.ValidationData == nil {
		ev.Request.ValidationData = map[string]string{}
	}
	ev.Request.ClientMetadata = clientMetadata
	if ev.Request.ClientMetadata == nil {
		ev.Request.ClientMetadata = map[string]string{}
	}
	var resp hooks.PreSignUpResponse
	if err := s.callHook(ctx, p, h, identity.TriggerPreSignUp, source, ev, &resp); err != nil {
		return false, err
	}
	if resp.AutoVerifyEmail && u.Email != "" {
		u.EmailVerified = true
	}
	if resp.AutoVerifyPhone && u.Attributes["phone_number"] != "" {
		u.Attributes["phone_number_verified"] = "true"
	}
	return resp.AutoConfirmUser && source == hooks.SourcePreSignUpSignUp, nil
}

// signUpHooks runs SignUp's synchronous hooks for u before the sign-up
// transaction: pre_sign_up, then (unless it auto-confirmed the user)
// custom_message for the code email, whose answer rides in the returned
// context. With autoConfirm, SignUp sends no code and activates the user
// as a verified email would (afterEmailVerified) in its transaction.
func (s *Service) signUpHooks(ctx context.Context, p *identity.Pool, clientID string, u *identity.User, clientMetadata, validationData map[string]string) (context.Context, bool, error) {
	autoConfirm, err := s.runPreSignUp(ctx, p, clientID, hooks.SourcePreSignUpSignUp, u, clientMetadata, validationData)
	if err != nil || autoConfirm {
		return ctx, autoConfirm, err
	}
	ctx, err = s.prepareMessage(ctx, p, u, clientID, hooks.SourceCustomMessageSignUp)
	return ctx, false, err
}

// adminCreateHooks runs AdminCreateUser's synchronous hooks for u before
// its transaction: pre_sign_up (PreSignUp_AdminCreateUser), then, when an
// invitation will be sent, custom_message (CustomMessage_AdminCreateUser).
func (s *Service) adminCreateHooks(ctx context.Context, p *identity.Pool, u *identity.User, invite bool, clientMetadata, validationData map[string]string) (context.Context, error) {
	if _, err := s.runPreSignUp(ctx, p, "", hooks.SourcePreSignUpAdminCreateUser, u, clientMetadata, validationData); err != nil {
		return ctx, err
	}
	if !invite {
		return ctx, nil
	}
	return s.prepareMessage(ctx, p, u, "", hooks.SourceCustomMessageAdminCreateUser)
}
