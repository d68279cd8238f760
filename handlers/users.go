package handlers

import (
	"errors"
	"net/http"
	"path"
	"strconv"

	"chat/store"

	"chat/static"
	"chat/views"

	"github.com/gofiber/fiber/v2"
)

// handleAvatar answers a user's avatar: their initials on a colour of
// their own.
// An uploaded picture replaces them. Browsers keep either, and ask again
// each time whether it changed (ETag): a new picture shows at once.
func (a *App) handleAvatar(c *fiber.Ctx) error {
	u, err := a.store.FindUserByUsername(c.UserContext(), c.Params("username"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	img, updated, err := a.store.FindAvatar(c.UserContext(), u.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	etag := `"initials"`
	if err == nil {
		etag = `"` + strconv.FormatInt(updated.UnixMilli(), 36) + `"`
	}
	c.Set(fiber.HeaderETag, etag)
	if c.Get(fiber.HeaderIfNoneMatch) == etag {
		return c.SendStatus(http.StatusNotModified)
	}
	if img != nil {
		c.Set(fiber.HeaderContentType, "image/png")
		return c.Send(img)
	}
	c.Set(fiber.HeaderContentType, "image/svg+xml")
	return views.Avatar(u.Username).Render(c.UserContext(), c.Response().BodyWriter())
}

// handleViewerCSS is the stylesheet of the signed-in user: it marks their
// own entries, so that every entry is rendered once for everyone.
func handleViewerCSS(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "text/css; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	v := viewer(c)
	return c.SendString(views.ViewerCSS(v.Username, v.Admin))
}

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
	c.Type(path.Ext(name))
	c.Status(http.StatusOK)
	return c.Send(body)
}
