package adapters_test

import (
	"context"
	"slices"
	"testing"

	"github.com/ticketing/ticketing/pkg/keto"
	"github.com/ticketing/ticketing/tickets/adapters"
)

// recordingKeto records the calls a Keto client would receive.
type recordingKeto struct {
	writes [][]string
	checks []string
}

func (k *recordingKeto) WriteTuples(_ context.Context, tuples ...keto.Tuple) error {
	call := make([]string, len(tuples))
	for i, tu := range tuples {
		call[i] = tu.String()
	}
	k.writes = append(k.writes, call)
	return nil
}

func (k *recordingKeto) Check(_ context.Context, namespace, object, relation string, subject keto.Subject) (bool, error) {
	k.checks = append(k.checks, namespace+":"+object+"#"+relation+"@"+subject.String())
	return true, nil
}

func TestKetoPermissions_GrantsOwnerAndAdminsInOneCallAndChecksEdit(t *testing.T) {
	t.Parallel()
	k := &recordingKeto{}
	p := adapters.NewKetoPermissions(k)
	const ticket = "65f000000000000000000001"
	if err := p.GrantTicket(context.Background(), ticket, alice); err != nil {
		t.Fatal(err)
	}
	want := []string{"Ticket:" + ticket + "#owners@User:" + alice, "Ticket:" + ticket + "#admins@Group:admin#members"}
	if len(k.writes) != 1 || !slices.Equal(k.writes[0], want) {
		t.Errorf("writes %v, want one call with %v", k.writes, want)
	}
	if ok, err := p.CanEditTicket(context.Background(), ticket, bob); !ok || err != nil {
		t.Fatalf("CanEditTicket() = %v, %v", ok, err)
	}
	if wantCheck := "Ticket:" + ticket + "#edit@User:" + bob; !slices.Equal(k.checks, []string{wantCheck}) {
		t.Errorf("checks %v, want %s", k.checks, wantCheck)
	}
}
