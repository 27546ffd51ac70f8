package stack

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ticketing/ticketing/pkg/config"
)

func TestRender(t *testing.T) {
	t.Parallel()
	env := Env{"PORT": "8080", "HOST": "127.0.0.1", "EMPTY": ""}
	cases := []struct {
		name, in, want, err string
	}{
		{"replaces names", "listen ${HOST}:${PORT};", "listen 127.0.0.1:8080;", ""},
		{"keeps nginx variables", "proxy_set_header Host $host; set $x ${PORT};", "proxy_set_header Host $host; set $x 8080;", ""},
		{"keeps lower-case braces", "${host}", "${host}", ""},
		{"empty value is a value", "a${EMPTY}b", "ab", ""},
		{"reports every unset name", "${NOPE} ${ALSO_NOPE} ${NOPE}", "", "unset variables: ALSO_NOPE, NOPE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Render(tc.in, env)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Render = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestRenderFile_ReportsChangeOnlyWhenContentChanges(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "in.tmpl"), filepath.Join(dir, "out", "conf")
	if err := os.WriteFile(src, []byte("v=${V}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, step := range []struct {
		v       string
		changed bool
	}{{"1", true}, {"1", false}, {"2", true}} {
		changed, err := RenderFile(src, dst, Env{"V": step.v})
		if err != nil || changed != step.changed {
			t.Fatalf("step %d: changed = %v, %v; want %v", i, changed, err, step.changed)
		}
		if b, _ := os.ReadFile(dst); string(b) != "v="+step.v+"\n" {
			t.Fatalf("step %d: rendered %q", i, b)
		}
	}
}

func TestParseEnvFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	content := "# comment\n\nA=1\nexport B = two words \nC=\"quoted # not a comment\"\nD='single'\nE=\n"
	if err := os.WriteFile(good, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	env, err := ParseEnvFile(good)
	if err != nil {
		t.Fatal(err)
	}
	want := Env{"A": "1", "B": "two words", "C": "quoted # not a comment", "D": "single", "E": ""}
	if strings.Join(env.List(), "|") != strings.Join(want.List(), "|") {
		t.Fatalf("got %v, want %v", env, want)
	}
	missing, err := ParseEnvFile(filepath.Join(dir, "absent"))
	if err != nil || len(missing) != 0 {
		t.Fatalf("missing file: %v, %v; want empty", missing, err)
	}
	bad := filepath.Join(dir, "bad")
	_ = os.WriteFile(bad, []byte("OK=1\n1BAD=2\n"), 0o644)
	if _, err := ParseEnvFile(bad); err == nil || !strings.Contains(err.Error(), ":2:") {
		t.Fatalf("bad line: err = %v, want one naming line 2", err)
	}
}

func TestResolveEnv_UserSettingsCannotMoveRunnerAddresses(t *testing.T) {
	t.Parallel()
	s, err := New(Options{Root: ".", State: t.TempDir(), Bin: t.TempDir(), PortOffset: 10000, Settings: Env{
		"MONGO_URI": "mongodb://elsewhere:1/", "ORDER_EXPIRATION_WINDOW": "12s", "NGINX_PORT": "18181",
	}})
	if err != nil {
		t.Fatal(err)
	}
	env := s.Env()
	for k, want := range map[string]string{
		"MONGO_URI":               "mongodb://127.0.0.1:37017/?maxPoolSize=8",
		"ORDER_EXPIRATION_WINDOW": "12s",
		"PUBLIC_URL":              "http://127.0.0.1:18181",
		"AUTH_UPSTREAM":           "127.0.0.1:14001",
		"KRATOS_PUBLIC_URL":       "http://127.0.0.1:14433",
	} {
		if env[k] != want {
			t.Errorf("%s = %q, want %q", k, env[k], want)
		}
	}
}

func TestPorts_NoTwoStacksCollide(t *testing.T) {
	t.Parallel()
	bases := []int{portNginx, portKratosPub, portKratosAdmin, portKetoRead, portKetoWrite, portKetoOPL,
		portKetoMetrics, portMongo, portAMQP, portErlDist, portEPMD, portRedis, portPostgres, portStripe}
	for i := range Services {
		bases = append(bases, portService+i)
	}
	used := map[int]string{}
	for _, offset := range []int{0, TestPortOffset, 20000} {
		for _, b := range bases {
			p := b + offset
			if p > 65535 {
				t.Fatalf("port %d + offset %d is out of range", b, offset)
			}
			if other, ok := used[p]; ok {
				t.Fatalf("port %d (base %d, offset %d) collides with %s", p, b, offset, other)
			}
			used[p] = strings.Join([]string{"base", strconv.Itoa(b), "offset", strconv.Itoa(offset)}, " ")
		}
	}
}

func TestOthersCanTraverse(t *testing.T) {
	t.Parallel()
	// Not t.TempDir: the testing package makes its parent folder private.
	root, err := os.MkdirTemp("", "traverse")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(root) })
	open, closed := filepath.Join(root, "open"), filepath.Join(root, "closed")
	for dir, mode := range map[string]os.FileMode{open: 0o755, closed: 0o700} {
		if err := os.Mkdir(dir, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
	}
	_ = os.Chmod(root, 0o755)
	if !othersCanTraverse(filepath.Join(open, "state")) {
		t.Error("a state folder under world-traversable folders was refused")
	}
	if othersCanTraverse(filepath.Join(closed, "state")) {
		t.Error("a state folder under a private (0700) folder was accepted")
	}
}

func TestResolveEnv_OnlyTheRunnerMarksItsEnvironment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		profile  string
		settings Env
		want     Env
	}{
		{
			name:     "empty secrets get the development values",
			profile:  "test",
			settings: Env{"CURSOR_SECRET": ""},
			want: Env{config.RunnerVariable: "test", "CURSOR_SECRET": config.DevelopmentSecrets["CURSOR_SECRET"],
				"STRIPE_WEBHOOK_SECRET": config.DevelopmentSecrets["STRIPE_WEBHOOK_SECRET"]},
		},
		{
			name:     "a user's own secret wins",
			profile:  "dev",
			settings: Env{"CURSOR_SECRET": "my-own-cursor-secret-1234"},
			want:     Env{config.RunnerVariable: "dev", "CURSOR_SECRET": "my-own-cursor-secret-1234"},
		},
		{
			name:     ".env cannot choose the runner's mark",
			profile:  "bench",
			settings: Env{config.RunnerVariable: "production"},
			want:     Env{config.RunnerVariable: "bench"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := New(Options{Root: ".", State: t.TempDir(), Bin: t.TempDir(), Profile: tt.profile, Settings: tt.settings})
			if err != nil {
				t.Fatal(err)
			}
			env := s.Env()
			for k, want := range tt.want {
				if env[k] != want {
					t.Errorf("%s = %q, want %q", k, env[k], want)
				}
			}
		})
	}
}

