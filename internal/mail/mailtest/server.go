// Package mailtest runs a real SMTP server (emersion/go-smtp) on 127.0.0.1
// inside a test, records the messages it accepts, parses their MIME parts,
// can refuse deliveries with 4xx or 5xx replies on demand, and can stall a
// delivery (hold it without an answer, like a hung relay) until the test
// releases it. End-to-end
// tests use it with mail.SMTPSender (TLS "none", or "starttls" with
// Server.RootCAs after WithTLS).
//
//	srv := mailtest.StartServer(t)
//	sender, err := mail.NewSMTPSender(srv.SMTPConfig("no-reply@example.com"))
//	... run the flow ...
//	msg := srv.WaitFor(t, "jo@example.com", 10*time.Second)
//	code := msg.Code()
package mailtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/gatehouse-id/gatehouse/internal/mail"
)

// Stage is the SMTP command at which an injected failure is answered.
type Stage string

const (
	StageMail Stage = "MAIL" // MAIL FROM
	StageRcpt Stage = "RCPT" // RCPT TO
	StageData Stage = "DATA" // after the message content
)

// Option configures StartServer.
type Option func(*Server)

// WithTLS makes the server offer STARTTLS with a self-signed certificate
// for 127.0.0.1 and localhost; Server.RootCAs trusts it.
func WithTLS() Option { return func(s *Server) { s.useTLS = true } }

// WithImplicitTLS makes the server speak TLS from the first byte (as
// SMTPS on port 465 does) with the certificate of WithTLS; SMTPConfig then
// asks for TLS "tls".
func WithImplicitTLS() Option { return func(s *Server) { s.useTLS, s.implicitTLS = true, true } }

// WithAuth makes the server offer AUTH PLAIN and require these
// credentials before MAIL FROM.
func WithAuth(username, password string) Option {
	return func(s *Server) { s.user, s.pass = username, password }
}

// Server is a running test SMTP server. All methods are safe for
// concurrent use.
type Server struct {
	// Addr is "127.0.0.1:port"; Host and Port are its parts.
	Addr string
	Host string
	Port int
	// RootCAs trusts the server's certificate (WithTLS only).
	RootCAs *x509.CertPool

	useTLS      bool
	implicitTLS bool
	user, pass  string
	srv         *smtp.Server

	mu       sync.Mutex
	cond     *sync.Cond
	msgs     []Message
	taken    map[int]bool
	failures []failure
	attempts int

	stallStage Stage
	stallLeft  int    // transactions still to stall at stallStage (<0: all)
	stalled    int    // transactions waiting in a stall now
	released   uint64 // bumped by Release; a stalled transaction waits for a change
	closed     bool
}

type failure struct {
	stage   Stage
	code    int
	message string
	times   int // <0: forever
}

// StartServer starts a server on 127.0.0.1:0 and stops it when the test
// ends.
func StartServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{taken: map[int]bool{}}
	s.cond = sync.NewCond(&s.mu)
	for _, o := range opts {
		o(s)
	}
	be := smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: s, conn: c}, nil
	})
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 50
	srv.AllowInsecureAuth = !s.useTLS
	srv.EnableSMTPUTF8 = true
	if s.useTLS {
		cert, pool, err := selfSigned()
		if err != nil {
			t.Fatalf("mailtest: certificate: %v", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		s.RootCAs = pool
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	if s.implicitTLS {
		l = tls.NewListener(l, srv.TLSConfig)
	}
	s.srv = srv
	s.Addr = l.Addr().String()
	s.Host = "127.0.0.1"
	s.Port = l.Addr().(*net.TCPAddr).Port
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		// Close may run before Serve registered the listener; closing it
		// here too makes Serve return in every case.
		_ = l.Close()
		<-done
		s.mu.Lock()
		s.closed = true
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	return s
}

// Fail makes the next n deliveries answer code (e.g. 451 or 550) with
// message at stage; n < 0 fails every delivery until ClearFailures.
// Failures queue up: a later Fail applies after the earlier ones are used.
func (s *Server) Fail(stage Stage, code int, message string, n int) {
	if n == 0 {
		return
	}
	if message == "" {
		message = fmt.Sprintf("injected failure %d", code)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, failure{stage: stage, code: code, message: message, times: n})
}

// Stall makes the next n transactions that reach stage wait there without
// an answer until Release (or the end of the test), as a hung relay does;
// n < 0 stalls every transaction until Release. A stall at StageMail or
// StageRcpt comes before the message content, so a client that gives up
// during it delivers nothing. A stall at StageData comes before the
// content is read: what the client sent before giving up may still arrive.
func (s *Server) Stall(stage Stage, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stallStage, s.stallLeft = stage, n
}

// Stalled returns how many transactions wait in a stall now.
func (s *Server) Stalled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stalled
}

// WaitStalled waits until at least n transactions wait in a stall; it
// fails the test if that does not happen within timeout.
func (s *Server) WaitStalled(t testing.TB, n int, timeout time.Duration) {
	t.Helper()
	timer := time.AfterFunc(timeout, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer timer.Stop()
	deadline := time.Now().Add(timeout)
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.stalled < n {
		if !time.Now().Before(deadline) || s.closed {
			t.Fatalf("mailtest: %d transactions stalled, want %d (within %v)", s.stalled, n, timeout)
		}
		s.cond.Wait()
	}
}

// Release lets every stalled transaction go on and ends the stall (no
// later transaction stalls until the next Stall).
func (s *Server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stallLeft = 0
	s.released++
	s.cond.Broadcast()
}

// stall holds the transaction at stage while a stall applies to it.
// Called with s.mu held; it waits on s.cond.
func (s *Server) stall(stage Stage) {
	if s.stallLeft == 0 || s.stallStage != stage {
		return
	}
	if s.stallLeft > 0 {
		s.stallLeft--
	}
	gen := s.released
	s.stalled++
	s.cond.Broadcast()
	for s.released == gen && !s.closed {
		s.cond.Wait()
	}
	s.stalled--
	s.cond.Broadcast()
}

// ClearFailures removes every pending injected failure.
func (s *Server) ClearFailures() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = nil
}

// Attempts returns how many transactions reached MAIL FROM, accepted or not.
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// injected returns the failure to answer at stage, consuming one use.
// Called with s.mu held.
func (s *Server) injected(stage Stage) error {
	if len(s.failures) == 0 || s.failures[0].stage != stage {
		return nil
	}
	f := &s.failures[0]
	err := &smtp.SMTPError{Code: f.code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: f.message}
	if f.times > 0 {
		f.times--
		if f.times == 0 {
			s.failures = s.failures[1:]
		}
	}
	return err
}

// Messages returns every accepted message, in order of arrival.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// MessagesTo returns the accepted messages with to among the recipients
// (case-insensitive).
func (s *Server) MessagesTo(to string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		if m.SentTo(to) {
			out = append(out, m)
		}
	}
	return out
}

