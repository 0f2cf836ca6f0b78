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

// populateSchema declares the custom attribute populate gives every
// user, so that an export of the pool imports into a pool made alike.
var populateSchema = []identity.AttributeDef{{Name: "custom:company_name", Type: identity.AttrString, Mutable: true}}

// populatePassword is the one password every populated user has.
const populatePassword = "Populate-pw-9!Xq"

func (a *app) devCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "dev", Short: "Development helpers: fill a pool with generated users and measure it"}
	var pool string
	var users, start, perCompany int
	var force bool
	populate := &cobra.Command{
		Use:   "populate",
		Short: "Fill a pool (created if missing) with generated users, companies, groups and pending registrations",
		Long: `Insert generated users straight into the database in large transactions (no
hashing: all share one password, ` + populatePassword + `), for measurements at
scale. User i is user<i>@co<i/1000>.example.com with given_name, family_name
and custom:company_name, one company and company group per thousand users,
every third user in the group "members", every hundredth with a pending
registration. --per-company sets the users per company (co<i/N>), for
pools of many companies. --start adds to an earlier run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withCore(cmd, func(ctx context.Context, c *core) error {
				// Every generated user shares a published password.
				if !c.cfg.Dev && !force {
					return errors.New("dev populate creates users with a published password: only with --dev (or GATEHOUSE_DEV=1), or --force on a database made for measuring")
				}
				if pool == "" || users < 0 || start < 0 || perCompany < 1 {
					return errors.New("dev populate: --pool is required, --users and --start may not be negative, --per-company must be positive")
				}
				db, ok := c.store.(*sqlstore.DB)
				if !ok {
					return errors.New("dev populate: unexpected store type")
				}
				p, err := resolvePool(ctx, c.svc, pool)
				if err != nil {
					if p, err = c.svc.CreatePool(ctx, auth.CreatePoolInput{Name: pool, Schema: populateSchema}); err != nil {
						return err
					}
				}
				if users == 0 {
					// The pool only (with the generator's schema), e.g. to
					// import an export of a populated pool into.
					fmt.Fprintf(a.stdout, "pool %s (%s) ready, no users added\n", p.Name, p.ID)
					return nil
				}
				hash, err := c.hasher.Hash(ctx, populatePassword)
				if err != nil {
					return err
				}
				t0 := time.Now()
				err = db.Populate(ctx, sqlstore.PopulateOptions{PoolID: p.ID, Users: users, Start: start, PasswordHash: hash, Now: t0, PerCompany: perCompany,
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
	populate.Flags().IntVar(&users, "users", 1000000, "users to add (0: create the pool only)")
	populate.Flags().IntVar(&start, "start", 0, "index of the first user (to add to an earlier run)")
	populate.Flags().IntVar(&perCompany, "per-company", 1000, "users per generated company (1: a company per user)")
	populate.Flags().BoolVar(&force, "force", false, "run without --dev (a database made for measuring only)")

	var iterations, small int
	measure := &cobra.Command{
		Use:   "measure",
		Short: "Time the hot reads of a pool next to a small pool (lookups, every list filter, first and deep pages, groups, type-ahead) and its size per user",
		Long: `Time each hot read of a populated pool and, in the same run, of a small pool
filled by the same generator ("<pool>-small", created with --small users if
missing), the two pools' calls alternating so that both see the same load,
and print p50 and p99 of both and the ratio of the p99s. Lists are
timed on their first page and on a deep page (the page after 200 pages of
60, or the last page of a shorter list).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				return a.measurePool(ctx, c, p, iterations, small, force)
			})
		},
	}
	measure.Flags().StringVarP(&pool, "pool", "p", "", "pool id or name")
	measure.Flags().IntVar(&iterations, "iterations", 200, "calls per operation")
	measure.Flags().IntVar(&small, "small", 1000, "users of the comparison pool <pool>-small (0: no comparison)")
	measure.Flags().BoolVar(&force, "force", false, "create the comparison pool without --dev (a database made for measuring only)")
	cmd.AddCommand(populate, measure)
	return cmd
}

// deepPages is how many pages of 60 a deep page lies after the first.
const deepPages = 200

