package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"chat/hub"
	"chat/i18n"
	"chat/store"
	"chat/views"

	"github.com/gofiber/fiber/v2"
)

// Managing a room: members add people; its creator or an admin renames
// it, opens or closes it, removes members and archives it; an admin
// deletes it with its history. Every change is an entry of the room's
// history, pushed live like any other.

// mayManage reports whether the user may change the room: its creator, or
// an admin.
func mayManage(room store.Room, user store.User) bool {
	return user.IsAdmin || room.CreatedBy == user.ID
}

// managedRoom finds the room of the path for a change by its creator or an
// admin: anyone else gets 403, or, for a closed room they may not read,
// what an unknown room gets.
func (a *App) managedRoom(c *fiber.Ctx) (store.Room, store.User, error) {
	id, err := pathID(c)
	if err != nil {
		return store.Room{}, store.User{}, err
	}
	s, _ := session(c)
	room, err := a.store.FindRoomByID(c.UserContext(), id)
	if err != nil {
		return store.Room{}, store.User{}, err
	}
	if room.Kind == store.RoomKindRoom && mayManage(room, s.User) {
		return room, s.User, nil
	}
	if _, err := a.readableRoom(c.UserContext(), id, s.User); err != nil {
		return store.Room{}, store.User{}, err
	}
	if room.Kind == store.RoomKindDM {
		return store.Room{}, store.User{}, fiber.NewError(http.StatusForbidden, a.tr(c).T("roomadmin.dm_unmanaged"))
	}
	return store.Room{}, store.User{}, fiber.NewError(http.StatusForbidden, a.tr(c).T("roomadmin.creator_only"))
}

// roomChangeError turns a refused change of a room into an answer, in
// the reader's language.
func roomChangeError(l *i18n.Lang, err error) error {
	switch {
	case errors.Is(err, store.ErrArchived):
		return fiber.NewError(http.StatusForbidden, l.T("errors.archived"))
	case errors.Is(err, store.ErrNotMember):
		return fiber.NewError(http.StatusForbidden, l.T("roomadmin.members_only_add"))
	case errors.Is(err, store.ErrForbidden):
		return fiber.NewError(http.StatusForbidden, l.T("roomadmin.dm_unmanaged"))
	}
	return err
}

// handleMemberAdd adds someone to the room, by a member: a join entry
// says who added them, and a closed room appears in their room lists
// live.
func (a *App) handleMemberAdd(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	s, _ := session(c)
	ctx := c.UserContext()
	if _, err := a.readableRoom(ctx, id, s.User); err != nil {
		return err
	}
	name := strings.TrimSpace(c.FormValue("username"))
	name = strings.TrimPrefix(name, "@")
	var u store.User
	problem := validateUsername(a.tr(c), name)
	if problem == "" {
		u, err = a.store.FindUserByUsername(ctx, name)
		switch {
		case errors.Is(err, store.ErrNotFound) || err == nil && u.Deactivated:
			problem = a.tr(c).F("roomadmin.no_one_named", "Name", name)
		case err != nil:
			return err
		}
	}
	if problem != "" {
		return fiber.NewError(http.StatusUnprocessableEntity, problem)
	}
	_, changed, err := a.writer.Write(ctx, id, func(ctx context.Context, b *store.Batch) (store.Message, bool, error) {
		return b.AddMember(ctx, id, u.ID, s.User.ID)
	})
	if err != nil {
		return roomChangeError(a.tr(c), err)
	}
	if changed {
		// A closed room appeared in their lists as the entry was pushed
		// (package lists).
		a.log.Info("member added", "room", id, "user", u.Username, "by", s.User.Username)
	}
	return c.Redirect(views.RoomURL(id), fiber.StatusSeeOther)
}

