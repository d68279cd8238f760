package handlers

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"chat/hub"
	"chat/store"
	"chat/views"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/image/draw"
)

// Limits of people's pictures and links.
const (
	avatarMaxBytes  = 2 << 20
	avatarMaxPixels = 40_000_000 // width × height decoded, at most
	resetLinkTTL    = 24 * time.Hour
)

// findUserParam finds the user named in the path.
func (a *App) findUserParam(c *fiber.Ctx) (store.User, error) {
	name := c.Params("username")
	if validateUsername(name) != "" {
		return store.User{}, fiber.ErrNotFound
	}
	return a.store.FindUserByUsername(c.UserContext(), name)
}

// readableRoom finds a room the user may read: any room, or direct
// messages the user is one of (anyone else: 403).
func (a *App) readableRoom(ctx context.Context, id int64, user store.User) (store.Room, error) {
	room, err := a.store.FindRoomByID(ctx, id)
	if err != nil {
		return store.Room{}, err
	}
	if room.Kind == store.RoomKindDM {
		member, err := a.store.IsMember(ctx, id, user.ID)
		if err != nil {
			return store.Room{}, err
		}
		if !member {
			return store.Room{}, fiber.NewError(http.StatusForbidden, "These are someone else's direct messages.")
		}
	}
	return room, nil
}

// handleProfile shows a user's page, with a way to write to them.
func (a *App) handleProfile(c *fiber.Ctx) error {
	u, err := a.findUserParam(c)
	if err != nil {
		return err
	}
	s, _ := session(c)
	links, err := a.roomLinks(c, 0)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Profile(views.UserPage{Viewer: viewer(c), Rooms: links, Username: u.Username,
		Bot: u.IsBot, Deactivated: u.Deactivated, Self: u.ID == s.User.ID}))
}

// handleDMOpen opens the direct messages of the viewer and a user, the
// same room every time.
func (a *App) handleDMOpen(c *fiber.Ctx) error {
	u, err := a.findUserParam(c)
	if err != nil {
		return err
	}
	s, _ := session(c)
	switch {
	case u.ID == s.User.ID:
		return fiber.NewError(http.StatusUnprocessableEntity, "Direct messages are between two people: choose someone else.")
	case u.Deactivated:
		return fiber.NewError(http.StatusForbidden, "This account is deactivated.")
	}
	room, err := a.store.OpenDM(c.UserContext(), s.User, u)
	if err != nil {
		return err
	}
	return c.Redirect(views.RoomURL(room.ID), fiber.StatusSeeOther)
}

// requireAdmin lets admins through; everyone else gets 403.
func requireAdmin(c *fiber.Ctx) error {
	s, ok := session(c)
	if !ok || !s.User.IsAdmin {
		return fiber.NewError(http.StatusForbidden, "Only an admin may do that.")
	}
	return c.Next()
}

func (a *App) adminPage(c *fiber.Ctx, status int, p views.AdminPage) error {
	users, err := a.store.ListUsers(c.UserContext())
	if err != nil {
		return err
	}
	for _, u := range users {
		p.Users = append(p.Users, views.AdminUser{Username: u.Username, Admin: u.IsAdmin, Bot: u.IsBot,
			Deactivated: u.Deactivated, Created: u.CreatedAt, WebhookURL: u.WebhookURL})
	}
	links, err := a.roomLinks(c, 0)
	if err != nil {
		return err
	}
	p.Viewer, p.Rooms, p.Allowed = viewer(c), links, a.webhooks.Allowed()
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, status, views.Admin(p))
}

func (a *App) handleAdmin(c *fiber.Ctx) error {
	return a.adminPage(c, http.StatusOK, views.AdminPage{})
}

