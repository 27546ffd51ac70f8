package adapters_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/ticketing/ticketing/auth/adapters"
	"github.com/ticketing/ticketing/auth/domain"
	"github.com/ticketing/ticketing/pkg/mongodb"
	"github.com/ticketing/ticketing/pkg/testenv"
)

// repositories are the implementations every repository test runs against.
func repositories(t *testing.T) map[string]domain.Repository {
	t.Helper()
	return map[string]domain.Repository{
		"memory": adapters.NewMemoryUserRepository(),
		"mongo":  newMongoRepository(t),
	}
}

// newMongoRepository returns a repository on a fresh database of the server
// at TEST_MONGO_URI, dropped after the test. Without TEST_MONGO_URI the test
// is skipped: it proves nothing then.
func newMongoRepository(t *testing.T) domain.Repository {
	t.Helper()
	if os.Getenv("TEST_MONGO_URI") == "" && os.Getenv("TEST_REQUIRE_SERVERS") == "" {
		return nil
	}
	client, err := mongodb.Connect(testenv.Require(t, "TEST_MONGO_URI"))
	if err != nil {
		t.Fatal(err)
	}
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	db := client.Database("auth_test_" + hex.EncodeToString(suffix[:]))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = db.Drop(ctx)
		_ = client.Disconnect(ctx)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	repo, err := adapters.NewMongoUserRepository(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	// Creating the indexes again, as every start-up does, is harmless.
	if _, err := adapters.NewMongoUserRepository(ctx, db); err != nil {
		t.Fatalf("second start-up: %v", err)
	}
	return repo
}

// forEachRepository runs test against every implementation; the Mongo one
// is skipped, visibly, without TEST_MONGO_URI.
func forEachRepository(t *testing.T, test func(t *testing.T, repo domain.Repository)) {
	for name, repo := range repositories(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if repo == nil {
				t.Skip("TEST_MONGO_URI is not set: the Mongo repository was NOT tested (make test sets it)")
			}
			test(t, repo)
		})
	}
}

func newUser(t *testing.T, email, first, last string) *domain.User {
	t.Helper()
	u, err := domain.NewUser(uuid.NewString(), email, domain.Name{First: first, Last: last})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func sameUser(a, b *domain.User) bool {
	return a.ID() == b.ID() && a.Email() == b.Email() && a.Name() == b.Name()
}

func TestRepository_UpsertThenReadBack(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, repo domain.Repository) {
		ctx := context.Background()
		u := newUser(t, "alice@example.com", "Alice", "Doe")
		if err := repo.Upsert(ctx, u); err != nil {
			t.Fatal(err)
		}
		for name, read := range map[string]func() (*domain.User, error){
			"by id":    func() (*domain.User, error) { return repo.ByID(ctx, u.ID()) },
			"by email": func() (*domain.User, error) { return repo.ByEmail(ctx, "  ALICE@example.com") },
		} {
			got, err := read()
			if err != nil || !sameUser(got, u) {
				t.Errorf("%s: got %+v, %v; want %+v", name, got, err, u)
			}
		}
	})
}

func TestRepository_UpsertByIDIsIdempotent(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, repo domain.Repository) {
		ctx := context.Background()
		u := newUser(t, "bob@example.com", "Bob", "")
		for i := range 3 {
			if err := repo.Upsert(ctx, u); err != nil {
				t.Fatalf("upsert %d: %v", i, err)
			}
		}
		got, err := repo.ByID(ctx, u.ID())
		if err != nil || !sameUser(got, u) {
			t.Fatalf("got %+v, %v", got, err)
		}
	})
}

func TestRepository_UpsertReplacesTheRecord(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, repo domain.Repository) {
		ctx := context.Background()
		u := newUser(t, "carol@example.com", "Carol", "Old")
		if err := repo.Upsert(ctx, u); err != nil {
			t.Fatal(err)
		}
		changed, err := domain.NewUser(u.ID(), "carol.new@example.com", domain.Name{})
		if err != nil {
			t.Fatal(err)
		}
		if err := repo.Upsert(ctx, changed); err != nil {
			t.Fatal(err)
		}
		got, err := repo.ByID(ctx, u.ID())
		if err != nil || !sameUser(got, changed) {
			t.Errorf("got %+v, %v; want %+v", got, err, changed)
		}
		if _, err := repo.ByEmail(ctx, "carol@example.com"); !errors.Is(err, domain.ErrUserNotFound) {
			t.Errorf("old email still found: %v", err)
		}
	})
}

// The same rule when a stored user's email changes to one another holds:
// the update path, which FerretDB on PostgreSQL reports differently from an
// insert.
func TestRepository_EmailChangeToATakenEmailIsRejected(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, repo domain.Repository) {
		ctx := context.Background()
		first, second := newUser(t, "erin@example.com", "", ""), newUser(t, "erin.other@example.com", "", "")
		for _, u := range []*domain.User{first, second} {
			if err := repo.Upsert(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		moved, err := domain.NewUser(second.ID(), "erin@example.com", domain.Name{})
		if err != nil {
			t.Fatal(err)
		}
		if err := repo.Upsert(ctx, moved); !errors.Is(err, domain.ErrEmailTaken) {
			t.Fatalf("upsert = %v, want ErrEmailTaken", err)
		}
		if got, err := repo.ByID(ctx, second.ID()); err != nil || !sameUser(got, second) {
			t.Errorf("second user is %+v, %v; want unchanged", got, err)
		}
	})
}

