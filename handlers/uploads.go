package handlers

import (
	"cmp"
	"sync"
	"time"
)

// Uploads past the body limit (a picture) held at once: each holds its
// body in memory while it arrives, and a client may send it as slowly as
// the read timeout lets it.
const (
	uploadsPerUser = 2
	uploadsAtOnce  = 16
	// uploadHold is how long a place is kept for an upload whose handler
	// never runs (its body never came): the read timeout and a margin.
	uploadHold = readTimeout + 10*time.Second
	// readTimeout bounds the reading of a request, its body included.
	readTimeout = 30 * time.Second
	// uploadHeader says, on the request, whether the upload holds a place
	// ("held {user id}") or was refused one (uploadRefused); the server
	// sets or removes it before the body is read, so a client cannot
	// choose it.
	uploadHeader = "X-Chat-Upload"
	uploadHeld   = "held"
	// uploadHeldFiles: the place is one of the files' (fileUploads).
	uploadHeldFiles = "held-files"
	uploadRefused   = "refused"
)

// uploadSlots are the places of uploads under way. A place is taken from
// the request's headers, before any byte of its body is read, and given
// back when its handler ends; one whose body never arrives is let go once
// the read timeout has ended its connection (uploadHold). Its zero value is ready.
type uploadSlots struct {
	// perUser and atOnce bound the places a user, and everyone, may
	// hold; 0: uploadsPerUser and uploadsAtOnce.
	perUser, atOnce int
	mu              sync.Mutex
	held            map[int64][]time.Time // user → when each of their places lapses
	total           int
}

// take reserves a place for userID; false: the user or the server has
// all it may hold.
func (u *uploadSlots) take(userID int64, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.prune(now)
	if u.total >= cmp.Or(u.atOnce, uploadsAtOnce) || len(u.held[userID]) >= cmp.Or(u.perUser, uploadsPerUser) {
		return false
	}
	if u.held == nil {
		u.held = make(map[int64][]time.Time)
	}
	u.held[userID] = append(u.held[userID], now.Add(uploadHold))
	u.total++
	return true
}

// release gives back the user's oldest place.
func (u *uploadSlots) release(userID int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	h := u.held[userID]
	if len(h) == 0 {
		return // lapsed already
	}
	if len(h) == 1 {
		delete(u.held, userID)
	} else {
		u.held[userID] = h[1:]
	}
	u.total--
}

// prune lets go the places that lapsed.
func (u *uploadSlots) prune(now time.Time) {
	for id, h := range u.held {
		i := 0
		for i < len(h) && !now.Before(h[i]) {
			i++
		}
		if i == 0 {
			continue
		}
		u.total -= i
		if i == len(h) {
			delete(u.held, id)
		} else {
			u.held[id] = h[i:]
		}
	}
}
