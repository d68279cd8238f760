package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"chat/internal/testdb"
	"chat/internal/testnats"
	"chat/internal/testutil"
	"chat/store"

	fws "github.com/fasthttp/websocket"
)

// The chat as several instances: three processes of the built binary on
// loopback ports, one PostgreSQL schema, one NATS server in the test.

// buildChat builds the chat binary into the test's folder.
func buildChat(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "chat")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build: %v", err)
	}
	return bin
}

// instance is one chat process.
type instance struct {
	cmd  *exec.Cmd
	base string
	logs *testutil.LogBuffer
	dead bool
}

func launchInstance(t *testing.T, bin string, args ...string) *instance {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in := &instance{cmd: cmd, logs: testutil.NewLogBuffer(listenRE)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			in.logs.Write(append(sc.Bytes(), '\n'))
		}
	}()
	select {
	case addr := <-in.logs.Found():
		in.base = "http://" + addr
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the chat did not start: %s", in.logs.String())
	}
	t.Cleanup(func() {
		if !in.dead {
			cmd.Process.Kill()
		}
		cmd.Wait()
	})
	return in
}

// kill ends the process with SIGKILL: no goodbye to anyone.
func (in *instance) kill(t *testing.T) {
	t.Helper()
	in.dead = true
	in.cmd.Process.Kill()
	in.cmd.Wait()
}

// member is a user signed in with a cookie every instance accepts.
type member struct {
	name   string
	cookie string
}

func signUp(t *testing.T, base, name string) member {
	t.Helper()
	c := browser(t)
	res := postForm(t, c, base+"/register", url.Values{"username": {name}, "password": {"password-" + name}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("register %s: %d", name, res.StatusCode)
	}
	u, _ := url.Parse(base)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "chat_session" {
			return member{name: name, cookie: "chat_session=" + ck.Value}
		}
	}
	t.Fatalf("register %s: no session", name)
	return member{}
}

// do sends a form as the member to an instance, without following a
// redirect, and returns the status.
func (m member) do(t *testing.T, base, path string, form url.Values) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Cookie", m.cookie)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	return res.StatusCode, res.Header.Get("Location")
}

var (
	entryRE    = regexp.MustCompile(`<[^>]*\bid="msg-(\d+)"[^>]*>`)
	kindRE     = regexp.MustCompile(`data-kind="(\w+)"`)
	presentRE  = regexp.MustCompile(`<li id="presence-[^"]*" data-user="([^"]+)"`)
	typingRE   = regexp.MustCompile(`class="typing-user" data-user="([^"]+)"`)
	leftRE     = regexp.MustCompile(`<li id="presence-([^"]+)" hx-swap-oob="delete">`)
	wholeRE    = regexp.MustCompile(`<ul id="presence"`)
	roomPathRE = regexp.MustCompile(`^/rooms/\d+$`)
)

// follower is one socket of a member to a room on an instance: it keeps
// the posts it was sent, in order, and the room's presence as it shows.
type follower struct {
	t    *testing.T
	who  member
	room string

	mu       sync.Mutex
	conn     *fws.Conn
	posts    []int64
	present  map[string]bool
	typing   []string
	links    []bool   // room links pushed: marked unread or not
	counts   []string // and their counts ("" for none, "@" after a mention mark)
	notices  []string // the texts of the notices pushed
	closed   chan struct{}
	lastSeen int64
}

func follow(t *testing.T, who member, base, room string, after int64) *follower {
	t.Helper()
	f := &follower{t: t, who: who, room: room, present: map[string]bool{}}
	if err := f.dial(base, after); err != nil {
		t.Fatalf("%s: dial %s: %v", who.name, base, err)
	}
	t.Cleanup(func() { f.conn.Close() })
	return f
}

func (f *follower) dial(base string, after int64) error {
	u := "ws" + strings.TrimPrefix(base, "http") + f.room + "/ws"
	if after >= 0 {
		u += "?after=" + strconv.FormatInt(after, 10)
	}
	h := http.Header{"Origin": {base}, "Cookie": {f.who.cookie}}
	conn, _, err := fws.DefaultDialer.Dial(u, h)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.conn = conn
	f.closed = make(chan struct{})
	closed := f.closed
	f.mu.Unlock()
	go func() {
		defer close(closed)
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			f.take(string(data))
		}
	}()
	return nil
}

