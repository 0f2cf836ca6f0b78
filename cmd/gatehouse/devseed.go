package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/password"
)

// Dev seed names.
const (
	devPoolName   = "demo"
	devClientName = "demo-app"
	devAdminEmail = "admin@example.com"
	devKeyName    = "dev-admin"
	devKeyFile    = "dev-admin-key"
)

// devSpec is the demo data, written as an apply file so that seeding is
// exactly as idempotent as `gatehouse apply`.
func devSpec() *ApplyFile {
	t := true
	flows := []string{identity.FlowUserPassword, identity.FlowUserSRP, identity.FlowRefreshToken}
	desc := func(s string) *string { return &s }
	prec := func(n int) *int { return &n }
	return &ApplyFile{Pools: []PoolSpec{{
		Name:                       devPoolName,
		UsernameMode:               string(identity.UsernameEmail),
		PreventUserExistenceErrors: &t,
		Clients:                    []ClientSpec{{Name: devClientName, AuthFlows: &flows}},
		Groups: []GroupSpec{
			{Name: "Users", Description: desc("Every signed-up user"), Precedence: prec(30)},
			{Name: "Managers", Description: desc("Can create and update tasks"), Precedence: prec(20)},
			{Name: "Admins", Description: desc("Can do everything"), Precedence: prec(10)},
		},
	}}}
}

// devSeed is what seeding found or created. Secrets are set only when they
// were created by this start (they are shown once).
type devSeed struct {
	Pool          *identity.Pool
	Client        *identity.AppClient
	AdminCreated  bool
	AdminPassword string
	KeyToken      string // set when the key was created now
	KeyPath       string
	Changes       int
}

// seedDev makes sure the demo pool, client, groups, admin user and global
// admin API key exist. It is idempotent: a restart creates nothing new.
func seedDev(ctx context.Context, c *core, dataDir string) (*devSeed, error) {
	ctx = identity.WithActor(ctx, identity.Actor{ID: "system"})
	svc := c.svc
	plan, err := BuildPlan(ctx, svc, devSpec())
	if err != nil {
		return nil, err
	}
	create, update := plan.Pending()
	if err := ApplyPlan(ctx, svc, plan, io.Discard); err != nil {
		return nil, err
	}
	s := &devSeed{Changes: create + update, KeyPath: filepath.Join(dataDir, devKeyFile)}
	s.Pool, err = resolvePool(ctx, svc, devPoolName)
	if err != nil {
		return nil, err
	}
	s.Client, err = resolveClient(ctx, svc, s.Pool.ID, devClientName)
	if err != nil {
		return nil, err
	}

	// Admin user.
	if _, err := svc.AdminGetUser(ctx, s.Pool.ID, devAdminEmail); err != nil {
		if identity.ErrorCode(err) != identity.CodeUserNotFound {
			return nil, err
		}
		pw, err := password.Generate(s.Pool.PasswordPolicy)
		if err != nil {
			return nil, err
		}
		if _, err := svc.AdminCreateUser(ctx, auth.AdminCreateUserInput{
			PoolID: s.Pool.ID, Username: devAdminEmail, TemporaryPassword: pw, MessageAction: "SUPPRESS",
			Attributes: map[string]string{"email": devAdminEmail, "email_verified": "true", "name": "Demo Admin"},
		}); err != nil {
			return nil, fmt.Errorf("admin user: %w", err)
		}
		if err := svc.AdminSetUserPassword(ctx, s.Pool.ID, devAdminEmail, pw, true); err != nil {
			return nil, fmt.Errorf("admin password: %w", err)
		}
		s.AdminCreated, s.AdminPassword = true, pw
	}
	if err := svc.AdminAddUserToGroup(ctx, s.Pool.ID, devAdminEmail, "Admins"); err != nil {
		return nil, fmt.Errorf("admin group: %w", err)
	}

	// Global admin API key: created once, its token kept in the data dir
	// (0600) so a restart can say where it is.
	if _, err := os.Stat(s.KeyPath); errors.Is(err, os.ErrNotExist) {
		k, tok, err := svc.CreateAPIKey(ctx, "", devKeyName)
		if err != nil {
			return nil, fmt.Errorf("admin API key: %w", err)
		}
		if err := writeSecretFile(s.KeyPath, tok+"\n"); err != nil {
			_ = svc.RevokeAPIKey(ctx, k.ID)
			return nil, err
		}
		s.KeyToken = tok
	} else if err != nil {
		return nil, err
	}
	return s, nil
}

