package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlstore"
)

// Backup, restore and the token epoch (docs/operations.md).
//
//	gatehouse backup --to FILE           SQLite: VACUUM INTO, online, consistent
//	gatehouse restore --from FILE --yes  SQLite: put FILE in place, then the epoch bump
//	gatehouse epoch bump --yes           either backend, after any restore
//
// PostgreSQL is backed up and restored with its own tools (pg_dump /
// pg_restore, or physical backups); `epoch bump` is then run once.

func (a *app) backupCommand() *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Write an online, consistent copy of the SQLite database to a file",
		Long: `Write a consistent copy of the SQLite database to --to (which must not
exist), with VACUUM INTO, while the server keeps running. Never copy the live
gatehouse.db with cp: the copy may miss what is still in the WAL.

On PostgreSQL use pg_dump -Fc (or pg_basebackup); see docs/operations.md.
The master key is not in the database: back it up separately.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withCore(cmd, func(ctx context.Context, c *core) error {
				if c.store.Backend() != "sqlite" {
					return errors.New("backup: the database is PostgreSQL; back it up with pg_dump -Fc (see docs/operations.md)")
				}
				if _, err := os.Stat(to); err == nil {
					return fmt.Errorf("backup: %s exists; choose a new file", to)
				}
				db, ok := c.store.(*sqlstore.DB)
				if !ok {
					return errors.New("backup: unexpected store type")
				}
				start := time.Now()
				if err := sqlite.Backup(ctx, db, to); err != nil {
					return err
				}
				st, err := os.Stat(to)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "backup written to %s (%d bytes, %s)\n", to, st.Size(), time.Since(start).Round(time.Millisecond))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "file to write (must not exist)")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

func (a *app) restoreCommand() *cobra.Command {
	var from string
	var yes bool
	cmd := &cobra.Command{
		Use:   "restore",
		Short: "Restore the SQLite database from a backup file, then start a new token epoch",
		Long: `Stop the server first. restore checks that --from is a Gatehouse SQLite
database (and migrates it forward if it is older), moves the current
gatehouse.db (and its -wal/-shm files) aside as gatehouse.db.before-restore-<time>,
puts the backup in its place, and runs the token epoch step (see
"gatehouse epoch bump"): every refresh token, one-time code, session and
signing key from before the restore stops working, so nothing issued or used
after the backup was taken can come back to life. Users sign in again.

On PostgreSQL restore with pg_restore, then run "gatehouse epoch bump --yes".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !yes {
				return errors.New("restore replaces the database and signs every user out; run again with --yes")
			}
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			if cfg.IsPostgres() {
				return errors.New("restore: the database is PostgreSQL; restore it with pg_restore, then run `gatehouse epoch bump --yes`")
			}
			if err := restoreSQLite(cmd.Context(), cfg.SQLitePath(), from, a.stdout); err != nil {
				return err
			}
			return a.withCore(cmd, func(ctx context.Context, c *core) error { return a.bumpEpoch(ctx, c) })
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "backup file written by `gatehouse backup` (or sqlite3 .backup / VACUUM INTO)")
	cmd.Flags().BoolVar(&yes, "yes", false, "really replace the database and sign everyone out")
	_ = cmd.MarkFlagRequired("from")
	return cmd
}

// restoreSQLite validates a copy of from and swaps it in at dbPath.
func restoreSQLite(ctx context.Context, dbPath, from string, out io.Writer) error {
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o700); err != nil {
		return err
	}
	tmp := dbPath + ".restoring"
	_ = os.Remove(tmp)
	if err := copyFile(from, tmp); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// Opening validates the file and applies newer migrations to it.
	db, err := sqlite.Open(ctx, tmp)
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("restore: %s is not a usable Gatehouse database: %w", from, err)
	}
	var pools int
	qerr := db.ReadDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM pools`).Scan(&pools)
	cerr := db.Close()
	if err := errors.Join(qerr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("restore: %s: %w", from, err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		_ = os.Remove(tmp + suffix) // Close checkpointed the WAL
	}
	if _, err := os.Stat(dbPath); err == nil {
		aside := dbPath + ".before-restore-" + strconv.FormatInt(time.Now().Unix(), 10)
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if _, err := os.Stat(dbPath + suffix); err == nil {
				if err := os.Rename(dbPath+suffix, aside+suffix); err != nil {
					return fmt.Errorf("restore: move the current database aside: %w", err)
				}
			}
		}
		fmt.Fprintf(out, "current database moved to %s\n", aside)
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(out, "restored %s from %s (%d pools)\n", dbPath, from, pools)
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func (a *app) epochCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "epoch", Short: "Start a new token epoch after restoring a backup"}
	var yes bool
	bump := &cobra.Command{
		Use:   "bump",
		Short: "Invalidate every token, code, session and signing key issued before now",
		Long: `Run once after restoring a database (pg_restore, or a SQLite file put back
by hand; "gatehouse restore" runs it itself), before the nodes take traffic.

A restored database is older than the world: a refresh token rotated after
the backup looks unused again, a code used after it is valid again, and
tokens signed after it still verify. This command, in one transaction,
revokes every refresh token, deletes every one-time code, makes every user's
earlier access and ID tokens invalid (as a global sign-out), and deletes
every signing key; then it creates new keys for every pool and tells running
nodes (PostgreSQL) to drop their cached keys. Users sign in again; pending
sign-ups ask for a new code. Approval links of pending requests keep working.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !yes {
				return errors.New("epoch bump signs every user out of every pool; run again with --yes")
			}
			return a.withCore(cmd, func(ctx context.Context, c *core) error { return a.bumpEpoch(ctx, c) })
		},
	}
	bump.Flags().BoolVar(&yes, "yes", false, "really sign everyone out")
	cmd.AddCommand(bump)
	return cmd
}

// bumpEpoch runs sqlstore.BumpEpoch, creates fresh keys for every pool,
// and records an audit event.
func (a *app) bumpEpoch(ctx context.Context, c *core) error {
	db, ok := c.store.(*sqlstore.DB)
	if !ok {
		return errors.New("epoch: unexpected store type")
	}
	now := time.Now()
	res, err := db.BumpEpoch(ctx, now)
	if err != nil {
		return fmt.Errorf("epoch bump: %w", err)
	}
	pools, err := allPools(ctx, c.svc)
	if err != nil {
		return err
	}
	c.tokens.Invalidate("")
	for _, p := range pools {
		if err := c.tokens.EnsureKey(ctx, p); err != nil { // publishes the change to running nodes
			return fmt.Errorf("epoch bump: new keys for pool %s: %w", p.ID, err)
		}
	}
	detail := map[string]string{
		"refresh_tokens_revoked": strconv.FormatInt(res.RefreshTokens, 10),
		"codes_deleted":          strconv.FormatInt(res.Codes, 10),
		"users_signed_out":       strconv.FormatInt(res.Users, 10),
		"signing_keys_replaced":  strconv.FormatInt(res.SigningKeys, 10),
	}
	if err := c.store.InsertAudit(ctx, &identity.AuditEvent{Time: now.UTC().Truncate(time.Millisecond), Actor: "cli", Via: identity.ViaCLI,
		Action: "system.epoch_bump", Subject: "database", Detail: detail}); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "new token epoch: %d refresh tokens revoked, %d codes deleted, %d users signed out, %d signing keys replaced by new keys for %d pools\n",
		res.RefreshTokens, res.Codes, res.Users, res.SigningKeys, len(pools))
	return nil
}