func (f *follower) take(frame string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, tag := range entryRE.FindAllStringSubmatch(frame, -1) {
		k := kindRE.FindStringSubmatch(tag[0])
		id, _ := strconv.ParseInt(tag[1], 10, 64)
		if k != nil && k[1] == "post" {
			f.posts = append(f.posts, id)
		}
		f.lastSeen = max(f.lastSeen, id)
	}
	if wholeRE.MatchString(frame) {
		clear(f.present)
	}
	for _, m := range presentRE.FindAllStringSubmatch(frame, -1) {
		f.present[m[1]] = true
	}
	for _, m := range leftRE.FindAllStringSubmatch(frame, -1) {
		delete(f.present, m[1])
	}
	for _, m := range typingRE.FindAllStringSubmatch(frame, -1) {
		f.typing = append(f.typing, m[1])
	}
	// An unread mark (not the lists' frames, which put a room in a
	// page's lists: hx-swap-oob="innerHTML:[data-room-item=…]…").
	if strings.Contains(frame, `class="room-link`) && !strings.Contains(frame, `innerHTML:[data-room-item=`) {
		f.links = append(f.links, strings.Contains(frame, "data-unread"))
		count := ""
		if m := countRE.FindStringSubmatch(frame); m != nil {
			count = m[1]
		}
		if strings.Contains(frame, "data-mention") {
			count += "@"
		}
		f.counts = append(f.counts, count)
	}
	for _, m := range noticeRE.FindAllStringSubmatch(frame, -1) {
		f.notices = append(f.notices, m[1])
	}
}

var (
	countRE  = regexp.MustCompile(`data-count="(\d+)"`)
	noticeRE = regexp.MustCompile(`data-notice="\d+"[^>]* data-body="([^"]*)"`)
)

func (f *follower) countFrames() ([]string, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.counts), slices.Clone(f.notices)
}

func (f *follower) linkFrames() []bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.links)
}

func (f *follower) send(text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conn.WriteJSON(map[string]any{"text": text, "HEADERS": map[string]string{}})
}

func (f *follower) snapshot() (posts []int64, present []string, typing []string, last int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for u := range f.present {
		present = append(present, u)
	}
	sort.Strings(present)
	return slices.Clone(f.posts), present, slices.Clone(f.typing), f.lastSeen
}

