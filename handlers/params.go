package handlers

import (
	"strconv"

	"chat/i18n"

	"github.com/gofiber/fiber/v2"
)

// pathID parses the :id of the path (a room's, an entry's); anything but
// a positive integer is something that does not exist.
func pathID(c *fiber.Ctx) (int64, error) { return parseID(c.Params("id")) }

// parseID reads an id: anything but a positive integer is nothing there
// is.
func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fiber.ErrNotFound
	}
	return id, nil
}

// queryWhole reads a whole number from the query parameter name, and says
// whether there was one; anything else there is a 400 that says the
// message of problemKey in the reader's language.
func queryWhole(c *fiber.Ctx, name, problemKey string) (n int64, present bool, err error) {
	q := c.Query(name)
	if q == "" {
		return 0, false, nil
	}
	n, err = strconv.ParseInt(q, 10, 64)
	if err != nil || n < 0 {
		return 0, true, fiber.NewError(fiber.StatusBadRequest, i18n.From(c.UserContext()).T(problemKey))
	}
	return n, true, nil
}

// queryAfter reads ?after=, the id of the newest entry a page holds.
func queryAfter(c *fiber.Ctx) (after int64, present bool, err error) {
	return queryWhole(c, "after", "live.bad_after")
}
