package cognito

import (
	"errors"
	"regexp"
	"slices"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// User pool domains (signed) over the pool's host names (Pool.Domains,
// which the hosted pages and OIDC endpoints answer on): a prefix domain
// <prefix> is the host <prefix>.<Options.DomainSuffix>; a custom domain
// (CustomDomainConfig) is its own host, whose TLS certificate the
// operator's proxy serves (the ARN is kept and shown, not used).

var domainPrefixRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

type customDomainConfigType struct {
	CertificateArn string
}

type domainInput struct {
	Domain              string
	UserPoolId          string
	CustomDomainConfig  *customDomainConfigType
	ManagedLoginVersion *int
}

// domainCall decodes a domain operation and reads its pool; d is the
// domain in lower case.
func (h *Handler) domainCall(c *call) (in domainInput, p *identity.Pool, d string, err error) {
	if err = c.decode(&in); err != nil {
		return in, nil, "", err
	}
	if p, err = h.svc.GetPool(c.ctx, in.UserPoolId); err != nil {
		return in, nil, "", err
	}
	return in, p, strings.ToLower(strings.TrimSpace(in.Domain)), nil
}

func (h *Handler) createUserPoolDomain(c *call) (any, error) {
	in, p, d, err := h.domainCall(c)
	if err != nil {
		return nil, err
	}
	ud := &p.Settings.UserPoolDomain
	if in.CustomDomainConfig != nil {
		if ud.Custom != "" {
			return nil, identity.FieldError("Domain", "The user pool already has a custom domain: %s.", ud.Custom)
		}
		if in.CustomDomainConfig.CertificateArn == "" {
			return nil, identity.FieldError("CustomDomainConfig", "CustomDomainConfig.CertificateArn is required.")
		}
		ud.Custom, ud.CertificateARN = d, in.CustomDomainConfig.CertificateArn
		p.Domains = append(p.Domains, d)
	} else {
		if ud.Prefix != "" {
			return nil, identity.FieldError("Domain", "User pool already has a domain configured.")
		}
		if !domainPrefixRE.MatchString(d) {
			return nil, identity.FieldError("Domain", "1 validation error detected: Value '%s' at 'domain' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z0-9](?:[a-z0-9\\-]{0,61}[a-z0-9])?$", safeOpName(in.Domain))
		}
		for _, w := range []string{"aws", "amazon", "cognito"} {
			if strings.Contains(d, w) {
				return nil, identity.FieldError("Domain", "Domain cannot contain reserved word: %s", w)
			}
		}
		if h.opts.DomainSuffix == "" {
			return nil, identity.FieldError("Domain", "Prefix domains need cognito.domain_suffix in Gatehouse's configuration; give a custom domain (CustomDomainConfig) instead.")
		}
		ud.Prefix, ud.PrefixHost = d, d+"."+h.opts.DomainSuffix
		p.Domains = append(p.Domains, ud.PrefixHost)
	}
	if _, err := h.svc.UpdatePool(c.ctx, p); err != nil {
		return nil, domainTaken(err)
	}
	if in.CustomDomainConfig != nil {
		return struct{ CloudFrontDomain string }{h.opts.DomainTarget}, nil
	}
	return struct{}{}, nil
}

// domainTaken words a domain another pool holds as Cognito does.
func domainTaken(err error) error {
	var ie *identity.Error
	if errors.As(err, &ie) && ie.Code == identity.CodeConflict {
		return identity.FieldError("Domain", "Domain already associated with another user pool.")
	}
	return err
}

func (h *Handler) describeUserPoolDomain(c *call) (any, error) {
	var in struct{ Domain string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.Domain == "" {
		return nil, identity.FieldError("Domain", "1 validation error detected: Value null at 'domain' failed to satisfy constraint: Member must not be null")
	}
	type description struct {
		UserPoolId             string                  `json:",omitempty"`
		AWSAccountId           string                  `json:",omitempty"`
		Domain                 string                  `json:",omitempty"`
		CloudFrontDistribution string                  `json:",omitempty"`
		Version                string                  `json:",omitempty"`
		Status                 string                  `json:",omitempty"`
		CustomDomainConfig     *customDomainConfigType `json:",omitempty"`
	}
	p, err := h.svc.PoolByDomain(c.ctx, in.Domain)
	var ie *identity.Error
	if errors.As(err, &ie) && ie.Code == identity.CodeResourceNotFound {
		// As on AWS: an unknown domain is an empty description.
		return struct{ DomainDescription description }{}, nil
	}
	if err != nil {
		return nil, err
	}
	ud := p.Settings.UserPoolDomain
	out := description{UserPoolId: p.ID, AWSAccountId: h.opts.AccountID, Domain: strings.ToLower(in.Domain), Version: "1", Status: "ACTIVE"}
	if out.Domain == ud.Custom {
		out.CustomDomainConfig = &customDomainConfigType{ud.CertificateARN}
		out.CloudFrontDistribution = h.opts.DomainTarget
	}
	return struct{ DomainDescription description }{out}, nil
}

func (h *Handler) updateUserPoolDomain(c *call) (any, error) {
	in, p, d, err := h.domainCall(c)
	if err != nil {
		return nil, err
	}
	ud := &p.Settings.UserPoolDomain
	switch {
	case d != "" && d == ud.Custom:
		if in.CustomDomainConfig == nil || in.CustomDomainConfig.CertificateArn == "" {
			return nil, identity.FieldError("CustomDomainConfig", "CustomDomainConfig.CertificateArn is required.")
		}
		ud.CertificateARN = in.CustomDomainConfig.CertificateArn
	case d != "" && d == ud.Prefix:
		if in.CustomDomainConfig != nil {
			return nil, identity.FieldError("CustomDomainConfig", "%s is a prefix domain; it has no certificate.", d)
		}
		return struct{}{}, nil // ManagedLoginVersion: Gatehouse has one version of its pages
	default:
		return nil, identity.FieldError("Domain", "No such domain or user pool exists.")
	}
	if _, err := h.svc.UpdatePool(c.ctx, p); err != nil {
		return nil, err
	}
	return struct{ CloudFrontDomain string }{h.opts.DomainTarget}, nil
}

func (h *Handler) deleteUserPoolDomain(c *call) (any, error) {
	_, p, d, err := h.domainCall(c)
	if err != nil {
		return nil, err
	}
	ud := &p.Settings.UserPoolDomain
	host := ""
	switch {
	case d != "" && d == ud.Custom:
		host = ud.Custom
		ud.Custom, ud.CertificateARN = "", ""
	case d != "" && d == ud.Prefix:
		host = ud.PrefixHost
		ud.Prefix, ud.PrefixHost = "", ""
	default:
		return nil, identity.FieldError("Domain", "No such domain or user pool exists.")
	}
	p.Domains = slices.DeleteFunc(p.Domains, func(x string) bool { return x == host })
	_, err = h.svc.UpdatePool(c.ctx, p)
	return nil, err
}
