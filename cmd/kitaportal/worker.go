package main

import (
	"context"
	"os"
	"slices"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"

	"kitaportal/internal/account"
	"kitaportal/internal/allocation/round"
	"kitaportal/internal/application"
	"kitaportal/internal/auth"
	"kitaportal/internal/availability"
	"kitaportal/internal/casework"
	"kitaportal/internal/contract"
	"kitaportal/internal/notify"
	"kitaportal/internal/operator"
	"kitaportal/internal/placement"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/mail"
	"kitaportal/internal/platform/outbox"
	"kitaportal/internal/platform/queue"
	"kitaportal/internal/platform/storage"
	"kitaportal/internal/privacy"
	"kitaportal/internal/retention"
	"kitaportal/internal/tenant"
	"kitaportal/internal/webhook"
	"kitaportal/web"
)

func work(ctx context.Context, e *env) error {
	if err := e.cfg.Require("DATABASE_URL", "REDIS_URL", "SMTP_URL"); err != nil {
		return err
	}
	e.log.Info("kitaportal worker starting", "config", e.cfg)
	db, err := e.openDB(ctx, true)
	if err != nil {
		return err
	}
	defer db.Close()
	sender, err := mail.NewSMTP(e.cfg.SMTPURL.Value(), e.cfg.MailFrom)
	if err != nil {
		return err
	}
	metrics := httpserver.NewMetrics()
	metrics.Registry.MustRegister(outbox.NewCollector(db))
	stopMetrics := serveMetrics(e, metrics)
	defer stopMetrics()
	return runWorker(ctx, e, db, sender, metrics.Registry)
}

// runWorker relays the outbox, processes jobs and runs the scheduler until ctx ends.
func runWorker(ctx context.Context, e *env, db *bun.DB, sender mail.Sender, reg prometheus.Registerer) error {
	opt, rdb, err := queue.Connect(e.cfg.RedisURL.Value())
	if err != nil {
		return err
	}
	defer rdb.Close()
	reg.MustRegister(queue.NewQueueCollector(opt))
	jobMetrics := queue.NewMetrics(reg)

	client := asynq.NewClient(opt)
	defer client.Close()
	relay := outbox.NewRelay(db, e.cfg.DatabaseURL.Value(), client, e.log)
	go relay.Run(ctx)

	host, _ := os.Hostname()
	jobs := operator.NewJobs(db, e.log, "worker@"+host)
	mailer := notify.NewMailer(db, sender, e.log)
	views, err := renderer()
	if err != nil {
		return err
	}
	mails, err := notify.NewTemplates(web.FS, views.Catalogue())
	if err != nil {
		return err
	}
	links := notify.NewLinks(e.cfg.TenantURL)
	accounts := account.NewService(account.Deps{DB: db, Mails: mails, Clock: clock.System{}, Links: links})
	tenants := tenant.NewRegistry(tenant.NewStore(db), e.log)
	resets := account.NewResetJobs(accounts, tenants)
	apps := application.NewService(application.Deps{DB: db, Clock: clock.System{}, Mails: mails, Links: links})
	imports := casework.NewImporter(casework.NewService(db, clock.System{}, apps), tenants, e.log)
	mux := asynq.NewServeMux()
	mux.Use(jobMetrics.Middleware)
	mux.HandleFunc(notify.TaskSendMail, mailer.HandleSendMail)
	mux.HandleFunc(account.TaskResetRequest, resets.Handle)
	mux.HandleFunc(casework.TaskImportWaitlist, imports.Handle)
	mux.HandleFunc(operator.TaskHeartbeat, jobs.HandleHeartbeat)
	mux.HandleFunc(operator.TaskPruneOutbox, jobs.HandlePruneOutbox)
	mux.HandleFunc(operator.TaskPruneAuth, jobs.HandlePruneAuth)
	mux.HandleFunc(availability.TaskEnsure, availability.NewJobs(db, clock.System{}, e.log).HandleEnsure)
	places := placement.NewService(placement.Deps{DB: db, Clock: clock.System{}, Mails: mails, Links: links})
	placements := placement.NewJobs(places, tenants, e.log)
	rounds := round.NewJobs(round.NewService(db, clock.System{}, places), tenants, e.log)
	mux.HandleFunc(round.TaskRun, rounds.HandleRun)
	mux.HandleFunc(round.TaskPublish, rounds.HandlePublish)
	mux.HandleFunc(round.TaskFollowUpSweep, rounds.HandleFollowUpSweep)
	for _, task := range []string{placement.TaskRelease, placement.TaskRemind, placement.TaskExpire} {
		mux.HandleFunc(task, placements.HandleDue)
	}
	mux.HandleFunc(placement.TaskSweep, placements.HandleSweep)
	mux.HandleFunc(retention.TaskRun, retention.NewJobs(retention.NewService(db, clock.System{}), tenants, e.log).HandleRun)
	files, err := storage.NewLocal(e.cfg.StorageDir)
	if err != nil {
		return err
	}
	mux.HandleFunc(contract.TaskDocument, contract.NewDocuments(db, files, tenants, clock.System{}, e.log).Handle)
	mux.HandleFunc(privacy.TaskExport, privacy.NewExporter(db, files, tenants, mails, links, clock.System{}, e.log).Handle)
	keys, err := auth.NewKeys(e.cfg.AuthSecret.Value()) // opens the webhook endpoints' sealed secrets
	if err != nil {
		return err
	}
	mux.HandleFunc(webhook.TaskDeliver, webhook.NewDeliverer(db, keys, clock.System{}, e.log,
		webhook.DeliverConfig{Timeout: e.cfg.WebhookTimeout, AllowLocal: e.cfg.WebhookAllowLocal}).Handle)

	srv := asynq.NewServer(opt, asynq.Config{
		Concurrency:     e.cfg.WorkerConcurrency,
		Queues:          map[string]int{"mail": 6, "default": 3, "low": 1},
		Logger:          queue.Logger{L: e.log},
		LogLevel:        asynq.WarnLevel,
		ShutdownTimeout: e.cfg.ShutdownTimeout,
	})
	if err := srv.Start(mux); err != nil {
		return err
	}
	defer srv.Shutdown()

	scheduler := asynq.NewScheduler(opt, &asynq.SchedulerOpts{Location: clock.Berlin, Logger: queue.Logger{L: e.log}, LogLevel: asynq.WarnLevel})
	schedule := append(slices.Clone(operator.Schedule), struct{ Spec, Type string }{availability.EnsureSpec, availability.TaskEnsure},
		struct{ Spec, Type string }{placement.SweepSpec, placement.TaskSweep},
		struct{ Spec, Type string }{round.FollowUpSpec, round.TaskFollowUpSweep},
		struct{ Spec, Type string }{retention.RunSpec, retention.TaskRun})
	for _, p := range schedule {
		// Unique: several workers may each run a scheduler; a tick still runs once.
		if _, err := scheduler.Register(p.Spec, asynq.NewTask(p.Type, nil), asynq.Unique(20*time.Second), asynq.Queue("low")); err != nil {
			return err
		}
	}
	if err := scheduler.Start(); err != nil {
		return err
	}
	defer scheduler.Shutdown()
	e.log.Info("worker running", "concurrency", e.cfg.WorkerConcurrency)
	<-ctx.Done()
	e.log.Info("worker shutting down")
	return nil
}
