// Command devstack makes sure PostgreSQL and Redis are there for a local run or the tests,
// and prints the environment for them as shell `export` lines:
//
//	eval "$(go run ./cmd/devstack)"
//
// Order of preference: DATABASE_URL / REDIS_URL when already set; a server already
// listening on the standard local port (5432, 6379) that lets us in; otherwise a private
// server in the project's .devdata/ directory, on ports 54329 and 63799, run as an
// unprivileged user (PostgreSQL refuses to run as root). Missing Debian packages are
// installed with apt-get when we are root. With -browser, Chromium and ChromeDriver for
// the end-to-end tests (and pdftotext for the contract PDFs) are installed too. DEVSTACK_PRIVATE=1 skips the standard ports, to
// try the fresh-machine path on a machine that has servers running.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

const (
	privatePGPort    = "54329"
	privateRedisPort = "63799"
	devUser          = "kitaportal-dev" // owns the private servers when we run as root
	dbName           = "kitaportal"
)

func main() {
	browser := flag.Bool("browser", false, "also install Chromium and ChromeDriver for end-to-end tests")
	flag.Parse()
	log := func(format string, a ...any) { fmt.Fprintf(os.Stderr, "devstack: "+format+"\n", a...) }
	root, err := projectRoot()
	if err != nil {
		log("%v", err)
		os.Exit(1)
	}
	s := &stack{root: root, data: filepath.Join(root, ".devdata"), log: log}
	exports, err := s.ensure(*browser)
	if err != nil {
		log("%v", err)
		os.Exit(1)
	}
	for _, kv := range exports {
		fmt.Printf("export %s='%s'\n", kv[0], strings.ReplaceAll(kv[1], "'", `'\''`))
	}
}

type stack struct {
	root, data string
	log        func(string, ...any)
}

func (s *stack) ensure(browser bool) ([][2]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	pgServer, err := s.postgres(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgresql: %w", err)
	}
	if err := createDatabase(ctx, pgServer, dbName); err != nil {
		return nil, fmt.Errorf("postgresql: create database %s: %w", dbName, err)
	}
	redisURL, err := s.redis(ctx)
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	if browser {
		if err := s.browser(); err != nil {
			return nil, fmt.Errorf("browser: %w", err)
		}
	}
	return [][2]string{
		{"DATABASE_URL", withDB(pgServer, dbName)},
		{"TEST_DATABASE_URL", withDB(pgServer, "postgres")},
		{"REDIS_URL", redisURL},
		// Tests use their own Redis database so a running `make run` never sees their jobs.
		{"TEST_REDIS_URL", withRedisDB(redisURL, 15)},
	}, nil
}

// postgres returns the URL of a server we can use, starting a private one if needed.
func (s *stack) postgres(ctx context.Context) (string, error) {
	if v := os.Getenv("DATABASE_URL"); v != "" {
		if err := pingPG(ctx, v); err != nil {
			return "", fmt.Errorf("DATABASE_URL is set but not usable: %w", err)
		}
		s.log("using DATABASE_URL")
		return v, nil
	}
	for _, u := range []string{"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", localUserURL("5432")} {
		if err := pingPG(ctx, u); err == nil && !forcePrivate() {
			s.log("using the PostgreSQL server on 127.0.0.1:5432")
			return u, nil
		}
	}
	private := "postgres://postgres@127.0.0.1:" + privatePGPort + "/postgres?sslmode=disable"
	if pingPG(ctx, private) == nil {
		s.log("using the private PostgreSQL in %s", s.data)
		return private, nil
	}
	bin, err := s.postgresBin()
	if err != nil {
		return "", err
	}
	owner, err := s.owner()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(s.data, "pg")
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err != nil {
		s.log("creating a private PostgreSQL cluster in %s", dir)
		if err := s.mkdirFor(owner, dir); err != nil {
			return "", err
		}
		if err := s.as(owner, filepath.Join(bin, "initdb"), "-D", dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"); err != nil {
			return "", fmt.Errorf("initdb: %w", err)
		}
	}
	s.log("starting the private PostgreSQL on 127.0.0.1:%s", privatePGPort)
	opts := fmt.Sprintf("-p %s -c listen_addresses=127.0.0.1 -k %s", privatePGPort, dir)
	if err := s.as(owner, filepath.Join(bin, "pg_ctl"), "-D", dir, "-o", opts, "-l", filepath.Join(dir, "server.log"), "-w", "start"); err != nil {
		return "", fmt.Errorf("pg_ctl start (log: %s): %w", filepath.Join(dir, "server.log"), err)
	}
	return private, pingPG(ctx, private)
}

// postgresBin finds the directory of initdb and pg_ctl, installing PostgreSQL if absent.
func (s *stack) postgresBin() (string, error) {
	find := func() string {
		if p, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p)
		}
		matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
		if len(matches) > 0 {
			return filepath.Dir(matches[len(matches)-1])
		}
		return ""
	}
	if dir := find(); dir != "" {
		return dir, nil
	}
	if err := s.aptInstall("postgresql", "postgresql-contrib"); err != nil {
		return "", err
	}
	if dir := find(); dir != "" {
		return dir, nil
	}
	return "", errors.New("initdb not found after installing postgresql")
}

