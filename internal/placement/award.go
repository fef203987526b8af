package placement

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/application"
	"kitaportal/internal/availability"
	"kitaportal/internal/offer"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// Award is a seat a central allocation round gives: the request's choice of that rank.
type Award struct {
	ApplicationID uuid.UUID
	Rank          int
}

// Refusal is an award that cannot be made, with the code of why (the request was
// withdrawn or placed since, or the facility has no seat left for it).
type Refusal struct {
	ApplicationID uuid.UUID `json:"application_id"`
	Code          string    `json:"code"`
}

// Award makes the offers of a published round in tx, the round's transaction: every
// award or none. Each offer goes out as a facility's would (prepared until the release
// day, or open with the city's deadline and reminders) and the family is told. When any
// award cannot be made the answer lists them all and the caller rolls back; the seats
// are checked once per facility after all offers are in, so a round never overbooks.
// by is the case worker who published (uuid.Nil: the system, for an automatic
// follow-up). It answers the offer id per request.
func (s *Service) Award(ctx context.Context, tx bun.Tx, t *tenant.Tenant, by uuid.UUID, awards []Award, now time.Time) (map[uuid.UUID]uuid.UUID, []Refusal, error) {
	type made struct {
		o *offer.Offer
		p *application.Placing
	}
	var refused []Refusal
	var all []made
	facilities := map[uuid.UUID]bool{}
	actor := offer.Actor{Kind: "staff", ID: by}
	if by == uuid.Nil { // an automatic follow-up run
		actor = offer.Actor{Kind: "system"}
	}
	for _, a := range awards {
		p, err := application.LoadPlacing(ctx, tx, t, a.ApplicationID, a.Rank)
		if err != nil {
			refused = append(refused, Refusal{a.ApplicationID, "offer_choice_not_open"})
			continue
		}
		if !offerable(p) {
			refused = append(refused, Refusal{a.ApplicationID, "offer_choice_not_open"})
			continue
		}
		o := &offer.Offer{ID: uuid.Must(uuid.NewV7()), ApplicationID: p.ApplicationID, ChoiceRank: p.Rank, ChildID: p.ChildID,
			FacilityID: p.FacilityID, CareHours: p.CareHours, Start: p.Start, CreatedAt: now, MadeBy: &by}
		if release := ReleaseDay(t, p.Start); date.In(now).Before(release) {
			o.Status, o.OpensAt = offer.StatusPrepared, ptr(release.Time())
		} else {
			o.Status, o.ExpiresAt = offer.StatusOpen, ptr(Deadline(t, now))
		}
		if err := offer.Insert(ctx, tx, t.ID, o, actor, ""); err != nil {
			return nil, nil, err
		}
		note := p.FacilityName + ": " + string(o.Status)
		if err := application.OfferMade(ctx, tx, t.ID, p, o.Status != offer.StatusOpen, application.Actor{Kind: actor.Kind, ID: actor.ID}, note, now); err != nil {
			return nil, nil, err
		}
		facilities[p.FacilityID] = true
		all = append(all, made{o, p})
	}
	if len(refused) > 0 {
		return nil, refused, nil
	}
	ids := make([]uuid.UUID, 0, len(facilities))
	for f := range facilities {
		ids = append(ids, f)
	}
	if err := availability.Refresh(ctx, tx, t, date.In(now), ids...); err != nil {
		return nil, nil, err
	}
	// One lookup per band, scope and start for all facilities the round fills there.
	type cell struct {
		band  string
		hours int
		start date.Date
	}
	byCell := map[cell][]made{}
	for _, m := range all {
		band, ok := t.Rules.Calendar().BandAt(m.p.Child.BirthDate, m.o.Start)
		if !ok {
			refused = append(refused, Refusal{m.p.ApplicationID, "offer_no_seat"})
			continue
		}
		k := cell{band.Key, m.o.CareHours, m.o.Start.FirstOfMonth()}
		byCell[k] = append(byCell[k], m)
	}
	for k, ms := range byCell {
		fids := make([]uuid.UUID, 0, len(ms))
		for _, m := range ms {
			fids = append(fids, m.o.FacilityID)
		}
		free, err := availability.Lookup(ctx, tx, t.ID, fids, k.band, k.hours, k.start)
		if err != nil {
			return nil, nil, err
		}
		for _, m := range ms {
			if left, known := free[m.o.FacilityID]; !known || left < 0 {
				refused = append(refused, Refusal{m.p.ApplicationID, "offer_no_seat"})
			}
		}
	}
	if len(refused) > 0 {
		return nil, refused, nil
	}
	out := make(map[uuid.UUID]uuid.UUID, len(all))
	for _, m := range all {
		switch m.o.Status {
		case offer.StatusOpen:
			if err := s.wentOut(ctx, tx, t, m.o, m.p, now); err != nil {
				return nil, nil, err
			}
		case offer.StatusPrepared:
			if err := schedule(ctx, tx, t.ID, m.o.ID, TaskRelease, 0, *m.o.OpensAt); err != nil {
				return nil, nil, err
			}
		}
		out[m.p.ApplicationID] = m.o.ID
	}
	return out, nil, nil
}
