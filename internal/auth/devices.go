package auth

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/srp"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Remembered devices (Cognito's device tracking, docs/cognito.md)
//
// In a pool whose DeviceSettings.Tracked is set, a sign-in through
// InitiateAuth / RespondToAuthChallenge that used no known device gets
// NewDeviceMetadata: a fresh DeviceKey ("<region>_<uuid>") and the user's
// DeviceGroupKey (derived from the master key, the pool and the user, so
// nothing is stored until the device is confirmed). The access token and
// the refresh family carry the key (device_key claim, refresh_tokens.
// device_key). ConfirmDevice, with that access token, stores the device's
// SRP verifier: only the key the token carries can be confirmed, once.
//
// A later sign-in that names the device (DEVICE_KEY in AuthParameters or
// in the PASSWORD_VERIFIER responses) gets, once the password (or its SRP
// proof) verified, the DEVICE_SRP_AUTH challenge; the device answers with
// SRP_A, the service with DEVICE_PASSWORD_VERIFIER (SRP_B, SALT and a
// sealed SECRET_BLOCK holding b, as in srp.go), and the device proves its
// secret with SRP where the device group key takes the pool name's place:
// x = H(salt || H(groupKey || deviceKey || ":" || randomPassword)), the
// signature HMAC(K, groupKey || deviceKey || secretBlock || timestamp),
// exactly as amazon-cognito-identity-js computes them. A wrong proof counts
// as a failed sign-in (throttle.go). A remembered device then skips the
// second factor when the pool sets ChallengeRequiredOnNewDevice. A key
// that is not a device of the user answers ResourceNotFoundException
// "Device does not exist." (the JS library then signs in without it).
//
// ForgetDevice deletes the device and revokes the sign-ins issued to it
// (their refresh tokens, and their access tokens through RevokeOrigin).

const (
	deviceGroupPurpose = "gatehouse device group key v1"
	deviceBlockPurpose = "gatehouse device srp block v1"
	// ChallengeDeviceSRP and ChallengeDevicePasswordVerifier are Cognito's
	// device authentication challenges.
	ChallengeDeviceSRP              = "DEVICE_SRP_AUTH"
	ChallengeDevicePasswordVerifier = "DEVICE_PASSWORD_VERIFIER"
	maxDeviceNameLen                = 1024
	maxDeviceVerifierBytes          = 400 // N is 384 bytes, PadBytes adds one
	maxDeviceSaltBytes              = 64
	maxDeviceListLimit              = 60
	// maxDeviceScanBatches bounds the batches one ListDevices page reads
	// while skipping devices that are not remembered.
	maxDeviceScanBatches = 20
)

// deviceKeyRE is Cognito's DeviceKey pattern ([\w-]+_[0-9a-f-]+, 1-55).
var deviceKeyRE = regexp.MustCompile(`^[\w-]+_[0-9a-f-]+$`)

var (
	errDeviceNotFound = identity.Errorf(identity.CodeResourceNotFound, "Device does not exist.")
	errDeviceNotOwned = identity.Errorf(identity.CodeNotAuthorized, "Device does not belong to the user.")
	errNoTracking     = identity.Errorf(identity.CodeInvalidUserPoolConfig, "Device tracking is not enabled for this user pool.")
)

// NewDeviceMetadata is Cognito's NewDeviceMetadataType.
type NewDeviceMetadata struct {
	DeviceKey      string
	DeviceGroupKey string
}

// deviceCtx is what a sign-in knows about devices, carried in its
// context: track (the caller is a Cognito-surface client, not the hosted
// pages), param (the DEVICE_KEY the client sent) and known (the device
// that authenticated in this sign-in).
type deviceCtx struct {
	track bool
	param string
	known string
	ip    string // the client's address, the device's last_ip_used
}

type deviceCtxKey struct{}

func withDevice(ctx context.Context, d deviceCtx) context.Context {
	return context.WithValue(ctx, deviceCtxKey{}, d)
}

func deviceOf(ctx context.Context) deviceCtx {
	d, _ := ctx.Value(deviceCtxKey{}).(deviceCtx)
	return d
}

// deviceGroupKey is u's DeviceGroupKey: stable, unguessable, no storage.
func (s *Service) deviceGroupKey(p *identity.Pool, sub string) string {
	mac := s.cfg.Secrets.MAC(deviceGroupPurpose, []byte(p.ID+"\x00"+sub))
	return "-" + base64.RawURLEncoding.EncodeToString(mac[:12])
}

