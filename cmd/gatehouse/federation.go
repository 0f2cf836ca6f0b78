package main

import (
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
	var (
		ip                  identity.IdentityProvider
		secretEnv, mappings string
	)
	cmd := group("identity-providers", "Administer a pool's identity providers (Google, Facebook, OpenID Connect)",
		a.command(spec{use: "list", short: "List the pool's identity providers", pool: true, args: cobra.NoArgs,
			show: func(x call) (shown, error) {
				ips := auth.IdentityProviders(x.pool)
				rows := [][]string{}
				for _, ip := range ips {
					var m []string
					for k, v := range ip.AttributeMapping {
						m = append(m, k+"<-"+v)
					}
					sort.Strings(m)
					rows = append(rows, []string{ip.Name, ip.Type, orDash(ip.Issuer), ip.ClientID, orDash(strings.Join(m, " "))})
				}
				return table{[]string{"NAME", "TYPE", "ISSUER", "CLIENT ID", "MAPPING"}, rows, ips}, nil
			}}),
		a.command(spec{use: "set <name>", short: "Create or replace an identity provider", pool: true, args: cobra.ExactArgs(1),
			long: `Create or replace an identity provider of the pool. --type is OIDC, Google
or Facebook. The client secret is read from the environment variable named
by --client-secret-env (never from the command line); without it a replaced
provider keeps its secret. --mapping is a comma-separated list of
pool_attribute=upstream_claim (default email=email). The upstream must
allow the redirect URI <issuer>/oauth2/idpresponse, printed on success.`,
			flags: func(c *cobra.Command) {
				f := c.Flags()
				f.StringVar(&ip.Type, "type", "OIDC", "OIDC, Google or Facebook")
				f.StringVar(&ip.Issuer, "issuer", "", "OIDC issuer URL (Google: https://accounts.google.com by default)")
				f.StringVar(&ip.ClientID, "client-id", "", "client id at the provider")
				f.StringVar(&secretEnv, "client-secret-env", "", "environment variable holding the client secret")
				f.StringSliceVar(&ip.Scopes, "scope", nil, "scope to request (repeatable; default openid email profile, Facebook email public_profile)")
				f.StringVar(&mappings, "mapping", "", "attribute mapping, e.g. email=email,name=name,custom:company_name=org")
				f.StringVar(&ip.AuthURL, "auth-url", "", "Facebook: OAuth dialog URL")
				f.StringVar(&ip.TokenURL, "token-url", "", "Facebook: token URL")
				f.StringVar(&ip.GraphURL, "graph-url", "", "Facebook: Graph API base URL")
			},
			do: func(x call) (string, error) {
				in := ip
				in.Name = x.args[0]
				if mappings != "" {
					in.AttributeMapping = map[string]string{}
					for _, kv := range strings.Split(mappings, ",") {
						k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
						if !ok {
							return "", identity.FieldError("mapping", "Write the mapping as attribute=claim, comma-separated.")
						}
						in.AttributeMapping[k] = v
					}
				}
				secret := ""
				if secretEnv != "" {
					if secret = os.Getenv(secretEnv); secret == "" {
						return "", fmt.Errorf("%s is not set", secretEnv)
					}
				}
				np, err := x.svc.SetIdentityProvider(x.ctx, x.pool.ID, in, secret)
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("set identity provider %s (%s); redirect URI: %s", in.Name, in.Type, x.svc.FederationCallbackURL(np)), nil
			}}),
		a.command(spec{use: "delete <name>", short: "Remove an identity provider (its users stay)", pool: true, args: cobra.ExactArgs(1),
			do: func(x call) (string, error) {
				return "deleted identity provider " + x.args[0], x.svc.DeleteIdentityProvider(x.ctx, x.pool.ID, x.args[0])
			}}))
	cmd.Aliases = []string{"idp"}
	cmd.AddCommand(a.idpLinkCommands()...)
	return cmd
}

// idpLinkCommands link an upstream identity to a native user, unlink it,
// and list a user's links (docs/federation.md, "Linking by an
// administrator"; Cognito's AdminLinkProviderForUser and
// AdminDisableProviderForUser).
func (a *app) idpLinkCommands() []*cobra.Command {
	var user string
	return []*cobra.Command{
		a.command(spec{use: "link <provider> <subject> <username>", pool: true, args: cobra.ExactArgs(3),
			short: "Link an upstream identity to a native user (its federated sign-ins then sign in as that user)",
			long: `Link the identity <subject> at the pool's identity provider <provider> (the
subject exactly as the provider asserts it: the OIDC "sub", the Facebook
id) to the native user <username>. A federated sign-in with that identity
then signs in as <username>. An identity linked to another user is refused
(unlink it, or delete that federated user, first); a user holds at most
five links.`,
			do: func(x call) (string, error) {
				l, err := x.svc.AdminLinkProviderForUser(x.ctx, auth.LinkProviderInput{PoolID: x.pool.ID, Provider: x.args[0], Subject: x.args[1], Username: x.args[2]})
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("linked %s identity %s to %s (since %s)", l.ProviderName, l.Subject, x.args[2], fmtTime(l.CreatedAt)), nil
			}}),
		a.command(spec{use: "unlink <provider> <subject>", pool: true, args: cobra.ExactArgs(2),
			short: "Remove an upstream identity's link from a native user (ends that user's sessions)",
			long: `Remove the link of the identity <subject> at <provider> from the native user
it belongs to (with --user, only if it is that user's), and end that user's
sessions. The next federated sign-in with the identity is a first sign-in.
A federated user's own identity is not unlinked: disable or delete the user.`,
			flags: func(c *cobra.Command) {
				c.Flags().StringVar(&user, "user", "", "unlink only if the identity belongs to this user")
			},
			do: func(x call) (string, error) {
				res, err := x.svc.AdminDisableProviderForUser(x.ctx, auth.UnlinkProviderInput{PoolID: x.pool.ID, Provider: x.args[0], Subject: x.args[1], Username: user})
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("unlinked %s identity %s from %s; its sessions ended", x.args[0], x.args[1], res.User.Username), nil
			}}),
		a.command(spec{use: "links <username>", short: "List the upstream identities linked to a user", pool: true, args: cobra.ExactArgs(1),
			show: func(x call) (shown, error) {
				ls, err := x.svc.AdminListLinkedIdentities(x.ctx, x.pool.ID, x.args[0])
				if err != nil {
					return nil, err
				}
				rows := [][]string{}
				for _, l := range ls {
					rows = append(rows, []string{l.ProviderName, l.ProviderType, l.Subject, orDash(l.Issuer), fmtTime(l.CreatedAt)})
				}
				if ls == nil {
					ls = []*identity.LinkedIdentity{}
				}
				return table{[]string{"PROVIDER", "TYPE", "SUBJECT", "ISSUER", "LINKED"}, rows, ls}, nil
			}}),
	}
}
