// Package passwords is the denylist of common passwords that auth refuses
// on every registration and password change, offline: common.txt, 17,950
// of the most common passwords, lower-cased, from the npm package
// @zxcvbn-ts/language-common (MIT, LICENSE.txt beside it; source, licence
// and how to regenerate it with scripts/passwords in docs/passwords.md).
package passwords

import (
	_ "embed"
	"strings"
	"sync"
)

//go:embed common.txt
var commonList string

// common is the denylist as a set, built on first use.
var common = sync.OnceValue(func() map[string]struct{} {
	lines := strings.Split(strings.TrimSuffix(commonList, "\n"), "\n")
	set := make(map[string]struct{}, len(lines))
	for _, p := range lines {
		set[p] = struct{}{}
	}
	return set
})

// IsCommon reports whether password, in any letter case, is on the
// denylist: "Password1" is as easy to guess as "password1".
func IsCommon(password string) bool {
	_, found := common()[strings.ToLower(password)]
	return found
}

// Count is the number of passwords on the denylist.
func Count() int { return len(common()) }