// redis returns the URL of a Redis we can use, starting a private one if needed.
func (s *stack) redis(ctx context.Context) (string, error) {
	if v := os.Getenv("REDIS_URL"); v != "" {
		if err := pingRedis(ctx, v); err != nil {
			return "", fmt.Errorf("REDIS_URL is set but not usable: %w", err)
		}
		s.log("using REDIS_URL")
		return v, nil
	}
	if u := "redis://127.0.0.1:6379/0"; pingRedis(ctx, u) == nil && !forcePrivate() {
		s.log("using the Redis server on 127.0.0.1:6379")
		return u, nil
	}
	private := "redis://127.0.0.1:" + privateRedisPort + "/0"
	if pingRedis(ctx, private) == nil {
		s.log("using the private Redis in %s", s.data)
		return private, nil
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if err := s.aptInstall("redis-server"); err != nil {
			return "", err
		}
		if bin, err = exec.LookPath("redis-server"); err != nil {
			return "", errors.New("redis-server not found after installing it")
		}
	}
	owner, err := s.owner()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(s.data, "redis")
	if err := s.mkdirFor(owner, dir); err != nil {
		return "", err
	}
	s.log("starting a private Redis on 127.0.0.1:%s", privateRedisPort)
	if err := s.as(owner, bin, "--port", privateRedisPort, "--bind", "127.0.0.1", "--dir", dir, "--daemonize", "yes",
		"--save", "", "--appendonly", "no", "--logfile", filepath.Join(dir, "redis.log"), "--pidfile", filepath.Join(dir, "redis.pid")); err != nil {
		return "", err
	}
	for i := 0; i < 50; i++ {
		if err = pingRedis(ctx, private); err == nil {
			return private, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "", err
}

func (s *stack) browser() error {
	// The contract tests read generated PDFs back with pdftotext (poppler-utils).
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if err := s.aptInstall("poppler-utils"); err != nil {
			return err
		}
	}
	if _, err := exec.LookPath("chromium"); err == nil {
		if _, err := exec.LookPath("chromedriver"); err == nil {
			return nil
		}
	}
	return s.aptInstall("chromium", "chromium-driver")
}

// owner is the user the private servers run as: ourselves, or when we are root a system
// user created for it.
func (s *stack) owner() (string, error) {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return "", err
		}
		return u.Username, nil
	}
	if _, err := user.Lookup(devUser); err != nil {
		s.log("creating the unprivileged user %s for the private servers", devUser)
		if err := run("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", devUser); err != nil {
			return "", fmt.Errorf("useradd %s: %w", devUser, err)
		}
	}
	return devUser, nil
}

// mkdirFor creates dir owned by owner. When the unprivileged owner cannot reach the
// project directory (a checkout under /root), the data goes below /var/tmp instead.
func (s *stack) mkdirFor(owner, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return nil
	}
	if err := run("chown", "-R", owner+":", s.data); err != nil {
		return err
	}
	if err := run("runuser", "-u", owner, "--", "test", "-w", dir); err != nil {
		alt := filepath.Join("/var/tmp", "kitaportal-devdata")
		s.log("%s cannot reach %s; using %s", owner, s.data, alt)
		s.data = alt
		dir = filepath.Join(alt, filepath.Base(dir))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		return run("chown", "-R", owner+":", alt)
	}
	return nil
}

// as runs a command as owner.
func (s *stack) as(owner string, name string, args ...string) error {
	if os.Geteuid() != 0 {
		return run(name, args...)
	}
	return run("runuser", append([]string{"-u", owner, "--", name}, args...)...)
}

func (s *stack) aptInstall(pkgs ...string) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("please install %s (sudo apt-get install %s) or set DATABASE_URL/REDIS_URL",
			strings.Join(pkgs, ", "), strings.Join(pkgs, " "))
	}
	s.log("installing %s with apt-get", strings.Join(pkgs, ", "))
	if err := run("apt-get", "update", "-qq"); err != nil {
		return err
	}
	return run("env", append([]string{"DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq", "--no-install-recommends"}, pkgs...)...)
}

func forcePrivate() bool { return os.Getenv("DEVSTACK_PRIVATE") == "1" }

func run(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr // stdout carries only the exports
	return cmd.Run()
}

func pingPG(ctx context.Context, u string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.Ping(ctx)
}

func createDatabase(ctx context.Context, server, name string) error {
	conn, err := pgx.Connect(ctx, withDB(server, "postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil || exists {
		return err
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}

func pingRedis(ctx context.Context, u string) error {
	opt, err := redis.ParseURL(u)
	if err != nil {
		return err
	}
	opt.DialTimeout = time.Second
	c := redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return c.Ping(ctx).Err()
}

func withDB(server, name string) string {
	u, err := url.Parse(server)
	if err != nil {
		return server
	}
	u.Path = "/" + name
	return u.String()
}

func withRedisDB(server string, db int) string {
	u, err := url.Parse(server)
	if err != nil {
		return server
	}
	u.Path = fmt.Sprintf("/%d", db)
	return u.String()
}

func localUserURL(port string) string {
	name := "postgres"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return "postgres://" + url.PathEscape(name) + "@127.0.0.1:" + port + "/postgres?sslmode=disable"
}

// projectRoot is the directory holding go.mod, found upwards from the working directory.
func projectRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run devstack inside the project (no go.mod found)")
		}
		dir = parent
	}
}
