package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"chat/hub"
	"chat/i18n"
	"chat/linkpreview"
	"chat/store"
	"chat/views"

	"github.com/gofiber/fiber/v2"
)

// historyPage is how many entries the room page and each history
// fragment hold.
const historyPage = 50

// roomLinks is the room list of the signed-in user: the rooms, then their
// direct messages.
func (a *App) roomLinks(c *fiber.Ctx, current int64) ([]views.RoomLink, error) {
	s, _ := session(c)
	rooms, err := a.store.ListRooms(c.UserContext(), s.User.ID)
	if err != nil {
		return nil, err
	}
	dms, err := a.store.ListDMs(c.UserContext(), s.User.ID)
	if err != nil {
		return nil, err
	}
	rooms = append(rooms, dms...)
	links := make([]views.RoomLink, len(rooms))
	for i, r := range rooms {
		seen := max(r.LastReadID, a.unread.LastSeen(s.User.ID, r.ID))
		unread := r.Unread
		if seen > r.LastReadID && r.Member && unread.Count > 0 {
			// Seen lately, not written yet: counted again from there.
			if unread, err = a.store.CountUnread(c.UserContext(), r.ID, s.User.ID, s.User.Username, seen, r.LatestID); err != nil {
				return nil, err
			}
		}
		if r.ID == current {
			unread = store.Unread{}
		}
		links[i] = views.RoomLink{ID: r.ID, Name: r.Name, Member: r.Member, Current: r.ID == current,
			Unread: r.ID != current && r.LatestID > seen, DM: r.Kind == store.RoomKindDM,
			Closed: r.Access == store.AccessClosed && r.Kind == store.RoomKindRoom, Archived: r.Archived,
			Count: unread.Count, Mention: unread.Mention}
	}
	return links, nil
}

func (a *App) handleLobby(c *fiber.Ctx) error {
	links, err := a.roomLinks(c, 0)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Lobby(views.LobbyPage{Viewer: viewer(c), Rooms: links}))
}

func (a *App) handleRoomCreate(c *fiber.Ctx) error {
	s, _ := session(c)
	raw := c.FormValue("name")
	name, problem := cleanRoomName(a.tr(c), raw)
	status := http.StatusUnprocessableEntity
	access := c.FormValue("access", store.AccessOpen)
	if problem == "" && access != store.AccessOpen && access != store.AccessClosed {
		problem = a.tr(c).T("room.access_invalid")
	}
	// The room is counted before it is made, so that a burst of requests
	// makes no more rooms than the limit; one that is not made after all
	// gives its place back.
	now := a.now()
	if problem == "" {
		if wait := a.rooms.Take(s.User.ID, now); wait > 0 {
			problem, status = a.tr(c).T("room.create_throttled"), http.StatusTooManyRequests
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(wait.Seconds())+1))
		}
	}
	if problem == "" {
		room, join, err := a.store.CreateRoomWithAccess(c.UserContext(), name, access, s.User.ID)
		if err != nil {
			a.rooms.Undo(s.User.ID, now)
		}
		switch {
		case err == nil:
			a.unread.Seen(s.User.ID, room.ID, join.ID)
			// No one can be following a room that did not exist; but other
			// instances put a room's entries in order from its first.
			a.hub.Publish(room.ID, hub.Event{Seq: join.ID, Prev: join.Prev, Text: entryFrame(join), Meta: entryMeta(join)})
			if !a.clustered {
				// Linked, every instance does so as the join reaches it
				// (clusterEntry).
				a.lists.Entry(join, true)
			}
			return c.Redirect(views.RoomURL(room.ID), fiber.StatusSeeOther)
		case errors.Is(err, store.ErrConflict):
			problem, status = a.tr(c).T("room.name_taken"), http.StatusConflict
		default:
			return err
		}
	}
	links, err := a.roomLinks(c, 0)
	if err != nil {
		return err
	}
	return render(c, status, views.Lobby(views.LobbyPage{Viewer: viewer(c), Rooms: links, Name: raw, Access: access, Error: problem}))
}

func (a *App) handleRoomShow(c *fiber.Ctx) error {
	return a.showRoom(c, http.StatusOK, views.ComposeForm{})
}

// showRoom renders the room page, with the compose form as given (a
// refused post comes back with its text and the reason).
func (a *App) showRoom(c *fiber.Ctx, status int, compose views.ComposeForm) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	return a.showRoomWith(c, id, status, compose, nil)
}