func TestRepository_SecondUserWithTheSameEmailIsRejected(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, repo domain.Repository) {
		ctx := context.Background()
		first := newUser(t, "dave@example.com", "", "")
		if err := repo.Upsert(ctx, first); err != nil {
			t.Fatal(err)
		}
		second := newUser(t, "DAVE@example.com", "Other", "")
		if err := repo.Upsert(ctx, second); !errors.Is(err, domain.ErrEmailTaken) {
			t.Fatalf("second upsert = %v, want ErrEmailTaken", err)
		}
		if _, err := repo.ByID(ctx, second.ID()); !errors.Is(err, domain.ErrUserNotFound) {
			t.Errorf("rejected user was stored: %v", err)
		}
		got, err := repo.ByEmail(ctx, "dave@example.com")
		if err != nil || !sameUser(got, first) {
			t.Errorf("email now held by %+v, %v; want the first user", got, err)
		}
	})
}

func TestRepository_ConcurrentUpsertsOfOneNewUserAllSucceed(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, repo domain.Repository) {
		ctx := context.Background()
		u := newUser(t, "erin@example.com", "Erin", "")
		const n = 8 // the sign-up handler and the web hook, and retries
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- repo.Upsert(ctx, u)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("concurrent upsert: %v", err)
			}
		}
		got, err := repo.ByID(ctx, u.ID())
		if err != nil || !sameUser(got, u) {
			t.Errorf("got %+v, %v", got, err)
		}
	})
}

func TestRepository_ConcurrentUsersWithOneEmailExactlyOneWins(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, repo domain.Repository) {
		ctx := context.Background()
		const n = 16
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			u := newUser(t, "frank@example.com", "", "")
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- repo.Upsert(ctx, u)
			}()
		}
		wg.Wait()
		close(errs)
		var won int
		for err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, domain.ErrEmailTaken):
				t.Errorf("unexpected error: %v", err)
			}
		}
		if won != 1 {
			t.Errorf("%d users got the email, want exactly 1", won)
		}
	})
}

func TestRepository_DeleteReleasesTheEmail(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, repo domain.Repository) {
		ctx := context.Background()
		old := newUser(t, "gina@example.com", "", "")
		if err := repo.Upsert(ctx, old); err != nil {
			t.Fatal(err)
		}
		for range 2 { // deleting a missing user is not an error
			if err := repo.Delete(ctx, old.ID()); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := repo.ByID(ctx, old.ID()); !errors.Is(err, domain.ErrUserNotFound) {
			t.Errorf("deleted user found: %v", err)
		}
		if err := repo.Upsert(ctx, newUser(t, "gina@example.com", "", "")); err != nil {
			t.Errorf("email not released: %v", err)
		}
	})
}

func TestRepository_UnknownUserIsNotFound(t *testing.T) {
	t.Parallel()
	forEachRepository(t, func(t *testing.T, repo domain.Repository) {
		ctx := context.Background()
		if _, err := repo.ByID(ctx, uuid.NewString()); !errors.Is(err, domain.ErrUserNotFound) {
			t.Errorf("ByID = %v", err)
		}
		if _, err := repo.ByEmail(ctx, "nobody@example.com"); !errors.Is(err, domain.ErrUserNotFound) {
			t.Errorf("ByEmail = %v", err)
		}
	})
}

// TestMongoRepository_StoresFlatDocuments checks the stored shape that other
// tools (and the next engineer) rely on.
func TestMongoRepository_StoresFlatDocuments(t *testing.T) {
	t.Parallel()
	client, err := mongodb.Connect(testenv.Require(t, "TEST_MONGO_URI"))
	if err != nil {
		t.Fatal(err)
	}
	db := client.Database("auth_test_shape_" + uuid.NewString()[:8])
	ctx := context.Background()
	t.Cleanup(func() { _ = db.Drop(ctx); _ = client.Disconnect(ctx) })
	repo, err := adapters.NewMongoUserRepository(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	u := newUser(t, "hank@example.com", "Hank", "Hill")
	if err := repo.Upsert(ctx, u); err != nil {
		t.Fatal(err)
	}
	var doc bson.M
	if err := db.Collection(adapters.UsersCollection).FindOne(ctx, bson.D{{Key: "_id", Value: u.ID()}}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	for field, want := range map[string]any{"_id": u.ID(), "email": "hank@example.com", "firstName": "Hank", "lastName": "Hill"} {
		if doc[field] != want {
			t.Errorf("%s = %v, want %v", field, doc[field], want)
		}
	}
	if _, ok := doc["createdAt"]; !ok {
		t.Error("createdAt missing")
	}
}
