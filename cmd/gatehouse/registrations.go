package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
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

// viaNote says through which surface, for a decider: "(via console)";
// nothing when it would only repeat the actor ("cli via cli").
func viaNote(actor, via string) string {
	if via == "" || via == actor {
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
	var state, company string
	cmd := group("registrations", "List, show and decide sign-up approval requests",
		a.command(spec{use: "list", short: "List registration requests, newest first", pool: true, args: cobra.NoArgs,
			flags: func(c *cobra.Command) {
				c.Flags().StringVar(&state, "state", "", "only this state: awaiting_verification, pending, approved, denied, expired, no_approver")
				c.Flags().StringVar(&company, "company", "", "only this company")
			},
			show: func(x call) (shown, error) {
				f := auth.RegistrationFilter{State: identity.RegistrationState(state), Company: company}
				regs, err := all(func(tok string) ([]*identity.RegistrationRequest, string, error) {
					return x.svc.ListRegistrations(x.ctx, x.pool.ID, f, 0, tok)
				})
				if err != nil {
					return nil, err
				}
				var rows [][]string
				views := []registrationJSON{}
				for _, r := range regs {
					rows = append(rows, []string{r.ID, string(r.State), r.Email, orDash(firstSet(r.Company, r.CompanyName)), fmtTime(r.CreatedAt), orDash(r.DecidedBy)})
					views = append(views, registrationView(r))
				}
				return table{[]string{"ID", "STATE", "EMAIL", "COMPANY", "CREATED", "DECIDED BY"}, rows, views}, nil
			}}),
		a.command(spec{use: "show <request id>", short: "Show a request and its audit trail", pool: true, args: cobra.ExactArgs(1),
			show: func(x call) (shown, error) {
				d, err := x.svc.GetRegistration(x.ctx, x.pool.ID, x.args[0])
				if err != nil {
					return nil, err
				}
				r := d.Request
				v := registrationView(r)
				var trail []string
				for _, e := range d.Events {
					v.Events = append(v.Events, auditJSON{Time: e.Time, Actor: e.Actor, Via: e.Via, Action: e.Action, IP: e.IP, Detail: e.Detail})
					line := fmt.Sprintf("%s %s by %s", fmtTime(e.Time), e.Action, e.Actor)
					if e.Via != "" && e.Via != e.Actor {
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
				return fields{[][2]string{
					{"ID", r.ID},
					{"State", string(r.State)},
					{"Email", r.Email},
					{"Company (typed)", orDash(r.CompanyName)},
					{"Company", orDash(r.Company)},
					{"Reason", orDash(r.Reason)},
					{"From", orDash(r.IP) + " " + r.UserAgent},
					{"Created", fmtTime(r.CreatedAt)},
					{"Expires", fmtTime(r.ExpiresAt)},
					{"Decided by", orDash(strings.TrimSpace(r.DecidedBy + " " + viaNote(r.DecidedBy, r.DecidedVia)))},
					{"Decided at", fmtTime(r.DecidedAt)},
					{"Audit", strings.Join(trail, "\n")},
				}, v}, nil
			}}))

	for _, d := range []identity.Decision{identity.DecisionApprove, identity.DecisionDeny} {
		var reason string
		cmd.AddCommand(a.command(spec{use: string(d) + " <request id>", pool: true, args: cobra.ExactArgs(1),
			short: strings.ToUpper(string(d[:1])) + string(d[1:]) + " a pending request (the first decision wins)",
			flags: func(c *cobra.Command) { c.Flags().StringVar(&reason, "reason", "", "a note kept with the decision") },
			do: func(x call) (string, error) {
				r, err := x.svc.DecideRegistration(x.ctx, x.pool.ID, x.args[0], d, reason, auth.RequestMeta{UserAgent: "gatehouse-cli"})
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("%s: %s (%s)", r.ID, r.State, r.Email), nil
			}}))
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
	var display, companyGroup, status string
	var domains, approvers []string
	companyFlags := func(c *cobra.Command) {
		c.Flags().StringVar(&display, "display-name", "", "name shown in the sign-up type-ahead (default: the name)")
		c.Flags().StringVar(&companyGroup, "group", "", "group members join (default: the name, spaces as dashes)")
		c.Flags().StringVar(&status, "status", "", "active or disabled")
		c.Flags().StringArrayVar(&domains, "domain", nil, "email domain of the company (repeatable)")
		c.Flags().StringArrayVar(&approvers, "approver", nil, "approver: an email address or user:<username> (repeatable)")
	}
	cmd := group("companies", "Manage a pool's companies (also declared with `gatehouse apply`)",
		a.command(spec{use: "list", short: "List companies", pool: true, args: cobra.NoArgs,
			show: func(x call) (shown, error) {
				cs, err := allCompanies(x.ctx, x.svc, x.pool.ID)
				if err != nil {
					return nil, err
				}
				var rows [][]string
				views := []companyJSON{}
				for _, co := range cs {
					rows = append(rows, []string{co.Name, co.DisplayName, co.Status, co.Group, fmtList(co.EmailDomains), fmtApprovers(co.Approvers)})
					views = append(views, companyView(co))
				}
				return table{[]string{"NAME", "DISPLAY NAME", "STATUS", "GROUP", "DOMAINS", "APPROVERS"}, rows, views}, nil
			}}),
		a.command(spec{use: "show <name>", short: "Show a company", pool: true, args: cobra.ExactArgs(1),
			show: func(x call) (shown, error) {
				co, err := x.svc.GetCompany(x.ctx, x.pool.ID, x.args[0])
				if err != nil {
					return nil, err
				}
				return fields{[][2]string{{"Name", co.Name}, {"Display name", co.DisplayName}, {"Status", co.Status},
					{"Group", co.Group}, {"Email domains", fmtList(co.EmailDomains)}, {"Approvers", fmtApprovers(co.Approvers)}}, companyView(co)}, nil
			}}),
		a.command(spec{use: "create <name>", short: "Create a company (its group is created if missing)", pool: true, args: cobra.ExactArgs(1),
			flags: companyFlags,
			do: func(x call) (string, error) {
				co, err := x.svc.CreateCompany(x.ctx, &identity.Company{PoolID: x.pool.ID, Name: x.args[0], DisplayName: display, Group: companyGroup,
					Status: status, EmailDomains: domains, Approvers: parseApprovers(approvers)})
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("created company %s (group %s)", co.Name, co.Group), nil
			}}),
		a.command(spec{use: "update <name>", short: "Change a company; flags left out keep their value", pool: true, args: cobra.ExactArgs(1),
			flags: companyFlags,
			do: func(x call) (string, error) {
				co, err := x.svc.GetCompany(x.ctx, x.pool.ID, x.args[0])
				if err != nil {
					return "", err
				}
				f := x.cmd.Flags()
				if f.Changed("display-name") {
					co.DisplayName = display
				}
				if f.Changed("group") {
					co.Group = companyGroup
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
				_, err = x.svc.UpdateCompany(x.ctx, co)
				return "updated company " + co.Name, err
			}}),
		a.command(spec{use: "delete <name>", short: "Delete a company (its group and members stay)", pool: true, args: cobra.ExactArgs(1),
			do: func(x call) (string, error) {
				return "deleted company " + x.args[0], x.svc.DeleteCompany(x.ctx, x.pool.ID, x.args[0])
			}}))
	cmd.AddCommand(a.companySSOCommands()...) // companies_sso.go
	return cmd
}
