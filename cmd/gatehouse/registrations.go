package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// webCSRFKey derives the key of the pages' CSRF tokens from the master key,
// so every node (and a restarted one) accepts the forms it served.
func webCSRFKey(masterKey string) []byte {
	m := hmac.New(sha256.New, []byte(masterKey))
	m.Write([]byte("gatehouse/web/csrf/v1"))
	return m.Sum(nil)
}

// ---- registrations ----

type registrationJSON struct {
	ID          string      `json:"id"`
	State       string      `json:"state"`
	Email       string      `json:"email"`
	Username    string      `json:"username"`
	UserSub     string      `json:"user_sub"`
	CompanyName string      `json:"company_name"`
	Company     string      `json:"company,omitempty"`
	Reason      string      `json:"reason,omitempty"`
	IP          string      `json:"ip,omitempty"`
	UserAgent   string      `json:"user_agent,omitempty"`
	DecidedBy   string      `json:"decided_by,omitempty"`
	DecidedVia  string      `json:"decided_via,omitempty"`
	DecidedAt   *time.Time  `json:"decided_at,omitempty"`
	ExpiresAt   *time.Time  `json:"expires_at,omitempty"`
	CreatedAt   *time.Time  `json:"created_at,omitempty"`
	Events      []auditJSON `json:"events,omitempty"`
}

type auditJSON struct {
	Time   time.Time         `json:"time"`
	Actor  string            `json:"actor"`
	Via    string            `json:"via,omitempty"`
	Action string            `json:"action"`
	IP     string            `json:"ip,omitempty"`
	Detail map[string]string `json:"detail,omitempty"`
}

// viaNote says through which surface, for a decider: "(via console)".
func viaNote(via string) string {
	if via == "" {
		return ""
	}
	return "(via " + via + ")"
}

func tptr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func registrationView(r *identity.RegistrationRequest) registrationJSON {
	return registrationJSON{ID: r.ID, State: string(r.State), Email: r.Email, Username: r.Username, UserSub: r.UserSub,
		CompanyName: r.CompanyName, Company: r.Company, Reason: r.Reason, IP: r.IP, UserAgent: r.UserAgent,
		DecidedBy: r.DecidedBy, DecidedVia: r.DecidedVia, DecidedAt: tptr(r.DecidedAt), ExpiresAt: tptr(r.ExpiresAt), CreatedAt: tptr(r.CreatedAt)}
}

func (a *app) registrationsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "registrations", Short: "List, show and decide sign-up approval requests"}
	var pool, state, company string
	list := &cobra.Command{
		Use:   "list",
		Short: "List registration requests, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pr, err := a.printer()
			if err != nil {
				return err
			}
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				var rows [][]string
				views := []registrationJSON{}
				tok := ""
				for {
					regs, next, err := c.svc.ListRegistrations(ctx, p.ID, store.RegistrationFilter{State: identity.RegistrationState(state), Company: company}, 0, tok)
					if err != nil {
						return err
					}
					for _, r := range regs {
						rows = append(rows, []string{r.ID, string(r.State), r.Email, orDash(firstSet(r.Company, r.CompanyName)), fmtTime(r.CreatedAt), orDash(r.DecidedBy)})
						views = append(views, registrationView(r))
					}
					if next == "" {
						break
					}
					tok = next
				}
				return pr.table([]string{"ID", "STATE", "EMAIL", "COMPANY", "CREATED", "DECIDED BY"}, rows, views)
			})
		},
	}
	addPoolFlag(list, &pool)
	list.Flags().StringVar(&state, "state", "", "only this state: awaiting_verification, pending, approved, denied, expired, no_approver")
	list.Flags().StringVar(&company, "company", "", "only this company")
	cmd.AddCommand(list)

	show := &cobra.Command{
		Use:   "show <request id>",
		Short: "Show a request and its audit trail",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pr, err := a.printer()
			if err != nil {
				return err
			}
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				d, err := c.svc.GetRegistration(ctx, p.ID, args[0])
				if err != nil {
					return err
				}
				r := d.Request
				v := registrationView(r)
				var trail []string
				for _, e := range d.Events {
					v.Events = append(v.Events, auditJSON{Time: e.Time, Actor: e.Actor, Via: e.Via, Action: e.Action, IP: e.IP, Detail: e.Detail})
					line := fmt.Sprintf("%s %s by %s", fmtTime(e.Time), e.Action, e.Actor)
					if e.Via != "" {
						line += " via " + e.Via
					}
					if e.IP != "" {
						line += " from " + e.IP
					}
					if ua := e.Detail["user_agent"]; ua != "" {
						line += " (" + ua + ")"
					}
					trail = append(trail, line)
				}
				return pr.fields([][2]string{
					{"ID", r.ID},
					{"State", string(r.State)},
					{"Email", r.Email},
					{"Company (typed)", orDash(r.CompanyName)},
					{"Company", orDash(r.Company)},
					{"Reason", orDash(r.Reason)},
					{"From", orDash(r.IP) + " " + r.UserAgent},
					{"Created", fmtTime(r.CreatedAt)},
					{"Expires", fmtTime(r.ExpiresAt)},
					{"Decided by", orDash(strings.TrimSpace(r.DecidedBy + " " + viaNote(r.DecidedVia)))},
					{"Decided at", fmtTime(r.DecidedAt)},
					{"Audit", strings.Join(trail, "\n")},
				}, v)
			})
		},
	}
	addPoolFlag(show, &pool)
	cmd.AddCommand(show)

	for _, d := range []identity.Decision{identity.DecisionApprove, identity.DecisionDeny} {
		var reason string
		dc := &cobra.Command{
			Use:   string(d) + " <request id>",
			Short: strings.ToUpper(string(d[:1])) + string(d[1:]) + " a pending request (the first decision wins)",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
					r, err := c.svc.DecideRegistration(ctx, p.ID, args[0], d, reason, auth.RequestMeta{UserAgent: "gatehouse-cli"})
					if err != nil {
						return err
					}
					fmt.Fprintf(a.stdout, "%s: %s (%s)\n", r.ID, r.State, r.Email)
					return nil
				})
			},
		}
		addPoolFlag(dc, &pool)
		dc.Flags().StringVar(&reason, "reason", "", "a note kept with the decision")
		cmd.AddCommand(dc)
	}
	return cmd
}

