package notify

import "kitaportal/internal/tenant"

// Links are the absolute addresses on a city's portal that mails and notices point to,
// and the branding that signs the mails.
type Links struct {
	tenantURL func(slug string) string
}

// NewLinks returns the links of the portals at tenantURL (a city's address by its slug).
func NewLinks(tenantURL func(slug string) string) *Links { return &Links{tenantURL: tenantURL} }

// URL is the absolute address of path on t's portal.
func (l *Links) URL(t *tenant.Tenant, path string) string { return l.tenantURL(t.Slug) + path }

// Brand is the mail branding of t.
func (l *Links) Brand(t *tenant.Tenant) Brand { return BrandOf(t, l.tenantURL(t.Slug)) }
