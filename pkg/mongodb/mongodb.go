// Package mongodb connects services to their Mongo database with bounded
// timeouts, and maps the driver's failures to the error vocabulary: the
// database being unreachable is a 503, never a hang or a 500.
package mongodb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/readpref"

	"github.com/ticketing/ticketing/pkg/apierr"
)

// OperationTimeout bounds every operation that has no earlier deadline.
const OperationTimeout = 5 * time.Second

// Connect returns a client for uri. It does not wait for the server: the
// first operation (or Ping) does, for at most OperationTimeout. Timeouts
// given in uri (serverSelectionTimeoutMS, timeoutMS, …) win over these
// defaults.
func Connect(uri string) (*mongo.Client, error) {
	opts := options.Client().
		SetConnectTimeout(3 * time.Second).
		SetServerSelectionTimeout(OperationTimeout).
		SetTimeout(OperationTimeout).
		ApplyURI(uri)
	client, err := mongo.Connect(context.Background(), opts)
	if err != nil {
		return nil, fmt.Errorf("mongodb: connect: %w", err)
	}
	return client, nil
}

// Ping returns a readiness check of client's primary.
func Ping(client *mongo.Client) func(context.Context) error {
	return func(ctx context.Context) error {
		return client.Ping(ctx, readpref.Primary())
	}
}

// IsDuplicateKey reports whether err is a unique index refusing a write.
// MongoDB says so with code 11000 for inserts and updates alike; FerretDB v1
// on PostgreSQL does for inserts, but an update that collides answers
// InternalError carrying PostgreSQL's unique violation (SQLSTATE 23505).
func IsDuplicateKey(err error) bool {
	return mongo.IsDuplicateKeyError(err) || err != nil && strings.Contains(err.Error(), "(SQLSTATE 23505)")
}

// Error maps a driver error for the error vocabulary: unreachable, timed out
// or disconnected → apierr.Unavailable naming the database (503); anything
// else → apierr.Internal (500). Adapters handle the errors that mean
// something to them (no documents, duplicate keys) before calling it.
//
// A connection the driver could not open carries no NetworkError label
// (while the server restarts, the driver still selects it and the dial in
// the handshake is refused), so a net.Error anywhere in the chain counts as
// unreachable too.
func Error(err error) error {
	if err == nil {
		return nil
	}
	var netErr net.Error
	if mongo.IsTimeout(err) || mongo.IsNetworkError(err) || errors.Is(err, mongo.ErrClientDisconnected) || errors.As(err, &netErr) {
		return apierr.Unavailable("the database", err)
	}
	return apierr.Internal(err)
}
