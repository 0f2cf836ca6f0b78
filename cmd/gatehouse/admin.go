package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/password"
)

// withCore runs fn with the service opened from the resolved configuration,
// as actor "cli" (for the audit log), and closes the store afterwards.
func (a *app) withCore(cmd *cobra.Command, fn func(ctx context.Context, c *core) error) error {
	cfg, err := a.loadConfig(cmd)
	if err != nil {
		return err
	}
	ctx := identity.WithActor(cmd.Context(), identity.Actor{ID: "cli"})
	c, err := openCore(ctx, cfg, newLogger(a.stderr, cfg.Log), nil)
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(ctx, c)
}

// withPool is withCore plus the pool named by --pool (id or name).
func (a *app) withPool(cmd *cobra.Command, ref *string, fn func(ctx context.Context, c *core, p *identity.Pool) error) error {
	return a.withCore(cmd, func(ctx context.Context, c *core) error {
		p, err := resolvePool(ctx, c.svc, *ref)
		if err != nil {
			return err
		}
		return fn(ctx, c, p)
	})
}

func addPoolFlag(cmd *cobra.Command, ref *string) {
	cmd.Flags().StringVarP(ref, "pool", "p", "", "pool id or name (required)")
}

// ---- pools ----

func (a *app) poolsCommand() *cobra.Command {
	return group("pools", "List and show pools (create them with `gatehouse apply`)",
		a.command(spec{use: "list", short: "List pools", args: cobra.NoArgs,
			show: func(x call) (shown, error) {
				pools, err := allPools(x.ctx, x.svc)
				if err != nil {
					return nil, err
				}
				var rows [][]string
				views := []poolJSON{}
				for _, p := range pools {
					rows = append(rows, []string{p.ID, p.Name, string(p.UsernameMode), fmtList(p.Domains), fmtTime(p.CreatedAt)})
					views = append(views, poolView(p))
				}
				return table{[]string{"ID", "NAME", "USERNAME", "DOMAINS", "CREATED"}, rows, views}, nil
			}}),
		a.command(spec{use: "get <pool id or name>", short: "Show a pool", args: cobra.ExactArgs(1),
			show: func(x call) (shown, error) {
				p, err := resolvePool(x.ctx, x.svc, x.args[0])
				if err != nil {
					return nil, err
				}
				pp := p.PasswordPolicy
				return fields{[][2]string{
					{"ID", p.ID},
					{"Name", p.Name},
					{"Username", string(p.UsernameMode)},
					{"Domains", fmtList(p.Domains)},
					{"Base URL", orDash(p.BaseURL)},
					{"Issuer", x.svc.Issuer(p)},
					{"Unique email", fmtBool(p.UniqueEmail)},
					{"Prevent user existence errors", fmtBool(p.PreventUserExistenceErrors)},
					{"Admin create user only", fmtBool(p.AdminCreateUserOnly)},
					{"Password policy", fmt.Sprintf("min %d, max %d, common blocked: %s", pp.MinimumLength, pp.MaximumLength, fmtBool(pp.BlockCommonPasswords))},
					{"Custom attributes", fmtList(attrNames(p.Schema))},
					{"Signing alg", orDash(p.SigningAlg)},
					{"Created", fmtTime(p.CreatedAt)},
				}, poolView(p)}, nil
			}}))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func attrNames(defs []identity.AttributeDef) []string {
	var out []string
	for _, d := range defs {
		out = append(out, d.Name)
	}
	return out
}

// ---- users ----

func (a *app) usersCommand() *cobra.Command {
	var email, tmp string
	var attrs []string
	var suppress, emailVerified bool
	create := a.command(spec{use: "create <username>", pool: true, args: cobra.ExactArgs(1),
		short: "Create a user with a temporary password (status FORCE_CHANGE_PASSWORD)",
		long: `Create a user with a temporary password. The user must choose a new password at
first sign-in. Without --temporary-password one is generated and printed once.
Unless --suppress is given, the invitation email is queued.

The email is unverified (email_verified false in tokens and userInfo) unless
--email-verified is given: say so only when you know the address belongs to
the person (relying parties such as oauth2-proxy refuse unverified emails by
default). --attr email_verified=true does the same.`,
		flags: func(c *cobra.Command) {
			c.Flags().StringVar(&email, "email", "", "email address (default: the username in email-username pools)")
			c.Flags().StringArrayVar(&attrs, "attr", nil, "attribute name=value (repeatable), e.g. --attr name=Jo --attr custom:company_name=Acme")
			c.Flags().StringVar(&tmp, "temporary-password", "", "temporary password (default: generated)")
			c.Flags().BoolVar(&suppress, "suppress", false, "do not send the invitation email")
			c.Flags().BoolVar(&emailVerified, "email-verified", false, "mark the email as verified (default false: unverified)")
		},
		show: func(x call) (shown, error) {
			m, err := parseAttrs(attrs)
			if err != nil {
				return nil, err
			}
			if email != "" {
				m["email"] = email
			} else if x.pool.UsernameMode == identity.UsernameEmail {
				if _, ok := m["email"]; !ok {
					m["email"] = x.args[0]
				}
			}
			if emailVerified {
				if _, ok := m["email"]; !ok {
					return nil, fmt.Errorf("--email-verified needs an email (--email, or an email username)")
				}
				m["email_verified"] = "true"
			}
			generated := false
			if tmp == "" {
				if tmp, err = password.Generate(x.pool.PasswordPolicy); err != nil {
					return nil, err
				}
				generated = true
			}
			in := auth.AdminCreateUserInput{PoolID: x.pool.ID, Username: x.args[0], Attributes: m, TemporaryPassword: tmp}
			if suppress {
				in.MessageAction = "SUPPRESS"
			}
			v, err := x.svc.AdminCreateUser(x.ctx, in)
			if err != nil {
				return nil, err
			}
			return printFunc(func(pr *printer) error {
				if pr.json {
					out := struct {
						userJSON
						TemporaryPassword string `json:"temporary_password,omitempty"`
					}{userView(v.User, v.Groups), ""}
					if generated {
						out.TemporaryPassword = tmp
					}
					return pr.JSON(out)
				}
				fmt.Fprintf(pr.w, "created user %s (sub %s, status %s)\n", v.User.Username, v.User.Sub, v.User.Status)
				if generated {
					fmt.Fprintf(pr.w, "temporary password (shown once): %s\n", tmp)
				}
				return nil
			}), nil
		}})

	var updAttrs, updRemove []string
	update := a.command(spec{use: "update <username>", pool: true, args: cobra.ExactArgs(1),
		short: "Change a user's attributes (--attr k=v, --remove k); the company attribute moves the company group too",
		long: `Change a user's attributes as an admin (AdminUpdateUserAttributes). A changed email
is unverified and gets a code unless --attr email_verified=true is given too.
Setting the pool's company attribute (e.g. --attr custom:company_name=Globex)
moves the user: they leave the old company's group and join the new one's,
in the same transaction, audited. --remove takes attributes away (the company
attribute: out of every company).`,
		flags: func(c *cobra.Command) {
			c.Flags().StringArrayVar(&updAttrs, "attr", nil, "attribute name=value (repeatable), e.g. --attr custom:company_name=Globex")
			c.Flags().StringArrayVar(&updRemove, "remove", nil, "attribute to remove (repeatable)")
		},
		do: func(x call) (string, error) {
			m, err := parseAttrs(updAttrs)
			if err != nil {
				return "", err
			}
			if len(m) == 0 && len(updRemove) == 0 {
				return "", fmt.Errorf("nothing to change: give --attr name=value or --remove name")
			}
			if len(m) > 0 {
				if err := x.svc.AdminUpdateUserAttributes(x.ctx, x.pool.ID, x.args[0], m); err != nil {
					return "", err
				}
			}
			if len(updRemove) > 0 {
				if err := x.svc.AdminDeleteUserAttributes(x.ctx, x.pool.ID, x.args[0], updRemove); err != nil {
					return "", err
				}
			}
			return "updated " + x.args[0], nil
		}})

	var filter string
	var limit int
	list := a.command(spec{use: "list", short: `List users, optionally filtered (--filter 'email ^= "jo"')`, pool: true, args: cobra.NoArgs,
		flags: func(c *cobra.Command) {
			c.Flags().StringVar(&filter, "filter", "", `Cognito ListUsers filter, e.g. 'email ^= "jo"' or 'cognito:user_status = "CONFIRMED"'`)
			c.Flags().IntVar(&limit, "limit", 0, "list at most this many users (0 = all)")
		},
		show: func(x call) (shown, error) {
			var users []*identity.User
			tok := ""
			for {
				n := 60
				if limit > 0 && limit-len(users) < n {
					n = limit - len(users)
				}
				page, next, err := x.svc.ListUsers(x.ctx, auth.ListUsersInput{PoolID: x.pool.ID, Filter: filter, Limit: n, Token: tok})
				if err != nil {
					return nil, err
				}
				users = append(users, page...)
				if next == "" || next == tok || (limit > 0 && len(users) >= limit) {
					break
				}
				tok = next
			}
			var rows [][]string
			views := []userJSON{}
			for _, u := range users {
				rows = append(rows, []string{u.Username, u.Email, string(u.Status), enabledWord(u.Enabled), u.Sub, fmtTime(u.CreatedAt)})
				views = append(views, userView(u, nil))
			}
			return table{[]string{"USERNAME", "EMAIL", "STATUS", "ENABLED", "SUB", "CREATED"}, rows, views}, nil
		}})

	get := a.command(spec{use: "get <username>", short: "Show a user, with attributes and groups", pool: true, args: cobra.ExactArgs(1),
		show: func(x call) (shown, error) {
			v, err := x.svc.AdminGetUser(x.ctx, x.pool.ID, x.args[0])
			if err != nil {
				return nil, err
			}
			u := v.User
			return fields{[][2]string{
				{"Username", u.Username},
				{"Sub", u.Sub},
				{"Email", orDash(u.Email)},
				{"Email verified", fmtBool(u.EmailVerified)},
				{"Status", string(u.Status)},
				{"Enabled", enabledWord(u.Enabled)},
				{"Groups", fmtList(v.Groups)},
				{"Attributes", fmtList(sortedAttrs(u.Attributes))},
				{"Created", fmtTime(u.CreatedAt)},
				{"Updated", fmtTime(u.UpdatedAt)},
			}, userView(u, v.Groups)}, nil
		}})

	cmd := group("users", "Administer users of a pool", create, update, list, get)

	// simple per-user actions
	for _, s := range []struct {
		use, short, done string
		fn               func(svc *auth.Service, ctx context.Context, poolID, username string) error
	}{
		{"disable", "Disable a user (signs them out everywhere)", "disabled", (*auth.Service).AdminDisableUser},
		{"enable", "Enable a user", "enabled", (*auth.Service).AdminEnableUser},
		{"delete", "Delete a user", "deleted", (*auth.Service).AdminDeleteUser},
		{"confirm", "Confirm an unconfirmed user's sign-up", "confirmed", (*auth.Service).AdminConfirmSignUp},
		{"reset-password", "Require a password reset (revokes sessions and emails a reset code)", "password reset required for", (*auth.Service).AdminResetUserPassword},
		{"sign-out", "Sign a user out everywhere (revoke refresh tokens)", "signed out", (*auth.Service).AdminUserGlobalSignOut},
		{"reset-mfa", "Remove every second factor of a user (they enrol again where MFA is required; the user is emailed)", "second factors removed for", (*auth.Service).AdminResetUserMFA},
	} {
		cmd.AddCommand(a.command(spec{use: s.use + " <username>", short: s.short, pool: true, args: cobra.ExactArgs(1),
			do: func(x call) (string, error) {
				return s.done + " " + x.args[0], s.fn(x.svc, x.ctx, x.pool.ID, x.args[0])
			}}))
	}

	cmd.AddCommand(a.command(spec{use: "mfa <username>", short: "Show a user's second factors", pool: true, args: cobra.ExactArgs(1),
		show: func(x call) (shown, error) {
			v, err := x.svc.AdminGetUserMFA(x.ctx, x.pool.ID, x.args[0])
			if err != nil {
				return nil, err
			}
			var factors []string
			for _, f := range v.Factors {
				state := "unverified"
				switch {
				case f.Preferred:
					state = "preferred"
				case f.Enabled:
					state = "enabled"
				case f.Confirmed:
					state = "verified"
				}
				factors = append(factors, f.Type+" "+state)
			}
			return fields{[][2]string{
				{"Enabled", fmtList(v.Settings)},
				{"Preferred", v.Preferred},
				{"Factors", fmtList(factors)},
				{"Recovery codes left", strconv.Itoa(v.RecoveryCodesLeft)},
			}, map[string]any{"enabled": v.Settings, "preferred": v.Preferred, "factors": factors, "recovery_codes_left": v.RecoveryCodesLeft}}, nil
		}}))

	var pw string
	var permanent bool
	cmd.AddCommand(a.command(spec{use: "set-password <username>", pool: true, args: cobra.ExactArgs(1),
		short: "Set a user's password (temporary unless --permanent); generated and printed once without --password",
		flags: func(c *cobra.Command) {
			c.Flags().StringVar(&pw, "password", "", "the new password (default: generated); prefer the generated one, flags end up in shell history")
			c.Flags().BoolVar(&permanent, "permanent", false, "the password is permanent (status CONFIRMED) rather than temporary (FORCE_CHANGE_PASSWORD)")
		},
		do: func(x call) (string, error) {
			generated := false
			if pw == "" {
				var err error
				if pw, err = password.Generate(x.pool.PasswordPolicy); err != nil {
					return "", err
				}
				generated = true
			}
			if err := x.svc.AdminSetUserPassword(x.ctx, x.pool.ID, x.args[0], pw, permanent); err != nil {
				return "", err
			}
			kind := "temporary"
			if permanent {
				kind = "permanent"
			}
			msg := fmt.Sprintf("set %s password for %s", kind, x.args[0])
			if generated {
				msg += "\npassword (shown once): " + pw
			}
			return msg, nil
		}}))

	cmd.AddCommand(a.usersExportCommand(), a.usersImportCommand())
	return cmd
}

func parseAttrs(list []string) (map[string]string, error) {
	m := map[string]string{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--attr %q: want name=value", kv)
		}
		m[k] = v
	}
	return m, nil
}

