package handlers

import (
	"context"
	"net/http"
	"sync"
	"time"

	"chat/hub"
	"chat/views"

	"github.com/gofiber/fiber/v2"
)

// typingMax bounds the typing signals remembered at once (one per user and
// room, for typingEvery).
const typingMax = 10000

// handleTyping tells the room that the user is typing: what a page sends
// over its socket ({"typing": true}), as a small POST from a page whose
// socket does not get through. One signal per user and room every
// typingEvery reaches the room; the others are dropped. 204 either way.
func (a *App) handleTyping(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	s, _ := session(c)
	room, err := a.memberRoom(c.UserContext(), id, s.User)
	if err != nil {
		return err
	}
	if room.Archived {
		return fiber.NewError(http.StatusForbidden, a.tr(c).T("errors.archived"))
	}
	if a.typing.take(s.User.ID, id, time.Now()) {
		a.hub.Publish(id, hub.Event{Text: frame(views.Typing(s.User.Username))})
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// typingMarks remembers when each user last signalled typing in each room.
// Its zero value is ready.
type typingMarks struct {
	mu   sync.Mutex
	last map[[2]int64]time.Time
}

// take says whether a signal of the user in the room goes out now, and if
// so notes it.
func (t *typingMarks) take(userID, roomID int64, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := [2]int64{userID, roomID}
	if now.Sub(t.last[k]) < typingEvery {
		return false
	}
	if t.last == nil {
		t.last = make(map[[2]int64]time.Time)
	}
	if len(t.last) >= typingMax {
		for k, at := range t.last {
			if now.Sub(at) >= typingEvery {
				delete(t.last, k)
			}
		}
		if len(t.last) >= typingMax {
			return false
		}
	}
	t.last[k] = now
	return true
}

// mayType reports whether a user's typing may be shown in a room: a
// member's, in a room that is not archived (read-only).
func (a *App) mayType(ctx context.Context, roomID, userID int64) bool {
	room, err := a.store.FindRoomByID(ctx, roomID)
	if err != nil || room.Archived {
		return false
	}
	ok, err := a.store.IsMember(ctx, roomID, userID)
	return err == nil && ok
}
