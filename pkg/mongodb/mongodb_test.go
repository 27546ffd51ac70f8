package mongodb_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/x/mongo/driver/topology"

	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/mongodb"
	"github.com/ticketing/ticketing/pkg/testenv"
)

func TestError_MapsDriverFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want int // 0: nil
	}{
		{"nil", nil, 0},
		{"deadline", fmt.Errorf("find: %w", context.DeadlineExceeded), 503},
		{"disconnected", mongo.ErrClientDisconnected, 503},
		{"network", mongo.CommandError{Code: 6, Labels: []string{"NetworkError"}}, 503},
		{"handshake refused", topology.ConnectionError{Wrapped: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}, 503},
		{"command failure", mongo.CommandError{Code: 2, Message: "bad value"}, 500},
		{"anything else", errors.New("boom"), 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := mongodb.Error(tt.err)
			if tt.want == 0 {
				if err != nil {
					t.Errorf("Error(nil) = %v", err)
				}
				return
			}
			if got := apierr.Status(err); got != tt.want {
				t.Errorf("status %d, want %d (%v)", got, tt.want, err)
			}
			if !strings.Contains(err.Error(), tt.err.Error()) {
				t.Errorf("cause lost: %v", err)
			}
		})
	}
}

func TestConnect_UnreachableServerIs503WithinTheURITimeout(t *testing.T) {
	t.Parallel()
	client, err := mongodb.Connect("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	start := time.Now()
	err = mongodb.Ping(client)(context.Background())
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("ping took %s, want the URI's 200ms server selection timeout", elapsed)
	}
	if got := apierr.Status(mongodb.Error(err)); got != 503 {
		t.Errorf("ping error %v maps to %d, want 503", err, got)
	}
}

func TestPing_RealServer(t *testing.T) {
	t.Parallel()
	client, err := mongodb.Connect(testenv.Require(t, "TEST_MONGO_URI"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	if err := mongodb.Ping(client)(context.Background()); err != nil {
		t.Errorf("Ping() = %v", err)
	}
}

func TestIsDuplicateKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"no error", nil, false},
		{"MongoDB duplicate key", mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 11000, Message: "E11000 duplicate key error"}}}, true},
		{"FerretDB update on PostgreSQL", mongo.CommandError{Code: 1, Name: "InternalError",
			Message: `ERROR: duplicate key value violates unique constraint "users_email_unique_idx" (SQLSTATE 23505)`}, true},
		{"another command error", mongo.CommandError{Code: 1, Name: "InternalError", Message: "disk full"}, false},
		{"another error", errors.New("connection refused"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := mongodb.IsDuplicateKey(tc.err); got != tc.want {
				t.Errorf("IsDuplicateKey(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
