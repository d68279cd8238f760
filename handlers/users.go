package handlers

import (
	"errors"
	"net/http"

	"chat/store"
	"chat/views"

	"github.com/gofiber/fiber/v2"
)

// findUserParam finds the user named in the path.
func (a *App) findUserParam(c *fiber.Ctx) (store.User, error) {
	name := c.Params("username")
	if validateUsername(a.tr(c), name) != "" {
		return store.User{}, fiber.ErrNotFound
	}
	return a.store.FindUserByUsername(c.UserContext(), name)
}

// handleProfile shows a user's page, with a way to write to them.
func (a *App) handleProfile(c *fiber.Ctx) error {
	u, err := a.findUserParam(c)
	if err != nil {
		return err
	}
	s, _ := session(c)
	links, err := a.roomLinks(c, 0)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Profile(views.UserPage{Viewer: viewer(c), Rooms: links, Username: u.Username,
		Bot: u.IsBot, Deactivated: u.Deactivated, Self: u.ID == s.User.ID}))
}

// handleDMOpen opens the direct messages of the viewer and a user, the
// same room every time.
func (a *App) handleDMOpen(c *fiber.Ctx) error {
	u, err := a.findUserParam(c)
	if err != nil {
		return err
	}
	s, _ := session(c)
	switch {
	case u.ID == s.User.ID:
		return fiber.NewError(http.StatusUnprocessableEntity, a.tr(c).T("profile.dm_self"))
	case u.Deactivated:
		return fiber.NewError(http.StatusForbidden, a.tr(c).T("profile.deactivated"))
	}
	// Direct messages that exist open whatever the limit; new ones count
	// as a change of rooms (each is pushed to both people's lists).
	room, err := a.store.FindDM(c.UserContext(), s.User, u)
	if err == nil {
		return c.Redirect(views.RoomURL(room.ID), fiber.StatusSeeOther)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	created, err := a.changeRoom(c, s.User, func() (bool, error) {
		var created bool
		var err error
		room, created, err = a.store.OpenDMCreated(c.UserContext(), s.User, u)
		return created, err
	})
	if err != nil {
		return err
	}
	if created {
		a.lists.DMOpened(room.ID, s.User.Username, u.Username)
	}
	return c.Redirect(views.RoomURL(room.ID), fiber.StatusSeeOther)
}
