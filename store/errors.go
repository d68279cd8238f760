package store

import "errors"

var (
	// ErrNotFound means the row asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a uniqueness rule refused the write (a taken name).
	ErrConflict = errors.New("conflict")
	// ErrNotMember means the user is not a member of the room written to.
	ErrNotMember = errors.New("not a member")
	// ErrArchived means the room is archived: read-only.
	ErrArchived = errors.New("archived")
	// ErrInvalid means a value the store takes from a fixed set was
	// none of them.
	ErrInvalid = errors.New("invalid")
	// ErrTooLarge means a file is larger than the most it may be: nothing
	// was stored.
	ErrTooLarge = errors.New("too large")
	// ErrQuota means the user has uploaded as much as they may in a day.
	ErrQuota = errors.New("over the quota")
	// ErrEmpty means a file has no bytes.
	ErrEmpty = errors.New("empty")
)
