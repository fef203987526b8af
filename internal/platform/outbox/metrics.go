package outbox

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"
)

// Collector reports the outbox backlog at scrape time: how many jobs wait for the relay
// and how old the oldest is (the relay's lag).
type Collector struct {
	db      bun.IDB
	pending *prometheus.Desc
	lag     *prometheus.Desc
	up      *prometheus.Desc
}

// NewCollector returns a collector reading from db.
func NewCollector(db bun.IDB) *Collector {
	return &Collector{
		db:      db,
		pending: prometheus.NewDesc("kitaportal_outbox_pending", "Outbox jobs not yet handed to the queue.", nil, nil),
		lag:     prometheus.NewDesc("kitaportal_outbox_lag_seconds", "Age of the oldest outbox job not yet handed to the queue.", nil, nil),
		up:      prometheus.NewDesc("kitaportal_outbox_scrape_ok", "1 if the outbox could be read at this scrape.", nil, nil),
	}
}

func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pending
	ch <- c.lag
	ch <- c.up
}

func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var pending int64
	var lag float64
	err := c.db.QueryRowContext(ctx, `
		SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)
		FROM outbox WHERE relayed_at IS NULL`).Scan(&pending, &lag)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(pending))
	ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, lag)
}
