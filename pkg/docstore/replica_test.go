package docstore_test

import (
	"context"
	"fmt"
	"math/rand"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/ticketing/ticketing/pkg/docstore"
	"github.com/ticketing/ticketing/pkg/testenv"
)

type copyDoc struct {
	ID      string `bson:"_id"`
	Title   string `bson:"title"`
	Version int64  `bson:"version"`
}

func newReplica(t *testing.T) *docstore.Replica[copyDoc] {
	t.Helper()
	client, err := mongo.Connect(context.Background(), options.Client().ApplyURI(testenv.Require(t, "TEST_MONGO_URI")))
	if err != nil {
		t.Fatal(err)
	}
	db := client.Database(fmt.Sprintf("replica_test_%d", time.Now().UnixNano()))
	t.Cleanup(func() {
		_ = db.Drop(context.Background())
		_ = client.Disconnect(context.Background())
	})
	return docstore.NewReplica[copyDoc](db.Collection("copies"))
}

func TestReplica_AppliesOnlyNewerVersions(t *testing.T) {
	t.Parallel()
	r := newReplica(t)
	ctx := context.Background()
	steps := []struct {
		version int64
		applied bool
		title   string // stored title after the step
	}{
		{2, true, "v2"},  // first seen: stored even though 0 and 1 never came
		{1, false, "v2"}, // older: ignored
		{2, false, "v2"}, // duplicate: ignored
		{3, true, "v3"},  // newer: applied
		{0, false, "v3"},
	}
	for i, s := range steps {
		applied, err := r.Apply(ctx, "t1", s.version, &copyDoc{ID: "t1", Title: fmt.Sprintf("v%d", s.version), Version: s.version})
		if err != nil || applied != s.applied {
			t.Fatalf("step %d (v%d): applied %v, %v; want %v", i, s.version, applied, err, s.applied)
		}
		got, err := r.Get(ctx, "t1")
		if err != nil || got.Title != s.title {
			t.Fatalf("step %d: stored %+v, %v; want title %s", i, got, err, s.title)
		}
	}
}

func TestReplica_ConvergesOnTheNewestWhateverTheOrder(t *testing.T) {
	t.Parallel()
	r := newReplica(t)
	ctx := context.Background()
	versions := rand.Perm(30)
	var wg sync.WaitGroup
	for _, v := range append(versions, versions...) { // every version twice
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := r.Apply(ctx, "t1", int64(v), &copyDoc{ID: "t1", Title: fmt.Sprint(v), Version: int64(v)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, err := r.Get(ctx, "t1")
	if err != nil || got.Version != 29 || got.Title != "29" {
		t.Fatalf("after shuffled, duplicated delivery: %+v, %v; want version 29", got, err)
	}
}
