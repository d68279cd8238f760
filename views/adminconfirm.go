package views

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

// DeactivateConfirm asks before deactivating an account.
func DeactivateConfirm(username string, bot bool) AdminQuestion {
	detail := "Their sessions end at once, their open pages are closed and they can no longer sign in. What they wrote stays."
	if bot {
		detail = "Its token stops working at once and its webhook is no longer called. What it wrote stays."
	}
	return AdminQuestion{Question: "Deactivate " + username + "?", Detail: detail,
		Action: "/admin/users/" + username + "/deactivate", Button: "Deactivate " + username, Danger: true}
}

// MakeAdminConfirm asks before making someone an admin.
func MakeAdminConfirm(username string) AdminQuestion {
	return AdminQuestion{Question: "Make " + username + " an admin?",
		Detail: "An admin sees this page: they can deactivate accounts, make admins, reset passwords, create bots and invitations, and delete any room or message.",
		Action: "/admin/users/" + username + "/admin", Button: "Make " + username + " an admin"}
}

// What an admin action did, said on the admin page it leads back to.

func DoneDeactivated(username string) string {
	return username + " is deactivated: their sessions have ended and they can no longer sign in."
}

func DoneAdmin(username string) string { return username + " is now an admin." }

func DoneBotRoom(bot, room string) string { return bot + " is in " + room + " now: it may post there." }

func DoneRegistration(policy string) string {
	if policy == "invite" {
		return "Registration is now by invitation only."
	}
	return "Registration is now open: anyone may register."
}

const DoneRevoked = "The invitation is revoked: its link no longer works."
