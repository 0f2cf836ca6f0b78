package auth

import "errors"

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
	s.init()
	return s, nil
}