// showRoomWith is showRoom, with a last change to the page (a refused
// change of the room, say) made by edit.
func (a *App) showRoomWith(c *fiber.Ctx, id int64, status int, compose views.ComposeForm, edit func(*views.RoomPage)) error {
	ctx := c.UserContext()
	s, _ := session(c)
	// What the viewer had seen, before this visit sees the rest.
	lastRead, err := a.store.FindReadMark(ctx, s.User.ID, id)
	if err != nil {
		return err
	}
	lastRead = max(lastRead, a.unread.LastSeen(s.User.ID, id))
	page, err := a.roomPage(c, id)
	if err != nil {
		return err
	}
	// The change counter first: a change made while the entries are
	// read is then replayed again, never missed.
	rev, err := a.store.RoomRev(ctx, id)
	if err != nil {
		return err
	}
	msgs, err := a.store.ListLatestMessages(ctx, id, historyPage+1)
	if err != nil {
		return err
	}
	hasOlder := len(msgs) > historyPage
	if hasOlder {
		msgs = msgs[1:]
	}
	var lastID int64
	if len(msgs) > 0 {
		lastID = msgs[len(msgs)-1].ID
	}
	opened := views.RoomLink{ID: id, Name: page.RoomName, Member: true, DM: page.DM, Closed: page.Closed, Archived: page.Archived}
	seen := func() {
		a.unread.Seen(s.User.ID, id, lastID)
		a.unread.Opened(s.User.Username, opened, lastID)
	}
	seen()
	// Each visit is seen, the page kept or made.
	afterPage(c, seen)
	compose.RoomID, compose.UploadLimit = id, a.uploadLimit
	page.Entries, page.HasOlder, page.Compose, page.Rev = entries(msgs), hasOlder, compose, rev
	page.NewSince = newSince(msgs, lastRead, s.User.ID)
	if page.Member {
		if page.Notify, err = a.store.FindNotifyLevel(ctx, id, s.User.ID); err != nil && !errors.Is(err, store.ErrNotMember) {
			return err
		}
	}
	if edit != nil {
		edit(&page)
	}
	page.Online = a.hub.Online(id)
	return render(c, status, views.Room(page))
}

// roomPage is what every page of a room shows around its entries: its
// name (for direct messages, the other person's), the room list, the
// members and whether the viewer is one. A room the viewer may not read
// gives 403.
func (a *App) roomPage(c *fiber.Ctx, id int64) (views.RoomPage, error) {
	ctx := c.UserContext()
	s, _ := session(c)
	room, err := a.readableRoom(ctx, id, s.User)
	if err != nil {
		return views.RoomPage{}, err
	}
	p := views.RoomPage{Viewer: viewer(c), RoomID: id, RoomName: room.Name, DM: room.Kind == store.RoomKindDM,
		Archived: room.Archived}
	p.Closed = !p.DM && room.Access == store.AccessClosed
	if p.DM {
		partner, err := a.store.DMPartner(ctx, id, s.User.ID)
		if err != nil {
			return views.RoomPage{}, err
		}
		p.RoomName = partner.Username
	}
	if p.Members, err = a.store.ListMembers(ctx, id); err != nil {
		return views.RoomPage{}, err
	}
	if p.Member, err = a.store.IsMember(ctx, id, s.User.ID); err != nil {
		return views.RoomPage{}, err
	}
	// A member's page has a message box, which a link leads to first.
	p.Viewer.SkipToCompose = p.Member && !p.Archived
	if p.Rooms, err = a.roomLinks(c, id); err != nil {
		return views.RoomPage{}, err
	}
	if !p.DM && mayManage(room, s.User) {
		// The others: one leaves a room rather than removes oneself.
		others := make([]string, 0, len(p.Members))
		for _, m := range p.Members {
			if m != s.User.Username {
				others = append(others, m)
			}
		}
		p.Manage = &views.RoomManage{RoomID: id, Name: room.Name, Closed: p.Closed, Archived: p.Archived,
			Members: others, Delete: s.User.IsAdmin}
	}
	return p, nil
}

