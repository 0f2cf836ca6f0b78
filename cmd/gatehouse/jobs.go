package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// ---- jobs ----
//
// gatehouse jobs list|show|retry|discard|retry-dead-emails: the background
// jobs (email deliveries, post_confirmation hooks, registration reminders
// and expiries) through auth.Service, as the native API and the console
// see them. The CLI is a global admin: without --pool it sees every job.

type jobJSON struct {
	ID          int64           `json:"id"`
	PoolID      string          `json:"pool_id,omitempty"`
	Kind        string          `json:"kind"`
	State       string          `json:"state"`
	Attempts    int             `json:"attempts"`
	MaxAttempts int             `json:"max_attempts"`
	Lost        int             `json:"lost_leases,omitempty"`
	RunAt       *time.Time      `json:"run_at,omitempty"`
	LockedBy    string          `json:"locked_by,omitempty"`
	LockedUntil *time.Time      `json:"locked_until,omitempty"`
	LastError   string          `json:"last_error,omitempty"`
	CreatedAt   *time.Time      `json:"created_at,omitempty"`
	UpdatedAt   *time.Time      `json:"updated_at,omitempty"`
	Payload     json.RawMessage `json:"payload,omitempty"`
}

func jobView(j *identity.Job, payload bool) jobJSON {
	v := jobJSON{ID: j.ID, PoolID: j.PoolID, Kind: j.Kind, State: j.State, Attempts: j.Attempts, MaxAttempts: j.MaxAttempts,
		Lost: j.Lost, RunAt: tptr(j.RunAt), LockedBy: j.LockedBy, LockedUntil: tptr(j.LockedUntil), LastError: j.LastError,
		CreatedAt: tptr(j.CreatedAt), UpdatedAt: tptr(j.UpdatedAt)}
	if payload && json.Valid(j.Payload) {
		v.Payload = json.RawMessage(j.Payload)
	}
	return v
}

// nextRun says when a job runs next: its due time while pending, its
// lease's end while running.
func nextRun(j *identity.Job) string {
	switch j.State {
	case identity.JobPending:
		if j.RunAt.Unix() <= 0 {
			return "now"
		}
		return fmtTime(j.RunAt)
	case identity.JobRunning:
		return "lease until " + fmtTime(j.LockedUntil)
	}
	return "-"
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return orDash(s)
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// withJobPool runs fn with the pool of --pool, or with none (every job)
// when the flag is empty.
func (a *app) withJobPool(cmd *cobra.Command, ref *string, fn func(ctx context.Context, c *core, poolID string) error) error {
	if *ref == "" {
		return a.withCore(cmd, func(ctx context.Context, c *core) error { return fn(ctx, c, "") })
	}
	return a.withPool(cmd, ref, func(ctx context.Context, c *core, p *identity.Pool) error { return fn(ctx, c, p.ID) })
}

func parseJobID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("job id %q: want a positive number", s)
	}
	return id, nil
}

