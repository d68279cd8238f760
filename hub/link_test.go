package hub_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"chat/hub"
)

// loop links hubs of one process as package cluster links instances:
// a room's events go to every hub, the publisher's too; the rest to the
// others. Calls are carried out before they return, so a test reads the
// result at once.
type loop struct {
	mu  sync.Mutex
	ins []*hub.Inbound
	// where counts, by room and user, the hubs the user is present on.
	where map[int64]map[string]map[int]bool
}

// end is one hub's relay.
type end struct {
	l    *loop
	self int
}

func (e end) Publish(roomID int64, ev hub.Event) {
	for _, in := range e.l.ins {
		in.Deliver(roomID, ev)
	}
}

func (e end) Present(roomID int64, user string, present bool) {
	e.l.mu.Lock()
	defer e.l.mu.Unlock()
	if e.l.where[roomID] == nil {
		e.l.where[roomID] = make(map[string]map[int]bool)
	}
	if e.l.where[roomID][user] == nil {
		e.l.where[roomID][user] = make(map[int]bool)
	}
	on := e.l.where[roomID][user]
	on[e.self] = present
	for i, in := range e.l.ins {
		if i == e.self {
			continue
		}
		n := 0
		for j, p := range on {
			if p && j != i {
				n++
			}
		}
		in.SetRemote(roomID, user, n)
	}
}

func (e end) CloseSession(session string, code int, reason string) {
	for i, in := range e.l.ins {
		if i != e.self {
			in.CloseSession(session, code, reason)
		}
	}
}

func (e end) SendUser(user string, skipRoom int64, ev hub.Event) {
	for i, in := range e.l.ins {
		if i != e.self {
			in.SendUser(user, skipRoom, ev)
		}
	}
}

func linked(t *testing.T, n int) []*hub.Hub {
	t.Helper()
	l := &loop{where: make(map[int64]map[string]map[int]bool)}
	var hubs []*hub.Hub
	for i := range n {
		h := hub.New(hub.Config{Presence: names{}})
		in, err := h.Link(end{l, i})
		if err != nil {
			t.Fatal(err)
		}
		l.ins = append(l.ins, in)
		hubs = append(hubs, h)
	}
	return hubs
}

func TestLinkOnceBeforeConnections(t *testing.T) {
	h := hub.New(hub.Config{})
	if _, err := h.Link(end{l: &loop{}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Link(end{l: &loop{}}); !errors.Is(err, hub.ErrLinked) {
		t.Errorf("linked twice: %v", err)
	}
	busy := hub.New(hub.Config{})
	busy.Subscribe(1, "alice", "s1")
	if _, err := busy.Link(end{l: &loop{}}); !errors.Is(err, hub.ErrLinked) {
		t.Errorf("linked with a connection held: %v", err)
	}
}

func TestLinkedScopes(t *testing.T) {
	hubs := linked(t, 2)
	a, b := hubs[0], hubs[1]
	aliceA, _ := a.Subscribe(2, "alice", "s1")
	aliceB, _ := b.Subscribe(2, "alice", "s2")
	bob, _ := b.Subscribe(1, "bob", "s3")
	if got := a.Online(2); strings.Join(got, ",") != "alice" {
		t.Errorf("room 2 on a: %v", got)
	}
	if got := a.Online(1); strings.Join(got, ",") != "bob" {
		t.Errorf("room 1 on a: bob is on b, yet a lists %v", got)
	}
	drain(aliceA)
	drain(aliceB)
	drain(bob)

	a.Publish(1, hub.Event{Data: []byte("hello")})
	if got := drain(bob); strings.Join(got, " ") != "hello" {
		t.Errorf("a's publish: bob on b got %q", got)
	}
	for _, c := range []struct {
		scope  hub.Scope
		n      int
		onA    string
		onB    string
		reason string
	}{
		{hub.Here, 1, "x", "", "here"},
		{hub.Elsewhere, 0, "", "x", "elsewhere"},
		{hub.Everywhere, 1, "x", "x", "everywhere"},
	} {
		if n := a.SendUser("alice", 1, hub.Event{Data: []byte("x")}, c.scope); n != c.n {
			t.Errorf("%s: sent to %d here, want %d", c.reason, n, c.n)
		}
		if got := strings.Join(drain(aliceA), " "); got != c.onA {
			t.Errorf("%s: alice on a got %q", c.reason, got)
		}
		if got := strings.Join(drain(aliceB), " "); got != c.onB {
			t.Errorf("%s: alice on b got %q", c.reason, got)
		}
	}
	if n := a.CloseSession("s2", hub.ClosePolicy, "signed out"); n != 0 {
		t.Errorf("closed %d here, want 0", n)
	}
	select {
	case <-aliceB.Closing():
	default:
		t.Error("the session on b was not asked to close")
	}
}
