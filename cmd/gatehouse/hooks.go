package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// hooksCommand administers a pool's webhooks (docs/hooks.md). Secrets are
// never shown, except the one set generates, once.
func (a *app) hooksCommand() *cobra.Command {
	type hookJSON struct {
		Trigger   string `json:"trigger"`
		URL       string `json:"url"`
		Secret    string `json:"secret"`
		TimeoutMS int    `json:"timeout_ms"`
		Disabled  bool   `json:"disabled"`
		Version   string `json:"version,omitempty"`
	}
	var in auth.HookInput
	return group("hooks", "Administer a pool's webhooks (the Cognito Lambda triggers)",
		a.command(spec{use: "list", short: "List the pool's hooks (secrets masked)", pool: true, args: cobra.NoArgs,
			show: func(x call) (shown, error) {
				hs, err := x.svc.GetHooks(x.ctx, x.pool.ID)
				if err != nil {
					return nil, err
				}
				var rows [][]string
				views := []hookJSON{}
				for _, t := range identity.HookTriggers {
					h := hs.Get(t)
					if h == nil {
						continue
					}
					timeout := "5000"
					if h.TimeoutMS > 0 {
						timeout = strconv.Itoa(h.TimeoutMS)
					}
					rows = append(rows, []string{string(t), h.URL, timeout + "ms", fmtBool(!h.Disabled), orDash(h.Version)})
					views = append(views, hookJSON{string(t), h.URL, h.Secret, h.TimeoutMS, h.Disabled, h.Version})
				}
				return table{[]string{"TRIGGER", "URL", "TIMEOUT", "ENABLED", "VERSION"}, rows, views}, nil
			}}),
		a.command(spec{use: "set <trigger> <url>", short: "Create or replace a hook", pool: true, args: cobra.ExactArgs(2),
			long: `Create or replace the hook of a trigger (user_migration, pre_sign_up,
custom_message, post_confirmation, pre_token_generation). Without --secret a new hook gets a
generated secret, printed once; an existing hook keeps its secret unless
--rotate-secret is given.`,
			flags: func(c *cobra.Command) {
				c.Flags().StringVar(&in.Secret, "secret", "", "the HMAC secret (16 to 256 bytes); default: keep, or generate for a new hook")
				c.Flags().BoolVar(&in.RotateSecret, "rotate-secret", false, "generate a new secret")
				c.Flags().IntVar(&in.TimeoutMS, "timeout-ms", 0, "timeout in milliseconds, at most 5000 (0: 5000)")
				c.Flags().BoolVar(&in.Disabled, "disabled", false, "keep the hook but do not call it")
				c.Flags().StringVar(&in.Version, "version", "", `pre_token_generation event version: "1" (default) or "2"`)
			},
			do: func(x call) (string, error) {
				hin := in
				hin.URL = x.args[1]
				_, secret, err := x.svc.PutHook(x.ctx, x.pool.ID, identity.HookTrigger(x.args[0]), hin)
				if err != nil {
					return "", err
				}
				msg := fmt.Sprintf("set hook %s -> %s", x.args[0], x.args[1])
				if secret != "" {
					msg += "\nsecret (shown once; the receiver verifies webhook-signature with it): " + secret
				}
				return msg, nil
			}}),
		a.command(spec{use: "delete <trigger>", short: "Remove a hook", pool: true, args: cobra.ExactArgs(1),
			do: func(x call) (string, error) {
				return "deleted hook " + x.args[0], x.svc.DeleteHook(x.ctx, x.pool.ID, identity.HookTrigger(x.args[0]))
			}}),
		a.command(spec{use: "test <trigger>", short: "Send a sample event to a hook and show the outcome", pool: true, args: cobra.ExactArgs(1),
			show: func(x call) (shown, error) {
				res, err := x.svc.TestHook(x.ctx, x.pool.ID, identity.HookTrigger(x.args[0]))
				if err != nil {
					return nil, err
				}
				status := "-"
				if res.Status != 0 {
					status = strconv.Itoa(res.Status)
				}
				return fields{[][2]string{
					{"Trigger source", res.Source},
					{"OK", fmtBool(res.OK)},
					{"HTTP status", status},
					{"Latency", res.Latency.String()},
					{"Error", orDash(string(res.ErrorCode) + " " + res.Error)},
				}, map[string]any{"trigger": res.Trigger, "trigger_source": res.Source, "ok": res.OK, "status": res.Status,
					"latency_ms": float64(res.Latency.Microseconds()) / 1000, "error_code": res.ErrorCode, "error": res.Error}}, nil
			}}))
}
