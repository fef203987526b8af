package tableowner

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// root is the module root, two levels above this package.
const root = "../.."

// tableRef finds the tables a piece of SQL names: after FROM, JOIN, UPDATE, INTO and
// TABLE, comma joins included, and bun's table tags. A table after UPDATE, INTO,
// DELETE FROM or TRUNCATE (or in a model tag: bun writes through it) is written.
var (
	tableRef  = regexp.MustCompile(`(?i)\b(DELETE\s+FROM|FROM|JOIN|UPDATE|INTO|TABLE)\s+(?:ONLY\s+)?([a-z_][a-z0-9_]*)((?:\s+(?:AS\s+)?[a-z_][a-z0-9_]*)?(?:\s*,\s*[a-z_][a-z0-9_]*(?:\s+(?:AS\s+)?[a-z_][a-z0-9_]*)?)*)`)
	commaPart = regexp.MustCompile(`,\s*([a-z_][a-z0-9_]*)`)
	bunTable  = regexp.MustCompile(`bun:"table:([a-z_][a-z0-9_]*)`)
)

// use is one table named by a piece of SQL.
type use struct {
	table string
	write bool
}

// tablesIn returns the tables that one string literal of Go code names as SQL.
func tablesIn(lit string) []use {
	var out []use
	for _, m := range tableRef.FindAllStringSubmatch(lit, -1) {
		verb := strings.ToUpper(strings.Join(strings.Fields(m[1]), " "))
		write := verb == "UPDATE" || verb == "INTO" || verb == "DELETE FROM" || verb == "TABLE"
		out = append(out, use{strings.ToLower(m[2]), write})
		for _, c := range commaPart.FindAllStringSubmatch(m[3], -1) {
			out = append(out, use{strings.ToLower(c[1]), false})
		}
	}
	for _, m := range bunTable.FindAllStringSubmatch(lit, -1) {
		out = append(out, use{m[1], true})
	}
	return out
}

func TestTablesIn(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		sql  string
		want []use
	}{
		{"SELECT a FROM child c JOIN family f ON f.id = c.family_id", []use{{"child", false}, {"family", false}}},
		{"UPDATE offer SET status = ?", []use{{"offer", true}}},
		{"INSERT INTO application_event (tenant_id) VALUES (?)", []use{{"application_event", true}}},
		{"DELETE FROM ONLY contract WHERE id = ?", []use{{"contract", true}}},
		{"SELECT 1 FROM facility f, provider p WHERE", []use{{"facility", false}, {"provider", false}}},
		{`bun:"table:guardian,alias:g"`, []use{{"guardian", true}}},
		{"TRUNCATE TABLE outbox", []use{{"outbox", true}}},
		{"the child's request", nil},
	} {
		if got := tablesIn(c.sql); !slices.Equal(got, c.want) {
			t.Errorf("tablesIn(%q) = %v, want %v", c.sql, got, c.want)
		}
	}
}

// ownsColumn tells whether the SQL is an UPDATE of table that sets only a column that
// Columns gives to pkg.
func ownsColumn(pkg, table, sql string) bool {
	m := regexp.MustCompile(`(?is)^\s*UPDATE\s+` + table + `(?:\s+[a-z_]+)?\s+SET\s+([a-z_]+)\s*=(.*)$`).FindStringSubmatch(sql)
	if m == nil || Columns[table+"."+m[1]] != pkg {
		return false
	}
	// No second assignment: nothing after the value but FROM and WHERE.
	rest := m[2]
	if i := regexp.MustCompile(`(?i)\bFROM\b|\bWHERE\b`).FindStringIndex(rest); i != nil {
		rest = rest[:i[0]]
	}
	return !regexp.MustCompile(`,\s*[a-z_]+\s*=`).MatchString(rest)
}

