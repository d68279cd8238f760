package hub_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"chat/hub"
)

// names renders presence as plain text, to see what the hub sends.
type names struct{}

func (names) List(_ int64, users []string) *hub.Text {
	return hub.Same([]byte("list:" + strings.Join(users, ",")))
}
func (names) Joined(_ int64, u string) *hub.Text { return hub.Same([]byte("joined:" + u)) }
func (names) Left(_ int64, u string) *hub.Text   { return hub.Same([]byte("left:" + u)) }

func drain(s *hub.Sub) []string {
	var out []string
	for _, ev := range s.Take(nil) {
		out = append(out, string(ev.Bytes(0)))
	}
	return out
}

func TestPresence(t *testing.T) {
	h := hub.New(hub.Config{Presence: names{}})
	a1, _ := h.Subscribe(1, "alice", "s1")
	if got := drain(a1); strings.Join(got, " ") != "list:alice" {
		t.Errorf("alice's first events %q", got)
	}
	b, _ := h.Subscribe(1, "bob", "s2")
	a2, _ := h.Subscribe(1, "alice", "s3")
	if got := drain(a1); strings.Join(got, " ") != "joined:bob" {
		t.Errorf("alice saw %q; a second tab of hers announces nothing", got)
	}
	if got := drain(b); strings.Join(got, " ") != "list:alice,bob" {
		t.Errorf("bob saw %q", got)
	}
	if got := drain(a2); strings.Join(got, " ") != "list:alice,bob" {
		t.Errorf("alice's second tab saw %q", got)
	}
	h.Unsubscribe(a1)
	if got := drain(b); len(got) != 0 {
		t.Errorf("closing one of two tabs: bob saw %q", got)
	}
	h.Unsubscribe(a2)
	h.Unsubscribe(a2) // twice is harmless
	if got := drain(b); strings.Join(got, " ") != "left:alice" {
		t.Errorf("bob saw %q", got)
	}
	if got := h.Online(1); strings.Join(got, ",") != "bob" {
		t.Errorf("online %v", got)
	}
}

func TestPublishReachesTheRoomOnly(t *testing.T) {
	h := hub.New(hub.Config{})
	in1, _ := h.Subscribe(1, "a", "s")
	in2, _ := h.Subscribe(1, "b", "s")
	out, _ := h.Subscribe(2, "c", "s")
	h.Publish(1, hub.Event{Seq: 5, Data: []byte("hello")})
	h.Publish(3, hub.Event{Data: []byte("nobody")})
	for _, s := range []*hub.Sub{in1, in2} {
		if got := drain(s); len(got) != 1 || got[0] != "hello" {
			t.Errorf("room member got %q", got)
		}
	}
	if got := drain(out); len(got) != 0 {
		t.Errorf("other room got %q", got)
	}
}

// A connection asked to close takes nothing published after: a member
// removed from a room sees nothing posted after the removal, however long
// their connection takes to go. What it had before stays to be written.
func TestClosedSubTakesNothingMore(t *testing.T) {
	h := hub.New(hub.Config{})
	bob, _ := h.Subscribe(1, "bob", "s")
	ann, _ := h.Subscribe(1, "ann", "s")
	h.Publish(1, hub.Event{Seq: 1, Data: []byte("before")})
	if n := h.CloseInRoom(1, func(u string) bool { return u == "bob" }, hub.ClosePolicy, "removed"); n != 1 {
		t.Fatalf("closed %d", n)
	}
	h.Publish(1, hub.Event{Seq: 2, Data: []byte("after")})
	h.SendUser("bob", 1, hub.Event{Data: []byte("to bob")}, hub.Everywhere)
	if got := drain(bob); len(got) != 1 || got[0] != "before" {
		t.Errorf("bob, removed, got %q", got)
	}
	if got := drain(ann); len(got) != 2 {
		t.Errorf("ann got %q", got)
	}
}

