package e2e

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ticketing/ticketing/internal/admin"
)

func TestAdminCommand_GrantsAndRevokesByEmail(t *testing.T) {
	t.Parallel()
	a, err := admin.New(stackEnv["TEST_KRATOS_ADMIN_URL"], stackEnv["TEST_KETO_READ_URL"], stackEnv["TEST_KETO_WRITE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u := signUp(t, "admin")
	for _, who := range []string{u.Email, u.ID} {
		id, err := a.Resolve(ctx, who)
		if err != nil || id != u.ID {
			t.Fatalf("Resolve(%s) = %s, %v; want %s", who, id, err, u.ID)
		}
	}
	if _, err := a.Resolve(ctx, uniqueEmail("nobody")); err == nil {
		t.Fatal("Resolve of an unknown email succeeded")
	}
	if err := a.Grant(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := a.Grant(ctx, u.ID); err != nil {
		t.Fatalf("granting twice: %v", err)
	}
	ids, err := a.List(ctx)
	if err != nil || !slices.Contains(ids, u.ID) {
		t.Fatalf("after grant, admins = %v (%v); want %s among them", ids, err, u.ID)
	}
	if err := a.Revoke(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	ids, err = a.List(ctx)
	if err != nil || slices.Contains(ids, u.ID) {
		t.Fatalf("after revoke, admins = %v (%v); want %s gone", ids, err, u.ID)
	}
}
