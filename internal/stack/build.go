package stack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Tools are the external servers built with the go command from the
// modules pinned under tools/: binary name → package.
var Tools = []struct{ Name, Package string }{
	{"kratos", "github.com/ory/kratos"},
	{"keto", "github.com/ory/keto"},
	{"ferretdb", "."},
	{"stripe-mock", "github.com/stripe/stripe-mock"},
}

// buildAll builds the external servers whose pinned module changed (a
// stamp file records what each binary was built from) and the project's
// services (the go build cache makes an unchanged build take seconds).
func (s *Stack) buildAll(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, len(Tools)+1)
	for i, t := range Tools {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.buildTool(ctx, t.Name, t.Package)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return s.buildServices(ctx)
}

func (s *Stack) buildTool(ctx context.Context, name, pkg string) error {
	dir := filepath.Join(s.Root, "tools", name)
	stamp, err := treeStamp(dir)
	if err != nil {
		return err
	}
	out := s.bin(name)
	if old, err := os.ReadFile(out + ".stamp"); err == nil && string(old) == stamp {
		if _, err := os.Stat(out); err == nil {
			return nil
		}
	}
	s.logf("building %s from the Go module proxy (first build takes 1-2 minutes)", name)
	if err := s.goBuild(ctx, name, dir, []string{"GOWORK=off"}, "-o", out, pkg); err != nil {
		return err
	}
	return os.WriteFile(out+".stamp", []byte(stamp), 0o644)
}

func (s *Stack) buildServices(ctx context.Context) error {
	var pkgs []string
	for _, svc := range Services {
		if s.hasService(svc) {
			pkgs = append(pkgs, "./"+svc)
		}
	}
	if len(pkgs) == 0 {
		return nil
	}
	s.logf("building services: %s", strings.Join(pkgs, " "))
	return s.goBuild(ctx, "services", s.Root, nil, append([]string{"-o", s.Bin + "/"}, pkgs...)...)
}

// goBuild runs go build and reports progress every 15 s, so a cold build is
// never a silent minute.
func (s *Stack) goBuild(ctx context.Context, what, dir string, env []string, args ...string) error {
	start := time.Now()
	c := exec.CommandContext(ctx, "go", append([]string{"build"}, args...)...)
	c.Dir = dir
	c.Env = append(os.Environ(), append([]string{"GOTOOLCHAIN=local", "GOFLAGS=-buildvcs=false"}, env...)...)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(15 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				s.logf("still building %s (%s)", what, time.Since(start).Round(time.Second))
			}
		}
	}()
	out, err := c.CombinedOutput()
	close(done)
	if err != nil {
		return fmt.Errorf("go build %s: %w\n%s", what, err, out)
	}
	s.logf("built %s in %s", what, time.Since(start).Round(100*time.Millisecond))
	return nil
}

// treeStamp hashes the go.mod, go.sum and Go files of a tools folder.
func treeStamp(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		base := filepath.Base(path)
		if base != "go.mod" && base != "go.sum" && !strings.HasSuffix(base, ".go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", path, len(b))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
}
