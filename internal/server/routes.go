package server

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/account"
	"kitaportal/internal/allocation/round"
	"kitaportal/internal/application"
	"kitaportal/internal/audit"
	"kitaportal/internal/billing"
	"kitaportal/internal/casework"
	"kitaportal/internal/childfile"
	"kitaportal/internal/cityadmin"
	"kitaportal/internal/contract"
	"kitaportal/internal/credential"
	"kitaportal/internal/facility"
	"kitaportal/internal/family"
	"kitaportal/internal/notify"
	"kitaportal/internal/operator"
	"kitaportal/internal/placement"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/portal"
	"kitaportal/internal/privacy"
	"kitaportal/internal/provider"
	"kitaportal/internal/report"
	"kitaportal/internal/retention"
	"kitaportal/internal/search"
	"kitaportal/internal/staff"
	"kitaportal/internal/tenant"
	"kitaportal/internal/ticket"
	"kitaportal/internal/webhook"
)

// Route is one endpoint: where it exists (surface), what permission it needs, and who
// handles it. routes() is the single list of every endpoint of the portal. Permission is
// PermPublic or an action of config/permissions.yaml; the guard enforces it (guard.go),
// and a route whose action the catalogue lacks is denied.
type Route struct {
	Method     string
	Path       string
	Surface    tenant.Surface
	Permission string // "public": anyone, also without an account
	Handler    fiber.Handler
}

// PermPublic marks routes open to everyone. A state-changing HTML route that is public
// still needs the form's CSRF token.
const PermPublic = "public"

// PermPublicNoCSRF marks a public POST that, for an anonymous visitor, changes nothing on
// the server, only a cookie of the visitor's own (the search's Merkliste), so the pages
// carrying its button can stay shared and token-free. With a signed-in session the guard
// checks the token as for any form. Anything else that writes server state must not use it.
const PermPublicNoCSRF = "public:no-csrf"

// Routes returns the route table New mounts for d: for the tests that walk every route
// and for documentation.
func Routes(d Deps) ([]Route, error) {
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	parts, err := newComponents(d)
	if err != nil {
		return nil, err
	}
	return routes(d, parts), nil
}

