// Package password hashes passwords with argon2id and checks them against a
// pool's password policy.
//
// Hashing: a Hasher runs at most maxConcurrent argon2id computations at once
// (each needs Params.Memory KiB, 19 MiB by default), so a burst of sign-ins
// queues instead of exhausting memory. A caller whose context ends while it
// waits gets CodeTooManyRequests. Hashes are PHC strings
// ($argon2id$v=19$m=19456,t=2,p=1$salt$hash) of the NFC-normalised password;
// Verify reads the parameters
// from the string (refusing absurd ones, as hashes can be imported), and
// NeedsRehash tells the caller to store a new hash after a successful
// sign-in when the parameters changed. VerifyDummy costs what a Verify
// costs, for unknown users, so timing does not reveal who exists.
//
// Flow of a sign-in:
//
//	user found?  yes -> Verify(stored, pw) -> ok && NeedsRehash -> Hash, store
//	             no  -> VerifyDummy(pw)    -> answer "Incorrect username or password."
//
// Policy: Validate applies NIST SP 800-63B-4 (length in code points after
// NFC, blocklist of common passwords and trivial patterns, the pool's own
// blocked words, the user's own name/email) plus Cognito's optional
// composition flags. Generate makes temporary passwords that pass the policy.
//
// Metrics (default Prometheus registry): gatehouse_password_hashes_in_flight,
// gatehouse_password_hash_queue_waiting, gatehouse_password_hash_seconds.
package password
