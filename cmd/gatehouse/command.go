package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// spec is one administration command: its usage, its flags and the one
// service call it makes. command turns it into a cobra command that opens
// the service (as actor "cli"), resolves --pool when asked, makes the
// call and prints its result.
type spec struct {
	use, short, long string
	args             cobra.PositionalArgs
	// pool adds --pool (-p), required, resolved before the call.
	pool bool
	// flags binds the command's own flags.
	flags func(cmd *cobra.Command)
	// Exactly one of do and show: do returns the line(s) to print, the
	// same under --output json; show returns a table or fields that
	// follow --output (an unknown --output fails before the database is
	// opened).
	do   func(x call) (string, error)
	show func(x call) (shown, error)
}

// call is what a command's call gets.
type call struct {
	ctx  context.Context
	c    *core
	svc  *auth.Service
	pool *identity.Pool // nil unless spec.pool
	args []string
	cmd  *cobra.Command
}

// shown is a result printed through the printer (--output).
type shown interface{ print(pr *printer) error }

// table is rows under headers; json is what --output json prints.
type table struct {
	headers []string
	rows    [][]string
	json    any
}

func (t table) print(pr *printer) error { return pr.table(t.headers, t.rows, t.json) }

// fields is one object as "key: value" lines; json is what --output json
// prints.
type fields struct {
	kv   [][2]string
	json any
}

func (f fields) print(pr *printer) error { return pr.fields(f.kv, f.json) }

// printFunc prints a result of its own shape (a secret shown once).
type printFunc func(pr *printer) error

func (f printFunc) print(pr *printer) error { return f(pr) }

// command builds the cobra command of s.
func (a *app) command(s spec) *cobra.Command {
	var pool string
	cmd := &cobra.Command{Use: s.use, Short: s.short, Long: s.long, Args: s.args}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		var pr *printer
		if s.show != nil {
			var err error
			if pr, err = a.printer(); err != nil {
				return err
			}
		}
		return a.withCore(cmd, func(ctx context.Context, c *core) error {
			x := call{ctx: ctx, c: c, svc: c.svc, args: args, cmd: cmd}
			if s.pool {
				p, err := resolvePool(ctx, c.svc, pool)
				if err != nil {
					return err
				}
				x.pool = p
			}
			if s.show != nil {
				out, err := s.show(x)
				if err != nil {
					return err
				}
				return out.print(pr)
			}
			msg, err := s.do(x)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(a.stdout, msg)
			return err
		})
	}
	if s.pool {
		addPoolFlag(cmd, &pool)
	}
	if s.flags != nil {
		s.flags(cmd)
	}
	return cmd
}

// group is a parent command holding subs.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short}
	cmd.AddCommand(subs...)
	return cmd
}

// all reads every page of a listing.
func all[T any](page func(token string) ([]T, string, error)) ([]T, error) {
	var out []T
	tok := ""
	for {
		items, next, err := page(tok)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if next == "" || next == tok {
			return out, nil
		}
		tok = next
	}
}
