package main

import (
	"context"
	"fmt"
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
	cmd := &cobra.Command{Use: "pools", Short: "List and show pools (create them with `gatehouse apply`)"}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List pools",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pr, err := a.printer()
			if err != nil {
				return err
			}
			return a.withCore(cmd, func(ctx context.Context, c *core) error {
				pools, err := allPools(ctx, c.svc)
				if err != nil {
					return err
				}
				rows := [][]string{}
				views := []poolJSON{}
				for _, p := range pools {
					rows = append(rows, []string{p.ID, p.Name, string(p.UsernameMode), fmtList(p.Domains), fmtTime(p.CreatedAt)})
					views = append(views, poolView(p))
				}
				return pr.table([]string{"ID", "NAME", "USERNAME", "DOMAINS", "CREATED"}, rows, views)
			})
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "get <pool id or name>",
		Short: "Show a pool",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pr, err := a.printer()
			if err != nil {
				return err
			}
			return a.withCore(cmd, func(ctx context.Context, c *core) error {
				p, err := resolvePool(ctx, c.svc, args[0])
				if err != nil {
					return err
				}
				pp := p.PasswordPolicy
				return pr.fields([][2]string{
					{"ID", p.ID},
					{"Name", p.Name},
					{"Username", string(p.UsernameMode)},
					{"Domains", fmtList(p.Domains)},
					{"Base URL", orDash(p.BaseURL)},
					{"Issuer", c.svc.Issuer(p)},
					{"Unique email", fmtBool(p.UniqueEmail)},
					{"Prevent user existence errors", fmtBool(p.PreventUserExistenceErrors)},
					{"Admin create user only", fmtBool(p.AdminCreateUserOnly)},
					{"Password policy", fmt.Sprintf("min %d, max %d, common blocked: %s", pp.MinimumLength, pp.MaximumLength, fmtBool(pp.BlockCommonPasswords))},
					{"Custom attributes", fmtList(attrNames(p.Schema))},
					{"Signing alg", orDash(p.SigningAlg)},
					{"Created", fmtTime(p.CreatedAt)},
				}, poolView(p))
			})
		},
	})
	return cmd
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
	cmd := &cobra.Command{Use: "users", Short: "Administer users of a pool"}
	var pool string

	// create
	{
		var email, tmp string
		var attrs []string
		var suppress bool
		c := &cobra.Command{
			Use:   "create <username>",
			Short: "Create a user with a temporary password (status FORCE_CHANGE_PASSWORD)",
			Long: `Create a user with a temporary password. The user must choose a new password at
first sign-in. Without --temporary-password one is generated and printed once.
Unless --suppress is given, the invitation email is queued.`,
			Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				pr, err := a.printer()
				if err != nil {
					return err
				}
				return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
					m, err := parseAttrs(attrs)
					if err != nil {
						return err
					}
					if email != "" {
						m["email"] = email
					} else if p.UsernameMode == identity.UsernameEmail {
						if _, ok := m["email"]; !ok {
							m["email"] = args[0]
						}
					}
					generated := false
					if tmp == "" {
						tmp, err = password.Generate(p.PasswordPolicy)
						if err != nil {
							return err
						}
						generated = true
					}
					in := auth.AdminCreateUserInput{PoolID: p.ID, Username: args[0], Attributes: m, TemporaryPassword: tmp}
					if suppress {
						in.MessageAction = "SUPPRESS"
					}
					v, err := c.svc.AdminCreateUser(ctx, in)
					if err != nil {
						return err
					}
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
				})
			},
		}
		addPoolFlag(c, &pool)
		c.Flags().StringVar(&email, "email", "", "email address (default: the username in email-username pools)")
		c.Flags().StringArrayVar(&attrs, "attr", nil, "attribute name=value (repeatable), e.g. --attr name=Jo --attr custom:company_name=Acme")
		c.Flags().StringVar(&tmp, "temporary-password", "", "temporary password (default: generated)")
		c.Flags().BoolVar(&suppress, "suppress", false, "do not send the invitation email")
		cmd.AddCommand(c)
	}

	// update
	{
		var attrs, remove []string
		c := &cobra.Command{
			Use:   "update <username>",
			Short: "Change a user's attributes (--attr k=v, --remove k); the company attribute moves the company group too",
			Long: `Change a user's attributes as an admin (AdminUpdateUserAttributes). A changed email
is unverified and gets a code unless --attr email_verified=true is given too.
Setting the pool's company attribute (e.g. --attr custom:company_name=Globex)
moves the user: they leave the old company's group and join the new one's,
in the same transaction, audited. --remove takes attributes away (the company
attribute: out of every company).`,
			Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
					m, err := parseAttrs(attrs)
					if err != nil {
						return err
					}
					if len(m) == 0 && len(remove) == 0 {
						return fmt.Errorf("nothing to change: give --attr name=value or --remove name")
					}
					if len(m) > 0 {
						if err := c.svc.AdminUpdateUserAttributes(ctx, p.ID, args[0], m); err != nil {
							return err
						}
					}
					if len(remove) > 0 {
						if err := c.svc.AdminDeleteUserAttributes(ctx, p.ID, args[0], remove); err != nil {
							return err
						}
					}
					fmt.Fprintf(a.stdout, "updated %s\n", args[0])
					return nil
				})
			},
		}
		addPoolFlag(c, &pool)
		c.Flags().StringArrayVar(&attrs, "attr", nil, "attribute name=value (repeatable), e.g. --attr custom:company_name=Globex")
		c.Flags().StringArrayVar(&remove, "remove", nil, "attribute to remove (repeatable)")
		cmd.AddCommand(c)
	}

	// list
	{
		var filter string
		var limit int
		c := &cobra.Command{
			Use:   "list",
			Short: `List users, optionally filtered (--filter 'email ^= "jo"')`,
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				pr, err := a.printer()
				if err != nil {
					return err
				}
				return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
					var users []*identity.User
					tok := ""
					for {
						n := 60
						if limit > 0 && limit-len(users) < n {
							n = limit - len(users)
						}
						page, next, err := c.svc.ListUsers(ctx, auth.ListUsersInput{PoolID: p.ID, Filter: filter, Limit: n, Token: tok})
						if err != nil {
							return err
						}
						users = append(users, page...)
						if next == "" || next == tok || (limit > 0 && len(users) >= limit) {
							break
						}
						tok = next
					}
					rows := [][]string{}
					views := []userJSON{}
					for _, u := range users {
						rows = append(rows, []string{u.Username, u.Email, string(u.Status), enabledWord(u.Enabled), u.Sub, fmtTime(u.CreatedAt)})
						views = append(views, userView(u, nil))
					}
					return pr.table([]string{"USERNAME", "EMAIL", "STATUS", "ENABLED", "SUB", "CREATED"}, rows, views)
				})
			},
		}
		addPoolFlag(c, &pool)
		c.Flags().StringVar(&filter, "filter", "", `Cognito ListUsers filter, e.g. 'email ^= "jo"' or 'cognito:user_status = "CONFIRMED"'`)
		c.Flags().IntVar(&limit, "limit", 0, "list at most this many users (0 = all)")
		cmd.AddCommand(c)
	}

	// get
	{
		c := &cobra.Command{
			Use:   "get <username>",
			Short: "Show a user, with attributes and groups",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				pr, err := a.printer()
				if err != nil {
					return err
				}
				return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
					v, err := c.svc.AdminGetUser(ctx, p.ID, args[0])
					if err != nil {
						return err
					}
					u := v.User
					return pr.fields([][2]string{
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
					}, userView(u, v.Groups))
				})
			},
		}
		addPoolFlag(c, &pool)
		cmd.AddCommand(c)
	}

	// simple per-user actions
	simple := []struct {
		use, short, done string
		fn               func(svc *auth.Service, ctx context.Context, poolID, username string) error
	}{
		{"disable", "Disable a user (signs them out everywhere)", "disabled", (*auth.Service).AdminDisableUser},
		{"enable", "Enable a user", "enabled", (*auth.Service).AdminEnableUser},
		{"delete", "Delete a user", "deleted", (*auth.Service).AdminDeleteUser},
		{"confirm", "Confirm an unconfirmed user's sign-up", "confirmed", (*auth.Service).AdminConfirmSignUp},
		{"reset-password", "Require a password reset (revokes sessions and emails a reset code)", "password reset required for", (*auth.Service).AdminResetUserPassword},
		{"sign-out", "Sign a user out everywhere (revoke refresh tokens)", "signed out", (*auth.Service).AdminUserGlobalSignOut},
	}
	for _, s := range simple {
		s := s
		c := &cobra.Command{
			Use:   s.use + " <username>",
			Short: s.short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
					if err := s.fn(c.svc, ctx, p.ID, args[0]); err != nil {
						return err
					}
					fmt.Fprintf(a.stdout, "%s %s\n", s.done, args[0])
					return nil
				})
			},
		}
		addPoolFlag(c, &pool)
		cmd.AddCommand(c)
	}

	// set-password
	{
		var pw string
		var permanent bool
		c := &cobra.Command{
			Use:   "set-password <username>",
			Short: "Set a user's password (temporary unless --permanent); generated and printed once without --password",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
					generated := false
					if pw == "" {
						var err error
						if pw, err = password.Generate(p.PasswordPolicy); err != nil {
							return err
						}
						generated = true
					}
					if err := c.svc.AdminSetUserPassword(ctx, p.ID, args[0], pw, permanent); err != nil {
						return err
					}
					kind := "temporary"
					if permanent {
						kind = "permanent"
					}
					fmt.Fprintf(a.stdout, "set %s password for %s\n", kind, args[0])
					if generated {
						fmt.Fprintf(a.stdout, "password (shown once): %s\n", pw)
					}
					return nil
				})
			},
		}
		addPoolFlag(c, &pool)
		c.Flags().StringVar(&pw, "password", "", "the new password (default: generated); prefer the generated one, flags end up in shell history")
		c.Flags().BoolVar(&permanent, "permanent", false, "the password is permanent (status CONFIRMED) rather than temporary (FORCE_CHANGE_PASSWORD)")
		cmd.AddCommand(c)
	}

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
	cmd := &cobra.Command{Use: "groups", Short: "Administer groups and memberships"}
	var pool string

	list := &cobra.Command{
		Use: "list", Short: "List groups", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pr, err := a.printer()
			if err != nil {
				return err
			}
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				groups, err := allGroups(ctx, c.svc, p.ID)
				if err != nil {
					return err
				}
				rows := [][]string{}
				views := []groupJSON{}
				for _, g := range groups {
					rows = append(rows, []string{g.Name, fmtPrecedence(g.Precedence), orDash(g.Description)})
					views = append(views, groupView(g))
				}
				return pr.table([]string{"NAME", "PRECEDENCE", "DESCRIPTION"}, rows, views)
			})
		},
	}
	addPoolFlag(list, &pool)

	var desc string
	var prec int
	create := &cobra.Command{
		Use: "create <name>", Short: "Create a group", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				g := &identity.Group{PoolID: p.ID, Name: args[0], Description: desc}
				if cmd.Flags().Changed("precedence") {
					g.Precedence = &prec
				}
				if _, err := c.svc.CreateGroup(ctx, g); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "created group %s\n", args[0])
				return nil
			})
		},
	}
	addPoolFlag(create, &pool)
	create.Flags().StringVar(&desc, "description", "", "description")
	create.Flags().IntVar(&prec, "precedence", 0, "precedence (lower wins when a user is in several groups)")

	del := &cobra.Command{
		Use: "delete <name>", Short: "Delete a group", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				if err := c.svc.DeleteGroup(ctx, p.ID, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "deleted group %s\n", args[0])
				return nil
			})
		},
	}
	addPoolFlag(del, &pool)

	add := &cobra.Command{
		Use: "add-user <group> <username>", Short: "Add a user to a group", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				if err := c.svc.AdminAddUserToGroup(ctx, p.ID, args[1], args[0]); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "added %s to %s\n", args[1], args[0])
				return nil
			})
		},
	}
	addPoolFlag(add, &pool)

	remove := &cobra.Command{
		Use: "remove-user <group> <username>", Short: "Remove a user from a group", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				if err := c.svc.AdminRemoveUserFromGroup(ctx, p.ID, args[1], args[0]); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "removed %s from %s\n", args[1], args[0])
				return nil
			})
		},
	}
	addPoolFlag(remove, &pool)

	members := &cobra.Command{
		Use: "members <group>", Short: "List the users in a group", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pr, err := a.printer()
			if err != nil {
				return err
			}
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				var users []*identity.User
				tok := ""
				for {
					page, next, err := c.svc.ListUsersInGroup(ctx, p.ID, args[0], 60, tok)
					if err != nil {
						return err
					}
					users = append(users, page...)
					if next == "" || next == tok {
						break
					}
					tok = next
				}
				rows := [][]string{}
				views := []userJSON{}
				for _, u := range users {
					rows = append(rows, []string{u.Username, u.Email, string(u.Status), enabledWord(u.Enabled), u.Sub})
					views = append(views, userView(u, nil))
				}
				return pr.table([]string{"USERNAME", "EMAIL", "STATUS", "ENABLED", "SUB"}, rows, views)
			})
		},
	}
	addPoolFlag(members, &pool)

	cmd.AddCommand(list, create, del, add, remove, members)
	return cmd
}

