package cognito

import (
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Tags on user pools (TagResource, UntagResource, ListTagsForResource),
// stored with the pool (identity.PoolSettings.Tags). A user pool is the
// only taggable resource, named by its ARN as DescribeUserPool gives it.

// poolFromARN returns the pool id in a user pool ARN
// (arn:aws:cognito-idp:<region>:<account>:userpool/<id>).
func poolFromARN(arn string) (string, error) {
	rest, ok := strings.CutPrefix(arn, "arn:aws:cognito-idp:")
	_, id, ok2 := strings.Cut(rest, ":userpool/")
	if !ok || !ok2 || id == "" || strings.Contains(id, "/") {
		return "", identity.FieldError("ResourceArn", "Invalid ARN %s: only user pools (arn:aws:cognito-idp:<region>:<account>:userpool/<id>) can be tagged.", safeOpName(arn))
	}
	return id, nil
}

func (h *Handler) tagResource(c *call) (any, error) {
	var in struct {
		ResourceArn string
		Tags        map[string]string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	id, err := poolFromARN(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	return nil, h.svc.TagPool(c.ctx, id, in.Tags, nil)
}

func (h *Handler) untagResource(c *call) (any, error) {
	var in struct {
		ResourceArn string
		TagKeys     []string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	id, err := poolFromARN(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if len(in.TagKeys) == 0 {
		return nil, identity.FieldError("TagKeys", "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
	}
	return nil, h.svc.TagPool(c.ctx, id, nil, in.TagKeys)
}

func (h *Handler) listTagsForResource(c *call) (any, error) {
	var in struct{ ResourceArn string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	id, err := poolFromARN(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	p, err := h.svc.GetPool(c.ctx, id)
	if err != nil {
		return nil, err
	}
	tags := p.Settings.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	return struct{ Tags map[string]string }{tags}, nil
}
