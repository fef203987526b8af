package server

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/platform/view"
)

// switchLanguage remembers the chosen language in a cookie and returns to the page the
// visitor came from: a plain link, so it works without JavaScript.
func switchLanguage(c *fiber.Ctx) error {
	lang := c.Query("lang")
	site, _ := c.Locals(view.LocalSite).(*view.Site)
	allowed := false
	if site != nil {
		for _, l := range site.Languages {
			allowed = allowed || l == lang
		}
	}
	if allowed {
		c.Cookie(&fiber.Cookie{
			Name: langCookie, Value: lang, Path: "/", MaxAge: int((365 * 24 * time.Hour).Seconds()),
			HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: c.Protocol() == "https",
		})
	}
	return c.Redirect(safeNext(c.Query("next")), fiber.StatusSeeOther)
}

// safeNext allows only a local path, so the switch cannot redirect to another site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	return next
}