func TestRenderAll_RefusesPublishedSecretsOutsideTheRunner(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	o, err := Profile("test", root, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	runner := s.Env()
	if err := RenderAll(root, t.TempDir(), runner); err != nil {
		t.Fatalf("RenderAll(the runner's environment) = %v, want it rendered", err)
	}
	// docker-compose's config service: the same values, without the mark.
	compose := runner.Merge()
	delete(compose, config.RunnerVariable)
	err = RenderAll(root, t.TempDir(), compose)
	for _, name := range []string{"AUTH_WEBHOOK_API_KEY", "KRATOS_CIPHER_SECRET", "KRATOS_COOKIE_SECRET"} {
		if err == nil || !strings.Contains(err.Error(), name+": holds a secret published") {
			t.Errorf("RenderAll(published %s, no runner) = %v, want it refused", name, err)
		}
	}
	own := compose.Merge()
	for name := range config.DevelopmentSecrets {
		own[name] = "own-" + strings.ToLower(name) + "-7c1e9a52b8d0f4"
	}
	if err := RenderAll(root, t.TempDir(), own); err != nil {
		t.Fatalf("RenderAll(own secrets, no runner) = %v, want it rendered", err)
	}
}

func TestRenderAll_TrustedProxiesBecomeRealIPDirectives(t *testing.T) {
	t.Parallel()
	tests := []struct {
		proxies string
		want    string
		wantErr bool
	}{
		{"", "", false},
		{"127.0.0.1", "set_real_ip_from 127.0.0.1;", false},
		{"10.0.0.0/8, fd00::/8", "set_real_ip_from 10.0.0.0/8;\n    set_real_ip_from fd00::/8;", false},
		{"10.0.0.1; include /etc/passwd", "", true},
		{"localhost", "", true},
	}
	for _, tt := range tests {
		env, err := withDerived(Env{"NGINX_TRUSTED_PROXIES": tt.proxies})
		if (err != nil) != tt.wantErr {
			t.Fatalf("%q: err = %v, want error %v", tt.proxies, err, tt.wantErr)
		}
		if err == nil && env["NGINX_SET_REAL_IP_FROM"] != tt.want {
			t.Errorf("%q: directives %q, want %q", tt.proxies, env["NGINX_SET_REAL_IP_FROM"], tt.want)
		}
	}
}
