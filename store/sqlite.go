package store

import "strings"

// sqliteIDsIn is idsIn on SQLite, which takes no arrays: a placeholder an
// id.
func sqliteIDsIn(col string, ids []int64) (string, []any) {
	if len(ids) == 0 {
		return "1 = 0", nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return col + " IN (?" + strings.Repeat(",?", len(ids)-1) + ")", args
}
