package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"

	"chat/hub"
)

// Message kinds on the wire (first byte). A room's subject carries
// kindEntry and kindEvent; the control subject the others, each followed
// by the sending instance's id.
const (
	kindEntry   = 'e' // an entry of a room: seq, prev, meta, data
	kindEvent   = 'v' // any other event of a room: meta, data
	kindChange  = 'c' // a change to an entry of a room: rev, meta, data
	kindDelta   = 'd' // presence: instance, version, room, present, user
	kindFull    = 'f' // presence: instance, version, then room, user pairs
	kindAlive   = 'a' // presence: instance, version
	kindWant    = 'w' // presence: instance, the instance asked for its full list
	kindBye     = 'b' // presence: instance leaving
	kindSession = 's' // instance, code, session, reason
	kindUser    = 'u' // instance, skip room, user, meta, data
)

var (
	errShort = errors.New("cluster: message too short")
	errKind  = errors.New("cluster: unknown message kind")
)

// appendRoomEvent encodes an event of a room: an entry if it has a Seq,
// a change to one if it has a Rev.
func appendRoomEvent(b []byte, ev hub.Event) []byte {
	if ev.Seq != 0 {
		b = append(b, kindEntry)
		b = binary.AppendUvarint(b, uint64(ev.Seq))
		b = binary.AppendUvarint(b, uint64(ev.Prev))
	} else if ev.Rev != 0 {
		b = append(b, kindChange)
		b = binary.AppendUvarint(b, uint64(ev.Rev))
	} else {
		b = append(b, kindEvent)
	}
	b = appendMeta(b, ev.Meta)
	return appendBytes(b, ev)
}

// appendBytes writes an event's bytes: 0 and its Data, or the number of
// languages it is in and each of them (the last as the tail): the other
// instances may have readers of any language.
func appendBytes(b []byte, ev hub.Event) []byte {
	if ev.Text == nil {
		b = append(b, 0)
		return append(b, ev.Data...)
	}
	all := ev.Text.All()
	b = binary.AppendUvarint(b, uint64(len(all)))
	for i, t := range all {
		if i < len(all)-1 {
			b = binary.AppendUvarint(b, uint64(len(t)))
		}
		b = append(b, t...)
	}
	return b
}

// maxLangs bounds the languages an event may come in.
const maxLangs = 64

// bytes reads what appendBytes wrote into the event. Its slices are b's.
func (r *reader) bytes(ev *hub.Event) {
	n := r.uvarint()
	if r.err != nil {
		return
	}
	if n == 0 {
		ev.Data = r.b
		return
	}
	if n > maxLangs {
		r.err = fmt.Errorf("cluster: an event in %d languages", n)
		return
	}
	by := make([][]byte, n)
	for i := range by {
		if i == len(by)-1 {
			by[i] = r.b
			break
		}
		l := r.uvarint()
		if r.err != nil || uint64(len(r.b)) < l {
			r.err = errShort
			return
		}
		by[i], r.b = r.b[:l:l], r.b[l:]
	}
	ev.Text = hub.Rendered(by)
}

// parseRoomEvent decodes an event of a room. Its Data is b's tail: b
// must be the caller's to give away.
func parseRoomEvent(b []byte) (hub.Event, error) {
	r := reader{b: b}
	var ev hub.Event
	switch r.byte() {
	case kindEntry:
		ev.Seq = int64(r.uvarint())
		ev.Prev = int64(r.uvarint())
	case kindChange:
		ev.Rev = int64(r.uvarint())
	case kindEvent:
	default:
		if r.err == nil {
			return hub.Event{}, errKind
		}
	}
	ev.Meta = r.meta()
	r.bytes(&ev)
	if r.err != nil {
		return hub.Event{}, r.err
	}
	return ev, nil
}