// newDeviceMetadata makes the DeviceKey of a new device of u.
func (s *Service) newDeviceMetadata(p *identity.Pool, u *identity.User) (*NewDeviceMetadata, error) {
	id, err := s.newSub()
	if err != nil {
		return nil, err
	}
	return &NewDeviceMetadata{DeviceKey: p.Region() + "_" + id, DeviceGroupKey: s.deviceGroupKey(p, u.Sub)}, nil
}

// deviceChallenge is called in completeSignIn once u's first factor
// verified: with a DEVICE_KEY in a tracked pool it answers
// DEVICE_SRP_AUTH for a device of u, ResourceNotFound for any other key;
// otherwise nil.
func (s *Service) deviceChallenge(ctx context.Context, p *identity.Pool, cl *identity.AppClient, u *identity.User, amr []string) (*AuthResult, error) {
	dc := deviceOf(ctx)
	if !p.Settings.Devices.Tracked || !dc.track || dc.param == "" {
		return nil, nil
	}
	d, err := s.userDevice(ctx, s.cfg.Store, p, u, dc.param)
	if err != nil {
		if errors.Is(err, errDeviceNotOwned) {
			err = errDeviceNotFound // a sign-in learns nothing of others' devices
		}
		return nil, err
	}
	session, err := s.challengeSessionWith(ctx, p, cl, u, ChallengeDeviceSRP, map[string]any{"amr": amr, "device_key": d.Key})
	if err != nil {
		return nil, err
	}
	return &AuthResult{Challenge: &Challenge{Name: ChallengeDeviceSRP, Session: session,
		Parameters: map[string]string{"USERNAME": cognitoUsername(p, u)}}}, nil
}

// userDevice loads u's device key: errDeviceNotFound when the pool has no
// such device, errDeviceNotOwned when it is another user's.
func (s *Service) userDevice(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User, key string) (*identity.Device, error) {
	if len(key) > 55 || !deviceKeyRE.MatchString(key) {
		return nil, errDeviceNotFound
	}
	d, err := q.GetDevice(ctx, p.ID, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errDeviceNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get device: %w", err)
	}
	if d.UserSub != u.Sub {
		return nil, errDeviceNotOwned
	}
	return d, nil
}

// deviceBlock is the DEVICE_PASSWORD_VERIFIER's SECRET_BLOCK, sealed.
type deviceBlock struct {
	Pool    string `json:"p"`
	Client  string `json:"c"`
	Sub     string `json:"s"`
	Device  string `json:"d"`
	A       string `json:"a"` // hex
	B       string `json:"b"` // server's secret exponent, hex
	Expires int64  `json:"e"` // Unix ms
}

// respondDevice answers DEVICE_SRP_AUTH and DEVICE_PASSWORD_VERIFIER.
func (s *Service) respondDevice(ctx context.Context, p *identity.Pool, cl *identity.AppClient, in RespondInput) (*AuthResult, error) {
	claims, u, err := s.verifyChallengeSession(ctx, p, cl, in)
	if err != nil {
		return nil, err
	}
	if u.Status != identity.StatusConfirmed || !u.Enabled || !p.Settings.Devices.Tracked {
		return nil, errInvalidSession
	}
	key := strClaim(claims, "device_key")
	if got := in.Responses["DEVICE_KEY"]; got == "" {
		return nil, identity.FieldError("DEVICE_KEY", "Missing required parameter DEVICE_KEY")
	} else if got != key {
		return nil, errInvalidSession
	}
	d, err := s.userDevice(ctx, s.cfg.Store, p, u, key)
	if err != nil {
		return nil, err
	}
	amr := strList(claims["amr"])
	if in.ChallengeName == ChallengeDeviceSRP {
		return s.deviceSRPChallenge(ctx, p, cl, u, d, amr, in.Responses["SRP_A"])
	}
	if err := s.checkDeviceProof(ctx, p, cl, u, d, in.Responses); err != nil {
		return nil, err
	}
	dc := deviceOf(ctx)
	dc.known = d.Key
	ctx = withDevice(ctx, dc)
	if !(p.Settings.Devices.ChallengeRequiredOnNewDevice && d.Status == identity.DeviceRemembered) {
		if res, err := s.mfaChallenge(ctx, p, cl, u, amr); res != nil || err != nil {
			return res, err
		}
	}
	return s.finishSignIn(ctx, p, cl, u, "device_srp", amr)
}

