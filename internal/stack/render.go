package stack

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/ticketing/ticketing/pkg/config"
)

// placeholder matches ${NAME} with an upper-case name. nginx's own variables
// are written $name and are never touched.
var placeholder = regexp.MustCompile(`\$\{([A-Z][A-Z0-9_]*)\}`)

// Templates are the configuration files rendered from the environment, by
// the local runner and by the config service of docker-compose alike.
var Templates = []struct{ Src, Dst string }{
	{"nginx/nginx.conf.tmpl", "nginx.conf"},
	{"ory/kratos/kratos.yml.tmpl", "kratos.yml"},
	{"ory/keto/keto.yml.tmpl", "keto.yml"},
}

// Render replaces every ${NAME} in text with env[NAME]. Every unset name is
// reported in one error, so a missing variable never reaches a server.
func Render(text string, env Env) (string, error) {
	missing := map[string]bool{}
	out := placeholder.ReplaceAllStringFunc(text, func(m string) string {
		name := placeholder.FindStringSubmatch(m)[1]
		v, ok := env[name]
		if !ok {
			missing[name] = true
		}
		return v
	})
	if len(missing) > 0 {
		names := make([]string, 0, len(missing))
		for n := range missing {
			names = append(names, n)
		}
		sort.Strings(names)
		return "", fmt.Errorf("unset variables: %s", strings.Join(names, ", "))
	}
	return out, nil
}

// RenderFile renders the template src into dst and reports whether dst
// changed, so that a server is restarted only when its configuration did.
func RenderFile(src, dst string, env Env) (changed bool, err error) {
	text, err := os.ReadFile(src)
	if err != nil {
		return false, err
	}
	out, err := Render(string(text), env)
	if err != nil {
		return false, fmt.Errorf("%s: %w", src, err)
	}
	if old, err := os.ReadFile(dst); err == nil && string(old) == out {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return false, err
	}
	return true, os.WriteFile(dst, []byte(out), 0o644)
}

// RenderAll renders every template of the repository at root into dir. It
// refuses to write a configuration that holds a published development secret
// (Kratos' cookie and cipher secrets, the sign-up web hook's key) unless the
// stack runner renders it: docker-compose's config service renders with the
// deployment's own environment, so Kratos never starts with them there.
func RenderAll(root, dir string, env Env) error {
	lookup := func(name string) (string, bool) { v, ok := env[name]; return v, ok }
	var refused []error
	for name := range config.DevelopmentSecrets {
		if v, ok := env[name]; ok {
			if err := config.CheckSecret(name, v, lookup); err != nil {
				refused = append(refused, err)
			}
		}
	}
	if len(refused) > 0 {
		return errors.Join(refused...)
	}
	env, err := withDerived(env)
	if err != nil {
		return err
	}
	for _, t := range Templates {
		if _, err := RenderFile(filepath.Join(root, t.Src), filepath.Join(dir, t.Dst), env); err != nil {
			return err
		}
	}
	return nil
}

// Derived are the template variables withDerived computes, each from the
// setting named: they are never set directly.
var Derived = map[string]string{"NGINX_SET_REAL_IP_FROM": "NGINX_TRUSTED_PROXIES"}

// withDerived adds the variables the templates need that are computed from
// settings: NGINX_SET_REAL_IP_FROM, one set_real_ip_from directive per
// address or CIDR range of NGINX_TRUSTED_PROXIES (space- or
// comma-separated; empty, the default, trusts no proxy). Each entry must
// parse, so a setting never injects anything else into nginx's
// configuration.
func withDerived(env Env) (Env, error) {
	var directives []string
	for _, p := range strings.FieldsFunc(env["NGINX_TRUSTED_PROXIES"], func(r rune) bool { return r == ',' || r == ' ' }) {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			return nil, fmt.Errorf("NGINX_TRUSTED_PROXIES: %q is not an IP address or CIDR range", p)
		}
		directives = append(directives, "set_real_ip_from "+p+";")
	}
	return env.Merge(Env{"NGINX_SET_REAL_IP_FROM": strings.Join(directives, "\n    ")}), nil
}