func firstSet(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// ---- companies ----

type companyJSON struct {
	Name         string              `json:"name"`
	DisplayName  string              `json:"display_name"`
	EmailDomains []string            `json:"email_domains"`
	Group        string              `json:"group"`
	Approvers    []identity.Approver `json:"approvers"`
	Status       string              `json:"status"`
}

func companyView(c *identity.Company) companyJSON {
	return companyJSON{Name: c.Name, DisplayName: c.DisplayName, EmailDomains: c.EmailDomains, Group: c.Group, Approvers: c.Approvers, Status: c.Status}
}

func fmtApprovers(l []identity.Approver) string {
	var out []string
	for _, a := range l {
		if a.AwaitingAccount {
			out = append(out, a.Email+" (no account yet)")
		} else if a.Email != "" {
			out = append(out, a.Email)
		} else {
			out = append(out, "user:"+a.Sub)
		}
	}
	return fmtList(out)
}

// parseApprovers reads "--approver" values: an email address, or
// "user:<username or sub>".
func parseApprovers(vals []string) []identity.Approver {
	var out []identity.Approver
	for _, v := range vals {
		if u, ok := strings.CutPrefix(v, "user:"); ok {
			out = append(out, identity.Approver{Sub: u})
		} else {
			out = append(out, identity.Approver{Email: v})
		}
	}
	return out
}

func (a *app) companiesCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "companies", Short: "Manage a pool's companies (also declared with `gatehouse apply`)"}
	var pool string
	list := &cobra.Command{
		Use: "list", Short: "List companies", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pr, err := a.printer()
			if err != nil {
				return err
			}
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				cs, err := allCompanies(ctx, c.svc, p.ID)
				if err != nil {
					return err
				}
				rows := [][]string{}
				views := []companyJSON{}
				for _, co := range cs {
					rows = append(rows, []string{co.Name, co.DisplayName, co.Status, co.Group, fmtList(co.EmailDomains), fmtApprovers(co.Approvers)})
					views = append(views, companyView(co))
				}
				return pr.table([]string{"NAME", "DISPLAY NAME", "STATUS", "GROUP", "DOMAINS", "APPROVERS"}, rows, views)
			})
		},
	}
	addPoolFlag(list, &pool)
	cmd.AddCommand(list)

	show := &cobra.Command{
		Use: "show <name>", Short: "Show a company", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pr, err := a.printer()
			if err != nil {
				return err
			}
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				co, err := c.svc.GetCompany(ctx, p.ID, args[0])
				if err != nil {
					return err
				}
				return pr.fields([][2]string{{"Name", co.Name}, {"Display name", co.DisplayName}, {"Status", co.Status},
					{"Group", co.Group}, {"Email domains", fmtList(co.EmailDomains)}, {"Approvers", fmtApprovers(co.Approvers)}}, companyView(co))
			})
		},
	}
	addPoolFlag(show, &pool)
	cmd.AddCommand(show)

	var display, group, status string
	var domains, approvers []string
	create := &cobra.Command{
		Use: "create <name>", Short: "Create a company (its group is created if missing)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				co, err := c.svc.CreateCompany(ctx, &identity.Company{PoolID: p.ID, Name: args[0], DisplayName: display, Group: group,
					Status: status, EmailDomains: domains, Approvers: parseApprovers(approvers)})
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "created company %s (group %s)\n", co.Name, co.Group)
				return nil
			})
		},
	}
	update := &cobra.Command{
		Use: "update <name>", Short: "Change a company; flags left out keep their value", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				co, err := c.svc.GetCompany(ctx, p.ID, args[0])
				if err != nil {
					return err
				}
				f := cmd.Flags()
				if f.Changed("display-name") {
					co.DisplayName = display
				}
				if f.Changed("group") {
					co.Group = group
				}
				if f.Changed("status") {
					co.Status = status
				}
				if f.Changed("domain") {
					co.EmailDomains = domains
				}
				if f.Changed("approver") {
					co.Approvers = parseApprovers(approvers)
				}
				if _, err := c.svc.UpdateCompany(ctx, co); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "updated company %s\n", co.Name)
				return nil
			})
		},
	}
	for _, c := range []*cobra.Command{create, update} {
		addPoolFlag(c, &pool)
		c.Flags().StringVar(&display, "display-name", "", "name shown in the sign-up type-ahead (default: the name)")
		c.Flags().StringVar(&group, "group", "", "group members join (default: the name, spaces as dashes)")
		c.Flags().StringVar(&status, "status", "", "active or disabled")
		c.Flags().StringArrayVar(&domains, "domain", nil, "email domain of the company (repeatable)")
		c.Flags().StringArrayVar(&approvers, "approver", nil, "approver: an email address or user:<username> (repeatable)")
		cmd.AddCommand(c)
	}
	del := &cobra.Command{
		Use: "delete <name>", Short: "Delete a company (its group and members stay)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withPool(cmd, &pool, func(ctx context.Context, c *core, p *identity.Pool) error {
				if err := c.svc.DeleteCompany(ctx, p.ID, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "deleted company %s\n", args[0])
				return nil
			})
		},
	}
	addPoolFlag(del, &pool)
	cmd.AddCommand(del)
	return cmd
}
