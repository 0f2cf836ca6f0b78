package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlstore"
)

// Measurements at scale (docs/benchmarks.md, "A million users"):
//
//	gatehouse dev populate --pool big --users 1000000
//	gatehouse dev measure --pool big

// populatePassword is the one password every populated user has.
const populatePassword = "Populate-pw-9!Xq"

func (a *app) devCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "dev", Short: "Development helpers: fill a pool with generated users and measure it"}
	var pool string
	var users, start int
	var force bool
	populate := &cobra.Command{
		Use:   "populate",
		Short: "Fill a pool (created if missing) with generated users, companies, groups and pending registrations",
		Long: `Insert generated users straight into the database in large transactions (no
hashing: all share one password, ` + populatePassword + `), for measurements at
scale. User i is user<i>@co<i/1000>.example.com with given_name, family_name
and custom:company_name, one company and company group per thousand users,
every third user in the group "members", every hundredth with a pending
registration. --start adds to an earlier run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withCore(cmd, func(ctx context.Context, c *core) error {
				// Every generated user shares a published password.
				if !c.cfg.Dev && !force {
					return errors.New("dev populate creates users with a published password: only with --dev (or GATEHOUSE_DEV=1), or --force on a database made for measuring")
				}
				db, ok := c.store.(*sqlstore.DB)
				if !ok {
					return errors.New("dev populate: unexpected store type")
				}
				p, err := resolvePool(ctx, c.svc, pool)
				if err != nil {
					if p, err = c.svc.CreatePool(ctx, auth.CreatePoolInput{Name: pool}); err != nil {
						return err
					}
				}
				hash, err := c.hasher.Hash(ctx, populatePassword)
				if err != nil {
					return err
				}
				t0 := time.Now()
				err = db.Populate(ctx, sqlstore.PopulateOptions{PoolID: p.ID, Users: users, Start: start, PasswordHash: hash, Now: t0,
					Progress: func(done int) {
						el := time.Since(t0)
						fmt.Fprintf(a.stderr, "\rpopulated %d/%d users (%.0f/s, %s)", done, users, float64(done)/el.Seconds(), el.Round(time.Second))
					}})
				fmt.Fprintln(a.stderr)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "populated pool %s (%s) with %d users in %s\n", p.Name, p.ID, users, time.Since(t0).Round(time.Millisecond))
				return nil
			})
		},
	}
	populate.Flags().StringVarP(&pool, "pool", "p", "", "pool id or name (a new pool of that name if none)")
	populate.Flags().IntVar(&users, "users", 1000000, "users to add")
	populate.Flags().IntVar(&start, "start", 0, "index of the first user (to add to an earlier run)")
	populate.Flags().BoolVar(&force, "force", false, "run without --dev (a database made for measuring only)")

	var iterations int
	measure := &cobra.Command{
		Use:   "measure",
		Short: "Time the hot reads of a pool (lookups, lists with each filter, groups, type-ahead) and its size per user",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				return a.measurePool(ctx, c, p, iterations)
			})
		},
	}
	measure.Flags().StringVarP(&pool, "pool", "p", "", "pool id or name")
	measure.Flags().IntVar(&iterations, "iterations", 200, "calls per operation")
	cmd.AddCommand(populate, measure)
	return cmd
}

// measurePool times each read iterations times against p (users of
// populate, where they exist) and prints p50, p99 and max.
func (a *app) measurePool(ctx context.Context, c *core, p *identity.Pool, iterations int) error {
	st := c.store
	stats, err := st.TableStats(ctx)
	if err != nil {
		return err
	}
	var users int64
	for _, s := range stats {
		if s.Table == "users" {
			users = s.Rows
		}
	}
	if users == 0 {
		return errors.New("dev measure: the database has no users; run dev populate first")
	}
	n := int(min(users, 1000000))
	sub := func(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i%n) }
	email := func(i int) string { return fmt.Sprintf("user%d@co%d.example.com", i%n, (i%n)/1000) }
	page := store.Page{Limit: 60}
	filter := func(attr string, op store.FilterOp, v func(i int) string) func(i int) error {
		return func(i int) error {
			_, _, err := st.ListUsers(ctx, p.ID, &store.UserFilter{Attr: attr, Op: op, Value: v(i)}, page)
			return err
		}
	}
	ops := []struct {
		name string
		run  func(i int) error
	}{
		{"GetUserSession (GetUser, token checks)", func(i int) error { _, err := st.GetUserSession(ctx, p.ID, sub(i*7919), "o"); return err }},
		{"GetUser (AdminGetUser)", func(i int) error { _, err := st.GetUser(ctx, p.ID, sub(i*7919)); return err }},
		{"GetUserByUsername (sign-in)", func(i int) error { _, err := st.GetUserByUsername(ctx, p.ID, email(i*7919)); return err }},
		{"ListUsers first page", func(int) error { _, _, err := st.ListUsers(ctx, p.ID, nil, page); return err }},
		{"ListUsers email =", filter("email", store.FilterEquals, email)},
		{"ListUsers email ^=", filter("email", store.FilterPrefix, func(i int) string { return fmt.Sprintf("user%d", i%n) })},
		{"ListUsers username =", filter("username", store.FilterEquals, email)},
		{"ListUsers given_name =", filter("given_name", store.FilterEquals, func(i int) string { return fmt.Sprintf("Given%d", i%5000) })},
		{"ListUsers given_name ^=", filter("given_name", store.FilterPrefix, func(i int) string { return fmt.Sprintf("Given%d", i%5000) })},
		{"ListUsers family_name =", filter("family_name", store.FilterEquals, func(i int) string { return fmt.Sprintf("Family%d", i%20000) })},
		{"ListUsers cognito:user_status =", filter("cognito:user_status", store.FilterEquals, func(int) string { return "UNCONFIRMED" })},
		{"ListUsers status = Disabled", filter("status", store.FilterEquals, func(int) string { return "Disabled" })},
		{"ListUsers sub =", filter("sub", store.FilterEquals, sub)},
		{"ListUsersInGroup members", func(int) error { _, _, err := st.ListUsersInGroup(ctx, p.ID, "members", page); return err }},
		{"ListGroupsForUser", func(i int) error { _, err := st.ListGroupsForUser(ctx, p.ID, sub(i*7919)); return err }},
		{"SearchCompanies (type-ahead)", func(i int) error {
			_, err := st.SearchCompanies(ctx, p.ID, store.FoldName(fmt.Sprintf("company co%d", i%(n/1000+1))), 10)
			return err
		}},
		{"ListRegistrations pending", func(int) error {
			_, _, err := st.ListRegistrations(ctx, p.ID, store.RegistrationFilter{State: identity.RegPending}, store.Page{Limit: 25})
			return err
		}},
	}
	fmt.Fprintf(a.stdout, "pool %s: %d users in the database, %d calls per operation, backend %s\n", p.ID, users, iterations, st.Backend())
	fmt.Fprintf(a.stdout, "%-40s %10s %10s %10s\n", "operation", "p50", "p99", "max")
	for _, op := range ops {
		d := make([]time.Duration, 0, iterations)
		for i := range iterations {
			t0 := time.Now()
			if err := op.run(i); err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%s: %w", op.name, err)
			}
			d = append(d, time.Since(t0))
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		q := func(f float64) time.Duration { return d[min(len(d)-1, int(f*float64(len(d))))] }
		fmt.Fprintf(a.stdout, "%-40s %10s %10s %10s\n", op.name, q(0.5).Round(time.Microsecond), q(0.99).Round(time.Microsecond), d[len(d)-1].Round(time.Microsecond))
	}
	if size := a.databaseBytes(ctx, c); size > 0 {
		fmt.Fprintf(a.stdout, "database size %.1f MiB, %.0f bytes per user\n", float64(size)/(1<<20), float64(size)/float64(users))
	}
	return nil
}

// databaseBytes is the size of the database: the SQLite file with its WAL,
// or pg_database_size.
func (a *app) databaseBytes(ctx context.Context, c *core) int64 {
	db, ok := c.store.(*sqlstore.DB)
	if !ok {
		return 0
	}
	if c.store.Backend() == "postgres" {
		var n int64
		if err := db.ReadDB().QueryRowContext(ctx, `SELECT pg_database_size(current_database())`).Scan(&n); err != nil {
			return 0
		}
		return n
	}
	var total int64
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(c.cfg.SQLitePath() + suffix); err == nil {
			total += fi.Size()
		}
	}
	return total
}
