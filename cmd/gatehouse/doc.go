// Command gatehouse is a self-hosted, multi-tenant identity and sign-up
// service in one binary. `gatehouse serve` runs the server; the other
// subcommands administer the same database directly (docs/cli.md).
//
// # Configuration
//
// Config (config.go) is resolved by every command the same way: defaults,
// then the YAML file (--config), then GATEHOUSE_* variables, then flags;
// then *_FILE secrets are read; then Validate reports every problem at
// once. In dev mode the master key is loaded from, or generated once into,
// <data-dir>/master.key. Config stays in this package: the packages it
// wires get plain values (docs/configuration.md).
//
// # Wiring
//
// openCore (core.go) builds what `serve` and the CLI share:
//
//	store (sqlite.Open | postgres.Open)
//	  -> password.Hasher (argon2id, bounded concurrency)
//	  -> token.Manager (signing keys sealed with the master key)
//	  -> mail.Templates -> mail.Outbox (emails + jobs in the caller's tx)
//	  -> auth.Service (every flow)
//
// Main (serve.go) adds, in Run: the listener (first, so port 0 and busy
// ports are known before anything else), the jobs.Runner with the
// email.send handler (SMTP, the dev sender, or a failing one when no SMTP
// server is configured), the dev seed (--dev, devseed.go, idempotent), and
// the HTTP server: api.New on api.MountPatterns, httpserver.OpsRoutes
// (/healthz, /readyz, /metrics) and, in dev mode only, the dev mailbox.
// Close reverses it: HTTP shutdown (readiness fails, in-flight requests
// finish), the runner drains, the store closes.
//
// Nothing in Main is node-local except the listener, so several serve
// processes can share one PostgreSQL database: jobs are leased through it,
// keys and admin API keys live in it.
//
// # Administration commands
//
// apply.go turns a declarative file into a Plan (create/update/unchanged,
// printed terraform-like) and applies it through the service; the dev seed
// is an apply of a built-in file. admin.go has users, groups, clients,
// pools, keys and signing-keys; users_io.go export and import (JSON lines,
// per-line errors with line numbers, progress bar on a terminal). All of
// them call auth.Service with actor "cli", never the store (the one
// exception is the read-only signing-keys list, which shows key metadata
// the service has no method for).
package main
