package cognito

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Pool and app client operations (signed). Cognito's pool settings are
// mapped onto identity.Pool; settings Gatehouse cannot honour are refused
// with InvalidParameterException naming them, harmless ones are accepted
// and ignored (see docs/cognito.md).

type passwordPolicyType struct {
	MinimumLength                 *int `json:",omitempty"`
	RequireUppercase              bool
	RequireLowercase              bool
	RequireNumbers                bool
	RequireSymbols                bool
	TemporaryPasswordValidityDays *int `json:",omitempty"`
	PasswordHistorySize           *int `json:",omitempty"`
}

type policiesType struct {
	PasswordPolicy *passwordPolicyType `json:",omitempty"`
	// SignInPolicy: the USER_AUTH first factors (only sent back once set).
	SignInPolicy *signInPolicyType `json:",omitempty"`
}

type signInPolicyType struct {
	AllowedFirstAuthFactors []string
}

// accountRecoverySettingType is Cognito's AccountRecoverySetting: which
// verified address ForgotPassword uses first, or admin_only (no
// self-service reset).
type accountRecoverySettingType struct {
	RecoveryMechanisms []recoveryOptionType
}

type recoveryOptionType struct {
	Name     string
	Priority int
}

// recoverySettings checks an AccountRecoverySetting as AWS's model does
// (one or two mechanisms, priorities 1 and 2, each name once, admin_only
// alone) and against what Gatehouse can honour: it sends no SMS, so a
// verified phone number cannot be the only way. nil gives nil (not set).
func recoverySettings(in *accountRecoverySettingType) ([]identity.RecoveryMechanism, error) {
	if in == nil {
		return nil, nil
	}
	ms := in.RecoveryMechanisms
	if len(ms) < 1 || len(ms) > 2 {
		return nil, identity.FieldError("AccountRecoverySetting", "1 validation error detected: Value at 'accountRecoverySetting.recoveryMechanisms' failed to satisfy constraint: Member must have length between 1 and 2")
	}
	out := make([]identity.RecoveryMechanism, 0, len(ms))
	email := false
	for i, m := range ms {
		switch m.Name {
		case "verified_email":
			email = true
		case "verified_phone_number":
		case identity.RecoveryAdminOnly:
			if len(ms) > 1 {
				return nil, identity.FieldError("AccountRecoverySetting", "Invalid account recovery setting: admin_only cannot be combined with another recovery mechanism.")
			}
		default:
			return nil, identity.FieldError("AccountRecoverySetting", "1 validation error detected: Value '%s' at 'accountRecoverySetting.recoveryMechanisms.%d.member.name' failed to satisfy constraint: Member must satisfy enum value set: [verified_email, verified_phone_number, admin_only]", safeOpName(m.Name), i+1)
		}
		if m.Priority < 1 || m.Priority > 2 {
			return nil, identity.FieldError("AccountRecoverySetting", "1 validation error detected: Value '%d' at 'accountRecoverySetting.recoveryMechanisms.%d.member.priority' failed to satisfy constraint: Member must have value between 1 and 2", m.Priority, i+1)
		}
		for _, o := range out {
			if o.Name == m.Name || o.Priority == m.Priority {
				return nil, identity.FieldError("AccountRecoverySetting", "Invalid account recovery setting: each recovery mechanism and each priority may be given once.")
			}
		}
		out = append(out, identity.RecoveryMechanism{Name: m.Name, Priority: m.Priority})
	}
	if len(out) == 1 && out[0].Name == "verified_phone_number" && !email {
		return nil, identity.FieldError("AccountRecoverySetting", "Gatehouse sends no SMS: verified_phone_number cannot be the only recovery mechanism; add verified_email (docs/cognito.md).")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Priority < out[j].Priority })
	return out, nil
}

func accountRecoveryOf(ms []identity.RecoveryMechanism) *accountRecoverySettingType {
	if len(ms) == 0 {
		return nil
	}
	out := &accountRecoverySettingType{RecoveryMechanisms: []recoveryOptionType{}}
	for _, m := range ms {
		out.RecoveryMechanisms = append(out.RecoveryMechanisms, recoveryOptionType{Name: m.Name, Priority: m.Priority})
	}
	return out
}

type adminCreateUserConfigType struct {
	AllowAdminCreateUserOnly  bool
	UnusedAccountValidityDays *int `json:",omitempty"`
}

type stringConstraints struct {
	MinLength string `json:",omitempty"`
	MaxLength string `json:",omitempty"`
}

type numberConstraints struct {
	MinValue string `json:",omitempty"`
	MaxValue string `json:",omitempty"`
}

type schemaAttributeType struct {
	Name                       string
	AttributeDataType          string `json:",omitempty"`
	DeveloperOnlyAttribute     bool
	Mutable                    *bool              `json:",omitempty"`
	Required                   *bool              `json:",omitempty"`
	StringAttributeConstraints *stringConstraints `json:",omitempty"`
	NumberAttributeConstraints *numberConstraints `json:",omitempty"`
}

type usernameConfigurationType struct {
	CaseSensitive *bool
}

type userPoolAddOnsType struct {
	AdvancedSecurityMode string `json:",omitempty"`
}

// userAttributeUpdateSettingsType: with "email" listed, a user's new email
// waits for its code and the old one stays in force; without, it takes
// effect at once, unverified (identity.UserAttributeUpdateSettings).
type userAttributeUpdateSettingsType struct {
	AttributesRequireVerificationBeforeUpdate []string
}

