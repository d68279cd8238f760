package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// streams is the HTTP client of every event stream and of the posts made
// without a socket: no compression asked for, as a browser's stream is
// never compressed, and a connection per stream.
var streams = &http.Client{Transport: &http.Transport{
	DisableCompression:  true,
	MaxIdleConnsPerHost: 64,
	IdleConnTimeout:     30 * time.Second,
}}

// stream is one room's event stream, read as a browser's EventSource
// reads it, and how its reader posts.
type stream struct {
	body       io.ReadCloser
	r          *bufio.Reader
	base, room string
	cookie     string
	clientIDs  atomic.Int64
	data       bytes.Buffer
}

func openStream(base, room, cookie, lang string) (*stream, error) {
	req, err := http.NewRequest(http.MethodGet, base+room+"/events", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cookie", cookie)
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	res, err := streams.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		return nil, fmt.Errorf("stream answered %d", res.StatusCode)
	}
	return &stream{body: res.Body, r: bufio.NewReaderSize(res.Body, 4096), base: base, room: room, cookie: cookie}, nil
}

// next returns the data of the stream's next event, its lines joined.
func (s *stream) next() ([]byte, error) {
	s.data.Reset()
	for {
		line, err := s.r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A long line: take the rest of it.
			rest, err2 := s.r.ReadBytes('\n')
			line = append(append([]byte(nil), line...), rest...)
			err = err2
		}
		if err != nil {
			return nil, err
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		switch {
		case len(line) == 0:
			if s.data.Len() > 0 {
				return s.data.Bytes(), nil
			}
		case bytes.HasPrefix(line, []byte("data: ")):
			if s.data.Len() > 0 {
				s.data.WriteByte('\n')
			}
			s.data.Write(line[len("data: "):])
		}
	}
}

// post sends text as the page's compose form does with no socket open:
// htmx's POST, with a client id.
func (s *stream) post(text string) error {
	id := fmt.Sprintf("chatload-%d-%d", time.Now().UnixNano(), s.clientIDs.Add(1))
	form := url.Values{"text": {text}, "client_id": {id}}
	req, err := http.NewRequest(http.MethodPost, s.base+s.room+"/messages", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", s.base)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("Cookie", s.cookie)
	res, err := streams.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("post answered %d", res.StatusCode)
	}
	return nil
}

func (s *stream) close() { s.body.Close() }
