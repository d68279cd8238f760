package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"chat/hub"
	"chat/i18n"
	"chat/password"
	"chat/store"
	"chat/views"

	"github.com/gofiber/fiber/v2"
)

func (a *App) handleRegisterForm(c *fiber.Ctx) error {
	if _, ok := session(c); ok {
		return c.Redirect("/", fiber.StatusSeeOther)
	}
	closed := false
	if err := a.store.CheckRegistration(c.UserContext(), ""); errors.Is(err, store.ErrInviteNeeded) {
		closed = true
	} else if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Auth(views.AuthForm{Register: true, Closed: closed}))
}

func (a *App) handleLoginForm(c *fiber.Ctx) error {
	if _, ok := session(c); ok {
		return c.Redirect("/", fiber.StatusSeeOther)
	}
	return render(c, http.StatusOK, views.Auth(views.AuthForm{}))
}

func (a *App) handleRegister(c *fiber.Ctx) error {
	username := c.FormValue("username")
	password := c.FormValue("password")
	invite := c.FormValue("invite")
	form := views.AuthForm{Register: true, Username: username, Invite: invite}
	// Under -registration invite, nothing is looked at or spent (a hash, a
	// place in the rate limit) for someone without a good invitation.
	if err := a.store.CheckRegistration(c.UserContext(), invite); err != nil {
		status, reason := inviteRefusal(a.tr(c), err)
		if status == 0 {
			return err
		}
		form.Error, form.Closed, form.Invite = reason, true, ""
		return render(c, status, views.Auth(form))
	}
	if msg := validateUsername(a.tr(c), username); msg != "" {
		form.Error = msg
		return render(c, http.StatusUnprocessableEntity, views.Auth(form))
	}
	if msg := validatePassword(a.tr(c), password); msg != "" {
		form.Error = msg
		return render(c, http.StatusUnprocessableEntity, views.Auth(form))
	}
	// Each account costs a password hash, and each multiplies the per-user
	// limits: an address may make only so many an hour, reserved before
	// the hash.
	if wait := a.signups.Take(a.clientKey(c), a.now()); wait > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(wait.Seconds())+1))
		form.Error = a.tr(c).T("auth.too_many_signups")
		return render(c, http.StatusTooManyRequests, views.Auth(form))
	}
	hash, err := a.hash(c.UserContext(), password)
	if err != nil {
		return err
	}
	u, err := a.store.RegisterUser(c.UserContext(), username, hash, invite)
	if errors.Is(err, store.ErrConflict) {
		form.Error = a.tr(c).T("auth.name_taken")
		return render(c, http.StatusConflict, views.Auth(form))
	}
	if status, reason := inviteRefusal(a.tr(c), err); status != 0 {
		form.Error, form.Closed, form.Invite = reason, true, ""
		return render(c, status, views.Auth(form))
	}
	if err != nil {
		return err
	}
	// A visitor who chose a language keeps it with the new account.
	if l, ok := a.langs.Lookup(c.Cookies(langCookie)); ok {
		if err := a.store.SetLanguage(c.UserContext(), u.ID, l.Tag); err != nil {
			return err
		}
	}
	a.log.Info("user registered", "user", u.Username, "request_id", c.Locals(localRequestID))
	return a.startSession(c, u.ID)
}

// loginWindow is the span over which failed logins are counted.
const loginWindow = 15 * time.Minute

// Failed sign-ins are limited twice, as OWASP advises: lock by account,
// throttle by address.
//
//   - Per username (a.loginNames, -login-limit, 10 in 15 minutes): past it
//     the name answers 429 whatever the password, from any address, so an
//     account cannot be guessed at. Wrong current passwords on
//     /account/password count here too.
//   - Per client address (a.loginAddrs, -login-addr-limit, 100 in 15
//     minutes): thousands of people may share one address (an office NAT,
//     a school, a mobile carrier), so the threshold is much higher, and
//     below it the address is slowed, not refused: after loginFreeFailures
//     failures each attempt from there waits loginDelayStep longer, up to
//     loginDelayMax, before its password is checked. One guesser is slowed;
//     a user there whose own password is right still gets in while others
//     mistype theirs.
//
// Both slots are taken before anything is looked up or hashed, so that of
// a burst arriving at once no more than the limit are ever checked. A right
// password gives its own slots back (it was no failure) but forgets none
// of the failures counted before it: an attacker guessing alongside a user
// who signs in now and then gets no fresh allowance from each sign-in.
const (
	loginFreeFailures = 5
	loginDelayStep    = 200 * time.Millisecond
	loginDelayMax     = 2 * time.Second
)

// loginDelay is how long an attempt from an address that has failures
// failed sign-ins in the window (this one not included) waits before its
// password is checked.
func loginDelay(failures int) time.Duration {
	if failures < loginFreeFailures {
		return 0
	}
	return min(time.Duration(failures-loginFreeFailures+1)*loginDelayStep, loginDelayMax)
}

