package auth

import (
	"context"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Second factors from the hosted account page (docs/mfa.md "The account
// page"): the same flows as the access-token operations (associateTOTP,
// verifyTOTP, removeFactor, recoveryCodes) for the user whose hosted
// session the page checked, and only for a sign-in at most
// PasskeyFreshness old (not_authorized "Sign in again to change this."),
// as removing a passkey: a session cookie left behind on a shared
// computer cannot weaken or take over the account's factors.

// AccountFactorInput names the account page's user and its sign-in time.
type AccountFactorInput struct {
	PoolID, Sub string
	AuthTime    time.Time
}

// freshUser checks the sign-in's age and reads the pool and the user.
func (s *Service) freshUser(ctx context.Context, in AccountFactorInput) (*userMFAOwner, error) {
	if err := s.requireFresh(in.AuthTime); err != nil {
		return nil, err
	}
	p, u, err := s.userBySub(ctx, in.PoolID, in.Sub)
	if err != nil {
		return nil, err
	}
	return &userMFAOwner{p: p, u: u}, nil
}

// userMFAOwner is a user read for an account-page factor change.
type userMFAOwner struct {
	p *identity.Pool
	u *identity.User
}

// GetAccountMFA returns the MFA state of the user sub (the page shows it;
// no freshness needed to read). Errors: user_not_found.
func (s *Service) GetAccountMFA(ctx context.Context, poolID, sub string) (*UserMFA, error) {
	p, u, err := s.userBySub(ctx, poolID, sub)
	if err != nil {
		return nil, err
	}
	return s.mfaView(ctx, s.cfg.Store, p, u)
}

// StartAccountTOTP starts an authenticator app's enrolment
// (AssociateSoftwareToken): the key to show and its otpauth:// URI.
func (s *Service) StartAccountTOTP(ctx context.Context, in AccountFactorInput) (*TOTPSetup, error) {
	o, err := s.freshUser(ctx, in)
	if err != nil {
		return nil, err
	}
	return s.associateTOTP(ctx, o.p, nil, o.u, nil)
}

// ConfirmAccountTOTP confirms the pending enrolment with its first code
// (VerifySoftwareToken) and turns the app on as the preferred factor
// (SetUserMFAPreference), as the sign-in's own enrolment does.
func (s *Service) ConfirmAccountTOTP(ctx context.Context, in AccountFactorInput, code, name string) error {
	o, err := s.freshUser(ctx, in)
	if err != nil {
		return err
	}
	if _, err := s.verifyTOTP(ctx, o.p, nil, o.u, nil, VerifyTOTPInput{Code: code, DeviceName: name}); err != nil {
		return err
	}
	on := &FactorPreference{Enabled: true, Preferred: true}
	return s.setMFAPreference(ctx, o.p.ID, o.u.Sub, MFAPreference{SoftwareToken: on}, "user.mfa_preference", true)
}

// RemoveAccountFactor removes one factor (RemoveFactor: the last factor
// of a user who must have MFA stays).
func (s *Service) RemoveAccountFactor(ctx context.Context, in AccountFactorInput, id string) error {
	o, err := s.freshUser(ctx, in)
	if err != nil {
		return err
	}
	return s.removeFactor(ctx, o.p, o.u, id)
}

// NewAccountRecoveryCodes replaces the user's recovery codes
// (GenerateRecoveryCodes); the answer is the only time they are shown.
func (s *Service) NewAccountRecoveryCodes(ctx context.Context, in AccountFactorInput) ([]string, error) {
	o, err := s.freshUser(ctx, in)
	if err != nil {
		return nil, err
	}
	return s.recoveryCodes(ctx, o.p, o.u)
}
