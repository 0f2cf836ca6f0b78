package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
)

// Passkeys: passwordless sign-in (app client in the body) and the caller's
// own passkeys (access token). The ceremony runs on the pool's base URL
// origin; the options and the credential are the WebAuthn JSON forms
// (PublicKeyCredential*OptionsJSON, RegistrationResponseJSON,
// AuthenticationResponseJSON) a browser's toJSON/parse*FromJSON use.

type passkeyView struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	RPID       string    `json:"rp_id"`
	Transports []string  `json:"transports"`
	Attachment string    `json:"attachment,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

func passkeyOut(pk *auth.Passkey) passkeyView {
	tr := pk.Transports
	if tr == nil {
		tr = []string{}
	}
	return passkeyView{ID: pk.ID, Name: pk.Name, RPID: pk.RPID, Transports: tr, Attachment: pk.Attachment,
		CreatedAt: pk.CreatedAt, LastUsedAt: pk.LastUsedAt}
}

type passkeyOptionsResponse struct {
	Options json.RawMessage `json:"options"`
}

// passkeySignInOptions is POST /api/v1/auth/passkey/options.
func (a *API) passkeySignInOptions(w http.ResponseWriter, r *http.Request) error {
	var req clientCreds
	if err := a.decode(r, &req); err != nil {
		return err
	}
	c, err := client(r, req)
	if err != nil {
		return err
	}
	opts, err := a.svc.StartPasskeySignIn(r.Context(), c, "")
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, passkeyOptionsResponse{opts})
}

type passkeySignInRequest struct {
	clientCreds
	Credential json.RawMessage `json:"credential"`
}

// passkeySignIn is POST /api/v1/auth/passkey.
func (a *API) passkeySignIn(w http.ResponseWriter, r *http.Request) error {
	var req passkeySignInRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	c, err := client(r, req.clientCreds)
	if err != nil {
		return err
	}
	res, err := a.svc.CompletePasskeySignIn(r.Context(), auth.PasskeySignInInput{Client: c, Credential: req.Credential, Meta: meta(r)})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, authResult(res))
}

func (a *API) listMyPasskeys(w http.ResponseWriter, r *http.Request, tok string) error {
	list, err := a.svc.ListMyPasskeys(r.Context(), tok)
	if err != nil {
		return err
	}
	out := struct {
		Passkeys []passkeyView `json:"passkeys"`
	}{Passkeys: make([]passkeyView, 0, len(list))}
	for _, pk := range list {
		out.Passkeys = append(out.Passkeys, passkeyOut(pk))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) myPasskeyOptions(w http.ResponseWriter, r *http.Request, tok string) error {
	opts, err := a.svc.StartMyPasskeyRegistration(r.Context(), tok)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, passkeyOptionsResponse{opts})
}

type addPasskeyRequest struct {
	Credential json.RawMessage `json:"credential"`
	Name       string          `json:"name"`
}

func (a *API) addMyPasskey(w http.ResponseWriter, r *http.Request, tok string) error {
	var req addPasskeyRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	pk, err := a.svc.CompleteMyPasskeyRegistration(r.Context(), tok, req.Credential, req.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, passkeyOut(pk))
}

// deleteMyPasskey needs a sign-in (the token's auth_time) at most
// auth.PasskeyFreshness old.
func (a *API) deleteMyPasskey(w http.ResponseWriter, r *http.Request, tok string) error {
	if err := a.svc.DeleteMyPasskey(r.Context(), tok, r.PathValue("id"), true); err != nil {
		return err
	}
	return noContent(w)
}
