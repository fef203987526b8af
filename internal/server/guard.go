package server

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/account"
	"kitaportal/internal/allocation/round"
	"kitaportal/internal/application"
	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/casework"
	"kitaportal/internal/childfile"
	"kitaportal/internal/credential"
	"kitaportal/internal/family"
	"kitaportal/internal/favourite"
	"kitaportal/internal/notify"
	"kitaportal/internal/operator"
	"kitaportal/internal/placement"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/storage"
	"kitaportal/internal/privacy"
	"kitaportal/internal/search"
	"kitaportal/internal/staff"
	"kitaportal/internal/tenant"
	"kitaportal/internal/ticket"
	"kitaportal/internal/webhook"
	"kitaportal/web"
)

// components are the services and handlers the routes are made of.
type components struct {
	tiles        *search.TileProxy // the map's tiles through the city's host
	lists        *favourite.Lists
	authn        *auth.Authenticator
	authz        *authz.Enforcer
	accounts     *account.Service
	privacy      *privacy.Service
	staff        *staff.Service
	families     *family.Service
	tickets      *ticket.Service
	casework     *casework.Service
	records      *childfile.Service
	childFiles   *childfile.Files
	console      *operator.Console
	applications *application.Service
	placements   *placement.Service
	rounds       *round.Service
	credentials  *credential.Service
	webhooks     *webhook.Service
	files        storage.Storage
}

func newComponents(d Deps) (*components, error) {
	keys, err := auth.NewKeys(d.Config.AuthSecret.Value())
	if err != nil {
		return nil, err
	}
	sessions := auth.NewSessions(d.DB, d.Clock, auth.SessionConfig{
		Idle: d.Config.SessionIdle, MaxAge: d.Config.SessionMaxAge, APITTL: d.Config.APITokenTTL})
	mails, err := notify.NewTemplates(web.FS, d.Views.Catalogue())
	if err != nil {
		return nil, err
	}
	if d.Redis == nil {
		return nil, errNoRedis
	}
	childKeys, err := childfile.NewKeyring(d.Config.ChildFileKey.Value())
	if err != nil {
		return nil, err
	}
	hasher := auth.NewHasher(auth.DefaultArgon2, d.Config.PasswordHashConcurrency)
	limiter := auth.NewLimiter(d.Redis, d.RateLimitPrefix)
	links := notify.NewLinks(d.Config.TenantURL)
	accounts := account.NewService(account.Deps{
		DB: d.DB, Hasher: hasher, Sessions: sessions, Limiter: limiter, Mails: mails, Clock: d.Clock, Links: links,
	})
	staffSvc := staff.NewService(staff.Deps{DB: d.DB, Accounts: accounts, Authz: d.Authz, Keys: keys, Hasher: hasher, Sessions: sessions,
		Limiter: limiter, Mails: mails, Links: links, Clock: d.Clock})
	apps := application.NewService(application.Deps{DB: d.DB, Authz: d.Authz, Clock: d.Clock, Mails: mails, Links: links})
	places := placement.NewService(placement.Deps{DB: d.DB, Authz: d.Authz, Clock: d.Clock, Mails: mails, Links: links})
	authn := auth.NewAuthenticator(sessions, keys, d.Config.PublicURL.Scheme == "https")
	tiles := search.NewTileProxy(&http.Client{Timeout: 5 * time.Second}, "Kitaportal tile proxy (+"+d.Config.PublicURL.String()+")", 64<<20)
	var creds *credential.Service
	if d.Authz != nil {
		creds = credential.NewService(d.DB, d.Clock, d.Authz)
		authn.SetMachines(creds) // back-office software: scoped API keys of the host's city
	}
	accounts.Favourites = favourite.Import // the Merkliste of the browser joins the account at sign-in
	files := d.Files
	if files == nil {
		if files, err = storage.NewLocal(d.Config.StorageDir); err != nil {
			return nil, err
		}
	}
	return &components{
		tiles:        tiles,
		lists:        favourite.NewLists(d.DB, authn),
		authn:        authn,
		authz:        d.Authz,
		accounts:     accounts,
		privacy:      privacy.NewService(privacy.Deps{DB: d.DB, Clock: d.Clock, Accounts: accounts}),
		staff:        staffSvc,
		families:     family.NewService(family.Deps{DB: d.DB, Clock: d.Clock, Limiter: limiter, Mails: mails, Links: links}),
		applications: apps,
		placements:   places,
		rounds:       round.NewService(d.DB, d.Clock, places),
		credentials:  creds,
		webhooks:     webhook.NewService(webhook.Deps{DB: d.DB, Clock: d.Clock, Keys: keys, AllowLocal: d.Config.WebhookAllowLocal}),
		casework:     casework.NewService(d.DB, d.Clock, apps),
		records:      childfile.NewService(d.DB, d.Clock),
		childFiles:   childfile.NewFiles(childfile.FilesDeps{DB: d.DB, Clock: d.Clock, Keys: childKeys, Mails: mails, Links: links}),
		tickets:      ticket.NewService(ticket.Deps{DB: d.DB, Clock: d.Clock, Mails: mails, Links: links}),
		files:        files,
		console: operator.NewConsole(operator.ConsoleDeps{DB: d.DB, Hasher: hasher, Sessions: sessions, Limiter: limiter,
			Clock: d.Clock, Staff: staffSvc, Registry: d.Registry, Keys: keys, TenantURL: d.Config.TenantURL,
			BaseURL: strings.TrimSuffix(d.Config.PublicURL.String(), "/"), SupportMax: d.Config.SupportAccessMax}),
	}, nil
}

