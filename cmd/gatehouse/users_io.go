package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// maxImportLine caps one JSON line of an import file.
const maxImportLine = 1 << 20

func (a *app) usersExportCommand() *cobra.Command {
	var pool, out string
	c := &cobra.Command{
		Use:   "export",
		Short: "Export a pool's users as JSON lines (with password hashes and groups)",
		Long: `Export every user of a pool as one JSON object per line, in a stable order,
including the argon2id password hash and group names, so that
"gatehouse users import" can recreate them in another pool or database:

  gatehouse users export --pool demo > users.jsonl

The file holds password hashes: keep it as secret as the database. A
progress bar is drawn on standard error when it is a terminal.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				w := a.stdout
				if out != "" && out != "-" {
					f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
					if err != nil {
						return err
					}
					defer f.Close()
					w = f
				}
				bw := bufio.NewWriter(w)
				enc := json.NewEncoder(bw)
				n := 0
				var bar *progressbar.ProgressBar
				if total, err := c.store.CountUsers(ctx, p.ID); err == nil {
					bar = a.usersBar(total, "exporting users")
				}
				err := c.svc.ExportUsers(ctx, p.ID, func(u auth.ImportedUser) error {
					n++
					if bar != nil {
						_ = bar.Add(1)
					}
					return enc.Encode(u)
				})
				if bar != nil {
					_ = bar.Finish()
				}
				if err != nil {
					return err
				}
				if err := bw.Flush(); err != nil {
					return err
				}
				fmt.Fprintf(a.stderr, "exported %d users from pool %s\n", n, p.ID)
				return nil
			})
		},
	}
	addPoolFlag(c, &pool)
	c.Flags().StringVarP(&out, "out", "O", "", "write to this file (mode 0600) instead of standard output")
	return c
}

// importReport is what an import did, by line number.
type importReport struct {
	Created  int            `json:"created"`
	Replaced int            `json:"replaced"`
	Skipped  int            `json:"skipped"`
	Failed   []importFailed `json:"failed"`
}

type importFailed struct {
	Line  int    `json:"line"`
	Error string `json:"error"`
}

func (a *app) usersImportCommand() *cobra.Command {
	var pool, file string
	var replace bool
	c := &cobra.Command{
		Use:   "import -f users.jsonl|users.csv",
		Short: "Import users from JSON lines (as written by export) or a Cognito import CSV; bad lines are reported and skipped",
		Long: `Import users from a JSON lines file (one user per line, the format of
"gatehouse users export"). A user whose username already exists in the pool is
skipped (or replaced with --replace). Groups named by a user are created when
missing. A line that fails is reported with its line number and the import
goes on; the command exits with status 2 if any line failed. The file is
read as it is imported, 1,000 users per transaction: memory holds one
batch, whatever the file's size.

A file whose name ends in .csv (or whose first line names cognito:username)
is read as Cognito's user import CSV (the columns of GetCSVHeader): users
arrive RESET_REQUIRED without a password, a username already in the pool is
skipped, and rows are imported in batches of 1,000 per transaction.

The password_hash of a JSON line may be argon2id or a hash from another
system: bcrypt ($2a$/$2b$/$2y$), Django's pbkdf2_sha256$..., a Keycloak
credential {"algorithm","hashIterations","salt","value"}, Firebase's
$firebase-scrypt$r=..,m=..$<separator>$<signer key>$<salt>$<hash>, or
$argon2i$...; it is verified at the next sign-in and replaced by the pool's
argon2id then (docs/migration.md).

A progress bar (bytes read of the file's size) is drawn on standard error
when it is a terminal.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pr, err := a.printer()
			if err != nil {
				return err
			}
			if file == "" {
				return errors.New("-f is required (use -f - for standard input)")
			}
			// The file is read as it is imported, never whole: memory
			// stays that of one batch whatever the file's size.
			in, size := a.stdin, int64(-1)
			if file != "-" {
				f, err := os.Open(file)
				if err != nil {
					return err
				}
				defer f.Close()
				if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
					size = st.Size()
				}
				in = f
			}
			br := bufio.NewReaderSize(in, importPeek)
			head, err := br.Peek(importPeek)
			if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
				return err
			}
			csv := isImportCSV(file, head)
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				var rep *importReport
				var err error
				if csv {
					if replace {
						return errors.New("--replace is for JSON lines; a CSV import skips users that exist")
					}
					rep, err = a.importUsersCSV(ctx, c.svc, p, br)
				} else {
					rep, err = a.importUsers(ctx, c.svc, p, br, size, replace)
				}
				if err != nil {
					return err
				}
				if pr.json {
					if err := pr.JSON(rep); err != nil {
						return err
					}
				} else {
					for _, f := range rep.Failed {
						fmt.Fprintf(a.stdout, "line %d: %s\n", f.Line, f.Error)
					}
					fmt.Fprintf(a.stdout, "created %d, replaced %d, skipped %d, failed %d\n", rep.Created, rep.Replaced, rep.Skipped, len(rep.Failed))
				}
				if len(rep.Failed) > 0 {
					return exitError(2)
				}
				return nil
			})
		},
	}
	addPoolFlag(c, &pool)
	c.Flags().StringVarP(&file, "file", "f", "", "JSON lines file to import (- for standard input)")
	c.Flags().BoolVar(&replace, "replace", false, "replace users that already exist (matched by username) instead of skipping them")
	return c
}