// A full queue closes that connection with 1013 and never blocks the
// publisher or the others.
func TestSlowSubscriberIsClosed(t *testing.T) {
	h := hub.New(hub.Config{QueueLen: 4})
	slow, _ := h.Subscribe(1, "slow", "s")
	fast, _ := h.Subscribe(1, "fast", "s")
	got := 0
	for i := range 100 {
		h.Publish(1, hub.Event{Seq: int64(i + 1), Data: []byte("x")})
		got += len(drain(fast))
	}
	if got != 100 {
		t.Errorf("fast got %d of 100", got)
	}
	select {
	case <-slow.Closing():
		if code, _ := slow.CloseCode(); code != hub.CloseTryAgainLater {
			t.Errorf("code %d", code)
		}
	default:
		t.Error("slow subscriber not asked to close")
	}
	select {
	case <-fast.Closing():
		t.Error("fast subscriber closed")
	default:
	}
}

func TestCloseSessionAndShutdown(t *testing.T) {
	h := hub.New(hub.Config{})
	a, _ := h.Subscribe(1, "alice", "s1")
	a2, _ := h.Subscribe(2, "alice", "s1")
	other, _ := h.Subscribe(1, "alice", "s2")
	if n := h.CloseSession("s1", hub.ClosePolicy, "signed out"); n != 2 {
		t.Errorf("closed %d", n)
	}
	for _, s := range []*hub.Sub{a, a2} {
		select {
		case <-s.Closing():
			if code, _ := s.CloseCode(); code != hub.ClosePolicy {
				t.Errorf("code %d", code)
			}
		default:
			t.Error("session socket left open")
		}
	}
	select {
	case <-other.Closing():
		t.Error("another session's socket closed")
	default:
	}

	h.Shutdown(hub.CloseServiceReboot, "restart")
	if code, _ := other.CloseCode(); code != hub.CloseServiceReboot {
		t.Errorf("shutdown code %d", code)
	}
	if _, err := h.Subscribe(1, "late", "s3"); !errors.Is(err, hub.ErrClosed) {
		t.Errorf("subscribe after shutdown: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := h.Wait(ctx); err == nil {
		t.Error("Wait returned with connections subscribed")
	}
	for _, s := range []*hub.Sub{a, a2, other} {
		h.Unsubscribe(s)
	}
	if err := h.Wait(context.Background()); err != nil {
		t.Error(err)
	}
	if h.Conns() != 0 {
		t.Errorf("%d connections left", h.Conns())
	}
}

func TestSendUserAndUserOnline(t *testing.T) {
	h := hub.New(hub.Config{})
	inOne, _ := h.Subscribe(1, "alice", "s1")
	inTwo, _ := h.Subscribe(2, "alice", "s2")
	bob, _ := h.Subscribe(2, "bob", "s3")
	if !h.UserOnline("alice") || !h.UserOnline("bob") {
		t.Errorf("alice online %v, bob online %v", h.UserOnline("alice"), h.UserOnline("bob"))
	}
	if h.UserOnline("carol") {
		t.Error("carol has no connection, yet is online")
	}
	// To alice's connections outside room 1 alone.
	if n := h.SendUser("alice", 1, hub.Event{Data: []byte("mark")}, hub.Everywhere); n != 1 {
		t.Errorf("sent to %d connections, want 1", n)
	}
	if got := drain(inTwo); strings.Join(got, " ") != "mark" {
		t.Errorf("alice's room 2 connection got %q", got)
	}
	if got := drain(inOne); len(got) != 0 {
		t.Errorf("alice's room 1 connection got %q", got)
	}
	if got := drain(bob); len(got) != 0 {
		t.Errorf("bob got %q", got)
	}
	h.Unsubscribe(inOne)
	h.Unsubscribe(inTwo)
	if h.UserOnline("alice") {
		t.Error("alice is online after her last connection closed")
	}
	if n := h.SendUser("alice", 0, hub.Event{Data: []byte("x")}, hub.Everywhere); n != 0 {
		t.Errorf("sent to %d connections of a user with none", n)
	}
}

func TestNoRoom(t *testing.T) {
	h := hub.New(hub.Config{Presence: names{}})
	lobby, err := h.Subscribe(hub.NoRoom, "alice", "s1")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := h.Subscribe(hub.NoRoom, "bob", "s2")
	if got := drain(lobby); len(got) != 0 {
		t.Errorf("a connection of no room got %q", got)
	}
	if h.Rooms() != 0 || h.Conns() != 2 {
		t.Errorf("rooms %d, conns %d", h.Rooms(), h.Conns())
	}
	if n := h.SendUser("alice", 1, hub.Event{Data: []byte("mark")}, hub.Everywhere); n != 1 {
		t.Errorf("sent to %d", n)
	}
	if got := drain(lobby); strings.Join(got, " ") != "mark" {
		t.Errorf("alice's lobby got %q", got)
	}
	h.Unsubscribe(lobby)
	if got := drain(other); len(got) != 0 {
		t.Errorf("bob saw alice come and go: %q", got)
	}
}

func TestOnlineElsewhere(t *testing.T) {
	h := hub.New(hub.Config{})
	h.Subscribe(1, "alice", "s1")
	h.Subscribe(2, "alice", "s2") // in room 1 too: not elsewhere
	h.Subscribe(2, "bob", "s3")
	h.Subscribe(hub.NoRoom, "carol", "s4")
	h.Subscribe(2, "eve", "s5") // not asked about
	for _, members := range []map[string]struct{}{
		{"alice": {}, "bob": {}, "carol": {}, "dave": {}},
		{"alice": {}, "bob": {}, "carol": {}, "dave": {}, "f": {}, "g": {}, "h": {}}, // more members than online
	} {
		got := h.OnlineElsewhere(1, members)
		slices.Sort(got)
		if strings.Join(got, " ") != "bob carol" {
			t.Errorf("elsewhere %v, want bob and carol", got)
		}
	}
}

func TestSendEach(t *testing.T) {
	h := hub.New(hub.Config{})
	a1, _ := h.Subscribe(1, "alice", "s1")
	a2, _ := h.Subscribe(hub.NoRoom, "alice", "s2")
	bob, _ := h.Subscribe(2, "bob", "s3")
	carol, _ := h.Subscribe(hub.NoRoom, "carol", "s4")
	asked := map[string]int{}
	n := h.SendEach(func(user string) *hub.Event {
		asked[user]++
		if user == "carol" {
			return nil
		}
		return &hub.Event{Data: []byte("for " + user)}
	})
	if n != 3 {
		t.Errorf("queued to %d connections, want 3", n)
	}
	if asked["alice"] != 1 || asked["bob"] != 1 || asked["carol"] != 1 || len(asked) != 3 {
		t.Errorf("pick asked %v, want each user once", asked)
	}
	for _, c := range []struct {
		sub  *hub.Sub
		want string
	}{{a1, "for alice"}, {a2, "for alice"}, {bob, "for bob"}, {carol, ""}} {
		if got := strings.Join(drain(c.sub), " "); got != c.want {
			t.Errorf("%s's connection got %q, want %q", c.sub.User, got, c.want)
		}
	}
}

// Notify stands in for a goroutine waiting on Ready and Closing: it is
// called for what waits already, for each event queued, and on Close.
func TestNotify(t *testing.T) {
	h := hub.New(hub.Config{Presence: names{}})
	s, _ := h.Subscribe(1, "alice", "s1")
	calls := 0
	s.Notify(func() { calls++ })
	if calls != 1 {
		t.Fatalf("the presence list waiting: %d calls, want 1", calls)
	}
	drain(s)
	h.Publish(1, hub.Event{Data: []byte("one")})
	h.Publish(1, hub.Event{Data: []byte("two")})
	if calls != 3 {
		t.Errorf("after two events: %d calls, want 3", calls)
	}
	s.Close(hub.ClosePolicy, "signed out")
	if calls != 4 {
		t.Errorf("after Close: %d calls, want 4", calls)
	}
	s.Close(hub.ClosePolicy, "twice")
	if calls != 4 {
		t.Errorf("a second Close: %d calls, want 4", calls)
	}

	// Set on a connection already asked to close, with nothing queued.
	c, _ := h.Subscribe(2, "bob", "s2")
	drain(c)
	c.Close(hub.CloseServiceReboot, "restart")
	late := 0
	c.Notify(func() { late++ })
	if late != 1 {
		t.Errorf("set after Close: %d calls, want 1", late)
	}
	// Nothing waiting, nothing closing: no call.
	d, _ := h.Subscribe(hub.NoRoom, "carol", "s3")
	idle := 0
	d.Notify(func() { idle++ })
	if idle != 0 {
		t.Errorf("nothing waiting: %d calls, want 0", idle)
	}
}
