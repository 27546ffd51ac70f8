package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/ticketing/pkg/keto"
)

// RawInserts measures single-document inserts into the same Mongo-protocol
// server the services use, with the same driver, at the given concurrency:
// the ceiling every write of the project shares. The documents are shaped
// like an order.
func (t *Target) RawInserts(ctx context.Context, workers int, d time.Duration) Result {
	coll := t.Mongo.Database("loadgen").Collection("raw")
	return ClosedLoop(ctx, fmt.Sprintf("raw inserts ×%d", workers), workers, d, 0, func(ctx context.Context, w, i int) (int, error) {
		_, err := coll.InsertOne(ctx, bson.M{
			"_id": primitive.NewObjectID(), "userId": fmt.Sprintf("user-%d", w), "status": "created",
			"ticket":    bson.M{"id": primitive.NewObjectID().Hex(), "title": "Raw insert", "price": 1000, "currency": "usd", "version": 0},
			"expiresAt": time.Now().Add(15 * time.Minute), "createdAt": time.Now(), "version": 0,
		})
		if err != nil {
			return 0, err
		}
		return http.StatusCreated, nil
	})
}

// Trivial measures nginx in front of a handler that does no work (a
// service's liveness answer): the ceiling of any request through the
// public entry.
func (t *Target) Trivial(ctx context.Context, workers int, d time.Duration) Result {
	return ClosedLoop(ctx, fmt.Sprintf("nginx → trivial handler ×%d", workers), workers, d, 0, func(ctx context.Context, w, i int) (int, error) {
		return t.API.Do(ctx, "GET", "/api/tickets/healthz", "", nil, nil)
	})
}

// Whoami measures Kratos' session check, the call behind every
// authenticated request whose session is not cached.
func (t *Target) Whoami(ctx context.Context, users []User, workers int, d time.Duration) Result {
	return ClosedLoop(ctx, fmt.Sprintf("Kratos whoami ×%d", workers), workers, d, 0, func(ctx context.Context, w, i int) (int, error) {
		req, err := http.NewRequestWithContext(ctx, "GET", t.KratosURL+"/sessions/whoami", nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("X-Session-Token", users[i%len(users)].Token)
		resp, err := t.direct.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	})
}

// KetoChecks measures the permission check an order makes (may this buyer
// order that ticket?), with the project's Keto client.
func (t *Target) KetoChecks(ctx context.Context, users []User, tickets []Ticket, workers int, d time.Duration) Result {
	return ClosedLoop(ctx, fmt.Sprintf("Keto checks ×%d", workers), workers, d, 0, func(ctx context.Context, w, i int) (int, error) {
		tk, u := tickets[i%len(tickets)], users[i%len(users)]
		if _, err := t.Keto.Check(ctx, "Ticket", tk.ID, "order", keto.User(u.ID)); err != nil {
			return 0, err
		}
		return http.StatusOK, nil
	})
}

// KetoWrites measures the tuple write an order makes: its owner, its
// parent ticket and the admins, in one call.
func (t *Target) KetoWrites(ctx context.Context, users []User, workers int, d time.Duration) Result {
	return ClosedLoop(ctx, fmt.Sprintf("Keto tuple writes (3 tuples a call) ×%d", workers), workers, d, 0, func(ctx context.Context, w, i int) (int, error) {
		id := primitive.NewObjectID().Hex()
		err := t.Keto.WriteTuples(ctx,
			keto.Tuple{Namespace: "Order", Object: id, Relation: "owners", Subject: keto.User(users[i%len(users)].ID)},
			keto.Tuple{Namespace: "Order", Object: id, Relation: "parents", Subject: keto.Subject{Namespace: "Ticket", Object: primitive.NewObjectID().Hex()}},
			keto.Tuple{Namespace: "Order", Object: id, Relation: "admins", Subject: keto.AdminGroup()},
		)
		if err != nil {
			return 0, err
		}
		return http.StatusOK, nil
	})
}