func TestOwnsColumn(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		pkg, sql string
		want     bool
	}{
		{"availability", "UPDATE facility f SET care_offered = string_to_array(x.offered, ',') FROM unnest($2) WHERE f.id = x.id", true},
		{"availability", "UPDATE facility SET care_offered = $1, name = $2 WHERE id = $3", false},
		{"availability", "UPDATE facility SET name = $1 WHERE id = $2", false},
		{"search", "UPDATE facility SET care_offered = $1 WHERE id = $2", false},
	} {
		if got := ownsColumn(c.pkg, "facility", c.sql); got != c.want {
			t.Errorf("ownsColumn(%s, %q) = %v", c.pkg, c.sql, got)
		}
	}
}

// schemaTables are the tables the migrations create.
func schemaTables(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "migrations", "*.up.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	create := regexp.MustCompile(`(?i)CREATE TABLE\s+(?:IF NOT EXISTS\s+)?([a-z_][a-z0-9_]*)`)
	drop := regexp.MustCompile(`(?i)DROP TABLE\s+(?:IF EXISTS\s+)?([a-z_][a-z0-9_]*)`)
	seen := map[string]bool{}
	sort.Strings(files) // in the order they apply
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range create.FindAllStringSubmatch(string(b), -1) {
			seen[strings.ToLower(m[1])] = true
		}
		for _, m := range drop.FindAllStringSubmatch(string(b), -1) {
			delete(seen, strings.ToLower(m[1]))
		}
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Every table has exactly one owner, and every owner named is a package of the tree.
func TestEveryTableHasAnOwner(t *testing.T) {
	t.Parallel()
	tables := schemaTables(t)
	for _, tbl := range tables {
		if Owners[tbl] == "" {
			t.Errorf("table %s has no owner in tableowner.Owners", tbl)
		}
	}
	for tbl, pkg := range Owners {
		if !slices.Contains(tables, tbl) {
			t.Errorf("tableowner.Owners names %s, which no migration creates", tbl)
		}
		if st, err := os.Stat(filepath.Join(root, "internal", pkg)); err != nil || !st.IsDir() {
			t.Errorf("the owner of %s, internal/%s, is no package", tbl, pkg)
		}
	}
}

// Only a table's owner has SQL on it (builders of data excepted).
func TestOnlyTheOwnerHasSQLOnATable(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	readsUsed := map[string]bool{}
	for _, dir := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			pkg := filepath.ToSlash(filepath.Dir(rel))
			inner := strings.TrimPrefix(pkg, "internal/")
			if slices.Contains(Builders, inner) || inner == "tableowner" {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					return true
				}
				for _, u := range tablesIn(s) {
					owner, known := Owners[u.table]
					switch {
					case !known || owner == inner:
					case u.write && ownsColumn(inner, u.table, s):
					case u.write:
						t.Errorf("%s: writes %s, which %s owns", fset.Position(lit.Pos()), u.table, owner)
					case !slices.Contains(Reads[inner], u.table):
						t.Errorf("%s: reads %s, which %s owns", fset.Position(lit.Pos()), u.table, owner)
					default:
						readsUsed[inner+" "+u.table] = true
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The list of reads left to move only shrinks: an entry no code needs is an error.
	for pkg, tables := range Reads {
		for _, tbl := range tables {
			if !readsUsed[pkg+" "+tbl] {
				t.Errorf("tableowner.Reads lets %s read %s, which it no longer does: remove the entry", pkg, tbl)
			}
		}
	}
}

// The README's table of owners says what Owners says, row for row.
func TestTheReadmeListsEveryOwner(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `internal/([a-z/]+)` \\| (.+) \\|$")
	listed := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		for _, tbl := range strings.Split(m[2], ",") {
			tbl = strings.Trim(strings.TrimSpace(tbl), "`")
			if prev, dup := listed[tbl]; dup {
				t.Errorf("README lists %s under %s and %s", tbl, prev, m[1])
			}
			listed[tbl] = m[1]
		}
	}
	for tbl, owner := range Owners {
		if listed[tbl] != owner {
			t.Errorf("README: %s is owned by internal/%s, listed under %q", tbl, owner, listed[tbl])
		}
	}
	for tbl := range listed {
		if Owners[tbl] == "" {
			t.Errorf("README lists %s, which Owners does not know", tbl)
		}
	}
}
