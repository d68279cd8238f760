package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"chat/hub"
	"chat/store"
	"chat/views"

	"github.com/gofiber/fiber/v2"
)

func (a *App) handleAccountForm(c *fiber.Ctx) error {
	s, _ := session(c)
	_, _, err := a.store.FindAvatar(c.UserContext(), s.User.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return render(c, http.StatusOK, views.Account(views.AccountPage{Viewer: viewer(c), Done: c.Query("changed") == "1",
		HasAvatar: err == nil, AvatarDone: c.Query("avatar") == "1", SoundDone: c.Query("sound") == "1"}))
}

// handlePasswordChange sets a new password and signs out every other
// session of the user, closing their sockets; this one stays.
func (a *App) handlePasswordChange(c *fiber.Ctx) error {
	s, _ := session(c)
	page := views.AccountPage{Viewer: viewer(c)}
	// A wrong current password is a failed sign-in of the user (someone
	// holding a stolen session could guess here): counted, before the
	// hash is checked, against the same per-name limit as logins.
	nameKey := strings.ToLower(s.User.Username)
	now := a.now()
	if wait := a.loginNames.Take(nameKey, now); wait > 0 {
		a.log.Warn("password change throttled", "user", s.User.Username, "request_id", c.Locals(localRequestID))
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(wait.Seconds())+1))
		page.Error = a.tr(c).T("account.too_many_wrong")
		return render(c, http.StatusTooManyRequests, views.Account(page))
	}
	ok, err := a.check(c.UserContext(), s.User.PasswordHash, c.FormValue("current_password"))
	if err != nil {
		return err
	}
	if !ok {
		page.Error = a.tr(c).T("account.wrong_current")
		return render(c, http.StatusUnauthorized, views.Account(page))
	}
	a.loginNames.Undo(nameKey, now)
	next := c.FormValue("new_password")
	if msg := validatePassword(a.tr(c), next); msg != "" {
		page.Error = msg
		return render(c, http.StatusUnprocessableEntity, views.Account(page))
	}
	hash, err := a.hash(c.UserContext(), next)
	if err != nil {
		return err
	}
	ended, err := a.store.ChangePassword(c.UserContext(), s.User.ID, hash, s.ID)
	if err != nil {
		return err
	}
	for _, id := range ended {
		a.hub.CloseSession(id, hub.ClosePolicy, "signed out")
	}
	a.log.Info("password changed", "user", s.User.Username, "sessions_ended", len(ended), "request_id", c.Locals(localRequestID))
	return c.Redirect("/account/password?changed=1", fiber.StatusSeeOther)
}
