package auth

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// Kind is what sort of principal a request acts for.
type Kind string

// Principal kinds.
const (
	KindParent   Kind = "parent"   // a parent account of the host's tenant
	KindStaff    Kind = "staff"    // a staff account of the host's tenant
	KindSupport  Kind = "support"  // an operator inside a tenant through a support access
	KindOperator Kind = "operator" // an operator on the base domain
	// KindMachine is a city's back-office software calling the API with a machine
	// credential (MachinePrefix…) of the host's tenant: API only, limited to the
	// permissions of the credential's scopes.
	KindMachine Kind = "machine"
)

// Subjects that are roles themselves (casbin: g(x, x) holds), so parents and support
// sessions need no per-account grouping rules.
const (
	SubjectParent     = "parent"
	SubjectSupport    = "support"
	SubjectOperator   = "operator"
	SubjectMFAPending = "mfa_pending" // staff or operator before the second factor
	SubjectMachine    = "machine"     // a machine credential: the catalogue's ceiling, its scopes narrow it
)

// MachinePrefix starts every machine credential's secret, so it is recognised (by people
// and secret scanners) and never mistaken for a session's bearer token.
const MachinePrefix = "kp_live_"

// StaffSubject is the casbin subject of a staff account; grouping rules give it roles.
func StaffSubject(id uuid.UUID) string { return "staff:" + id.String() }

// Principal is who a request acts for. It is loaded from the session (cookie) or the
// bearer token (API) by the Authenticator and never from anything the client can name.
type Principal struct {
	Kind      Kind
	ID        uuid.UUID // the account (parent, staff) or the operator (operator, support)
	TenantID  uuid.UUID // the tenant of the session; zero for operators
	SessionID uuid.UUID
	SupportID uuid.UUID // the support access of a support session
	Email     string
	FirstName string
	LastName  string
	Language  string
	MFADone   bool // staff and operators: the second factor was given in this session
	API       bool // authenticated by a bearer token
	ExpiresAt time.Time
	// Permissions are, for a machine, the catalogue actions its credential's scopes grant;
	// nothing outside them is allowed, whatever the catalogue says.
	Permissions []string
}

// Name is how pages address the principal.
func (p *Principal) Name() string {
	if n := strings.TrimSpace(p.FirstName + " " + p.LastName); n != "" {
		return n
	}
	return p.Email
}

// Subject is the casbin subject of the principal.
func (p *Principal) Subject() string {
	switch p.Kind {
	case KindParent:
		return SubjectParent
	case KindSupport:
		return SubjectSupport
	case KindStaff:
		if p.MFADone {
			return StaffSubject(p.ID)
		}
	case KindOperator:
		if p.MFADone {
			return SubjectOperator
		}
	case KindMachine:
		return SubjectMachine
	}
	return SubjectMFAPending
}

// Label names the principal in the audit log: staff and operators by e-mail (who read a
// child's data must be recognisable years later), machines by credential name and id,
// parents only by account id.
func (p *Principal) Label() string {
	switch p.Kind {
	case KindStaff, KindOperator:
		return p.Email
	case KindSupport:
		return "support: " + p.Email
	case KindMachine:
		return "credential: " + p.FirstName + " (" + p.ID.String() + ")"
	}
	return ""
}

const localPrincipal = "principal"

// PrincipalOf returns the request's principal, or nil for an anonymous request.
func PrincipalOf(c *fiber.Ctx) *Principal {
	p, _ := c.Locals(localPrincipal).(*Principal)
	return p
}

// SetPrincipal puts p into the request (the Authenticator does it; tests and the
// sign-in handlers do it after creating a session).
func SetPrincipal(c *fiber.Ctx, p *Principal) { c.Locals(localPrincipal, p) }