// writeSecretFile creates path with mode 0600; it fails if path exists.
func writeSecretFile(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// printBanner tells a newcomer where everything is: with every pool's
// hosted sign-up page and admin console.
func (m *Main) printBanner(ctx context.Context) {
	s := m.seed
	if s == nil {
		return
	}
	base := m.Config.PublicBaseURL()
	w := m.Out
	var b strings.Builder
	line := func(f string, args ...any) { fmt.Fprintf(&b, f+"\n", args...) }
	line("")
	line("Gatehouse is running in DEVELOPMENT mode (embedded SQLite in %s; emails are not sent).", m.Config.DataDir)
	line("")
	line("  API base            %s/api/v1/", base)
	line("  API reference       %s/api/v1/docs   (OpenAPI document: %s/api/v1/openapi.json)", base, base)
	line("  Dev mailbox         %s/dev/mailbox", base)
	line("  JWKS                %s/%s/.well-known/jwks.json", base, s.Pool.ID)
	line("  OpenID config       %s/%s/.well-known/openid-configuration", base, s.Pool.ID)
	line("  Metrics             %s/metrics", base)
	line("  Health / ready      %s/healthz  %s/readyz", base, base)
	line("")
	line("  Demo pool           %s (id %s)", s.Pool.Name, s.Pool.ID)
	line("  Sign-up page        %s/%s/signup", base, s.Pool.ID)
	line("  Admin console       %s/%s/console   (sign in as %s)", base, s.Pool.ID, devAdminEmail)
	line("  App client          %s (id %s, public; USER_PASSWORD, USER_SRP and REFRESH flows)", s.Client.Name, s.Client.ID)
	line("  Groups              Users, Managers, Admins")
	if s.AdminCreated {
		line("  Admin user          %s  password: %s   (shown once)", devAdminEmail, s.AdminPassword)
	} else {
		line("  Admin user          %s  (password shown on first start; reset with: gatehouse users set-password --dev --pool demo --permanent %s)", devAdminEmail, devAdminEmail)
	}
	if s.KeyToken != "" {
		line("  Admin API key       %s   (shown once; also saved to %s)", s.KeyToken, s.KeyPath)
	} else {
		line("  Admin API key       saved in %s", s.KeyPath)
	}
	if pools, err := allPools(ctx, m.core.svc); err == nil && len(pools) > 1 {
		line("")
		line("  Other pools         sign-up page, admin console (for the members of its admin group or company admins)")
		for _, p := range pools {
			if p.ID != s.Pool.ID {
				line("    %-17s %s/%s/signup   %s/%s/console", p.Name, base, p.ID, base, p.ID)
			}
		}
	}
	line("")
	line("Try it:")
	line("")
	line("  # sign up (the confirmation code appears in the dev mailbox)")
	line(`  curl -s %s/api/v1/auth/sign-up -H 'Content-Type: application/json' \`, base)
	line(`    -d '{"client_id":"%s","username":"jo@example.com","password":"violet harbor lantern 92"}'`, s.Client.ID)
	line("")
	line("  # confirm with the code from %s/dev/mailbox", base)
	line(`  curl -s %s/api/v1/auth/confirm-sign-up -H 'Content-Type: application/json' \`, base)
	line(`    -d '{"client_id":"%s","username":"jo@example.com","code":"123456"}'`, s.Client.ID)
	line("")
	line("  # sign in")
	line(`  curl -s %s/api/v1/auth/sign-in -H 'Content-Type: application/json' \`, base)
	line(`    -d '{"client_id":"%s","username":"jo@example.com","password":"violet harbor lantern 92"}'`, s.Client.ID)
	line("")
	line("  # list users with the admin API key")
	line(`  curl -s %s/api/v1/pools/%s/users -H "Authorization: Bearer $(cat %s)"`, base, s.Pool.ID, s.KeyPath)
	line("")
	fmt.Fprint(w, b.String())
}
