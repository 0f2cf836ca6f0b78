package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Populate fills a pool with generated users for measurements at scale
// (`gatehouse dev populate`, the million-user query-plan tests): multi-row
// INSERTs, PopulateBatch users per transaction, no hashing (every user gets
// PasswordHash, one hash computed once by the caller).
//
// User i (from Start) is user<i>@co<i/1000>.example.com (co<i/PerCompany>
// with PerCompany), CONFIRMED (every
// 50th UNCONFIRMED, every 97th disabled), with given_name, family_name and
// custom:company_name; one company per thousand users (co<k>, with its
// email domain and group; PerCompany users each instead, k = i/PerCompany,
// for pools of many companies); every third user in the group "members" and
// every user in its company's group; every hundredth has a pending
// registration request. created_at steps back one second per user from
// Now, so lists have a stable order.
type PopulateOptions struct {
	PoolID       string
	Users        int
	Start        int // first index (to add to an earlier run)
	PasswordHash string
	Now          time.Time
	// PerCompany is the users per generated company (0: 1,000).
	PerCompany int
	// Progress, if set, is called after each batch with the users done.
	Progress func(done int)
}

// PopulateBatch is the users per transaction.
const PopulateBatch = 20000

// Populate implements the generator described at PopulateOptions.
func (db *DB) Populate(ctx context.Context, o PopulateOptions) (rerr error) {
	if o.Users <= 0 || o.PoolID == "" {
		return fmt.Errorf("populate: a pool and a positive number of users are required")
	}
	ms0 := ms(o.Now)
	per := o.PerCompany
	if per <= 0 {
		per = 1000
	}
	for _, stmt := range db.d.BulkLoad {
		if _, err := db.write.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("populate: %s: %w", stmt, err)
		}
	}
	defer func() {
		for _, stmt := range db.d.BulkLoadEnd {
			// Restored even when the load failed or was cancelled.
			if _, err := db.write.ExecContext(context.WithoutCancel(ctx), stmt); err != nil && rerr == nil {
				rerr = fmt.Errorf("populate: %s: %w", stmt, err)
			}
		}
	}()
	if err := db.inTx(ctx, func(q *querier) error {
		_, err := q.GetGroup(ctx, o.PoolID, "members")
		if err == nil {
			return nil
		}
		return q.CreateGroup(ctx, &identity.Group{PoolID: o.PoolID, Name: "members", Description: "populated users",
			CreatedAt: o.Now, UpdatedAt: o.Now})
	}); err != nil {
		return fmt.Errorf("populate: group: %w", err)
	}
	for lo := o.Start; lo < o.Start+o.Users; lo += PopulateBatch {
		hi := min(lo+PopulateBatch, o.Start+o.Users)
		err := db.inTx(ctx, func(q *querier) error {
			for _, stmt := range db.d.BulkTx {
				if _, err := q.exec(ctx, stmt); err != nil {
					return err
				}
			}
			var users, attrs, members, companies, domains, groups, regs [][]any
			for i := lo; i < hi; i++ {
				co := i / per
				coName := fmt.Sprintf("co%d", co)
				if i%per == 0 || i == lo {
					if _, err := q.GetCompany(ctx, o.PoolID, coName); err != nil {
						companies = append(companies, []any{o.PoolID, nameKey(coName), coName, "Company " + coName,
							store.FoldName("Company " + coName), coName, "[]", identity.CompanyActive, ms0, ms0})
						domains = append(domains, []any{o.PoolID, coName + ".example.com", nameKey(coName)})
						groups = append(groups, []any{o.PoolID, coName, "company " + coName, ms0, ms0})
					}
				}
				sub := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
				email := fmt.Sprintf("user%d@%s.example.com", i, coName)
				status, enabled := string(identity.StatusConfirmed), 1
				if i%50 == 49 {
					status = string(identity.StatusUnconfirmed)
				}
				if i%97 == 96 {
					enabled = 0
				}
				at := ms0 - int64(i)*1000
				users = append(users, []any{o.PoolID, sub, email, email, email, 1, status, enabled, o.PasswordHash, at, at, at})
				attrs = append(attrs,
					[]any{o.PoolID, sub, "given_name", fmt.Sprintf("Given%d", i%5000)},
					[]any{o.PoolID, sub, "family_name", fmt.Sprintf("Family%d", i%20000)},
					[]any{o.PoolID, sub, "custom:company_name", coName})
				members = append(members, []any{o.PoolID, coName, sub})
				if i%3 == 0 {
					members = append(members, []any{o.PoolID, "members", sub})
				}
				if i%100 == 99 {
					regs = append(regs, []any{fmt.Sprintf("reg_pop_%s_%d", o.PoolID, i), o.PoolID, sub, email, email, coName, nameKey(coName), coName,
						string(identity.RegPending), at, at, at})
				}
			}
			for _, ins := range []struct {
				head string
				rows [][]any
			}{
				{`INSERT INTO companies (pool_id, name_key, name, display_name, search_key, group_name, approvers, status, created_at, updated_at)`, companies},
				{`INSERT INTO company_domains (pool_id, domain, name_key)`, domains},
				{`INSERT INTO user_groups (pool_id, name, description, created_at, updated_at)`, groups},
				{`INSERT INTO users (pool_id, sub, username, email, email_unique, email_verified, status, enabled, password_hash,
					password_changed_at, created_at, updated_at)`, users},
				{`INSERT INTO user_attributes (pool_id, sub, name, value)`, attrs},
				{`INSERT INTO group_members (pool_id, group_name, sub)`, members},
				{`INSERT INTO registrations (id, pool_id, user_sub, username, email, company_name, company_key, company, state,
					expires_at, created_at, updated_at)`, regs},
			} {
				if err := q.insertRows(ctx, ins.head, ins.rows); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("populate: users %d-%d: %w", lo, hi-1, err)
		}
		if o.Progress != nil {
			o.Progress(hi - o.Start)
		}
	}
	if db.d.Name == "postgres" {
		// Statistics now, not when autovacuum gets to it: without them the
		// planner walks the fresh tables in list order.
		if _, err := db.write.ExecContext(ctx, `ANALYZE`); err != nil {
			return fmt.Errorf("populate: analyze: %w", err)
		}
	}
	return nil
}

// insertRows inserts rows with multi-row VALUES statements of at most
// 30,000 parameters (under both databases' limits).
func (q *querier) insertRows(ctx context.Context, head string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	cols := len(rows[0])
	per := max(1, 30000/cols)
	tuple := "(?" + strings.Repeat(",?", cols-1) + ")"
	for lo := 0; lo < len(rows); lo += per {
		hi := min(lo+per, len(rows))
		args := make([]any, 0, (hi-lo)*cols)
		for _, r := range rows[lo:hi] {
			args = append(args, r...)
		}
		stmt := head + " VALUES " + tuple + strings.Repeat(","+tuple, hi-lo-1)
		if _, err := q.exec(ctx, stmt, args...); err != nil {
			return err
		}
	}
	return nil
}
