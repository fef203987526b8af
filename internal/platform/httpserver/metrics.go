package httpserver

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the HTTP metrics, registered in the process's own registry.
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics creates a registry with Go and process collectors and the HTTP metrics.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kitaportal_http_requests_total",
			Help: "HTTP requests by route pattern, method, status and tenant.",
		}, []string{"route", "method", "status", "tenant"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kitaportal_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern and tenant.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "tenant"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}
