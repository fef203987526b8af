package server

import (
	"github.com/gofiber/fiber/v2"

	"kitaportal/web"
)

// openAPISpec is the API description, embedded; the same for every tenant host.
var openAPISpec = mustRead("openapi/openapi.json")

func mustRead(name string) []byte {
	b, err := web.FS.ReadFile(name)
	if err != nil {
		panic("server: " + err.Error())
	}
	return b
}

// openAPI serves GET /api/v1/openapi.json.
func openAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return c.Send(openAPISpec)
}
