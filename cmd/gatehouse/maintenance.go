package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/retention"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlstore"
)

// Data that cleans itself up (docs/operations.md#retention):
//
//	gatehouse retention run [--archive FILE]   prune by each pool's retention
//	gatehouse audit export [--pool P] [--since T] [--until T] [--output FILE]
//	gatehouse db stats                         rows and oldest row per table
//	gatehouse db vacuum                        give free pages back (SQLite: rewrite)

func (a *app) retentionCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "retention", Short: "Delete audit events, emails, jobs and registrations older than their pool keeps them"}
	var archive string
	var batch int
	run := &cobra.Command{
		Use:   "run",
		Short: "Prune now, in small batches, by each pool's retention settings",
		Long: `Delete what each pool's retention settings (apply: retention.audit_days,
email_days, job_days, registration_days; defaults 400, 30, 30 and 400 days)
no longer keep: audit events, sent/dead/discarded emails, finished jobs and
decided registrations, plus expired refresh tokens, revoked sign-ins, OAuth
codes and throttle windows. Deletes run in small batches, so a server can
keep serving meanwhile. With --archive, every audit event is appended to
FILE as a JSON line before it is deleted. "gatehouse serve" runs the same
pruning every retention.interval (default 1h).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withCore(cmd, func(ctx context.Context, c *core) error {
				o := retention.Options{Store: c.store, Batch: batch}
				if archive != "" {
					f, err := os.OpenFile(archive, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
					if err != nil {
						return err
					}
					defer f.Close()
					o.Archive = f
				}
				start := time.Now()
				res, err := retention.Run(ctx, o)
				printResult(a.stdout, res)
				fmt.Fprintf(a.stdout, "retention run took %s\n", time.Since(start).Round(time.Millisecond))
				return err
			})
		},
	}
	run.Flags().StringVar(&archive, "archive", "", "append each pruned audit event to this file (JSON lines) before deleting it")
	run.Flags().IntVar(&batch, "batch", 500, "rows per delete statement")
	cmd.AddCommand(run)
	return cmd
}

func printResult(w io.Writer, res retention.Result) {
	if len(res) == 0 {
		fmt.Fprintln(w, "nothing to delete")
		return
	}
	names := make([]string, 0, len(res))
	for k := range res {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(w, "deleted %d %s\n", res[k], k)
	}
}

func (a *app) auditCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Export the audit log"}
	var pool, since, until, output string
	export := &cobra.Command{
		Use:   "export",
		Short: "Write audit events as JSON lines, newest first (e.g. before retention prunes them)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := auth.AuditQuery{Limit: auth.MaxAuditLimit}
			var err error
			if q.Since, err = parseOptTime("since", since); err != nil {
				return err
			}
			if q.Until, err = parseOptTime("until", until); err != nil {
				return err
			}
			w := a.stdout
			if output != "" {
				f, err := os.OpenFile(output, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			return a.withCore(cmd, func(ctx context.Context, c *core) error {
				if pool != "" {
					p, err := resolvePool(ctx, c.svc, pool)
					if err != nil {
						return err
					}
					q.PoolID = p.ID
				}
				n := 0
				for {
					evs, next, err := c.svc.Audit(ctx, q)
					if err != nil {
						return err
					}
					if err := retention.WriteJSONLines(w, evs); err != nil {
						return err
					}
					n += len(evs)
					if next == "" {
						break
					}
					q.Token = next
				}
				if output != "" {
					fmt.Fprintf(a.stderr, "exported %d audit events to %s\n", n, output)
				}
				return nil
			})
		},
	}
	f := export.Flags()
	f.StringVarP(&pool, "pool", "p", "", "only this pool (id or name)")
	f.StringVar(&since, "since", "", "only events at or after this time (RFC 3339)")
	f.StringVar(&until, "until", "", "only events before this time (RFC 3339)")
	f.StringVarP(&output, "output", "o", "", "write to this new file instead of stdout")
	cmd.AddCommand(export)
	return cmd
}

func parseOptTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s: want an RFC 3339 time such as 2026-01-31T00:00:00Z", name)
	}
	return t, nil
}

func (a *app) dbCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "db", Short: "Database size and upkeep"}
	stats := &cobra.Command{
		Use:   "stats",
		Short: "Rows and the oldest row of each table that grows with use",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withCore(cmd, func(ctx context.Context, c *core) error {
				st, err := c.store.TableStats(ctx)
				if err != nil {
					return err
				}
				for _, s := range st {
					oldest := "-"
					if !s.Oldest.IsZero() {
						oldest = s.Oldest.UTC().Format(time.RFC3339)
					}
					fmt.Fprintf(a.stdout, "%-18s %12s  %s\n", s.Table, strconv.FormatInt(s.Rows, 10), oldest)
				}
				return nil
			})
		},
	}
	vacuum := &cobra.Command{
		Use:   "vacuum",
		Short: "Give free pages back: SQLite rewrites the file (holding the write lock), PostgreSQL runs VACUUM ANALYZE",
		Long: `On SQLite this rewrites the whole file with VACUUM, which holds the write
lock while it runs (writers wait up to the busy timeout): run it when the
server is quiet. It also switches the file to auto_vacuum=INCREMENTAL, so
that from then on every retention run gives its free pages back without a
rewrite. On PostgreSQL it runs VACUUM (ANALYZE).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withCore(cmd, func(ctx context.Context, c *core) error {
				db, ok := c.store.(*sqlstore.DB)
				if !ok {
					return errors.New("db vacuum: unexpected store type")
				}
				start := time.Now()
				if err := db.Vacuum(ctx); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "vacuumed in %s\n", time.Since(start).Round(time.Millisecond))
				return nil
			})
		},
	}
	cmd.AddCommand(stats, vacuum)
	return cmd
}

// runRetention prunes every interval until ctx ends (serve). Several nodes
// may run it at once: deletes are idempotent.
func runRetention(ctx context.Context, st store.Store, every time.Duration, log *slog.Logger) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		res, err := retention.Run(identity.WithActor(ctx, identity.Actor{ID: "system"}), retention.Options{Store: st})
		if err != nil && ctx.Err() == nil {
			log.Error("retention run failed", "err", err)
			continue
		}
		if len(res) > 0 {
			log.Info("retention run", "deleted", map[string]int(res))
		}
	}
}
