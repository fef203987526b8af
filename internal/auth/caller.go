package auth

import (
	"net/netip"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
	"kitaportal/internal/tenant"
)

// Caller is who calls a service and from where: the host's tenant (nil on the base
// domain), the principal (nil before sign-in), the client address and request id for rate
// limits and the audit log, and the language of the request.
type Caller struct {
	Tenant    *tenant.Tenant
	Principal *Principal
	IP        netip.Addr
	RequestID string
	Lang      string
}

// CallerOf describes the request.
func CallerOf(c *fiber.Ctx) Caller {
	lang, _ := c.Locals(view.LocalLang).(string)
	if lang == "" {
		lang = "de"
	}
	rid, _ := c.Locals(httpserver.LocalRequestID).(string)
	return Caller{Tenant: tenant.FromFiber(c), Principal: PrincipalOf(c), IP: httpserver.ClientIPOf(c), RequestID: rid, Lang: lang}
}

// Scope is the rate limiter's scope of the caller: the tenant's slug, or "_vendor".
func (c Caller) Scope() string {
	if c.Tenant != nil {
		return c.Tenant.Slug
	}
	return "_vendor"
}

// AddrKey keys a rate limit by the client address.
func (c Caller) AddrKey() string { return c.IP.String() }
