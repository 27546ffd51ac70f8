// Package admin manages the admin group in Keto: Group:admin#members.
package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ticketing/ticketing/pkg/httpclient"
	"github.com/ticketing/ticketing/pkg/keto"
)

// Admins grants, revokes and lists admins.
type Admins struct {
	kratosAdmin string
	ketoRead    string
	http        *http.Client
	keto        *keto.Client
}

// New returns an Admins talking to Kratos' admin API and Keto.
func New(kratosAdminURL, ketoReadURL, ketoWriteURL string) (*Admins, error) {
	c := httpclient.New(10 * time.Second)
	k, err := keto.New(keto.Config{ReadURL: ketoReadURL, WriteURL: ketoWriteURL}, c)
	if err != nil {
		return nil, err
	}
	return &Admins{kratosAdmin: strings.TrimRight(kratosAdminURL, "/"), ketoRead: strings.TrimRight(ketoReadURL, "/"), http: c, keto: k}, nil
}

func membership(id string) keto.Tuple {
	g := keto.AdminGroup()
	return keto.Tuple{Namespace: g.Namespace, Object: g.Object, Relation: g.Relation, Subject: keto.User(id)}
}

// Grant makes the identity an admin; granting twice is harmless.
func (a *Admins) Grant(ctx context.Context, identityID string) error {
	return a.keto.WriteTuples(ctx, membership(identityID))
}

// Revoke removes the identity from the admins; revoking a non-admin is
// harmless.
func (a *Admins) Revoke(ctx context.Context, identityID string) error {
	return a.keto.DeleteTuples(ctx, membership(identityID))
}

// Resolve turns an email or an identity id into an identity id that exists
// in Kratos.
func (a *Admins) Resolve(ctx context.Context, who string) (string, error) {
	if uuid.Validate(who) == nil {
		if err := a.getJSON(ctx, "/admin/identities/"+who, &struct{}{}); err != nil {
			return "", fmt.Errorf("identity %s: %w", who, err)
		}
		return who, nil
	}
	if !strings.Contains(who, "@") {
		return "", fmt.Errorf("%q is neither an email nor an identity id", who)
	}
	var found []struct {
		ID string `json:"id"`
	}
	q := url.Values{"credentials_identifier": {strings.ToLower(strings.TrimSpace(who))}}
	if err := a.getJSON(ctx, "/admin/identities?"+q.Encode(), &found); err != nil {
		return "", err
	}
	if len(found) != 1 {
		return "", fmt.Errorf("no user signed up with %s", who)
	}
	return found[0].ID, nil
}

// List returns the identity ids of the admins.
func (a *Admins) List(ctx context.Context) ([]string, error) {
	g := keto.AdminGroup()
	q := url.Values{"namespace": {g.Namespace}, "object": {g.Object}, "relation": {g.Relation}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.ketoRead+"/relation-tuples?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("keto: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("keto: %s", resp.Status)
	}
	var out struct {
		Tuples []struct {
			SubjectSet *struct {
				Object string `json:"object"`
			} `json:"subject_set"`
		} `json:"relation_tuples"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	var ids []string
	for _, t := range out.Tuples {
		if t.SubjectSet != nil {
			ids = append(ids, t.SubjectSet.Object)
		}
	}
	return ids, nil
}

func (a *Admins) getJSON(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.kratosAdmin+path, nil)
	if err != nil {
		return err
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("kratos: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("kratos: %s", resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
