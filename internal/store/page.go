package store

// Page sizes shared by every backend: a Page with Limit <= 0 gets
// DefaultPageLimit items; a larger Limit is capped at MaxPageLimit.
const (
	DefaultPageLimit = 60
	MaxPageLimit     = 1000
)

// Size returns the number of items the page asks for, after applying the
// default and the cap.
func (p Page) Size() int {
	switch {
	case p.Limit <= 0:
		return DefaultPageLimit
	case p.Limit > MaxPageLimit:
		return MaxPageLimit
	}
	return p.Limit
}
