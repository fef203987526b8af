package application

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/account"
	"kitaportal/internal/authz"
	"kitaportal/internal/care"
	"kitaportal/internal/family"
	"kitaportal/internal/notify"
	"kitaportal/internal/tenant"
)

// What a family hears about its request: a mail to every guardian (in the language of
// their account; German for guardians entered at a facility without an account) and the
// same text in the inbox of every guardian's account. Both are written in the
// transaction of the change, so they exist exactly when the change committed, and the
// mail job is delivered once (notify).

// Notice kinds, also the mails' kinds ("application_<kind>").
const (
	NoticeSubmitted = "submitted"
	NoticeChanged   = "changed"
	NoticeWithdrawn = "withdrawn"
	NoticeStatus    = "status"  // a facility reviewed, refused or proposed
	NoticeWalkIn    = "walk_in" // entered at a facility; carries the linking code
	NoticeImported  = "imported"
)

// tellFamily sends notice kind about a to the family; extra is a reason or a code.
func (s *Service) tellFamily(ctx context.Context, tx bun.IDB, t *tenant.Tenant, familyID uuid.UUID, a *Application, kind, extra string) error {
	gs, err := Guardians(ctx, tx, t.ID, familyID)
	if err != nil {
		return err
	}
	return s.mails.TellFamily(ctx, tx, t, s.links, gs, notify.FamilyNotice{
		Kind: "application_" + kind, Path: "/applications/" + a.ID.String(),
		Word: func(lang string) notify.Notice { return s.familyNotice(t, lang, a, kind, extra) },
		NoAccount: func(lang string, n *notify.Notice) {
			n.URL = s.links.URL(t, "/register") // no account yet: the way in
			n.Action = s.mails.Translate(lang, "mail.application.register")
		},
	})
}

// Guardians are the family's guardians a notice reaches.
func Guardians(ctx context.Context, tx bun.IDB, tenantID, familyID uuid.UUID) ([]notify.Guardian, error) {
	rs, err := family.Recipients(ctx, tx, tenantID, familyID)
	if err != nil {
		return nil, fmt.Errorf("recipients: %w", err)
	}
	out := make([]notify.Guardian, len(rs))
	for i, r := range rs {
		out[i] = notify.Guardian{Name: r.FirstName + " " + r.LastName, Email: r.Email, Language: r.Language, AccountID: r.AccountID}
	}
	return out, nil
}

// familyNotice words notice kind in lang.
func (s *Service) familyNotice(t *tenant.Tenant, lang string, a *Application, kind, extra string) notify.Notice {
	m := s.mails
	tr := func(key string, kv ...any) string { return m.TranslateArgs(lang, key, args(kv...)) }
	child := a.Child.FirstName + " " + a.Child.LastName
	key := "mail.application." + kind
	if kind == NoticeStatus {
		key += "." + extraStatus(extra)
	}
	n := notify.Notice{
		Subject: tr(key+".subject", "reference", a.Reference, "child", child, "portal", t.Rules.Branding.DisplayName),
		Lines:   []string{tr(key+".text", "child", child, "start", a.StartDate, "city", t.Name, "reference", a.Reference)},
		Action:  tr("mail.application.open"),
	}
	switch kind {
	case NoticeSubmitted, NoticeWalkIn, NoticeImported:
		n.Lines = append(n.Lines, tr("mail.application.next."+t.Rules.Allocation.Mode, "months", t.Rules.Offers.LeadMonths,
			"days", t.Rules.Offers.ResponseDays))
		for _, r := range a.Tagespflege {
			n.Lines = append(n.Lines, tr("mail.application.tagespflege", "facility", r.Facility, "office", r.Fachberatung.Name,
				"district", r.District, "email", r.Fachberatung.Email, "phone", r.Fachberatung.Phone))
		}
	case NoticePlaced:
		n.Lines = append(n.Lines, tr("mail.application.placed.where", "facility", extra))
	case NoticeReopened:
		n.Lines = append(n.Lines, tr("mail.application.reopened.why", "facility", extra))
	case NoticeWithdrawn:
		if extra != "" {
			n.Lines = append(n.Lines, tr("mail.application.reason", "reason", extra))
		}
	case NoticeStatus:
		if _, note := splitStatus(extra); note != "" {
			n.Lines = append(n.Lines, tr("mail.application.reason", "reason", note))
		}
	}
	if (kind == NoticeWalkIn || kind == NoticeImported) && extra != "" {
		n.Lines = append(n.Lines, tr("mail.link_code.text", "code", extra))
	}
	if a.Reference != "" {
		n.Facts = append(n.Facts, notify.Fact{Label: tr("application.field.reference"), Value: a.Reference})
	}
	n.Facts = append(n.Facts,
		notify.Fact{Label: tr("application.field.child"), Value: child},
		notify.Fact{Label: tr("application.field.start_date"), Value: a.StartDate.FormatIn(lang)},
		notify.Fact{Label: tr("application.field.care_hours"), Value: tr("application.hours", "hours", a.CareHours)},
		notify.Fact{Label: tr("application.field.status"), Value: tr("application.status." + string(a.Status))})
	for _, c := range a.Choices {
		n.Facts = append(n.Facts, notify.Fact{Label: tr("application.choice.rank", "rank", c.Rank), Value: c.Facility.Name})
	}
	return n
}

