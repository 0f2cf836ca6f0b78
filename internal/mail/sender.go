package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/jobs"
)

// Sender delivers one email. An error wrapped with jobs.Permanent means
// retrying will not help (the server refused the message or recipient);
// any other error is temporary.
type Sender interface {
	Send(ctx context.Context, e *identity.Email) error
}

// DevSender delivers nothing: in development the dev mailbox page reads the
// outbox table, where every email is stored anyway. It logs that an email
// "went out" without its body (which holds codes).
type DevSender struct {
	log *slog.Logger
}

// NewDevSender returns a DevSender logging to log (slog.Default() if nil).
func NewDevSender(log *slog.Logger) *DevSender {
	if log == nil {
		log = slog.Default()
	}
	return &DevSender{log: log}
}

// Send logs the email's metadata and returns nil.
func (d *DevSender) Send(ctx context.Context, e *identity.Email) error {
	d.log.InfoContext(ctx, "mail: dev sender, not delivered (see the dev mailbox)",
		"email_id", e.ID, "pool", e.PoolID, "to", e.To, "template", e.Template, "subject", e.Subject)
	return nil
}

// TLS modes of SMTPConfig.TLS.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS, which is mandatory
	TLSImplicit = "tls"      // TLS from the first byte (SMTPS, usually port 465)
	TLSNone     = "none"     // no encryption: only to a loopback relay
)

// SMTPConfig configures an SMTPSender.
type SMTPConfig struct {
	Host     string
	Port     int // default 587 (starttls), 465 (tls), 25 (none)
	Username string
	Password string
	From     string // header From, e.g. "Example <no-reply@example.com>"
	// TLS is "starttls" (default; the server must offer STARTTLS), "tls"
	// (implicit TLS) or "none" (only allowed for a loopback host).
	TLS     string
	Timeout time.Duration // per connection (default 30s)
	HELO    string        // name sent in EHLO (default: go-mail's, the hostname)
	// RootCAs, if set, replaces the system roots when verifying the
	// server's certificate (a private CA, or a test's self-signed one).
	// Certificate verification can never be turned off.
	RootCAs *x509.CertPool
}

// SMTPSender delivers email through an SMTP relay (go-mail), one
// connection per message.
type SMTPSender struct {
	cfg  SMTPConfig
	from string // bare address, for the Message-ID domain
}

// NewSMTPSender validates cfg and returns a sender. Nothing is dialled yet.
//
// Errors: a missing host or From, an unknown TLS mode, TLS "none" with a
// host that is not loopback, a port out of range.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	if cfg.Host == "" {
		return nil, errors.New("mail: SMTP host is required")
	}
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail: SMTP from address %q: %w", cfg.From, err)
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	switch cfg.TLS {
	case TLSStartTLS:
		if cfg.Port == 0 {
			cfg.Port = 587
		}
	case TLSImplicit:
		if cfg.Port == 0 {
			cfg.Port = 465
		}
	case TLSNone:
		if !isLoopback(cfg.Host) {
			return nil, fmt.Errorf("mail: SMTP TLS %q is only allowed for a loopback host, not %q: use starttls or tls", TLSNone, cfg.Host)
		}
		if cfg.Port == 0 {
			cfg.Port = 25
		}
	default:
		return nil, fmt.Errorf("mail: SMTP TLS mode %q: want starttls, tls or none", cfg.TLS)
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("mail: SMTP port %d out of range", cfg.Port)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	return &SMTPSender{cfg: cfg, from: from.Address}, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// client returns a go-mail client for one message. Its connections are
// dialled by dialer, which closes them when ctx ends: go-mail bounds each
// SMTP command only by its timeout, so without this a send that the relay
// holds would outlive a cancelled job (a discarded email, a shutdown) and
// could still be delivered when the relay answers.
func (s *SMTPSender) client(ctx context.Context) (*gomail.Client, error) {
	// go-mail bounds each connection by its timeout, not by ctx: keep it
	// within the caller's deadline.
	timeout := s.cfg.Timeout
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < timeout {
			timeout = max(left, time.Millisecond)
		}
	}
	tlsConfig := &tls.Config{
		ServerName: s.cfg.Host,
		RootCAs:    s.cfg.RootCAs,
		MinVersion: tls.VersionTLS12,
	}
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.Port),
		gomail.WithTimeout(timeout),
		gomail.WithTLSConfig(tlsConfig),
		gomail.WithDialContextFunc(s.dialer(ctx, tlsConfig)),
	}
	switch s.cfg.TLS {
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		// The dialer does the TLS handshake itself (go-mail only does it
		// with its own dialer). go-mail then sees a *tls.Conn, counts the
		// session as encrypted (for AUTH) and, with this policy, does not
		// ask for STARTTLS, which a relay on an implicit-TLS port does
		// not offer.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.cfg.HELO != "" {
		opts = append(opts, gomail.WithHELO(s.cfg.HELO))
	}
	if s.cfg.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if s.cfg.TLS == TLSNone {
			// go-mail will not send a password in the clear by itself;
			// "none" is only allowed to a loopback relay.
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts,
			gomail.WithSMTPAuth(auth),
			gomail.WithUsername(s.cfg.Username),
			gomail.WithPassword(s.cfg.Password))
	}
	return gomail.NewClient(s.cfg.Host, opts...)
}

