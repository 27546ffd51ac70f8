package e2e

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
)

// Registration spans Kratos (the identity) and auth (its copy, written by
// Kratos' after-registration web hook). These tests check that the two
// never disagree in a way a user notices: no identity is left in Kratos by
// a registration that failed, and a stale copy in auth never blocks one.

// kratosAdmin calls Kratos' admin API directly.
func kratosAdmin(t testing.TB, method, path string, body any) response {
	t.Helper()
	return doOnce(t, request{Method: method, Path: path, Body: body, Base: stackEnv["TEST_KRATOS_ADMIN_URL"]})
}

// identitiesWithEmail lists the ids of Kratos' identities that sign in
// with email.
func identitiesWithEmail(t testing.TB, email string) []string {
	t.Helper()
	var found []struct{ ID string }
	kratosAdmin(t, "GET", "/admin/identities?credentials_identifier="+url.QueryEscape(email), nil).
		wantStatus(t, http.StatusOK).decode(t, &found)
	ids := make([]string, len(found))
	for i, f := range found {
		ids[i] = f.ID
	}
	return ids
}

// moveEmail changes an identity's email with the admin API, as an
// administrator would; auth's copy is not told.
func moveEmail(t testing.TB, id, email string) {
	t.Helper()
	kratosAdmin(t, "PUT", "/admin/identities/"+id, map[string]any{
		"schema_id": "default", "state": "active", "traits": map[string]any{"email": email},
	}).wantStatus(t, http.StatusOK)
}

// authUser is auth's copy of the user with id, or nil.
func authUser(t testing.TB, filter bson.M) bson.M {
	t.Helper()
	var doc bson.M
	err := mongoDB(t, "auth").Collection("users").FindOne(context.Background(), filter).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// onSignUp posts Kratos' after-registration web hook to auth directly.
func onSignUp(t testing.TB, id, email string) response {
	t.Helper()
	return doOnce(t, request{Method: "POST", Path: "/api/users/on-sign-up", Base: stackEnv["TEST_AUTH_URL"],
		Headers: map[string]string{"X-Ory-API-Key": stackEnv["TEST_AUTH_WEBHOOK_API_KEY"]},
		Body:    map[string]any{"identity": map[string]any{"id": id, "traits": map[string]any{"email": email}}}})
}

// TestSignUp_EmailMovedAwayByAnAdminIsFree: an administrator changed an
// account's email in Kratos; auth's copy still has the old one. Registering
// the old email is no conflict: Kratos, the source of truth, has it free.
func TestSignUp_EmailMovedAwayByAnAdminIsFree(t *testing.T) {
	t.Parallel()
	first := signUp(t, "moved")
	moved := "moved-" + first.Email
	moveEmail(t, first.ID, moved)

	var out struct{ User struct{ ID string } }
	do(t, request{Method: "POST", Path: "/api/users/sign-up", Body: map[string]string{"email": first.Email, "password": goodPassword}}).
		wantStatus(t, http.StatusCreated).decode(t, &out)

	if ids := identitiesWithEmail(t, first.Email); len(ids) != 1 || ids[0] != out.User.ID {
		t.Fatalf("Kratos identities with %s: %v, want only the new one %s", first.Email, ids, out.User.ID)
	}
	if doc := authUser(t, bson.M{"email": first.Email}); doc == nil || doc["_id"] != out.User.ID {
		t.Fatalf("auth's holder of %s: %v, want %s", first.Email, doc, out.User.ID)
	}
	if doc := authUser(t, bson.M{"_id": first.ID}); doc == nil || doc["email"] != moved {
		t.Fatalf("auth's copy of the moved account: %v, want email %s", doc, moved)
	}
}

// TestOnSignUpWebhook_RecordsKratosCopy: the web hook takes only the id
// from its body and records the identity as Kratos has it now, so a
// replayed hook with an old body changes nothing, and one for an identity
// Kratos does not have records nothing.
func TestOnSignUpWebhook_RecordsKratosCopy(t *testing.T) {
	t.Parallel()
	first := signUp(t, "replay")
	moved := "moved-" + first.Email
	moveEmail(t, first.ID, moved)
	second := signUp(t, "replay-second")
	moveEmail(t, second.ID, first.Email) // the old email, now another account's
	onSignUp(t, second.ID, second.Email).wantStatus(t, http.StatusOK)

	// The first account's registration hook, replayed with its old email.
	onSignUp(t, first.ID, first.Email).wantStatus(t, http.StatusOK)
	if doc := authUser(t, bson.M{"_id": first.ID}); doc == nil || doc["email"] != moved {
		t.Fatalf("after the replay, auth's copy of %s: %v, want email %s", first.ID, doc, moved)
	}
	if doc := authUser(t, bson.M{"email": first.Email}); doc == nil || doc["_id"] != second.ID {
		t.Fatalf("after the replay, %s is held by %v, want %s", first.Email, doc, second.ID)
	}
	if ids := identitiesWithEmail(t, moved); len(ids) != 1 || ids[0] != first.ID {
		t.Fatalf("the replay touched the first identity: %v", ids)
	}

	unknown := "0b5e7c1e-5a5e-4c1e-9d7e-0000" + first.ID[len(first.ID)-8:]
	onSignUp(t, unknown, uniqueEmail("ghost")).wantError(t, http.StatusNotFound, "identity_not_found", "")
	if doc := authUser(t, bson.M{"_id": unknown}); doc != nil {
		t.Fatalf("a hook for an identity Kratos does not have recorded %v", doc)
	}
}

// TestFaults_SignUpWhileAuthDatabaseIsDownLeavesNoIdentity: the web hook
// cannot record the user, so the registration fails; the identity Kratos
// had already saved is removed, and the same email registers once the
// database is back. Like the other fault tests it runs alone.
func TestFaults_SignUpWhileAuthDatabaseIsDownLeavesNoIdentity(t *testing.T) {
	email := uniqueEmail("db-down")
	restore := outage(t, "ferretdb")
	do(t, request{Method: "POST", Path: "/api/users/sign-up", Body: map[string]string{"email": email, "password": goodPassword}}).
		wantError(t, http.StatusServiceUnavailable, "dependency_unavailable", "")
	if ids := identitiesWithEmail(t, email); len(ids) != 0 {
		t.Fatalf("the failed registration left identities %v in Kratos", ids)
	}
	restore()
	do(t, request{Method: "POST", Path: "/api/users/sign-up", Body: map[string]string{"email": email, "password": goodPassword}}).
		wantStatus(t, http.StatusCreated)
}