// poolSettingsInput is what CreateUserPool and UpdateUserPool share.
type poolSettingsInput struct {
	Policies               *policiesType
	LambdaConfig           *lambdaConfigType
	AutoVerifiedAttributes []string
	AliasAttributes        []string
	UsernameAttributes     []string
	MfaConfiguration       string
	AdminCreateUserConfig  *adminCreateUserConfigType
	UsernameConfiguration  *usernameConfigurationType
	UserPoolAddOns         *userPoolAddOnsType
	Schema                 []schemaAttributeType
	UserPoolTier           string
	// UserAttributeUpdateSettings: absent means no attribute requires
	// verification before update (Cognito's default), at CreateUserPool
	// and UpdateUserPool alike.
	UserAttributeUpdateSettings *userAttributeUpdateSettingsType
	// UserPoolTags: given, they replace the pool's tags; absent at
	// UpdateUserPool, the tags stay (TagResource and UntagResource own
	// them).
	UserPoolTags map[string]string
	// DeviceConfiguration: given, devices are tracked (ops_devices.go).
	DeviceConfiguration *deviceConfigurationType
	// AccountRecoverySetting: absent means not set (Cognito's legacy
	// choice: the verified email here), at UpdateUserPool too.
	AccountRecoverySetting *accountRecoverySettingType
}

// userPoolType is Cognito's UserPoolType (DescribeUserPool, CreateUserPool).
type userPoolType struct {
	Id                          string
	Name                        string
	Arn                         string
	Policies                    policiesType
	LambdaConfig                lambdaConfigType
	SchemaAttributes            []schemaAttributeType
	AutoVerifiedAttributes      []string `json:",omitempty"`
	AliasAttributes             []string `json:",omitempty"`
	UsernameAttributes          []string `json:",omitempty"`
	MfaConfiguration            string
	EstimatedNumberOfUsers      int
	AdminCreateUserConfig       adminCreateUserConfigType
	UsernameConfiguration       struct{ CaseSensitive bool }
	UserPoolAddOns              userPoolAddOnsType
	DeletionProtection          string
	UserPoolTier                string
	CreationDate                *epoch
	LastModifiedDate            *epoch
	Status                      string `json:",omitempty"`
	UserAttributeUpdateSettings userAttributeUpdateSettingsType
	VerificationMessageTemplate struct{ DefaultEmailOption string }
	EmailConfiguration          struct{ EmailSendingAccount string }
	UserPoolTags                map[string]string
	Domain                      string                      `json:",omitempty"`
	CustomDomain                string                      `json:",omitempty"`
	DeviceConfiguration         *deviceConfigurationType    `json:",omitempty"`
	AccountRecoverySetting      *accountRecoverySettingType `json:",omitempty"`
}

func (h *Handler) poolARN(p *identity.Pool) string {
	return "arn:aws:cognito-idp:" + p.Region() + ":" + h.opts.AccountID + ":userpool/" + p.ID
}

// standardAttrs are Cognito's standard attributes in the order AWS's
// DescribeUserPool lists them; all are strings except the *_verified
// booleans and updated_at.
var standardAttrs = []string{"sub", "name", "given_name", "family_name", "middle_name", "nickname", "preferred_username",
	"profile", "picture", "website", "email", "email_verified", "gender", "birthdate", "zoneinfo", "locale",
	"phone_number", "phone_number_verified", "address", "updated_at"}

func isStandardAttr(name string) bool { return contains(standardAttrs, name) }

func (h *Handler) toUserPoolType(p *identity.Pool, users int) userPoolType {
	pp := p.PasswordPolicy
	minLen, tmpDays := pp.MinimumLength, pp.TemporaryPasswordValidityDays
	out := userPoolType{
		Id: p.ID, Name: p.Name, Arn: h.poolARN(p),
		Policies: policiesType{PasswordPolicy: &passwordPolicyType{MinimumLength: &minLen, RequireUppercase: pp.RequireUppercase,
			RequireLowercase: pp.RequireLowercase, RequireNumbers: pp.RequireNumbers, RequireSymbols: pp.RequireSymbols,
			TemporaryPasswordValidityDays: &tmpDays}},
		LambdaConfig:                lambdaConfigOf(p.Settings.Hooks),
		MfaConfiguration:            p.Settings.MFA.Mode(),
		EstimatedNumberOfUsers:      users,
		AdminCreateUserConfig:       adminCreateUserConfigType{AllowAdminCreateUserOnly: p.AdminCreateUserOnly, UnusedAccountValidityDays: &tmpDays},
		UserPoolAddOns:              userPoolAddOnsType{AdvancedSecurityMode: "OFF"},
		DeletionProtection:          "INACTIVE",
		UserPoolTier:                "ESSENTIALS",
		CreationDate:                toEpoch(p.CreatedAt),
		LastModifiedDate:            toEpoch(p.UpdatedAt),
		UserAttributeUpdateSettings: userAttributeUpdateSettingsType{AttributesRequireVerificationBeforeUpdate: []string{}},
		UserPoolTags:                map[string]string{},
	}
	if !p.Settings.NoAutoVerify {
		out.AutoVerifiedAttributes = []string{"email"}
	}
	if len(p.Settings.Tags) > 0 {
		out.UserPoolTags = p.Settings.Tags
	}
	out.Domain, out.CustomDomain = p.Settings.UserPoolDomain.Prefix, p.Settings.UserPoolDomain.Custom
	if l := p.Settings.AllowedFirstAuthFactors; len(l) > 0 {
		out.Policies.SignInPolicy = &signInPolicyType{AllowedFirstAuthFactors: append([]string{}, l...)}
	}
	out.DeviceConfiguration = deviceConfigurationOf(p.Settings.Devices)
	out.AccountRecoverySetting = accountRecoveryOf(p.Settings.AccountRecovery)
	// Codes by email, sent by the service itself (Gatehouse's outbox).
	out.VerificationMessageTemplate.DefaultEmailOption = "CONFIRM_WITH_CODE"
	out.EmailConfiguration.EmailSendingAccount = "COGNITO_DEFAULT"
	if !p.Settings.UserAttributeUpdate.EmailWithoutVerification {
		out.UserAttributeUpdateSettings.AttributesRequireVerificationBeforeUpdate = []string{"email"}
	}
	switch p.UsernameMode {
	case identity.UsernameEmail:
		out.UsernameAttributes = []string{"email"}
	case identity.UsernameWithEmailAlias:
		out.AliasAttributes = []string{"email"}
	}
	t, f := true, false
	for _, name := range standardAttrs {
		typ := "String"
		switch name {
		case "email_verified", "phone_number_verified":
			typ = "Boolean"
		case "updated_at":
			typ = "Number"
		}
		req := name == "sub" || (name == "email" && (p.UsernameMode == identity.UsernameEmail || p.Settings.EmailRequired))
		s := schemaAttributeType{Name: name, AttributeDataType: typ, Mutable: ptr(name != "sub"), Required: ptr(req)}
		switch {
		case name == "sub":
			s.StringAttributeConstraints = &stringConstraints{MinLength: "1", MaxLength: "2048"}
		case name == "birthdate":
			s.StringAttributeConstraints = &stringConstraints{MinLength: "10", MaxLength: "10"}
		case name == "updated_at":
			s.NumberAttributeConstraints = &numberConstraints{MinValue: "0"}
		case typ == "String":
			s.StringAttributeConstraints = &stringConstraints{MinLength: "0", MaxLength: "2048"}
		}
		out.SchemaAttributes = append(out.SchemaAttributes, s)
	}
	for _, d := range p.Schema {
		s := schemaAttributeType{Name: d.Name, AttributeDataType: string(d.Type), Mutable: &f, Required: &f}
		if d.Mutable {
			s.Mutable = &t
		}
		if d.Required {
			s.Required = &t
		}
		switch d.Type {
		case identity.AttrString:
			sc := &stringConstraints{MinLength: strconv.Itoa(d.MinLength), MaxLength: strconv.Itoa(orDefault(d.MaxLength, 2048))}
			if d.MinLengthGiven != d.MaxLengthGiven { // partial: only what was given, as AWS answers
				if !d.MinLengthGiven {
					sc.MinLength = ""
				}
				if !d.MaxLengthGiven {
					sc.MaxLength = ""
				}
			}
			s.StringAttributeConstraints = sc
		case identity.AttrNumber:
			nc := &numberConstraints{}
			if d.MinValue != nil {
				nc.MinValue = strconv.FormatInt(*d.MinValue, 10)
			}
			if d.MaxValue != nil {
				nc.MaxValue = strconv.FormatInt(*d.MaxValue, 10)
			}
			s.NumberAttributeConstraints = nc
		}
		out.SchemaAttributes = append(out.SchemaAttributes, s)
	}
	return out
}

