package sqlstore

import (
	"context"
	"time"
)

// EpochResult counts what BumpEpoch invalidated.
type EpochResult struct {
	RefreshTokens int64 // refresh tokens revoked
	Codes         int64 // one-time codes deleted
	Users         int64 // users whose earlier access and ID tokens are refused
	SigningKeys   int64 // signing keys deleted (every pool's, all states)
}

// BumpEpoch starts a new token epoch, for the database just restored from
// a backup: everything issued before now that a client could still
// present is made useless, in one transaction:
//
//   - every refresh token is revoked (a token rotated after the backup
//     looks unused in the restored rows; now it is refused, and its reuse
//     does nothing);
//   - every one-time code is deleted (sign-up, recovery and verification
//     codes; a new one is requested with "resend");
//   - every user's TokensValidAfter becomes now (Gatehouse refuses access
//     and ID tokens issued before, as after a global sign-out);
//   - every signing key is deleted, so nothing signed before the bump
//     verifies here any more: access and ID tokens, and challenge
//     sessions, issued by the pre-restore server after the backup was
//     taken included. New keys are created by the caller
//     (token.Manager.EnsureKey per pool) or on first use.
//
// Approval links are left alone: a request still pending in the restored
// rows is undecided, so its links must keep working, and a link created
// after the backup is not in the restored rows at all.
func (db *DB) BumpEpoch(ctx context.Context, now time.Time) (EpochResult, error) {
	var res EpochResult
	ms := now.UTC().UnixMilli()
	err := db.inTx(ctx, func(q *querier) error {
		var err error
		if res.RefreshTokens, err = q.execN(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE revoked_at = 0`, ms); err != nil {
			return err
		}
		if res.Codes, err = q.execN(ctx, `DELETE FROM codes`); err != nil {
			return err
		}
		if res.Users, err = q.execN(ctx, `UPDATE users SET tokens_valid_after = ? WHERE tokens_valid_after < ?`, ms, ms); err != nil {
			return err
		}
		res.SigningKeys, err = q.execN(ctx, `DELETE FROM signing_keys`)
		return err
	})
	return res, err
}