// deviceSRPChallenge is device SRP's first round: B from the device's
// verifier, b sealed in SECRET_BLOCK.
func (s *Service) deviceSRPChallenge(ctx context.Context, p *identity.Pool, cl *identity.AppClient, u *identity.User, d *identity.Device, amr []string, aHex string) (*AuthResult, error) {
	if aHex == "" {
		return nil, identity.FieldError("SRP_A", "Missing required parameter SRP_A")
	}
	A, ok := parseHexInt(aHex, maxSRPAHexLen)
	if !ok || !srp.ValidPublic(A) {
		return nil, identity.FieldError("SRP_A", "SRP_A is not a valid SRP public value.")
	}
	salt, ok1 := parseHexInt(d.Salt, 2*maxDeviceSaltBytes)
	v, ok2 := parseHexInt(d.Verifier, 2*maxDeviceVerifierBytes)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("device %s: malformed verifier", d.Key)
	}
	b, err := srp.RandomExponent(s.cfg.Rand, srpServerExpSize)
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(deviceBlock{Pool: p.ID, Client: cl.ID, Sub: u.Sub, Device: d.Key,
		A: A.Text(16), B: b.Text(16), Expires: s.now().Add(srpBlockTTL).UnixMilli()})
	if err != nil {
		return nil, err
	}
	sealed, err := s.cfg.Secrets.Seal(deviceBlockPurpose, plain)
	if err != nil {
		return nil, err
	}
	session, err := s.challengeSessionWith(ctx, p, cl, u, ChallengeDevicePasswordVerifier, map[string]any{"amr": amr, "device_key": d.Key})
	if err != nil {
		return nil, err
	}
	return &AuthResult{Challenge: &Challenge{Name: ChallengeDevicePasswordVerifier, Session: session,
		Parameters: map[string]string{
			"SALT":         salt.Text(16),
			"SRP_B":        srp.ServerB(v, b).Text(16),
			"SECRET_BLOCK": base64.StdEncoding.EncodeToString(sealed),
			"USERNAME":     cognitoUsername(p, u),
			"DEVICE_KEY":   d.Key,
		}}}, nil
}

// checkDeviceProof is device SRP's second round, under the sign-in
// throttle: a wrong proof is a failed attempt.
func (s *Service) checkDeviceProof(ctx context.Context, p *identity.Pool, cl *identity.AppClient, u *identity.User, d *identity.Device, r map[string]string) error {
	for _, k := range []string{"PASSWORD_CLAIM_SECRET_BLOCK", "PASSWORD_CLAIM_SIGNATURE", "TIMESTAMP"} {
		if r[k] == "" {
			return identity.FieldError(k, "Missing required parameter %s", k)
		}
	}
	blockText, sigText, ts := r["PASSWORD_CLAIM_SECRET_BLOCK"], r["PASSWORD_CLAIM_SIGNATURE"], r["TIMESTAMP"]
	if len(blockText) > maxSecretBlock || len(sigText) > maxSignatureLen || len(ts) > maxTimestampLen {
		return errInvalidSRPBlock
	}
	raw, err := base64.StdEncoding.DecodeString(blockText)
	if err != nil {
		return errInvalidSRPBlock
	}
	plain, err := s.cfg.Secrets.Open(deviceBlockPurpose, raw)
	if err != nil {
		return errInvalidSRPBlock
	}
	var blk deviceBlock
	if err := json.Unmarshal(plain, &blk); err != nil {
		return errInvalidSRPBlock
	}
	now := s.now()
	if blk.Pool != p.ID || blk.Client != cl.ID || blk.Sub != u.Sub || blk.Device != d.Key || now.UnixMilli() >= blk.Expires {
		return errInvalidSRPBlock
	}
	when, ok := parseSRPTimestamp(ts)
	if !ok {
		return identity.FieldError("TIMESTAMP", "TIMESTAMP must look like \"Sun Nov 22 01:37:29 UTC 2026\".")
	}
	if dt := now.Sub(when); dt > srpClockSkew || dt < -srpClockSkew {
		return identity.Errorf(identity.CodeNotAuthorized, "TIMESTAMP is more than %s away from the server's time.", humanDuration(srpClockSkew))
	}
	sig, err := base64.StdEncoding.DecodeString(sigText)
	if err != nil {
		return identity.FieldError("PASSWORD_CLAIM_SIGNATURE", "PASSWORD_CLAIM_SIGNATURE must be base64.")
	}
	A, ok1 := parseHexInt(blk.A, maxSRPAHexLen)
	b, ok2 := parseHexInt(blk.B, 2*srpServerExpSize+2)
	v, ok3 := parseHexInt(d.Verifier, 2*maxDeviceVerifierBytes)
	if !ok1 || !ok2 || !ok3 {
		return errInvalidSRPBlock
	}
	err = s.throttled(ctx, p, u, func() (bool, error) {
		key, err := srp.ServerKey(A, srp.ServerB(v, b), b, v)
		if err != nil {
			return false, nil
		}
		want := srp.Signature(key, d.GroupKey, d.Key, raw, ts)
		return hmac.Equal(want, sig), nil
	}, nil)
	if err != nil {
		reason := "wrong_device_proof"
		if r, ok := isThrottleRefusal(err); ok {
			reason = r
		}
		s.auditFailure(ctx, p, "user:"+u.Sub, reason, cl.ID)
	}
	return err
}

