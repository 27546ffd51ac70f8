package config_test

import (
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ticketing/ticketing/pkg/config"
)

type shared struct {
	TTL time.Duration `env:"SESSION_CACHE_TTL" default:"2s" validate:"min=0s,max=5s"`
}

type serviceConfig struct {
	Shared   shared
	Addr     string        `env:"HTTP_ADDR" default:":4000"`
	MongoURI string        `env:"MONGO_URI,required"`
	Workers  int           `env:"WORKERS" default:"4" validate:"min=1,max=64"`
	Debug    bool          `env:"DEBUG"`
	Origins  []string      `env:"CORS_ALLOWED_ORIGINS" validate:"url"`
	Key      string        `env:"AUTH_WEBHOOK_API_KEY,required" validate:"min=16"`
	Mode     string        `env:"MODE" default:"fast" validate:"oneof=fast|safe"`
	Level    slog.Level    `env:"LOG_LEVEL" default:"info"`
	Timeout  time.Duration `env:"TIMEOUT"`
}

func env(kv ...string) config.Lookup {
	m := make(map[string]string)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

func TestLoadFrom_FillsFieldsFromEnvAndDefaults(t *testing.T) {
	t.Parallel()
	var got serviceConfig
	err := config.LoadFrom(&got, env(
		"MONGO_URI", "mongodb://127.0.0.1:27017/",
		"AUTH_WEBHOOK_API_KEY", "0123456789abcdef",
		"CORS_ALLOWED_ORIGINS", "http://localhost:3000, https://example.com\thttp://a.test",
		"DEBUG", "true",
		"LOG_LEVEL", "debug",
		"SESSION_CACHE_TTL", "5s",
		"TIMEOUT", " 150ms ",
		"WORKERS", "",
	))
	if err != nil {
		t.Fatalf("LoadFrom() error = %v", err)
	}
	want := serviceConfig{
		Shared:   shared{TTL: 5 * time.Second},
		Addr:     ":4000",
		MongoURI: "mongodb://127.0.0.1:27017/",
		Workers:  4,
		Debug:    true,
		Origins:  []string{"http://localhost:3000", "https://example.com", "http://a.test"},
		Key:      "0123456789abcdef",
		Mode:     "fast",
		Level:    slog.LevelDebug,
		Timeout:  150 * time.Millisecond,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LoadFrom() =\n%+v\nwant\n%+v", got, want)
	}
}

func TestLoadFrom_ReportsEveryProblemNamingVariableAndRule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  config.Lookup
		want []string
	}{
		{
			name: "missing required variables, all at once",
			env:  env(),
			want: []string{
				"config: MONGO_URI: required but not set",
				"config: AUTH_WEBHOOK_API_KEY: required but not set",
			},
		},
		{
			name: "empty counts as unset",
			env:  env("MONGO_URI", "  ", "AUTH_WEBHOOK_API_KEY", "0123456789abcdef"),
			want: []string{"config: MONGO_URI: required but not set"},
		},
		{
			name: "rules and parse errors together",
			env: env(
				"MONGO_URI", "mongodb://x",
				"AUTH_WEBHOOK_API_KEY", "short-secret",
				"SESSION_CACHE_TTL", "9s",
				"WORKERS", "many",
				"DEBUG", "yes please",
				"CORS_ALLOWED_ORIGINS", "http://ok.test ftp://files.test",
				"MODE", "turbo",
				"LOG_LEVEL", "loud",
				"TIMEOUT", "10",
			),
			want: []string{
				`config: SESSION_CACHE_TTL: must be a duration ≤ 5s, got "9s"`,
				`config: WORKERS: must be an integer, got "many"`,
				`config: DEBUG: must be true or false, got "yes please"`,
				`config: CORS_ALLOWED_ORIGINS: must be an absolute http or https URL, got "ftp://files.test"`,
				`config: AUTH_WEBHOOK_API_KEY: must be at least 16 characters long, got 12`,
				`config: MODE: must be one of fast, safe, got "turbo"`,
				`config: LOG_LEVEL: invalid value "loud"`,
				`config: TIMEOUT: must be a duration such as 2s or 150ms, got "10"`,
			},
		},
		{
			name: "bounds",
			env:  env("MONGO_URI", "m", "AUTH_WEBHOOK_API_KEY", "0123456789abcdef", "SESSION_CACHE_TTL", "-1s", "WORKERS", "65"),
			want: []string{
				`config: SESSION_CACHE_TTL: must be a duration ≥ 0s, got "-1s"`,
				`config: WORKERS: must be an integer ≤ 64, got "65"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var cfg serviceConfig
			err := config.LoadFrom(&cfg, tt.env)
			if err == nil {
				t.Fatal("LoadFrom() error = nil, want problems")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Errorf("got %d problems, want %d:\n%s", len(lines), len(tt.want), err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%s", w, err)
				}
			}
		})
	}
}

func TestLoadFrom_SecretsAreNotEchoed(t *testing.T) {
	t.Parallel()
	var cfg serviceConfig
	err := config.LoadFrom(&cfg, env("MONGO_URI", "m", "AUTH_WEBHOOK_API_KEY", "hunter2"))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error = %v, want a problem that does not show the secret", err)
	}
}

type crossChecked struct {
	Min int `env:"MIN" default:"1"`
	Max int `env:"MAX" default:"2"`
}

func (c *crossChecked) Validate() error {
	if c.Min > c.Max {
		return errors.New("MIN must not exceed MAX")
	}
	return nil
}

func TestLoadFrom_RunsValidateHook(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     config.Lookup
		wantErr string
	}{
		{"valid", env("MIN", "1", "MAX", "3"), ""},
		{"hook fails", env("MIN", "5", "MAX", "3"), "config: MIN must not exceed MAX"},
		{"hook skipped when fields fail", env("MIN", "x"), `config: MIN: must be an integer, got "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var cfg crossChecked
			err := config.LoadFrom(&cfg, tt.env)
			if got := errString(err); got != tt.wantErr {
				t.Errorf("error = %q, want %q", got, tt.wantErr)
			}
		})
	}
}

