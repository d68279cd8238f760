package cluster_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"chat/cluster"
	"chat/hub"
	"chat/internal/testnats"
	"chat/internal/testutil"
	"chat/store"

	"github.com/nats-io/nats.go"
)

// presence renders presence as plain text, for the tests to read.
type presence struct{}

func (presence) List(_ int64, users []string) *hub.Text {
	return hub.Same([]byte("list:" + strings.Join(users, ",")))
}
func (presence) Joined(_ int64, user string) *hub.Text { return hub.Same([]byte("joined:" + user)) }
func (presence) Left(_ int64, user string) *hub.Text   { return hub.Same([]byte("left:" + user)) }

// rig is one room in a real store, with entries to publish as an
// instance would, and the cluster link of a hub reading them back.
type rig struct {
	t     *testing.T
	nats  *testnats.Server
	url   string
	db    *store.Store
	room  int64
	user  int64
	posts []store.Message
}

func newRig(t *testing.T, posts int) *rig {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "chat.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	u, err := db.CreateUser(ctx, "ada", "h")
	if err != nil {
		t.Fatal(err)
	}
	room, _, err := db.CreateRoom(ctx, "general", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	ns := testnats.Run(t, -1)
	r := &rig{t: t, nats: ns, url: ns.URL, db: db, room: room.ID, user: u.ID}
	r.store(posts)
	return r
}

// store adds n posts to the room.
func (r *rig) store(n int) {
	r.t.Helper()
	for range n {
		m, _, err := r.db.CreatePost(context.Background(), r.room, r.user, fmt.Sprintf("post %d", len(r.posts)), "")
		if err != nil {
			r.t.Fatal(err)
		}
		r.posts = append(r.posts, m)
	}
}

// link starts a hub linked to the cluster, with the room's entries up to
// now already stored (as an instance that starts finds them).
func (r *rig) link(gap, heartbeat time.Duration) (*hub.Hub, *cluster.Cluster) {
	r.t.Helper()
	h := hub.New(hub.Config{Presence: presence{}})
	c, err := cluster.Start(context.Background(), cluster.Config{
		URL:       r.url,
		Hub:       h,
		Heartbeat: heartbeat,
		GapWait:   gap,
		Latest: func(ctx context.Context) (map[int64]int64, error) {
			return map[int64]int64{r.room: r.posts[0].ID}, nil
		},
		Fill: func(ctx context.Context, roomID, after int64) ([]hub.Event, error) {
			msgs, err := r.db.ListMessagesAfter(ctx, roomID, after, 500)
			if err != nil {
				return nil, err
			}
			var evs []hub.Event
			for _, m := range msgs {
				evs = append(evs, hub.Event{Seq: m.ID, Data: []byte(m.Text)})
			}
			return evs, nil
		},
	})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { c.Close() })
	return h, c
}

// publish sends post i as an instance that stored it would: its id,
// the id before it, its bytes.
func (r *rig) publish(nc *nats.Conn, i int) {
	r.t.Helper()
	m := r.posts[i]
	prev := r.posts[i-1].ID
	b := []byte{'e'}
	b = binary.AppendUvarint(b, uint64(m.ID))
	b = binary.AppendUvarint(b, uint64(prev))
	b = append(b, 0, 0) // no meta; the same bytes in every language
	b = append(b, m.Text...)
	if err := nc.Publish(fmt.Sprintf("chat.room.%d", r.room), b); err != nil {
		r.t.Fatal(err)
	}
	nc.Flush()
}

// received reads the texts of the entries a connection was sent, until
// it has n or thirty seconds pass.
func received(sub *hub.Sub, n int) []string {
	var got []string
	deadline := time.After(30 * time.Second)
	for len(got) < n {
		select {
		case <-sub.Ready():
			for _, ev := range sub.Take(nil) {
				if ev.Seq != 0 {
					got = append(got, string(ev.Bytes(0)))
				}
			}
		case <-deadline:
			return got
		}
	}
	return got
}

