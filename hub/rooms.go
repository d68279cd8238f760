package hub

// CloseRoom asks every connection of the room on this instance to close,
// and returns how many there were: the room is gone.
func (h *Hub) CloseRoom(roomID int64, code int, reason string) int {
	return h.CloseInRoom(roomID, func(string) bool { return true }, code, reason)
}

// CloseInRoom asks the connections of the room on this instance whose
// user match picks to close, and returns how many there were: a member
// removed, the non-members of a room that closed.
func (h *Hub) CloseInRoom(roomID int64, match func(user string) bool, code int, reason string) int {
	r := h.lookup(roomID)
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for s := range r.subs {
		if match(s.User) {
			s.Close(code, reason)
			n++
		}
	}
	return n
}

// SendEach queues to every connection on this instance the event pick
// chooses for its user (nil: nothing), and returns how many it was queued
// to. pick is called once a user, without the hub's locks held: a room
// list that changes for everyone is rendered once for each kind of
// reader, not once a reader.
func (h *Hub) SendEach(pick func(user string) *Event) int {
	h.mu.Lock()
	byUser := make(map[string][]*Sub, len(h.byUser))
	for user, subs := range h.byUser {
		for s := range subs {
			byUser[user] = append(byUser[user], s)
		}
	}
	h.mu.Unlock()
	n := 0
	for user, subs := range byUser {
		ev := pick(user)
		if ev == nil {
			continue
		}
		for _, s := range subs {
			h.Send(s, *ev)
			n++
		}
	}
	return n
}
