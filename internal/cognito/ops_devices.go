package cognito

import (
	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Remembered devices (internal/auth devices.go): ConfirmDevice,
// GetDevice, ListDevices, UpdateDeviceStatus, ForgetDevice with the
// user's access token, and their Admin forms (SigV4). The device SRP
// challenges go through RespondToAuthChallenge.

// deviceConfigurationType is Cognito's DeviceConfigurationType.
type deviceConfigurationType struct {
	ChallengeRequiredOnNewDevice     bool
	DeviceOnlyRememberedOnUserPrompt bool
}

func deviceConfigurationOf(d identity.DeviceSettings) *deviceConfigurationType {
	if !d.Tracked {
		return nil // DescribeUserPool: null when devices are not remembered
	}
	return &deviceConfigurationType{ChallengeRequiredOnNewDevice: d.ChallengeRequiredOnNewDevice,
		DeviceOnlyRememberedOnUserPrompt: d.OnlyRememberedOnUserPrompt}
}

// deviceSettings is what a DeviceConfiguration member sets: any value
// turns tracking on; absent, off (CreateUserPool's default, and
// UpdateUserPool's: members left out take their defaults).
func (d *deviceConfigurationType) settings() identity.DeviceSettings {
	if d == nil {
		return identity.DeviceSettings{}
	}
	return identity.DeviceSettings{Tracked: true, ChallengeRequiredOnNewDevice: d.ChallengeRequiredOnNewDevice,
		OnlyRememberedOnUserPrompt: d.DeviceOnlyRememberedOnUserPrompt}
}

// newDeviceMetadataType is Cognito's NewDeviceMetadataType.
type newDeviceMetadataType struct {
	DeviceKey      string
	DeviceGroupKey string
}

// deviceType is Cognito's DeviceType.
type deviceType struct {
	DeviceKey                   string
	DeviceAttributes            []attributeType
	DeviceCreateDate            *epoch `json:",omitempty"`
	DeviceLastModifiedDate      *epoch `json:",omitempty"`
	DeviceLastAuthenticatedDate *epoch `json:",omitempty"`
}

// toDeviceType answers Cognito's DeviceAttributes as AWS's own examples
// show them (aws-cli's list-devices example; Amplify's fetchDevices and
// client code read them): device_status is "valid" for every device the
// pool knows, and whether it is remembered is dev:device_remembered_status
// ("remembered" / "not_remembered"). dev:device_arn, dev:device_owner and
// dev:device_sdk are not answered (docs/cognito.md).
func toDeviceType(d *identity.Device) deviceType {
	attrs := []attributeType{{"device_status", "valid"}}
	if d.Name != "" {
		attrs = append(attrs, attributeType{"device_name", d.Name})
	}
	if d.LastIP != "" {
		attrs = append(attrs, attributeType{"last_ip_used", d.LastIP})
	}
	attrs = append(attrs, attributeType{"dev:device_remembered_status", d.Status})
	return deviceType{DeviceKey: d.Key, DeviceAttributes: attrs, DeviceCreateDate: toEpoch(d.CreatedAt),
		DeviceLastModifiedDate: toEpoch(d.UpdatedAt), DeviceLastAuthenticatedDate: toEpoch(d.LastAuthAt)}
}

// deviceInput is what the device operations read.
type deviceInput struct {
	AccessToken            string
	UserPoolId, Username   string
	DeviceKey              string
	DeviceRememberedStatus string
	Limit                  int
	PaginationToken        string
}

// decodeDevice reads the request; admin forms need UserPoolId and Username.
func decodeDevice(c *call, admin bool) (*deviceInput, error) {
	var in deviceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if admin {
		if in.UserPoolId == "" {
			return nil, identity.FieldError("UserPoolId", "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null")
		}
		if in.Username == "" {
			return nil, identity.FieldError("Username", "1 validation error detected: Value null at 'username' failed to satisfy constraint: Member must not be null")
		}
		in.AccessToken = ""
	} else {
		if in.AccessToken == "" {
			return nil, identity.FieldError("AccessToken", "1 validation error detected: Value null at 'accessToken' failed to satisfy constraint: Member must not be null")
		}
		in.UserPoolId, in.Username = "", ""
	}
	return &in, nil
}

func (h *Handler) confirmDevice(c *call) (any, error) {
	var in struct {
		AccessToken                string
		DeviceKey                  string
		DeviceName                 string
		DeviceSecretVerifierConfig *struct{ PasswordVerifier, Salt string }
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.AccessToken == "" {
		return nil, identity.FieldError("AccessToken", "1 validation error detected: Value null at 'accessToken' failed to satisfy constraint: Member must not be null")
	}
	ci := auth.ConfirmDeviceInput{AccessToken: in.AccessToken, DeviceKey: in.DeviceKey, DeviceName: in.DeviceName, Meta: c.meta}
	if v := in.DeviceSecretVerifierConfig; v != nil {
		ci.HasVerifier, ci.PasswordVerifier, ci.Salt = true, v.PasswordVerifier, v.Salt
	}
	necessary, err := h.svc.ConfirmDevice(c.ctx, ci)
	if err != nil {
		return nil, err
	}
	return struct{ UserConfirmationNecessary bool }{necessary}, nil
}

func (h *Handler) getDevice(c *call) (any, error)      { return h.deviceGet(c, false) }
func (h *Handler) adminGetDevice(c *call) (any, error) { return h.deviceGet(c, true) }

func (h *Handler) deviceGet(c *call, admin bool) (any, error) {
	in, err := decodeDevice(c, admin)
	if err != nil {
		return nil, err
	}
	d, err := h.svc.GetDevice(c.ctx, in.AccessToken, in.UserPoolId, in.Username, in.DeviceKey)
	if err != nil {
		return nil, err
	}
	return struct{ Device deviceType }{toDeviceType(d)}, nil
}

func (h *Handler) listDevices(c *call) (any, error)      { return h.deviceList(c, false) }
func (h *Handler) adminListDevices(c *call) (any, error) { return h.deviceList(c, true) }

func (h *Handler) deviceList(c *call, admin bool) (any, error) {
	in, err := decodeDevice(c, admin)
	if err != nil {
		return nil, err
	}
	page, err := h.svc.ListDevices(c.ctx, in.AccessToken, in.UserPoolId, in.Username, in.Limit, in.PaginationToken)
	if err != nil {
		return nil, err
	}
	out := make([]deviceType, 0, len(page.Devices))
	for _, d := range page.Devices {
		out = append(out, toDeviceType(d))
	}
	return struct {
		Devices         []deviceType
		PaginationToken string `json:",omitempty"`
	}{out, page.Next}, nil
}

func (h *Handler) updateDeviceStatus(c *call) (any, error)      { return h.deviceStatus(c, false) }
func (h *Handler) adminUpdateDeviceStatus(c *call) (any, error) { return h.deviceStatus(c, true) }

func (h *Handler) deviceStatus(c *call, admin bool) (any, error) {
	in, err := decodeDevice(c, admin)
	if err != nil {
		return nil, err
	}
	return struct{}{}, h.svc.UpdateDeviceStatus(c.ctx, in.AccessToken, in.UserPoolId, in.Username, in.DeviceKey, in.DeviceRememberedStatus)
}

func (h *Handler) forgetDevice(c *call) (any, error)      { return h.deviceForget(c, false) }
func (h *Handler) adminForgetDevice(c *call) (any, error) { return h.deviceForget(c, true) }

func (h *Handler) deviceForget(c *call, admin bool) (any, error) {
	in, err := decodeDevice(c, admin)
	if err != nil {
		return nil, err
	}
	return nil, h.svc.ForgetDevice(c.ctx, in.AccessToken, in.UserPoolId, in.Username, in.DeviceKey)
}
