package session

import "time"

// KratosSession is a session as Kratos' APIs send it (whoami, native login
// and registration), reduced to what the services use.
type KratosSession struct {
	ID        string         `json:"id"`
	Active    bool           `json:"active"`
	ExpiresAt time.Time      `json:"expires_at"`
	Identity  KratosIdentity `json:"identity"`
}

// KratosIdentity is an identity as Kratos' APIs and web hooks send it, with
// the traits of the ticketing identity schema (email, optional name).
type KratosIdentity struct {
	ID     string `json:"id"`
	Traits struct {
		Email string `json:"email"`
		Name  *struct {
			First string `json:"first"`
			Last  string `json:"last"`
		} `json:"name"`
	} `json:"traits"`
}

// Identity converts the wire form; an empty name becomes nil.
func (k KratosIdentity) Identity() Identity {
	id := Identity{ID: k.ID, Email: k.Traits.Email}
	if n := k.Traits.Name; n != nil && (n.First != "" || n.Last != "") {
		id.Name = &Name{First: n.First, Last: n.Last}
	}
	return id
}
