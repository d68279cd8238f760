package handlers

import (
	"bytes"
	"context"

	"chat/hub"
	"chat/i18n"
	"chat/store"
	"chat/views"

	"github.com/a-h/templ"
)

// renderIn renders a component in a language into a fresh byte slice.
func renderIn(l *i18n.Lang, comp templ.Component) []byte {
	var buf bytes.Buffer
	if err := comp.Render(i18n.With(context.Background(), l), &buf); err != nil {
		// Rendering plain data into a buffer has no way to fail but a bug.
		panic("render frame: " + err.Error())
	}
	return buf.Bytes()
}

// frame is what the hub pushes of a component: rendered once in each
// language the connections it reaches read, when the first of them takes
// it, and those bytes shared between all of that language (hub.Text).
// The component must hold only what will not change.
func frame(comp templ.Component) *hub.Text {
	langs := i18n.Default().Langs()
	return hub.NewText(len(langs), func(i int) []byte { return renderIn(langs[i], comp) })
}

// subLang is the language a connection reads.
func subLang(s *hub.Sub) *i18n.Lang {
	langs := i18n.Default().Langs()
	if s.Lang >= 0 && s.Lang < len(langs) {
		return langs[s.Lang]
	}
	return langs[0]
}

// sendTo queues a component to one connection alone, in its language.
func (a *App) sendTo(s *hub.Sub, comp templ.Component) {
	a.hub.Send(s, hub.Event{Data: renderIn(subLang(s), comp)})
}

func entryFrame(m store.Message) *hub.Text { return frame(views.EntryPush(entry(m))) }

// changedFrame replaces an entry that changed (an edit, a delete, a card).
func changedFrame(m store.Message) *hub.Text { return frame(views.EntryChanged(entry(m))) }

// roomLinkFrame changes a room's link in the room list.
func roomLinkFrame(l views.RoomLink) *hub.Text { return frame(views.RoomLinkChanged(l)) }

// noticeFrame tells a user's pages of a post that matches their
// notification level.
func noticeFrame(n views.Notice) *hub.Text { return frame(views.NoticePush(n)) }

// roomListedFrame puts a room in a page's lists of rooms, and
// roomGoneFrame takes it out (package lists).
func roomListedFrame(l views.RoomLink) *hub.Text { return frame(views.RoomListed(l)) }
func roomGoneFrame(roomID int64) *hub.Text       { return frame(views.RoomGone(roomID)) }

// presenceFrames renders #presence for the hub.
type presenceFrames struct{}

func (presenceFrames) List(_ int64, users []string) *hub.Text {
	return frame(views.PresenceList(users))
}

func (presenceFrames) Joined(_ int64, user string) *hub.Text {
	return frame(views.PresenceJoined(user))
}

func (presenceFrames) Left(_ int64, user string) *hub.Text {
	return frame(views.PresenceLeft(user))
}

// PresenceFrames is the hub's renderer of the presence list.
func PresenceFrames() hub.Presence { return presenceFrames{} }

// boostsFrame replaces an entry's reactions.
func boostsFrame(m store.Message) *hub.Text { return frame(views.BoostsChanged(entry(m))) }

// inLanguage sets each event's Data to its bytes in the language: the
// first connection of a language to take an event renders it, the others
// take those bytes (hub.Text).
func inLanguage(batch []hub.Event, lang int) []hub.Event {
	for i := range batch {
		if batch[i].Text != nil {
			batch[i].Data, batch[i].Text = batch[i].Text.In(lang), nil
		}
	}
	return batch
}
