package server

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/queue"
	"kitaportal/internal/tenant"
)

type health struct {
	db       *bun.DB
	redis    redis.UniversalClient
	registry *tenant.Registry
}

// live answers as long as the process serves HTTP.
func (h *health) live(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"status": "ok"})
}

// ready checks PostgreSQL, Redis and that tenants are loaded; 503 names what is missing.
func (h *health) ready(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	checks := fiber.Map{}
	ok := true
	ctx, cancel := context.WithTimeout(c.UserContext(), time.Second)
	defer cancel()
	if err := h.db.PingContext(ctx); err != nil {
		checks["database"], ok = "unavailable", false
	} else {
		checks["database"] = "ok"
	}
	if h.redis == nil {
		checks["redis"] = "not configured"
	} else if err := queue.Ping(ctx, h.redis); err != nil {
		checks["redis"], ok = "unavailable", false
	} else {
		checks["redis"] = "ok"
	}
	if h.registry.Ready() {
		checks["tenants"] = "ok"
	} else {
		checks["tenants"], ok = "not loaded", false
	}
	status, word := fiber.StatusOK, "ok"
	if !ok {
		status, word = fiber.StatusServiceUnavailable, "unavailable"
	}
	return c.Status(status).JSON(fiber.Map{"status": word, "checks": checks})
}