// measurePool times each read iterations times against p (users of
// populate, where they exist) and, when small > 0, against a pool of
// small users filled by the same generator, and prints p50, p99 and max.
func (a *app) measurePool(ctx context.Context, c *core, p *identity.Pool, iterations, small int, force bool) error {
	st := c.store
	users, err := st.CountUsers(ctx, p.ID)
	if err != nil {
		return err
	}
	if users == 0 {
		return errors.New("dev measure: the pool has no users; run dev populate first")
	}
	pools := []*identity.Pool{p}
	if small > 0 {
		sp, err := resolvePool(ctx, c.svc, p.Name+"-small")
		if err != nil {
			if !c.cfg.Dev && !force {
				return errors.New("dev measure creates a small pool of users with a published password: only with --dev, or --force on a database made for measuring (or --small 0)")
			}
			if sp, err = c.svc.CreatePool(ctx, auth.CreatePoolInput{Name: p.Name + "-small", Schema: populateSchema}); err != nil {
				return err
			}
		}
		if have, err := st.CountUsers(ctx, sp.ID); err != nil {
			return err
		} else if have < small {
			hash, err := c.hasher.Hash(ctx, populatePassword)
			if err != nil {
				return err
			}
			db, ok := c.store.(*sqlstore.DB)
			if !ok {
				return errors.New("dev measure: unexpected store type")
			}
			if err := db.Populate(ctx, sqlstore.PopulateOptions{PoolID: sp.ID, Users: small - have, Start: have, PasswordHash: hash, Now: time.Now()}); err != nil {
				return err
			}
		}
		pools = append(pools, sp)
	}
	type result struct{ p50, p99, max time.Duration }
	// The pools' calls alternate, so both see the same load.
	ops := make([][]measureOp, len(pools))
	for pi, pl := range pools {
		n, err := st.CountUsers(ctx, pl.ID)
		if err != nil {
			return err
		}
		ops[pi] = measureOps(ctx, st, pl.ID, n)
	}
	var names []string
	results := map[string][]result{}
	for j, op := range ops[0] {
		names = append(names, op.name)
		d := make([][]time.Duration, len(pools))
		for pi := range pools {
			if s := ops[pi][j].setup; s != nil {
				if err := s(); err != nil {
					return fmt.Errorf("%s: %w", op.name, err)
				}
			}
		}
		for i := range iterations {
			for pi := range pools {
				t0 := time.Now()
				if err := ops[pi][j].run(i); err != nil && !errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("%s: %w", op.name, err)
				}
				d[pi] = append(d[pi], time.Since(t0))
			}
		}
		for pi := range pools {
			sort.Slice(d[pi], func(a, b int) bool { return d[pi][a] < d[pi][b] })
			q := func(f float64) time.Duration { return d[pi][min(len(d[pi])-1, int(f*float64(len(d[pi]))))] }
			results[op.name] = append(results[op.name], result{q(0.5), q(0.99), d[pi][len(d[pi])-1]})
		}
	}
	fmt.Fprintf(a.stdout, "pool %s: %d users, %d calls per operation, backend %s", p.ID, users, iterations, st.Backend())
	if len(pools) > 1 {
		fmt.Fprintf(a.stdout, "; compared with %s (%d users)", pools[1].ID, small)
	}
	fmt.Fprintln(a.stdout)
	fmt.Fprintf(a.stdout, "| %s | p50 | p99 | max |", "operation")
	if len(pools) > 1 {
		fmt.Fprintf(a.stdout, " small p50 | small p99 | p99 ÷ small p99 |")
	}
	fmt.Fprintln(a.stdout)
	r := func(d time.Duration) time.Duration {
		if d > time.Millisecond {
			return d.Round(10 * time.Microsecond)
		}
		return d.Round(time.Microsecond)
	}
	for _, name := range names {
		rs := results[name]
		fmt.Fprintf(a.stdout, "| %s | %s | %s | %s |", name, r(rs[0].p50), r(rs[0].p99), r(rs[0].max))
		if len(rs) > 1 {
			fmt.Fprintf(a.stdout, " %s | %s | %.1f |", r(rs[1].p50), r(rs[1].p99), float64(rs[0].p99)/float64(max(1, rs[1].p99)))
		}
		fmt.Fprintln(a.stdout)
	}
	if size := a.databaseBytes(ctx, c); size > 0 {
		var all int64
		if stats, err := st.TableStats(ctx); err == nil {
			for _, s := range stats {
				if s.Table == "users" {
					all = s.Rows
				}
			}
		}
		fmt.Fprintf(a.stdout, "database size %.1f MiB, %.0f bytes per user (%d users in the database)\n", float64(size)/(1<<20), float64(size)/float64(max(1, all)), all)
	}
	return nil
}

type measureOp struct {
	name  string
	setup func() error // untimed, before the calls
	run   func(i int) error
}

