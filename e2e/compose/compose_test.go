// Package compose checks docker-compose.yml without a Docker engine: it loads
// the file the way `docker compose` does (compose-go, with .env.example as
// the only environment) and asserts the rules the project keeps for it.
package compose

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/ticketing/ticketing/internal/stack"
	"github.com/ticketing/ticketing/pkg/config"
)

// requiredServices must all be present in docker-compose.yml.
var requiredServices = []string{
	"auth", "tickets", "orders", "payments", "expiration",
	"nginx", "kratos", "keto", "mongo", "rabbitmq", "redis", "postgres", "stripe-mock",
	"config",
}

// templates are rendered by the config service; every placeholder they use
// must be in its environment.
var templates = []string{"nginx/nginx.conf.tmpl", "ory/kratos/kratos.yml.tmpl", "ory/keto/keto.yml.tmpl"}

func TestComposeFile_FollowsTheRules(t *testing.T) {
	root := repoRoot(t)
	for _, p := range problems(root, "docker-compose.yml", ".env.example", templates) {
		t.Error(p)
	}
}

// TestComposeChecks_ReportBrokenFiles proves that every check can fail: a
// compose file breaking each rule must be reported for each of them.
func TestComposeChecks_ReportBrokenFiles(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "app.Dockerfile", "FROM scratch\n")
	write(t, dir, ".env", "")
	write(t, dir, "render.tmpl", "listen ${LISTEN}; key ${SECRET_KEY};\n")
	write(t, dir, ".env.example", "# Port.\nPORT=1\n# Optional.\n# OPTIONAL_NAME=x\n# Secrets.\nAPI_KEY=\nTOKEN=\nCURSOR_SECRET=published\n")
	write(t, dir, "docker-compose.yml", `
services:
  nohealth:
    image: busybox
  badbuild:
    build: {context: ., dockerfile: missing.Dockerfile}
    healthcheck: {test: ["CMD", "true"]}
    depends_on:
      nohealth: {condition: service_started}
      config: {condition: service_healthy}
  config:
    build: {context: ., dockerfile: app.Dockerfile}
    restart: "no"
    environment:
      LISTEN: "80"
      TICKETING_STACK_RUNNER: dev
    volumes:
      - ./not-there:/x:ro
  web:
    image: busybox
    ports: ["${PORT}:80", "${UNDECLARED:-1}:81"]
    env_file: .env
    environment:
      OPTIONAL: ${OPTIONAL_NAME}
      API_KEY: ${API_KEY:-dev-default}
      TOKEN: ${TOKEN:?set TOKEN}
      CURSOR_SECRET: ${CURSOR_SECRET:?set it}
    healthcheck: {test: ["CMD", "true"]}
    depends_on:
      badbuild: {condition: service_completed_successfully}
`)
	got := strings.Join(problems(dir, "docker-compose.yml", ".env.example", []string{"render.tmpl"}), "\n")
	for _, want := range []string{
		`service "nohealth" has no healthcheck`,
		`service "badbuild": build.dockerfile missing.Dockerfile does not exist`,
		`service "badbuild" depends on "nohealth" with condition "service_started"`,
		`service "badbuild" depends on one-shot "config" with condition "service_healthy"`,
		`service "web" depends on "badbuild" with condition "service_completed_successfully"`,
		`service "config": bind mount source ./not-there does not exist`,
		`variable UNDECLARED is used by docker-compose.yml but not in .env.example`,
		`variable OPTIONAL_NAME has no value in .env.example, so docker-compose.yml must give it a default`,
		`required service "kratos" is missing`,
		`template render.tmpl uses SECRET_KEY, which the config service does not set`,
		`secret API_KEY must be required by docker-compose.yml (${API_KEY:?…}), never given a default`,
		`secret CURSOR_SECRET must have an empty value in .env.example`,
		`service "config" sets TICKETING_STACK_RUNNER, which only the stack runner may set`,
		`service "web" reads an env_file, through which .env could set anything`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing problem %q; got:\n%s", want, got)
		}
	}
	if strings.Contains(got, "secret TOKEN") {
		t.Errorf("TOKEN is required without a default and must not be reported; got:\n%s", got)
	}
	if strings.Contains(got, "PORT ") {
		t.Errorf("PORT is declared in .env.example and must not be reported; got:\n%s", got)
	}
}

