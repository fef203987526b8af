// Package mail builds MIME messages and delivers them over SMTP. Sink is a small SMTP
// server that captures mail for local runs and tests, so every test speaks real SMTP.
package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strings"
	"time"
)

// Message is one mail with a text and an optional HTML body.
type Message struct {
	ID      string // Message-ID without angle brackets; also the delivery's idempotency key
	From    string // "Name <addr>"; empty = the sender's default
	To      string
	ReplyTo string
	Subject string
	Text    string
	HTML    string
	Date    time.Time
	Lang    string // Content-Language
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SMTP delivers through one SMTP server.
type SMTP struct {
	addr    string
	host    string
	auth    smtp.Auth
	from    string
	timeout time.Duration
}

// NewSMTP parses smtp://user:pass@host:port; from is the default sender.
func NewSMTP(rawURL, from string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "smtp" || u.Port() == "" {
		return nil, errors.New("mail: SMTP URL must look like smtp://user:pass@host:port")
	}
	if _, err := mail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("mail: sender %q: %w", from, err)
	}
	s := &SMTP{addr: u.Host, host: u.Hostname(), from: from, timeout: 30 * time.Second}
	if u.User != nil {
		pass, _ := u.User.Password()
		s.auth = smtp.PlainAuth("", u.User.Username(), pass, u.Hostname())
	}
	return s, nil
}

// Send runs one SMTP conversation for m. STARTTLS is used when the server offers it.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if m.From == "" {
		m.From = s.from
	}
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return fmt.Errorf("mail: from: %w", err)
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return fmt.Errorf("mail: to: %w", err)
	}
	body, err := Build(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("mail: connect: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("mail: greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello("kitaportal"); err != nil {
		return fmt.Errorf("mail: hello: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}); err != nil {
			return fmt.Errorf("mail: starttls: %w", err)
		}
	}
	if s.auth != nil {
		if err := c.Auth(s.auth); err != nil {
			return fmt.Errorf("mail: auth: %w", err)
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("mail: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to.Address); err != nil {
		return fmt.Errorf("mail: RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mail: DATA: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("mail: write: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail: end of data: %w", err)
	}
	return c.Quit()
}

// IsPermanent tells whether an SMTP error will not go away by retrying (5xx reply).
func IsPermanent(err error) bool {
	var te *textproto.Error
	return errors.As(err, &te) && te.Code >= 500
}

// Build renders m as an RFC 5322 message: multipart/alternative when it has HTML,
// quoted-printable UTF-8 bodies, encoded headers.
func Build(m Message) ([]byte, error) {
	if m.Date.IsZero() {
		m.Date = time.Now()
	}
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", encodeAddress(m.From))
	header("To", encodeAddress(m.To))
	if m.ReplyTo != "" {
		header("Reply-To", encodeAddress(m.ReplyTo))
	}
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", m.Date.Format(time.RFC1123Z))
	if m.ID != "" {
		header("Message-ID", "<"+m.ID+">")
	}
	if m.Lang != "" {
		header("Content-Language", m.Lang)
	}
	header("MIME-Version", "1.0")
	header("Auto-Submitted", "auto-generated")
	if m.HTML == "" {
		header("Content-Type", "text/plain; charset=utf-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		return b.Bytes(), writeQP(&b, m.Text)
	}
	mw := multipart.NewWriter(&b)
	header("Content-Type", "multipart/alternative; boundary="+mw.Boundary())
	b.WriteString("\r\n")
	for _, part := range []struct{ typ, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(part.body)); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeQP(b *bytes.Buffer, s string) error {
	qp := quotedprintable.NewWriter(b)
	if _, err := qp.Write([]byte(s)); err != nil {
		return err
	}
	return qp.Close()
}

func encodeAddress(s string) string {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return strings.NewReplacer("\r", "", "\n", "").Replace(s)
	}
	return a.String() // encodes non-ASCII names
}

// Describe summarises a delivery error without the server's reply text, which can quote
// the recipient's address: safe for logs and job errors.
func Describe(err error) string {
	var te *textproto.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &te):
		return fmt.Sprintf("smtp reply %d", te.Code)
	case errors.Is(err, context.DeadlineExceeded):
		return "smtp timeout"
	default:
		var ne net.Error
		if errors.As(err, &ne) {
			return "smtp connection failed"
		}
		return "smtp error"
	}
}
