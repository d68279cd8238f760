package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"chat/store"
	"chat/views"

	"github.com/gofiber/fiber/v2"
)

// switchMax is how many matches the quick switcher shows.
const switchMax = 20

// handleSwitch is the quick switcher: the rooms the viewer may read, the
// viewer's direct messages and the people to write to, whose names hold
// ?q= in any case; with no q, the viewer's own rooms. To htmx (the
// dialog Ctrl+K opens) it answers the matches alone; otherwise a page
// with a form, which works without JavaScript.
func (a *App) handleSwitch(c *fiber.Ctx) error {
	q := strings.TrimSpace(c.Query("q"))
	p := views.SwitchView{Viewer: viewer(c), Query: q}
	status := http.StatusOK
	if !utf8.ValidString(q) || utf8.RuneCountInString(q) > views.SwitchQueryMax {
		p.Query = ""
		p.Error, status = a.tr(c).F("switch.too_long", "Max", views.SwitchQueryMax), http.StatusUnprocessableEntity
	} else {
		results, err := a.switchMatches(c.UserContext(), c, q)
		if err != nil {
			return err
		}
		p.Results = results
	}
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	if isHTMX(c) {
		return render(c, status, views.SwitchResults(p))
	}
	return render(c, status, views.SwitchPage(p))
}

// switchMatches finds the quick switcher's matches for q: rooms first
// (the viewer's own before the others), then direct messages, then the
// people the viewer has no direct messages with yet; at most switchMax.
// Every room passes readableRoom, the one gate of reading a room, so a
// closed room never shows to one who is not in it.
func (a *App) switchMatches(ctx context.Context, c *fiber.Ctx, q string) ([]views.SwitchResult, error) {
	s, _ := session(c)
	key := store.RoomNameKey(q)
	matches := func(name string) bool { return strings.Contains(store.RoomNameKey(name), key) }
	rooms, err := a.store.ListRoomNames(ctx, s.User.ID)
	if err != nil {
		return nil, err
	}
	dms, err := a.store.ListDMNames(ctx, s.User.ID)
	if err != nil {
		return nil, err
	}
	var own, others []store.RoomListing
	for _, r := range rooms {
		switch {
		case !matches(r.Name):
		case r.Member:
			own = append(own, r)
		case q != "" && !r.Archived:
			others = append(others, r)
		}
	}
	var out []views.SwitchResult
	for _, r := range append(own, others...) {
		if len(out) == switchMax {
			return out, nil
		}
		room, err := a.readableRoom(ctx, r.ID, s.User)
		if err != nil {
			if isHidden(err) {
				continue
			}
			return nil, err
		}
		kind := views.SwitchRoom
		if room.Access == store.AccessClosed {
			kind = views.SwitchClosed
		}
		out = append(out, views.SwitchResult{Kind: kind, RoomID: room.ID, Name: room.Name})
	}
	withDM := make(map[string]bool, len(dms))
	for _, r := range dms {
		withDM[r.Name] = true
		if len(out) == switchMax || !matches(r.Name) {
			continue
		}
		if _, err := a.readableRoom(ctx, r.ID, s.User); err != nil {
			if isHidden(err) {
				continue
			}
			return nil, err
		}
		out = append(out, views.SwitchResult{Kind: views.SwitchDM, RoomID: r.ID, Name: r.Name})
	}
	if q == "" || len(out) == switchMax {
		return out, nil
	}
	users, err := a.store.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if len(out) == switchMax {
			break
		}
		if u.ID == s.User.ID || u.Deactivated || u.IsBot || withDM[u.Username] || !matches(u.Username) {
			continue
		}
		out = append(out, views.SwitchResult{Kind: views.SwitchPerson, Name: u.Username})
	}
	return out, nil
}

// isHidden reports whether readableRoom refused a room (gone, closed to
// the viewer, someone else's direct messages) rather than failed.
func isHidden(err error) bool {
	var fe *fiber.Error
	return errors.Is(err, store.ErrNotFound) || errors.As(err, &fe) && fe.Code == http.StatusForbidden
}