// cognitoPasswordPolicy is Cognito's default password policy, which
// CreateUserPool gives and UpdateUserPool restores when the request has
// no PasswordPolicy: 8 characters with upper and lower case letters, a
// number and a symbol; temporary passwords valid 7 days. Gatehouse's own
// default (identity.DefaultPasswordPolicy) is for pools made its own way.
func cognitoPasswordPolicy() identity.PasswordPolicy {
	return identity.PasswordPolicy{MinimumLength: 8, MaximumLength: 256, RequireUppercase: true, RequireLowercase: true,
		RequireNumbers: true, RequireSymbols: true, TemporaryPasswordValidityDays: 7}
}

func ptr[T any](v T) *T { return &v }

func orDefault(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}

// emailRequired reports whether a CreateUserPool schema marks the standard
// email attribute Required.
func emailRequired(in []schemaAttributeType) bool {
	for _, s := range in {
		if s.Name == "email" && s.Required != nil && *s.Required {
			return true
		}
	}
	return false
}

// customAttrDefs turns Cognito schema attributes into custom attribute
// definitions. Standard attributes in a CreateUserPool schema are accepted
// and ignored (Gatehouse has them all built in); a custom attribute's Name
// is given without the "custom:" prefix, as on AWS.
func customAttrDefs(field string, in []schemaAttributeType, allowStandard bool) ([]identity.AttributeDef, error) {
	var out []identity.AttributeDef
	for _, s := range in {
		name := s.Name
		if allowStandard && isStandardAttr(name) {
			if s.DeveloperOnlyAttribute || (s.AttributeDataType != "" && s.AttributeDataType != standardAttrType(name)) {
				return nil, identity.FieldError(field, "You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute %s", name)
			}
			if s.Required != nil && *s.Required && name != "email" {
				return nil, identity.FieldError(field, "Gatehouse cannot make the standard attribute %s required; only email may be.", name)
			}
			continue
		}
		if s.DeveloperOnlyAttribute {
			return nil, identity.FieldError(field, "Developer-only attributes are not supported by Gatehouse (%s).", safeOpName(name))
		}
		if s.AttributeDataType == "" {
			return nil, identity.FieldError(field, "Invalid AttributeDataType input, consider using the provided AttributeDataType enum.")
		}
		if s.Required != nil && *s.Required {
			return nil, identity.FieldError(field, "Required custom attributes are not supported currently.")
		}
		if err := checkConstraints(field, &s); err != nil {
			return nil, err
		}
		d := identity.AttributeDef{Name: name, Type: identity.AttributeType(s.AttributeDataType), Mutable: true}
		if !strings.HasPrefix(d.Name, "custom:") {
			d.Name = "custom:" + d.Name
		}
		if s.Mutable != nil {
			d.Mutable = *s.Mutable
		}
		if s.Required != nil {
			d.Required = *s.Required
		}
		if c := s.StringAttributeConstraints; c != nil {
			var err error
			if d.MinLength, err = atoiField(field, "MinLength", c.MinLength); err != nil {
				return nil, err
			}
			if d.MaxLength, err = atoiField(field, "MaxLength", c.MaxLength); err != nil {
				return nil, err
			}
			d.MinLengthGiven, d.MaxLengthGiven = c.MinLength != "", c.MaxLength != ""
		}
		if c := s.NumberAttributeConstraints; c != nil {
			for _, x := range []struct {
				v   string
				dst **int64
			}{{c.MinValue, &d.MinValue}, {c.MaxValue, &d.MaxValue}} {
				if x.v == "" {
					continue
				}
				n, err := strconv.ParseInt(x.v, 10, 64)
				if err != nil {
					return nil, identity.FieldError(field, "Number constraint %q of %s is not an integer.", safeOpName(x.v), safeOpName(name))
				}
				*x.dst = &n
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// standardAttrType is a standard attribute's data type.
func standardAttrType(name string) string {
	switch name {
	case "email_verified", "phone_number_verified":
		return "Boolean"
	case "updated_at":
		return "Number"
	}
	return "String"
}

// checkConstraints refuses constraints that do not fit the attribute's
// type, a minimum above the maximum and strings longer than 2048, as
// Cognito does.
func checkConstraints(field string, s *schemaAttributeType) error {
	name := safeOpName(s.Name)
	if s.NumberAttributeConstraints != nil && s.AttributeDataType != string(identity.AttrNumber) {
		return identity.FieldError(field, "NumberAttributeConstraints apply to Number attributes only; %s is %s.", name, safeOpName(s.AttributeDataType))
	}
	if s.StringAttributeConstraints != nil && s.AttributeDataType != string(identity.AttrString) {
		return identity.FieldError(field, "StringAttributeConstraints apply to String attributes only; %s is %s.", name, safeOpName(s.AttributeDataType))
	}
	if c := s.StringAttributeConstraints; c != nil {
		lo, err1 := strconv.Atoi(orZero(c.MinLength))
		hi, err2 := strconv.Atoi(orZero(c.MaxLength))
		switch {
		case err1 != nil || err2 != nil || lo < 0 || hi < 0:
			return identity.FieldError(field, "%s: MinLength and MaxLength must be non-negative integers.", name)
		case hi > 2048:
			return identity.FieldError(field, "%s: String attributes cannot have a length of more than 2048", name)
		case c.MaxLength != "" && lo > hi:
			return identity.FieldError(field, "%s: MinLength must not be greater than MaxLength.", name)
		}
	}
	if c := s.NumberAttributeConstraints; c != nil && c.MinValue != "" && c.MaxValue != "" {
		lo, err1 := strconv.ParseInt(c.MinValue, 10, 64)
		hi, err2 := strconv.ParseInt(c.MaxValue, 10, 64)
		if err1 == nil && err2 == nil && lo > hi {
			return identity.FieldError(field, "%s: MinValue must not be greater than MaxValue.", name)
		}
	}
	return nil
}

func orZero(v string) string {
	if v == "" {
		return "0"
	}
	return v
}

func atoiField(field, name, v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, identity.FieldError(field, "%s %q is not a non-negative integer.", name, safeOpName(v))
	}
	return n, nil
}

// applySettings checks in against what Gatehouse can honour and applies it
// to p. create says whether username/alias attributes may be set.
func applySettings(p *identity.Pool, in *poolSettingsInput, create bool) error {
	switch in.MfaConfiguration {
	case "":
	case identity.MFAOff, identity.MFAOptional, identity.MFAOn: // software tokens are enabled unless SetUserPoolMfaConfig turns them off
		p.Settings.MFA.Configuration = in.MfaConfiguration
	default:
		return identity.FieldError("MfaConfiguration", "1 validation error detected: Value '%s' at 'mfaConfiguration' failed to satisfy constraint: Member must satisfy enum value set: [OFF, ON, OPTIONAL]", safeOpName(in.MfaConfiguration))
	}
	if in.UsernameConfiguration != nil && in.UsernameConfiguration.CaseSensitive != nil && *in.UsernameConfiguration.CaseSensitive {
		return identity.FieldError("UsernameConfiguration", "Usernames are case-insensitive in Gatehouse; CaseSensitive must be false.")
	}
	if a := in.UserPoolAddOns; a != nil && a.AdvancedSecurityMode != "" && a.AdvancedSecurityMode != "OFF" {
		return identity.FieldError("UserPoolAddOns", "AdvancedSecurityMode %s is not supported by Gatehouse; only OFF.", safeOpName(a.AdvancedSecurityMode))
	}
	for _, a := range in.AutoVerifiedAttributes {
		if a != "email" {
			return identity.FieldError("AutoVerifiedAttributes", "Gatehouse verifies email only; %s is not supported.", safeOpName(a))
		}
	}
	p.Settings.NoAutoVerify = len(in.AutoVerifiedAttributes) == 0 // left out: none, Cognito's default
	p.Settings.Devices = in.DeviceConfiguration.settings()
	recovery, err := recoverySettings(in.AccountRecoverySetting)
	if err != nil {
		return err
	}
	p.Settings.AccountRecovery = recovery
	for _, a := range in.UsernameAttributes {
		if a != "email" {
			return identity.FieldError("UsernameAttributes", "Gatehouse supports email as the username attribute only; %s is not supported.", safeOpName(a))
		}
	}
	for _, a := range in.AliasAttributes {
		if a != "email" {
			return identity.FieldError("AliasAttributes", "Gatehouse supports email as the alias attribute only; %s is not supported.", safeOpName(a))
		}
	}
	if len(in.UsernameAttributes) > 0 && len(in.AliasAttributes) > 0 {
		return identity.FieldError("AliasAttributes", "UsernameAttributes and AliasAttributes cannot both be set.")
	}
	if create {
		switch {
		case len(in.UsernameAttributes) > 0:
			p.UsernameMode = identity.UsernameEmail
		case len(in.AliasAttributes) > 0:
			p.UsernameMode = identity.UsernameWithEmailAlias
		default: // Cognito's default: plain usernames, email only an attribute
			p.UsernameMode = identity.UsernamePlain
		}
	} else if len(in.UsernameAttributes) > 0 || len(in.AliasAttributes) > 0 {
		return identity.FieldError("UsernameAttributes", "Username and alias attributes cannot be changed after a pool is created.")
	}
	// Every member below that the request omits takes Cognito's default,
	// at UpdateUserPool too ("If you don't provide a value for an
	// attribute, Amazon Cognito sets it to its default value"). Gatehouse's
	// own password settings (blocked words, common-password list) are not
	// Cognito members and stay as they are.
	blockCommon, blocked := p.PasswordPolicy.BlockCommonPasswords, p.PasswordPolicy.BlockedWords
	p.PasswordPolicy = cognitoPasswordPolicy()
	p.PasswordPolicy.BlockCommonPasswords, p.PasswordPolicy.BlockedWords = blockCommon, blocked
	p.Settings.AllowedFirstAuthFactors = nil // omitted: the default
	if in.Policies != nil && in.Policies.SignInPolicy != nil {
		l := in.Policies.SignInPolicy.AllowedFirstAuthFactors
		for _, f := range l {
			switch f {
			case "PASSWORD", "EMAIL_OTP", "WEB_AUTHN":
			case "SMS_OTP":
				return identity.FieldError("AllowedFirstAuthFactors", "SMS is not supported by Gatehouse (docs/cognito.md).")
			default:
				return identity.FieldError("AllowedFirstAuthFactors", "1 validation error detected: Value at 'policies.signInPolicy.allowedFirstAuthFactors' failed to satisfy constraint: Member must satisfy enum value set: [PASSWORD, EMAIL_OTP, SMS_OTP, WEB_AUTHN]")
			}
		}
		if !contains(l, "PASSWORD") {
			return identity.FieldError("AllowedFirstAuthFactors", "AllowedFirstAuthFactors must contain PASSWORD.")
		}
		p.Settings.AllowedFirstAuthFactors = append([]string{}, l...)
	}
	if in.Policies != nil && in.Policies.PasswordPolicy != nil {
		pp := in.Policies.PasswordPolicy
		if pp.PasswordHistorySize != nil && *pp.PasswordHistorySize > 0 {
			return identity.FieldError("PasswordHistorySize", "Password history is not supported by Gatehouse.")
		}
		if pp.MinimumLength != nil {
			if *pp.MinimumLength < 6 || *pp.MinimumLength > 99 {
				return identity.FieldError("MinimumLength", "1 validation error detected: Value '%d' at 'policies.passwordPolicy.minimumLength' failed to satisfy constraint: Member must have value between 6 and 99", *pp.MinimumLength)
			}
			p.PasswordPolicy.MinimumLength = *pp.MinimumLength
		}
		p.PasswordPolicy.RequireUppercase = pp.RequireUppercase
		p.PasswordPolicy.RequireLowercase = pp.RequireLowercase
		p.PasswordPolicy.RequireNumbers = pp.RequireNumbers
		p.PasswordPolicy.RequireSymbols = pp.RequireSymbols
		if pp.TemporaryPasswordValidityDays != nil {
			if *pp.TemporaryPasswordValidityDays < 0 || *pp.TemporaryPasswordValidityDays > 365 {
				return identity.FieldError("TemporaryPasswordValidityDays", "1 validation error detected: Value '%d' at 'policies.passwordPolicy.temporaryPasswordValidityDays' failed to satisfy constraint: Member must have value between 0 and 365", *pp.TemporaryPasswordValidityDays)
			}
			p.PasswordPolicy.TemporaryPasswordValidityDays = *pp.TemporaryPasswordValidityDays
		}
	}
	var list []string
	if u := in.UserAttributeUpdateSettings; u != nil {
		list = u.AttributesRequireVerificationBeforeUpdate
	}
	for _, a := range list {
		if a != "email" {
			return identity.FieldError("UserAttributeUpdateSettings", "Gatehouse verifies email only; %s cannot require verification before update.", safeOpName(a))
		}
	}
	p.Settings.UserAttributeUpdate.EmailWithoutVerification = len(list) == 0
	p.AdminCreateUserOnly = false
	if c := in.AdminCreateUserConfig; c != nil {
		p.AdminCreateUserOnly = c.AllowAdminCreateUserOnly
		if c.UnusedAccountValidityDays != nil && (in.Policies == nil || in.Policies.PasswordPolicy == nil || in.Policies.PasswordPolicy.TemporaryPasswordValidityDays == nil) {
			p.PasswordPolicy.TemporaryPasswordValidityDays = *c.UnusedAccountValidityDays
		}
	}
	return nil
}

func (h *Handler) createUserPool(c *call) (any, error) {
	var in struct {
		PoolName string
		poolSettingsInput
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.PoolName == "" {
		return nil, identity.FieldError("PoolName", "1 validation error detected: Value at 'poolName' failed to satisfy constraint: Member must not be null.")
	}
	var p identity.Pool
	if err := applySettings(&p, &in.poolSettingsInput, true); err != nil {
		return nil, err
	}
	hooks, err := h.lambdaHooks(in.LambdaConfig, identity.HookSettings{})
	if err != nil {
		return nil, err
	}
	schema, err := customAttrDefs("Schema", in.Schema, true)
	if err != nil {
		return nil, err
	}
	pp := p.PasswordPolicy
	np, err := h.svc.CreatePool(c.ctx, auth.CreatePoolInput{Name: in.PoolName, Region: c.region, UsernameMode: p.UsernameMode,
		AdminCreateUserOnly: p.AdminCreateUserOnly, PasswordPolicy: &pp, Schema: schema, SigningAlg: "RS256", Tags: in.UserPoolTags, Hooks: hooks,
		EmailUpdateWithoutVerification: p.Settings.UserAttributeUpdate.EmailWithoutVerification, NoAutoVerify: p.Settings.NoAutoVerify, MFA: p.Settings.MFA,
		Devices: p.Settings.Devices, EmailRequired: emailRequired(in.Schema), AccountRecovery: p.Settings.AccountRecovery})
	if err != nil {
		return nil, err
	}
	return struct{ UserPool userPoolType }{h.toUserPoolType(np, 0)}, nil
}

func (h *Handler) describeUserPool(c *call) (any, error) {
	var in struct{ UserPoolId string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	p, err := h.svc.GetPool(c.ctx, in.UserPoolId)
	if err != nil {
		return nil, err
	}
	n, err := h.svc.CountUsers(c.ctx, p.ID)
	if err != nil {
		return nil, err
	}
	return struct{ UserPool userPoolType }{h.toUserPoolType(p, n)}, nil
}

func (h *Handler) listUserPools(c *call) (any, error) {
	var in struct {
		MaxResults int
		NextToken  string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.MaxResults < 1 || in.MaxResults > 60 {
		return nil, identity.FieldError("MaxResults", "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 60.")
	}
	ps, next, err := h.svc.ListPools(c.ctx, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	type desc struct {
		Id               string
		Name             string
		LambdaConfig     lambdaConfigType
		CreationDate     *epoch
		LastModifiedDate *epoch
	}
	out := make([]desc, 0, len(ps))
	for _, p := range ps {
		out = append(out, desc{p.ID, p.Name, lambdaConfigOf(p.Settings.Hooks), toEpoch(p.CreatedAt), toEpoch(p.UpdatedAt)})
	}
	return struct {
		UserPools []desc
		NextToken string `json:",omitempty"`
	}{out, next}, nil
}

func (h *Handler) updateUserPool(c *call) (any, error) {
	var in struct {
		UserPoolId string
		PoolName   string
		poolSettingsInput
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	p, err := h.svc.GetPool(c.ctx, in.UserPoolId)
	if err != nil {
		return nil, err
	}
	if len(in.Schema) > 0 {
		return nil, identity.FieldError("Schema", "The schema cannot be changed with UpdateUserPool; use AddCustomAttributes.")
	}
	if in.PoolName != "" {
		p.Name = in.PoolName
	}
	if err := applySettings(p, &in.poolSettingsInput, false); err != nil {
		return nil, err
	}
	// As on AWS, the triggers are what LambdaConfig says: omitting it
	// removes them.
	if p.Settings.Hooks, err = h.lambdaHooks(in.LambdaConfig, p.Settings.Hooks); err != nil {
		return nil, err
	}
	if in.UserPoolTags != nil {
		if err := auth.ValidateTags(in.UserPoolTags); err != nil {
			return nil, err
		}
		p.Settings.Tags = in.UserPoolTags
	}
	_, err = h.svc.UpdatePool(c.ctx, p)
	return nil, err
}

func (h *Handler) deleteUserPool(c *call) (any, error) {
	var in struct{ UserPoolId string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return nil, h.svc.DeletePool(c.ctx, in.UserPoolId)
}

func (h *Handler) addCustomAttributes(c *call) (any, error) {
	var in struct {
		UserPoolId       string
		CustomAttributes []schemaAttributeType
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	defs, err := customAttrDefs("CustomAttributes", in.CustomAttributes, false)
	if err != nil {
		return nil, err
	}
	return nil, h.svc.AddCustomAttributes(c.ctx, in.UserPoolId, defs)
}

// App clients.

type tokenValidityUnits struct {
	AccessToken  string `json:",omitempty"`
	IdToken      string `json:",omitempty"`
	RefreshToken string `json:",omitempty"`
}

type clientSettingsInput struct {
	ClientName                      string
	RefreshTokenValidity            int
	AccessTokenValidity             int
	IdTokenValidity                 int
	TokenValidityUnits              *tokenValidityUnits
	ReadAttributes                  []string
	WriteAttributes                 []string
	ExplicitAuthFlows               []string
	SupportedIdentityProviders      []string
	CallbackURLs                    []string
	LogoutURLs                      []string
	AllowedOAuthFlows               []string
	AllowedOAuthScopes              []string
	AllowedOAuthFlowsUserPoolClient bool
	PreventUserExistenceErrors      string
	EnableTokenRevocation           *bool
	RefreshTokenRotation            *refreshTokenRotation
}

// refreshTokenRotation is Cognito's RefreshTokenRotationType.
type refreshTokenRotation struct {
	Feature                 string
	RetryGracePeriodSeconds *int `json:",omitempty"`
}

type userPoolClientType struct {
	UserPoolId                      string
	ClientName                      string
	ClientId                        string
	ClientSecret                    string `json:",omitempty"`
	CreationDate                    *epoch
	LastModifiedDate                *epoch
	RefreshTokenValidity            int
	AccessTokenValidity             int
	IdTokenValidity                 int
	TokenValidityUnits              tokenValidityUnits
	ReadAttributes                  []string `json:",omitempty"`
	WriteAttributes                 []string `json:",omitempty"`
	ExplicitAuthFlows               []string
	SupportedIdentityProviders      []string
	CallbackURLs                    []string `json:",omitempty"`
	LogoutURLs                      []string `json:",omitempty"`
	AllowedOAuthFlows               []string `json:",omitempty"`
	AllowedOAuthScopes              []string `json:",omitempty"`
	AllowedOAuthFlowsUserPoolClient bool
	PreventUserExistenceErrors      string
	EnableTokenRevocation           bool
	AuthSessionValidity             int
	RefreshTokenRotation            refreshTokenRotation
}

// Token lifetime defaults when a client leaves them unset: Gatehouse's
// (identity.TokenLifetimes: zero = pool default, 1h / 1h / 30d).
var unitDur = map[string]time.Duration{"seconds": time.Second, "minutes": time.Minute, "hours": time.Hour, "days": 24 * time.Hour}

func validity(field string, n int, unit, def string) (time.Duration, error) {
	if n == 0 {
		return 0, nil
	}
	if n < 0 {
		return 0, identity.FieldError(field, "%s must be positive.", field)
	}
	if unit == "" {
		unit = def
	}
	d, ok := unitDur[unit]
	if !ok {
		return 0, identity.FieldError("TokenValidityUnits", "Unknown time unit %s; use seconds, minutes, hours or days.", safeOpName(unit))
	}
	return time.Duration(n) * d, nil
}

// inUnit expresses d in unit (a TokenValidityUnits name) when d is a
// whole number of it, else in def (whose caller made sure d is whole).
func inUnit(d time.Duration, unit, def string) (int, string) {
	if u, ok := unitDur[unit]; ok && d%u == 0 {
		return int(d / u), unit
	}
	return int(d / unitDur[def]), def
}

// legacyFlows maps Cognito's legacy ExplicitAuthFlows names to ALLOW_*.
var legacyFlows = map[string]string{
	"ADMIN_NO_SRP_AUTH":     identity.FlowAdminUserPassword,
	"USER_PASSWORD_AUTH":    identity.FlowUserPassword,
	"CUSTOM_AUTH_FLOW_ONLY": identity.FlowCustomAuth,
}

func (in *clientSettingsInput) apply(cl *identity.AppClient) error {
	if in.ClientName == "" {
		return identity.FieldError("ClientName", "1 validation error detected: Value at 'clientName' failed to satisfy constraint: Member must not be null.")
	}
	units := tokenValidityUnits{}
	if in.TokenValidityUnits != nil {
		units = *in.TokenValidityUnits
	}
	var err error
	if cl.Tokens.Access, err = validity("AccessTokenValidity", in.AccessTokenValidity, units.AccessToken, "hours"); err != nil {
		return err
	}
	if cl.Tokens.ID, err = validity("IdTokenValidity", in.IdTokenValidity, units.IdToken, "hours"); err != nil {
		return err
	}
	if cl.Tokens.Refresh, err = validity("RefreshTokenValidity", in.RefreshTokenValidity, units.RefreshToken, "days"); err != nil {
		return err
	}
	cl.Tokens.Units = nil
	if in.TokenValidityUnits != nil { // kept to answer in them (Cognito does)
		cl.Tokens.Units = &identity.TokenUnits{ID: units.IdToken, Access: units.AccessToken, Refresh: units.RefreshToken}
	}
	for _, idp := range in.SupportedIdentityProviders {
		if idp != "COGNITO" {
			return identity.FieldError("SupportedIdentityProviders", "Identity provider %s is not supported by Gatehouse here; only COGNITO.", safeOpName(idp))
		}
	}
	cl.Name = in.ClientName
	cl.AuthFlows = nil
	legacy := false
	for _, f := range in.ExplicitAuthFlows {
		if m, ok := legacyFlows[f]; ok {
			f, legacy = m, true
		}
		if !contains(cl.AuthFlows, f) {
			cl.AuthFlows = append(cl.AuthFlows, f)
		}
	}
	if legacy {
		// A client given the legacy names keeps SRP and refresh, which
		// the legacy scheme could not turn off (AWS-verified: moto's
		// test_initiate_auth_USER_PASSWORD_AUTH signs in with SRP and
		// refreshes through a client made with ["USER_PASSWORD_AUTH"]).
		for _, f := range []string{identity.FlowUserSRP, identity.FlowRefreshToken} {
			if !contains(cl.AuthFlows, f) {
				cl.AuthFlows = append(cl.AuthFlows, f)
			}
		}
	}
	cl.ReadAttributes, cl.WriteAttributes = in.ReadAttributes, in.WriteAttributes
	cl.CallbackURLs, cl.LogoutURLs = in.CallbackURLs, in.LogoutURLs
	cl.OAuthFlows, cl.OAuthScopes = in.AllowedOAuthFlows, in.AllowedOAuthScopes
	return in.RefreshTokenRotation.apply(cl)
}

// apply sets cl's rotation from r; without r, Cognito's default (DISABLED,
// no grace), on create as on update (UpdateUserPoolClient resets what it is
// not given).
func (r *refreshTokenRotation) apply(cl *identity.AppClient) error {
	cl.RefreshRotation, cl.RefreshGraceSeconds = identity.RotationDisabled, 0
	if r == nil {
		return nil
	}
	switch r.Feature {
	case "ENABLED":
		cl.RefreshRotation = identity.RotationEnabled
	case "DISABLED":
	case "":
		return identity.FieldError("RefreshTokenRotation", "1 validation error detected: Value null at 'refreshTokenRotation.feature' failed to satisfy constraint: Member must not be null")
	default:
		return identity.FieldError("RefreshTokenRotation", "1 validation error detected: Value '%s' at 'refreshTokenRotation.feature' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]", safeOpName(r.Feature))
	}
	if g := r.RetryGracePeriodSeconds; g != nil {
		switch {
		case *g < 0:
			return identity.FieldError("RefreshTokenRotation", "1 validation error detected: Value '%d' at 'refreshTokenRotation.retryGracePeriodSeconds' failed to satisfy constraint: Member must have value greater than or equal to 0", *g)
		case *g > identity.MaxRefreshGraceSeconds:
			return identity.FieldError("RefreshTokenRotation", "1 validation error detected: Value '%d' at 'refreshTokenRotation.retryGracePeriodSeconds' failed to satisfy constraint: Member must have value less than or equal to %d", *g, identity.MaxRefreshGraceSeconds)
		}
		cl.RefreshGraceSeconds = *g // kept as given; used only while rotating
	}
	return nil
}

func (h *Handler) toClientType(p *identity.Pool, cl *identity.AppClient, secret string) userPoolClientType {
	lt := func(d, pool, def time.Duration) time.Duration {
		if d != 0 {
			return d
		}
		if pool != 0 {
			return pool
		}
		return def
	}
	access := lt(cl.Tokens.Access, p.Tokens.Access, time.Hour)
	id := lt(cl.Tokens.ID, p.Tokens.ID, time.Hour)
	refresh := lt(cl.Tokens.Refresh, p.Tokens.Refresh, 30*24*time.Hour)
	// Each lifetime is answered in the unit its TokenValidityUnits gave
	// (when it is a whole number of them); else ID and access tokens in
	// minutes and refresh tokens in days, hours or minutes, whichever is
	// whole (Cognito's defaults: 60 minutes, 60 minutes, 30 days).
	var given identity.TokenUnits
	if cl.Tokens.Units != nil {
		given = *cl.Tokens.Units
	}
	refreshDefault := "minutes"
	switch {
	case refresh%(24*time.Hour) == 0:
		refreshDefault = "days"
	case refresh%time.Hour == 0:
		refreshDefault = "hours"
	}
	accessN, accessUnit := inUnit(access, given.Access, "minutes")
	idN, idUnit := inUnit(id, given.ID, "minutes")
	refreshN, refreshUnit := inUnit(refresh, given.Refresh, refreshDefault)
	pue := "LEGACY"
	if p.PreventUserExistenceErrors {
		pue = "ENABLED"
	}
	return userPoolClientType{
		UserPoolId: cl.PoolID, ClientName: cl.Name, ClientId: cl.ID, ClientSecret: secret,
		CreationDate: toEpoch(cl.CreatedAt), LastModifiedDate: toEpoch(cl.UpdatedAt),
		AccessTokenValidity: accessN, IdTokenValidity: idN, RefreshTokenValidity: refreshN,
		TokenValidityUnits: tokenValidityUnits{AccessToken: accessUnit, IdToken: idUnit, RefreshToken: refreshUnit},
		ReadAttributes:     cl.ReadAttributes, WriteAttributes: cl.WriteAttributes,
		ExplicitAuthFlows: cl.AuthFlows, SupportedIdentityProviders: []string{"COGNITO"},
		CallbackURLs: cl.CallbackURLs, LogoutURLs: cl.LogoutURLs,
		AllowedOAuthFlows: cl.OAuthFlows, AllowedOAuthScopes: cl.OAuthScopes,
		AllowedOAuthFlowsUserPoolClient: len(cl.OAuthFlows) > 0,
		PreventUserExistenceErrors:      pue, EnableTokenRevocation: true, AuthSessionValidity: 3,
		RefreshTokenRotation: rotationOf(cl),
	}
}

// rotationOf answers a client's rotation in Cognito's shape: Gatehouse's
// default (identity.RotationAlways, clients of the native API) rotates, so
// it reads ENABLED.
func rotationOf(cl *identity.AppClient) refreshTokenRotation {
	grace := cl.RefreshGraceSeconds
	if !cl.Rotates() {
		return refreshTokenRotation{Feature: "DISABLED", RetryGracePeriodSeconds: &grace}
	}
	return refreshTokenRotation{Feature: "ENABLED", RetryGracePeriodSeconds: &grace}
}

func (h *Handler) createUserPoolClient(c *call) (any, error) {
	var in struct {
		UserPoolId     string
		GenerateSecret bool
		clientSettingsInput
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	p, err := h.svc.GetPool(c.ctx, in.UserPoolId)
	if err != nil {
		return nil, err
	}
	var cl identity.AppClient
	if err := in.apply(&cl); err != nil {
		return nil, err
	}
	if err := checkScopes(p, cl.OAuthScopes); err != nil {
		return nil, err
	}
	if len(cl.AuthFlows) == 0 {
		// Cognito's default for a client without ExplicitAuthFlows is SRP,
		// refresh and custom auth; Gatehouse has no custom auth challenges.
		cl.AuthFlows = []string{identity.FlowUserSRP, identity.FlowRefreshToken}
	}
	cc, err := h.svc.CreateClient(c.ctx, auth.CreateClientInput{PoolID: p.ID, Name: cl.Name, GenerateSecret: in.GenerateSecret,
		AuthFlows: cl.AuthFlows, Tokens: cl.Tokens, ReadAttributes: cl.ReadAttributes, WriteAttributes: cl.WriteAttributes,
		CallbackURLs: cl.CallbackURLs, LogoutURLs: cl.LogoutURLs, OAuthFlows: cl.OAuthFlows, OAuthScopes: cl.OAuthScopes,
		RefreshRotation: cl.RefreshRotation, RefreshGraceSeconds: cl.RefreshGraceSeconds})
	if err != nil {
		return nil, err
	}
	return struct{ UserPoolClient userPoolClientType }{h.toClientType(p, cc.Client, cc.Secret)}, nil
}

func (h *Handler) describeUserPoolClient(c *call) (any, error) {
	var in struct{ UserPoolId, ClientId string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	p, err := h.svc.GetPool(c.ctx, in.UserPoolId)
	if err != nil {
		return nil, err
	}
	cl, err := h.svc.GetClient(c.ctx, p.ID, in.ClientId)
	if err != nil {
		return nil, err
	}
	// AWS answers the secret to the administrator (so do SDK-based test
	// suites and tools expect: they compute SECRET_HASH from it).
	secret, err := h.svc.ClientSecret(c.ctx, p.ID, cl.ID)
	if err != nil {
		return nil, err
	}
	return struct{ UserPoolClient userPoolClientType }{h.toClientType(p, cl, secret)}, nil
}

func (h *Handler) listUserPoolClients(c *call) (any, error) {
	var in listInput
	if err := in.decode(c, 0, 60); err != nil {
		return nil, err
	}
	cs, next, err := h.svc.ListClients(c.ctx, in.UserPoolId, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	type desc struct{ ClientId, UserPoolId, ClientName string }
	out := make([]desc, 0, len(cs))
	for _, cl := range cs {
		out = append(out, desc{cl.ID, cl.PoolID, cl.Name})
	}
	return struct {
		UserPoolClients []desc
		NextToken       string `json:",omitempty"`
	}{out, next}, nil
}

func (h *Handler) updateUserPoolClient(c *call) (any, error) {
	var in struct {
		UserPoolId string
		ClientId   string
		clientSettingsInput
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	p, err := h.svc.GetPool(c.ctx, in.UserPoolId)
	if err != nil {
		return nil, err
	}
	cl, err := h.svc.GetClient(c.ctx, p.ID, in.ClientId)
	if err != nil {
		return nil, err
	}
	if in.ClientName == "" {
		in.ClientName = cl.Name
	}
	if err := in.apply(cl); err != nil {
		return nil, err
	}
	if err := checkScopes(p, cl.OAuthScopes); err != nil {
		return nil, err
	}
	ncl, err := h.svc.UpdateClient(c.ctx, cl)
	if err != nil {
		return nil, err
	}
	secret, err := h.svc.ClientSecret(c.ctx, p.ID, ncl.ID)
	if err != nil {
		return nil, err
	}
	return struct{ UserPoolClient userPoolClientType }{h.toClientType(p, ncl, secret)}, nil
}

func (h *Handler) deleteUserPoolClient(c *call) (any, error) {
	var in struct{ UserPoolId, ClientId string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return nil, h.svc.DeleteClient(c.ctx, in.UserPoolId, in.ClientId)
}

// listInput is what the pool-scoped list operations take.
type listInput struct {
	UserPoolId string
	MaxResults int
	NextToken  string
}

// decode reads the request and checks MaxResults against lo..hi, in
// AWS's words.
func (in *listInput) decode(c *call, lo, hi int) error {
	if err := c.decode(in); err != nil {
		return err
	}
	if in.MaxResults < lo || in.MaxResults > hi {
		return identity.FieldError("MaxResults", "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value between %d and %d.", max(lo, 1), hi)
	}
	return nil
}
