// Command barehub is the yardstick the chat's live path is measured
// against: the least a WebSocket chat room can do, on the same WebSocket
// library, with no accounts, no storage and no pages. It answers just
// what chatload needs (sign-up, rooms, joining, the room's socket) and
// sends each post to every connection of its room as a fragment of the
// chat's markup.
//
//	go run ./cmd/barehub -addr 127.0.0.1:8090
//	go run ./cmd/chatload -url http://127.0.0.1:8090 -conns 1000 -rate 100
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"log"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
)

// queueLen is how many frames a connection may have waiting; one that
// falls further behind is dropped, as the chat does.
const queueLen = 256

type conn struct {
	ws   *websocket.Conn
	out  chan []byte
	once sync.Once
}

func (c *conn) close() { c.once.Do(func() { close(c.out) }) }

// room is the connections of one room and the order of its posts.
type room struct {
	mu    sync.Mutex
	conns map[*conn]struct{}
}

type hub struct {
	mu     sync.Mutex
	rooms  map[string]*room
	nextID atomic.Int64
	users  atomic.Int64
}

func (h *hub) room(id string) *room {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rooms[id]
	if r == nil {
		r = &room{conns: make(map[*conn]struct{})}
		h.rooms[id] = r
	}
	return r
}

// broadcast numbers a post and queues it to every connection of the
// room, in one order for all.
func (r *room) broadcast(id int64, text string) {
	frame := []byte(`<div id="msg-` + strconv.FormatInt(id, 10) + `" data-kind="post" hx-swap-oob="beforeend:#messages"><p class="text">` + html.EscapeString(text) + `</p></div>`)
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.conns {
		select {
		case c.out <- frame:
		default:
			delete(r.conns, c)
			c.close()
		}
	}
}

var upgrader = websocket.Upgrader{ReadBufferSize: 512, WriteBufferSize: 4096, CheckOrigin: func(*http.Request) bool { return true }}

func (h *hub) serveWS(w http.ResponseWriter, req *http.Request, roomID string) {
	ws, err := upgrader.Upgrade(w, req, nil)
	if err != nil {
		return
	}
	c := &conn{ws: ws, out: make(chan []byte, queueLen)}
	r := h.room(roomID)
	r.mu.Lock()
	r.conns[c] = struct{}{}
	r.mu.Unlock()
	go func() {
		defer ws.Close()
		for frame := range c.out {
			ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if ws.WriteMessage(websocket.TextMessage, frame) != nil {
				return
			}
		}
	}()
	ws.SetReadLimit(64 << 10)
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			break
		}
		var msg struct {
			Text string `json:"text"`
		}
		if json.Unmarshal(data, &msg) != nil || strings.TrimSpace(msg.Text) == "" {
			continue
		}
		r.broadcast(h.nextID.Add(1), msg.Text)
	}
	r.mu.Lock()
	if _, ok := r.conns[c]; ok {
		delete(r.conns, c)
		c.close()
	}
	r.mu.Unlock()
}

func (h *hub) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	path := req.URL.Path
	switch {
	case path == "/healthz":
		w.Write([]byte("ok"))
	case req.Method == http.MethodPost && path == "/register":
		http.SetCookie(w, &http.Cookie{Name: "chat_session", Value: strconv.FormatInt(h.users.Add(1), 10), Path: "/"})
		http.Redirect(w, req, "/", http.StatusSeeOther)
	case req.Method == http.MethodPost && path == "/rooms":
		h.mu.Lock()
		id := strconv.Itoa(len(h.rooms) + 1)
		h.mu.Unlock()
		h.room(id)
		http.Redirect(w, req, "/rooms/"+id, http.StatusSeeOther)
	case req.Method == http.MethodPost && strings.HasPrefix(path, "/rooms/") && strings.HasSuffix(path, "/join"):
		http.Redirect(w, req, strings.TrimSuffix(path, "/join"), http.StatusSeeOther)
	case req.Method == http.MethodGet && strings.HasPrefix(path, "/rooms/") && strings.HasSuffix(path, "/ws"):
		h.serveWS(w, req, strings.TrimSuffix(strings.TrimPrefix(path, "/rooms/"), "/ws"))
	default:
		http.NotFound(w, req)
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "address to listen on")
	flag.Parse()
	h := &hub{rooms: make(map[string]*room)}
	fmt.Println("barehub on", *addr)
	log.Fatal(http.ListenAndServe(*addr, h))
}
