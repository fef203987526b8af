// Package favourite is the Merkliste: facilities a parent keeps to compare, held in the
// browser without an account. It is a cookie of facility ids, read on the server so the
// list works without JavaScript. Cookies belong to one host, so each city portal has its
// own list.
//
// When a parent registers, the account code carries the list into the account:
//
//	ids := favourite.Read(c)          // ids as the browser sent them, at most Max
//	… keep those that are facilities of the tenant (a cookie is user input) …
//	favourite.Clear(c)                // the account holds them from now on
package favourite

import (
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// CookieName is the cookie holding the list.
const CookieName = "merkliste"

// Max is how many facilities the list keeps; adding more drops the oldest.
const Max = 20

// Parse reads a cookie value: comma-separated facility ids. Anything that is not an id is
// dropped, duplicates collapse, and at most Max are kept (the newest, which come last).
func Parse(value string) []uuid.UUID {
	var ids []uuid.UUID
	for _, s := range strings.Split(value, ",") {
		id, err := uuid.Parse(strings.TrimSpace(s))
		if err != nil || id == uuid.Nil || slices.Contains(ids, id) {
			continue
		}
		ids = append(ids, id)
	}
	if len(ids) > Max {
		ids = ids[len(ids)-Max:]
	}
	return ids
}

// Format writes ids as a cookie value.
func Format(ids []uuid.UUID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return strings.Join(s, ",")
}

// Read returns the list of the request.
func Read(c *fiber.Ctx) []uuid.UUID { return Parse(c.Cookies(CookieName)) }

// Add returns ids with id appended (dropping the oldest beyond Max).
func Add(ids []uuid.UUID, id uuid.UUID) []uuid.UUID {
	return Parse(Format(append(slices.DeleteFunc(slices.Clone(ids), func(x uuid.UUID) bool { return x == id }), id)))
}

// Remove returns ids without id.
func Remove(ids []uuid.UUID, id uuid.UUID) []uuid.UUID {
	return slices.DeleteFunc(slices.Clone(ids), func(x uuid.UUID) bool { return x == id })
}

// Write stores ids in the response's cookie; an empty list deletes the cookie.
func Write(c *fiber.Ctx, ids []uuid.UUID) {
	if len(ids) == 0 {
		Clear(c)
		return
	}
	c.Cookie(&fiber.Cookie{
		Name: CookieName, Value: Format(ids), Path: "/", MaxAge: int((180 * 24 * time.Hour).Seconds()),
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: c.Protocol() == "https",
	})
}

// Clear deletes the list from the browser.
func Clear(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{
		Name: CookieName, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(0, 0),
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: c.Protocol() == "https",
	})
}