func (a *App) handleLogin(c *fiber.Ctx) error {
	username := c.FormValue("username")
	password := c.FormValue("password")
	// Fiber's values live only as long as the request: the key outlives it.
	nameKey := strings.Clone(strings.ToLower(username))
	if validateUsername(a.tr(c), username) != "" {
		// No account has such a name: one key for them all, so that the
		// limiter never holds what a client chose to send at length.
		nameKey = "\x00not-a-name"
		username = ""
	}
	addrKey := a.clientKey(c)
	now := a.now()
	if wait := a.takeLoginSlots(nameKey, addrKey, now); wait > 0 {
		a.log.Warn("login throttled", "user", username, "addr", addrKey, "request_id", c.Locals(localRequestID))
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(wait.Seconds())+1))
		return render(c, http.StatusTooManyRequests, views.Auth(views.AuthForm{
			Username: username,
			Error:    a.tr(c).T("auth.too_many_failures"),
		}))
	}
	// The wait holds no hashing slot, and ends with the request.
	if d := loginDelay(a.loginAddrs.Count(addrKey, now) - 1); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-c.UserContext().Done():
			t.Stop()
			return c.UserContext().Err()
		}
	}
	u, ok, err := a.checkLogin(c.UserContext(), username, password)
	if err != nil {
		return err
	}
	if !ok {
		return render(c, http.StatusUnauthorized, views.Auth(views.AuthForm{
			Username: username,
			Error:    a.tr(c).T("auth.no_match"),
		}))
	}
	a.loginNames.Undo(nameKey, now)
	a.loginAddrs.Undo(addrKey, now)
	if u.Deactivated {
		// Told only to whoever knows the password.
		a.log.Warn("login of a deactivated account", "user", u.Username, "request_id", c.Locals(localRequestID))
		return render(c, http.StatusForbidden, views.Auth(views.AuthForm{
			Username: username,
			Error:    a.tr(c).T("auth.deactivated"),
		}))
	}
	return a.startSession(c, u.ID)
}

// takeLoginSlots counts a sign-in as a failure from the start, by name and
// by address, and returns 0; or, if either is over its limit, takes
// neither and returns how long until it is not. The refusal lasts until
// the oldest counted failure is 15 minutes old, so an attacker cannot lock
// anyone out for longer than they keep failing.
func (a *App) takeLoginSlots(nameKey, addrKey string, now time.Time) time.Duration {
	wait := a.loginNames.Take(nameKey, now)
	if wait == 0 {
		if wait = a.loginAddrs.Take(addrKey, now); wait > 0 {
			a.loginNames.Undo(nameKey, now)
		}
	}
	return wait
}

// checkLogin finds the account of username and checks its password; ok
// is false for a wrong password, a name no account has, and a bot (bots
// sign in with their token alone), each after a hash of the same cost.
func (a *App) checkLogin(ctx context.Context, username, password string) (u store.User, ok bool, err error) {
	if validateUsername(i18n.From(ctx), username) == "" && len(password) <= passwordMax*4 {
		u, err = a.store.FindUserByUsername(ctx, username)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.User{}, false, err
		}
	}
	hash := u.PasswordHash
	if u.ID == 0 || u.IsBot {
		hash = a.dummyHash
	}
	ok, err = a.check(ctx, hash, password)
	if err != nil {
		return store.User{}, false, err
	}
	return u, ok && u.ID != 0 && !u.IsBot, nil
}

// startSession signs the browser in with a fresh session.
func (a *App) startSession(c *fiber.Ctx, userID int64) error {
	// A session cookie the browser already had is ended: every sign-in gets
	// a new token.
	if old := c.Cookies(sessionCookie); old != "" {
		if id, err := a.store.DeleteSession(c.UserContext(), old); err == nil {
			a.hub.CloseSession(id, hub.ClosePolicy, "signed out")
		}
	}
	token, _, err := a.store.CreateSession(c.UserContext(), userID)
	if err != nil {
		return err
	}
	setSessionCookie(c, token, a.sessionIdle)
	return c.Redirect("/", fiber.StatusSeeOther)
}

func (a *App) handleLogout(c *fiber.Ctx) error {
	if token := c.Cookies(sessionCookie); token != "" {
		id, err := a.store.DeleteSession(c.UserContext(), token)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err == nil {
			a.hub.CloseSession(id, hub.ClosePolicy, "signed out")
		}
	}
	clearSessionCookie(c)
	return c.Redirect("/login", fiber.StatusSeeOther)
}

func (a *App) hash(ctx context.Context, plain string) (string, error) {
	if err := a.acquireHashing(ctx); err != nil {
		return "", err
	}
	defer func() { <-a.hashing }()
	return password.Hash(a.argon, plain), nil
}

func (a *App) check(ctx context.Context, hash, plain string) (bool, error) {
	if err := a.acquireHashing(ctx); err != nil {
		return false, err
	}
	defer func() { <-a.hashing }()
	return password.Check(hash, plain)
}

// errBusy: the server has no room for the work now (503, Retry-After).
var errBusy = errors.New("busy")

// hashingWait bounds how long a request waits for a hashing slot: a burst
// beyond what the slots can serve is told to come back, rather than held
// (and hashed long after its client gave up).
const hashingWait = 10 * time.Second

func (a *App) acquireHashing(ctx context.Context) error {
	t := time.NewTimer(hashingWait)
	defer t.Stop()
	select {
	case a.hashing <- struct{}{}:
		return nil
	case <-t.C:
		return errBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}
