package identity

import "time"

// DeviceSettings is a pool's device tracking (Cognito's
// DeviceConfiguration). Tracked is set when a DeviceConfiguration was
// given at all: "When you provide a value for any property of
// DeviceConfiguration, you activate the device remembering for the user
// pool." Sign-ins in a tracked pool get NewDeviceMetadata.
type DeviceSettings struct {
	Tracked bool `json:"tracked,omitempty"`
	// ChallengeRequiredOnNewDevice: a remembered device signs in with
	// device authentication (DEVICE_SRP_AUTH) instead of the second
	// factor; other devices still answer the MFA challenge.
	ChallengeRequiredOnNewDevice bool `json:"challenge_required_on_new_device,omitempty"`
	// OnlyRememberedOnUserPrompt: ConfirmDevice leaves a device
	// not_remembered until UpdateDeviceStatus remembers it; false, it is
	// remembered at once.
	OnlyRememberedOnUserPrompt bool `json:"only_remembered_on_user_prompt,omitempty"`
}

// Device statuses (Cognito's DeviceRememberedStatusType).
const (
	DeviceRemembered    = "remembered"
	DeviceNotRemembered = "not_remembered"
)

// Device is a user's confirmed device (ConfirmDevice). Key is Cognito's
// DeviceKey ("<region>_<uuid>"), unique in the pool; GroupKey is the
// user's DeviceGroupKey, the SRP "pool name" of device authentication;
// Salt and Verifier (hex) are the device's SRP verifier, made on the
// device from a random password that never leaves it.
type Device struct {
	PoolID     string
	Key        string
	UserSub    string
	GroupKey   string
	Name       string
	Status     string // DeviceRemembered or DeviceNotRemembered
	Salt       string
	Verifier   string
	LastIP     string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	LastAuthAt time.Time
}
