package main

import (
	"chat/store"

	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// config is what the flags and their environment variables set.
type config struct {
	addr           string
	db             string
	postLimit      int
	roomLimit      int
	loginLimit     int
	loginAddrLimit int
	registerLimit  int
	baseURL        string
	maxSockets     int
	bodyLimit      int
	uploadLimit    int64
	uploadQuota    int64
	linkPreviews   bool
	webhookAllow   []string
	nats           string
	natsSubject    string
	sessionIdle    time.Duration
	trustedProxies []netip.Prefix
	pprofAddr      string
	metricsAddr    string
	logFormat      string
	logLevel       slog.Level
	// registration is the policy -registration sets at start ("open" or
	// "invite"); "" when not given: the database keeps the one it has.
	registration string
}

// flagValues are the flags as given (or taken from the environment),
// before they are checked.
type flagValues struct {
	addr, db, postLimit, roomLimit, loginLimit, loginAddrLimit, registerLimit, baseURL *string
	maxSockets, bodyLimit, sessionIdle, metricsAddr, logFormat, logLevel               *string
	pprofAddr, proxies, natsURL, natsSubject, webhookAllow                             *string
	registration, uploadLimit, uploadQuota, linkPreviews                               *string
}

// defineFlags declares every flag on fs; each falls back to an environment
// variable, then to a default that is safe for a real single-machine
// deployment.
func defineFlags(fs *flag.FlagSet, getenv func(string) string) flagValues {
	str := func(name, env, def, usage string) *string {
		if v := getenv(env); v != "" {
			def = v
		}
		return fs.String(name, def, usage+" ("+env+")")
	}
	var f flagValues
	f.addr = str("addr", "CHAT_ADDR", ":8080", "address to listen on")
	f.db = str("db", "CHAT_DB", "chat.db", "SQLite database file, or a postgres:// URL")
	f.postLimit = str("post-limit", "CHAT_POST_LIMIT", "30", "posts a user may make per 10 seconds, 0 for no limit")
	f.roomLimit = str("room-limit", "CHAT_ROOM_LIMIT", "10", "rooms a user may create per hour (and three times as many room changes and new direct messages), 0 for no limit")
	f.loginLimit = str("login-limit", "CHAT_LOGIN_LIMIT", "10", "failed logins per username in 15 minutes before 429, 0 for no limit")
	f.loginAddrLimit = str("login-addr-limit", "CHAT_LOGIN_ADDR_LIMIT", "100", "failed logins from one client address in 15 minutes before 429 (below it, each failure slows the next a little), 0 for no limit")
	f.registerLimit = str("register-limit", "CHAT_REGISTER_LIMIT", "30", "accounts one client address may make per hour, 0 for no limit")
	f.baseURL = str("base-url", "CHAT_BASE_URL", "", "the chat's public address, as in links it hands out (https://chat.example.com); empty: http:// and -addr")
	f.maxSockets = str("max-sockets", "CHAT_MAX_SOCKETS", "16", "WebSocket connections one user may hold at once")
	f.bodyLimit = str("body-limit", "CHAT_BODY_LIMIT", "262144", "largest request body in bytes (at least 65536)")
	f.sessionIdle = str("session-idle", "CHAT_SESSION_IDLE", "720h", "how long a session lives unused")
	f.metricsAddr = str("metrics-addr", "CHAT_METRICS_ADDR", "", "address to serve /metrics on, apart from the chat; empty: /metrics on the chat's address, for signed-in users")
	f.logFormat = str("log-format", "CHAT_LOG_FORMAT", "text", "log format: text or json")
	f.logLevel = str("log-level", "CHAT_LOG_LEVEL", "info", "log level: debug, info, warn or error")
	f.pprofAddr = str("pprof-addr", "CHAT_PPROF_ADDR", "", "address to serve net/http/pprof on, apart from the chat; empty: off")
	f.proxies = str("trusted-proxies", "CHAT_TRUSTED_PROXIES", "", "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For is believed")
	f.natsURL = str("nats", "CHAT_NATS", "", "NATS server URL (nats://host:4222) linking this instance to others on the same PostgreSQL -db; empty: one instance")
	f.natsSubject = str("nats-subject", "CHAT_NATS_SUBJECT", "chat", "prefix of the NATS subjects, for chats that share a NATS server")
	f.webhookAllow = str("webhook-allow", "CHAT_WEBHOOK_ALLOW", "", "comma-separated hosts bots' webhooks may be called on; empty: none")
	f.uploadLimit = str("upload-limit", "CHAT_UPLOAD_LIMIT", "10MB", "largest file a post may carry: bytes, or with KB, MB or GB (units of 1024)")
	f.uploadQuota = str("upload-quota", "CHAT_UPLOAD_QUOTA", "500MB", "bytes of files one user may upload in 24 hours, as -upload-limit (files of posts since deleted no longer count)")
	f.linkPreviews = str("link-previews", "CHAT_LINK_PREVIEWS", "false", "fetch a preview card (title, description, picture) of the first link of each post from its site: true or false")
	f.registration = str("registration", "CHAT_REGISTRATION", "", "who may register: open (anyone) or invite (with an invitation an admin made on /admin; the first account always may); set at start and kept in the database, where admins change it; empty: as the database has it, open at first")
	return f
}

// parseConfig reads the flags (see defineFlags) and checks them; every
// bad value is reported at once, as a usageError.
func parseConfig(args []string, getenv func(string) string, out io.Writer) (config, error) {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(out)
	f := defineFlags(fs, getenv)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return config{}, err
		}
		return config{}, usageError{err}
	}
	if fs.NArg() > 0 {
		return config{}, usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	var err error
	c := config{addr: *f.addr, db: *f.db, pprofAddr: *f.pprofAddr, metricsAddr: *f.metricsAddr, logFormat: *f.logFormat}
	var errs []error
	num := func(name, v string, min int) int {
		n, err := strconv.Atoi(v)
		if err != nil || n < min {
			errs = append(errs, fmt.Errorf("-%s must be a whole number, %d or more: %q", name, min, v))
		}
		return n
	}
	c.postLimit = num("post-limit", *f.postLimit, 0)
	c.roomLimit = num("room-limit", *f.roomLimit, 0)
	c.loginLimit = num("login-limit", *f.loginLimit, 0)
	c.loginAddrLimit = num("login-addr-limit", *f.loginAddrLimit, 0)
	c.registerLimit = num("register-limit", *f.registerLimit, 0)
	c.baseURL, err = parseBaseURL(*f.baseURL)
	if err != nil {
		errs = append(errs, err)
	}
	c.maxSockets = num("max-sockets", *f.maxSockets, 1)
	c.bodyLimit = num("body-limit", *f.bodyLimit, 64<<10)
	size := func(name, v string) int64 {
		n, err := parseSize(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("-%s must be a size of 1 byte or more, such as 10MB: %q", name, v))
		}
		return n
	}
	c.uploadLimit = size("upload-limit", *f.uploadLimit)
	c.uploadQuota = size("upload-quota", *f.uploadQuota)
	if c.linkPreviews, err = strconv.ParseBool(*f.linkPreviews); err != nil {
		errs = append(errs, fmt.Errorf("-link-previews must be true or false: %q", *f.linkPreviews))
	}
	var d time.Duration
	d, err = time.ParseDuration(*f.sessionIdle)
	if err != nil || d < time.Minute {
		errs = append(errs, fmt.Errorf("-session-idle must be a duration of a minute or more: %q", *f.sessionIdle))
	}
	c.sessionIdle = d
	var more []error
	c.webhookAllow, more = parseHosts(*f.webhookAllow)
	errs = append(errs, more...)
	c.trustedProxies, more = parseProxies(*f.proxies)
	errs = append(errs, more...)
	switch c.registration = *f.registration; c.registration {
	case "", store.RegistrationOpen, store.RegistrationInvite:
	default:
		errs = append(errs, fmt.Errorf("-registration must be open or invite: %q", c.registration))
	}
	errs = append(errs, c.checkRest(*f.logLevel, *f.natsURL, *f.natsSubject)...)
	if err := errors.Join(errs...); err != nil {
		return config{}, usageError{err}
	}
	return c, nil
}