// ---- groups ----

func (a *app) groupsCommand() *cobra.Command {
	var desc string
	var prec int
	membersOf := func(x call) (shown, error) {
		users, err := all(func(tok string) ([]*identity.User, string, error) {
			return x.svc.ListUsersInGroup(x.ctx, x.pool.ID, x.args[0], 60, tok)
		})
		if err != nil {
			return nil, err
		}
		var rows [][]string
		views := []userJSON{}
		for _, u := range users {
			rows = append(rows, []string{u.Username, u.Email, string(u.Status), enabledWord(u.Enabled), u.Sub})
			views = append(views, userView(u, nil))
		}
		return table{[]string{"USERNAME", "EMAIL", "STATUS", "ENABLED", "SUB"}, rows, views}, nil
	}
	return group("groups", "Administer groups and memberships",
		a.command(spec{use: "list", short: "List groups", pool: true, args: cobra.NoArgs,
			show: func(x call) (shown, error) {
				groups, err := allGroups(x.ctx, x.svc, x.pool.ID)
				if err != nil {
					return nil, err
				}
				var rows [][]string
				views := []groupJSON{}
				for _, g := range groups {
					rows = append(rows, []string{g.Name, fmtPrecedence(g.Precedence), orDash(g.Description)})
					views = append(views, groupView(g))
				}
				return table{[]string{"NAME", "PRECEDENCE", "DESCRIPTION"}, rows, views}, nil
			}}),
		a.command(spec{use: "create <name>", short: "Create a group", pool: true, args: cobra.ExactArgs(1),
			flags: func(c *cobra.Command) {
				c.Flags().StringVar(&desc, "description", "", "description")
				c.Flags().IntVar(&prec, "precedence", 0, "precedence (lower wins when a user is in several groups)")
			},
			do: func(x call) (string, error) {
				g := &identity.Group{PoolID: x.pool.ID, Name: x.args[0], Description: desc}
				if x.cmd.Flags().Changed("precedence") {
					g.Precedence = &prec
				}
				_, err := x.svc.CreateGroup(x.ctx, g)
				return "created group " + x.args[0], err
			}}),
		a.command(spec{use: "delete <name>", short: "Delete a group", pool: true, args: cobra.ExactArgs(1),
			do: func(x call) (string, error) {
				return "deleted group " + x.args[0], x.svc.DeleteGroup(x.ctx, x.pool.ID, x.args[0])
			}}),
		a.command(spec{use: "add-user <group> <username>", short: "Add a user to a group", pool: true, args: cobra.ExactArgs(2),
			do: func(x call) (string, error) {
				return "added " + x.args[1] + " to " + x.args[0], x.svc.AdminAddUserToGroup(x.ctx, x.pool.ID, x.args[1], x.args[0])
			}}),
		a.command(spec{use: "remove-user <group> <username>", short: "Remove a user from a group", pool: true, args: cobra.ExactArgs(2),
			do: func(x call) (string, error) {
				return "removed " + x.args[1] + " from " + x.args[0], x.svc.AdminRemoveUserFromGroup(x.ctx, x.pool.ID, x.args[1], x.args[0])
			}}),
		a.command(spec{use: "members <group>", short: "List the users in a group", pool: true, args: cobra.ExactArgs(1), show: membersOf}))
}

