// Package hooks calls a pool's webhooks: the Cognito Lambda triggers of the
// articles (PreSignUp, PostConfirmation, PreTokenGeneration V1 and V2,
// CustomMessage) as signed HTTP POSTs carrying Cognito's event shapes
// (github.com/aws/aws-lambda-go/events), so handlers written for Lambda port
// with little change.
//
// # One call
//
//	Gatehouse                                     hook (the pool admin's server)
//	  POST <url>                       ------->
//	    Content-Type: application/json
//	    webhook-id: <id, stable across retries>
//	    webhook-timestamp: <unix seconds of this attempt>
//	    webhook-signature: v1,<base64 HMAC-SHA256(secret, "<id>.<unix>." + body)>
//	    X-Gatehouse-Trigger: <triggerSource>
//	    X-Gatehouse-Delivery, X-Gatehouse-Signature: the previous
//	        release's id and signature, deprecated (LegacySignatureHeader)
//	    body: the event (header fields, request, empty response)
//	                                   <-------  200 + the event with "response" filled in
//	                                             (or 4xx + {"errorMessage": "..."} to reject)
//
// Outcomes (Client.Call):
//
//   - 2xx with a JSON body whose "response" decodes strictly (unknown fields
//     refused) into the trigger's response type: success. A 2xx with an
//     empty body means "no changes".
//   - 4xx with {"errorMessage": "..."} (Lambda's error shape; "message" and
//     "error" are accepted too): a rejection, *Error with KindRejected;
//     callers show it as Cognito does: "<Trigger> failed with error <msg>."
//   - a timeout (the hook's timeout_ms, at most 5 s), a connection error,
//     a redirect (never followed), 5xx, or any other status: KindUnexpected.
//   - a 2xx whose body is over MaxResponseBytes, not JSON, or has unknown
//     or mistyped response fields: KindInvalidResponse.
//
// # Security
//
// Deliveries are signed as the Standard Webhooks specification says: the
// id, the timestamp and the body together, so a receiver refuses a body
// under another delivery's id, and refuses replays with VerifySignature's
// tolerance window plus the ids it has seen.
//
// Hook URLs are set by pool administrators, so a Client built without its
// own Transport applies an outbound network policy (network.go):
// loopback, private, link-local (cloud metadata), CGNAT, multicast and
// other internal addresses (DeniedNetworks) are refused on the address
// being dialled, after DNS resolution, unless the operator allowed them
// (Options.AllowedNetworks, Options.AllowedHosts). A refused connection
// looks like an unreachable one to the caller. Only http and https are
// accepted, redirects are never followed and answers are size-capped; see
// docs/hooks.md.
package hooks