// handleMemberRemove removes a member, by the room's creator or an admin:
// a leave entry says who removed them, their connections to the room
// close at once, and a closed room leaves their room lists.
func (a *App) handleMemberRemove(c *fiber.Ctx) error {
	room, by, err := a.managedRoom(c)
	if err != nil {
		return err
	}
	u, err := a.findUserParam(c)
	if err != nil {
		return fiber.NewError(http.StatusNotFound, a.tr(c).T("roomadmin.no_such_member"))
	}
	_, changed, err := a.writer.Write(c.UserContext(), room.ID, func(ctx context.Context, b *store.Batch) (store.Message, bool, error) {
		return b.RemoveMember(ctx, room.ID, u.ID, by.ID)
	})
	if err != nil {
		return roomChangeError(a.tr(c), err)
	}
	if changed {
		// Their connections to the room closed as the entry was pushed
		// (closeOnEntry), and a closed room left their lists (package
		// lists).
		a.log.Info("member removed", "room", room.ID, "user", u.Username, "by", by.Username)
	}
	return c.Redirect(views.RoomURL(room.ID), fiber.StatusSeeOther)
}

// handleRoomRename renames the room: the rename entry carries the new
// name to the room's pages; its members' other pages, and for an open
// room every page that follows no room, are told too.
func (a *App) handleRoomRename(c *fiber.Ctx) error {
	room, by, err := a.managedRoom(c)
	if err != nil {
		return err
	}
	raw := c.FormValue("name")
	name, problem := cleanRoomName(a.tr(c), raw)
	status := http.StatusUnprocessableEntity
	if problem == "" {
		changed, err := a.changeRoom(c, by, func() (bool, error) {
			_, changed, err := a.writer.Write(c.UserContext(), room.ID, func(ctx context.Context, b *store.Batch) (store.Message, bool, error) {
				return b.RenameRoom(ctx, room.ID, by.ID, name)
			})
			return changed, err
		})
		switch {
		case err == nil:
			if changed {
				a.log.Info("room renamed", "room", room.ID, "by", by.Username)
			}
			return c.Redirect(views.RoomURL(room.ID), fiber.StatusSeeOther)
		case errors.Is(err, store.ErrConflict):
			problem, status = a.tr(c).T("roomadmin.name_exists"), http.StatusConflict
		case isRoomChanges(err):
			return err
		default:
			return roomChangeError(a.tr(c), err)
		}
	}
	return a.showRoomWith(c, room.ID, status, views.ComposeForm{}, func(p *views.RoomPage) {
		if p.Manage != nil {
			p.Manage.Name, p.Manage.Error = raw, problem
		}
	})
}

// handleRoomAccess opens the room to everyone or closes it to its
// members; closing it closes the connections of those who are not.
func (a *App) handleRoomAccess(c *fiber.Ctx) error {
	room, by, err := a.managedRoom(c)
	if err != nil {
		return err
	}
	access := c.FormValue("access")
	if access != store.AccessOpen && access != store.AccessClosed {
		return fiber.NewError(http.StatusUnprocessableEntity, a.tr(c).T("roomadmin.bad_access"))
	}
	changed, err := a.changeRoom(c, by, func() (bool, error) {
		_, changed, err := a.writer.Write(c.UserContext(), room.ID, func(ctx context.Context, b *store.Batch) (store.Message, bool, error) {
			return b.SetRoomAccess(ctx, room.ID, by.ID, access)
		})
		return changed, err
	})
	if err != nil {
		return roomChangeError(a.tr(c), err)
	}
	if changed {
		// A room closed closed its non-members' connections as the
		// entry was pushed (closeOnEntry).
		a.log.Info("room access changed", "room", room.ID, "access", access, "by", by.Username)
	}
	return c.Redirect(views.RoomURL(room.ID), fiber.StatusSeeOther)
}

// closeNonMembers closes the connections to a room that closed of those
// who are not its members.
func (a *App) closeNonMembers(ctx context.Context, roomID int64) {
	members, err := a.store.ListMembers(ctx, roomID)
	if err != nil {
		// Better everyone's: members reconnect by themselves.
		a.log.Error("closed room: members not read", "room", roomID, "err", err)
		a.hub.CloseRoom(roomID, hub.ClosePolicy, "the room closed")
		return
	}
	keep := make(map[string]bool, len(members))
	for _, m := range members {
		keep[m] = true
	}
	a.hub.CloseInRoom(roomID, func(user string) bool { return !keep[user] }, hub.ClosePolicy, "the room closed")
}

