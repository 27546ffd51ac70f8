package session

import (
	"crypto/sha256"
	"sync"
	"time"
)

// maxCacheEntries bounds the cache's memory: past it, expired entries are
// swept, and if that is not enough the cache starts afresh.
const maxCacheEntries = 50_000

// cacheKey is a hash of a credential: the cache never holds credentials, and
// a token and a cookie with the same text do not collide.
type cacheKey [sha256.Size]byte

func keyOf(c Credential) cacheKey {
	if c.Token != "" {
		return sha256.Sum256([]byte("token:" + c.Token))
	}
	return sha256.Sum256([]byte("cookie:" + c.Cookie))
}

// cacheEntry is a whoami answer: a session, or the error (unauthenticated)
// that Kratos answered.
type cacheEntry struct {
	session Session
	err     error
	expires time.Time
}

// cache holds whoami answers for a short time. Its generation counts calls
// to forget, so that an answer fetched before a credential was forgotten is
// not stored after it.
type cache struct {
	mu         sync.Mutex
	entries    map[cacheKey]cacheEntry
	generation uint64
}

func newCache() *cache {
	return &cache{entries: make(map[cacheKey]cacheEntry)}
}

// get returns the live entry for key.
func (c *cache) get(key cacheKey, now time.Time) (cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return cacheEntry{}, false
	}
	if !now.Before(e.expires) {
		delete(c.entries, key)
		return cacheEntry{}, false
	}
	return e, true
}

// currentGeneration is to be read before fetching an answer and passed to put.
func (c *cache) currentGeneration() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.generation
}

// put stores e unless a credential was forgotten since generation was read.
func (c *cache) put(key cacheKey, e cacheEntry, generation uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if generation != c.generation || !now.Before(e.expires) {
		return
	}
	if len(c.entries) >= maxCacheEntries {
		for k, old := range c.entries {
			if !now.Before(old.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxCacheEntries {
			clear(c.entries)
		}
	}
	c.entries[key] = e
}

// forget drops key's entry and invalidates answers being fetched.
func (c *cache) forget(key cacheKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
	c.generation++
}