// touchDevice records a device sign-in (last IP, time) through q.
func (s *Service) touchDevice(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User, key string) error {
	d, err := q.GetDevice(ctx, p.ID, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil // a new device, not confirmed yet
	}
	if err != nil {
		return fmt.Errorf("get device: %w", err)
	}
	if d.UserSub != u.Sub {
		return nil
	}
	d.LastAuthAt = s.now()
	if ip := deviceOf(ctx).ip; ip != "" {
		d.LastIP = ip
	}
	return q.UpdateDevice(ctx, d)
}

// ConfirmDeviceInput is ConfirmDevice's request.
type ConfirmDeviceInput struct {
	AccessToken string
	DeviceKey   string
	// Salt and PasswordVerifier are the DeviceSecretVerifierConfig, base64
	// of the big-endian bytes (as amazon-cognito-identity-js sends them).
	Salt             string
	PasswordVerifier string
	HasVerifier      bool // DeviceSecretVerifierConfig was given
	DeviceName       string
	Meta             RequestMeta
}

// ConfirmDevice stores the access token's new device (the device_key its
// sign-in was issued) with its SRP verifier. It returns Cognito's
// UserConfirmationNecessary: true when the pool remembers devices only on
// the user's prompt (the device is then not_remembered until
// UpdateDeviceStatus). Errors: the access token's; invalid_user_pool_config
// when the pool does not track devices; invalid_parameter for a missing or
// malformed key or verifier; not_authorized for a key the token's sign-in
// was not issued, or one confirmed already.
func (s *Service) ConfirmDevice(ctx context.Context, in ConfirmDeviceInput) (bool, error) {
	p, u, claims, err := s.authenticateSelf(ctx, in.AccessToken)
	if err != nil {
		return false, err
	}
	if !p.Settings.Devices.Tracked {
		return false, errNoTracking
	}
	if err := checkDeviceKey(in.DeviceKey); err != nil {
		return false, err
	}
	if !in.HasVerifier {
		return false, identity.FieldError("DeviceSecretVerifierConfig", "DeviceSecretVerifierConfig is required.")
	}
	salt, err := decodeDeviceNumber("Salt", in.Salt, maxDeviceSaltBytes)
	if err != nil {
		return false, err
	}
	v, err := decodeDeviceNumber("PasswordVerifier", in.PasswordVerifier, maxDeviceVerifierBytes)
	if err != nil {
		return false, err
	}
	if !srp.ValidPublic(v) || v.Cmp(srp.N) >= 0 {
		return false, identity.FieldError("PasswordVerifier", "PasswordVerifier is not a valid SRP verifier.")
	}
	if len(in.DeviceName) > maxDeviceNameLen {
		return false, identity.FieldError("DeviceName", "1 validation error detected: Value at 'deviceName' failed to satisfy constraint: Member must have length less than or equal to 1024")
	}
	if strClaim(claims, "device_key") != in.DeviceKey {
		return false, identity.Errorf(identity.CodeNotAuthorized, "The device key was not issued to this sign-in.")
	}
	now := s.now()
	status := identity.DeviceRemembered
	if p.Settings.Devices.OnlyRememberedOnUserPrompt {
		status = identity.DeviceNotRemembered
	}
	d := &identity.Device{PoolID: p.ID, Key: in.DeviceKey, UserSub: u.Sub, GroupKey: s.deviceGroupKey(p, u.Sub),
		Name: in.DeviceName, Status: status, Salt: salt.Text(16), Verifier: v.Text(16), LastIP: in.Meta.IP,
		CreatedAt: now, UpdatedAt: now, LastAuthAt: now}
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		if err := q.InsertDevice(ctx, d); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return identity.Errorf(identity.CodeNotAuthorized, "The device is confirmed already.")
			}
			return fmt.Errorf("insert device: %w", err)
		}
		return s.audit(ctx, q, p.ID, "user.device_confirmed", "user:"+u.Sub, map[string]string{"device_key": d.Key, "status": status})
	})
	if err != nil {
		return false, wrapStoreErr("confirm device", err)
	}
	return p.Settings.Devices.OnlyRememberedOnUserPrompt, nil
}