func allGroups(ctx context.Context, svc *auth.Service, poolID string) ([]*identity.Group, error) {
	return all(func(tok string) ([]*identity.Group, string, error) { return svc.ListGroups(ctx, poolID, 60, tok) })
}

// ---- clients ----

func allClients(ctx context.Context, svc *auth.Service, poolID string) ([]*identity.AppClient, error) {
	return all(func(tok string) ([]*identity.AppClient, string, error) { return svc.ListClients(ctx, poolID, 60, tok) })
}

// resolveClient accepts a client id or a client name within the pool.
func resolveClient(ctx context.Context, svc *auth.Service, poolID, ref string) (*identity.AppClient, error) {
	if c, err := svc.GetClient(ctx, poolID, ref); err == nil {
		return c, nil
	}
	cs, err := allClients(ctx, svc, poolID)
	if err != nil {
		return nil, err
	}
	var found []*identity.AppClient
	for _, c := range cs {
		if c.Name == ref {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("no app client with id or name %q in pool %s", ref, poolID)
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("several app clients are named %q; use the id", ref)
}

func (a *app) clientsCommand() *cobra.Command {
	var secret bool
	var flows, callbacks, logouts, oauthFlows, scopes []string
	return group("clients", "Administer app clients",
		a.command(spec{use: "list", short: "List app clients", pool: true, args: cobra.NoArgs,
			show: func(x call) (shown, error) {
				cs, err := allClients(x.ctx, x.svc, x.pool.ID)
				if err != nil {
					return nil, err
				}
				var rows [][]string
				views := []clientJSON{}
				for _, cl := range cs {
					rows = append(rows, []string{cl.ID, cl.Name, fmtBool(cl.HasSecret()), fmtList(cl.AuthFlows)})
					views = append(views, clientView(cl, ""))
				}
				return table{[]string{"ID", "NAME", "SECRET", "AUTH FLOWS"}, rows, views}, nil
			}}),
		a.command(spec{use: "create <name>", short: "Create an app client (a generated secret is printed once)", pool: true, args: cobra.ExactArgs(1),
			flags: func(c *cobra.Command) {
				c.Flags().BoolVar(&secret, "secret", false, "generate a client secret (confidential client)")
				c.Flags().StringSliceVar(&flows, "auth-flows", []string{identity.FlowUserPassword, identity.FlowUserSRP, identity.FlowRefreshToken}, "allowed auth flows (ALLOW_* names; the ALLOW_ prefix may be omitted)")
				c.Flags().StringSliceVar(&callbacks, "callback-url", nil, "OAuth callback URLs (exact match)")
				c.Flags().StringSliceVar(&logouts, "logout-url", nil, "logout URLs (exact match)")
				c.Flags().StringSliceVar(&oauthFlows, "oauth-flows", nil, "OAuth flows: code, client_credentials")
				c.Flags().StringSliceVar(&scopes, "oauth-scopes", nil, "OAuth scopes, e.g. openid,email,profile")
			},
			show: func(x call) (shown, error) {
				return clientSecret(x.svc.CreateClient(x.ctx, auth.CreateClientInput{
					PoolID: x.pool.ID, Name: x.args[0], GenerateSecret: secret, AuthFlows: normalizeFlows(flows),
					CallbackURLs: callbacks, LogoutURLs: logouts, OAuthFlows: oauthFlows, OAuthScopes: scopes,
				}))
			}}),
		a.command(spec{use: "get <client id or name>", short: "Show an app client", pool: true, args: cobra.ExactArgs(1),
			show: func(x call) (shown, error) {
				cl, err := resolveClient(x.ctx, x.svc, x.pool.ID, x.args[0])
				if err != nil {
					return nil, err
				}
				return fields{[][2]string{
					{"ID", cl.ID}, {"Pool", cl.PoolID}, {"Name", cl.Name}, {"Secret", fmtBool(cl.HasSecret())},
					{"Auth flows", fmtList(cl.AuthFlows)}, {"Callback URLs", fmtList(cl.CallbackURLs)},
					{"Logout URLs", fmtList(cl.LogoutURLs)}, {"OAuth flows", fmtList(cl.OAuthFlows)},
					{"OAuth scopes", fmtList(cl.OAuthScopes)}, {"Refresh", fmtRotation(cl)}, {"Created", fmtTime(cl.CreatedAt)},
				}, clientView(cl, "")}, nil
			}}),
		a.command(spec{use: "delete <client id or name>", short: "Delete an app client", pool: true, args: cobra.ExactArgs(1),
			do: func(x call) (string, error) {
				cl, err := resolveClient(x.ctx, x.svc, x.pool.ID, x.args[0])
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("deleted client %s (%s)", cl.Name, cl.ID), x.svc.DeleteClient(x.ctx, x.pool.ID, cl.ID)
			}}),
		a.command(spec{use: "rotate-secret <client id or name>", short: "Replace a client's secret; the new one is printed once", pool: true, args: cobra.ExactArgs(1),
			show: func(x call) (shown, error) {
				cl, err := resolveClient(x.ctx, x.svc, x.pool.ID, x.args[0])
				if err != nil {
					return nil, err
				}
				return clientSecret(x.svc.RegenerateClientSecret(x.ctx, x.pool.ID, cl.ID))
			}}))
}

// clientSecret prints a created client and its secret, shown once.
func clientSecret(cc *auth.CreatedClient, err error) (shown, error) {
	if err != nil {
		return nil, err
	}
	return printFunc(func(pr *printer) error { return printClientSecret(pr, cc) }), nil
}

func printClientSecret(pr *printer, cc *auth.CreatedClient) error {
	if pr.json {
		return pr.JSON(clientView(cc.Client, cc.Secret))
	}
	fmt.Fprintf(pr.w, "client %s: id %s\n", cc.Client.Name, cc.Client.ID)
	if cc.Secret != "" {
		fmt.Fprintf(pr.w, "client secret (shown once): %s\n", cc.Secret)
	}
	return nil
}

// normalizeFlows accepts USER_PASSWORD_AUTH as well as ALLOW_USER_PASSWORD_AUTH.
func normalizeFlows(in []string) []string {
	out := make([]string, 0, len(in))
	for _, f := range in {
		f = strings.ToUpper(strings.TrimSpace(f))
		if f == "" {
			continue
		}
		if !strings.HasPrefix(f, "ALLOW_") {
			f = "ALLOW_" + f
		}
		out = append(out, f)
	}
	return out
}

// ---- admin API keys ----

func (a *app) keysCommand() *cobra.Command {
	var pool, name string
	// scope resolves --pool ("" for every pool, or a global key).
	scope := func(x call) (string, error) {
		if pool == "" {
			return "", nil
		}
		p, err := resolvePool(x.ctx, x.svc, pool)
		if err != nil {
			return "", err
		}
		return p.ID, nil
	}
	return group("keys", "Administer admin API keys (global, or scoped to one pool)",
		a.command(spec{use: "create", short: "Create an admin API key; the secret token is printed once", args: cobra.NoArgs,
			flags: func(c *cobra.Command) {
				c.Flags().StringVarP(&pool, "pool", "p", "", "scope the key to this pool (id or name); default: global")
				c.Flags().StringVar(&name, "name", "", "a name to recognise the key by (required)")
				_ = c.MarkFlagRequired("name")
			},
			show: func(x call) (shown, error) {
				poolID, err := scope(x)
				if err != nil {
					return nil, err
				}
				k, tok, err := x.svc.CreateAPIKey(x.ctx, poolID, name)
				if err != nil {
					return nil, err
				}
				return printFunc(func(pr *printer) error {
					if pr.json {
						return pr.JSON(apiKeyView(k, tok))
					}
					scope := "global"
					if k.PoolID != "" {
						scope = "pool " + k.PoolID
					}
					fmt.Fprintf(pr.w, "created API key %s (%s, %s)\n", k.ID, k.Name, scope)
					fmt.Fprintf(pr.w, "token (shown once): %s\n", tok)
					return nil
				}), nil
			}}),
		a.command(spec{use: "list", short: "List admin API keys", args: cobra.NoArgs,
			flags: func(c *cobra.Command) {
				c.Flags().StringVarP(&pool, "pool", "p", "", "only keys of this pool (id or name); default: all keys")
			},
			show: func(x call) (shown, error) {
				poolID, err := scope(x)
				if err != nil {
					return nil, err
				}
				keys, err := x.svc.ListAPIKeys(x.ctx, poolID)
				if err != nil {
					return nil, err
				}
				var rows [][]string
				views := []apiKeyJSON{}
				for _, k := range keys {
					scope := k.PoolID
					if scope == "" {
						scope = "(global)"
					}
					state := "active"
					if !k.RevokedAt.IsZero() {
						state = "revoked"
					}
					rows = append(rows, []string{k.ID, k.Name, scope, state, fmtTime(k.CreatedAt), fmtTime(k.LastUsedAt)})
					views = append(views, apiKeyView(k, ""))
				}
				return table{[]string{"ID", "NAME", "POOL", "STATE", "CREATED", "LAST USED"}, rows, views}, nil
			}}),
		a.command(spec{use: "revoke <key id>", short: "Revoke an admin API key", args: cobra.ExactArgs(1),
			do: func(x call) (string, error) {
				return "revoked API key " + x.args[0], x.svc.RevokeAPIKey(x.ctx, x.args[0])
			}}))
}

// ---- signing keys ----

func (a *app) signingKeysCommand() *cobra.Command {
	return group("signing-keys", "Rotate and list a pool's JWT signing keys",
		a.command(spec{use: "rotate", short: "Rotate the pool's signing key (the next key becomes active; the old one keeps verifying)", pool: true, args: cobra.NoArgs,
			do: func(x call) (string, error) {
				k, err := x.svc.RotateSigningKey(x.ctx, x.pool.ID)
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("pool %s now signs with key %s (%s)", x.pool.ID, k.KID, k.Alg), nil
			}}),
		a.command(spec{use: "list", short: "List the pool's signing keys and their states", pool: true, args: cobra.NoArgs,
			show: func(x call) (shown, error) {
				// Read-only metadata (no private material leaves the
				// store): the service has no listing method of its own.
				keys, err := x.c.store.ListSigningKeys(x.ctx, x.pool.ID)
				if err != nil {
					return nil, err
				}
				type keyJSON struct {
					KID         string `json:"kid"`
					Alg         string `json:"alg"`
					State       string `json:"state"`
					CreatedAt   string `json:"created_at"`
					ActivatedAt string `json:"activated_at"`
					RetiredAt   string `json:"retired_at"`
					RemoveAfter string `json:"remove_after"`
				}
				var rows [][]string
				views := []keyJSON{}
				for _, k := range keys {
					v := keyJSON{k.KID, k.Alg, k.State, fmtTime(k.CreatedAt), fmtTime(k.ActivatedAt), fmtTime(k.RetiredAt), fmtTime(k.RemoveAfter)}
					views = append(views, v)
					rows = append(rows, []string{v.KID, v.Alg, v.State, v.CreatedAt, v.ActivatedAt, v.RetiredAt, v.RemoveAfter})
				}
				return table{[]string{"KID", "ALG", "STATE", "CREATED", "ACTIVATED", "RETIRED", "REMOVE AFTER"}, rows, views}, nil
			}}))
}
