package handlers

import (
	"errors"
	"net/http"
	"time"

	"chat/hub"
	"chat/store"
	"chat/views"

	"github.com/gofiber/fiber/v2"
)

// resetLinkTTL is how long a reset link works.
const resetLinkTTL = 24 * time.Hour

// resetLink is the address of a reset link: the configured base URL and
// its path, or the path alone when there is none. Never from the
// request's Host or forwarded headers, which a client chooses.
func (a *App) resetLink(token string) string {
	return a.baseURL + "/reset/" + token
}

// linkGone answers a reset link that does not work.
func (a *App) linkGone(c *fiber.Ctx) error {
	return fiber.NewError(http.StatusNotFound, a.tr(c).T("auth.reset_link_gone"))
}

// handleResetForm is the page a reset link opens; anyone holding the link
// may use it, once.
func (a *App) handleResetForm(c *fiber.Ctx) error {
	u, err := a.store.FindResetToken(c.UserContext(), c.Params("token"))
	if errors.Is(err, store.ErrNotFound) {
		return a.linkGone(c)
	}
	if err != nil {
		return err
	}
	// The site's Referrer-Policy (same-origin) stays, which keeps the link
	// from other sites: under no-referrer a browser posts the form with
	// "Origin: null", which is refused as another site's.
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, http.StatusOK, views.Reset(views.ResetPage{Token: c.Params("token"), Username: u.Username}))
}

// handleReset sets the new password, spends the link and signs the user
// out everywhere.
func (a *App) handleReset(c *fiber.Ctx) error {
	token := c.Params("token")
	u, err := a.store.FindResetToken(c.UserContext(), token)
	if errors.Is(err, store.ErrNotFound) {
		return a.linkGone(c)
	}
	if err != nil {
		return err
	}
	password := c.FormValue("password")
	if msg := validatePassword(a.tr(c), password); msg != "" {
		return render(c, http.StatusUnprocessableEntity, views.Reset(views.ResetPage{Token: token, Username: u.Username, Error: msg}))
	}
	hash, err := a.hash(c.UserContext(), password)
	if err != nil {
		return err
	}
	u, ended, err := a.store.UseResetToken(c.UserContext(), token, hash)
	if errors.Is(err, store.ErrNotFound) {
		return a.linkGone(c)
	}
	if err != nil {
		return err
	}
	for _, id := range ended {
		a.hub.CloseSession(id, hub.ClosePolicy, "password reset")
	}
	a.log.Info("password reset", "user", u.Username, "sessions_ended", len(ended))
	return c.Redirect("/login", fiber.StatusSeeOther)
}