// problems returns every broken rule, one sentence each.
func problems(root, composeFile, envFile string, tmpls []string) []string {
	raw, err := os.ReadFile(filepath.Join(root, composeFile))
	if err != nil {
		return []string{err.Error()}
	}
	env, err := readEnvExample(filepath.Join(root, envFile))
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	out = append(out, checkVariables(string(raw), env, composeFile, envFile)...)
	out = append(out, checkSecrets(string(raw), env, envFile)...)
	project, err := load(root, composeFile, envFile, env.secrets())
	if err != nil {
		return append(out, fmt.Sprintf("%s does not load: %v", composeFile, err))
	}
	out = append(out, checkRequired(project)...)
	out = append(out, checkHealth(project)...)
	out = append(out, checkBuilds(project, root)...)
	out = append(out, checkDependencies(project)...)
	out = append(out, checkBindMounts(project, root)...)
	out = append(out, checkTemplates(project, root, tmpls)...)
	out = append(out, checkRunnerMark(project)...)
	return out
}

// load reads the compose file like `docker compose --env-file .env.example`
// would, ignoring the caller's environment, with secrets (a deployment's own
// values: .env.example has none), and validates it.
func load(root, composeFile, envFile string, secrets []string) (*types.Project, error) {
	own := filepath.Join(os.TempDir(), fmt.Sprintf("compose-secrets-%d.env", os.Getpid()))
	var lines strings.Builder
	for _, name := range secrets {
		fmt.Fprintf(&lines, "%s=generated-%s-value-0123456789abcdef\n", name, strings.ToLower(name))
	}
	if err := os.WriteFile(own, []byte(lines.String()), 0o600); err != nil {
		return nil, err
	}
	defer os.Remove(own)
	opts, err := cli.NewProjectOptions(
		[]string{filepath.Join(root, composeFile)},
		cli.WithWorkingDirectory(root),
		cli.WithName("ticketing"),
		cli.WithEnvFiles(filepath.Join(root, envFile), own),
		cli.WithDotEnv,
	)
	if err != nil {
		return nil, err
	}
	return opts.LoadProject(context.Background())
}

func checkRequired(p *types.Project) []string {
	var out []string
	for _, name := range requiredServices {
		if _, ok := p.Services[name]; !ok {
			out = append(out, fmt.Sprintf("required service %q is missing", name))
		}
	}
	return out
}

// isOneShot reports whether a service runs once and exits (migrations, config).
func isOneShot(s types.ServiceConfig) bool { return s.Restart == types.RestartPolicyNo }

func checkHealth(p *types.Project) []string {
	var out []string
	for _, name := range sortedNames(p) {
		s := p.Services[name]
		if isOneShot(s) {
			continue
		}
		h := s.HealthCheck
		if h == nil || h.Disable || len(h.Test) == 0 || h.Test[0] == "NONE" {
			out = append(out, fmt.Sprintf("service %q has no healthcheck and is not a one-shot (restart: \"no\")", name))
		}
	}
	return out
}

func checkBuilds(p *types.Project, root string) []string {
	var out []string
	for _, name := range sortedNames(p) {
		b := p.Services[name].Build
		if b == nil {
			continue
		}
		if b.DockerfileInline != "" {
			out = append(out, fmt.Sprintf("service %q: use a Dockerfile in the repository, not dockerfile_inline", name))
			continue
		}
		dockerfile := b.Dockerfile
		if !filepath.IsAbs(dockerfile) {
			dockerfile = filepath.Join(b.Context, dockerfile)
		}
		if st, err := os.Stat(dockerfile); err != nil || st.IsDir() {
			out = append(out, fmt.Sprintf("service %q: build.dockerfile %s does not exist", name, b.Dockerfile))
		}
		if arg, ok := b.Args["SERVICE"]; ok && (arg == nil || *arg != name) {
			out = append(out, fmt.Sprintf("service %q: build arg SERVICE must name the service itself", name))
		}
	}
	return out
}

