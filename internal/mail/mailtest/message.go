package mailtest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"regexp"
	"strings"
	"time"
)

// Message is one accepted message, parsed.
type Message struct {
	From string   // envelope sender (MAIL FROM)
	To   []string // envelope recipients (RCPT TO)

	Header    netmail.Header // raw header fields
	Subject   string         // decoded Subject header
	MessageID string         // Message-ID header, with angle brackets
	Text      string         // decoded text/plain body ("" if none)
	HTML      string         // decoded text/html body ("" if none)
	Raw       []byte         // the message as received
	TLS       bool           // whether the session used TLS (STARTTLS)
	Received  time.Time
	// ParseError is set when the MIME structure could not be parsed; only
	// the envelope, Raw and TLS are then filled.
	ParseError error
}

// SentTo reports whether addr is one of the envelope recipients
// (case-insensitive).
func (m Message) SentTo(addr string) bool { return hasFold(m.To, addr) }

// HeaderFrom returns the decoded From header.
func (m Message) HeaderFrom() string { return decodeHeader(m.Header.Get("From")) }

// Code returns the one-time code in the text body (or, failing that, the
// HTML body), or "" if there is none. See ExtractCode.
func (m Message) Code() string {
	if c := ExtractCode(m.Text); c != "" {
		return c
	}
	return ExtractCode(htmlToText(m.HTML))
}

// Links returns the http(s) URLs in the text body and the href targets of
// the HTML body, in order, without duplicates.
func (m Message) Links() []string {
	links := ExtractLinks(m.Text)
	seen := map[string]bool{}
	for _, l := range links {
		seen[l] = true
	}
	for _, h := range hrefRE.FindAllStringSubmatch(m.HTML, -1) {
		l := html.UnescapeString(h[1])
		if !seen[l] {
			seen[l] = true
			links = append(links, l)
		}
	}
	return links
}

// Link returns the first link (see Links) containing substr, or "".
func (m Message) Link(substr string) string {
	for _, l := range m.Links() {
		if strings.Contains(l, substr) {
			return l
		}
	}
	return ""
}

var (
	codeLineRE = regexp.MustCompile(`^[0-9]{4,12}$`)
	codeRE     = regexp.MustCompile(`\b[0-9]{6,12}\b`)
	linkRE     = regexp.MustCompile(`https?://[^\s<>"')\]]+`)
	hrefRE     = regexp.MustCompile(`(?i)href\s*=\s*"([^"]+)"`)
	tagRE      = regexp.MustCompile(`<[^>]*>`)
)

// ExtractCode returns a one-time code from s: the first line holding only
// 4 to 12 digits (how the built-in templates show codes), else the first
// run of 6 to 12 digits; "" if neither exists.
func ExtractCode(s string) string {
	for _, line := range strings.Split(s, "\n") {
		if l := strings.TrimSpace(line); codeLineRE.MatchString(l) {
			return l
		}
	}
	return codeRE.FindString(s)
}

// ExtractLinks returns the http(s) URLs in s, in order, without
// duplicates; trailing sentence punctuation is dropped.
func ExtractLinks(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range linkRE.FindAllString(s, -1) {
		l = strings.TrimRight(l, ".,;:!?")
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

func htmlToText(s string) string {
	s = tagRE.ReplaceAllString(s, "\n")
	return html.UnescapeString(s)
}

func decodeHeader(v string) string {
	d, err := new(mime.WordDecoder).DecodeHeader(v)
	if err != nil {
		return v
	}
	return d
}

// Parse parses a raw RFC 5322 message with MIME parts (multipart/*
// nested, quoted-printable or base64 bodies) into a Message; the envelope
// fields are left empty.
func Parse(raw []byte) (Message, error) {
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, fmt.Errorf("mailtest: read message: %w", err)
	}
	m := Message{
		Header:    msg.Header,
		Subject:   decodeHeader(msg.Header.Get("Subject")),
		MessageID: msg.Header.Get("Message-Id"),
		Raw:       raw,
	}
	if err := m.walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0); err != nil {
		return Message{}, err
	}
	if m.Text == "" && m.HTML == "" {
		return Message{}, errors.New("mailtest: message has no text or HTML body")
	}
	return m, nil
}

func (m *Message) walk(contentType, encoding string, body io.Reader, depth int) error {
	if depth > 10 {
		return errors.New("mailtest: MIME nesting too deep")
	}
	if contentType == "" {
		contentType = "text/plain; charset=us-ascii"
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("mailtest: content type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("mailtest: multipart: %w", err)
			}
			if err := m.walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1); err != nil {
				return err
			}
		}
	}
	var r io.Reader = body
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &newlineStripper{r: body})
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("mailtest: decode %s body: %w", mediaType, err)
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	switch mediaType {
	case "text/plain":
		if m.Text == "" {
			m.Text = text
		}
	case "text/html":
		if m.HTML == "" {
			m.HTML = text
		}
	}
	return nil
}

// newlineStripper drops CR and LF, which base64.NewDecoder does not
// tolerate in every position.
type newlineStripper struct{ r io.Reader }

func (n *newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}
