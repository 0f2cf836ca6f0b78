package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// hooksCommand administers a pool's webhooks (docs/hooks.md). Secrets are
// never shown, except the one set generates, once.
func (a *app) hooksCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "hooks", Short: "Administer a pool's webhooks (the Cognito Lambda triggers)"}
	var pool string

	type hookJSON struct {
		Trigger   string `json:"trigger"`
		URL       string `json:"url"`
		Secret    string `json:"secret"`
		TimeoutMS int    `json:"timeout_ms"`
		Disabled  bool   `json:"disabled"`
		Version   string `json:"version,omitempty"`
	}
	list := &cobra.Command{
		Use: "list", Short: "List the pool's hooks (secrets masked)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pr, err := a.printer()
			if err != nil {
				return err
			}
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				hs, err := c.svc.GetHooks(ctx, p.ID)
				if err != nil {
					return err
				}
				rows := [][]string{}
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
				return pr.table([]string{"TRIGGER", "URL", "TIMEOUT", "ENABLED", "VERSION"}, rows, views)
			})
		},
	}
	addPoolFlag(list, &pool)

	var in auth.HookInput
	set := &cobra.Command{
		Use:   "set <trigger> <url>",
		Short: "Create or replace a hook",
		Long: `Create or replace the hook of a trigger (pre_sign_up, custom_message,
post_confirmation, pre_token_generation). Without --secret a new hook gets a
generated secret, printed once; an existing hook keeps its secret unless
--rotate-secret is given.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				hin := in
				hin.URL = args[1]
				_, secret, err := c.svc.PutHook(ctx, p.ID, identity.HookTrigger(args[0]), hin)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "set hook %s -> %s\n", args[0], args[1])
				if secret != "" {
					fmt.Fprintf(a.stdout, "secret (shown once; the receiver verifies webhook-signature with it): %s\n", secret)
				}
				return nil
			})
		},
	}
	addPoolFlag(set, &pool)
	set.Flags().StringVar(&in.Secret, "secret", "", "the HMAC secret (16 to 256 bytes); default: keep, or generate for a new hook")
	set.Flags().BoolVar(&in.RotateSecret, "rotate-secret", false, "generate a new secret")
	set.Flags().IntVar(&in.TimeoutMS, "timeout-ms", 0, "timeout in milliseconds, at most 5000 (0: 5000)")
	set.Flags().BoolVar(&in.Disabled, "disabled", false, "keep the hook but do not call it")
	set.Flags().StringVar(&in.Version, "version", "", `pre_token_generation event version: "1" (default) or "2"`)

	del := &cobra.Command{
		Use: "delete <trigger>", Short: "Remove a hook", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				if err := c.svc.DeleteHook(ctx, p.ID, identity.HookTrigger(args[0])); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "deleted hook %s\n", args[0])
				return nil
			})
		},
	}
	addPoolFlag(del, &pool)

	test := &cobra.Command{
		Use: "test <trigger>", Short: "Send a sample event to a hook and show the outcome", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pr, err := a.printer()
			if err != nil {
				return err
			}
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				res, err := c.svc.TestHook(ctx, p.ID, identity.HookTrigger(args[0]))
				if err != nil {
					return err
				}
				status := "-"
				if res.Status != 0 {
					status = strconv.Itoa(res.Status)
				}
				return pr.fields([][2]string{
					{"Trigger source", res.Source},
					{"OK", fmtBool(res.OK)},
					{"HTTP status", status},
					{"Latency", res.Latency.String()},
					{"Error", orDash(string(res.ErrorCode) + " " + res.Error)},
				}, map[string]any{"trigger": res.Trigger, "trigger_source": res.Source, "ok": res.OK, "status": res.Status,
					"latency_ms": float64(res.Latency.Microseconds()) / 1000, "error_code": res.ErrorCode, "error": res.Error})
			})
		},
	}
	addPoolFlag(test, &pool)

	cmd.AddCommand(list, set, del, test)
	return cmd
}
