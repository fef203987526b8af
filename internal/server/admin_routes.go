package server

import (
	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/branding"
	"kitaportal/internal/portal"
	"kitaportal/internal/staff"
	"kitaportal/internal/tenant"
)

// adminRoutes are the tenant admins' member management beyond invitations (role and
// scope in one step, second-factor reset, who may see child data), the branding editor,
// and the legal pages a city's own texts give.
func adminRoutes(d Deps, parts *components, st *staff.Handler, home *portal.Handler) []Route {
	var csrf func(*fiber.Ctx) string
	if parts.authn != nil {
		csrf = parts.authn.CSRFToken
	}
	brand := branding.NewHandler(branding.NewService(d.DB, d.Registry, d.Log), d.Views, csrf)
	const T = tenant.SurfaceTenant
	return []Route{
		{"GET", "/impressum", T, PermPublic, brand.Imprint},
		{"GET", "/datenschutz", T, PermPublic, brand.Privacy},
		{"GET", "/branding/logo.png", T, PermPublic, home.LogoPNG},

		{"GET", "/staff/users/:id", T, "staff.users.read", st.MemberPage},
		{"POST", "/staff/users/:id/roles/:role/change", T, "staff.roles.change", st.ChangeRole},
		{"POST", "/staff/users/:id/mfa-reset", T, "staff.mfa.reset", st.ResetSecondFactor},
		{"GET", "/staff/child-data-access", T, "staff.child_data.read", st.ChildDataAccess},
		{"GET", "/staff/branding", T, "branding.read", brand.Page},
		{"POST", "/staff/branding", T, "branding.update", brand.Submit},
		{"GET", "/staff/branding/preview.css", T, "branding.read", brand.PreviewCSS},

		{"PUT", "/api/v1/staff/users/:id/roles/:role", T, "staff.roles.change", st.APIChangeRole},
		{"POST", "/api/v1/staff/users/:id/mfa-reset", T, "staff.mfa.reset", st.APIResetSecondFactor},
		{"GET", "/api/v1/staff/child-data-access", T, "staff.child_data.read", st.APIChildDataAccess},
		{"GET", "/api/v1/staff/branding", T, "branding.read", brand.APIGet},
		{"PUT", "/api/v1/staff/branding", T, "branding.update", brand.APISave},
		{"POST", "/api/v1/staff/branding/preview", T, "branding.read", brand.APIPreview},
	}
}
