package main

import "syscall"

// wantOpenFiles is the file limit the chat asks for: every connection is a
// file, and a busy single machine holds tens of thousands.
const wantOpenFiles = 200_000

// raiseFileLimit lifts the limit on open files to wantOpenFiles where the
// system lets this process (root may raise the hard limit), and returns
// the limit in force. Go itself lifts the soft limit to the hard one at
// start.
func raiseFileLimit() uint64 {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0
	}
	if l.Max < wantOpenFiles {
		want := syscall.Rlimit{Cur: wantOpenFiles, Max: wantOpenFiles}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) == nil {
			return wantOpenFiles
		}
	}
	return l.Cur
}
