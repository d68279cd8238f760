package handlers

import (
	"net/http"

	"chat/hub"
	"chat/i18n"
	"chat/store"
	"chat/views"

	"github.com/gofiber/fiber/v2"
)

// requireAdmin lets admins through; everyone else gets 403.
func requireAdmin(c *fiber.Ctx) error {
	s, ok := session(c)
	if !ok || !s.User.IsAdmin {
		return fiber.NewError(http.StatusForbidden, i18n.From(c.UserContext()).T("admin.only_admin"))
	}
	return c.Next()
}

func (a *App) adminPage(c *fiber.Ctx, status int, p views.AdminPage) error {
	users, err := a.store.ListUsers(c.UserContext())
	if err != nil {
		return err
	}
	for _, u := range users {
		p.Users = append(p.Users, views.AdminUser{Username: u.Username, Admin: u.IsAdmin, Bot: u.IsBot,
			Deactivated: u.Deactivated, Created: u.CreatedAt, WebhookURL: u.WebhookURL})
	}
	links, err := a.roomLinks(c, 0)
	if err != nil {
		return err
	}
	p.Viewer, p.Rooms, p.Allowed = viewer(c), links, a.webhooks.Allowed()
	if p.Invitations.Policy == "" {
		if p.Invitations, err = a.invitationsPart(c, p.Invitations); err != nil {
			return err
		}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, status, views.Admin(p))
}

func (a *App) handleAdmin(c *fiber.Ctx) error {
	done, err := a.adminDone(c)
	if err != nil {
		return err
	}
	return a.adminPage(c, http.StatusOK, views.AdminPage{Done: done})
}

// deactivationOf is the user the route names, if the admin may
// deactivate them: anyone but themselves.
func (a *App) deactivationOf(c *fiber.Ctx) (store.User, error) {
	u, err := a.findUserParam(c)
	if err != nil {
		return u, err
	}
	if s, _ := session(c); u.ID == s.User.ID {
		return u, fiber.NewError(http.StatusConflict, a.tr(c).T("admin.not_self"))
	}
	return u, nil
}

// promotionOf is the user the route names, if they can be made an admin:
// an active person, not a bot.
func (a *App) promotionOf(c *fiber.Ctx) (store.User, error) {
	u, err := a.findUserParam(c)
	if err != nil {
		return u, err
	}
	if u.IsBot || u.Deactivated {
		return u, fiber.NewError(http.StatusConflict, a.tr(c).T("admin.only_active_admin"))
	}
	return u, nil
}

// handleDeactivate stops an account: its sessions end, its sockets close
// with 1008, its logins are refused, a bot's token stops working. Its
// history stays.
func (a *App) handleDeactivate(c *fiber.Ctx) error {
	u, err := a.deactivationOf(c)
	if err != nil {
		return err
	}
	ended, err := a.store.DeactivateUser(c.UserContext(), u.ID)
	if err != nil {
		return err
	}
	for _, id := range ended {
		a.hub.CloseSession(id, hub.ClosePolicy, "account deactivated")
	}
	a.webhooks.Forget(u.Username)
	s, _ := session(c)
	a.log.Info("account deactivated", "user", u.Username, "by", s.User.Username, "sessions_ended", len(ended))
	return c.Redirect(adminDoneURL("deactivated", u.Username, 0), fiber.StatusSeeOther)
}

// handleMakeAdmin makes another user an admin.
func (a *App) handleMakeAdmin(c *fiber.Ctx) error {
	u, err := a.promotionOf(c)
	if err != nil {
		return err
	}
	if err := a.store.SetAdmin(c.UserContext(), u.ID); err != nil {
		return err
	}
	s, _ := session(c)
	a.log.Info("admin made", "user", u.Username, "by", s.User.Username)
	return c.Redirect(adminDoneURL("admin", u.Username, 0), fiber.StatusSeeOther)
}

// handleResetLink answers a one-time link that sets a new password for the
// user, valid for 24 hours: there is no mail; the admin hands it on. The
// user's other links end.
func (a *App) handleResetLink(c *fiber.Ctx) error {
	u, err := a.findUserParam(c)
	if err != nil {
		return err
	}
	if u.IsBot || u.Deactivated {
		return fiber.NewError(http.StatusConflict, a.tr(c).T("admin.only_active_reset"))
	}
	s, _ := session(c)
	token, err := a.store.CreateResetToken(c.UserContext(), u.ID, s.User.ID, resetLinkTTL)
	if err != nil {
		return err
	}
	a.log.Info("reset link made", "user", u.Username, "by", s.User.Username)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, http.StatusOK, views.ResetLink(views.ResetLinkPage{Viewer: viewer(c), Username: u.Username,
		Link: a.resetLink(token), Expires: a.now().Add(resetLinkTTL)}))
}
