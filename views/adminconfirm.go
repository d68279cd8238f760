package views

import "context"

// AdminQuestion is what an admin is asked before an action that is hard
// to undo: the question, what follows, the form that does it.
type AdminQuestion struct {
	Question string
	Detail   string
	Action   string
	Button   string
	Danger   bool
}

// AdminConfirmPage asks an admin to confirm, for a page without script.
type AdminConfirmPage struct {
	Viewer   Viewer
	Question AdminQuestion
}

// DeactivateConfirm asks before deactivating an account, in the reader's
// language (ctx).
func DeactivateConfirm(ctx context.Context, username string, bot bool) AdminQuestion {
	detail := t(ctx, "admin.deactivate_detail")
	if bot {
		detail = t(ctx, "admin.deactivate_bot_detail")
	}
	return AdminQuestion{Question: tf(ctx, "admin.deactivate_q", "Name", username), Detail: detail,
		Action: "/admin/users/" + username + "/deactivate", Button: tf(ctx, "admin.deactivate_button", "Name", username), Danger: true}
}

// MakeAdminConfirm asks before making someone an admin.
func MakeAdminConfirm(ctx context.Context, username string) AdminQuestion {
	return AdminQuestion{Question: tf(ctx, "admin.make_admin_q", "Name", username),
		Detail: t(ctx, "admin.make_admin_detail"),
		Action: "/admin/users/" + username + "/admin", Button: tf(ctx, "admin.make_admin_button", "Name", username)}
}

// What an admin action did, said on the admin page it leads back to, in
// the reader's language (ctx).

func DoneDeactivated(ctx context.Context, username string) string {
	return tf(ctx, "admin.done_deactivated", "Name", username)
}

func DoneAdmin(ctx context.Context, username string) string {
	return tf(ctx, "admin.done_admin", "Name", username)
}

func DoneBotRoom(ctx context.Context, bot, room string) string {
	return tf(ctx, "admin.done_bot_room", "Bot", bot, "Room", room)
}

func DoneRegistration(ctx context.Context, policy string) string {
	if policy == "invite" {
		return t(ctx, "invites.done_invite_only")
	}
	return t(ctx, "invites.done_open")
}

func DoneRevoked(ctx context.Context) string { return t(ctx, "invites.done_revoked") }
