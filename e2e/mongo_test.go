package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

var (
	mongoMu     sync.Mutex
	mongoClient *mongo.Client
)

// mongoDB opens a service's database directly, so that tests can check
// what was (and was not) written.
func mongoDB(t testing.TB, name string) *mongo.Database {
	t.Helper()
	mongoMu.Lock()
	defer mongoMu.Unlock()
	if mongoClient == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := mongo.Connect(ctx, options.Client().ApplyURI(stackEnv["TEST_MONGO_URI"]))
		if err != nil {
			t.Fatalf("mongo: %v", err)
		}
		mongoClient = c
	}
	return mongoClient.Database(name)
}

// reopenMongo gives the tests new connections after the database server
// restarted: the pooled ones died with it, and a write sent on one fails
// ("socket was unexpectedly closed") instead of being retried. The old
// client is closed when the test that restarted the server ends.
func reopenMongo(t testing.TB) {
	mongoMu.Lock()
	old := mongoClient
	mongoClient = nil
	mongoMu.Unlock()
	if old != nil {
		t.Cleanup(func() { _ = old.Disconnect(context.Background()) })
	}
}