func TestEntriesInOrderOnce(t *testing.T) {
	r := newRig(t, 5)
	h, _ := r.link(150*time.Millisecond, 100*time.Millisecond)
	sub, err := h.Subscribe(r.room, "bob", "s1")
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(r.url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()

	// Post 2 comes before post 1, within the wait: held, then both in
	// order.
	r.publish(nc, 2)
	r.publish(nc, 1)
	if got := received(sub, 2); !slices.Equal(got, []string{"post 1", "post 2"}) {
		t.Errorf("crossed entries: %q", got)
	}
	// Post 3 never comes (its instance died before publishing): post 4
	// waits for it, then both are read from the database, in order.
	r.publish(nc, 4)
	if got := received(sub, 2); !slices.Equal(got, []string{"post 3", "post 4"}) {
		t.Errorf("after a lost entry: %q", got)
	}
	// Post 3 comes late after all, and 4 again: delivered already, not
	// again; the stream goes on with 5.
	r.store(2)
	r.publish(nc, 3)
	r.publish(nc, 4)
	r.publish(nc, 5)
	if got := received(sub, 1); !slices.Equal(got, []string{"post 5"}) {
		t.Errorf("after late copies: %q", got)
	}
	// A copy of an entry delivered long ago is dropped: post 6, published
	// after it on the same connection, comes first.
	r.publish(nc, 1)
	r.publish(nc, 6)
	if got := received(sub, 1); !slices.Equal(got, []string{"post 6"}) {
		t.Errorf("an old entry again: %q", got)
	}
}

// TestPresenceAcrossInstances: one entry per user whatever the instance;
// an instance that says goodbye takes its users at once, one that dies
// after three heartbeats.
func TestPresenceAcrossInstances(t *testing.T) {
	r := newRig(t, 1)
	// Heartbeats every 400 ms: a silent instance is gone after 1.2 s.
	h1, c1 := r.link(time.Second, 400*time.Millisecond)
	h2, _ := r.link(time.Second, 400*time.Millisecond)
	h3, c3 := r.link(time.Second, 400*time.Millisecond)
	watch, err := h2.Subscribe(r.room, "watcher", "w")
	if err != nil {
		t.Fatal(err)
	}
	online := func(h *hub.Hub, want ...string) bool {
		return testutil.Within(30*time.Second, func() bool { return slices.Equal(h.Online(r.room), want) })
	}
	if _, err := h1.Subscribe(r.room, "ann", "a1"); err != nil {
		t.Fatal(err)
	}
	if _, err := h1.Subscribe(r.room, "bo", "b1"); err != nil {
		t.Fatal(err)
	}
	if _, err := h3.Subscribe(r.room, "ann", "a3"); err != nil {
		t.Fatal(err)
	}
	if _, err := h3.Subscribe(r.room, "cat", "c3"); err != nil {
		t.Fatal(err)
	}
	for i, h := range []*hub.Hub{h1, h2, h3} {
		if !online(h, "ann", "bo", "cat", "watcher") {
			t.Errorf("instance %d: online %v", i+1, h.Online(r.room))
		}
	}
	// Instance 1 says goodbye: bo, there alone, goes at once (well before
	// a silence would tell); ann, on instance 3 too, stays.
	c1.Close()
	if !testutil.Within(700*time.Millisecond, func() bool { return slices.Equal(h2.Online(r.room), []string{"ann", "cat", "watcher"}) }) {
		t.Errorf("just after instance 1 left: %v", h2.Online(r.room))
	}
	// Instance 3 dies without a word: after three heartbeats its users go.
	c3.Kill()
	if !online(h2, "watcher") {
		t.Errorf("after instance 3 died: %v", h2.Online(r.room))
	}
	// The watcher's page was told each arrival and departure once.
	var frames []string
	for _, ev := range watch.Take(nil) {
		frames = append(frames, string(ev.Bytes(0)))
	}
	joins, lefts := 0, 0
	for _, f := range frames {
		if strings.HasPrefix(f, "joined:") {
			joins++
		}
		if strings.HasPrefix(f, "left:") {
			lefts++
		}
	}
	if joins != 3 || lefts != 3 {
		t.Errorf("the watcher was told %d arrivals and %d departures, want 3 and 3: %q", joins, lefts, frames)
	}
}

// TestCatchUpAfterNATSOutage: entries stored while the NATS server was
// down never come on it; once the link is back, the rooms followed here
// read them back at once, without waiting for their next entry.
func TestCatchUpAfterNATSOutage(t *testing.T) {
	r := newRig(t, 2)
	h, _ := r.link(time.Hour, 100*time.Millisecond) // no fill on a gap: only the catch-up
	sub, err := h.Subscribe(r.room, "bob", "s1")
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(r.url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	r.publish(nc, 1)
	if got := received(sub, 1); !slices.Equal(got, []string{"post 1"}) {
		t.Fatalf("before the outage: %q", got)
	}
	// The server goes; two posts are stored meanwhile (their instance
	// could not publish them); the server comes back on the same port.
	r.nats.Stop()
	r.store(2)
	r.nats = testnats.Run(t, r.nats.Port)
	if got := received(sub, 2); !slices.Equal(got, []string{"post 2", "post 3"}) {
		t.Errorf("after the outage: %q", got)
	}
}

// TestChangeWaitsForItsEntry: a change (no id) that comes while an entry
// waits for a lost predecessor is delivered after them, not before.
func TestChangeWaitsForItsEntry(t *testing.T) {
	r := newRig(t, 3)
	h, _ := r.link(150*time.Millisecond, 100*time.Millisecond)
	sub, err := h.Subscribe(r.room, "bob", "s1")
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(r.url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	r.publish(nc, 2) // post 1 is lost
	// An edit of post 2, published after it.
	change := append([]byte{'v', 0, 0}, "post 2, edited"...)
	if err := nc.Publish(fmt.Sprintf("chat.room.%d", r.room), change); err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	var got []string
	deadline := time.After(30 * time.Second)
	for len(got) < 3 {
		select {
		case <-sub.Ready():
			for _, ev := range sub.Take(nil) {
				if !strings.HasPrefix(string(ev.Bytes(0)), "list:") {
					got = append(got, string(ev.Bytes(0)))
				}
			}
		case <-deadline:
			t.Fatalf("got %q", got)
		}
	}
	if want := []string{"post 1", "post 2", "post 2, edited"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestCloseBounded: with the NATS server gone, Close still returns within
// its bound, and a second Close at once.
func TestCloseBounded(t *testing.T) {
	r := newRig(t, 1)
	_, c := r.link(time.Second, 100*time.Millisecond)
	r.nats.Stop()
	done := make(chan struct{})
	go func() {
		c.Close()
		c.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(cluster.DrainTimeout + time.Second):
		t.Fatal("Close did not return within its bound")
	}
}
