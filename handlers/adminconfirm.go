package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"chat/store"
	"chat/views"

	"github.com/gofiber/fiber/v2"
)

// The admin's destructive actions ask first. Without script, their links
// open these pages, each with the one form that posts the action and a
// way back; with it, the admin page's dialog asks instead. The POST routes
// act on their own (a script may call them directly).

func (a *App) handleDeactivateConfirm(c *fiber.Ctx) error {
	u, err := a.deactivationOf(c)
	if err != nil {
		return err
	}
	if u.Deactivated {
		return c.Redirect(adminDoneURL("deactivated", u.Username, 0), fiber.StatusSeeOther)
	}
	return a.adminConfirm(c, views.DeactivateConfirm(c.UserContext(), u.Username, u.IsBot))
}

func (a *App) handleMakeAdminConfirm(c *fiber.Ctx) error {
	u, err := a.promotionOf(c)
	if err != nil {
		return err
	}
	if u.IsAdmin {
		return c.Redirect(adminDoneURL("admin", u.Username, 0), fiber.StatusSeeOther)
	}
	return a.adminConfirm(c, views.MakeAdminConfirm(c.UserContext(), u.Username))
}

func (a *App) adminConfirm(c *fiber.Ctx, q views.AdminQuestion) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, http.StatusOK, views.AdminConfirm(views.AdminConfirmPage{Viewer: viewer(c), Question: q}))
}

// adminDoneURL is where an admin action sends the admin back: the admin
// page, told what was done.
func adminDoneURL(done, user string, room int64) string {
	q := url.Values{"done": {done}}
	if user != "" {
		q.Set("user", user)
	}
	if room != 0 {
		q.Set("room", strconv.FormatInt(room, 10))
	}
	return "/admin?" + q.Encode()
}

// adminDone says what the admin's last action did, from the address it
// sent them back to. It says only what holds now, so that a link made up
// by someone else tells an admin nothing untrue.
func (a *App) adminDone(c *fiber.Ctx) (string, error) {
	ctx := c.UserContext()
	done := c.Query("done")
	var u store.User
	if name := c.Query("user"); name != "" {
		if validateUsername(a.tr(c), name) != "" {
			return "", nil
		}
		var err error
		if u, err = a.store.FindUserByUsername(ctx, name); errors.Is(err, store.ErrNotFound) {
			return "", nil
		} else if err != nil {
			return "", err
		}
	}
	switch done {
	case "deactivated":
		if u.Deactivated {
			return views.DoneDeactivated(ctx, u.Username), nil
		}
	case "admin":
		if u.IsAdmin {
			return views.DoneAdmin(ctx, u.Username), nil
		}
	case "bot-room":
		id, err := strconv.ParseInt(c.Query("room"), 10, 64)
		if err != nil || !u.IsBot {
			return "", nil
		}
		room, err := a.store.FindRoomByID(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return "", nil
		} else if err != nil {
			return "", err
		}
		if in, err := a.store.IsMember(ctx, room.ID, u.ID); err != nil || !in {
			return "", err
		}
		return views.DoneBotRoom(ctx, u.Username, room.Name), nil
	case "registration":
		policy, err := a.store.RegistrationPolicy(ctx)
		if err != nil {
			return "", err
		}
		return views.DoneRegistration(ctx, policy), nil
	case "revoked":
		id, err := strconv.ParseInt(c.Query("invitation"), 10, 64)
		if err != nil {
			return "", nil
		}
		list, err := a.store.ListInvitations(ctx)
		if err != nil {
			return "", err
		}
		for _, inv := range list {
			if inv.ID == id && inv.Revoked {
				return views.DoneRevoked(ctx), nil
			}
		}
	}
	return "", nil
}