// A status notice carries "<choice status>|<facility>|<note>" as its extra.
func statusExtra(status, facility, note string) string { return status + "|" + facility + "|" + note }

func extraStatus(extra string) string {
	st, _ := splitStatus(extra)
	return st
}

func splitStatus(extra string) (status, note string) {
	parts := strings.SplitN(extra, "|", 3)
	status = parts[0]
	if len(parts) == 3 {
		note = parts[2]
	}
	return status, note
}

// routeTagespflege hands every Kindertagespflege choice to its district's Fachberatung:
// the request is in their queue already (their scope is the district's Tagespflege);
// they get a mail at the office address and a notice in each counsellor's inbox. The
// mail carries no names: the record is in the staff area.
func (s *Service) routeTagespflege(ctx context.Context, tx bun.IDB, t *tenant.Tenant, a *Application) error {
	m := s.mails
	for _, c := range a.Choices {
		if !care.IsTagespflege(c.Facility.Type) {
			continue
		}
		d, ok := t.Rules.District(c.Facility.District)
		if !ok {
			continue
		}
		link := "/staff/requests/" + a.ID.String()
		// The office's mail is German; counsellors find it in their inbox in every
		// language of the city, the German one marked as sent.
		words := notify.Wordings(t, func(lang string) notify.Notice {
			return notify.Notice{
				Subject: m.TranslateArgs(lang, "mail.tagespflege_request.subject", map[string]any{"reference": a.Reference, "district": d.Name}),
				Name:    d.Fachberatung.Name,
				Lines:   []string{m.TranslateArgs(lang, "mail.tagespflege_request.text", map[string]any{"facility": c.Facility.Name, "district": d.Name})},
				Facts: []notify.Fact{
					{Label: m.Translate(lang, "application.field.reference"), Value: a.Reference},
					{Label: m.Translate(lang, "application.field.start_date"), Value: a.StartDate.FormatIn(lang)},
					{Label: m.Translate(lang, "application.field.care_hours"), Value: strconv.Itoa(a.CareHours)},
					{Label: m.TranslateArgs(lang, "application.choice.rank", map[string]any{"rank": c.Rank}), Value: c.Facility.Name},
				},
				URL:    s.links.URL(t, link),
				Action: m.Translate(lang, "mail.tagespflege_request.button"),
			}
		})
		n := words["de"]
		if d.Fachberatung.Email != "" {
			if err := m.Queue(ctx, tx, t.ID, notify.Mail{Kind: "tagespflege_request", Template: "notice", Lang: "de",
				To: d.Fachberatung.Email, Brand: s.links.Brand(t), Data: n}); err != nil {
				return err
			}
		}
		holders, err := authz.HoldersInDistrict(ctx, tx, t.ID, authz.RoleCounsellor, d.Key)
		if err != nil {
			return err
		}
		counsellors, err := account.ActiveAmong(ctx, tx, t.ID, holders)
		if err != nil {
			return err
		}
		for _, id := range counsellors {
			e := notify.Entry{Kind: "tagespflege_request", Link: link, Lang: "de", Versions: words}
			if err := notify.DeliverEntry(ctx, tx, t.ID, id, e); err != nil {
				return err
			}
		}
	}
	return nil
}

func jsonOf(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
