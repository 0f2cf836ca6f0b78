package api

import (
	"net/http"

	"github.com/gatehouse-id/gatehouse/internal/auth"
)

// End-user flows: sign-up, confirmation, sign-in, challenges, refresh,
// recovery and revocation. The app client is identified by client_id (and,
// for confidential clients, client_secret in the body or HTTP Basic).

type signUpRequest struct {
	clientCreds
	Username   string            `json:"username"`
	Password   string            `json:"password"`
	Attributes map[string]string `json:"attributes"`
}

type signUpResponse struct {
	UserSub       string            `json:"user_sub"`
	UserConfirmed bool              `json:"user_confirmed"`
	CodeDelivery  *codeDeliveryView `json:"code_delivery,omitempty"`
}

func (a *API) signUp(w http.ResponseWriter, r *http.Request) error {
	var req signUpRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	c, err := client(r, req.clientCreds)
	if err != nil {
		return err
	}
	out, err := a.svc.SignUp(r.Context(), auth.SignUpInput{Client: c, Username: req.Username, Password: req.Password,
		Attributes: req.Attributes, Meta: meta(r)})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, signUpResponse{UserSub: out.UserSub, UserConfirmed: out.UserConfirmed,
		CodeDelivery: codeDelivery(out.CodeDelivery)})
}

type confirmSignUpRequest struct {
	clientCreds
	Username string `json:"username"`
	Code     string `json:"code"`
}

func (a *API) confirmSignUp(w http.ResponseWriter, r *http.Request) error {
	var req confirmSignUpRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	c, err := client(r, req.clientCreds)
	if err != nil {
		return err
	}
	if err := a.svc.ConfirmSignUp(r.Context(), auth.ConfirmSignUpInput{Client: c, Username: req.Username, Code: req.Code, Meta: meta(r)}); err != nil {
		return err
	}
	return noContent(w)
}

type usernameRequest struct {
	clientCreds
	Username string `json:"username"`
}

type codeDeliveryResponse struct {
	CodeDelivery *codeDeliveryView `json:"code_delivery"`
}

func (a *API) resendCode(w http.ResponseWriter, r *http.Request) error {
	var req usernameRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	c, err := client(r, req.clientCreds)
	if err != nil {
		return err
	}
	cd, err := a.svc.ResendConfirmationCode(r.Context(), c, req.Username, meta(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, codeDeliveryResponse{codeDelivery(cd)})
}

type signInRequest struct {
	clientCreds
	Username string `json:"username"`
	Password string `json:"password"`
}

func (a *API) signIn(w http.ResponseWriter, r *http.Request) error {
	var req signInRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	c, err := client(r, req.clientCreds)
	if err != nil {
		return err
	}
	// The native API runs a passkey as the second factor (docs/mfa.md).
	res, err := a.svc.InitiateAuth(auth.PasskeyMFA(r.Context(), ""), auth.InitiateAuthInput{Client: c, Flow: auth.AuthUserPassword,
		Username: req.Username, Password: req.Password, Meta: meta(r)})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, authResult(res))
}

type challengeRequest struct {
	clientCreds
	ChallengeName string            `json:"challenge_name"`
	Session       string            `json:"session"`
	Responses     map[string]string `json:"responses"`
}

func (a *API) respondToChallenge(w http.ResponseWriter, r *http.Request) error {
	var req challengeRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	c, err := client(r, req.clientCreds)
	if err != nil {
		return err
	}
	res, err := a.svc.RespondToAuthChallenge(auth.PasskeyMFA(r.Context(), ""), auth.RespondInput{Client: c, ChallengeName: req.ChallengeName,
		Session: req.Session, Responses: req.Responses, Meta: meta(r)})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, authResult(res))
}

type refreshRequest struct {
	clientCreds
	RefreshToken string `json:"refresh_token"`
}

func (a *API) refresh(w http.ResponseWriter, r *http.Request) error {
	var req refreshRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	c, err := client(r, req.clientCreds)
	if err != nil {
		return err
	}
	res, err := a.svc.InitiateAuth(r.Context(), auth.InitiateAuthInput{Client: c, Flow: auth.AuthRefreshToken,
		RefreshToken: req.RefreshToken, Meta: meta(r)})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, authResult(res))
}

func (a *API) forgotPassword(w http.ResponseWriter, r *http.Request) error {
	var req usernameRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	c, err := client(r, req.clientCreds)
	if err != nil {
		return err
	}
	cd, err := a.svc.ForgotPassword(r.Context(), auth.ForgotPasswordInput{Client: c, Username: req.Username, Meta: meta(r)})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, codeDeliveryResponse{codeDelivery(cd)})
}

type confirmForgotPasswordRequest struct {
	clientCreds
	Username string `json:"username"`
	Code     string `json:"code"`
	Password string `json:"password"`
}

func (a *API) confirmForgotPassword(w http.ResponseWriter, r *http.Request) error {
	var req confirmForgotPasswordRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	c, err := client(r, req.clientCreds)
	if err != nil {
		return err
	}
	if err := a.svc.ConfirmForgotPassword(r.Context(), auth.ConfirmForgotPasswordInput{Client: c, Username: req.Username,
		Code: req.Code, NewPassword: req.Password, Meta: meta(r)}); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) revoke(w http.ResponseWriter, r *http.Request) error {
	var req refreshRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	c, err := client(r, req.clientCreds)
	if err != nil {
		return err
	}
	if err := a.svc.RevokeToken(r.Context(), c, req.RefreshToken); err != nil {
		return err
	}
	return noContent(w)
}
