package notify

import (
	"context"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/tenant"
)

// Guardian is one guardian a family notice goes to: by the inbox of their account and
// by mail to their address, whichever they have.
type Guardian struct {
	Name      string
	Email     string
	Language  string
	AccountID *uuid.UUID
}

// FamilyNotice is one notice to every guardian of a family, worded per language.
type FamilyNotice struct {
	Kind string // the inbox kind and the mail's kind
	Path string // the portal page it links to
	// Word words the notice in lang.
	Word func(lang string) Notice
	// NoAccount adjusts the mail to a guardian without an account (nil: unchanged).
	NoAccount func(lang string, n *Notice)
}

// TellFamily sends fn to the guardians in their language (German where the city does
// not offer theirs): into the inbox of each one's account, with the notice worded in the
// city's other languages beside it, and by mail, in the caller's transaction, so both
// exist exactly when the change committed.
func (t *Templates) TellFamily(ctx context.Context, tx bun.IDB, tn *tenant.Tenant, links *Links, gs []Guardian, fn FamilyNotice) error {
	all := Wordings(tn, fn.Word)
	for _, g := range gs {
		lang := LanguageFor(tn, g.Language)
		n := all[lang]
		n.Name = g.Name
		n.URL = links.URL(tn, fn.Path)
		if g.AccountID != nil {
			e := Entry{Kind: fn.Kind, Link: fn.Path, Lang: lang, Mailed: g.Email != "", Versions: all}
			if err := DeliverEntry(ctx, tx, tn.ID, *g.AccountID, e); err != nil {
				return err
			}
		}
		if g.Email == "" {
			continue
		}
		if g.AccountID == nil && fn.NoAccount != nil {
			fn.NoAccount(lang, &n)
		}
		if err := t.Queue(ctx, tx, tn.ID, Mail{Kind: fn.Kind, Template: "notice", Lang: lang, To: g.Email, Brand: links.Brand(tn), Data: n}); err != nil {
			return err
		}
	}
	return nil
}