// handleDeactivate stops an account: its sessions end, its sockets close
// with 1008, its logins are refused, a bot's token stops working. Its
// history stays.
func (a *App) handleDeactivate(c *fiber.Ctx) error {
	u, err := a.findUserParam(c)
	if err != nil {
		return err
	}
	s, _ := session(c)
	if u.ID == s.User.ID {
		return fiber.NewError(http.StatusConflict, "You cannot deactivate your own account: another admin can.")
	}
	ended, err := a.store.DeactivateUser(c.UserContext(), u.ID)
	if err != nil {
		return err
	}
	for _, id := range ended {
		a.hub.CloseSession(id, hub.ClosePolicy, "account deactivated")
	}
	a.webhooks.Forget(u.Username)
	a.log.Info("account deactivated", "user", u.Username, "by", s.User.Username, "sessions_ended", len(ended))
	return c.Redirect("/admin", fiber.StatusSeeOther)
}

// handleMakeAdmin makes another user an admin.
func (a *App) handleMakeAdmin(c *fiber.Ctx) error {
	u, err := a.findUserParam(c)
	if err != nil {
		return err
	}
	if u.IsBot || u.Deactivated {
		return fiber.NewError(http.StatusConflict, "Only an active person can be an admin.")
	}
	if err := a.store.SetAdmin(c.UserContext(), u.ID); err != nil {
		return err
	}
	s, _ := session(c)
	a.log.Info("admin made", "user", u.Username, "by", s.User.Username)
	return c.Redirect("/admin", fiber.StatusSeeOther)
}

// handleResetLink answers a one-time link that sets a new password for the
// user, valid for 24 hours: there is no mail; the admin hands it on. The
// user's other links end.
func (a *App) handleResetLink(c *fiber.Ctx) error {
	u, err := a.findUserParam(c)
	if err != nil {
		return err
	}
	if u.IsBot || u.Deactivated {
		return fiber.NewError(http.StatusConflict, "Only an active person has a password to reset.")
	}
	s, _ := session(c)
	token, err := a.store.CreateResetToken(c.UserContext(), u.ID, s.User.ID, resetLinkTTL)
	if err != nil {
		return err
	}
	a.log.Info("reset link made", "user", u.Username, "by", s.User.Username)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, http.StatusOK, views.ResetLink(views.ResetLinkPage{Viewer: viewer(c), Username: u.Username,
		Link: a.resetLink(token), Expires: a.now().Add(resetLinkTTL)}))
}

// resetLink is the address of a reset link: the configured base URL and
// its path, or the path alone when there is none. Never from the
// request's Host or forwarded headers, which a client chooses.
func (a *App) resetLink(token string) string {
	return a.baseURL + "/reset/" + token
}

// linkGone answers a reset link that does not work.
const linkGone = "This link does not work: it was used or replaced by a newer one, the password was changed since, or it is over 24 hours old. Ask an admin for a new one."

