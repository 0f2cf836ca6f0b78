package cluster

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// pgInstance is a private PostgreSQL server for one test.
type pgInstance struct {
	t        testing.TB
	bin      string // directory of initdb, pg_ctl
	dir      string // owns data/ and the socket
	port     int
	asUser   string // run the server binaries as this user ("" = as we are)
	database string
	started  bool // the first start succeeded: the port is fixed from then on
}

// requireAll reports whether missing prerequisites must fail the test.
func requireAll() bool {
	return os.Getenv("CI") == "true" || os.Getenv("GATEHOUSE_TEST_ALL") == "1"
}

func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if requireAll() {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// pgBinDir finds PostgreSQL's server binaries.
func pgBinDir() string {
	if d := os.Getenv("GATEHOUSE_TEST_PG_BIN"); d != "" {
		return d
	}
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Strings(m)
	if len(m) == 0 {
		return ""
	}
	return filepath.Dir(m[len(m)-1])
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startPostgres initdb's a fresh cluster in a temporary directory and
// starts it on a free loopback port. It is stopped and removed at cleanup.
func startPostgres(t testing.TB) *pgInstance {
	t.Helper()
	bin := pgBinDir()
	if bin == "" {
		skipOrFail(t, "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin or GATEHOUSE_TEST_PG_BIN)")
	}
	p := &pgInstance{t: t, bin: bin, port: freePort(t), database: "gh_cluster"}
	if os.Geteuid() == 0 {
		// initdb refuses to run as root.
		if _, err := user.Lookup("postgres"); err != nil {
			skipOrFail(t, "running as root and there is no postgres user to run PostgreSQL as")
		}
		p.asUser = "postgres"
	}
	dir, err := os.MkdirTemp("", "gh-cluster-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p.dir = dir
	t.Cleanup(func() { os.RemoveAll(dir) })
	if p.asUser != "" {
		u, _ := user.Lookup(p.asUser)
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := p.run("initdb", "-D", p.dataDir(), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	p.start()
	t.Cleanup(func() {
		if out, err := p.run("pg_ctl", "-D", p.dataDir(), "-m", "immediate", "-w", "stop"); err != nil {
			t.Logf("pg_ctl stop: %v\n%s", err, out)
		}
	})
	db := p.open("postgres")
	defer db.Close()
	if _, err := db.Exec(`CREATE DATABASE ` + p.database); err != nil {
		t.Fatalf("create database: %v", err)
	}
	return p
}

func (p *pgInstance) dataDir() string { return filepath.Join(p.dir, "data") }

// run runs a PostgreSQL binary (as p.asUser if set), bounded in time.
func (p *pgInstance) run(name string, args ...string) ([]byte, error) {
	path := filepath.Join(p.bin, name)
	if p.asUser != "" {
		args = append([]string{"-u", p.asUser, "--", path}, args...)
		path = "runuser"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = p.dir
	return cmd.CombinedOutput()
}

// start starts the server and waits until it accepts connections. fsync
// is off: the test crashes the server process, not the machine, so the
// operating system still has every committed write.
//
// The port is chosen free just before the first start; should another
// process take it in between (a port race, nothing to do with the code),
// the first start moves to another free port, saying so. Restarts after a
// crash keep the port: the nodes' DSN names it.
func (p *pgInstance) start() {
	p.t.Helper()
	for attempt := 1; ; attempt++ {
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB", p.port, p.dir)
		out, err := p.run("pg_ctl", "-D", p.dataDir(), "-l", filepath.Join(p.dir, "server.log"), "-o", opts, "-w", "-t", "60", "start")
		if err == nil {
			p.started = true
			return
		}
		log, _ := os.ReadFile(filepath.Join(p.dir, "server.log"))
		if !p.started && attempt < 4 && strings.Contains(string(log), "Address already in use") {
			p.t.Logf("PostgreSQL: port %d was taken by another process; moving to a new port", p.port)
			p.port = freePort(p.t)
			continue
		}
		p.t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// crash stops the server the hard way (-m immediate: no checkpoint,
// connections cut; the next start runs crash recovery).
func (p *pgInstance) crash() {
	p.t.Helper()
	if out, err := p.run("pg_ctl", "-D", p.dataDir(), "-m", "immediate", "-w", "stop"); err != nil {
		p.t.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
}

// DSN is the URL of database db on the instance.
func (p *pgInstance) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.port, db)
}

func (p *pgInstance) open(db string) *sql.DB {
	p.t.Helper()
	d, err := sql.Open("pgx", p.DSN(db))
	if err != nil {
		p.t.Fatal(err)
	}
	if err := d.Ping(); err != nil {
		p.t.Fatalf("connect to the test PostgreSQL: %v", err)
	}
	return d
}

// logTail returns the end of the server log, for failure messages.
func (p *pgInstance) logTail() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "server.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return strings.TrimSpace(string(b))
}
