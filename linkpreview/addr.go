package linkpreview

import (
	"net/netip"
	"strings"
)

// Where a fetch may connect: a public unicast address, on port 80 or 443.
// The check runs on the address the dialer is about to connect to, after
// the name was resolved (see Fetcher.control), so a name that resolves to
// a private address is refused however it got there; a URL that holds an
// address is also refused before any connection is tried.

// refused4 are the IPv4 ranges that are not public unicast.
var refused4 = prefixes(
	"0.0.0.0/8",          // this network, and the unspecified address
	"10.0.0.0/8",         // private (RFC 1918)
	"100.64.0.0/10",      // carrier-grade NAT (RFC 6598)
	"127.0.0.0/8",        // loopback
	"169.254.0.0/16",     // link-local, with the clouds' metadata at 169.254.169.254
	"172.16.0.0/12",      // private
	"192.0.0.0/24",       // IETF protocol assignments
	"192.0.2.0/24",       // documentation (TEST-NET-1)
	"192.88.99.0/24",     // the 6to4 relays' anycast, deprecated
	"192.168.0.0/16",     // private
	"198.18.0.0/15",      // benchmarking
	"198.51.100.0/24",    // documentation (TEST-NET-2)
	"203.0.113.0/24",     // documentation (TEST-NET-3)
	"224.0.0.0/4",        // multicast
	"240.0.0.0/4",        // reserved, with the broadcast address
	"255.255.255.255/32", // broadcast (in 240/4 too; said for the reader)
)

// IPv6: only global unicast (2000::/3) is public, less these ranges in it;
// NAT64 and 6to4 addresses are judged by the IPv4 address they carry.
var (
	global6   = netip.MustParsePrefix("2000::/3")
	nat64     = netip.MustParsePrefix("64:ff9b::/96") // the well-known NAT64 prefix (RFC 6052)
	sixToFour = netip.MustParsePrefix("2002::/16")    // 6to4 (RFC 3056): an IPv4 address in bits 16..48
	refused6  = prefixes(
		"2001::/23",     // IETF protocol assignments: Teredo, benchmarking, ORCHID
		"2001:db8::/32", // documentation
		"3fff::/20",     // documentation (RFC 9637)
	)
)

func prefixes(ss ...string) []netip.Prefix {
	ps := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		ps[i] = netip.MustParsePrefix(s)
	}
	return ps
}

// publicAddr reports whether a is a public unicast address: not loopback,
// private, link-local, unspecified, multicast, broadcast, shared (CGNAT),
// documentation or reserved, nor an IPv4-mapped, NAT64 or 6to4 IPv6
// address of one of those. Everything outside 2000::/3 in IPv6 (fc00::/7,
// fe80::/10, ff00::/8, ::1, 64:ff9b:1::/48 ...) is refused.
func publicAddr(a netip.Addr) bool {
	if !a.IsValid() || a.Zone() != "" {
		return false // a zone only ever names a local link
	}
	a = a.Unmap()
	if a.Is4() {
		return public4(a)
	}
	b := a.As16()
	switch {
	case nat64.Contains(a):
		return public4(netip.AddrFrom4([4]byte(b[12:16])))
	case sixToFour.Contains(a):
		return public4(netip.AddrFrom4([4]byte(b[2:6])))
	case !global6.Contains(a):
		return false
	}
	for _, p := range refused6 {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

func public4(a netip.Addr) bool {
	for _, p := range refused4 {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// numericHost reports whether host, which is no address netip reads, looks
// like a number all the same ("127.1", "2130706433", "0x7f.0.0.1"): some
// resolvers read those as IPv4 addresses. A real name's last label is
// never all digits, nor a hexadecimal number.
func numericHost(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return true
	}
	digits := strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(last), "0x"), "0X")
	if digits == "" {
		return true
	}
	hex := len(digits) < len(last)
	for _, c := range strings.ToLower(digits) {
		switch {
		case c >= '0' && c <= '9':
		case hex && c >= 'a' && c <= 'f':
		default:
			return false
		}
	}
	return true
}