// handleResetForm is the page a reset link opens; anyone holding the link
// may use it, once.
func (a *App) handleResetForm(c *fiber.Ctx) error {
	u, err := a.store.FindResetToken(c.UserContext(), c.Params("token"))
	if errors.Is(err, store.ErrNotFound) {
		return fiber.NewError(http.StatusNotFound, linkGone)
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("Referrer-Policy", "no-referrer")
	return render(c, http.StatusOK, views.Reset(views.ResetPage{Token: c.Params("token"), Username: u.Username}))
}

// handleReset sets the new password, spends the link and signs the user
// out everywhere.
func (a *App) handleReset(c *fiber.Ctx) error {
	token := c.Params("token")
	u, err := a.store.FindResetToken(c.UserContext(), token)
	if errors.Is(err, store.ErrNotFound) {
		return fiber.NewError(http.StatusNotFound, linkGone)
	}
	if err != nil {
		return err
	}
	password := c.FormValue("password")
	if msg := validatePassword(password); msg != "" {
		return render(c, http.StatusUnprocessableEntity, views.Reset(views.ResetPage{Token: token, Username: u.Username, Error: msg}))
	}
	hash, err := a.hash(c.UserContext(), password)
	if err != nil {
		return err
	}
	u, ended, err := a.store.UseResetToken(c.UserContext(), token, hash)
	if errors.Is(err, store.ErrNotFound) {
		return fiber.NewError(http.StatusNotFound, linkGone)
	}
	if err != nil {
		return err
	}
	for _, id := range ended {
		a.hub.CloseSession(id, hub.ClosePolicy, "password reset")
	}
	a.log.Info("password reset", "user", u.Username, "sessions_ended", len(ended))
	return c.Redirect("/login", fiber.StatusSeeOther)
}

// handleAvatarUpload takes a PNG or JPEG, and keeps it cropped to a square
// and re-encoded as a 128-pixel PNG: nothing of the upload but its pixels
// reaches anyone.
func (a *App) handleAvatarUpload(c *fiber.Ctx) error {
	s, _ := session(c)
	page := views.AccountPage{Viewer: viewer(c)}
	fail := func(status int, msg string) error {
		page.AvatarError = msg
		_, _, err := a.store.FindAvatar(c.UserContext(), s.User.ID)
		page.HasAvatar = err == nil
		return render(c, status, views.Account(page))
	}
	fh, err := c.FormFile("avatar")
	if err != nil {
		return fail(http.StatusUnprocessableEntity, "Choose a picture to upload.")
	}
	if fh.Size > avatarMaxBytes {
		return fail(http.StatusRequestEntityTooLarge, "That picture is over 2 MB.")
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	var raw bytes.Buffer
	if _, err := raw.ReadFrom(http.MaxBytesReader(nil, f, avatarMaxBytes)); err != nil {
		return fail(http.StatusRequestEntityTooLarge, "That picture is over 2 MB.")
	}
	format, msg := checkAvatar(raw.Bytes())
	if msg != "" {
		return fail(http.StatusUnprocessableEntity, msg)
	}
	if !a.decoding.acquire(c.UserContext()) {
		return fail(http.StatusServiceUnavailable, "Many pictures are being read right now: try again in a moment.")
	}
	out, msg := reencodeAvatar(raw.Bytes(), format)
	a.decoding.release()
	if msg != "" {
		return fail(http.StatusUnprocessableEntity, msg)
	}
	if err := a.store.SetAvatar(c.UserContext(), s.User.ID, out); err != nil {
		return err
	}
	return c.Redirect("/account/password?avatar=1#avatar", fiber.StatusSeeOther)
}

// Reading a picture: what a decode may take, and how many run at once.
const (
	// avatarDecodeBudget bounds the memory decoding and scaling one
	// picture takes: its pixels as decoded (by bit depth and colour
	// model), a progressive JPEG's coefficients, and the scaler's rows.
	avatarDecodeBudget = 64 << 20
	// avatarDecodes are the decodes at once; more wait, up to
	// avatarDecodeWait.
	avatarDecodes    = 2
	avatarDecodeWait = 10 * time.Second
	// jpegMaxScans bounds the scans of a JPEG, each of which the decoder
	// goes over the whole picture for; encoders make about ten.
	jpegMaxScans = 100
)

// decodeSlots bounds the pictures decoded at once, as hashing bounds
// password hashes. Its zero value is ready.
type decodeSlots struct {
	once  sync.Once
	slots chan struct{}
}

// acquire takes a slot, waiting up to avatarDecodeWait; false: none came.
func (d *decodeSlots) acquire(ctx context.Context) bool {
	d.once.Do(func() { d.slots = make(chan struct{}, avatarDecodes) })
	wait := time.NewTimer(avatarDecodeWait)
	defer wait.Stop()
	select {
	case d.slots <- struct{}{}:
		return true
	case <-ctx.Done():
	case <-wait.C:
	}
	return false
}

func (d *decodeSlots) release() { <-d.slots }

// checkAvatar reads a PNG's or JPEG's header, not its pixels, and says
// what format it is, or what is wrong: a size past the limits, or a
// decode that would take more than avatarDecodeBudget.
func checkAvatar(raw []byte) (format, problem string) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil || (format != "png" && format != "jpeg") {
		return "", "That is not a PNG or JPEG picture."
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width*cfg.Height > avatarMaxPixels || cfg.Width > 10000 || cfg.Height > 10000 {
		return "", "That picture is too large: at most 10,000 pixels a side."
	}
	var cost int64
	if format == "png" {
		cost = pngCost(raw, cfg)
	} else {
		var scans int
		cost, scans = jpegCost(raw, cfg)
		if scans > jpegMaxScans {
			return "", "That JPEG is made of too many scans to read: save it again as an ordinary JPEG."
		}
	}
	// The scaler keeps four float64s for each of the picture's rows
	// times each column of the avatar.
	cost += int64(min(cfg.Width, cfg.Height)) * store.MaxAvatarSide * 32
	if cost > avatarDecodeBudget {
		return "", "That picture is too large to read: choose one of fewer pixels (about 12 megapixels at most, fewer for 16-bit colour or a progressive JPEG)."
	}
	return format, ""
}

// pngCost is what decoding a PNG takes. Grey pixels become colour ones
// when a later chunk gives a transparent colour, which DecodeConfig does
// not read: they are counted as colour. An interlaced PNG also holds its
// largest pass, half the picture.
func pngCost(raw []byte, cfg image.Config) int64 {
	bpp := int64(4)
	switch cfg.ColorModel.(type) {
	case color.Palette:
		bpp = 1
	}
	switch cfg.ColorModel {
	case color.Gray16Model, color.RGBA64Model, color.NRGBA64Model:
		bpp = 8
	}
	cost := int64(cfg.Width) * int64(cfg.Height) * bpp
	// The IHDR chunk comes first, at a fixed place; its last byte says
	// whether the picture is interlaced.
	if len(raw) > 28 && raw[28] != 0 {
		cost += cost / 2
	}
	return cost
}

// jpegCost is what decoding a JPEG takes, from its frame header: each
// component's samples (rounded up to whole blocks), 4 bytes a sample more
// for a progressive JPEG's coefficients, and for CMYK the picture made of
// them. It also counts the JPEG's scans.
func jpegCost(raw []byte, cfg image.Config) (cost int64, scans int) {
	type component struct{ h, v int64 }
	var comps []component
	progressive := false
	for i := 2; i+3 < len(raw); {
		if raw[i] != 0xff {
			i++ // not a marker: bytes the decoder skips too
			continue
		}
		marker := raw[i+1]
		switch {
		case marker == 0xff || marker == 0x00 || marker == 0x01 || marker >= 0xd0 && marker <= 0xd7:
			i++ // fill bytes and markers without a segment
			continue
		case marker == 0xd9:
			i = len(raw)
			continue
		}
		end := i + 2 + (int(raw[i+2])<<8 | int(raw[i+3]))
		if end > len(raw) {
			end = len(raw)
		}
		seg := raw[i+4 : end]
		switch marker {
		case 0xc0, 0xc1, 0xc2:
			progressive = marker == 0xc2
			if len(seg) >= 6 {
				for c := seg[6:]; len(c) >= 3 && len(comps) < int(seg[5]); c = c[3:] {
					comps = append(comps, component{max(int64(c[1]>>4), 1), max(int64(c[1]&15), 1)})
				}
			}
		case 0xda:
			scans++
			// The scan's data runs to the next marker that is not a
			// stuffed 0xff or a restart.
			for end < len(raw)-1 && !(raw[end] == 0xff && raw[end+1] != 0 && (raw[end+1] < 0xd0 || raw[end+1] > 0xd7)) {
				end++
			}
		}
		i = end
	}
	var hmax, vmax int64 = 1, 1
	for _, c := range comps {
		hmax, vmax = max(hmax, c.h), max(vmax, c.v)
	}
	mxx := (int64(cfg.Width) + 8*hmax - 1) / (8 * hmax)
	myy := (int64(cfg.Height) + 8*vmax - 1) / (8 * vmax)
	var samples int64
	for _, c := range comps {
		samples += 8 * c.h * mxx * 8 * c.v * myy
	}
	cost = samples
	if progressive {
		cost += 4 * samples
	}
	if len(comps) == 4 {
		cost += 4 * int64(cfg.Width) * int64(cfg.Height)
	}
	return cost, scans
}

// reencodeAvatar decodes a PNG or JPEG that checkAvatar took, crops it to
// a centred square and scales it to MaxAvatarSide.
func reencodeAvatar(raw []byte, format string) ([]byte, string) {
	var img image.Image
	var err error
	if format == "png" {
		img, err = png.Decode(bytes.NewReader(raw))
	} else {
		img, err = jpeg.Decode(bytes.NewReader(raw))
	}
	if err != nil {
		return nil, "That picture could not be read."
	}
	b := img.Bounds()
	side := min(b.Dx(), b.Dy())
	crop := image.Rect(b.Min.X+(b.Dx()-side)/2, b.Min.Y+(b.Dy()-side)/2, 0, 0)
	crop.Max = crop.Min.Add(image.Pt(side, side))
	n := min(side, store.MaxAvatarSide)
	dst := image.NewRGBA(image.Rect(0, 0, n, n))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, crop, draw.Src, nil)
	var out bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, dst); err != nil {
		return nil, "That picture could not be read."
	}
	return out.Bytes(), ""
}

