// Command chat serves a multi-room web chat from one SQLite file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"chat/handlers"
	"chat/hub"
	"chat/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "chat:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a bad flag or environment value.
type usageError struct{ error }

// shutdownTimeout bounds a graceful stop, inside the 10 s a supervisor
// gives before it kills.
const shutdownTimeout = 8 * time.Second

// run serves the chat until ctx ends, then stops gracefully: sockets are
// closed with 1012 so that pages reconnect by themselves, requests under
// way finish, and the database is closed.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", envOr(getenv, "CHAT_ADDR", ":8080"), "address to listen on (CHAT_ADDR)")
	dbPath := fs.String("db", envOr(getenv, "CHAT_DB", "chat.db"), "SQLite database file (CHAT_DB)")
	postLimitDefault, err := strconv.Atoi(envOr(getenv, "CHAT_POST_LIMIT", "30"))
	if err != nil || postLimitDefault < 0 {
		return usageError{fmt.Errorf("CHAT_POST_LIMIT must be a whole number, 0 or more")}
	}
	postLimit := fs.Int("post-limit", postLimitDefault, "posts a user may make per 10 seconds, 0 for no limit (CHAT_POST_LIMIT)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if *postLimit < 0 {
		return usageError{fmt.Errorf("-post-limit must be 0 or more")}
	}

	logger := slog.New(slog.NewTextHandler(stdout, nil))

	db, err := store.Open(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()

	h := hub.New(hub.Config{Presence: handlers.PresenceFrames()})
	app := handlers.NewApp(handlers.Deps{Store: db, Hub: h, Logger: logger, PostLimit: *postLimit})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	logger.Info("listening", "url", "http://"+ln.Addr().String(), "db", *dbPath)

	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}

	logger.Info("shutting down")
	stopCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	closing := h.Shutdown(hub.CloseServiceReboot, "server restarting")
	shut := make(chan error, 1)
	go func() { shut <- app.ShutdownWithContext(stopCtx) }()
	if err := h.Wait(stopCtx); err != nil {
		logger.Warn("sockets still open at shutdown", "asked", closing)
	}
	if err := <-shut; err != nil {
		logger.Warn("shutdown", "err", err)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	logger.Info("stopped")
	return nil
}

func envOr(getenv func(string) string, key, fallback string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return fallback
}
