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
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"chat/cluster"
	"chat/handlers"
	"chat/hub"
	"chat/linkpreview"
	"chat/media"
	"chat/store"

	"github.com/gofiber/fiber/v2"
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
	if len(args) > 0 && args[0] == "backup" {
		return backup(ctx, args[1:], getenv, stdout)
	}
	cfg, err := parseConfig(args, getenv, stdout)
	if err != nil {
		return err
	}

	logger := newLogger(cfg, stdout)
	files := raiseFileLimit()

	db, err := store.Open(ctx, cfg.db, store.WithSessionIdle(cfg.sessionIdle))
	if err != nil {
		return err
	}
	defer db.Close()
	if cfg.registration != "" {
		if err := db.SetRegistrationPolicy(ctx, cfg.registration); err != nil {
			return err
		}
	}

	h := hub.New(hub.Config{Presence: handlers.PresenceFrames(), MaxPerUser: cfg.maxSockets})
	metrics := handlers.NewMetrics(h)
	if cfg.metricsAddr != "" {
		stop, err := serveMetrics(cfg.metricsAddr, metrics, logger)
		if err != nil {
			return err
		}
		defer stop()
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	deps := appDeps(cfg, ln.Addr(), db, h, metrics, logger)
	app, link, err := newApp(ctx, cfg, deps, h, logger)
	if err != nil {
		return err
	}
	defer func() {
		if link != nil {
			link.Close()
		}
	}()

	if cfg.pprofAddr != "" {
		stop, err := serveProfiles(cfg.pprofAddr, logger)
		if err != nil {
			return err
		}
		defer stop()
	}

	logger.Info("listening", "url", "http://"+ln.Addr().String(), "db", redactDB(cfg.db), "open_files", files)

	if stopped, err := serve(ctx, app, ln); !stopped {
		return err
	}
	err = shutdown(logger, h, app, link, db)
	link = nil
	return err
}

// serve serves the chat on ln until ctx ends (stopped) or the server ends
// by itself (with its error).
func serve(ctx context.Context, app *fiber.App, ln net.Listener) (stopped bool, err error) {
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	select {
	case err := <-served:
		return false, err
	case <-ctx.Done():
		return true, nil
	}
}

// newLogger writes the configured format at the configured level.
func newLogger(cfg config, stdout io.Writer) *slog.Logger {
	logOpts := &slog.HandlerOptions{Level: cfg.logLevel}
	if cfg.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(stdout, logOpts))
	}
	return slog.New(slog.NewTextHandler(stdout, logOpts))
}

// appDeps is what the handlers are built with, from the configuration;
// without -base-url, links start with the address listened on.
func appDeps(cfg config, listening net.Addr, db *store.Store, h *hub.Hub, metrics *handlers.Metrics, logger *slog.Logger) handlers.Deps {
	if cfg.baseURL == "" {
		cfg.baseURL = listenBaseURL(listening)
	}
	pictures := handlers.NewPictures()
	return handlers.Deps{
		Metrics:          metrics,
		MetricsElsewhere: cfg.metricsAddr != "",
		Store:            db,
		Hub:              h,
		Logger:           logger,
		PostLimit:        cfg.postLimit,
		RoomLimit:        cfg.roomLimit,
		LoginLimit:       cfg.loginLimit,
		LoginAddrLimit:   cfg.loginAddrLimit,
		RegisterLimit:    cfg.registerLimit,
		BaseURL:          cfg.baseURL,
		BodyLimit:        cfg.bodyLimit,
		UploadLimit:      cfg.uploadLimit,
		UploadQuota:      cfg.uploadQuota,
		WebhookAllow:     cfg.webhookAllow,
		SessionIdle:      cfg.sessionIdle,
		TrustedProxies:   cfg.trustedProxies,
		Clustered:        cfg.nats != "",
		LinkPreviews:     linkPreviews(cfg.linkPreviews, pictures),
		Pictures:         pictures,
	}
}