func (a *App) handleAvatarDelete(c *fiber.Ctx) error {
	s, _ := session(c)
	if err := a.store.DeleteAvatar(c.UserContext(), s.User.ID); err != nil {
		return err
	}
	return c.Redirect("/account/password#avatar", fiber.StatusSeeOther)
}

// validWebhook says what is wrong with a bot's webhook address, or "".
func (a *App) validWebhook(raw string) string {
	if raw == "" {
		return ""
	}
	const badPort = "A webhook's port is a number from 1 to 65535."
	u, err := url.Parse(raw)
	if err != nil && strings.Contains(err.Error(), "invalid port") {
		return badPort // net/url says no more than this of a port not made of digits
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "A webhook is an http or https address."
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return badPort
		}
	}
	if !a.webhooks.AllowedHost(u.Hostname()) {
		return "Webhooks may go only to hosts the server allows (-webhook-allow); " + u.Hostname() + " is not one."
	}
	return ""
}

// handleBotCreate makes a bot and shows its token, once.
func (a *App) handleBotCreate(c *fiber.Ctx) error {
	name := strings.TrimSpace(c.FormValue("name"))
	hook := strings.TrimSpace(c.FormValue("webhook_url"))
	problem := validateUsername(name)
	if problem == "" {
		problem = a.validWebhook(hook)
	}
	status := http.StatusUnprocessableEntity
	if problem == "" {
		bot, token, err := a.store.CreateBot(c.UserContext(), name, hook)
		switch {
		case err == nil:
			a.webhooks.Learn(bot)
			s, _ := session(c)
			a.log.Info("bot created", "bot", bot.Username, "by", s.User.Username, "webhook", hook != "")
			c.Set(fiber.HeaderCacheControl, "no-store")
			return render(c, http.StatusOK, views.BotCreated(views.BotCreatedPage{Viewer: viewer(c), Name: bot.Username, Token: token}))
		case errors.Is(err, store.ErrConflict):
			problem, status = "That name is taken.", http.StatusConflict
		default:
			return err
		}
	}
	return a.adminPage(c, status, views.AdminPage{Error: problem, BotName: name, BotWebhook: hook})
}

// handleBotRoom puts a bot in a room.
func (a *App) handleBotRoom(c *fiber.Ctx) error {
	bot, err := a.findUserParam(c)
	if err != nil {
		return err
	}
	if !bot.IsBot || bot.Deactivated {
		return fiber.NewError(http.StatusNotFound, "There is no such bot.")
	}
	roomID, err := parseID(c.FormValue("room"))
	if err != nil {
		return fiber.NewError(http.StatusUnprocessableEntity, "Choose a room.")
	}
	if _, err := a.writeEntry(c.UserContext(), roomID, func(ctx context.Context, b *store.Batch) (store.Message, bool, error) {
		return b.JoinRoom(ctx, roomID, bot.ID)
	}); err != nil {
		return err
	}
	return c.Redirect("/admin", fiber.StatusSeeOther)
}
