package auth

import (
	"errors"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/ratelimit"
)

// New returns a Service. Store, Hasher, Tokens and Mail are required.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("auth: Config.Store is required")
	case cfg.Hasher == nil:
		return nil, errors.New("auth: Config.Hasher is required")
	case cfg.Tokens == nil:
		return nil, errors.New("auth: Config.Tokens is required")
	case cfg.Mail == nil:
		return nil, errors.New("auth: Config.Mail is required")
	}
	s := &Service{cfg: cfg}
	s.codePurge.what, s.codePurge.every = "expired oauth codes", 10*time.Minute
	s.originPurge.what, s.originPurge.every = "expired revoked origins", 10*time.Minute
	s.refreshPurge.what, s.refreshPurge.every = "expired refresh tokens", time.Minute
	s.throttlePurge.what, s.throttlePurge.every = "expired throttle counters", 10*time.Minute
	s.reserveBackoff = reserveBackoff
	s.issueByIP = ratelimit.New(IssueIPBurst, IssueIPEvery, ratelimit.DefaultMaxKeys)
	s.init()
	return s, nil
}
