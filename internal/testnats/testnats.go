// Package testnats runs a NATS server inside a test, on a free loopback
// port, for the tests of chat instances linked through it.
package testnats

import (
	"net"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// Server is a NATS server of the test's.
type Server struct {
	URL  string
	Port int
	ns   *natsserver.Server
}

// Start runs a NATS server until the test ends, and returns its URL.
func Start(t testing.TB) string { return Run(t, -1).URL }

// Run runs a NATS server on the port (-1: a free one) until the test
// ends or Stop.
func Run(t testing.TB, port int) *Server {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats did not start")
	}
	t.Cleanup(ns.Shutdown)
	return &Server{URL: ns.ClientURL(), Port: ns.Addr().(*net.TCPAddr).Port, ns: ns}
}

// Stop ends the server: its clients lose their connection.
func (s *Server) Stop() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}