// parseHosts reads -webhook-allow: host names, comma-separated.
func parseHosts(list string) (hosts []string, errs []error) {
	for _, h := range strings.Split(list, ",") {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" {
			continue
		}
		if strings.ContainsAny(h, "/:@ ") {
			errs = append(errs, fmt.Errorf("-webhook-allow: %q is no host name (give hosts, not addresses with a scheme, port or path)", h))
			continue
		}
		hosts = append(hosts, h)
	}
	return hosts, errs
}

// parseProxies reads -trusted-proxies: addresses or CIDR ranges,
// comma-separated.
func parseProxies(list string) (prefixes []netip.Prefix, errs []error) {
	for _, p := range strings.Split(list, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				errs = append(errs, fmt.Errorf("-trusted-proxies: %q is no address or CIDR range", p))
				continue
			}
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		prefixes = append(prefixes, prefix.Masked())
	}
	return prefixes, errs
}

// checkRest sets the log level and the NATS link on c and checks them with
// the log format, the address and the database.
func (c *config) checkRest(logLevel, natsURL, natsSubject string) (errs []error) {
	if c.logFormat != "text" && c.logFormat != "json" {
		errs = append(errs, fmt.Errorf("-log-format must be text or json: %q", c.logFormat))
	}
	if err := c.logLevel.UnmarshalText([]byte(logLevel)); err != nil {
		errs = append(errs, fmt.Errorf("-log-level must be debug, info, warn or error: %q", logLevel))
	}
	c.nats, c.natsSubject = strings.TrimSpace(natsURL), natsSubject
	if c.nats != "" && !store.IsPostgres(c.db) {
		errs = append(errs, errors.New("-nats links instances that share one database: -db must be a postgres:// URL"))
	}
	if c.natsSubject == "" || strings.ContainsAny(c.natsSubject, " *>") {
		errs = append(errs, fmt.Errorf("-nats-subject must be a NATS subject without wildcards: %q", c.natsSubject))
	}
	if c.addr == "" || c.db == "" {
		errs = append(errs, errors.New("-addr and -db may not be empty"))
	}
	return errs
}

// parseBaseURL checks a -base-url: scheme and host, no path; empty stays
// empty (run then takes the address it listens on).
func parseBaseURL(given string) (string, error) {
	if given == "" {
		return "", nil
	}
	u, err := url.Parse(given)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("-base-url must be http(s)://host[:port], with no path: %q", given)
	}
	return u.Scheme + "://" + u.Host, nil
}

// listenBaseURL is the chat's address when no -base-url is given: http://
// and the host and port it listens on (localhost for every interface).
// Never a client's Host header.
func listenBaseURL(ln net.Addr) string {
	host, port, err := net.SplitHostPort(ln.String())
	if err != nil {
		return "http://localhost"
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// parseSize reads a size: bytes, or a number with KB, MB or GB (units of
// 1024, as the chat shows sizes).
func parseSize(v string) (int64, error) {
	v = strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(strings.ToUpper(v), u.suffix); ok {
			v, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, err
	}
	if n > (1<<62)/mult {
		return 0, errors.New("too large")
	}
	return n * mult, nil
}