func (a *App) handleRoomArchive(c *fiber.Ctx) error   { return a.archiveRoom(c, true) }
func (a *App) handleRoomUnarchive(c *fiber.Ctx) error { return a.archiveRoom(c, false) }

// archiveRoom archives the room (read-only, listed apart) or brings it
// back.
func (a *App) archiveRoom(c *fiber.Ctx, archived bool) error {
	room, by, err := a.managedRoom(c)
	if err != nil {
		return err
	}
	changed, err := a.changeRoom(c, by, func() (bool, error) {
		_, changed, err := a.writer.Write(c.UserContext(), room.ID, func(ctx context.Context, b *store.Batch) (store.Message, bool, error) {
			return b.SetRoomArchived(ctx, room.ID, by.ID, archived)
		})
		return changed, err
	})
	if err != nil {
		return roomChangeError(a.tr(c), err)
	}
	if changed {
		a.log.Info("room archived", "room", room.ID, "archived", archived, "by", by.Username)
	}
	return c.Redirect(views.RoomURL(room.ID), fiber.StatusSeeOther)
}

// deletableRoom finds the room of the path for an admin to delete.
func (a *App) deletableRoom(c *fiber.Ctx) (store.Room, error) {
	room, user, err := a.managedRoom(c)
	if err != nil {
		return store.Room{}, err
	}
	if !user.IsAdmin {
		return store.Room{}, fiber.NewError(http.StatusForbidden, a.tr(c).T("roomadmin.admin_delete_only"))
	}
	return room, nil
}

// handleRoomDeleteForm asks an admin to confirm, naming the room and how
// many entries go with it.
func (a *App) handleRoomDeleteForm(c *fiber.Ctx) error {
	room, err := a.deletableRoom(c)
	if err != nil {
		return err
	}
	n, err := a.store.CountMessages(c.UserContext(), room.ID)
	if err != nil {
		return err
	}
	links, err := a.roomLinks(c, 0)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, http.StatusOK, views.RoomDelete(views.RoomDeletePage{Viewer: viewer(c), Rooms: links,
		RoomID: room.ID, RoomName: room.Name, Entries: n}))
}

// handleRoomDelete deletes the room and its whole history, once the
// confirmation names it, and closes every connection to it.
func (a *App) handleRoomDelete(c *fiber.Ctx) error {
	room, err := a.deletableRoom(c)
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != room.Name {
		return fiber.NewError(http.StatusUnprocessableEntity, a.tr(c).T("roomadmin.confirm_delete"))
	}
	if err := a.store.DeleteRoom(c.UserContext(), room.ID); err != nil {
		return err
	}
	s, _ := session(c)
	a.log.Info("room deleted", "room", room.ID, "by", s.User.Username)
	a.roomDeleted(room.ID)
	return c.Redirect("/", fiber.StatusSeeOther)
}

// roomChangesPerRoom: a user may change (rename, open or close, archive
// or bring back) rooms, and open new direct messages, this many times as
// often as they may make rooms (-room-limit an hour). Each change is
// pushed to every page that lists the room, so an unlimited run of them
// would be a flood of frames to everyone.
const roomChangesPerRoom = 3

// errRoomChanges is the answer past that limit, in the reader's language.
func errRoomChanges(c *fiber.Ctx) error {
	return fiber.NewError(http.StatusTooManyRequests, i18n.From(c.UserContext()).T("roomadmin.too_many_changes"))
}

// isRoomChanges reports whether err is the answer past that limit.
func isRoomChanges(err error) bool {
	var fe *fiber.Error
	return errors.As(err, &fe) && fe.Code == http.StatusTooManyRequests
}

// changeRoom does the change do makes, counted against the user's room
// changes first (an admin's are not counted); a change that changed
// nothing, or failed, gives its place back.
func (a *App) changeRoom(c *fiber.Ctx, by store.User, do func() (changed bool, err error)) (bool, error) {
	if by.IsAdmin {
		return do()
	}
	now := a.now()
	if wait := a.roomChanges.Take(by.ID, now); wait > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(wait.Seconds())+1))
		return false, errRoomChanges(c)
	}
	changed, err := do()
	if err != nil || !changed {
		a.roomChanges.Undo(by.ID, now)
	}
	return changed, err
}