// dialer returns go-mail's dial function for one send: a TCP connection
// (wrapped in TLS for implicit TLS) that is closed as soon as ctx, the
// send's context, ends. Closing the socket makes the command in flight
// fail at once, before the relay could accept the message.
func (s *SMTPSender) dialer(ctx context.Context, tlsConfig *tls.Config) gomail.DialContextFunc {
	return func(dctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(dctx, network, addr)
		if err != nil {
			return nil, err
		}
		context.AfterFunc(ctx, func() { _ = conn.Close() })
		if s.cfg.TLS != TLSImplicit {
			return conn, nil
		}
		tc := tls.Client(conn, tlsConfig)
		if err := tc.HandshakeContext(dctx); err != nil {
			_ = conn.Close()
			return nil, err
		}
		return tc, nil
	}
}

// message builds the MIME message: text/plain, with a text/html
// alternative when e has HTML.
func (s *SMTPSender) message(e *identity.Email) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := m.From(s.cfg.From); err != nil {
		return nil, err
	}
	if err := m.To(e.To); err != nil {
		return nil, err
	}
	m.Subject(e.Subject)
	m.SetDate()
	// A stable Message-ID: a retry after a lost acknowledgement carries the
	// same id, so receivers can drop the duplicate.
	domain := s.from[strings.LastIndexByte(s.from, '@')+1:]
	m.SetMessageIDWithValue(fmt.Sprintf("gatehouse.%d.%d@%s", e.ID, e.CreatedAt.UnixMilli(), domain))
	// RFC 3834: an automatic message; auto-responders should stay quiet.
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetBodyString(gomail.TypeTextPlain, e.Text)
	if e.HTML != "" {
		m.AddAlternativeString(gomail.TypeTextHTML, e.HTML)
	}
	return m, nil
}

// Send delivers e. SMTP 5xx answers to the message (MAIL FROM, RCPT TO,
// DATA) and addresses go-mail refuses come back wrapped with
// jobs.Permanent; 4xx answers, network and TLS errors, and failures while
// setting up the session (greeting, EHLO, STARTTLS, AUTH: a relay
// configuration problem, not this message's) are temporary.
func (s *SMTPSender) Send(ctx context.Context, e *identity.Email) error {
	m, err := s.message(e)
	if err != nil {
		return jobs.Permanent(fmt.Errorf("mail: build message %d: %w", e.ID, err))
	}
	c, err := s.client(ctx)
	if err != nil {
		return fmt.Errorf("mail: smtp client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return classify(err)
	}
	return nil
}

// classify marks permanent SMTP failures (see Send).
func classify(err error) error {
	var se *gomail.SendError
	if errors.As(err, &se) {
		switch se.Reason {
		case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
			return jobs.Permanent(fmt.Errorf("mail: smtp: %w", err))
		}
		if code := se.ErrorCode(); code >= 500 && code < 600 {
			return jobs.Permanent(fmt.Errorf("mail: smtp: %w", err))
		}
	}
	return fmt.Errorf("mail: smtp: %w", err)
}

// SMTPStatus returns the SMTP reply code in err (e.g. 451, 550), or 0 if
// err did not come from an SMTP reply to the message.
func SMTPStatus(err error) int {
	var se *gomail.SendError
	if errors.As(err, &se) {
		return se.ErrorCode()
	}
	return 0
}