func routes(d Deps, parts *components) []Route {
	finder := search.NewService(d.DB, d.Clock)
	results := search.NewHandler(finder, d.Views, parts.lists)
	profiles := facility.NewHandler(facility.NewService(d.DB, finder, parts.files), finder, d.Views, parts.lists)
	home := portal.NewHandler(d.Views, d.DB, finder, results.Results)
	vendor := operator.NewHandler(d.Views, d.Registry, d.Config.TenantURL, d.MailSink)
	stripeHooks := billing.NewHandler(billing.NewService(d.DB, d.Log), d.Config.StripeWebhookSecret.Value())
	acc := account.NewHandler(parts.accounts, d.Views, parts.authn)
	accOIDC := account.NewOIDCHandler(parts.accounts, parts.authn, d.Log)
	rights := privacy.NewHandler(parts.privacy, d.Views, parts.authn)
	exports := privacy.NewExportHandler(rights, parts.files)
	st := staff.NewHandler(parts.staff, parts.records, d.Views, parts.authn)
	records := childfile.NewHandler(parts.records, d.Views, parts.authn)
	kinderakte := childfile.NewFileHandler(parts.childFiles, d.Views, parts.authn)
	auditLog := audit.NewHandler(audit.NewService(d.DB), d.Views, parts.authn)
	keeping := retention.NewHandler(retention.NewService(d.DB, d.Clock), d.Views, parts.authn)
	creds := credential.NewHandler(parts.credentials, d.Views, parts.authn)
	hooks := webhook.NewHandler(parts.webhooks, d.Views, parts.authn)
	con := operator.NewConsoleHandler(parts.console, d.Views, parts.authn)
	fam := family.NewHandler(parts.families, d.Views, parts.authn)
	apps := application.NewHandler(parts.applications, d.Views, parts.authn, parts.lists)
	offers := placement.NewHandler(parts.placements, parts.applications, d.Views, parts.authn, parts.files)
	rounds := round.NewHandler(parts.rounds, d.Views, parts.authn)
	tickets := ticket.NewHandler(parts.tickets, parts.families, d.Views, parts.authn)
	cases := casework.NewHandler(parts.casework, d.Views, parts.authn)
	inbox := notify.NewInboxHandler(notify.NewInboxes(d.DB, d.Clock), d.Views, parts.authn)
	cityRules := cityadmin.NewHandler(cityadmin.NewService(d.DB, d.Registry, d.Clock), d.Views, parts.authn)
	const T, V = tenant.SurfaceTenant, tenant.SurfaceVendor

	rs := []Route{
		// The language switch works on every surface.
		{"GET", "/language", tenant.SurfaceTenant, PermPublic, switchLanguage},
		{"GET", "/language", tenant.SurfaceVendor, PermPublic, switchLanguage},

		// City portal.
		{"GET", "/", tenant.SurfaceTenant, PermPublic, home.Home},
		{"GET", "/branding/theme.css", tenant.SurfaceTenant, PermPublic, home.Theme},
		{"GET", "/branding/logo.svg", tenant.SurfaceTenant, PermPublic, home.Logo},

		// Finding care: the start page is the search; with a search in the URL it answers.
		{"GET", "/facilities/:id", T, PermPublic, profiles.Profile},
		{"GET", "/facilities/:id/photos/:n", T, PermPublic, profiles.Photo},
		// The Merkliste lives in a cookie of the visitor's own: no account, no server state.
		{"GET", "/favourites", T, PermPublic, profiles.Favourites},
		{"POST", "/favourites", T, PermPublicNoCSRF, profiles.ToggleFavourite},

		// Search API (web/openapi/openapi.json describes the whole API).
		{"GET", "/api/v1/openapi.json", T, PermPublic, openAPI},
		{"GET", "/tiles/:z/:x/:y", T, PermPublic, parts.tiles.Tile},
		{"GET", "/api/v1/facilities", T, PermPublic, results.List},
		{"GET", "/api/v1/providers", T, PermPublic, results.APIProviders},
		{"GET", "/api/v1/facilities/:id", T, PermPublic, profiles.APIProfile},
		{"GET", "/api/v1/facilities/:id/availability", T, PermPublic, profiles.APIAvailability},

		// Parent accounts.
		{"GET", "/register", T, PermPublic, acc.RegisterForm},
		{"POST", "/register", T, PermPublic, acc.Register},
		{"GET", "/register/sent", T, PermPublic, acc.RegisterSent},
		{"GET", "/verify", T, PermPublic, acc.VerifyForm},
		{"POST", "/verify", T, PermPublic, acc.Verify},
		{"GET", "/login", T, PermPublic, acc.LoginForm},
		{"POST", "/login", T, PermPublic, acc.Login},
		{"GET", "/login/oidc", T, PermPublic, accOIDC.Start},
		{"GET", "/login/oidc/callback", T, PermPublic, accOIDC.Callback},
		{"POST", "/logout", T, "auth.logout", acc.Logout},
		{"GET", "/password/forgot", T, PermPublic, acc.ForgotForm},
		{"POST", "/password/forgot", T, PermPublic, acc.Forgot(account.KindParent)},
		{"GET", "/password/reset", T, PermPublic, acc.ResetForm},
		{"POST", "/password/reset", T, PermPublic, acc.Reset(account.KindParent)},
		{"GET", "/account", T, "account.read", acc.Home},
		{"POST", "/account/profile", T, "account.update", acc.UpdateProfile},
		{"POST", "/account/password", T, "account.change_password", acc.ChangePassword},
		{"POST", "/account/email", T, "account.change_email", acc.ChangeEmail},
		{"GET", "/account/email/confirm", T, PermPublic, acc.ConfirmEmailForm},
		{"POST", "/account/email/confirm", T, PermPublic, acc.ConfirmEmail},
		{"GET", "/account/delete", T, "account.delete", rights.DeleteForm},
		{"POST", "/account/delete", T, "account.delete", rights.Delete},
		{"GET", "/account/export", T, "account.export", exports.Page},
		{"POST", "/account/export", T, "account.export", exports.Request},
		{"GET", "/account/export/:id/:format", T, "account.export", exports.Download},

		// Account API (API.md).
		{"POST", "/api/v1/auth/register", T, PermPublic, acc.APIRegister},
		{"POST", "/api/v1/auth/verify", T, PermPublic, acc.APIVerify},
		{"POST", "/api/v1/auth/login", T, PermPublic, acc.APILogin},
		{"POST", "/api/v1/auth/logout", T, "auth.logout", acc.APILogout},
		{"POST", "/api/v1/auth/password/forgot", T, PermPublic, acc.APIForgot},
		{"POST", "/api/v1/auth/password/reset", T, PermPublic, acc.APIReset},
		{"POST", "/api/v1/auth/email/confirm", T, PermPublic, acc.APIConfirmEmail},
		{"GET", "/api/v1/me", T, "auth.whoami", acc.APIMe},
		{"PATCH", "/api/v1/me", T, "account.update", acc.APIUpdateMe},
		{"DELETE", "/api/v1/me", T, "account.delete", rights.APIDelete},
		{"POST", "/api/v1/me/export", T, "account.export", exports.APIRequest},
		{"GET", "/api/v1/me/exports", T, "account.export", exports.APIList},
		{"GET", "/api/v1/me/exports/:id/:format", T, "account.export", exports.Download},
		{"POST", "/api/v1/me/password", T, "account.change_password", acc.APIChangePassword},
		{"POST", "/api/v1/me/email", T, "account.change_email", acc.APIChangeEmail},

		// Families and pre-registration (Vormerkung).
		{"GET", "/family", T, "family.read", fam.Page},
		{"POST", "/family", T, "family.update", fam.Save},
		{"GET", "/family/children/new", T, "family.update", fam.NewChildForm},
		{"POST", "/family/children", T, "family.update", fam.AddChild},
		{"GET", "/family/children/:id", T, "family.read", fam.ChildForm},
		{"GET", "/family/children/:id/file", T, "childfile.read", kinderakte.FamilyPage},
		{"POST", "/family/children/:id/file/contacts", T, "childfile.update", kinderakte.SaveContacts("family")},
		{"POST", "/family/children/:id", T, "family.update", fam.UpdateChild},
		{"POST", "/family/invite", T, "family.invite", fam.Invite},
		{"GET", "/family/link", T, "family.link", fam.LinkForm},
		{"POST", "/family/link", T, "family.link", fam.Link},
		{"GET", "/applications", T, "application.read", apps.List},
		{"GET", "/applications/new", T, "application.create", apps.NewForm},
		{"POST", "/applications", T, "application.create", apps.Create},
		{"GET", "/applications/:id", T, "application.read", apps.Show},
		{"POST", "/applications/:id", T, "application.update", apps.Update},
		{"GET", "/applications/:id/round", T, "application.read", rounds.Outcome},
		{"POST", "/applications/:id/submit", T, "application.submit", apps.Submit},
		{"POST", "/applications/:id/withdraw", T, "application.withdraw", apps.Withdraw},
		{"POST", "/applications/:id/reserve", T, "offers.reserve", offers.Reserve},
		{"GET", "/offers", T, "offers.read", offers.List},
		{"GET", "/offers/:id", T, "offers.read", offers.Show},
		{"POST", "/offers/:id/accept", T, "offers.answer", offers.Accept},
		{"POST", "/offers/:id/decline", T, "offers.answer", offers.Decline},
		{"GET", "/offers/:id/contract.pdf", T, "offers.read", offers.Contract},
		{"GET", "/tickets", T, "ticket.read", tickets.TicketsPage},
		{"POST", "/tickets", T, "ticket.request", tickets.RequestTicketForm},
		{"GET", "/inbox", T, "inbox.read", inbox.InboxPage("inbox")},
		{"GET", "/inbox/:id", T, "inbox.read", inbox.MessagePage("inbox")},

		// Families and pre-registration API (API.md).
		{"GET", "/api/v1/family", T, "family.read", fam.APIGet},
		{"PUT", "/api/v1/family", T, "family.update", fam.APIPut},
		{"POST", "/api/v1/family/invitations", T, "family.invite", fam.APIInvite},
		{"POST", "/api/v1/family/link", T, "family.link", fam.APILink},
		{"GET", "/api/v1/children", T, "family.read", fam.APIChildren},
		{"POST", "/api/v1/children", T, "family.update", fam.APIAddChild},
		{"PATCH", "/api/v1/children/:id", T, "family.update", fam.APIUpdateChild},
		{"GET", "/api/v1/children/:id/file", T, "childfile.read", kinderakte.APIGet},
		{"PUT", "/api/v1/children/:id/file/contacts", T, "childfile.update", kinderakte.APIContacts},
		{"PUT", "/api/v1/children/:id/file/health", T, "childfile.update", kinderakte.APIHealth},
		{"GET", "/api/v1/children/:id/file/access-history", T, "childfile.read", kinderakte.APIHistory},
		{"GET", "/api/v1/applications", T, "application.read", apps.APIList},
		{"POST", "/api/v1/applications", T, "application.create", apps.APICreate},
		{"GET", "/api/v1/applications/:id", T, "application.read", apps.APIGet},
		{"PATCH", "/api/v1/applications/:id", T, "application.update", apps.APIUpdate},
		{"POST", "/api/v1/applications/:id/submit", T, "application.submit", apps.APISubmit},
		{"POST", "/api/v1/applications/:id/withdraw", T, "application.withdraw", apps.APIWithdraw},
		{"POST", "/api/v1/applications/:id/reserve", T, "offers.reserve", offers.APIReserve},
		{"GET", "/api/v1/offers", T, "offers.read", offers.APIList},
		{"GET", "/api/v1/offers/:id", T, "offers.read", offers.APIGet},
		{"POST", "/api/v1/offers/:id/accept", T, "offers.answer", offers.APIAccept},
		{"POST", "/api/v1/offers/:id/decline", T, "offers.answer", offers.APIDecline},
		{"GET", "/api/v1/tickets", T, "ticket.read", tickets.APIMyTickets},
		{"POST", "/api/v1/tickets", T, "ticket.request", tickets.APIRequestTicket},
		{"GET", "/api/v1/inbox", T, "inbox.read", inbox.APIInbox},

		// Staff area: sign-in with the second factor, invitations, records in scope, audit.
		{"GET", "/staff/login", T, PermPublic, st.LoginForm},
		{"POST", "/staff/login", T, PermPublic, st.Login},
		{"GET", "/staff/password/forgot", T, PermPublic, acc.ForgotForm},
		{"POST", "/staff/password/forgot", T, PermPublic, acc.Forgot(account.KindStaff)},
		{"GET", "/staff/password/reset", T, PermPublic, acc.ResetForm},
		{"POST", "/staff/password/reset", T, PermPublic, acc.Reset(account.KindStaff)},
		{"GET", "/staff/invitation", T, PermPublic, st.InvitationForm},
		{"POST", "/staff/invitation", T, PermPublic, st.AcceptInvitation},
		{"GET", "/staff/2fa", T, "auth.mfa", st.SecondFactorForm},
		{"POST", "/staff/2fa", T, "auth.mfa", st.SecondFactor},
		{"POST", "/staff/2fa/setup", T, "auth.mfa", st.ConfirmSetup},
		{"POST", "/staff/logout", T, "auth.logout", st.Logout},
		{"GET", "/staff", T, "staff.home", st.Home},
		{"GET", "/staff/security", T, "staff.security", st.Security},
		{"POST", "/staff/security/recovery-codes", T, "staff.security", st.NewRecoveryCodes},
		{"GET", "/staff/facilities/:id", T, "staff.facility.read", records.Facility},
		{"GET", "/staff/children/:id", T, "staff.child.read", records.Child},
		{"GET", "/staff/children/:id/file", T, "childfile.staff_read", kinderakte.StaffPage},
		{"POST", "/staff/children/:id/file/contacts", T, "childfile.manage", kinderakte.SaveContacts("staff")},
		{"POST", "/staff/children/:id/emergency", T, "childfile.emergency", kinderakte.EmergencyPage},
		{"POST", "/staff/children/:id/emergency-sheet.pdf", T, "childfile.emergency", kinderakte.SheetPDF},
		{"GET", "/staff/users", T, "staff.users.read", st.Users},
		{"POST", "/staff/users/invite", T, "staff.users.invite", st.Invite},
		{"POST", "/staff/users/:id/roles", T, "staff.roles.grant", st.Grant},
		{"POST", "/staff/users/:id/roles/:role/revoke", T, "staff.roles.revoke", st.Revoke},
		{"POST", "/staff/users/:id/disable", T, "staff.users.disable", st.Disable},
		{"GET", "/staff/audit", T, "audit.read", auditLog.Audit},
		{"GET", "/staff/retention", T, "retention.read", keeping.Page},
		{"POST", "/staff/retention/confirm", T, "retention.confirm", keeping.Confirm},
		{"GET", "/staff/processing", T, "processing.read", keeping.Processing},
		{"GET", "/staff/credentials", T, "credentials.read", creds.List},
		{"POST", "/staff/credentials", T, "credentials.create", creds.Create},
		{"POST", "/staff/credentials/:id/rotate", T, "credentials.rotate", creds.Rotate},
		{"POST", "/staff/credentials/:id/revoke", T, "credentials.revoke", creds.Revoke},
		{"GET", "/staff/webhooks", T, "webhooks.read", hooks.List},
		{"POST", "/staff/webhooks", T, "webhooks.manage", hooks.Create},
		{"POST", "/staff/webhooks/:id/enabled", T, "webhooks.manage", hooks.Toggle},
		{"POST", "/staff/webhooks/:id/rotate", T, "webhooks.manage", hooks.Rotate},
		{"POST", "/staff/webhooks/:id/deliveries/:delivery/replay", T, "webhooks.manage", hooks.Replay},
		{"GET", "/staff/rules", T, "rules.read", cityRules.Form},
		{"POST", "/staff/rules/edit", T, "rules.edit", cityRules.Edit},
		{"POST", "/staff/rules/preview", T, "rules.edit", cityRules.Preview},
		{"POST", "/staff/rules", T, "rules.edit", cityRules.Save},
		{"GET", "/staff/rules/versions", T, "rules.read", cityRules.Versions},
		{"GET", "/staff/rules/versions/:v", T, "rules.read", cityRules.Version},
		{"POST", "/staff/rules/versions/:v/restore", T, "rules.edit", cityRules.Restore},
		{"GET", "/staff/requests", T, "requests.read", apps.Requests},
		{"GET", "/staff/requests.csv", T, "requests.export", apps.ExportCSV},
		{"GET", "/staff/requests/:id", T, "requests.read", apps.Request},
		{"POST", "/staff/requests/:id/decisions", T, "requests.decide", apps.Decide},
		{"POST", "/staff/requests/:id/claims/:criterion", T, "requests.decide", apps.DecideClaim},
		{"GET", "/staff/offers", T, "offers.staff_read", offers.StaffList},
		{"POST", "/staff/offers", T, "offers.make", offers.Make},
		{"GET", "/staff/offers/:id", T, "offers.staff_read", offers.StaffShow},
		{"POST", "/staff/offers/:id/confirm", T, "offers.confirm", offers.Confirm},
		{"POST", "/staff/offers/:id/withdraw", T, "offers.withdraw", offers.Withdraw},
		{"POST", "/staff/offers/:id/reservation", T, "offers.make", offers.ConfirmReservation},
		{"GET", "/staff/rounds", T, "rounds.read", rounds.Rounds},
		{"POST", "/staff/rounds", T, "rounds.manage", rounds.Create},
		{"GET", "/staff/rounds/compare", T, "rounds.read", rounds.Compare},
		{"GET", "/staff/rounds/:id", T, "rounds.read", rounds.Show},
		{"POST", "/staff/rounds/:id/refreeze", T, "rounds.manage", rounds.Refreeze},
		{"POST", "/staff/rounds/:id/runs", T, "rounds.manage", rounds.StartRun},
		{"GET", "/staff/runs/:id", T, "rounds.read", rounds.Run},
		{"GET", "/staff/runs/:id/unplaced.csv", T, "rounds.read", rounds.UnplacedCSV},
		{"GET", "/staff/runs/:id/seats.csv", T, "rounds.read", rounds.SeatsCSV},
		{"POST", "/staff/runs/:id/publish", T, "rounds.publish", rounds.Publish},
		{"GET", "/staff/runs/:id/results/:app", T, "rounds.read", rounds.Result},
		{"POST", "/staff/runs/:id/results/:app", T, "rounds.manage", rounds.Change},
		{"GET", "/staff/walk-in", T, "requests.walk_in", cases.WalkInForm},
		{"POST", "/staff/walk-in", T, "requests.walk_in", cases.WalkIn},
		{"GET", "/staff/tickets", T, "tickets.read", tickets.Tickets},
		{"POST", "/staff/tickets/:id/decision", T, "tickets.decide", tickets.DecideTicket},
		{"GET", "/staff/duplicates", T, "duplicates.read", cases.Duplicates},
		{"POST", "/staff/duplicates/:id", T, "duplicates.resolve", cases.ResolveDuplicate},
		{"GET", "/staff/imports", T, "imports.read", cases.Imports},
		{"POST", "/staff/imports", T, "imports.create", cases.Upload},
		{"GET", "/staff/imports/:id", T, "imports.read", cases.ImportStatus},
		{"POST", "/staff/imports/:id/run", T, "imports.create", cases.RunImport},
		{"GET", "/staff/inbox", T, "staff.inbox", inbox.InboxPage("staff_inbox")},
		{"GET", "/staff/inbox/:id", T, "staff.inbox", inbox.MessagePage("staff_inbox")},
		{"POST", "/staff/support/end", T, "support.end", con.EndSupport},
		{"GET", "/support/enter", T, PermPublic, con.EnterForm},
		{"POST", "/support/enter", T, PermPublic, con.Enter},

		// Staff API.
		{"POST", "/api/v1/staff/auth/login", T, PermPublic, st.APILogin},
		{"GET", "/api/v1/staff/facilities", T, "staff.home", records.APIFacilities},
		{"GET", "/api/v1/staff/facilities/:id", T, "staff.facility.read", records.APIFacility},
		{"GET", "/api/v1/staff/children/:id", T, "staff.child.read", records.APIChild},
		{"GET", "/api/v1/staff/children/:id/file", T, "childfile.staff_read", kinderakte.APIGet},
		{"PUT", "/api/v1/staff/children/:id/file/contacts", T, "childfile.manage", kinderakte.APIContacts},
		{"PUT", "/api/v1/staff/children/:id/file/health", T, "childfile.manage", kinderakte.APIHealth},
		{"POST", "/api/v1/staff/children/:id/file/notes", T, "childfile.manage", kinderakte.APINote},
		{"POST", "/api/v1/staff/children/:id/emergency", T, "childfile.emergency", kinderakte.APIEmergency},
		{"POST", "/api/v1/staff/children/:id/emergency-sheet.pdf", T, "childfile.emergency", kinderakte.SheetPDF},
		{"GET", "/api/v1/staff/users", T, "staff.users.read", st.APIMembers},
		{"POST", "/api/v1/staff/invitations", T, "staff.users.invite", st.APIInvite},
		{"POST", "/api/v1/staff/users/:id/roles", T, "staff.roles.grant", st.APIGrant},
		{"DELETE", "/api/v1/staff/users/:id/roles/:role", T, "staff.roles.revoke", st.APIRevoke},
		{"POST", "/api/v1/staff/users/:id/disable", T, "staff.users.disable", st.APIDisable},
		{"GET", "/api/v1/staff/audit", T, "audit.read", auditLog.APIAudit},
		{"GET", "/api/v1/staff/retention", T, "retention.read", keeping.APIReport},
		{"POST", "/api/v1/staff/retention/confirm", T, "retention.confirm", keeping.APIConfirm},
		{"GET", "/api/v1/staff/processing", T, "processing.read", keeping.APIProcessing},
		{"GET", "/api/v1/staff/credentials", T, "credentials.read", creds.APIList},
		{"POST", "/api/v1/staff/credentials", T, "credentials.create", creds.APICreate},
		{"POST", "/api/v1/staff/credentials/:id/rotate", T, "credentials.rotate", creds.APIRotate},
		{"POST", "/api/v1/staff/credentials/:id/revoke", T, "credentials.revoke", creds.APIRevoke},
		{"GET", "/api/v1/staff/webhooks", T, "webhooks.read", hooks.APIList},
		{"POST", "/api/v1/staff/webhooks", T, "webhooks.manage", hooks.APICreate},
		{"GET", "/api/v1/staff/webhooks/:id", T, "webhooks.read", hooks.APIGet},
		{"PATCH", "/api/v1/staff/webhooks/:id", T, "webhooks.manage", hooks.APIUpdate},
		{"POST", "/api/v1/staff/webhooks/:id/rotate", T, "webhooks.manage", hooks.APIRotate},
		{"GET", "/api/v1/staff/webhooks/:id/deliveries", T, "webhooks.read", hooks.APIDeliveries},
		{"POST", "/api/v1/staff/webhooks/:id/deliveries/:delivery/replay", T, "webhooks.manage", hooks.APIReplay},
		{"GET", "/api/v1/staff/rules", T, "rules.read", cityRules.APIGet},
		{"PUT", "/api/v1/staff/rules", T, "rules.edit", cityRules.APIPut},
		{"POST", "/api/v1/staff/rules/preview", T, "rules.edit", cityRules.APIPreview},
		{"GET", "/api/v1/staff/rules/versions", T, "rules.read", cityRules.APIVersions},
		{"POST", "/api/v1/staff/rules/versions/:v/restore", T, "rules.edit", cityRules.APIRestore},
		{"GET", "/api/v1/staff/requests", T, "requests.read", apps.APIRequests},
		{"GET", "/api/v1/staff/requests/:id/export.json", T, "requests.read", apps.ExportJSON},
		{"GET", "/api/v1/staff/requests/:id/export.xml", T, "requests.read", apps.ExportXML},
		{"GET", "/api/v1/staff/requests/:id", T, "requests.read", apps.APIRequest},
		{"POST", "/api/v1/staff/requests/:id/decisions", T, "requests.decide", apps.APIDecide},
		{"POST", "/api/v1/staff/requests/:id/claims/:criterion", T, "requests.decide", apps.APIDecideClaim},
		{"GET", "/api/v1/staff/offers", T, "offers.staff_read", offers.APIStaffList},
		{"POST", "/api/v1/staff/offers", T, "offers.make", offers.APIMake},
		{"GET", "/api/v1/staff/offers/:id", T, "offers.staff_read", offers.APIStaffGet},
		{"POST", "/api/v1/staff/offers/:id/confirm", T, "offers.confirm", offers.APIConfirm},
		{"POST", "/api/v1/staff/offers/:id/withdraw", T, "offers.withdraw", offers.APIWithdraw},
		{"POST", "/api/v1/staff/offers/:id/confirm-reservation", T, "offers.make", offers.APIConfirmReservation},
		{"POST", "/api/v1/staff/walk-ins", T, "requests.walk_in", cases.APIWalkIn},
		{"GET", "/api/v1/staff/tickets", T, "tickets.read", tickets.APITickets},
		{"POST", "/api/v1/staff/tickets/:id/decision", T, "tickets.decide", tickets.APIDecideTicket},
		{"GET", "/api/v1/staff/duplicates", T, "duplicates.read", cases.APIDuplicates},
		{"POST", "/api/v1/staff/duplicates/:id", T, "duplicates.resolve", cases.APIResolveDuplicate},
		{"POST", "/api/v1/staff/imports/waitlist", T, "imports.create", cases.APIImport},
		{"GET", "/api/v1/staff/imports/:id", T, "imports.read", cases.APIImportStatus},
		{"GET", "/api/v1/staff/inbox", T, "staff.inbox", inbox.APIInbox},

		// Base domain.
		{"GET", "/", V, PermPublic, vendor.Landing},
		// Stripe authenticates itself by signing each request.
		{"POST", "/api/billing/stripe-webhook", V, PermPublic, stripeHooks.Webhook},

		// Operator console.
		{"GET", "/operator/login", V, PermPublic, con.LoginForm},
		{"POST", "/operator/login", V, PermPublic, con.Login},
		{"GET", "/operator/2fa", V, "operator.mfa", con.SecondFactorForm},
		{"POST", "/operator/2fa", V, "operator.mfa", con.SecondFactor},
		{"POST", "/operator/logout", V, "operator.logout", con.Logout},
		{"GET", "/operator", V, "operator.console", con.Home},
		{"POST", "/operator/tenants/:slug/status", V, "operator.tenant.status", con.SetStatus},
		{"POST", "/operator/tenants/:slug/admins", V, "operator.tenant.invite_admin", con.InviteAdmin},
		{"POST", "/operator/tenants/:slug/support", V, "operator.support.start", con.StartSupport},
	}
	rs = append(rs, providerPortalRoutes(d, parts)...)
	rs = append(rs, planningRoutes(d, parts)...)
	rs = append(rs, adminRoutes(d, parts, st, home)...) // admin_routes.go
	if d.MailSink != nil {
		rs = append(rs,
			Route{"GET", "/dev/mail", tenant.SurfaceVendor, PermPublic, vendor.DevMail},
			Route{"GET", "/dev/mail.json", tenant.SurfaceVendor, PermPublic, vendor.DevMailJSON},
		)
	}
	return rs
}