func (a *app) jobsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "jobs", Short: "List, show, retry and discard background jobs (email deliveries, hooks, reminders)"}
	var pool, state, kind string
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List jobs, newest first: a pool's with --pool, else every job",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pr, err := a.printer()
			if err != nil {
				return err
			}
			return a.withJobPool(cmd, &pool, func(ctx context.Context, c *core, poolID string) error {
				list, _, err := c.svc.ListJobs(ctx, poolID, state, kind, limit, "")
				if err != nil {
					return err
				}
				var rows [][]string
				views := []jobJSON{}
				for _, j := range list {
					rows = append(rows, []string{strconv.FormatInt(j.ID, 10), orDash(j.PoolID), j.Kind, j.State,
						fmt.Sprintf("%d/%d", j.Attempts, j.MaxAttempts), nextRun(j), shorten(j.LastError, 60)})
					views = append(views, jobView(j, false))
				}
				return pr.table([]string{"ID", "POOL", "KIND", "STATE", "ATTEMPTS", "NEXT RUN", "LAST ERROR"}, rows, views)
			})
		},
	}
	list.Flags().StringVarP(&pool, "pool", "p", "", "pool id or name (default: every job, also global ones)")
	list.Flags().StringVar(&state, "state", "", "only this state: pending, running, done, dead, discarded")
	list.Flags().StringVar(&kind, "kind", "", "only this kind, e.g. email.send")
	list.Flags().IntVar(&limit, "limit", 50, "at most this many (1-1000)")

	show := &cobra.Command{
		Use:   "show <job id>",
		Short: "Show a job: state, attempts, last error, next run, payload",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pr, err := a.printer()
			if err != nil {
				return err
			}
			id, err := parseJobID(args[0])
			if err != nil {
				return err
			}
			return a.withJobPool(cmd, &pool, func(ctx context.Context, c *core, poolID string) error {
				j, err := c.svc.GetJob(ctx, poolID, id)
				if err != nil {
					return err
				}
				return printJob(pr, j)
			})
		},
	}

	change := func(use, short string, op func(ctx context.Context, c *core, poolID string, id int64) (*identity.Job, error)) *cobra.Command {
		return &cobra.Command{
			Use:   use + " <job id>",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				pr, err := a.printer()
				if err != nil {
					return err
				}
				id, err := parseJobID(args[0])
				if err != nil {
					return err
				}
				return a.withJobPool(cmd, &pool, func(ctx context.Context, c *core, poolID string) error {
					j, err := op(ctx, c, poolID, id)
					if err != nil {
						return err
					}
					return printJob(pr, j)
				})
			},
		}
	}
	retry := change("retry", "Run a job again: a dead one is re-armed with new attempts (a dead email is queued), a pending one made due now",
		func(ctx context.Context, c *core, poolID string, id int64) (*identity.Job, error) {
			return c.svc.RetryJob(ctx, poolID, id)
		})
	discard := change("discard", "Give up on a pending, running or dead job (an email's delivery: the email is never sent)",
		func(ctx context.Context, c *core, poolID string, id int64) (*identity.Job, error) {
			return c.svc.DiscardJob(ctx, poolID, id)
		})
	for _, c := range []*cobra.Command{show, retry, discard} {
		c.Flags().StringVarP(&pool, "pool", "p", "", "pool id or name: the job must be the pool's (default: any job)")
	}

	dead := &cobra.Command{
		Use:   "retry-dead-emails",
		Short: "Queue every dead email of a pool again (after an SMTP outage)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pr, err := a.printer()
			if err != nil {
				return err
			}
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				n, err := c.svc.RetryDeadEmails(ctx, p.ID)
				if err != nil {
					return err
				}
				return pr.fields([][2]string{{"Pool", p.ID}, {"Queued again", strconv.Itoa(n)}}, map[string]any{"pool_id": p.ID, "queued": n})
			})
		},
	}
	addPoolFlag(dead, &pool)
	cmd.AddCommand(list, show, retry, discard, dead)
	return cmd
}

func printJob(pr *printer, j *identity.Job) error {
	payload := "-"
	if json.Valid(j.Payload) && len(j.Payload) > 0 {
		payload = string(j.Payload)
	}
	return pr.fields([][2]string{
		{"ID", strconv.FormatInt(j.ID, 10)},
		{"Pool", orDash(j.PoolID)},
		{"Kind", j.Kind},
		{"State", j.State},
		{"Attempts", fmt.Sprintf("%d of %d", j.Attempts, j.MaxAttempts)},
		{"Lost leases", strconv.Itoa(j.Lost)},
		{"Next run", nextRun(j)},
		{"Locked by", orDash(j.LockedBy)},
		{"Last error", orDash(j.LastError)},
		{"Created", fmtTime(j.CreatedAt)},
		{"Updated", fmtTime(j.UpdatedAt)},
		{"Payload", payload},
	}, jobView(j, true))
}