func checkDeviceKey(key string) error {
	if key == "" {
		return identity.FieldError("DeviceKey", "1 validation error detected: Value null at 'deviceKey' failed to satisfy constraint: Member must not be null")
	}
	if len(key) > 55 || !deviceKeyRE.MatchString(key) {
		return identity.FieldError("DeviceKey", "1 validation error detected: Value '%s' at 'deviceKey' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w-]+_[0-9a-f-]+", safeEcho(key))
	}
	return nil
}

// decodeDeviceNumber reads a base64 big-endian number of at most max bytes.
func decodeDeviceNumber(field, b64 string, max int) (*big.Int, error) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) == 0 || len(raw) > max {
		return nil, identity.FieldError(field, "%s must be base64 of at most %d bytes.", field, max)
	}
	x := new(big.Int).SetBytes(raw)
	if x.Sign() == 0 {
		return nil, identity.FieldError(field, "%s must not be zero.", field)
	}
	return x, nil
}

// DevicePage is a page of ListDevices.
type DevicePage struct {
	Devices []*identity.Device
	Next    string // PaginationToken, "" on the last page
}

// deviceOwner names whose devices an operation reads: the user of an
// access token (accessToken != ""); user username of pool poolID for an
// administrator; or user sub of poolID for the hosted account page, whose
// session is the proof (sub != "").
type deviceOwner struct {
	accessToken, poolID, username, sub string
}

// admin reports whether the caller acts on someone else's devices.
func (o deviceOwner) admin() bool { return o.accessToken == "" && o.sub == "" && o.poolID != "" }

// deviceTarget runs fn, in one transaction, on the user o names; an
// administrator's context gets through only as adminTarget allows
// (checkCompanyAdminTarget).
func (s *Service) deviceTarget(ctx context.Context, o deviceOwner, fn func(q store.Querier, p *identity.Pool, u *identity.User) error) error {
	switch {
	case o.sub != "":
		return wrapStoreErr("device", s.userTx(ctx, o.poolID, o.sub, fn))
	case o.admin():
		return wrapStoreErr("device", s.cfg.Store.InTx(ctx, func(q store.Querier) error {
			p, u, err := s.adminTarget(ctx, q, o.poolID, o.username)
			if err != nil {
				return err
			}
			return fn(q, p, u)
		}))
	}
	p, u, _, err := s.authenticateSelf(ctx, o.accessToken)
	if err != nil {
		return err
	}
	return wrapStoreErr("device", s.cfg.Store.InTx(ctx, func(q store.Querier) error { return fn(q, p, u) }))
}

// GetDevice returns a device of the user: the access token's (GetDevice),
// or username's in poolID for an administrator (AdminGetDevice, with
// accessToken ""). Errors: resource_not_found "Device does not exist.",
// not_authorized for another user's device, the caller's.
func (s *Service) GetDevice(ctx context.Context, accessToken, poolID, username, key string) (*identity.Device, error) {
	if err := checkDeviceKey(key); err != nil {
		return nil, err
	}
	var d *identity.Device
	err := s.deviceTarget(ctx, deviceOwner{accessToken: accessToken, poolID: poolID, username: username}, func(q store.Querier, p *identity.Pool, u *identity.User) error {
		var err error
		d, err = s.userDevice(ctx, q, p, u, key)
		return err
	})
	return d, err
}

