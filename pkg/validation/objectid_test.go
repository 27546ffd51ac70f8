package validation_test

import (
	"net/http"
	"testing"

	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/validation"
)

func TestObjectID_AcceptsOnlyLowerCaseHex(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, id, problem string
	}{
		{"lower-case hex", "6b12ece5ec046a2ae31df2f8", ""},
		{"digits only", "012345678901234567890123", ""},
		{"upper case", "6B12ECE5EC046A2AE31DF2F8", validation.ObjectIDProblem},
		{"one upper-case digit", "6b12ece5ec046a2ae31df2fF", validation.ObjectIDProblem},
		{"too short", "6b12ece5ec046a2ae31df2f", validation.ObjectIDProblem},
		{"too long", "6b12ece5ec046a2ae31df2f80", validation.ObjectIDProblem},
		{"not hex", "6b12ece5ec046a2ae31df2fg", validation.ObjectIDProblem},
		{"Unicode digits", "６b12ece5ec046a2ae31df2f", validation.ObjectIDProblem},
		{"missing", "", "is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := validation.IsObjectID(tc.id); got != (tc.problem == "") {
				t.Errorf("IsObjectID(%q) = %v", tc.id, got)
			}
			err := validation.ObjectID("orderId", tc.id)
			if tc.problem == "" {
				if err != nil {
					t.Fatalf("ObjectID(%q) = %v", tc.id, err)
				}
				return
			}
			e, ok := apierr.As(err)
			if !ok || apierr.Status(err) != http.StatusBadRequest || e.Code != "validation_failed" ||
				len(e.Fields) != 1 || e.Fields[0] != apierr.Field("orderId", tc.problem) {
				t.Fatalf("ObjectID(%q) = %#v, want a 400 naming orderId: %q", tc.id, err, tc.problem)
			}
		})
	}
}
