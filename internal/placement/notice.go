package placement

import (
	"context"
	"strconv"

	"github.com/uptrace/bun"

	"kitaportal/internal/application"
	"kitaportal/internal/notify"
	"kitaportal/internal/offer"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// What the family hears of its offer: the offer itself, reminders, its expiry or
// withdrawal, the contract; and in a cascade city where its request went next. Inbox and
// mail, in the guardian's language, written with the change.

// Notice kinds (mails "offer_<kind>").
const (
	NoticeOffered   = "offered"
	NoticeReminder  = "reminder"
	NoticeExpired   = "expired"
	NoticeWithdrawn = "withdrawn"
	NoticeAccepted  = "accepted"
	NoticeForwarded = "forwarded"
)

func (s *Service) tell(ctx context.Context, tx bun.IDB, t *tenant.Tenant, p *application.Placing, o *offer.Offer, kind, note string) error {
	if s.mails == nil {
		return nil // a service without mail (benchmarks of the engine alone)
	}
	gs, err := application.Guardians(ctx, tx, t.ID, p.FamilyID)
	if err != nil {
		return err
	}
	return s.mails.TellFamily(ctx, tx, t, s.links, gs, notify.FamilyNotice{
		Kind: "offer_" + kind, Path: "/offers/" + o.ID.String(),
		Word: func(lang string) notify.Notice { return s.offerNotice(t, lang, p, o, kind, note) },
	})
}

func (s *Service) offerNotice(t *tenant.Tenant, lang string, p *application.Placing, o *offer.Offer, kind, note string) notify.Notice {
	tr := func(key string, kv ...any) string {
		args := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			args[kv[i].(string)] = kv[i+1]
		}
		return s.mails.TranslateArgs(lang, key, args)
	}
	child := p.Child.FirstName + " " + p.Child.LastName
	deadline := ""
	if o.ExpiresAt != nil {
		// The deadline is the end of its last day: the day before the moment it ends.
		deadline = date.In(*o.ExpiresAt).AddDays(-1).FormatIn(lang)
	}
	key := "mail.offer." + kind
	n := notify.Notice{
		Subject: tr(key+".subject", "child", child, "facility", p.FacilityName, "portal", t.Rules.Branding.DisplayName),
		Lines: []string{tr(key+".text", "child", child, "facility", p.FacilityName, "start", o.Start.FormatIn(lang),
			"deadline", deadline, "city", t.Name)},
		Action: tr("mail.offer.open"),
	}
	if note != "" {
		n.Lines = append(n.Lines, tr("mail.application.reason", "reason", note))
	}
	n.Facts = []notify.Fact{
		{Label: tr("application.field.child"), Value: child},
		{Label: tr("offer.field.facility"), Value: p.FacilityName},
		{Label: tr("application.field.start_date"), Value: o.Start.FormatIn(lang)},
		{Label: tr("application.field.care_hours"), Value: tr("application.hours", "hours", o.CareHours)},
	}
	if deadline != "" && (kind == NoticeOffered || kind == NoticeReminder) {
		n.Facts = append(n.Facts, notify.Fact{Label: tr("offer.field.deadline"), Value: deadline})
	}
	if p.Reference != "" {
		n.Facts = append(n.Facts, notify.Fact{Label: tr("application.field.reference"), Value: p.Reference})
	}
	return n
}

// tellForwarded tells the family of a cascade request where it went after choice p's
// facility passed (next 0: no choice left).
func (s *Service) tellForwarded(ctx context.Context, tx bun.IDB, t *tenant.Tenant, p *application.Placing, next int) error {
	if s.mails == nil {
		return nil
	}
	a, err := application.Reload(ctx, tx, t, p.ApplicationID)
	if err != nil {
		return err
	}
	nextName := ""
	for _, ch := range a.Choices {
		if ch.Rank == next {
			nextName = ch.Facility.Name
		}
	}
	gs, err := application.Guardians(ctx, tx, t.ID, p.FamilyID)
	if err != nil {
		return err
	}
	return s.mails.TellFamily(ctx, tx, t, s.links, gs, notify.FamilyNotice{
		Kind: "offer_" + NoticeForwarded, Path: "/applications/" + p.ApplicationID.String(),
		Word: func(lang string) notify.Notice {
			child := p.Child.FirstName + " " + p.Child.LastName
			key := "mail.offer.forwarded"
			if next == 0 {
				key += "_none"
			}
			args := map[string]any{"child": child, "facility": p.FacilityName, "next": nextName, "rank": strconv.Itoa(next),
				"days": t.Rules.Allocation.CascadeDays, "city": t.Name}
			return notify.Notice{Subject: s.mails.TranslateArgs(lang, key+".subject", args),
				Lines:  []string{s.mails.TranslateArgs(lang, key+".text", args)},
				Action: s.mails.Translate(lang, "mail.application.open")}
		},
	})
}
