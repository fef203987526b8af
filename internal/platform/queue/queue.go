// Package queue connects to Redis for asynq: connection options, a health check, job
// metrics and a logger adapter. Jobs themselves are defined by the domains (tasks.go).
package queue

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Connect parses a redis:// URL into asynq's options and a client for health checks.
func Connect(redisURL string) (asynq.RedisConnOpt, redis.UniversalClient, error) {
	opt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("queue: %w", err)
	}
	client, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, nil, fmt.Errorf("queue: unexpected redis client type")
	}
	return opt, client, nil
}

// Ping checks that Redis answers within a second.
func Ping(ctx context.Context, c redis.UniversalClient) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return c.Ping(ctx).Err()
}

// Metrics count processed jobs by type and outcome.
type Metrics struct {
	processed *prometheus.CounterVec
	duration  *prometheus.HistogramVec
}

// NewMetrics registers the job metrics in reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kitaportal_jobs_processed_total",
			Help: "Jobs processed by the worker, by type and result (ok, error).",
		}, []string{"type", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kitaportal_job_duration_seconds",
			Help:    "Job run time by type.",
			Buckets: prometheus.DefBuckets,
		}, []string{"type"}),
	}
	reg.MustRegister(m.processed, m.duration)
	return m
}

// Middleware measures every job.
func (m *Metrics) Middleware(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		start := time.Now()
		err := next.ProcessTask(ctx, t)
		result := "ok"
		if err != nil {
			result = "error"
		}
		m.processed.WithLabelValues(t.Type(), result).Inc()
		m.duration.WithLabelValues(t.Type()).Observe(time.Since(start).Seconds())
		return err
	})
}

// QueueCollector reports the size of each asynq queue by state at scrape time.
type QueueCollector struct {
	insp  *asynq.Inspector
	tasks *prometheus.Desc
}

// NewQueueCollector inspects the queues behind opt.
func NewQueueCollector(opt asynq.RedisConnOpt) *QueueCollector {
	return &QueueCollector{
		insp:  asynq.NewInspector(opt),
		tasks: prometheus.NewDesc("kitaportal_queue_tasks", "Tasks in each asynq queue by state.", []string{"queue", "state"}, nil),
	}
}

func (c *QueueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.tasks }

func (c *QueueCollector) Collect(ch chan<- prometheus.Metric) {
	queues, err := c.insp.Queues()
	if err != nil {
		return
	}
	for _, q := range queues {
		info, err := c.insp.GetQueueInfo(q)
		if err != nil {
			continue
		}
		for state, n := range map[string]int{
			"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
			"retry": info.Retry, "archived": info.Archived, "completed": info.Completed,
		} {
			ch <- prometheus.MustNewConstMetric(c.tasks, prometheus.GaugeValue, float64(n), q, state)
		}
	}
}

// Logger adapts slog to asynq's logger interface.
type Logger struct{ L *slog.Logger }

func (l Logger) Debug(args ...any) { l.L.Debug(fmt.Sprint(args...), "component", "asynq") }
func (l Logger) Info(args ...any)  { l.L.Info(fmt.Sprint(args...), "component", "asynq") }
func (l Logger) Warn(args ...any)  { l.L.Warn(fmt.Sprint(args...), "component", "asynq") }
func (l Logger) Error(args ...any) { l.L.Error(fmt.Sprint(args...), "component", "asynq") }
func (l Logger) Fatal(args ...any) {
	l.L.Error(fmt.Sprint(args...), "component", "asynq", "fatal", true)
}
