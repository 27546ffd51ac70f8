// Package validation holds the input rules every service applies the same
// way: the form of resource ids, and what text other users will read (a
// ticket's title, a user's name) may contain. Each rule is spelled once
// here so that no service accepts what another refuses.
package validation
