// Package metrics holds the chat's Prometheus metrics and serves them.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the chat's Prometheus metrics, in a registry of their own.
type Metrics struct {
	reg              *prometheus.Registry
	posts            *prometheus.CounterVec
	deliveries       prometheus.Counter
	wsClosed         *prometheus.CounterVec
	postStore        prometheus.Histogram
	postDelivery     prometheus.Histogram
	httpRequests     *prometheus.CounterVec
	httpRequestTimes *prometheus.HistogramVec
	webhookCalls     *prometheus.CounterVec
}

// Conns tells how many connections are open, and in how many rooms (the
// hub does).
type Conns interface {
	Conns() int
	Rooms() int
}

// New makes the chat's metrics, with Go's runtime and process collectors,
// reading connection counts from h.
func New(h Conns) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.posts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "chat_posts_total", Help: "Posts received, by outcome: stored, or rejected (invalid, over a limit, not a member).",
	}, []string{"outcome"})
	m.deliveries = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "chat_deliveries_total", Help: "Room entries queued to connections.",
	})
	m.wsClosed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "chat_ws_closed_total", Help: "WebSocket connections closed, by reason: slow, idle, shutdown, logout, removed (from a room, or a room closed or deleted), client, protocol, error.",
	}, []string{"reason"})
	m.postStore = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "chat_post_store_seconds", Help: "From a post accepted to it being durable.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
	})
	m.postDelivery = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "chat_post_delivery_seconds", Help: "From a post durable to it being queued to the last connection of its room.",
		Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16),
	})
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "chat_http_requests_total", Help: "HTTP requests, by route pattern and status.",
	}, []string{"route", "status"})
	m.httpRequestTimes = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "chat_http_request_seconds", Help: "HTTP request durations, by route pattern and status.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12),
	}, []string{"route", "status"})
	m.webhookCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "chat_webhook_calls_total", Help: "Calls to bots' webhooks, by outcome: answered, failed (each failed try), dropped (queue full).",
	}, []string{"outcome"})
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.posts, m.deliveries, m.wsClosed, m.postStore, m.postDelivery, m.httpRequests, m.httpRequestTimes, m.webhookCalls,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "chat_ws_connections", Help: "Open WebSocket connections."},
			func() float64 { return float64(h.Conns()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "chat_rooms_active", Help: "Rooms with at least one connection."},
			func() float64 { return float64(h.Rooms()) }),
	)
	// Counters start at zero for every outcome and reason, so that a
	// dashboard sees them before the first event.
	for _, o := range []string{"stored", "rejected"} {
		m.posts.WithLabelValues(o)
	}
	for _, r := range []string{"slow", "idle", "shutdown", "logout", "client", "protocol", "error"} {
		m.wsClosed.WithLabelValues(r)
	}
	for _, o := range []string{"answered", "failed", "dropped"} {
		m.webhookCalls.WithLabelValues(o)
	}
	return m
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Request counts an HTTP request by route pattern and status.
func (m *Metrics) Request(route string, status int, took time.Duration) {
	s := strconv.Itoa(status)
	m.httpRequests.WithLabelValues(route, s).Inc()
	m.httpRequestTimes.WithLabelValues(route, s).Observe(took.Seconds())
}

// Post counts a post received, by outcome: stored or rejected.
func (m *Metrics) Post(outcome string) { m.posts.WithLabelValues(outcome).Inc() }

// Delivered counts entries queued to n connections.
func (m *Metrics) Delivered(n int) { m.deliveries.Add(float64(n)) }

// WSClosed counts a WebSocket connection closed, by reason.
func (m *Metrics) WSClosed(reason string) { m.wsClosed.WithLabelValues(reason).Inc() }

// PostStored records how long a post took from accepted to durable.
func (m *Metrics) PostStored(took time.Duration) { m.postStore.Observe(took.Seconds()) }

// PostDelivered records how long a post took from durable to queued to the
// last connection of its room.
func (m *Metrics) PostDelivered(took time.Duration) { m.postDelivery.Observe(took.Seconds()) }

// WebhookCall counts a call to a bot's webhook, by outcome: answered,
// failed or dropped.
func (m *Metrics) WebhookCall(outcome string) { m.webhookCalls.WithLabelValues(outcome).Inc() }