// importPeek is how much of an import file is looked at to tell Cognito's
// CSV from JSON lines (its first line), and the read buffer's size.
const importPeek = 64 << 10

// isImportCSV says whether an import file is Cognito's CSV rather than
// JSON lines, from its name and its first bytes (head).
func isImportCSV(name string, head []byte) bool {
	if strings.HasSuffix(strings.ToLower(name), ".csv") {
		return true
	}
	first, _, _ := bytes.Cut(head, []byte("\n"))
	return bytes.Contains(first, []byte("cognito:username")) && !bytes.HasPrefix(bytes.TrimSpace(first), []byte("{"))
}

// importUsersCSV imports a Cognito import CSV through the service, in
// batches, with the same progress bar and report as JSON lines. The CSV is
// read whole (auth.ImportCSV parses it by offset, as an import job does;
// Cognito caps such a file at 100 MB).
func (a *app) importUsersCSV(ctx context.Context, svc *auth.Service, p *identity.Pool, r io.Reader) (*importReport, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	bar := a.importBar(bytes.Count(data, []byte("\n")) - 1)
	imported, skipped, failed, err := svc.ImportCSV(ctx, p.ID, data, func(rows int) {
		if bar != nil {
			_ = bar.Add(rows)
		}
	})
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return nil, err
	}
	rep := &importReport{Created: int(imported), Skipped: int(skipped), Failed: []importFailed{}}
	for _, f := range failed {
		rep.Failed = append(rep.Failed, importFailed{Line: int(f.Line), Error: lineError(f.Err)})
	}
	return rep, nil
}

// importBar is the progress bar of an import of total rows, drawn on
// standard error when it is a terminal (nil otherwise).
func (a *app) importBar(total int) *progressbar.ProgressBar {
	return a.usersBar(total, "importing users")
}

// importBytesBar is the progress bar of a JSON lines import: bytes read of
// the file's size, or a spinner with the bytes read when the size is not
// known (standard input, a pipe). Drawn on standard error when it is a
// terminal (nil otherwise).
func (a *app) importBytesBar(size int64) *progressbar.ProgressBar {
	if a.stderrIsTerminal == nil || !a.stderrIsTerminal() {
		return nil
	}
	if size <= 0 {
		size = -1
	}
	bar := progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(a.stderr),
		progressbar.OptionSetDescription("importing users"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(a.stderr) }),
	)
	_ = bar.RenderBlank()
	return bar
}

