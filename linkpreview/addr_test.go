package linkpreview

import (
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestPublicAddr: which addresses a fetch may connect to.
func TestPublicAddr(t *testing.T) {
	for _, c := range []struct {
		addr   string
		public bool
	}{
		{"93.184.215.14", true},
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"2606:2800:21f:cb07:6820:80da:af6b:8b2c", true},
		{"2a00:1450:4001:80b::200e", true},
		{"64:ff9b::808:808", true},  // NAT64 of 8.8.8.8
		{"2002:808:808::1", true},   // 6to4 of 8.8.8.8
		{"::ffff:8.8.8.8", true},    // IPv4-mapped 8.8.8.8
		{"0.0.0.0", false},          // unspecified
		{"0.1.2.3", false},          // this network
		{"10.0.0.1", false},         // RFC 1918
		{"10.255.255.255", false},   //
		{"172.16.0.1", false},       //
		{"172.31.255.254", false},   //
		{"192.168.1.1", false},      //
		{"100.64.0.1", false},       // CGNAT
		{"100.127.255.254", false},  //
		{"127.0.0.1", false},        // loopback
		{"127.255.255.254", false},  //
		{"169.254.169.254", false},  // the clouds' metadata
		{"169.254.0.1", false},      // link-local
		{"192.0.0.170", false},      // IETF (NAT64 discovery)
		{"192.0.2.1", false},        // documentation
		{"198.51.100.1", false},     //
		{"203.0.113.1", false},      //
		{"198.18.0.1", false},       // benchmarking
		{"192.88.99.1", false},      // 6to4 relay anycast
		{"224.0.0.1", false},        // multicast
		{"239.255.255.250", false},  //
		{"240.0.0.1", false},        // reserved
		{"255.255.255.255", false},  // broadcast
		{"::", false},               // unspecified
		{"::1", false},              // loopback
		{"::ffff:127.0.0.1", false}, // IPv4-mapped loopback
		{"::ffff:10.0.0.1", false},  // IPv4-mapped private
		{"::ffff:169.254.169.254", false},
		{"::127.0.0.1", false},            // IPv4-compatible (deprecated)
		{"64:ff9b::7f00:1", false},        // NAT64 of 127.0.0.1
		{"64:ff9b::a9fe:a9fe", false},     // NAT64 of 169.254.169.254
		{"64:ff9b::a00:1", false},         // NAT64 of 10.0.0.1
		{"64:ff9b:1::a00:1", false},       // local-use NAT64
		{"2002:7f00:1::1", false},         // 6to4 of 127.0.0.1
		{"2002:a9fe:a9fe::1", false},      // 6to4 of 169.254.169.254
		{"fc00::1", false},                // unique local
		{"fd00:ec2::254", false},          // a cloud's IPv6 metadata
		{"fe80::1", false},                // link-local
		{"fe80::1%eth0", false},           //
		{"fec0::1", false},                // site-local
		{"ff02::1", false},                // multicast
		{"100::1", false},                 // discard
		{"2001::1", false},                // Teredo
		{"2001:2::1", false},              // benchmarking
		{"2001:db8::1", false},            // documentation
		{"3fff::1", false},                // documentation
		{"5f00::1", false},                // segment routing, outside 2000::/3
		{"::ffff:0:0", false},             //
		{"::ffff:255.255.255.255", false}, //
	} {
		a := netip.MustParseAddr(c.addr)
		if got := publicAddr(a); got != c.public {
			t.Errorf("publicAddr(%s) = %v, want %v", c.addr, got, c.public)
		}
	}
}

