package api

import (
	"net/http"
)

// The caller's own account, authenticated by an access token (see user()).

func (a *API) getMe(w http.ResponseWriter, r *http.Request, tok string) error {
	v, err := a.svc.GetUser(r.Context(), tok)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, me(v))
}

func (a *API) deleteMe(w http.ResponseWriter, r *http.Request, tok string) error {
	if err := a.svc.DeleteUser(r.Context(), tok); err != nil {
		return err
	}
	return noContent(w)
}

type attributesRequest struct {
	Attributes map[string]string `json:"attributes"`
}

type codeDeliveriesResponse struct {
	CodeDeliveries []codeDeliveryView `json:"code_deliveries"`
	// PendingEmail: the new email waits for its code; the verified one
	// stays in force until then.
	PendingEmail string `json:"pending_email,omitempty"`
}

func (a *API) updateMyAttributes(w http.ResponseWriter, r *http.Request, tok string) error {
	var req attributesRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	res, err := a.svc.UpdateUserAttributes(r.Context(), tok, req.Attributes)
	if err != nil {
		return err
	}
	out := codeDeliveriesResponse{CodeDeliveries: make([]codeDeliveryView, 0, len(res.CodeDeliveries)), PendingEmail: res.PendingEmail}
	for i := range res.CodeDeliveries {
		out.CodeDeliveries = append(out.CodeDeliveries, *codeDelivery(&res.CodeDeliveries[i]))
	}
	return writeJSON(w, http.StatusOK, out)
}

type namesRequest struct {
	Names []string `json:"names"`
}

func (a *API) deleteMyAttributes(w http.ResponseWriter, r *http.Request, tok string) error {
	var req namesRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	if err := a.svc.DeleteUserAttributes(r.Context(), tok, req.Names); err != nil {
		return err
	}
	return noContent(w)
}

type changePasswordRequest struct {
	PreviousPassword string `json:"previous_password"`
	ProposedPassword string `json:"proposed_password"`
}

func (a *API) changeMyPassword(w http.ResponseWriter, r *http.Request, tok string) error {
	var req changePasswordRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	if err := a.svc.ChangePassword(r.Context(), tok, req.PreviousPassword, req.ProposedPassword); err != nil {
		return err
	}
	return noContent(w)
}

type attributeRequest struct {
	Attribute string `json:"attribute"`
}

func (a *API) sendMyVerificationCode(w http.ResponseWriter, r *http.Request, tok string) error {
	var req attributeRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	cd, err := a.svc.GetUserAttributeVerificationCode(r.Context(), tok, req.Attribute, meta(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, codeDeliveryResponse{codeDelivery(cd)})
}

type verifyAttributeRequest struct {
	Attribute string `json:"attribute"`
	Code      string `json:"code"`
}

func (a *API) verifyMyAttribute(w http.ResponseWriter, r *http.Request, tok string) error {
	var req verifyAttributeRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	if err := a.svc.VerifyUserAttribute(r.Context(), tok, req.Attribute, req.Code); err != nil {
		return err
	}
	return noContent(w)
}

// signOutEverywhere is Cognito's GlobalSignOut: every refresh token of the
// user is revoked and access tokens issued before now stop working.
func (a *API) signOutEverywhere(w http.ResponseWriter, r *http.Request, tok string) error {
	if err := a.svc.GlobalSignOut(r.Context(), tok); err != nil {
		return err
	}
	return noContent(w)
}