func (a *App) handleRoomJoin(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	s, _ := session(c)
	if _, err := a.readableRoom(c.UserContext(), id, s.User); err != nil {
		return err
	}
	_, err = a.writeEntry(c.UserContext(), id, func(ctx context.Context, b *store.Batch) (store.Message, bool, error) {
		return b.JoinRoom(ctx, id, s.User.ID)
	})
	if err != nil {
		return err
	}
	return c.Redirect(views.RoomURL(id), fiber.StatusSeeOther)
}

func (a *App) handleRoomLeave(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	s, _ := session(c)
	if _, err := a.readableRoom(c.UserContext(), id, s.User); err != nil {
		return err
	}
	_, err = a.writeEntry(c.UserContext(), id, func(ctx context.Context, b *store.Batch) (store.Message, bool, error) {
		return b.LeaveRoom(ctx, id, s.User.ID)
	})
	if err != nil {
		return err
	}
	return c.Redirect("/", fiber.StatusSeeOther)
}

func entry(m store.Message) views.Entry {
	e := views.Entry{ID: m.ID, RoomID: m.RoomID, Kind: m.Kind, Author: m.Author, Text: m.Text, Time: m.CreatedAt, ClientID: m.ClientID,
		Rev: m.Rev, EditedAt: m.EditedAt}
	switch {
	case m.Deleted:
		e.Kind = "deleted"
	case m.Kind == store.KindJoin || m.Kind == store.KindLeave:
		e.By = m.Text // who added or removed the author, if someone else did
	case m.Kind == store.KindRename:
		r := store.RenameOf(m)
		e.From, e.To = r.From, r.To
	}
	for _, x := range m.Mentions {
		e.Mentions = append(e.Mentions, views.Span{Start: x.Start, End: x.End, Name: x.Username})
	}
	for _, b := range m.Boosts {
		e.Boosts = append(e.Boosts, views.Boost{Emoji: b.Emoji, Users: b.Users})
	}
	if !m.Deleted {
		e.Files = attachments(m.Files)
		// A card is of the post's first link: an edit that changed it
		// leaves the card unshown.
		if c := m.Card; c != nil && linkpreview.FirstLink(m.Text) == c.URL {
			e.Card = &views.Card{URL: c.URL, Title: c.Title, Description: c.Description, Site: c.Site,
				ImageID: c.ImageID, ImageWidth: c.ImageWidth, ImageHeight: c.ImageHeight}
		}
	}
	return e
}

func entries(msgs []store.Message) []views.Entry {
	out := make([]views.Entry, len(msgs))
	for i, m := range msgs {
		out[i] = entry(m)
	}
	return out
}

// readableRoom finds a room the user may read: an open room, a closed
// room the user is a member of, or direct messages the user is one of
// (anyone else: 403). It is the one gate of every way to read a room.
// A closed room answers anyone else exactly as a room that does not
// exist: its existence is not revealed.
func (a *App) readableRoom(ctx context.Context, id int64, user store.User) (store.Room, error) {
	room, err := a.store.FindRoomByID(ctx, id)
	if err != nil {
		return store.Room{}, err
	}
	if room.Kind == store.RoomKindRoom && room.Access == store.AccessOpen {
		return room, nil
	}
	member, err := a.store.IsMember(ctx, id, user.ID)
	if err != nil {
		return store.Room{}, err
	}
	switch {
	case member:
		return room, nil
	case room.Kind == store.RoomKindDM:
		return store.Room{}, fiber.NewError(http.StatusForbidden, i18n.From(ctx).T("room.dm_forbidden"))
	}
	return store.Room{}, errNoRoom(id)
}

// memberRoom finds a room the user may read and is a member of: a
// member-only action's gate. Past readableRoom (whose answers it keeps),
// a reader of an open room who has not joined it gets ErrNotMember (403).
func (a *App) memberRoom(ctx context.Context, id int64, user store.User) (store.Room, error) {
	room, err := a.readableRoom(ctx, id, user)
	if err != nil {
		return room, err
	}
	if room.Kind == store.RoomKindRoom && room.Access == store.AccessOpen {
		// readableRoom let it through without asking.
		member, err := a.store.IsMember(ctx, id, user.ID)
		if err != nil {
			return store.Room{}, err
		}
		if !member {
			return store.Room{}, store.ErrNotMember
		}
	}
	return room, nil
}

// errNoRoom is the answer for a room that does not exist, or that the
// user may not know of: the very error FindRoomByID gives.
func errNoRoom(id int64) error {
	return fmt.Errorf("store: find room %d: %w", id, store.ErrNotFound)
}
