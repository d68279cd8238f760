package webhooks

import (
	"context"
	"sync"
	"time"

	"chat/store"
)

// writtenMax bounds the entries kept until the cluster hands them back.
const writtenMax = 10_000

// written are the entries this instance wrote that have not come back
// from the cluster yet (on an instance linked to others, an entry's
// webhooks are called when it comes back, once the room's members are
// known in the cluster's order). Past writtenMax, the oldest is not kept
// longer but handed to a worker, which reads its room itself: an entry that
// never comes back (the link was down) still calls its bots, and the
// memory stays bounded.
type written struct {
	mu    sync.Mutex
	m     map[int64]store.Message
	order []int64 // ids in the order written; some may have come back
}

func (wr *written) init() { wr.m = make(map[int64]store.Message) }

// add keeps m, and returns the entry it let go to keep within the bound.
func (wr *written) add(m store.Message) (store.Message, bool) {
	wr.mu.Lock()
	defer wr.mu.Unlock()
	wr.m[m.ID] = m
	wr.order = append(wr.order, m.ID)
	var out store.Message
	let := false
	if len(wr.m) > writtenMax {
		for len(wr.order) > 0 {
			id := wr.order[0]
			wr.order = wr.order[1:]
			if old, ok := wr.m[id]; ok {
				delete(wr.m, id)
				out, let = old, true
				break
			}
		}
	}
	if len(wr.order) > 2*writtenMax {
		// Most ids came back: keep only those still waiting.
		live := make([]int64, 0, len(wr.m))
		for _, id := range wr.order {
			if _, ok := wr.m[id]; ok {
				live = append(live, id)
			}
		}
		wr.order = live
	}
	return out, let
}

func (wr *written) take(id int64) (store.Message, bool) {
	wr.mu.Lock()
	defer wr.mu.Unlock()
	m, ok := wr.m[id]
	delete(wr.m, id)
	return m, ok
}

// Written keeps an entry written here until the cluster hands it back
// (Returned). It runs on the writer's pushing goroutine and never waits.
func (w *Webhooks) Written(m store.Message) {
	if m.Kind != store.KindPost {
		return
	}
	if old, let := w.written.add(m); let {
		// Its room is read by a worker, off this goroutine.
		w.enqueue(task{room: old.RoomID, msg: old})
	}
}

// Returned takes back the entry with that id if this instance wrote it:
// its webhooks are then for the caller to call (Entry).
func (w *Webhooks) Returned(id int64) (store.Message, bool) {
	return w.written.take(id)
}

// resolve calls the webhooks of an entry whose room was not known when it
// was handed over: it reads the room and its members first.
func (w *Webhooks) resolve(m store.Message) {
	ctx, cancel := context.WithTimeout(w.ctx, 5*time.Second)
	defer cancel()
	room, err := w.store.FindRoomByID(ctx, m.RoomID)
	if err != nil {
		w.log.Error("webhook: room not read", "room", m.RoomID, "message", m.ID, "err", err)
		return
	}
	names, err := w.store.ListMembers(ctx, m.RoomID)
	if err != nil {
		w.log.Error("webhook: members not read", "room", m.RoomID, "message", m.ID, "err", err)
		return
	}
	members := make(map[string]struct{}, len(names))
	for _, n := range names {
		members[n] = struct{}{}
	}
	for _, b := range w.targets(m, room.Kind, members) {
		w.deliver(task{bot: b, room: m.RoomID, msg: m})
	}
}
