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
	mongoOnce   sync.Once
	mongoClient *mongo.Client
	mongoErr    error
)

// mongoDB opens a service's database directly, so that tests can check
// what was (and was not) written.
func mongoDB(t testing.TB, name string) *mongo.Database {
	t.Helper()
	mongoOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		mongoClient, mongoErr = mongo.Connect(ctx, options.Client().ApplyURI(stackEnv["TEST_MONGO_URI"]))
	})
	if mongoErr != nil {
		t.Fatalf("mongo: %v", mongoErr)
	}
	return mongoClient.Database(name)
}