// control is a message on the control subject: presence, sessions to
// close, events sent to a user's connections.
type control struct {
	kind byte
	from string // the instance that sent it
	// version is the sender's count of presence deltas (delta, full,
	// alive).
	version uint64
	room    int64  // delta: the room; user: the room to skip
	user    string // delta, user
	present bool   // delta
	// rooms is the sender's whole presence (full).
	rooms  map[int64]map[string]struct{}
	target string // want: the instance asked
	// session, code and reason say which session to close, and how
	// (session).
	session string
	code    int
	reason  string
	ev      hub.Event // user: Data and Meta
}

// appendControl encodes a control message.
func appendControl(b []byte, m control) []byte {
	b = append(b, m.kind)
	b = appendString(b, m.from)
	switch m.kind {
	case kindDelta:
		b = binary.AppendUvarint(b, m.version)
		b = binary.AppendVarint(b, m.room)
		present := byte(0)
		if m.present {
			present = 1
		}
		b = append(b, present)
		b = appendString(b, m.user)
	case kindFull:
		b = binary.AppendUvarint(b, m.version)
		for room, users := range m.rooms {
			for u := range users {
				b = binary.AppendVarint(b, room)
				b = appendString(b, u)
			}
		}
	case kindAlive:
		b = binary.AppendUvarint(b, m.version)
	case kindWant:
		b = appendString(b, m.target)
	case kindSession:
		b = binary.AppendUvarint(b, uint64(m.code))
		b = appendString(b, m.session)
		b = appendString(b, m.reason)
	case kindUser:
		b = binary.AppendVarint(b, m.room)
		b = appendString(b, m.user)
		b = appendMeta(b, m.ev.Meta)
		b = appendBytes(b, m.ev)
	}
	return b
}

// parseControl decodes a control message. An event's Data is b's tail:
// b must be the caller's to give away.
func parseControl(b []byte) (control, error) {
	r := reader{b: b}
	m := control{kind: r.byte(), from: r.string()}
	switch m.kind {
	case kindDelta:
		m.version = r.uvarint()
		m.room = r.varint()
		m.present = r.byte() == 1
		m.user = r.string()
	case kindFull:
		m.version = r.uvarint()
		m.rooms = make(map[int64]map[string]struct{})
		for len(r.b) > 0 && r.err == nil {
			room, user := r.varint(), r.string()
			if m.rooms[room] == nil {
				m.rooms[room] = make(map[string]struct{})
			}
			m.rooms[room][user] = struct{}{}
		}
	case kindAlive:
		m.version = r.uvarint()
	case kindWant:
		m.target = r.string()
	case kindBye:
	case kindSession:
		m.code = int(r.uvarint())
		m.session, m.reason = r.string(), r.string()
	case kindUser:
		m.room = r.varint()
		m.user = r.string()
		m.ev = hub.Event{Meta: r.meta()}
		r.bytes(&m.ev)
	default:
		if r.err == nil {
			r.err = fmt.Errorf("%w %q", errKind, m.kind)
		}
	}
	if r.err != nil {
		return control{}, r.err
	}
	return m, nil
}

// appendMeta writes 0 for no meta, or 1 and its fields.
func appendMeta(b []byte, m *hub.Meta) []byte {
	if m == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendVarint(b, m.AuthorID)
	b = appendString(b, m.Author)
	b = appendString(b, m.Kind)
	b = binary.AppendVarint(b, m.Opened)
	return binary.AppendVarint(b, m.OpenedSeen)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// reader takes a message apart; a short one sets err, and every read
// after it gives zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = errShort
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) string() string {
	n := r.uvarint()
	if r.err != nil || uint64(len(r.b)) < n {
		r.err = errShort
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *reader) meta() *hub.Meta {
	if r.byte() != 1 {
		return nil
	}
	m := &hub.Meta{AuthorID: r.varint(), Author: r.string(), Kind: r.string(), Opened: r.varint(), OpenedSeen: r.varint()}
	if r.err != nil {
		return nil
	}
	return m
}
