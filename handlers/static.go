package handlers

import (
	"net/http"

	"github.com/gofiber/fiber/v2"

	"path"

	"chat/static"
)

// handleStatic serves the embedded files. A URL with this build's version
// may be cached for a year; any other version is served but not cached,
// so that an old page still works during an upgrade.
func handleStatic(c *fiber.Ctx) error {
	name := c.Params("name")
	if name == "" || path.Base(name) != name {
		return fiber.ErrNotFound
	}
	body, err := static.Read(name)
	if err != nil {
		return fiber.ErrNotFound
	}
	if c.Params("version") == static.Version() {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "no-cache")
	}
	if ext := path.Ext(name); ext == ".webmanifest" {
		c.Set(fiber.HeaderContentType, "application/manifest+json")
	} else {
		c.Type(ext)
	}
	c.Status(http.StatusOK)
	return c.Send(body)
}
