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