// WaitFor returns the oldest message to `to` that no earlier WaitFor call
// returned, waiting up to timeout for it to arrive; it fails the test if
// none does. So two WaitFor calls for one address return two different
// messages, in order.
func (s *Server) WaitFor(t testing.TB, to string, timeout time.Duration) Message {
	t.Helper()
	m, ok := s.Next(to, timeout)
	if !ok {
		var got []string
		for _, m := range s.Messages() {
			got = append(got, fmt.Sprintf("%v %q", m.To, m.Subject))
		}
		t.Fatalf("mailtest: no new message to %s within %v; received: %v", to, timeout, got)
	}
	return m
}

// Next is WaitFor without a test: it reports false on timeout.
func (s *Server) Next(to string, timeout time.Duration) (Message, bool) {
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer timer.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		for i, m := range s.msgs {
			if !s.taken[i] && m.SentTo(to) {
				s.taken[i] = true
				return m, true
			}
		}
		if !time.Now().Before(deadline) {
			return Message{}, false
		}
		s.cond.Wait()
	}
}

// SMTPConfig returns a mail.SMTPConfig for this server: TLS "starttls"
// with RootCAs after WithTLS, "tls" with RootCAs after WithImplicitTLS,
// else "none"; the credentials of WithAuth.
func (s *Server) SMTPConfig(from string) mail.SMTPConfig {
	cfg := mail.SMTPConfig{
		Host: s.Host, Port: s.Port, From: from, TLS: mail.TLSNone,
		Username: s.user, Password: s.pass, Timeout: 10 * time.Second,
	}
	if s.useTLS {
		cfg.TLS = mail.TLSStartTLS
		cfg.RootCAs = s.RootCAs
	}
	if s.implicitTLS {
		cfg.TLS = mail.TLSImplicit
	}
	return cfg
}

type session struct {
	srv    *Server
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	if ss.srv.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.srv.user || password != ss.srv.pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Invalid credentials"}
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.srv.user != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.srv.mu.Lock()
	defer ss.srv.mu.Unlock()
	ss.srv.attempts++
	ss.srv.stall(StageMail)
	if err := ss.srv.injected(StageMail); err != nil {
		return err
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.srv.mu.Lock()
	defer ss.srv.mu.Unlock()
	ss.srv.stall(StageRcpt)
	if err := ss.srv.injected(StageRcpt); err != nil {
		return err
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	ss.srv.mu.Lock()
	ss.srv.stall(StageData)
	ss.srv.mu.Unlock()
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.srv.mu.Lock()
	defer ss.srv.mu.Unlock()
	if err := ss.srv.injected(StageData); err != nil {
		return err
	}
	m, perr := Parse(raw)
	if perr != nil {
		m = Message{Raw: raw, ParseError: perr}
	}
	m.From = ss.from
	m.To = append([]string(nil), ss.to...)
	_, m.TLS = ss.conn.TLSConnectionState()
	m.Received = time.Now()
	ss.srv.msgs = append(ss.srv.msgs, m)
	ss.srv.cond.Broadcast()
	return nil
}

func (ss *session) Reset() {
	ss.from = ""
	ss.to = nil
}

func (ss *session) Logout() error { return nil }

// selfSigned makes an ECDSA certificate for 127.0.0.1, ::1 and localhost,
// and a pool trusting it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "mailtest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}

// hasFold reports whether list holds s, case-insensitively.
func hasFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