// ListDevices lists the user's devices (as GetDevice names the user), by
// key; limit 0..60 (0: 60), token the previous page's Next.
func (s *Service) ListDevices(ctx context.Context, accessToken, poolID, username string, limit int, token string) (*DevicePage, error) {
	return s.listDevices(ctx, deviceOwner{accessToken: accessToken, poolID: poolID, username: username}, limit, token)
}

func (s *Service) listDevices(ctx context.Context, o deviceOwner, limit int, token string) (*DevicePage, error) {
	if limit < 0 || limit > maxDeviceListLimit {
		return nil, identity.FieldError("Limit", "1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 60", limit)
	}
	if limit == 0 {
		limit = maxDeviceListLimit
	}
	after := ""
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || !deviceKeyRE.Match(raw) || len(raw) > 55 {
			return nil, identity.FieldError("PaginationToken", "Invalid pagination token.")
		}
		after = string(raw)
	}
	// The user's own ListDevices answers remembered devices only, as
	// Cognito does (docs/cognito.md): a device confirmed in a pool that
	// remembers devices on the user's prompt is tracked but not listed
	// until UpdateDeviceStatus remembers it. Administrators, the console
	// and the account page see every device.
	rememberedOnly := o.accessToken != ""
	out := &DevicePage{}
	err := s.deviceTarget(ctx, o, func(q store.Querier, p *identity.Pool, u *identity.User) error {
		from, kept := after, []*identity.Device(nil)
		for batch := 0; ; batch++ {
			ds, err := q.ListDevices(ctx, p.ID, u.Sub, from, limit+1)
			if err != nil {
				return fmt.Errorf("list devices: %w", err)
			}
			for _, d := range ds {
				if !rememberedOnly || d.Status == identity.DeviceRemembered {
					kept = append(kept, d)
				}
			}
			if len(kept) > limit {
				kept = kept[:limit]
				out.Next = base64.RawURLEncoding.EncodeToString([]byte(kept[limit-1].Key))
				break
			}
			if len(ds) <= limit {
				break // no more devices
			}
			from = ds[len(ds)-1].Key
			if batch == maxDeviceScanBatches {
				// A short page that goes on after what was read.
				out.Next = base64.RawURLEncoding.EncodeToString([]byte(from))
				break
			}
		}
		out.Devices = kept
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateDeviceStatus sets a device's status, remembered or not_remembered
// (as GetDevice names the user).
func (s *Service) UpdateDeviceStatus(ctx context.Context, accessToken, poolID, username, key, status string) error {
	if err := checkDeviceKey(key); err != nil {
		return err
	}
	switch status {
	case identity.DeviceRemembered, identity.DeviceNotRemembered:
	case "":
		// Cognito's DeviceRememberedStatus is optional; nothing changes.
	default:
		return identity.FieldError("DeviceRememberedStatus", "1 validation error detected: Value '%s' at 'deviceRememberedStatus' failed to satisfy constraint: Member must satisfy enum value set: [not_remembered, remembered]", safeEcho(status))
	}
	o := deviceOwner{accessToken: accessToken, poolID: poolID, username: username}
	return s.deviceTarget(ctx, o, func(q store.Querier, p *identity.Pool, u *identity.User) error {
		d, err := s.userDevice(ctx, q, p, u, key)
		if err != nil || status == "" {
			return err
		}
		d.Status, d.UpdatedAt = status, s.now()
		if err := q.UpdateDevice(ctx, d); err != nil {
			return fmt.Errorf("update device: %w", err)
		}
		action := "user.device_status"
		if o.admin() {
			action = "admin.user_device_status"
		}
		return s.audit(ctx, q, p.ID, action, "user:"+u.Sub, map[string]string{"device_key": key, "status": status})
	})
}

// ForgetDevice deletes a device (as GetDevice names the user) and ends the
// sign-ins issued to it: their refresh tokens are revoked and their access
// tokens refused (RevokeOrigin), in the same transaction. Audited as
// user.device_forgotten, admin.user_device_forgotten for an administrator.
func (s *Service) ForgetDevice(ctx context.Context, accessToken, poolID, username, key string) error {
	return s.forgetDevice(ctx, deviceOwner{accessToken: accessToken, poolID: poolID, username: username}, key)
}

func (s *Service) forgetDevice(ctx context.Context, o deviceOwner, key string) error {
	if err := checkDeviceKey(key); err != nil {
		return err
	}
	now := s.now()
	return s.deviceTarget(ctx, o, func(q store.Querier, p *identity.Pool, u *identity.User) error {
		if _, err := s.userDevice(ctx, q, p, u, key); err != nil {
			return err
		}
		if err := q.DeleteDevice(ctx, p.ID, u.Sub, key); err != nil {
			return fmt.Errorf("delete device: %w", err)
		}
		origins, err := q.RevokeDeviceRefreshTokens(ctx, p.ID, key, now)
		if err != nil {
			return fmt.Errorf("revoke device tokens: %w", err)
		}
		for _, o := range origins {
			if err := revokeOrigin(ctx, q, p.ID, u.Sub, o, now); err != nil {
				return err
			}
		}
		action := "user.device_forgotten"
		if o.admin() {
			action = "admin.user_device_forgotten"
		}
		return s.audit(ctx, q, p.ID, action, "user:"+u.Sub, map[string]string{"device_key": key,
			"sessions_ended": fmt.Sprint(len(origins))})
	})
}

// ListUserDevices lists user sub's remembered devices (at most 60, by
// key) for the hosted account page, whose session names the user.
func (s *Service) ListUserDevices(ctx context.Context, poolID, sub string) ([]*identity.Device, error) {
	page, err := s.listDevices(ctx, deviceOwner{poolID: poolID, sub: sub}, 0, "")
	if err != nil {
		return nil, err
	}
	return page.Devices, nil
}

// ForgetUserDevice forgets one of user sub's devices from the hosted
// account page, ending its sign-ins (as ForgetDevice). Errors:
// resource_not_found "Device does not exist." (also for another user's
// device: the page learns nothing of others'), invalid_parameter for a
// malformed key.
func (s *Service) ForgetUserDevice(ctx context.Context, poolID, sub, key string) error {
	err := s.forgetDevice(ctx, deviceOwner{poolID: poolID, sub: sub}, key)
	if errors.Is(err, errDeviceNotOwned) {
		return errDeviceNotFound
	}
	return err
}

// ConsoleUserDevices lists a user's devices (at most 60, by key) for the
// console, with ConsoleUserSessions' rules: any user for a pool admin,
// plain members of their companies for a company admin (checkMember, then
// checkCompanyAdminTarget in the read's transaction). Errors: forbidden,
// user_not_found, resource_not_found.
func (s *Service) ConsoleUserDevices(ctx context.Context, poolID, username string) ([]*identity.Device, error) {
	u, err := s.checkMember(ctx, poolID, username)
	if err != nil {
		return nil, err
	}
	if callerSub(ctx) != "" {
		ctx = context.WithValue(ctx, companyAdminActionKey{}, true)
	}
	page, err := s.listDevices(ctx, deviceOwner{poolID: poolID, username: u.Username}, 0, "")
	if err != nil {
		return nil, err
	}
	return page.Devices, nil
}

// ConsoleForgetDevice forgets one of a user's devices from the console,
// with ConsoleUserDevices' rules, ending its sign-ins in the same
// transaction; audited admin.user_device_forgotten. Another user's key
// under this user's name is resource_not_found, as an unknown one.
func (s *Service) ConsoleForgetDevice(ctx context.Context, poolID, username, key string) error {
	u, err := s.checkMember(ctx, poolID, username)
	if err != nil {
		return err
	}
	if callerSub(ctx) != "" {
		ctx = context.WithValue(ctx, companyAdminActionKey{}, true)
	}
	err = s.forgetDevice(ctx, deviceOwner{poolID: poolID, username: u.Username}, key)
	if errors.Is(err, errDeviceNotOwned) {
		return errDeviceNotFound // another user's key under this user's name
	}
	return err
}

// checkRefreshDevice checks the DEVICE_KEY a refresh names against the
// device its family was issued to: none named, or no device, is fine.
func checkRefreshDevice(rt *identity.RefreshToken, param string) error {
	if param == "" || rt.DeviceKey == "" || param == rt.DeviceKey {
		return nil
	}
	return identity.Errorf(identity.CodeNotAuthorized, "Invalid device key given.")
}
