package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// idpCommand administers a pool's upstream identity providers
// (docs/federation.md). Client secrets are sealed with the master key and
// never shown.
func (a *app) idpCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "identity-providers", Aliases: []string{"idp"},
		Short: "Administer a pool's identity providers (Google, Facebook, OpenID Connect)"}
	var pool string

	list := &cobra.Command{
		Use: "list", Short: "List the pool's identity providers", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pr, err := a.printer()
			if err != nil {
				return err
			}
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				ips := auth.IdentityProviders(p)
				rows := [][]string{}
				for _, ip := range ips {
					var m []string
					for k, v := range ip.AttributeMapping {
						m = append(m, k+"<-"+v)
					}
					sort.Strings(m)
					rows = append(rows, []string{ip.Name, ip.Type, orDash(ip.Issuer), ip.ClientID, orDash(strings.Join(m, " "))})
				}
				return pr.table([]string{"NAME", "TYPE", "ISSUER", "CLIENT ID", "MAPPING"}, rows, ips)
			})
		},
	}
	addPoolFlag(list, &pool)

	var (
		ip                  identity.IdentityProvider
		secretEnv, mappings string
	)
	set := &cobra.Command{
		Use:   "set <name>",
		Short: "Create or replace an identity provider",
		Long: `Create or replace an identity provider of the pool. --type is OIDC, Google
or Facebook. The client secret is read from the environment variable named
by --client-secret-env (never from the command line); without it a replaced
provider keeps its secret. --mapping is a comma-separated list of
pool_attribute=upstream_claim (default email=email). The upstream must
allow the redirect URI <issuer>/oauth2/idpresponse, printed on success.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				in := ip
				in.Name = args[0]
				if mappings != "" {
					in.AttributeMapping = map[string]string{}
					for _, kv := range strings.Split(mappings, ",") {
						k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
						if !ok {
							return identity.FieldError("mapping", "Write the mapping as attribute=claim, comma-separated.")
						}
						in.AttributeMapping[k] = v
					}
				}
				secret := ""
				if secretEnv != "" {
					if secret = os.Getenv(secretEnv); secret == "" {
						return fmt.Errorf("%s is not set", secretEnv)
					}
				}
				np, err := c.svc.SetIdentityProvider(ctx, p.ID, in, secret)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "set identity provider %s (%s); redirect URI: %s\n", in.Name, in.Type, c.svc.FederationCallbackURL(np))
				return nil
			})
		},
	}
	addPoolFlag(set, &pool)
	f := set.Flags()
	f.StringVar(&ip.Type, "type", "OIDC", "OIDC, Google or Facebook")
	f.StringVar(&ip.Issuer, "issuer", "", "OIDC issuer URL (Google: https://accounts.google.com by default)")
	f.StringVar(&ip.ClientID, "client-id", "", "client id at the provider")
	f.StringVar(&secretEnv, "client-secret-env", "", "environment variable holding the client secret")
	f.StringSliceVar(&ip.Scopes, "scope", nil, "scope to request (repeatable; default openid email profile, Facebook email public_profile)")
	f.StringVar(&mappings, "mapping", "", "attribute mapping, e.g. email=email,name=name,custom:company_name=org")
	f.StringVar(&ip.AuthURL, "auth-url", "", "Facebook: OAuth dialog URL")
	f.StringVar(&ip.TokenURL, "token-url", "", "Facebook: token URL")
	f.StringVar(&ip.GraphURL, "graph-url", "", "Facebook: Graph API base URL")

	del := &cobra.Command{
		Use: "delete <name>", Short: "Remove an identity provider (its users stay)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				if err := c.svc.DeleteIdentityProvider(ctx, p.ID, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "deleted identity provider %s\n", args[0])
				return nil
			})
		},
	}
	addPoolFlag(del, &pool)
	cmd.AddCommand(list, set, del)
	cmd.AddCommand(a.idpLinkCommands(&pool)...)
	return cmd
}

// idpLinkCommands link an upstream identity to a native user, unlink it,
// and list a user's links (docs/federation.md, "Linking by an
// administrator"; Cognito's AdminLinkProviderForUser and
// AdminDisableProviderForUser).
func (a *app) idpLinkCommands(pool *string) []*cobra.Command {
	link := &cobra.Command{
		Use:   "link <provider> <subject> <username>",
		Short: "Link an upstream identity to a native user (its federated sign-ins then sign in as that user)",
		Long: `Link the identity <subject> at the pool's identity provider <provider> (the
subject exactly as the provider asserts it: the OIDC "sub", the Facebook
id) to the native user <username>. A federated sign-in with that identity
then signs in as <username>. An identity linked to another user is refused
(unlink it, or delete that federated user, first); a user holds at most
five links.`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withPool(cmd, pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				l, err := c.svc.AdminLinkProviderForUser(ctx, auth.LinkProviderInput{PoolID: p.ID, Provider: args[0], Subject: args[1], Username: args[2]})
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "linked %s identity %s to %s (since %s)\n", l.ProviderName, l.Subject, args[2], fmtTime(l.CreatedAt))
				return nil
			})
		},
	}
	addPoolFlag(link, pool)

	var user string
	unlink := &cobra.Command{
		Use:   "unlink <provider> <subject>",
		Short: "Remove an upstream identity's link from a native user (ends that user's sessions)",
		Long: `Remove the link of the identity <subject> at <provider> from the native user
it belongs to (with --user, only if it is that user's), and end that user's
sessions. The next federated sign-in with the identity is a first sign-in.
A federated user's own identity is not unlinked: disable or delete the user.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withPool(cmd, pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				res, err := c.svc.AdminDisableProviderForUser(ctx, auth.UnlinkProviderInput{PoolID: p.ID, Provider: args[0], Subject: args[1], Username: user})
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "unlinked %s identity %s from %s; its sessions ended\n", args[0], args[1], res.User.Username)
				return nil
			})
		},
	}
	addPoolFlag(unlink, pool)
	unlink.Flags().StringVar(&user, "user", "", "unlink only if the identity belongs to this user")

	links := &cobra.Command{
		Use: "links <username>", Short: "List the upstream identities linked to a user", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pr, err := a.printer()
			if err != nil {
				return err
			}
			return a.withPool(cmd, pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				ls, err := c.svc.AdminListLinkedIdentities(ctx, p.ID, args[0])
				if err != nil {
					return err
				}
				rows := [][]string{}
				for _, l := range ls {
					rows = append(rows, []string{l.ProviderName, l.ProviderType, l.Subject, orDash(l.Issuer), fmtTime(l.CreatedAt)})
				}
				if ls == nil {
					ls = []*identity.LinkedIdentity{}
				}
				return pr.table([]string{"PROVIDER", "TYPE", "SUBJECT", "ISSUER", "LINKED"}, rows, ls)
			})
		},
	}
	addPoolFlag(links, pool)
	return []*cobra.Command{link, unlink, links}
}
