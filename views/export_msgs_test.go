package views

// The server's dates in the reader's language, for tests.
var (
	TimeLongForTest = timeLong
	DayLongForTest  = dayLong
)