func checkDependencies(p *types.Project) []string {
	var out []string
	for _, name := range sortedNames(p) {
		deps := p.Services[name].DependsOn
		targets := make([]string, 0, len(deps))
		for t := range deps {
			targets = append(targets, t)
		}
		sort.Strings(targets)
		for _, target := range targets {
			cond := deps[target].Condition
			ts, ok := p.Services[target]
			switch {
			case !ok:
				out = append(out, fmt.Sprintf("service %q depends on unknown service %q", name, target))
			case isOneShot(ts) && cond != types.ServiceConditionCompletedSuccessfully:
				out = append(out, fmt.Sprintf("service %q depends on one-shot %q with condition %q, want %q",
					name, target, cond, types.ServiceConditionCompletedSuccessfully))
			case !isOneShot(ts) && cond != types.ServiceConditionHealthy:
				out = append(out, fmt.Sprintf("service %q depends on %q with condition %q, want %q",
					name, target, cond, types.ServiceConditionHealthy))
			}
		}
	}
	return out
}

func checkBindMounts(p *types.Project, root string) []string {
	var out []string
	for _, name := range sortedNames(p) {
		for _, v := range p.Services[name].Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				rel, _ := filepath.Rel(root, v.Source)
				out = append(out, fmt.Sprintf("service %q: bind mount source ./%s does not exist", name, filepath.ToSlash(rel)))
			}
		}
	}
	return out
}

// checkTemplates makes sure the config service sets every placeholder the
// templates use: `stack render` fails on an unset one.
func checkTemplates(p *types.Project, root string, tmpls []string) []string {
	cfg, ok := p.Services["config"]
	if !ok {
		return nil
	}
	var out []string
	for _, tmpl := range tmpls {
		text, err := os.ReadFile(filepath.Join(root, tmpl))
		if err != nil {
			out = append(out, err.Error())
			continue
		}
		for _, name := range placeholders(string(text)) {
			if _, derived := stack.Derived[name]; derived {
				continue // `stack render` computes it from the settings
			}
			if v, ok := cfg.Environment[name]; !ok || v == nil {
				out = append(out, fmt.Sprintf("template %s uses %s, which the config service does not set", tmpl, name))
			}
		}
	}
	return out
}

var placeholder = regexp.MustCompile(`\$\{([A-Z][A-Z0-9_]*)\}`)

func placeholders(text string) []string {
	seen := map[string]bool{}
	var names []string
	for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			names = append(names, m[1])
		}
	}
	sort.Strings(names)
	return names
}

// envExample is what .env.example declares: variables with a value,
// optional ones documented as a commented-out assignment ("# NAME=value"),
// and secrets, declared with an empty value ("NAME=") because every
// deployment must choose its own.
type envExample struct {
	set      map[string]bool
	optional map[string]bool
	secret   map[string]bool
}

func (e envExample) secrets() []string {
	names := make([]string, 0, len(e.secret))
	for n := range e.secret {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

var (
	assignment          = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)=`)
	commentedAssignment = regexp.MustCompile(`^#\s*([A-Z_][A-Z0-9_]*)=`)
)

func readEnvExample(path string) (envExample, error) {
	f, err := os.Open(path)
	if err != nil {
		return envExample{}, err
	}
	defer f.Close()
	env := envExample{set: map[string]bool{}, optional: map[string]bool{}, secret: map[string]bool{}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := assignment.FindStringSubmatch(line); m != nil {
			env.set[m[1]] = true
			if line == m[0] {
				env.secret[m[1]] = true
			}
		} else if m := commentedAssignment.FindStringSubmatch(line); m != nil {
			env.optional[m[1]] = true
		}
	}
	return env, sc.Err()
}

// reference is one interpolated variable of the compose file.
type reference struct {
	name       string
	hasDefault bool // ${NAME:-x} or ${NAME-x}
	required   bool // ${NAME:?message}: compose refuses to start without a value
}

// references finds ${NAME…} and $NAME in the raw compose file, skipping the
// $$ escapes that reach containers as a literal $ and whole-line comments.
func references(raw string) []reference {
	var refs []reference
	for _, line := range strings.Split(raw, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			refs = append(refs, lineReferences(line)...)
		}
	}
	return refs
}