// cardBox is the most pixels a side of a link card's picture, made again
// by the chat.
const cardBox = 400

// linkPreviews is the fetcher of links' cards, with -link-previews: it
// reaches public addresses only, and its pictures are made again by the
// chat's own decoder of pictures.
func linkPreviews(on bool, pictures *media.Pictures) *linkpreview.Fetcher {
	if !on {
		return nil
	}
	return linkpreview.New(linkpreview.Config{
		UserAgent: "chat-link-preview/1",
		Reencode: func(ctx context.Context, r io.Reader) ([]byte, string, int, int, error) {
			return pictures.Preview(ctx, r, cardBox)
		},
	})
}

// newApp builds the chat's app and, with -nats, links it to the other
// instances; the link, if any, is the caller's to close.
func newApp(ctx context.Context, cfg config, deps handlers.Deps, h *hub.Hub, logger *slog.Logger) (*fiber.App, *cluster.Cluster, error) {
	var app *fiber.App
	var link *cluster.Cluster
	if cfg.nats == "" {
		app = handlers.NewApp(deps)
	} else {
		var hooks handlers.ClusterHooks
		app, hooks = handlers.NewClusteredApp(deps)
		var err error
		link, err = cluster.Start(ctx, cluster.Config{
			URL:     cfg.nats,
			Subject: cfg.natsSubject,
			Hub:     h,
			Latest:  hooks.Latest,
			Fill:    hooks.Fill,
			OnEntry: hooks.OnEntry,
			OnUser:  hooks.OnUser,
			OnEvent: hooks.OnEvent,
			Log:     logger,
		})
		if err != nil {
			return nil, nil, err
		}
		logger.Info("linked to other instances", "nats", redactURL(cfg.nats), "instance", link.ID())
	}
	return app, link, nil
}

// serveMetrics serves /metrics on an address of its own, and returns how
// to stop it.
func serveMetrics(addr string, metrics *handlers.Metrics, logger *slog.Logger) (func(), error) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics.Handler())
	return serveHTTP(addr, "metrics", "/metrics", mux, logger)
}

// serveProfiles serves Go's profiles on an address of their own, and
// returns how to stop it.
func serveProfiles(addr string, logger *slog.Logger) (func(), error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return serveHTTP(addr, "profiles", "/debug/pprof/", mux, logger)
}

// shutdown stops the chat gracefully within shutdownTimeout: sockets get
// 1012, requests under way finish, the cluster link drains, and the
// database is closed.
func shutdown(logger *slog.Logger, h *hub.Hub, app *fiber.App, link *cluster.Cluster, db *store.Store) error {
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
	if link != nil {
		// Every entry written is published; the others hear this
		// instance's users leave, and that it goes.
		if err := link.Close(); err != nil {
			logger.Warn("nats drain", "err", err)
		}
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// serveHTTP serves a handler on an address of its own, apart from the
// chat's, and returns how to stop it.
func serveHTTP(addr, what, path string, h http.Handler, logger *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	logger.Info("serving "+what, "url", "http://"+ln.Addr().String()+path)
	return func() { srv.Close() }, nil
}

// backup writes a consistent copy of the database, live or not, to a new
// file: chat backup [-db FILE] DEST.
func backup(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("chat backup", flag.ContinueOnError)
	fs.SetOutput(stdout)
	def := "chat.db"
	if v := getenv("CHAT_DB"); v != "" {
		def = v
	}
	dbPath := fs.String("db", def, "SQLite database file to copy (CHAT_DB)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() != 1 {
		return usageError{errors.New("usage: chat backup [-db FILE] DEST")}
	}
	if err := store.BackupFile(ctx, *dbPath, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s\n", *dbPath, fs.Arg(0))
	return nil
}

// redactDB is the database's name fit for a log: a PostgreSQL URL without
// its password.
func redactDB(db string) string {
	if !store.IsPostgres(db) {
		return db
	}
	return redactURL(db)
}

// redactURL is a URL without its password.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
