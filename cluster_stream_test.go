package main

import (
	"bufio"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"chat/internal/testdb"
	"chat/internal/testnats"
	"chat/internal/testutil"
	"chat/store"
)

// followStream is follow over a room's event stream in place of its
// socket: each event's data is taken as a socket's frame would be.
func followStream(t *testing.T, who member, base, room string, after int64) *follower {
	t.Helper()
	u := base + room + "/events"
	if after >= 0 {
		u += "?after=" + strconv.FormatInt(after, 10)
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Cookie", who.cookie)
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: stream %s: %v", who.name, u, err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s: stream %s: %d", who.name, u, res.StatusCode)
	}
	t.Cleanup(func() { res.Body.Close() })
	f := &follower{t: t, who: who, room: room, present: map[string]bool{}, closed: make(chan struct{})}
	go func() {
		defer close(f.closed)
		r := bufio.NewReader(res.Body)
		var data []string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case line == "" && data != nil:
				f.take(strings.Join(data, "\n"))
				data = nil
			case strings.HasPrefix(line, "data: "):
				data = append(data, strings.TrimPrefix(line, "data: "))
			}
		}
	}()
	return f
}

// One member follows a room over its event stream on instance A, another
// over a socket on instance B; posts come from both instances, by form,
// by socket and by the page's HTTP send: both see every post once, in the
// order stored, and each other online.
func TestClusterStreamAndSocket(t *testing.T) {
	testdb.RequirePostgres(t)
	dbURL := testdb.NewPostgres(t)
	natsURL := testnats.Start(t)
	a := start(t, dbURL, "-nats", natsURL, "-post-limit", "0")
	b := start(t, dbURL, "-nats", natsURL, "-post-limit", "0")

	ann := signUp(t, a.base, "ann")
	ben := signUp(t, b.base, "ben")
	status, room := ann.do(t, a.base, "/rooms", url.Values{"name": {"Both ways"}})
	if status != http.StatusSeeOther {
		t.Fatalf("create room: %d", status)
	}
	if status, _ := ben.do(t, b.base, room+"/join", nil); status != http.StatusSeeOther {
		t.Fatalf("join: %d", status)
	}
	onA := followStream(t, ann, a.base, room, -1)
	onB := follow(t, ben, b.base, room, -1)
	testutil.Eventually(t, 30*time.Second, func() bool {
		_, pa, _, _ := onA.snapshot()
		_, pb, _, _ := onB.snapshot()
		return strings.Join(pa, ",") == "ann,ben" && strings.Join(pb, ",") == "ann,ben"
	}, "each does not see the other online")

	const each = 40
	var wg sync.WaitGroup
	for _, p := range []struct {
		who  member
		base string
		hx   bool
	}{{ann, a.base, true}, {ben, b.base, false}, {ann, b.base, false}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				form := url.Values{"text": {fmt.Sprintf("%s via %s %d", p.who.name, p.base, i)}}
				if p.hx {
					// With a client id, as a page without a socket sends.
					form.Set("client_id", fmt.Sprintf("stream-send-%04d", i))
				}
				if status, _ := p.who.do(t, p.base, room+"/messages", form); status >= 400 || status == 0 {
					t.Errorf("%s post: %d", p.who.name, status)
					return
				}
			}
		}()
	}
	for i := range each {
		if err := onB.send(fmt.Sprintf("ben's socket %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()

	roomID, _ := strconv.ParseInt(strings.TrimPrefix(room, "/rooms/"), 10, 64)
	db, err := store.Open(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := storedPosts(t, db, roomID)
	if len(want) != 4*each {
		testutil.Eventually(t, 30*time.Second, func() bool { return len(storedPosts(t, db, roomID)) == 4*each }, "not every post was stored")
		want = storedPosts(t, db, roomID)
	}
	testutil.Eventually(t, 30*time.Second, func() bool {
		ga, _, _, _ := onA.snapshot()
		gb, _, _, _ := onB.snapshot()
		return len(ga) >= len(want) && len(gb) >= len(want)
	}, "not every post arrived")
	ga, _, _, _ := onA.snapshot()
	gb, _, _, _ := onB.snapshot()
	if msg := checkStream(ga, want); msg != "" {
		t.Errorf("the stream on A: %s", msg)
	}
	if msg := checkStream(gb, want); msg != "" {
		t.Errorf("the socket on B: %s", msg)
	}
	if !slices.Equal(ga, gb) {
		t.Error("the two saw the posts in different orders")
	}
}
