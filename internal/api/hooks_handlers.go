package api

import (
	"net/http"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// A pool's webhooks (docs/hooks.md). Reads never show a secret: it is
// masked, and only the write that generated it returns it, once.

type hookView struct {
	Trigger   string `json:"trigger"`
	URL       string `json:"url"`
	Secret    string `json:"secret"` // "********", or the new secret once
	TimeoutMS int    `json:"timeout_ms"`
	Disabled  bool   `json:"disabled"`
	Version   string `json:"version,omitempty"`
}

func hook(t identity.HookTrigger, h *identity.Hook) hookView {
	return hookView{Trigger: string(t), URL: h.URL, Secret: h.Secret, TimeoutMS: h.TimeoutMS, Disabled: h.Disabled, Version: h.Version}
}

func (a *API) listHooks(w http.ResponseWriter, r *http.Request) error {
	hs, err := a.svc.GetHooks(r.Context(), r.PathValue("pool"))
	if err != nil {
		return err
	}
	out := []hookView{}
	for _, t := range identity.HookTriggers {
		if h := hs.Get(t); h != nil {
			out = append(out, hook(t, h))
		}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"hooks": out})
}

type putHookRequest struct {
	URL          string `json:"url"`
	Secret       string `json:"secret"`
	RotateSecret bool   `json:"rotate_secret"`
	TimeoutMS    int    `json:"timeout_ms"`
	Disabled     bool   `json:"disabled"`
	Version      string `json:"version"`
}

func (a *API) putHook(w http.ResponseWriter, r *http.Request) error {
	var req putHookRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	t := identity.HookTrigger(r.PathValue("trigger"))
	h, secret, err := a.svc.PutHook(r.Context(), r.PathValue("pool"), t, auth.HookInput{URL: req.URL, Secret: req.Secret,
		RotateSecret: req.RotateSecret, TimeoutMS: req.TimeoutMS, Disabled: req.Disabled, Version: req.Version})
	if err != nil {
		return err
	}
	v := hook(t, h)
	if secret != "" {
		v.Secret = secret // generated: shown this once
	}
	return writeJSON(w, http.StatusOK, v)
}

func (a *API) deleteHook(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.DeleteHook(r.Context(), r.PathValue("pool"), identity.HookTrigger(r.PathValue("trigger"))); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type hookTestView struct {
	Trigger       string  `json:"trigger"`
	TriggerSource string  `json:"trigger_source"`
	OK            bool    `json:"ok"`
	Status        int     `json:"status"`
	LatencyMS     float64 `json:"latency_ms"`
	ErrorCode     string  `json:"error_code,omitempty"`
	Error         string  `json:"error,omitempty"`
}

func (a *API) testHook(w http.ResponseWriter, r *http.Request) error {
	res, err := a.svc.TestHook(r.Context(), r.PathValue("pool"), identity.HookTrigger(r.PathValue("trigger")))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, hookTestView{Trigger: string(res.Trigger), TriggerSource: res.Source, OK: res.OK,
		Status: res.Status, LatencyMS: float64(res.Latency.Microseconds()) / 1000, ErrorCode: string(res.ErrorCode), Error: res.Error})
}
