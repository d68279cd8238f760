package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"chat/internal/testdb"
	"chat/store"
)

// room makes a room of owner with the other users as members.
func room(t *testing.T, s *store.Store, name string, owner store.User, others ...store.User) store.Room {
	t.Helper()
	ctx := context.Background()
	r, _, err := s.CreateRoom(ctx, name, owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range others {
		if _, _, err := joinRoom(ctx, s, r.ID, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func post(t *testing.T, s *store.Store, r store.Room, u store.User, text string) store.Message {
	t.Helper()
	m, _, err := createPost(context.Background(), s, r.ID, u.ID, text, "")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMentions(t *testing.T) {
	s, _ := openStore(t)
	ada := mustUser(t, s, "Ada")
	bob := mustUser(t, s, "bob.smith")
	mustUser(t, s, "cy-")
	r := room(t, s, "general", ada, bob)

	cases := []struct {
		text string
		want []store.Mention
	}{
		{"hi @ada", []store.Mention{{3, 7, "Ada"}}},
		{"@BOB.SMITH.", []store.Mention{{0, 10, "bob.smith"}}},
		{"thanks @bob.smith, and @ada!", []store.Mention{{7, 17, "bob.smith"}, {23, 27, "Ada"}}},
		{"mail ada@example.com or @nobody", nil},
		{"@cy- is a name with a dash", []store.Mention{{0, 4, "cy-"}}},
		{"@@ada", nil},
		{"é@ada", nil},
		{"(@ada)", []store.Mention{{1, 5, "Ada"}}},
	}
	for _, c := range cases {
		m := post(t, s, r, ada, c.text)
		if !slices.Equal(m.Mentions, c.want) {
			t.Errorf("%q: mentions %v, want %v", c.text, m.Mentions, c.want)
		}
		got, err := s.FindMessage(context.Background(), m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Mentions, c.want) {
			t.Errorf("%q read back: mentions %v, want %v", c.text, got.Mentions, c.want)
		}
	}
}

func TestEditAndDelete(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	ada := mustUser(t, s, "ada") // the first account: an admin
	bob := mustUser(t, s, "bob")
	r := room(t, s, "general", ada, bob)
	m := post(t, s, r, bob, "first draft")
	join := mustList(t, s, r)[0]

	if _, _, err := editPost(ctx, s, m.ID, ada.ID, "not mine"); !errors.Is(err, store.ErrForbidden) {
		t.Errorf("edit by another user: %v, want ErrForbidden", err)
	}
	if _, _, err := editPost(ctx, s, join.ID, ada.ID, "x"); !errors.Is(err, store.ErrForbidden) {
		t.Errorf("edit of a join entry: %v, want ErrForbidden", err)
	}
	if _, _, err := editPost(ctx, s, 9999, bob.ID, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("edit of no entry: %v, want ErrNotFound", err)
	}
	edited, changed, err := editPost(ctx, s, m.ID, bob.ID, "final @ada")
	if err != nil || !changed {
		t.Fatalf("edit: %v %v", changed, err)
	}
	if edited.ID != m.ID || edited.Text != "final @ada" || edited.EditedAt.IsZero() || edited.Rev == 0 || len(edited.Mentions) != 1 {
		t.Errorf("edited post: %+v", edited)
	}
	if _, changed, _ := editPost(ctx, s, m.ID, bob.ID, "final @ada"); changed {
		t.Error("the same text again counted as a change")
	}

	other := post(t, s, r, ada, "ada's post")
	if _, _, err := deletePost(ctx, s, other.ID, bob.ID, false); !errors.Is(err, store.ErrForbidden) {
		t.Errorf("delete of another's post: %v, want ErrForbidden", err)
	}
	if got, _ := s.FindMessage(ctx, other.ID); got.Deleted || got.Text != "ada's post" {
		t.Errorf("refused delete changed the post: %+v", got)
	}
	if _, err := toggleBoost(ctx, s, m.ID, ada.ID, "👍"); err != nil {
		t.Fatal(err)
	}
	deleted, changed, err := deletePost(ctx, s, m.ID, bob.ID, false)
	if err != nil || !changed {
		t.Fatalf("delete: %v %v", changed, err)
	}
	if !deleted.Deleted || deleted.Text != "" || len(deleted.Boosts) != 0 || deleted.Rev <= edited.Rev {
		t.Errorf("deleted post: %+v", deleted)
	}
	if _, changed, err := deletePost(ctx, s, m.ID, bob.ID, false); err != nil || changed {
		t.Errorf("second delete: %v %v, want nothing changed", changed, err)
	}
	if _, _, err := editPost(ctx, s, m.ID, bob.ID, "back"); !errors.Is(err, store.ErrDeleted) {
		t.Errorf("edit of a deleted post: %v, want ErrDeleted", err)
	}
	if _, err := toggleBoost(ctx, s, m.ID, ada.ID, "👍"); !errors.Is(err, store.ErrDeleted) {
		t.Errorf("reaction to a deleted post: %v, want ErrDeleted", err)
	}
	// An admin deletes anyone's post.
	if _, changed, err := deletePost(ctx, s, other.ID, bob.ID, true); err != nil || !changed {
		t.Errorf("admin delete: %v %v", changed, err)
	}

	// The changes come back in the order made, and only those newer than
	// asked.
	changes, err := s.ListChangedMessages(ctx, r.ID, 0, 1<<62, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 || changes[0].ID != m.ID || changes[1].ID != other.ID {
		t.Errorf("changes: %+v", changes)
	}
	rev, _ := s.RoomRev(ctx, r.ID)
	if rev != changes[1].Rev {
		t.Errorf("room rev %d, want %d", rev, changes[1].Rev)
	}
	if later, _ := s.ListChangedMessages(ctx, r.ID, rev, 1<<62, 100); len(later) != 0 {
		t.Errorf("changes after the latest: %+v", later)
	}
	if below, _ := s.ListChangedMessages(ctx, r.ID, 0, m.ID, 100); len(below) != 1 {
		t.Errorf("changes up to %d: %+v", m.ID, below)
	}
}

func mustList(t *testing.T, s *store.Store, r store.Room) []store.Message {
	t.Helper()
	msgs, err := s.ListLatestMessages(context.Background(), r.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func TestBoosts(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	ada := mustUser(t, s, "ada")
	bob := mustUser(t, s, "bob")
	eve := mustUser(t, s, "eve")
	r := room(t, s, "general", ada, bob)
	m := post(t, s, r, ada, "lunch?")

	for _, step := range []struct {
		user  store.User
		emoji string
	}{{bob, "👍"}, {ada, "🎉"}, {ada, "👍"}, {bob, "on my way"}} {
		if _, err := toggleBoost(ctx, s, m.ID, step.user.ID, step.emoji); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := s.FindMessage(ctx, m.ID)
	want := []store.Boost{{"👍", []string{"bob", "ada"}}, {"🎉", []string{"ada"}}, {"on my way", []string{"bob"}}}
	if fmt.Sprint(got.Boosts) != fmt.Sprint(want) {
		t.Errorf("boosts %v, want %v", got.Boosts, want)
	}
	// The same again takes it back.
	after, err := toggleBoost(ctx, s, m.ID, bob.ID, "👍")
	if err != nil {
		t.Fatal(err)
	}
	// Reactions stand in the order of their earliest giver still counted.
	want = []store.Boost{{"🎉", []string{"ada"}}, {"👍", []string{"ada"}}, {"on my way", []string{"bob"}}}
	if fmt.Sprint(after.Boosts) != fmt.Sprint(want) {
		t.Errorf("after taking one back: %v, want %v", after.Boosts, want)
	}
	// The history shows them too.
	if list := mustList(t, s, r); fmt.Sprint(list[len(list)-1].Boosts) != fmt.Sprint(want) {
		t.Errorf("history boosts %v", list[len(list)-1].Boosts)
	}
	if _, err := toggleBoost(ctx, s, m.ID, eve.ID, "👍"); !errors.Is(err, store.ErrNotMember) {
		t.Errorf("reaction of a non-member: %v, want ErrNotMember", err)
	}
	for i := len(want); i < 20; i++ {
		if _, err := toggleBoost(ctx, s, m.ID, bob.ID, fmt.Sprint("r", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := toggleBoost(ctx, s, m.ID, bob.ID, "one too many"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("21st kind of reaction: %v, want ErrConflict", err)
	}
	if _, err := toggleBoost(ctx, s, m.ID, ada.ID, "r5"); err != nil {
		t.Errorf("joining an existing reaction at the cap: %v", err)
	}
}

func TestSearchPosts(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	ada := mustUser(t, s, "ada")
	r := room(t, s, "general", ada)
	other := room(t, s, "random", ada)
	oldest := post(t, s, r, ada, "Meet at the Café Müller tomorrow")
	post(t, s, r, ada, "nothing to see")
	cjk := post(t, s, other, ada, "東京タワーで会いましょう")
	newest := post(t, s, other, ada, "the CAFE is closed; try cafeteria")
	gone := post(t, s, r, ada, "a café post to delete")
	// The index takes the first posts; the newest wait, and are read
	// directly: every search below goes through both.
	// On PostgreSQL every post is indexed as it is stored, and there is
	// nothing left to take.
	if n, more, err := s.IndexPosts(ctx, 4); err != nil || (testdb.Postgres() && (n != 0 || more)) || (!testdb.Postgres() && (n != 4 || !more)) {
		t.Fatalf("index: %d %v %v", n, more, err)
	}
	if _, _, err := deletePost(ctx, s, gone.ID, ada.ID, false); err != nil {
		t.Fatal(err)
	}

	ids := func(q string) []int64 {
		t.Helper()
		hits, err := s.SearchPosts(ctx, ada.ID, q, 50)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, h := range hits {
			out = append(out, h.ID)
		}
		return out
	}
	if got := ids("café"); !slices.Equal(got, []int64{newest.ID, oldest.ID}) {
		t.Errorf("café: %v, want newest first %v", got, []int64{newest.ID, oldest.ID})
	}
	if got := ids("ÜLLE"); !slices.Equal(got, []int64{oldest.ID}) {
		t.Errorf("a substring in the middle of a word: %v", got)
	}
	if got := ids("タワー"); !slices.Equal(got, []int64{cjk.ID}) {
		t.Errorf("Japanese: %v", got)
	}
	if got := ids("cafe tomorrow"); !slices.Equal(got, []int64{oldest.ID}) {
		t.Errorf("two words: %v", got)
	}
	if got := ids("ca"); len(got) != 0 {
		t.Errorf("two characters found %v", got)
	}
	if got := ids("delete"); len(got) != 0 {
		t.Errorf("a deleted post found: %v", got)
	}
	if got := ids("eria cafe"); !slices.Equal(got, []int64{newest.ID}) {
		t.Errorf("words in another order: %v", got)
	}

	hits, _ := s.SearchPosts(ctx, ada.ID, "cafe", 50)
	h := hits[0]
	var marked []string
	for _, m := range h.Marks {
		marked = append(marked, h.Text[m[0]:m[1]])
	}
	if !slices.Equal(marked, []string{"CAFE", "cafe"}) || h.RoomName != "random" {
		t.Errorf("marks %q in %q (room %q)", marked, h.Text, h.RoomName)
	}

	// An edit moves a post in and out of what is found, whether the index
	// holds it (oldest) or not yet (newest).
	if _, _, err := editPost(ctx, s, oldest.ID, ada.ID, "Meet at the station"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := editPost(ctx, s, newest.ID, ada.ID, "the station cafeteria"); err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		if got := ids("müller"); len(got) != 0 {
			t.Errorf("round %d: old text still found: %v", round, got)
		}
		if got := ids("station"); !slices.Equal(got, []int64{newest.ID, oldest.ID}) {
			t.Errorf("round %d: new text not found: %v", round, got)
		}
		if got := ids("closed"); len(got) != 0 {
			t.Errorf("round %d: old text of the newest found: %v", round, got)
		}
		// Then the index takes everything.
		if _, more, err := s.IndexPosts(ctx, 1000); err != nil || more {
			t.Fatalf("index the rest: %v %v", more, err)
		}
	}
	if v, err := s.IntegrityCheck(ctx); err != nil || v != "ok" {
		t.Errorf("integrity: %v %v", v, err)
	}

	// At most the limit, newest first, across batches of candidates.
	buried := post(t, s, r, ada, "a buried treasure")
	var want []int64
	for i := range 450 {
		want = append(want, post(t, s, r, ada, fmt.Sprintf("needle %d", i)).ID)
	}
	// Not indexed yet, and under 450 newer posts: found all the same.
	if got := ids("treasure"); !slices.Equal(got, []int64{buried.ID}) {
		t.Errorf("a post deep in the unindexed tail: %v", got)
	}
	slices.Reverse(want)
	// The oldest 420 indexed, the newest 30 not: the answer runs across.
	if _, _, err := s.IndexPosts(ctx, 420); err != nil {
		t.Fatal(err)
	}
	if got := ids("needle"); !slices.Equal(got, want[:50]) {
		t.Errorf("needle: %d hits, first %v", len(got), got[:min(3, len(got))])
	}
	if v, err := s.IntegrityCheck(ctx); err != nil || v != "ok" {
		t.Errorf("integrity with posts waiting: %v %v", v, err)
	}
}

func TestSearchIndexOfExistingPosts(t *testing.T) {
	// A database made before search existed gets its posts indexed by the
	// migration; here, reopening keeps the index whole.
	ctx := context.Background()
	path := testdb.New(t)
	s, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ada := mustUser(t, s, "ada")
	r := room(t, s, "general", ada)
	m := post(t, s, r, ada, "persistent words")
	s.Close()
	s, err = store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hits, err := s.SearchPosts(ctx, ada.ID, "persist", 10)
	if err != nil || len(hits) != 1 || hits[0].ID != m.ID {
		t.Errorf("after reopen: %v %v", hits, err)
	}
	if v, err := s.IntegrityCheck(ctx); err != nil || v != "ok" {
		t.Errorf("integrity: %v %v", v, err)
	}
}

func TestUnread(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	ada := mustUser(t, s, "ada")
	bob := mustUser(t, s, "bob")
	r := room(t, s, "general", ada, bob)
	m := post(t, s, r, ada, "hello")

	listing := func(u store.User) store.RoomListing {
		t.Helper()
		rooms, err := s.ListRooms(ctx, u.ID)
		if err != nil || len(rooms) != 1 {
			t.Fatalf("%v %v", rooms, err)
		}
		return rooms[0]
	}
	if l := listing(bob); l.LatestID != m.ID || l.LastReadID != 0 {
		t.Errorf("before reading: %+v", l)
	}
	if err := s.MarkRead(ctx, store.ReadMark{UserID: bob.ID, RoomID: r.ID, LastID: m.ID}); err != nil {
		t.Fatal(err)
	}
	if l := listing(bob); l.LastReadID != m.ID {
		t.Errorf("after reading: %+v", l)
	}
	// A mark never goes back.
	if err := s.MarkRead(ctx, store.ReadMark{UserID: bob.ID, RoomID: r.ID, LastID: 1}); err != nil {
		t.Fatal(err)
	}
	if l := listing(bob); l.LastReadID != m.ID {
		t.Errorf("an older mark went back: %+v", l)
	}
	// A mark for no room stores nothing and fails nothing.
	if err := s.MarkRead(ctx, store.ReadMark{UserID: bob.ID, RoomID: 999, LastID: 5}); err != nil {
		t.Errorf("mark of no room: %v", err)
	}
	if l := listing(ada); l.LastReadID != 0 {
		t.Errorf("another user's mark: %+v", l)
	}
}