func allGroups(ctx context.Context, svc *auth.Service, poolID string) ([]*identity.Group, error) {
	var out []*identity.Group
	tok := ""
	for {
		gs, next, err := svc.ListGroups(ctx, poolID, 60, tok)
		if err != nil {
			return nil, err
		}
		out = append(out, gs...)
		if next == "" || next == tok {
			return out, nil
		}
		tok = next
	}
}

// ---- clients ----

func allClients(ctx context.Context, svc *auth.Service, poolID string) ([]*identity.AppClient, error) {
	var out []*identity.AppClient
	tok := ""
	for {
		cs, next, err := svc.ListClients(ctx, poolID, 60, tok)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
		if next == "" || next == tok {
			return out, nil
		}
		tok = next
	}
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
	cmd := &cobra.Command{Use: "clients", Short: "Administer app clients"}
	var pool string

	list := &cobra.Command{
		Use: "list", Short: "List app clients", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pr, err := a.printer()
			if err != nil {
				return err
			}
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				cs, err := allClients(ctx, c.svc, p.ID)
				if err != nil {
					return err
				}
				rows := [][]string{}
				views := []clientJSON{}
				for _, cl := range cs {
					rows = append(rows, []string{cl.ID, cl.Name, fmtBool(cl.HasSecret()), fmtList(cl.AuthFlows)})
					views = append(views, clientView(cl, ""))
				}
				return pr.table([]string{"ID", "NAME", "SECRET", "AUTH FLOWS"}, rows, views)
			})
		},
	}
	addPoolFlag(list, &pool)

	var secret bool
	var flows, callbacks, logouts, oauthFlows, scopes []string
	create := &cobra.Command{
		Use: "create <name>", Short: "Create an app client (a generated secret is printed once)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pr, err := a.printer()
			if err != nil {
				return err
			}
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				cc, err := c.svc.CreateClient(ctx, auth.CreateClientInput{
					PoolID: p.ID, Name: args[0], GenerateSecret: secret, AuthFlows: normalizeFlows(flows),
					CallbackURLs: callbacks, LogoutURLs: logouts, OAuthFlows: oauthFlows, OAuthScopes: scopes,
				})
				if err != nil {
					return err
				}
				return printClientSecret(pr, cc)
			})
		},
	}
	addPoolFlag(create, &pool)
	create.Flags().BoolVar(&secret, "secret", false, "generate a client secret (confidential client)")
	create.Flags().StringSliceVar(&flows, "auth-flows", []string{identity.FlowUserPassword, identity.FlowUserSRP, identity.FlowRefreshToken}, "allowed auth flows (ALLOW_* names; the ALLOW_ prefix may be omitted)")
	create.Flags().StringSliceVar(&callbacks, "callback-url", nil, "OAuth callback URLs (exact match)")
	create.Flags().StringSliceVar(&logouts, "logout-url", nil, "logout URLs (exact match)")
	create.Flags().StringSliceVar(&oauthFlows, "oauth-flows", nil, "OAuth flows: code, client_credentials")
	create.Flags().StringSliceVar(&scopes, "oauth-scopes", nil, "OAuth scopes, e.g. openid,email,profile")

	get := &cobra.Command{
		Use: "get <client id or name>", Short: "Show an app client", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pr, err := a.printer()
			if err != nil {
				return err
			}
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				cl, err := resolveClient(ctx, c.svc, p.ID, args[0])
				if err != nil {
					return err
				}
				return pr.fields([][2]string{
					{"ID", cl.ID}, {"Pool", cl.PoolID}, {"Name", cl.Name}, {"Secret", fmtBool(cl.HasSecret())},
					{"Auth flows", fmtList(cl.AuthFlows)}, {"Callback URLs", fmtList(cl.CallbackURLs)},
					{"Logout URLs", fmtList(cl.LogoutURLs)}, {"OAuth flows", fmtList(cl.OAuthFlows)},
					{"OAuth scopes", fmtList(cl.OAuthScopes)}, {"Created", fmtTime(cl.CreatedAt)},
				}, clientView(cl, ""))
			})
		},
	}
	addPoolFlag(get, &pool)

	del := &cobra.Command{
		Use: "delete <client id or name>", Short: "Delete an app client", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				cl, err := resolveClient(ctx, c.svc, p.ID, args[0])
				if err != nil {
					return err
				}
				if err := c.svc.DeleteClient(ctx, p.ID, cl.ID); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "deleted client %s (%s)\n", cl.Name, cl.ID)
				return nil
			})
		},
	}
	addPoolFlag(del, &pool)

	rotate := &cobra.Command{
		Use: "rotate-secret <client id or name>", Short: "Replace a client's secret; the new one is printed once", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pr, err := a.printer()
			if err != nil {
				return err
			}
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				cl, err := resolveClient(ctx, c.svc, p.ID, args[0])
				if err != nil {
					return err
				}
				cc, err := c.svc.RegenerateClientSecret(ctx, p.ID, cl.ID)
				if err != nil {
					return err
				}
				return printClientSecret(pr, cc)
			})
		},
	}
	addPoolFlag(rotate, &pool)

	cmd.AddCommand(list, create, get, del, rotate)
	return cmd
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
	cmd := &cobra.Command{Use: "keys", Short: "Administer admin API keys (global, or scoped to one pool)"}
	var pool, name string

	create := &cobra.Command{
		Use: "create", Short: "Create an admin API key; the secret token is printed once", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pr, err := a.printer()
			if err != nil {
				return err
			}
			return a.withCore(cmd, func(ctx context.Context, c *core) error {
				poolID := ""
				if pool != "" {
					p, err := resolvePool(ctx, c.svc, pool)
					if err != nil {
						return err
					}
					poolID = p.ID
				}
				k, tok, err := c.svc.CreateAPIKey(ctx, poolID, name)
				if err != nil {
					return err
				}
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
			})
		},
	}
	create.Flags().StringVarP(&pool, "pool", "p", "", "scope the key to this pool (id or name); default: global")
	create.Flags().StringVar(&name, "name", "", "a name to recognise the key by (required)")
	_ = create.MarkFlagRequired("name")

	list := &cobra.Command{
		Use: "list", Short: "List admin API keys", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pr, err := a.printer()
			if err != nil {
				return err
			}
			return a.withCore(cmd, func(ctx context.Context, c *core) error {
				poolID := ""
				if pool != "" {
					p, err := resolvePool(ctx, c.svc, pool)
					if err != nil {
						return err
					}
					poolID = p.ID
				}
				keys, err := c.svc.ListAPIKeys(ctx, poolID)
				if err != nil {
					return err
				}
				rows := [][]string{}
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
				return pr.table([]string{"ID", "NAME", "POOL", "STATE", "CREATED", "LAST USED"}, rows, views)
			})
		},
	}
	list.Flags().StringVarP(&pool, "pool", "p", "", "only keys of this pool (id or name); default: all keys")

	revoke := &cobra.Command{
		Use: "revoke <key id>", Short: "Revoke an admin API key", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withCore(cmd, func(ctx context.Context, c *core) error {
				if err := c.svc.RevokeAPIKey(ctx, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "revoked API key %s\n", args[0])
				return nil
			})
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

// ---- signing keys ----

func (a *app) signingKeysCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "signing-keys", Short: "Rotate and list a pool's JWT signing keys"}
	var pool string
	rotate := &cobra.Command{
		Use: "rotate", Short: "Rotate the pool's signing key (the next key becomes active; the old one keeps verifying)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				k, err := c.svc.RotateSigningKey(ctx, p.ID)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "pool %s now signs with key %s (%s)\n", p.ID, k.KID, k.Alg)
				return nil
			})
		},
	}
	addPoolFlag(rotate, &pool)
	list := &cobra.Command{
		Use: "list", Short: "List the pool's signing keys and their states", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pr, err := a.printer()
			if err != nil {
				return err
			}
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				// Read-only metadata (no private material leaves the
				// store): the service has no listing method of its own.
				keys, err := c.store.ListSigningKeys(ctx, p.ID)
				if err != nil {
					return err
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
				rows := [][]string{}
				views := []keyJSON{}
				for _, k := range keys {
					v := keyJSON{k.KID, k.Alg, k.State, fmtTime(k.CreatedAt), fmtTime(k.ActivatedAt), fmtTime(k.RetiredAt), fmtTime(k.RemoveAfter)}
					views = append(views, v)
					rows = append(rows, []string{v.KID, v.Alg, v.State, v.CreatedAt, v.ActivatedAt, v.RetiredAt, v.RemoveAfter})
				}
				return pr.table([]string{"KID", "ALG", "STATE", "CREATED", "ACTIVATED", "RETIRED", "REMOVE AFTER"}, rows, views)
			})
		},
	}
	addPoolFlag(list, &pool)
	cmd.AddCommand(rotate, list)
	return cmd
}