func lineReferences(raw string) []reference {
	var refs []reference
	for i := 0; i < len(raw); i++ {
		if raw[i] != '$' || i+1 >= len(raw) {
			continue
		}
		switch next := raw[i+1]; {
		case next == '$':
			i++
		case next == '{':
			j := i + 2
			for j < len(raw) && isNameByte(raw[j], j == i+2) {
				j++
			}
			rest := raw[j:]
			refs = append(refs, reference{
				name:       raw[i+2 : j],
				hasDefault: strings.HasPrefix(rest, ":-") || strings.HasPrefix(rest, "-"),
				required:   strings.HasPrefix(rest, ":?"),
			})
		case isNameByte(next, true):
			j := i + 1
			for j < len(raw) && isNameByte(raw[j], j == i+1) {
				j++
			}
			refs = append(refs, reference{name: raw[i+1 : j]})
		}
	}
	return refs
}

func isNameByte(c byte, first bool) bool {
	return c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || !first && c >= '0' && c <= '9'
}

func checkVariables(raw string, env envExample, composeFile, envFile string) []string {
	var out []string
	reported := map[string]bool{}
	for _, r := range references(raw) {
		if reported[r.name] || env.set[r.name] {
			continue
		}
		switch {
		case env.optional[r.name] && !r.hasDefault:
			out = append(out, fmt.Sprintf("variable %s has no value in %s, so %s must give it a default (${%s:-…})",
				r.name, envFile, composeFile, r.name))
		case env.optional[r.name]:
			continue
		default:
			out = append(out, fmt.Sprintf("variable %s is used by %s but not in %s", r.name, composeFile, envFile))
		}
		reported[r.name] = true
	}
	return out
}

// checkSecrets keeps every secret out of the repository's defaults: the
// stack runner's development secrets are empty in .env.example, and every
// secret is required by the compose file, never defaulted, so that a
// deployment cannot start on a value published here.
func checkSecrets(raw string, env envExample, envFile string) []string {
	var out []string
	for _, name := range sortedKeys(config.DevelopmentSecrets) {
		if env.set[name] && !env.secret[name] {
			out = append(out, fmt.Sprintf("secret %s must have an empty value in %s", name, envFile))
		}
	}
	reported := map[string]bool{}
	for _, r := range references(raw) {
		if env.secret[r.name] && !r.required && !reported[r.name] {
			out = append(out, fmt.Sprintf("secret %s must be required by docker-compose.yml (${%s:?…}), never given a default", r.name, r.name))
			reported[r.name] = true
		}
	}
	return out
}

// checkRunnerMark makes sure nothing in the compose file can switch a
// service into the stack runner's development mode: no service sets the
// runner's mark, and none reads an env_file (.env could set it there).
func checkRunnerMark(p *types.Project) []string {
	var out []string
	for _, name := range sortedNames(p) {
		s := p.Services[name]
		if _, ok := s.Environment[config.RunnerVariable]; ok {
			out = append(out, fmt.Sprintf("service %q sets %s, which only the stack runner may set", name, config.RunnerVariable))
		}
		if len(s.EnvFiles) > 0 {
			out = append(out, fmt.Sprintf("service %q reads an env_file, through which .env could set anything", name))
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedNames(p *types.Project) []string {
	names := make([]string, 0, len(p.Services))
	for n := range p.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "docker-compose.yml")); err != nil {
		t.Fatalf("repository root not found from %s: %v", root, err)
	}
	return root
}

func write(t *testing.T, dir, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