var errNoRedis = errors.New("server: Redis is required (rate limits of the sign-in)")

// guard enforces a route's permission before its handler runs.
type guard struct {
	authn *auth.Authenticator
	authz *authz.Enforcer
	log   *slog.Logger
}

func (p *components) guard(log *slog.Logger) *guard {
	return &guard{authn: p.authn, authz: p.authz, log: log}
}

// Errors of the guard.
var (
	errUnauthenticated = apperr.New(apperr.KindUnauthenticated, "unauthenticated")
	errForbidden       = apperr.Forbidden("forbidden")
	errNotLoaded       = apperr.New(apperr.KindUnavailable, "service_starting")
)

// wrap puts the checks in front of h:
//   - every state-changing HTML request carries a valid CSRF token (the API signs in with
//     bearer tokens only and never reads cookies, so it needs none);
//   - a route that is not public needs a principal that the catalogue allows the route's
//     action in the tenant of the host (casbin, domain = tenant);
//   - a route whose permission is not in the catalogue is denied to everyone.
func (g *guard) wrap(r Route, h fiber.Handler) fiber.Handler {
	perm := r.Permission
	unsafe := r.Method != fiber.MethodGet && r.Method != fiber.MethodHead
	checkCSRF := func(c *fiber.Ctx) error {
		if unsafe && !httpserver.IsAPI(c) {
			return g.authn.CheckCSRF(c)
		}
		return nil
	}
	switch perm {
	case PermPublicNoCSRF:
		return func(c *fiber.Ctx) error {
			// Without a session the request can only change the visitor's own cookie; with
			// one it acts on an account and needs the token like any other form.
			if p := auth.PrincipalOf(c); p != nil && !p.API {
				if err := checkCSRF(c); err != nil {
					return err
				}
			}
			return h(c)
		}
	case PermPublic:
		return func(c *fiber.Ctx) error {
			if err := checkCSRF(c); err != nil {
				return err
			}
			return h(c)
		}
	}
	if perm == "" || g.authz == nil || !g.authz.Catalogue().Has(perm) {
		g.log.Error("route has no permission in config/permissions.yaml; it is denied", "method", r.Method, "path", r.Path, "permission", perm)
		return func(*fiber.Ctx) error { return errForbidden }
	}
	return func(c *fiber.Ctx) error {
		if !g.authz.Ready() {
			return errNotLoaded
		}
		p := auth.PrincipalOf(c)
		if p == nil {
			return g.signIn(c, "")
		}
		if p.Kind == auth.KindMachine && !httpserver.IsAPI(c) { // cannot happen: machines authenticate on the API only
			return errUnauthenticated
		}
		domain := authz.PlatformDomain
		if t := tenant.FromFiber(c); t != nil {
			domain = t.ID.String()
			if p.TenantID != t.ID { // cannot happen: sessions are looked up per tenant
				return errUnauthenticated
			}
		} else if p.Kind != auth.KindOperator {
			return errUnauthenticated
		}
		if !g.authz.Allowed(p, domain, perm) {
			if p.Subject() == auth.SubjectMFAPending {
				return g.signIn(c, "/2fa")
			}
			return errForbidden
		}
		if err := checkCSRF(c); err != nil {
			return err
		}
		return h(c)
	}
}

// signIn answers a request that needs (more of) a sign-in: browsers asking for a page go
// to the right sign-in form and come back afterwards; everything else gets 401.
func (g *guard) signIn(c *fiber.Ctx, step string) error {
	if httpserver.IsAPI(c) || c.Method() != fiber.MethodGet {
		return errUnauthenticated
	}
	area := "/login"
	switch {
	case tenant.SurfaceOf(c) == tenant.SurfaceVendor:
		area = "/operator/login"
		if step != "" {
			area = "/operator" + step
		}
	case strings.HasPrefix(c.Path(), "/staff"):
		area = "/staff/login"
		if step != "" {
			area = "/staff" + step
		}
	}
	if step == "" {
		area += "?next=" + url.QueryEscape(string(c.Request().URI().RequestURI()))
	}
	return c.Redirect(area, fiber.StatusSeeOther)
}
