package notify

import (
	"bytes"
	"context"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	"strings"
	texttemplate "text/template"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/i18n"
	"kitaportal/internal/platform/mail"
	"kitaportal/internal/tenant"
)

// Templates renders the portal's mails from web/templates/mail: per kind an HTML body
// (<kind>.html, "body") and a text part with the subject (<kind>.txt, "subject" and
// "body"), inside the shared layouts (layout.html, layout.txt). Texts come from the i18n
// catalogue in the recipient's language; the city's name and colour brand each mail.
type Templates struct {
	html map[string]*htmltemplate.Template
	text map[string]*texttemplate.Template
	cat  *i18n.Catalogue
}

// NewTemplates parses every mail template of fsys (templates/mail/*).
func NewTemplates(fsys fs.FS, cat *i18n.Catalogue) (*Templates, error) {
	t := &Templates{html: map[string]*htmltemplate.Template{}, text: map[string]*texttemplate.Template{}, cat: cat}
	files, _ := fs.Glob(fsys, "templates/mail/*.txt")
	for _, f := range files {
		kind := strings.TrimSuffix(path.Base(f), ".txt")
		if kind == "layout" {
			continue
		}
		// Each kind is parsed with its layout from scratch: the layouts are small, and
		// every kind gets its own "subject" and "body".
		tt, err := texttemplate.New("layout").ParseFS(fsys, "templates/mail/layout.txt", f)
		if err != nil {
			return nil, fmt.Errorf("notify: %s: %w", f, err)
		}
		ht, err := htmltemplate.New("layout").ParseFS(fsys, "templates/mail/layout.html", "templates/mail/"+kind+".html")
		if err != nil {
			return nil, fmt.Errorf("notify: %s.html: %w", kind, err)
		}
		t.text[kind], t.html[kind] = tt, ht
	}
	return t, nil
}

// Brand is how a city signs its mails.
type Brand struct {
	Name         string // the portal's display name, e.g. "Kinderbetreuung Kempten"
	City         string // the official name, e.g. "Stadt Kempten (Allgäu)"
	Color        string // validated #rrggbb
	URL          string // the portal's address
	ContactName  string
	ContactEmail string
	ContactPhone string
	ImprintURL   string // the city's Impressum, linked in every mail's footer
	PrivacyURL   string // its Datenschutzerklärung
}

// BrandOf is the mail branding of tenant t, whose portal is at url.
func BrandOf(t *tenant.Tenant, url string) Brand {
	b := t.Rules.Branding
	return Brand{Name: b.DisplayName, City: t.Name, Color: b.PrimaryColor, URL: url,
		ContactName: b.ContactName, ContactEmail: b.ContactEmail, ContactPhone: b.ContactPhone,
		ImprintURL: b.ImprintURL, PrivacyURL: b.PrivacyURL}
}

// Mail is one mail to render.
type Mail struct {
	Kind string // what the mail is about, e.g. "account_verification"; also its template
	// Template names the template when several kinds share one ("notice"); "" = Kind.
	Template string
	Lang     string
	To       string
	Brand    Brand
	Data     any // what the kind's template shows (links, names, dates)
}

// View is what the mail templates see as ".".
type View struct {
	Lang  string
	Brand Brand
	Data  any
	cat   *i18n.Catalogue
}

// T translates key into the mail's language; kv are placeholder name/value pairs.
func (v View) T(key string, kv ...any) string {
	var args map[string]any
	if len(kv) > 1 {
		args = make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			args[fmt.Sprint(kv[i])] = kv[i+1]
		}
	}
	return v.cat.T(v.Lang, key, args)
}

// Render produces the message. The subject is the text template's "subject".
func (t *Templates) Render(m Mail) (mail.Message, error) {
	name := m.Template
	if name == "" {
		name = m.Kind
	}
	tt, ok := t.text[name]
	if !ok {
		return mail.Message{}, fmt.Errorf("notify: no mail template %q", name)
	}
	v := View{Lang: m.Lang, Brand: m.Brand, Data: m.Data, cat: t.cat}
	var subject, text, html bytes.Buffer
	if err := tt.ExecuteTemplate(&subject, "subject", v); err != nil {
		return mail.Message{}, fmt.Errorf("notify: %s subject: %w", m.Kind, err)
	}
	if err := tt.ExecuteTemplate(&text, "layout", v); err != nil {
		return mail.Message{}, fmt.Errorf("notify: %s text: %w", m.Kind, err)
	}
	if err := t.html[name].ExecuteTemplate(&html, "layout", v); err != nil {
		return mail.Message{}, fmt.Errorf("notify: %s html: %w", m.Kind, err)
	}
	return mail.Message{
		To:      m.To,
		Subject: strings.Join(strings.Fields(subject.String()), " "),
		Text:    text.String(),
		HTML:    html.String(),
		Lang:    m.Lang,
	}, nil
}

// MailData is what most account mails show: whom they address, one link and how long it
// works, and a few facts some kinds add.
type MailData struct {
	Name    string
	URL     string
	Hours   int
	Inviter string
	Role    string
	Kept    bool // account deletion: some data stays as the law requires
}

// Button is the data of the layout's "button" template.
type Button struct{ URL, Color, Label string }

// Button returns the call-to-action for the mail's link.
func (d MailData) Button(color, label string) Button {
	return Button{URL: d.URL, Color: color, Label: label}
}

// Queue renders m and records it in the outbox inside tx (the transaction of the change
// the mail reports), tagged with tenantID.
func (t *Templates) Queue(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, m Mail) error {
	msg, err := t.Render(m)
	if err != nil {
		return err
	}
	var tid *uuid.UUID
	if tenantID != uuid.Nil {
		tid = &tenantID
	}
	return QueueMail(ctx, tx, tid, m.Kind, msg)
}

// Translate returns the text of key in lang (for mail data that needs a label, e.g. a
// role's name).
func (t *Templates) Translate(lang, key string) string { return t.cat.T(lang, key, nil) }

// TranslateArgs is Translate with placeholder arguments.
func (t *Templates) TranslateArgs(lang, key string, args map[string]any) string {
	return t.cat.T(lang, key, args)
}

// Notice is the data of the shared "notice" mail: a subject, a few paragraphs, a list of
// facts and one link. Domains whose mails only differ in their words use it, with the
// words already in the recipient's language.
type Notice struct {
	Subject string
	Name    string // whom the mail addresses
	Lines   []string
	Facts   []Fact
	URL     string
	Action  string // the button's label
}

// Fact is one labelled value of a notice ("Reference: LEI-2026-000042").
type Fact struct{ Label, Value string }

// Button is the call-to-action of a notice.
func (n Notice) Button(color string) Button { return Button{URL: n.URL, Color: color, Label: n.Action} }