// usersBar is a progress bar over total users on standard error when it
// is a terminal (nil otherwise).
func (a *app) usersBar(total int, what string) *progressbar.ProgressBar {
	if a.stderrIsTerminal == nil || !a.stderrIsTerminal() || total <= 0 {
		return nil
	}
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(a.stderr),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("users"),
		progressbar.OptionShowIts(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(a.stderr) }),
	)
	_ = bar.RenderBlank()
	return bar
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// importUsers imports JSON lines from r as it reads them (size is r's
// length for the progress bar, -1 if unknown): lines are decoded and
// checked one by one and written in batches of auth.MaxImportUsers, each
// one transaction (auth.ImportUsers), so memory holds one batch, never the
// file. Errors of single lines are collected in the report and the import
// goes on; only a cancelled context or a failing database stops it (the
// batches before stay written, as they always did).
func (a *app) importUsers(ctx context.Context, svc *auth.Service, p *identity.Pool, r io.Reader, size int64, replace bool) (*importReport, error) {
	bar := a.importBytesBar(size)
	if bar != nil {
		defer bar.Finish()
	}
	in := &countingReader{r: r}

	groups := map[string]bool{}
	if gs, err := allGroups(ctx, svc, p.ID); err == nil {
		for _, g := range gs {
			groups[g.Name] = true
		}
	}

	rep := &importReport{Failed: []importFailed{}}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, importPeek), maxImportLine)
	line := 0
	fail := func(err error) {
		rep.Failed = append(rep.Failed, importFailed{Line: line, Error: lineError(err)})
	}
	// Lines are imported in batches of auth.MaxImportUsers, each one
	// transaction (auth.ImportUsers).
	batch := make([]auth.ImportedUser, 0, auth.MaxImportUsers)
	lines := make([]int, 0, auth.MaxImportUsers)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		defer func() {
			clear(batch) // drop the batch's strings and maps before the next one
			batch, lines = batch[:0], lines[:0]
		}()
		var names []string
		for _, u := range batch {
			names = append(names, u.Groups...)
		}
		if err := ensureGroups(ctx, svc, p.ID, names, groups); err != nil {
			// Reported on the lines naming a group, as before.
			for i, u := range batch {
				if len(u.Groups) > 0 {
					rep.Failed = append(rep.Failed, importFailed{Line: lines[i], Error: lineError(err)})
				}
			}
			kept := batch[:0]
			keptLines := lines[:0]
			for i, u := range batch {
				if len(u.Groups) == 0 {
					kept, keptLines = append(kept, u), append(keptLines, lines[i])
				}
			}
			batch, lines = kept, keptLines
		}
		r, err := svc.ImportUsers(ctx, p.ID, batch, replace)
		if err != nil {
			return err
		}
		rep.Created += r.Created
		rep.Replaced += r.Replaced
		rep.Skipped += r.Skipped
		for _, f := range r.Failed {
			rep.Failed = append(rep.Failed, importFailed{Line: lines[f.Index], Error: lineError(f.Err)})
		}
		if bar != nil {
			_ = bar.Set64(in.n)
		}
		return nil
	}
	for sc.Scan() {
		line++
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		var u auth.ImportedUser
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&u); err != nil {
			fail(fmt.Errorf("invalid JSON: %v", err))
			continue
		}
		if u.Username == "" {
			fail(errors.New("username is missing"))
			continue
		}
		batch, lines = append(batch, u), append(lines, line)
		if len(batch) == auth.MaxImportUsers {
			if err := flush(); err != nil {
				return rep, err
			}
		}
	}
	if err := flush(); err != nil {
		return rep, err
	}
	if err := sc.Err(); err != nil {
		line++
		fail(fmt.Errorf("cannot read further: %v", err))
	}
	if bar != nil {
		_ = bar.Set64(in.n)
	}
	sort.Slice(rep.Failed, func(i, j int) bool { return rep.Failed[i].Line < rep.Failed[j].Line })
	return rep, nil
}

func ensureGroups(ctx context.Context, svc *auth.Service, poolID string, names []string, known map[string]bool) error {
	for _, g := range names {
		if known[g] {
			continue
		}
		_, err := svc.CreateGroup(ctx, &identity.Group{PoolID: poolID, Name: g})
		if err != nil && identity.ErrorCode(err) != identity.CodeGroupExists {
			return fmt.Errorf("group %q: %w", g, err)
		}
		known[g] = true
	}
	return nil
}

// lineError is the message shown for a failed line: the safe message of an
// *identity.Error (with its field), else the error text.
func lineError(err error) string {
	var e *identity.Error
	if errors.As(err, &e) {
		if e.Field != "" {
			return fmt.Sprintf("%s (%s): %s", e.Code, e.Field, e.Message)
		}
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return err.Error()
}
