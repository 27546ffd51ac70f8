package docstore

import (
	"sync"

	"go.mongodb.org/mongo-driver/bson"
)

// recent remembers, per document id, the document as this process last
// wrote it (encoded, so no caller can change the copy), for up to size ids,
// the oldest forgotten first. Update starts from it instead of reading the
// database: the write is still filtered on the revision, so a copy that
// another process made stale only costs the conflict and a read, never a
// lost write.
type recent struct {
	mu    sync.Mutex
	size  int
	docs  map[string][]byte
	order []string // ids in the order they were first remembered, a ring
	next  int
}

// recentSize is how many documents a collection remembers: the ones being
// worked on (an order between its insert and its grants, a ticket between
// its events), not the whole collection.
const recentSize = 8192

func newRecent(size int) *recent {
	return &recent{size: size, docs: make(map[string][]byte, size), order: make([]string, 0, size)}
}

// put remembers doc as written for id; an encoding failure forgets id.
func (r *recent) put(id string, doc any) {
	b, err := bson.Marshal(doc)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		delete(r.docs, id)
		return
	}
	if _, known := r.docs[id]; !known {
		if len(r.order) < r.size {
			r.order = append(r.order, id)
		} else {
			delete(r.docs, r.order[r.next])
			r.order[r.next] = id
			r.next = (r.next + 1) % r.size
		}
	}
	r.docs[id] = b
}

// get decodes the remembered copy of id into doc; false if there is none.
func (r *recent) get(id string, doc any) bool {
	r.mu.Lock()
	b, ok := r.docs[id]
	r.mu.Unlock()
	return ok && bson.Unmarshal(b, doc) == nil
}

// forget drops id's copy (after a conflict: it is stale).
func (r *recent) forget(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.docs, id)
}
