package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"chat/i18n"
	"chat/store"
	"chat/views"

	"github.com/gofiber/fiber/v2"
)

// Who may register: anyone, or (-registration invite, or as an admin sets
// it on /admin) only those holding an invitation an admin made. The
// policy lives in the database, so that every instance follows the one
// an admin set last.

// inviteRefusal says why a registration is refused under the policy, in
// the reader's language, and with which status; "" if err is no refusal.
func inviteRefusal(l *i18n.Lang, err error) (int, string) {
	switch {
	case errors.Is(err, store.ErrInviteNeeded):
		return http.StatusForbidden, l.T("invites.needed")
	case errors.Is(err, store.ErrInviteExpired):
		return http.StatusForbidden, l.T("invites.expired")
	case errors.Is(err, store.ErrInviteRevoked):
		return http.StatusForbidden, l.T("invites.revoked")
	case errors.Is(err, store.ErrInviteUsedUp):
		return http.StatusForbidden, l.T("invites.used_up")
	case errors.Is(err, store.ErrNotFound):
		return http.StatusForbidden, l.T("invites.not_valid")
	}
	return 0, ""
}

// handleJoinForm is the page an invitation link opens: the registration
// form, carrying the invitation; or why the invitation does not work.
func (a *App) handleJoinForm(c *fiber.Ctx) error {
	if _, ok := session(c); ok {
		return c.Redirect("/", fiber.StatusSeeOther)
	}
	// The site's Referrer-Policy (same-origin) stays: under no-referrer a
	// browser sends the form's POST with "Origin: null", which is refused
	// as another site's.
	c.Set(fiber.HeaderCacheControl, "no-store")
	token := c.Params("token")
	_, err := a.store.CheckInvitation(c.UserContext(), token)
	if status, reason := inviteRefusal(a.tr(c), err); status != 0 {
		if errors.Is(err, store.ErrNotFound) {
			status = http.StatusNotFound
		} else {
			status = http.StatusGone
		}
		return render(c, status, views.Auth(views.AuthForm{Register: true, Closed: true, Error: reason}))
	}
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Auth(views.AuthForm{Register: true, Invite: token}))
}

// invitationsPart is the admin page's registration part as it stands.
func (a *App) invitationsPart(c *fiber.Ctx, part views.InvitationsPart) (views.InvitationsPart, error) {
	ctx := c.UserContext()
	policy, err := a.store.RegistrationPolicy(ctx)
	if err != nil {
		return part, err
	}
	list, err := a.store.ListInvitations(ctx)
	if err != nil {
		return part, err
	}
	part.Policy = policy
	if part.Uses == "" {
		part.Uses, part.Days = "1", "7"
	}
	now := a.now()
	for _, inv := range list {
		state := "good"
		switch {
		case inv.Revoked:
			state = "revoked"
		case !now.Before(inv.ExpiresAt):
			state = "expired"
		case inv.Uses >= inv.MaxUses:
			state = "used up"
		}
		part.List = append(part.List, views.InvitationRow{ID: inv.ID, CreatedBy: inv.CreatedBy,
			Created: inv.CreatedAt, Expires: inv.ExpiresAt,
			Uses: inv.Uses, Max: inv.MaxUses, State: state})
	}
	return part, nil
}

// handleRegistrationPolicy sets who may register.
func (a *App) handleRegistrationPolicy(c *fiber.Ctx) error {
	policy := c.FormValue("registration")
	if policy != store.RegistrationOpen && policy != store.RegistrationInvite {
		return fiber.NewError(http.StatusUnprocessableEntity, a.tr(c).T("invites.bad_policy"))
	}
	if err := a.store.SetRegistrationPolicy(c.UserContext(), policy); err != nil {
		return err
	}
	s, _ := session(c)
	a.log.Info("registration policy set", "policy", policy, "by", s.User.Username)
	return c.Redirect(adminDoneURL("registration", "", 0), fiber.StatusSeeOther)
}

// Limits of an invitation.
const (
	inviteUsesMax = 1000
	inviteDaysMax = 90
)

// handleInvitationCreate makes an invitation link and shows it once.
func (a *App) handleInvitationCreate(c *fiber.Ctx) error {
	rawUses, rawDays := strings.TrimSpace(c.FormValue("uses")), strings.TrimSpace(c.FormValue("days"))
	part := views.InvitationsPart{Uses: rawUses, Days: rawDays}
	uses, err1 := strconv.Atoi(rawUses)
	days, err2 := strconv.Atoi(rawDays)
	switch {
	case err1 != nil || uses < 1 || uses > inviteUsesMax:
		part.Error = a.tr(c).T("invites.bad_uses")
	case err2 != nil || days < 1 || days > inviteDaysMax:
		part.Error = a.tr(c).T("invites.bad_days")
	}
	status := http.StatusUnprocessableEntity
	if part.Error == "" {
		s, _ := session(c)
		_, token, err := a.store.CreateInvitation(c.UserContext(), s.User.ID, uses, time.Duration(days)*24*time.Hour)
		if err != nil {
			return err
		}
		a.log.Info("invitation made", "uses", uses, "days", days, "by", s.User.Username)
		part = views.InvitationsPart{Link: a.baseURL + "/join/" + token}
		status = http.StatusOK
	}
	part, err := a.invitationsPart(c, part)
	if err != nil {
		return err
	}
	return a.adminPage(c, status, views.AdminPage{Invitations: part})
}

// handleInvitationRevoke ends an invitation.
func (a *App) handleInvitationRevoke(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := a.store.RevokeInvitation(c.UserContext(), id); err != nil {
		return err
	}
	s, _ := session(c)
	a.log.Info("invitation revoked", "invitation", id, "by", s.User.Username)
	return c.Redirect(adminDoneURL("revoked", "", 0)+"&invitation="+strconv.FormatInt(id, 10), fiber.StatusSeeOther)
}