// TestControl: the dialer's hook, which sees the address the socket is
// about to connect to, refuses what the policy refuses, whatever name
// the URL held.
func TestControl(t *testing.T) {
	f := New(Config{})
	for _, c := range []struct {
		network, address string
		want             error
	}{
		{"tcp4", "93.184.215.14:80", nil},
		{"tcp4", "93.184.215.14:443", nil},
		{"tcp6", "[2a00:1450:4001:80b::200e]:443", nil},
		{"tcp4", "93.184.215.14:8080", ErrPort},
		{"tcp4", "93.184.215.14:22", ErrPort},
		{"tcp4", "127.0.0.1:80", ErrAddress},
		{"tcp4", "10.1.2.3:443", ErrAddress},
		{"tcp4", "169.254.169.254:80", ErrAddress},
		{"tcp6", "[::1]:80", ErrAddress},
		{"tcp6", "[::ffff:127.0.0.1]:80", ErrAddress},
		{"tcp6", "[fe80::1%lo]:80", ErrAddress},
		{"tcp6", "[64:ff9b::a9fe:a9fe]:80", ErrAddress},
		{"udp4", "93.184.215.14:80", ErrAddress},
		{"tcp4", "not an address", ErrAddress},
	} {
		err := f.control(c.network, c.address, nil)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("control(%s, %s) = %v, want %v", c.network, c.address, err, c.want)
		}
	}
}

// TestCheckURL: what is refused before any connection: schemes, ports,
// hosts that are refused addresses or numbers a resolver could read as
// one. Names pass here; their addresses are checked when connecting.
func TestCheckURL(t *testing.T) {
	f := New(Config{})
	for _, c := range []struct {
		url  string
		want error
	}{
		{"http://example.com/", nil},
		{"https://example.com/a?b#c", nil},
		{"http://example.com:80/", nil},
		{"https://example.com:443/", nil},
		{"http://example.com:443/", nil},
		{"HTTP://EXAMPLE.COM/", nil},
		{"http://93.184.215.14/", nil},
		{"http://localhost/", nil}, // a name: refused when connecting (TestNewRefuses)
		{"http://xn--caf-dma.example/", nil},
		{"file:///etc/passwd", ErrScheme},
		{"ftp://example.com/", ErrScheme},
		{"gopher://example.com/", ErrScheme},
		{"javascript:alert(1)", ErrScheme},
		{"data:text/html,<b>x</b>", ErrScheme},
		{"//example.com/", ErrScheme},
		{"/relative", ErrScheme},
		{"http:///nohost", ErrAddress},
		{"http://example.com:8080/", ErrPort},
		{"http://example.com:22/", ErrPort},
		{"https://example.com:0/", ErrPort},
		{"http://example.com:99999/", ErrPort},
		{"http://127.0.0.1/", ErrAddress},
		{"http://[::1]/", ErrAddress},
		{"http://[::ffff:127.0.0.1]/", ErrAddress},
		{"http://[::ffff:a9fe:a9fe]/", ErrAddress},
		{"http://[fe80::1%25eth0]/", ErrAddress},
		{"http://0.0.0.0/", ErrAddress},
		{"http://0/", ErrAddress},
		{"http://127.1/", ErrAddress},
		{"http://2130706433/", ErrAddress},
		{"http://0x7f000001/", ErrAddress},
		{"http://0x7f.0.0.1/", ErrAddress},
		{"http://017700000001/", ErrAddress},
		{"http://169.254.169.254./", ErrAddress},
		{"http://10.0.0.1.:80/", ErrAddress},
	} {
		u, err := url.Parse(c.url)
		if err != nil {
			t.Fatalf("%s: %v", c.url, err)
		}
		err = f.checkURL(u)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("checkURL(%s) = %v, want %v", c.url, err, c.want)
		}
	}
}

// TestDefaults: what New(Config{}) runs with, as the chat builds it.
func TestDefaults(t *testing.T) {
	f := New(Config{})
	c := f.cfg
	if c.Timeout != 5*time.Second || c.MaxBytes != 512<<10 || c.MaxRedirects != 3 || c.UserAgent == "" || c.AllowAddr != nil || c.AllowPort != nil || c.Reencode != nil {
		t.Errorf("defaults %+v", c)
	}
	tr := f.client.Transport.(*http.Transport)
	if tr.Proxy != nil || !tr.DisableKeepAlives || tr.MaxResponseHeaderBytes != maxHeaderBytes || f.client.Jar != nil {
		t.Errorf("transport %+v", tr)
	}
}

// TestNoPasswordInErrors: a URL that does not parse is not repeated in
// the error (it may hold a password, and errors get logged).
func TestNoPasswordInErrors(t *testing.T) {
	_, err := New(Config{}).Fetch(t.Context(), "http://user:hunter2@exa mple.com/%zz")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v", err)
	}
}
