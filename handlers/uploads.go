package handlers

import (
	"cmp"
	"slices"
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
	// uploadHeader says, on the request, that the upload was refused a
	// place (uploadRefused); the server sets or removes it before the
	// body is read, so a client cannot choose it. The places held are
	// App.heldUploads.
	uploadHeader  = "X-Chat-Upload"
	uploadRefused = "refused"
	// uploadHandling is how long a place of files outlasts its body's
	// time: the handling of its files (each picture may wait for a slot).
	uploadHandling = 5 * time.Minute
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

// take reserves a place for userID, kept at most uploadHold; false: the
// user or the server has all it may hold.
func (u *uploadSlots) take(userID int64, now time.Time) bool {
	return u.takeFor(userID, now, uploadHold)
}

// takeFor is take with a place kept at most hold.
func (u *uploadSlots) takeFor(userID int64, now time.Time, hold time.Duration) bool {
	_, ok := u.takeUntil(userID, now, hold)
	return ok
}

// takeUntil is takeFor that says when the place lapses: the place's own
// mark, by which releaseAt gives back this place and no other.
func (u *uploadSlots) takeUntil(userID int64, now time.Time, hold time.Duration) (time.Time, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.prune(now)
	if u.total >= cmp.Or(u.atOnce, uploadsAtOnce) || len(u.held[userID]) >= cmp.Or(u.perUser, uploadsPerUser) {
		return time.Time{}, false
	}
	if u.held == nil {
		u.held = make(map[int64][]time.Time)
	}
	// Kept in the order they lapse: prune lets go of a prefix. (Two
	// places of one mark are alike: releaseAt gives back either.)
	lapse := now.Add(hold)
	h := append(u.held[userID], lapse)
	slices.SortFunc(h, func(a, b time.Time) int { return a.Compare(b) })
	u.held[userID] = h
	u.total++
	return lapse, true
}

// releaseAt gives back the user's place that lapses at lapse, if it has
// not lapsed already (then another's place is not given in its stead).
func (u *uploadSlots) releaseAt(userID int64, lapse time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	h := u.held[userID]
	i := slices.IndexFunc(h, lapse.Equal)
	if i < 0 {
		return
	}
	if len(h) == 1 {
		delete(u.held, userID)
	} else {
		u.held[userID] = slices.Delete(h, i, i+1)
	}
	u.total--
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

// heldUpload is a place an upload holds, found again by its request.
type heldUpload struct {
	slots  *uploadSlots
	userID int64
	lapse  time.Time
}

// uploadMinRate is the slowest an upload of files may arrive at, in bytes
// a second: its request may take the read timeout and the time its body
// takes at that rate (512 kbit/s), at most uploadMaxTime.
const (
	uploadMinRate = 64 << 10
	uploadMaxTime = 10 * time.Minute
)

// uploadTime is how long the body of an upload of n bytes may take.
func uploadTime(n int) time.Duration {
	return min(readTimeout+time.Duration(n/uploadMinRate)*time.Second, uploadMaxTime)
}
