package linkpreview

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// TestImageWhy: why a picture is not taken, each reason its own error.
func TestImageWhy(t *testing.T) {
	gif := []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/gif":
			w.Write(gif)
		case "/svg":
			w.Header().Set("Content-Type", "image/svg+xml")
			w.Write([]byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`))
		case "/big":
			w.Write(append(append([]byte{}, gif...), make([]byte, 1024)...))
		}
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	var reencoded []byte
	f := New(Config{
		MaxBytes:  512,
		Timeout:   time.Second,
		AllowAddr: func(a netip.Addr) bool { return a.IsLoopback() && a.Is4() },
		AllowPort: func(p int) bool { return p == port },
		Reencode: func(_ context.Context, r io.Reader) ([]byte, string, int, int, error) {
			b, err := io.ReadAll(r)
			reencoded = b
			return []byte("re-encoded"), "image/png", 1, 1, err
		},
	})
	for _, c := range []struct {
		path string
		want error
	}{
		{srv.URL + "/gif", nil},
		{srv.URL + "/svg", ErrNotImage},
		{srv.URL + "/big", ErrTooLarge},
		{"http://10.0.0.1:" + strconv.Itoa(port) + "/gif", ErrAddress},
		{"http://127.0.0.1:1/gif", ErrPort},
		{"http://169.254.169.254/x.png", ErrAddress},
		{"file:///etc/passwd", ErrScheme},
	} {
		u, _ := url.Parse(c.path)
		data, _, _, _, err := f.image(context.Background(), u)
		if c.want == nil && (err != nil || string(data) != "re-encoded" || !bytes.Equal(reencoded, gif)) || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %q, %v; want %v", c.path, data, err, c.want)
		}
	}
}