// storedPosts are the room's posts as the database holds them, in its
// order.
func storedPosts(t *testing.T, db *store.Store, roomID int64) []int64 {
	t.Helper()
	msgs, err := db.ListMessagesAfter(context.Background(), roomID, 0, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, m := range msgs {
		if m.Kind == store.KindPost {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// checkStream says what is wrong with what a socket was sent: want, the
// room's stored posts from some point, once each, in order.
func checkStream(got, want []int64) string {
	if slices.Equal(got, want) {
		return ""
	}
	seen := map[int64]int{}
	var dups, missing []int64
	for _, id := range got {
		if seen[id]++; seen[id] == 2 {
			dups = append(dups, id)
		}
	}
	for _, id := range want {
		if seen[id] == 0 {
			missing = append(missing, id)
		}
	}
	ordered := slices.IsSorted(got)
	return fmt.Sprintf("%d posts, want %d: duplicated %v, missing %v, in order %v", len(got), len(want), dups, missing, ordered)
}

func TestClusterOfThree(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the chat and runs three of it")
	}
	testdb.RequirePostgres(t)
	dbURL := testdb.NewPostgres(t)
	natsURL := testnats.Start(t)
	bin := buildChat(t)
	args := []string{"-db", dbURL, "-nats", natsURL, "-post-limit", "200", "-login-limit", "5"}
	insts := []*instance{launchInstance(t, bin, args...), launchInstance(t, bin, args...), launchInstance(t, bin, args...)}
	a, b, c := insts[0], insts[1], insts[2]
	for _, in := range insts {
		if strings.Contains(in.logs.String(), dbURL) || strings.Contains(in.logs.String(), "password") {
			t.Errorf("the log shows the database's password: %s", in.logs.String())
		}
	}
	db, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// Accounts made on different instances; a room made on A, joined on
	// B and C.
	alice := signUp(t, a.base, "alice")
	bob := signUp(t, b.base, "bob")
	carol := signUp(t, c.base, "carol")
	dave := signUp(t, c.base, "dave")
	code, room := alice.do(t, a.base, "/rooms", url.Values{"name": {"everywhere"}})
	if code != http.StatusSeeOther || !roomPathRE.MatchString(room) {
		t.Fatalf("create room: %d %q", code, room)
	}
	roomID, _ := strconv.ParseInt(strings.TrimPrefix(room, "/rooms/"), 10, 64)
	for i, m := range []member{bob, carol, dave} {
		if code, _ := m.do(t, insts[1+i%2].base, room+"/join", nil); code != http.StatusSeeOther {
			t.Fatalf("%s joins: %d", m.name, code)
		}
	}

	// Each on an instance of their own; dave on C alone, and watchers on
	// A and B.
	fa := follow(t, alice, a.base, room, -1)
	fb := follow(t, bob, b.base, room, -1)
	fc := follow(t, carol, c.base, room, -1)
	fd := follow(t, dave, c.base, room, -1)
	wa := follow(t, alice, a.base, room, -1)
	wb := follow(t, bob, b.base, room, -1)
	all := []*follower{fa, fb, fc, fd, wa, wb}

	// Presence agrees on every instance: one entry per user, whatever the
	// instance and the tabs.
	everyone := []string{"alice", "bob", "carol", "dave"}
	if !testutil.Within(long, func() bool {
		for _, f := range all {
			if _, p, _, _ := f.snapshot(); !slices.Equal(p, everyone) {
				return false
			}
		}
		return true
	}) {
		for _, f := range all {
			_, p, _, _ := f.snapshot()
			t.Errorf("%s sees %v online, want %v", f.who.name, p, everyone)
		}
	}

	// Typing on B shows on A and C.
	fb.mu.Lock()
	err = fb.conn.WriteJSON(map[string]any{"typing": true})
	fb.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}

	// Posts from all three at once, 40 each: every socket gets all 120,
	// once each, in the room's stored order.
	const each = 40
	var wg sync.WaitGroup
	for _, f := range []*follower{fa, fb, fc} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := f.send(fmt.Sprintf("%s says %d", f.who.name, i)); err != nil {
					t.Errorf("%s: send: %v", f.who.name, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	want := func() []int64 { return storedPosts(t, db, roomID) }
	if !testutil.Within(long, func() bool {
		w := want()
		if len(w) < 3*each {
			return false
		}
		for _, f := range all {
			if p, _, _, _ := f.snapshot(); len(p) < len(w) {
				return false
			}
		}
		return true
	}) {
		t.Errorf("not every post arrived everywhere in time: %d stored", len(want()))
	}
	stored := want()
	if len(stored) != 3*each {
		t.Errorf("%d posts stored, want %d", len(stored), 3*each)
	}
	for _, f := range all {
		p, _, _, _ := f.snapshot()
		if bad := checkStream(p, stored); bad != "" {
			t.Errorf("%s's socket: %s", f.who.name, bad)
		}
	}
	typed := func(f *follower) bool { _, _, ty, _ := f.snapshot(); return slices.Contains(ty, "bob") }
	if !testutil.Within(long, func() bool { return typed(fa) && typed(fc) }) {
		t.Errorf("bob's typing did not reach A and C: %v %v", typed(fa), typed(fc))
	}

	// The post limit holds across instances: 200 per 10 s, counted
	// together whichever instance takes them.
	eve := signUp(t, a.base, "eve")
	eve.do(t, b.base, room+"/join", nil)
	accepted := 0
	began := time.Now()
	for i := range 201 {
		code, _ := eve.do(t, insts[i%3].base, room+"/messages", url.Values{"text": {fmt.Sprintf("eve %d", i)}})
		switch code {
		case http.StatusSeeOther:
			accepted++
		case http.StatusTooManyRequests:
			if i != 200 {
				t.Errorf("eve's post %d refused", i)
			}
		default:
			t.Fatalf("eve's post %d: %d", i, code)
		}
	}
	// The window slides: on a machine so loaded that the posts outlast it,
	// the first have left it by the last, which then lands rightly.
	if took := time.Since(began); accepted != 200 && took < 10*time.Second {
		t.Errorf("%d of 201 posts accepted across instances in %v, want 200", accepted, took)
	} else if took >= 10*time.Second {
		t.Logf("the 201 posts took %v, past the limit's window: its edge is not told apart", took)
	}

	// The login throttle too: five failures spread over the instances,
	// then even the right password waits, on any of them.
	for i := range 5 {
		anon := browser(t)
		res := postForm(t, anon, insts[i%3].base+"/login", url.Values{"username": {"dave"}, "password": {"wrong"}})
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failed login %d: %d", i, res.StatusCode)
		}
	}
	res := postForm(t, browser(t), c.base+"/login", url.Values{"username": {"dave"}, "password": {"password-dave"}})
	if res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("after five failures elsewhere, a sign-in on C: %d, want 429", res.StatusCode)
	}

	// Unread marks cross instances: bob's lobby page on B marks a room
	// where alice posts on A; bob opens it on A, and the page on B clears
	// it; the next post marks it again.
	code, side := alice.do(t, a.base, "/rooms", url.Values{"name": {"side"}})
	if code != http.StatusSeeOther {
		t.Fatalf("create side room: %d", code)
	}
	bob.do(t, b.base, side+"/join", nil)
	lobby := follow(t, bob, b.base, "", -1) // subscribed when the handshake is answered
	// Each step waits for a mark newer than the ones before it, which
	// says what the step changed: a frame of an earlier step that the
	// cluster link brings late (a loaded machine) counts for nothing.
	marked := func(after int, want bool) bool {
		frames := lobby.linkFrames()
		return len(frames) > after && frames[len(frames)-1] == want
	}
	seen := len(lobby.linkFrames())
	alice.do(t, a.base, side+"/messages", url.Values{"text": {"psst"}})
	if !testutil.Within(long, func() bool { return marked(seen, true) }) {
		t.Errorf("bob's lobby on B after a post on A: %v, want the room marked", lobby.linkFrames())
	}
	seen = len(lobby.linkFrames())
	open, _ := http.NewRequest(http.MethodGet, a.base+side, nil)
	open.Header.Set("Cookie", bob.cookie)
	if res, err := http.DefaultClient.Do(open); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("bob opens the room on A: %v %v", res, err)
	}
	if !testutil.Within(long, func() bool { return marked(seen, false) }) {
		t.Errorf("bob's lobby on B after he opened the room on A: %v, want it cleared", lobby.linkFrames())
	}
	seen = len(lobby.linkFrames())
	alice.do(t, a.base, side+"/messages", url.Values{"text": {"psst again"}})
	if !testutil.Within(long, func() bool { return marked(seen, true) }) {
		t.Errorf("bob's lobby on B after another post: %v, want the room marked again", lobby.linkFrames())
	}
	// The counts cross too, from zero after the room was opened
	// elsewhere; a mention of bob marks the room and notifies him there.
	alice.do(t, a.base, side+"/messages", url.Values{"text": {"@bob psst"}})
	wantNotices := []string{"@bob psst"}
	if !testutil.Within(long, func() bool {
		counts, notices := lobby.countFrames()
		return len(counts) > seen && counts[len(counts)-1] == "2@" && slices.Equal(notices, wantNotices)
	}) {
		counts, notices := lobby.countFrames()
		t.Errorf("bob's lobby on B: counts %q, notices %q; want the last 2@ (two since he opened it, one mentioning him), %q", counts, notices, wantNotices)
	}

	// Kill C in the middle of a stream of posts: carol's socket comes
	// back on A with ?after= and misses nothing; dave, gone with C, leaves
	// every list; no post C acknowledged is lost.
	before := want()
	stop := make(chan struct{})
	var posters sync.WaitGroup
	var ackMu sync.Mutex
	var acked []string
	for i, m := range []member{alice, bob, carol} {
		posters.Add(1)
		go func() {
			defer posters.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				in := insts[(i+n)%3]
				text := fmt.Sprintf("stream %s %d", m.name, n)
				if code, _ := m.do(t, in.base, room+"/messages", url.Values{"text": {text}}); code == http.StatusSeeOther {
					ackMu.Lock()
					acked = append(acked, text)
					ackMu.Unlock()
				}
				time.Sleep(5 * time.Millisecond) // the pace of the stream, no synchronization
			}
		}()
	}
	ackedNow := func() int {
		ackMu.Lock()
		defer ackMu.Unlock()
		return len(acked)
	}
	// The stream runs a while before the kill, and a while after carol is
	// back: a number of posts acknowledged, not a span of time.
	if !testutil.Within(long, func() bool { return ackedNow() >= 25 }) {
		t.Errorf("only %d posts acknowledged before the kill", ackedNow())
	}
	c.kill(t)
	<-fc.closed
	<-fd.closed
	_, _, _, carolLast := fc.snapshot()
	if err := fc.dial(a.base, carolLast); err != nil {
		t.Fatalf("carol reconnects on A: %v", err)
	}
	back := ackedNow()
	if !testutil.Within(long, func() bool { return ackedNow() >= back+25 }) {
		t.Errorf("only %d posts acknowledged after carol came back", ackedNow()-back)
	}
	close(stop)
	posters.Wait()

	final := want()
	// Every acknowledged post is stored, once.
	msgs, err := db.ListMessagesAfter(context.Background(), roomID, before[len(before)-1], 100_000)
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]int{}
	for _, m := range msgs {
		texts[m.Text]++
	}
	ackMu.Lock()
	for _, text := range acked {
		if texts[text] != 1 {
			t.Errorf("acknowledged %q stored %d times", text, texts[text])
		}
	}
	t.Logf("%d posts acknowledged while C was killed; entries read back from the database: %d times on A, %d on B",
		len(acked), strings.Count(a.logs.String(), "read back"), strings.Count(b.logs.String(), "read back"))
	if len(acked) < 50 {
		t.Errorf("only %d posts acknowledged during the kill: the stream was too thin to tell", len(acked))
	}
	ackMu.Unlock()
	survivors := []*follower{fa, fb, wa, wb, fc}
	if !testutil.Within(long, func() bool {
		for _, f := range survivors {
			if p, _, _, _ := f.snapshot(); len(p) < len(final) {
				return false
			}
		}
		return true
	}) {
		t.Error("the stream did not reach every socket after the kill")
	}
	for _, f := range survivors {
		p, _, _, _ := f.snapshot()
		if bad := checkStream(p, final); bad != "" {
			t.Errorf("%s's socket across the kill: %s", f.who.name, bad)
		}
	}
	// Presence agrees again on A and B: carol is back (on A), dave gone.
	after := []string{"alice", "bob", "carol"}
	if !testutil.Within(long, func() bool {
		for _, f := range []*follower{fa, fb, wa, wb} {
			if _, p, _, _ := f.snapshot(); !slices.Equal(p, after) {
				return false
			}
		}
		return true
	}) {
		for _, f := range []*follower{fa, fb, wa, wb} {
			_, p, _, _ := f.snapshot()
			t.Errorf("after the kill, %s sees %v online, want %v", f.who.name, p, after)
		}
	}
	// A fresh page on B agrees, from its first frame.
	probe := follow(t, eve, b.base, room, -1)
	if !testutil.Within(long, func() bool {
		_, p, _, _ := probe.snapshot()
		return slices.Equal(p, []string{"alice", "bob", "carol", "eve"})
	}) {
		_, p, _, _ := probe.snapshot()
		t.Errorf("a new socket on B sees %v", p)
	}

	// Signing out on A closes the session's socket on B.
	if code, _ := eve.do(t, a.base, "/logout", nil); code != http.StatusSeeOther {
		t.Fatalf("sign out: %d", code)
	}
	select {
	case <-probe.closed:
	case <-time.After(long):
		t.Error("signing out on A left the session's socket on B open")
	}
}
