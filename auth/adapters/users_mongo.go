package adapters

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/ticketing/ticketing/auth/domain"
	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/mongodb"
)

// UsersCollection holds auth's users.
// WARNING: a stored name; renaming it orphans existing data.
const UsersCollection = "users"

// emailIndex makes emails unique across users.
// WARNING: a stored name; renaming it creates a second index.
const emailIndex = "email_unique"

// userDocument is a user as stored: flat, _id the Kratos identity id.
type userDocument struct {
	ID        string    `bson:"_id"`
	Email     string    `bson:"email"`
	FirstName string    `bson:"firstName"`
	LastName  string    `bson:"lastName"`
	CreatedAt time.Time `bson:"createdAt"`
}

// MongoUserRepository stores users in Mongo, one document per user; the
// unique index on email enforces one user per email.
type MongoUserRepository struct {
	users *mongo.Collection
	now   func() time.Time
}

var _ domain.Repository = (*MongoUserRepository)(nil)

// NewMongoUserRepository returns the repository on db, creating its indexes
// if they are missing (creating an existing index is a no-op).
func NewMongoUserRepository(ctx context.Context, db *mongo.Database) (*MongoUserRepository, error) {
	users := db.Collection(UsersCollection)
	_, err := users.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "email", Value: 1}},
		Options: options.Index().SetName(emailIndex).SetUnique(true),
	})
	if err != nil {
		return nil, fmt.Errorf("create index %s on %s: %w", emailIndex, UsersCollection, err)
	}
	return &MongoUserRepository{users: users, now: time.Now}, nil
}

// Upsert writes the user's whole record by id. Two concurrent upserts of a
// new id can collide on _id (the loser gets a duplicate key error); the
// retry then finds the document and updates it. A duplicate key on the retry
// can only be the email.
func (r *MongoUserRepository) Upsert(ctx context.Context, u *domain.User) error {
	filter := bson.D{{Key: "_id", Value: u.ID()}}
	update := bson.D{
		{Key: "$set", Value: bson.D{
			{Key: "email", Value: u.Email()},
			{Key: "firstName", Value: u.Name().First},
			{Key: "lastName", Value: u.Name().Last},
		}},
		{Key: "$setOnInsert", Value: bson.D{{Key: "createdAt", Value: r.now().UTC().Truncate(time.Millisecond)}}},
	}
	opts := options.Update().SetUpsert(true)
	var err error
	for range 2 {
		if _, err = r.users.UpdateOne(ctx, filter, update, opts); !mongodb.IsDuplicateKey(err) {
			return mongodb.Error(err)
		}
	}
	return fmt.Errorf("upsert user %s: %w", u.ID(), domain.ErrEmailTaken)
}

// ByID returns the user with id.
func (r *MongoUserRepository) ByID(ctx context.Context, id string) (*domain.User, error) {
	return r.findOne(ctx, bson.D{{Key: "_id", Value: id}})
}

// ByEmail returns the user with the normalised email.
func (r *MongoUserRepository) ByEmail(ctx context.Context, email string) (*domain.User, error) {
	return r.findOne(ctx, bson.D{{Key: "email", Value: domain.NormalizeEmail(email)}})
}

// Delete removes the user with id.
func (r *MongoUserRepository) Delete(ctx context.Context, id string) error {
	_, err := r.users.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return mongodb.Error(err)
}

func (r *MongoUserRepository) findOne(ctx context.Context, filter bson.D) (*domain.User, error) {
	var doc userDocument
	err := r.users.FindOne(ctx, filter).Decode(&doc)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return nil, domain.ErrUserNotFound
	case err != nil:
		return nil, mongodb.Error(err)
	}
	u, err := domain.NewUser(doc.ID, doc.Email, domain.Name{First: doc.FirstName, Last: doc.LastName})
	if err != nil {
		return nil, apierr.Internal(fmt.Errorf("stored user %s is invalid: %w", doc.ID, err))
	}
	return u, nil
}
