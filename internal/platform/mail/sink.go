package mail

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"time"
)

// Captured is one message the sink received.
type Captured struct {
	From      string    `json:"from"`
	To        []string  `json:"to"`
	Subject   string    `json:"subject"`
	MessageID string    `json:"message_id"`
	Received  time.Time `json:"received"`
	Raw       []byte    `json:"-"`
}

// Body returns the decoded text part (or the whole body for single-part mail).
func (c Captured) Body(contentType string) string { return partBody(c.Raw, contentType) }

// Sink is an SMTP server that keeps the last Max messages in memory. It speaks enough
// SMTP (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for any client, including net/smtp.
type Sink struct {
	ln    net.Listener
	max   int
	mu    sync.Mutex
	msgs  []Captured
	total int
	fail  int // the next fail DATA commands are refused with 451 (tests of retries)
	wg    sync.WaitGroup
}

// StartSink listens on addr (e.g. 127.0.0.1:0) and serves until Close.
func StartSink(addr string, max int) (*Sink, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mail sink: %w", err)
	}
	s := &Sink{ln: ln, max: max}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Addr is where the sink listens.
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// URL is an SMTP_URL for this sink.
func (s *Sink) URL() string { return "smtp://" + s.Addr() }

// Close stops the sink.
func (s *Sink) Close() error {
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

// Messages returns the kept messages, oldest first.
func (s *Sink) Messages() []Captured {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Captured(nil), s.msgs...)
}

// Total counts every message ever received, also those no longer kept.
func (s *Sink) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// FailNext makes the next n deliveries fail with a temporary error (451).
func (s *Sink) FailNext(n int) {
	s.mu.Lock()
	s.fail = n
	s.mu.Unlock()
}

func (s *Sink) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.session(conn)
		}()
	}
}

const maxMessage = 10 << 20

func (s *Sink) session(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Minute))
	tp := textproto.NewConn(conn)
	reply := func(code int, msg string) { _ = tp.PrintfLine("%d %s", code, msg) }
	reply(220, "kitaportal mail sink ready")
	var from string
	var to []string
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			_ = tp.PrintfLine("250-kitaportal mail sink")
			_ = tp.PrintfLine("250-8BITMIME")
			_ = tp.PrintfLine("250 SIZE %d", maxMessage)
		case "HELO":
			reply(250, "kitaportal mail sink")
		case "MAIL":
			from, to = address(arg), nil
			reply(250, "OK")
		case "RCPT":
			if from == "" {
				reply(503, "MAIL first")
				continue
			}
			to = append(to, address(arg))
			reply(250, "OK")
		case "DATA":
			if len(to) == 0 {
				reply(503, "RCPT first")
				continue
			}
			reply(354, "end with <CRLF>.<CRLF>")
			raw, err := io.ReadAll(io.LimitReader(tp.DotReader(), maxMessage+1))
			if err != nil || len(raw) > maxMessage {
				reply(552, "message too large or broken")
				return
			}
			if s.takeFailure() {
				reply(451, "temporary failure (test)")
			} else {
				s.keep(from, to, raw)
				reply(250, "OK queued")
			}
			from, to = "", nil
		case "RSET":
			from, to = "", nil
			reply(250, "OK")
		case "NOOP":
			reply(250, "OK")
		case "QUIT":
			reply(221, "bye")
			return
		default:
			reply(502, "command not implemented")
		}
	}
}

func (s *Sink) takeFailure() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		return true
	}
	return false
}

func (s *Sink) keep(from string, to []string, raw []byte) {
	c := Captured{From: from, To: to, Received: time.Now(), Raw: raw}
	if m, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		dec := new(mime.WordDecoder)
		if subj, err := dec.DecodeHeader(m.Header.Get("Subject")); err == nil {
			c.Subject = subj
		}
		c.MessageID = strings.Trim(m.Header.Get("Message-ID"), "<>")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total++
	s.msgs = append(s.msgs, c)
	if len(s.msgs) > s.max {
		s.msgs = s.msgs[len(s.msgs)-s.max:]
	}
}

// address extracts the mailbox from "FROM:<a@b>" or "TO:<a@b> SIZE=…".
func address(arg string) string {
	_, v, _ := strings.Cut(arg, ":")
	v, _, _ = strings.Cut(strings.TrimSpace(v), " ")
	return strings.Trim(v, "<>")
}

// partBody returns the decoded body of the first part with contentType, or of the whole
// message when it is not multipart.
func partBody(raw []byte, contentType string) string {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ""
	}
	mediaType, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		return ""
	}
	if !strings.HasPrefix(mediaType, "multipart/") {
		return decodeBody(m.Header.Get("Content-Transfer-Encoding"), m.Body)
	}
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if err != nil {
			return ""
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), contentType) {
			// multipart.Reader already decodes quoted-printable parts.
			b, _ := io.ReadAll(p)
			return string(b)
		}
	}
}

func decodeBody(enc string, r io.Reader) string {
	if strings.EqualFold(enc, "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(bufio.NewReader(r))
	if err != nil && !errors.Is(err, io.EOF) {
		return ""
	}
	return string(b)
}