func TestLoadFrom_RejectsProgrammerErrors(t *testing.T) {
	t.Parallel()
	type badTag struct {
		X string `env:"X,optional"`
	}
	type requiredWithDefault struct {
		X string `env:"X,required" default:"x"`
	}
	type unsupported struct {
		X float64 `env:"X" default:"1.5"`
	}
	type unknownRule struct {
		X string `env:"X" default:"x" validate:"uuid"`
	}
	type unexported struct {
		//lint:ignore U1000 the test needs an unexported tagged field
		x string `env:"X"`
	}
	tests := []struct {
		name    string
		dst     any
		wantErr string
	}{
		{"not a pointer", badTag{}, "destination must be a non-nil pointer to a struct"},
		{"malformed tag", &badTag{}, `malformed env tag "X,optional"`},
		{"required with default", &requiredWithDefault{}, "a required variable cannot have a default"},
		{"unsupported type", &unsupported{}, "unsupported field type float64"},
		{"unknown rule", &unknownRule{}, `unknown validate rule "uuid"`},
		{"unexported", &unexported{}, "is not exported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := config.LoadFrom(tt.dst, env("X", "1"))
			if !strings.Contains(errString(err), tt.wantErr) {
				t.Errorf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoad_ReadsTheProcessEnvironment(t *testing.T) {
	t.Setenv("CONFIG_TEST_VALUE", "from-env")
	var cfg struct {
		Value string `env:"CONFIG_TEST_VALUE,required"`
	}
	if err := config.Load(&cfg); err != nil || cfg.Value != "from-env" {
		t.Errorf("Load() = %q, %v; want from-env", cfg.Value, err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

type secretConfig struct {
	Secret string `env:"CURSOR_SECRET,required" validate:"min=16,secret"`
}

func TestLoadFrom_RefusesPublishedSecretsOutsideTheStackRunner(t *testing.T) {
	t.Parallel()
	published := config.DevelopmentSecrets["CURSOR_SECRET"]
	refused := "config: CURSOR_SECRET: holds a secret published in the ticketing repository"
	tests := []struct {
		name    string
		env     config.Lookup
		wantErr string
	}{
		{"published, no runner", env("CURSOR_SECRET", published), refused},
		{"published, unknown runner profile", env("CURSOR_SECRET", published, config.RunnerVariable, "production"), refused},
		{"another service's published secret", env("CURSOR_SECRET", config.DevelopmentSecrets["AUTH_WEBHOOK_API_KEY"]), refused},
		{"retired example", env("CURSOR_SECRET", "0123456789abcdef-cursor"), refused},
		{"published, dev profile", env("CURSOR_SECRET", published, config.RunnerVariable, "dev"), ""},
		{"published, test profile", env("CURSOR_SECRET", published, config.RunnerVariable, "test"), ""},
		{"published, bench profile", env("CURSOR_SECRET", published, config.RunnerVariable, "bench"), ""},
		{"own secret, no runner", env("CURSOR_SECRET", "q9V7xT2mL4pR8sK1wZ6nB3cF"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var cfg secretConfig
			err := config.LoadFrom(&cfg, tt.env)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("LoadFrom() error = %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("LoadFrom() error = %v, want %q", err, tt.wantErr)
			case err != nil && strings.Contains(err.Error(), published):
				t.Fatalf("the error echoes the secret: %v", err)
			}
		})
	}
}

func TestPublished_CoversEveryDevelopmentSecret(t *testing.T) {
	t.Parallel()
	if len(config.DevelopmentSecrets) < 5 {
		t.Fatalf("DevelopmentSecrets has %d entries, want the five secrets of the stack runner", len(config.DevelopmentSecrets))
	}
	for name, v := range config.DevelopmentSecrets {
		if !config.Published(v) {
			t.Errorf("Published(%s's development value) = false", name)
		}
	}
	if config.Published("a-secret-nobody-published-0042") {
		t.Error("Published(an unpublished value) = true")
	}
}
