package handlers

import (
	"errors"
	"net/http"

	"chat/store"
	"chat/views"

	"github.com/gofiber/fiber/v2"
)

// newSince is the entry the "New since you were here" line goes above:
// of the entries shown, the first after the viewer's read mark that is
// not their own, when a post by someone else is among the new ones (0:
// none, or a room never opened, which has no mark to be new since). When
// more are new than the page shows, the line goes above them all.
func newSince(msgs []store.Message, lastRead, viewerID int64) int64 {
	if lastRead == 0 {
		return 0
	}
	first := int64(0)
	for _, m := range msgs {
		if m.ID <= lastRead || m.UserID == viewerID {
			continue
		}
		if first == 0 {
			first = m.ID
		}
		if m.Kind == store.KindPost {
			return first
		}
	}
	return 0
}

// handleRoomNotify sets the viewer's notification level for the room:
// members only; a plain form goes back to the room, htmx gets the form.
func (a *App) handleRoomNotify(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	s, _ := session(c)
	ctx := c.UserContext()
	// Members only: the store sets a member's level alone (ErrNotMember).
	if _, err := a.readableRoom(ctx, id, s.User); err != nil {
		return err
	}
	level := c.FormValue("level")
	if !store.ValidNotifyLevel(level) {
		return fiber.NewError(http.StatusUnprocessableEntity, a.tr(c).T("notify.level_invalid"))
	}
	if err := a.store.SetNotifyLevel(ctx, id, s.User.ID, level); err != nil {
		return err
	}
	a.unread.LevelChanged(id)
	if isHTMX(c) {
		return render(c, http.StatusOK, views.NotifyForm(views.NotifyFormData{RoomID: id, Level: level, Saved: true}))
	}
	return c.Redirect(views.RoomURL(id), fiber.StatusSeeOther)
}

// handleSoundChange turns the sound of the viewer's notifications on
// ("on") or off (nothing, or "off").
func (a *App) handleSoundChange(c *fiber.Ctx) error {
	s, _ := session(c)
	var on bool
	switch c.FormValue("sound") {
	case "on":
		on = true
	case "", "off":
	default:
		page := views.AccountPage{Viewer: viewer(c), SoundError: a.tr(c).T("notify.sound_invalid")}
		if _, _, err := a.store.FindAvatar(c.UserContext(), s.User.ID); err == nil {
			page.HasAvatar = true
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return render(c, http.StatusUnprocessableEntity, views.Account(page))
	}
	if err := a.store.SetSound(c.UserContext(), s.User.ID, on); err != nil {
		return err
	}
	return c.Redirect("/account/password?sound=1#sound", fiber.StatusSeeOther)
}
