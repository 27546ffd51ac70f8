package adapters

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/ticketing/ticketing/auth/domain"
	"github.com/ticketing/ticketing/pkg/apierr"
)

// Kratos' message ids (github.com/ory/kratos/text) that auth maps.
const (
	msgInvalidCredentials            = 4000006
	msgDuplicateCredentials          = 4000007
	msgDuplicateCredentialsWithHints = 4000028
	msgPasswordPolicyViolation       = 4000005
	msgPasswordTooSimilar            = 4000031
	msgPasswordTooShort              = 4000032
	msgPasswordTooLong               = 4000033
	msgPasswordBreached              = 4000034
)

// uiText is a message in a Kratos flow's UI.
type uiText struct {
	ID   int    `json:"id"`
	Text string `json:"text"`
	Type string `json:"type"`
}

// refusedFlow is the part of a flow Kratos answers 400 with that says why.
type refusedFlow struct {
	UI struct {
		Messages []uiText `json:"messages"`
		Nodes    []struct {
			Attributes struct {
				Name string `json:"name"`
			} `json:"attributes"`
			Messages []uiText `json:"messages"`
		} `json:"nodes"`
	} `json:"ui"`
}

// flowRefusal maps Kratos' 400 answer to a flow submission: a taken email →
// 409 email_taken; wrong credentials → 400 invalid_credentials with no field;
// other messages → 400 validation_failed naming the field with Kratos'
// reason (password policy → "password", an invalid email → "email").
func flowRefusal(kind string, raw []byte) error {
	var flow refusedFlow
	if err := json.Unmarshal(raw, &flow); err != nil {
		return apierr.Internal(fmt.Errorf("kratos: decode refused %s flow: %w", kind, err))
	}
	var (
		fields  []apierr.FieldError
		general []string
	)
	add := func(node string, m uiText) {
		if m.Type != "error" {
			return
		}
		switch m.ID {
		case msgDuplicateCredentials, msgDuplicateCredentialsWithHints, msgInvalidCredentials:
			return // decided below, whatever the node
		case msgPasswordPolicyViolation, msgPasswordTooSimilar, msgPasswordTooShort, msgPasswordTooLong, msgPasswordBreached:
			node = "password"
		}
		if field := fieldOf(node); field != "" {
			fields = append(fields, apierr.Field(field, m.Text))
		} else {
			general = append(general, m.Text)
		}
	}
	ids := make(map[int]bool)
	for _, m := range flow.UI.Messages {
		ids[m.ID] = true
		add("", m)
	}
	for _, n := range flow.UI.Nodes {
		for _, m := range n.Messages {
			ids[m.ID] = true
			add(n.Attributes.Name, m)
		}
	}

	switch {
	case ids[msgDuplicateCredentials] || ids[msgDuplicateCredentialsWithHints]:
		return domain.ErrEmailTaken
	case ids[msgInvalidCredentials]:
		return domain.ErrInvalidCredentials
	case len(fields) > 0:
		return apierr.Validation(fields...)
	case len(general) > 0:
		return apierr.Invalid(kind+"_refused", strings.Join(general, " "))
	}
	return apierr.Internal(fmt.Errorf("kratos: refused %s flow without an error message: %.512s", kind, raw))
}

// fieldOf names the API field behind a Kratos UI node ("traits.email" →
// "email", "identifier" → "email", "traits.name.first" → "name.first").
func fieldOf(node string) string {
	switch node {
	case "", "csrf_token", "method":
		return ""
	case "identifier":
		return "email"
	}
	return strings.TrimPrefix(node, "traits.")
}

// webhookConflict reports whether Kratos' 502 answer to a flow says that a
// web hook answered 409. Kratos v1.3.1 passes on no more of a failed web
// hook's answer than its status, in error.message.
func webhookConflict(raw []byte) bool {
	var answer struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	return json.Unmarshal(raw, &answer) == nil &&
		answer.Error.Message == fmt.Sprintf("webhook failed with status code %d", http.StatusConflict)
}