// measureOps are the reads dev measure times on a pool of n users made
// by populate.
func measureOps(ctx context.Context, st store.Store, pool string, n int) []measureOp {
	sub := func(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i%n) }
	email := func(i int) string { return fmt.Sprintf("user%d@co%d.example.com", i%n, (i%n)/1000) }
	page := store.Page{Limit: 60}
	companies := n/1000 + 1
	// list returns the first-page and the deep-page operations of a list.
	list := func(name string, l func(store.Page) (string, error)) []measureOp {
		var deep string
		return []measureOp{
			{name: name + ", first page", run: func(int) error { _, err := l(page); return err }},
			{name: name + ", deep page", setup: func() error {
				tok, last := "", ""
				for range deepPages {
					next, err := l(store.Page{Limit: 60, Token: tok})
					if err != nil {
						return err
					}
					if next == "" {
						break
					}
					last, tok = tok, next
				}
				deep = tok
				if deep == "" {
					deep = last
				}
				return nil
			}, run: func(int) error { _, err := l(store.Page{Limit: 60, Token: deep}); return err }},
		}
	}
	users := func(f *store.UserFilter) func(store.Page) (string, error) {
		return func(pg store.Page) (string, error) { _, next, err := st.ListUsers(ctx, pool, f, pg); return next, err }
	}
	filter := func(attr string, op store.FilterOp, v func(i int) string) func(i int) error {
		return func(i int) error {
			_, _, err := st.ListUsers(ctx, pool, &store.UserFilter{Attr: attr, Op: op, Value: v(i)}, page)
			return err
		}
	}
	ops := []measureOp{
		{name: "GetUserSession (GetUser, token checks)", run: func(i int) error { _, err := st.GetUserSession(ctx, pool, sub(i*7919), "o"); return err }},
		{name: "GetUser (AdminGetUser)", run: func(i int) error { _, err := st.GetUser(ctx, pool, sub(i*7919)); return err }},
		{name: "GetUserByUsername (sign-in)", run: func(i int) error { _, err := st.GetUserByUsername(ctx, pool, email(i*7919)); return err }},
		{name: "ListUsers email =", run: filter("email", store.FilterEquals, email)},
		{name: "ListUsers username =", run: filter("username", store.FilterEquals, email)},
		{name: "ListUsers sub =", run: filter("sub", store.FilterEquals, sub)},
		{name: "ListUsers given_name = (1 in 5,000)", run: filter("given_name", store.FilterEquals, func(i int) string { return fmt.Sprintf("Given%d", i%5000) })},
		{name: "ListUsers family_name = (1 in 20,000)", run: filter("family_name", store.FilterEquals, func(i int) string { return fmt.Sprintf("Family%d", i%20000) })},
		{name: "ListUsers email ^= (narrow: user<i>)", run: filter("email", store.FilterPrefix, func(i int) string { return fmt.Sprintf("user%d", (i*7919)%n) })},
		{name: "ListUsers given_name ^= (narrow: Given<i>)", run: filter("given_name", store.FilterPrefix, func(i int) string { return fmt.Sprintf("Given%d", i%5000) })},
	}
	ops = append(ops, list("ListUsers", users(nil))...)
	ops = append(ops, list("ListUsers email ^= user1 (dense)", users(&store.UserFilter{Attr: "email", Op: store.FilterPrefix, Value: "user1"}))...)
	ops = append(ops, list("ListUsers username ^= user2 (dense)", users(&store.UserFilter{Attr: "username", Op: store.FilterPrefix, Value: "user2"}))...)
	ops = append(ops, list("ListUsers given_name ^= Given1 (dense)", users(&store.UserFilter{Attr: "given_name", Op: store.FilterPrefix, Value: "Given1"}))...)
	ops = append(ops, list("ListUsers family_name ^= Family (all)", users(&store.UserFilter{Attr: "family_name", Op: store.FilterPrefix, Value: "Family"}))...)
	ops = append(ops, list("ListUsers sub ^= 0000 (all)", users(&store.UserFilter{Attr: "sub", Op: store.FilterPrefix, Value: "0000"}))...)
	ops = append(ops, list("ListUsers cognito:user_status = UNCONFIRMED (2%)", users(&store.UserFilter{Attr: "cognito:user_status", Op: store.FilterEquals, Value: "UNCONFIRMED"}))...)
	ops = append(ops, list("ListUsers cognito:user_status = RESET_REQUIRED (none)", users(&store.UserFilter{Attr: "cognito:user_status", Op: store.FilterEquals, Value: "RESET_REQUIRED"}))...)
	ops = append(ops, list("ListUsers cognito:user_status ^= C (98%)", users(&store.UserFilter{Attr: "cognito:user_status", Op: store.FilterPrefix, Value: "C"}))...)
	ops = append(ops, list("ListUsers status = Disabled (1%)", users(&store.UserFilter{Attr: "status", Op: store.FilterEquals, Value: "Disabled"}))...)
	ops = append(ops, list("ListUsers status = Enabled (99%)", users(&store.UserFilter{Attr: "status", Op: store.FilterEquals, Value: "Enabled"}))...)
	group := func(g string) func(store.Page) (string, error) {
		return func(pg store.Page) (string, error) {
			_, next, err := st.ListUsersInGroup(ctx, pool, g, pg)
			return next, err
		}
	}
	ops = append(ops, list("ListUsersInGroup members (1 in 3)", group("members"))...)
	ops = append(ops, list(fmt.Sprintf("ListUsersInGroup co%d (1,000, last created)", 0), group("co0"))...)
	ops = append(ops,
		measureOp{name: "ListGroupsForUser", run: func(i int) error { _, err := st.ListGroupsForUser(ctx, pool, sub(i*7919)); return err }},
		measureOp{name: "SearchCompanies (type-ahead)", run: func(i int) error {
			_, err := st.SearchCompanies(ctx, pool, store.FoldName(fmt.Sprintf("company co%d", i%companies)), 10)
			return err
		}},
		measureOp{name: "ListRegistrations pending", run: func(int) error {
			_, _, err := st.ListRegistrations(ctx, pool, store.RegistrationFilter{State: identity.RegPending}, store.Page{Limit: 25})
			return err
		}},
	)
	return ops
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
