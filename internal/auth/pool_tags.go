package auth

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Limits on a pool's tags (Cognito's, from the tagging API).
const (
	MaxPoolTags     = 50
	MaxTagKeyLen    = 128
	MaxTagValueLen  = 256
	reservedTagsPre = "aws:"
)

// ValidateTags checks tag keys and values: keys 1–128 characters of
// letters, numbers, spaces and _.:/=+-@, not starting with "aws:"; values
// up to 256 of the same; at most MaxPoolTags.
func ValidateTags(tags map[string]string) error {
	if len(tags) > MaxPoolTags {
		return identity.FieldError("tags", "A user pool has at most %d tags.", MaxPoolTags)
	}
	for k, v := range tags {
		if k == "" || utf8.RuneCountInString(k) > MaxTagKeyLen || !tagText(k) || strings.HasPrefix(strings.ToLower(k), reservedTagsPre) {
			return identity.FieldError("tags", "Invalid tag key %q: 1 to %d letters, numbers, spaces or _.:/=+-@, not starting with aws:.", safeEcho(k), MaxTagKeyLen)
		}
		if utf8.RuneCountInString(v) > MaxTagValueLen || !tagText(v) {
			return identity.FieldError("tags", "Invalid value for tag %q: up to %d letters, numbers, spaces or _.:/=+-@.", safeEcho(k), MaxTagValueLen)
		}
	}
	return nil
}

func tagText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.In(r, unicode.L, unicode.Z, unicode.N) && !strings.ContainsRune("_.:/=+-@", r) {
			return false
		}
	}
	return true
}

// TagPool adds the tags in set (replacing the values of keys it names) and
// removes the keys in remove, in one transaction; the result must stay
// within MaxPoolTags. Tags change nothing but themselves.
//
// Errors: resource_not_found, invalid_parameter.
func (s *Service) TagPool(ctx context.Context, poolID string, set map[string]string, remove []string) error {
	if err := ValidateTags(set); err != nil {
		return err
	}
	return wrapStoreErr("tag pool", s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, err := s.getPool(ctx, q, poolID)
		if err != nil {
			return err
		}
		tags := make(map[string]string, len(p.Settings.Tags)+len(set))
		for k, v := range p.Settings.Tags {
			tags[k] = v
		}
		for k, v := range set {
			tags[k] = v
		}
		for _, k := range remove {
			delete(tags, k)
		}
		if err := ValidateTags(tags); err != nil {
			return err
		}
		p.Settings.Tags = tags
		p.UpdatedAt = s.now()
		if err := q.UpdatePool(ctx, p); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, "pool.tag", "pool:"+p.ID, nil)
	}))
}
