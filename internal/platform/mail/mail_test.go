package mail_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"kitaportal/internal/platform/mail"
)

func startSink(t *testing.T) *mail.Sink {
	t.Helper()
	s, err := mail.StartSink("127.0.0.1:0", 100)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSMTPConversationWithTheSink(t *testing.T) {
	t.Parallel()
	sink := startSink(t)
	sender, err := mail.NewSMTP(sink.URL(), "Kita-Portal Bochum <no-reply@bochum.kitaportal.example>")
	if err != nil {
		t.Fatal(err)
	}
	msg := mail.Message{
		ID:      "m-1@kitaportal",
		To:      "Jürgen Müller <juergen@example.org>",
		Subject: "Ihre Vormerkung für Lotta – Bestätigung",
		Text:    "Guten Tag,\n\nwir haben Ihre Vormerkung erhalten. Grüße aus Bochum – äöüß €\n.\nEine Zeile mit Punkt oben.",
		HTML:    "<p>Guten Tag,</p><p>wir haben Ihre Vormerkung erhalten.</p>",
		Lang:    "de",
	}
	if err := sender.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	got := sink.Messages()
	if len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
	m := got[0]
	if m.Subject != msg.Subject || m.MessageID != msg.ID || m.From != "no-reply@bochum.kitaportal.example" || m.To[0] != "juergen@example.org" {
		t.Errorf("envelope/headers: %+v", m)
	}
	if body := m.Body("text/plain"); body != msg.Text {
		t.Errorf("text body changed in transit:\n%q\n%q", body, msg.Text)
	}
	if body := m.Body("text/html"); !strings.Contains(body, "Vormerkung erhalten") {
		t.Errorf("html body: %q", body)
	}
}

func TestTemporaryFailureIsReportedAsRetryable(t *testing.T) {
	t.Parallel()
	sink := startSink(t)
	sender, _ := mail.NewSMTP(sink.URL(), "no-reply@kitaportal.example")
	sink.FailNext(1)
	err := sender.Send(context.Background(), mail.Message{To: "a@example.org", Subject: "x", Text: "y"})
	if err == nil || mail.IsPermanent(err) {
		t.Fatalf("want a temporary error, got %v", err)
	}
	if d := mail.Describe(err); d != "smtp reply 451" {
		t.Errorf("describe: %q", d)
	}
	if err := sender.Send(context.Background(), mail.Message{To: "a@example.org", Subject: "x", Text: "y"}); err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	if sink.Total() != 1 {
		t.Errorf("sink kept %d", sink.Total())
	}
}

func TestUnreachableServer(t *testing.T) {
	t.Parallel()
	sender, _ := mail.NewSMTP("smtp://127.0.0.1:1", "no-reply@kitaportal.example")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := sender.Send(ctx, mail.Message{To: "a@example.org", Subject: "x", Text: "y"})
	if err == nil || mail.IsPermanent(err) {
		t.Fatalf("want a temporary error, got %v", err)
	}
	if strings.Contains(mail.Describe(err), "a@example.org") {
		t.Error("description leaks the address")
	}
}

func TestHeadersCannotBeInjected(t *testing.T) {
	t.Parallel()
	raw, err := mail.Build(mail.Message{To: "a@example.org", From: "b@example.org", Subject: "Hallo\r\nBcc: victim@example.org", Text: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "\r\nBcc:") {
		t.Fatalf("subject injected a header:\n%s", raw)
	}
}
