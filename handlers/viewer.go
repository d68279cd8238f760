package handlers

import (
	"chat/views"

	"github.com/gofiber/fiber/v2"
)

// handleViewerCSS is the stylesheet of the signed-in user: it marks their
// own entries, so that every entry is rendered once for everyone.
func handleViewerCSS(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "text/css; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	v := viewer(c)
	return c.SendString(views.ViewerCSS(v.Username, v.Admin))
}
