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
//	    X-Gatehouse-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<unix>." + body)>
//	    X-Gatehouse-Trigger: <triggerSource>
//	    X-Gatehouse-Delivery: <id, stable across retries>
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
// The body is signed with the hook's secret, and the timestamp is part of
// the signed string so a receiver can refuse replays (VerifySignature
// takes a tolerance). Hook URLs are set by pool administrators, who can
// point them anywhere an http(s) URL reaches, including addresses inside
// Gatehouse's network (SSRF): only http and https are accepted, redirects
// are never followed and answers are size-capped, but a deployment that
// gives pool administration to people it does not trust with its network
// should restrict egress (a proxy, firewall rules) — see docs/hooks.md.
package hooks
