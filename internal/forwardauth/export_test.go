package forwardauth

// CacheLen exposes the cache size to tests.
func CacheLen(h *Handler) int { return h.cacheLen() }
