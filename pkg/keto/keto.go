// Package keto checks permissions and writes relationships in Ory Keto.
//
// Subjects are always subject sets (docs/architecture.md, "Permissions"): a
// user is User:<uuid> (empty relation), the admins are Group:admin#members.
// Checks go to Keto's read API, writes to its write API, each batch of tuples
// in one PATCH.
package keto

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	ory "github.com/ory/client-go"

	"github.com/ticketing/ticketing/pkg/apierr"
)

// Config is the Keto part of a service's configuration.
type Config struct {
	ReadURL  string `env:"KETO_READ_URL,required" validate:"url"`
	WriteURL string `env:"KETO_WRITE_URL,required" validate:"url"`
}

// Subject is a subject set: the members of Namespace:Object#Relation, or,
// with an empty Relation, the object itself (User:<id>).
type Subject struct {
	Namespace string
	Object    string
	Relation  string
}

// String renders the subject as Keto writes it: "User:<id>",
// "Group:admin#members".
func (s Subject) String() string {
	if s.Relation == "" {
		return s.Namespace + ":" + s.Object
	}
	return s.Namespace + ":" + s.Object + "#" + s.Relation
}

// User is the subject of the user with Kratos identity id.
func User(id string) Subject {
	return Subject{Namespace: "User", Object: id}
}

// AdminGroup is the subject of every admin: the members of Group:admin.
func AdminGroup() Subject {
	return Subject{Namespace: "Group", Object: "admin", Relation: "members"}
}

// Tuple is one relationship: Subject has Relation to Namespace:Object.
type Tuple struct {
	Namespace string
	Object    string
	Relation  string
	Subject   Subject
}

// String renders the tuple as Keto writes it:
// "Ticket:<id>#owners@User:<id>".
func (t Tuple) String() string {
	return t.Namespace + ":" + t.Object + "#" + t.Relation + "@" + t.Subject.String()
}

// Client talks to Keto's read and write APIs. It is safe for concurrent use.
type Client struct {
	read     *ory.APIClient
	write    *ory.APIClient
	http     *http.Client
	readyURL string
	writes   *batcher
}

// New returns a client for the Keto at cfg, calling it with httpClient (see
// package httpclient).
func New(cfg Config, httpClient *http.Client) (*Client, error) {
	read, err := url.Parse(cfg.ReadURL)
	if err != nil || read.Host == "" {
		return nil, fmt.Errorf("keto: invalid read URL %q", cfg.ReadURL)
	}
	if u, err := url.Parse(cfg.WriteURL); err != nil || u.Host == "" {
		return nil, fmt.Errorf("keto: invalid write URL %q", cfg.WriteURL)
	}
	c := &Client{
		read:     newAPIClient(cfg.ReadURL, httpClient),
		write:    newAPIClient(cfg.WriteURL, httpClient),
		http:     httpClient,
		readyURL: read.JoinPath("health", "ready").String(),
	}
	c.writes = newBatcher(func(ctx context.Context, t []Tuple) error { return c.patch(ctx, "insert", t) }, writeCalls, writeTimeout)
	return c, nil
}

func newAPIClient(baseURL string, httpClient *http.Client) *ory.APIClient {
	cfg := ory.NewConfiguration()
	cfg.Servers = ory.ServerConfigurations{{URL: baseURL}}
	cfg.HTTPClient = httpClient
	cfg.UserAgent = "ticketing"
	return ory.NewAPIClient(cfg)
}

// Check reports whether subject has relation (or permission) on
// namespace:object. An unknown namespace is not an error: Keto answers
// false.
func (c *Client) Check(ctx context.Context, namespace, object, relation string, subject Subject) (bool, error) {
	body := ory.PostCheckPermissionBody{
		Namespace:  &namespace,
		Object:     &object,
		Relation:   &relation,
		SubjectSet: ory.NewSubjectSet(subject.Namespace, subject.Object, subject.Relation),
	}
	result, resp, err := c.read.PermissionAPI.PostCheckPermission(ctx).PostCheckPermissionBody(body).Execute()
	if err != nil {
		return false, callError("check "+namespace+":"+object+"#"+relation+"@"+subject.String(), resp, err)
	}
	return result.Allowed, nil
}

// Tuple writes: at most writeCalls calls at once, each within writeTimeout;
// concurrent writes beyond that share calls.
const (
	writeCalls   = 4
	writeTimeout = 10 * time.Second
)

// WriteTuples inserts tuples, returning once Keto stored them. Concurrent
// writes share calls when Keto is busy (one PATCH carries several callers'
// tuples, all stored or none). Inserting an existing tuple is not an error.
func (c *Client) WriteTuples(ctx context.Context, tuples ...Tuple) error {
	if len(tuples) == 0 {
		return nil
	}
	return c.writes.write(ctx, tuples)
}

// DeleteTuples deletes tuples in one call; deleting a missing tuple is not an
// error.
func (c *Client) DeleteTuples(ctx context.Context, tuples ...Tuple) error {
	return c.patch(ctx, "delete", tuples)
}

func (c *Client) patch(ctx context.Context, action string, tuples []Tuple) error {
	if len(tuples) == 0 {
		return nil
	}
	patches := make([]ory.RelationshipPatch, len(tuples))
	for i, t := range tuples {
		rel := ory.NewRelationship(t.Namespace, t.Object, t.Relation)
		rel.SubjectSet = ory.NewSubjectSet(t.Subject.Namespace, t.Subject.Object, t.Subject.Relation)
		patches[i] = ory.RelationshipPatch{Action: &action, RelationTuple: rel}
	}
	resp, err := c.write.RelationshipAPI.PatchRelationships(ctx).RelationshipPatch(patches).Execute()
	if err != nil {
		return callError(fmt.Sprintf("%s %d tuples (first %s)", action, len(tuples), tuples[0]), resp, err)
	}
	return nil
}

// Ready reports whether Keto is ready to serve (GET /health/ready on the read
// API), for readiness checks.
func (c *Client) Ready(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.readyURL, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return apierr.Unavailable("Keto", err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		return apierr.Unavailable("Keto", fmt.Errorf("health/ready answered %s", resp.Status))
	}
	return nil
}

// callError maps a failed Keto call: no answer or a server error means Keto
// is unavailable (503); any other refusal means this service sent a bad
// request, a bug (500).
func callError(what string, resp *http.Response, err error) error {
	err = fmt.Errorf("keto: %s: %w", what, err)
	var apiErr *ory.GenericOpenAPIError
	if resp == nil || resp.StatusCode >= http.StatusInternalServerError || resp.StatusCode == http.StatusTooManyRequests {
		return apierr.Unavailable("Keto", err)
	}
	if errors.As(err, &apiErr) && len(apiErr.Body()) > 0 {
		err = fmt.Errorf("%w: %s", err, apiErr.Body())
	}
	return apierr.Internal(err)
}