// register mounts the routes, each behind the guard of its permission. A path that
// exists on several surfaces gets one Fiber route that dispatches by surface; a request
// on a surface without that route gets 404.
func register(app *fiber.App, rs []Route, g *guard) {
	type key struct{ method, path string }
	bySurface := map[key]map[tenant.Surface]fiber.Handler{}
	var order []key
	for _, r := range rs {
		r.Method = strings.ToUpper(r.Method)
		k := key{r.Method, r.Path}
		if bySurface[k] == nil {
			bySurface[k] = map[tenant.Surface]fiber.Handler{}
			order = append(order, k)
		}
		if _, dup := bySurface[k][r.Surface]; dup {
			panic(fmt.Sprintf("route %s %s registered twice for one surface", r.Method, r.Path))
		}
		bySurface[k][r.Surface] = g.wrap(r, r.Handler)
	}
	for _, k := range order {
		handlers := bySurface[k]
		app.Add(k.method, k.path, func(c *fiber.Ctx) error {
			h, ok := handlers[tenant.SurfaceOf(c)]
			if !ok {
				return fiber.ErrNotFound
			}
			return h(c)
		})
	}
}

// ---- Provider portal (Trägerportal): facilities, groups and places, closures,
// photos, occupancy, facility and contract CSV, contracts register, Kindertagespflege.
// Static segments (new, import) come before :id, so Fiber matches them first.
func providerPortalRoutes(d Deps, parts *components) []Route {
	portal := provider.NewService(d.DB, d.Clock, parts.files)
	var csrf func(*fiber.Ctx) string
	if parts.authn != nil {
		csrf = parts.authn.CSRFToken
	}
	pv := provider.NewHandler(portal, d.Views, csrf, d.Authz)
	ct := contract.NewHandler(contract.NewService(d.DB, d.Clock, parts.applications), portal, d.Views, csrf, d.Authz, parts.files)
	const T = tenant.SurfaceTenant
	return []Route{
		{"GET", "/staff/provider", T, "provider.read", pv.Home},
		{"GET", "/staff/provider/occupancy", T, "provider.occupancy.read", pv.ProviderOccupancyPage},
		{"GET", "/staff/provider/occupancy.csv", T, "provider.occupancy.read", pv.ProviderOccupancyCSV},
		{"GET", "/staff/provider/facilities.csv", T, "provider.facility.export", pv.ExportFacilities},
		{"GET", "/staff/provider/import", T, "provider.facility.import", pv.ImportForm},
		{"POST", "/staff/provider/import", T, "provider.facility.import", pv.Import},
		{"GET", "/staff/provider/tagespflege/new", T, "provider.tagespflege.create", pv.TagespflegeForm},
		{"POST", "/staff/provider/tagespflege", T, "provider.tagespflege.create", pv.CreateTagespflege},
		{"GET", "/staff/facilities/:id/profile", T, "provider.read", pv.ProfilePage},
		{"POST", "/staff/facilities/:id/profile", T, "provider.facility.update", pv.UpdateProfile},
		{"POST", "/staff/facilities/:id/photos", T, "provider.photo.manage", pv.AddPhoto},
		{"POST", "/staff/facilities/:id/photos/:n/delete", T, "provider.photo.manage", pv.RemovePhoto},
		{"POST", "/staff/facilities/:id/closures", T, "provider.closure.manage", pv.AddClosure},
		{"POST", "/staff/facilities/:id/closures/:closure/delete", T, "provider.closure.manage", pv.RemoveClosure},
		{"GET", "/staff/facilities/:id/groups", T, "provider.read", pv.GroupsPage},
		{"POST", "/staff/facilities/:id/groups", T, "provider.group.manage", pv.CreateGroup},
		{"GET", "/staff/facilities/:id/groups/:group", T, "provider.read", pv.GroupPage},
		{"POST", "/staff/facilities/:id/groups/:group", T, "provider.group.manage", pv.UpdateGroup},
		{"POST", "/staff/facilities/:id/groups/:group/delete", T, "provider.group.manage", pv.RemoveGroup},
		{"GET", "/staff/facilities/:id/occupancy", T, "provider.occupancy.read", pv.OccupancyPage},
		{"GET", "/staff/facilities/:id/occupancy.csv", T, "provider.occupancy.read", pv.OccupancyCSV},
		{"GET", "/staff/contracts", T, "contract.read", ct.List},
		{"GET", "/staff/contracts/new", T, "contract.create", ct.NewForm},
		{"POST", "/staff/contracts", T, "contract.create", ct.Create},
		{"GET", "/staff/contracts/import", T, "contract.import", ct.ImportForm},
		{"POST", "/staff/contracts/import", T, "contract.import", ct.Import},
		{"GET", "/staff/contracts/:id", T, "contract.read", ct.Detail},
		{"POST", "/staff/contracts/:id/terminate", T, "contract.change", ct.Terminate},
		{"POST", "/staff/contracts/:id/scope", T, "contract.change", ct.ChangeScope},
		{"POST", "/staff/contracts/:id/cancel", T, "contract.change", ct.Cancel},
		{"GET", "/staff/contracts/:id/document.pdf", T, "contract.read", ct.Document},
		{"POST", "/staff/contracts/:id/papers", T, "contract.change", ct.PapersReceived},

		{"GET", "/api/v1/staff/facilities/:id/profile", T, "provider.read", pv.APIProfile},
		{"PUT", "/api/v1/staff/facilities/:id/profile", T, "provider.facility.update", pv.APIUpdateProfile},
		{"GET", "/api/v1/staff/facilities/:id/groups", T, "provider.read", pv.APIGroups},
		{"POST", "/api/v1/staff/facilities/:id/groups", T, "provider.group.manage", pv.APICreateGroup},
		{"PUT", "/api/v1/staff/facilities/:id/groups/:group", T, "provider.group.manage", pv.APIUpdateGroup},
		{"GET", "/api/v1/staff/facilities/:id/occupancy", T, "provider.occupancy.read", pv.APIOccupancy},
		{"GET", "/api/v1/staff/occupancy", T, "provider.occupancy.read", pv.APIProviderOccupancy},
		{"POST", "/api/v1/staff/facilities/import", T, "provider.facility.import", pv.APIImportFacilities},
		{"POST", "/api/v1/staff/tagespflege", T, "provider.tagespflege.create", pv.APICreateTagespflege},
		{"GET", "/api/v1/staff/contracts", T, "contract.read", ct.APIList},
		{"POST", "/api/v1/staff/contracts", T, "contract.create", ct.APICreate},
		{"POST", "/api/v1/staff/contracts/import", T, "contract.import", ct.APIImport},
		{"GET", "/api/v1/staff/contracts/:id", T, "contract.read", ct.APIGet},
		{"POST", "/api/v1/staff/contracts/:id/terminate", T, "contract.change", ct.APITerminate},
		{"POST", "/api/v1/staff/contracts/:id/scope", T, "contract.change", ct.APIChangeScope},
		{"POST", "/api/v1/staff/contracts/:id/cancel", T, "contract.change", ct.APICancel},
	}
}

// ---- Demand planning (Bedarfsplanung): districts × age bands × months, the children
// without a place after their desired start, exports, API.
func planningRoutes(d Deps, parts *components) []Route {
	var csrf func(*fiber.Ctx) string
	if parts.authn != nil {
		csrf = parts.authn.CSRFToken
	}
	rep := report.NewHandler(report.NewService(d.DB, d.Clock), d.Views, csrf, d.Authz)
	const T = tenant.SurfaceTenant
	return []Route{
		{"GET", "/staff/planning", T, "planning.read", rep.Page},
		{"GET", "/staff/planning.csv", T, "planning.export", rep.CSV},
		{"GET", "/staff/planning.xlsx", T, "planning.export", rep.Excel},
		{"GET", "/staff/planning/unserved", T, "planning.unserved", rep.UnservedPage},
		{"GET", "/staff/planning/unserved.csv", T, "planning.unserved", rep.UnservedCSV},
		{"GET", "/api/v1/staff/planning", T, "planning.read", rep.API},
		{"GET", "/api/v1/staff/planning/unserved", T, "planning.unserved", rep.APIUnserved},
	}
}
