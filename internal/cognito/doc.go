// Package cognito serves Amazon Cognito's user pool API (JSON 1.1) over the
// auth Service, so that Amplify, amazon-cognito-identity-js and the AWS
// SDKs work with Gatehouse by pointing their endpoint at it.
//
// Request flow (handler.go):
//
//	POST / with X-Amz-Target: AWSCognitoIdentityProviderService.<Op>
//	  -> no X-Amz-Target: 404, like any unknown route
//	  -> unknown <Op>: UnknownOperationException naming it
//	  -> Content-Type application/x-amz-json-1.1 (or application/json)
//	  -> body read, capped (Options.MaxBodyBytes)
//	  -> signed operations (every Admin*, pool, client, group and ListUsers
//	     operation, as on AWS): SigV4 verified (sigv4.go) against
//	     Options.AccessKeys; the actor "sigv4:<access key id>" goes into the
//	     context for audit; the scope's region is the region of pools made
//	     by CreateUserPool
//	  -> the operation decodes its input (wire structs with Cognito's
//	     PascalCase member names), calls ONE auth.Service method, and
//	     encodes Cognito's output shape (wire.go)
//	  -> errors: exceptionFor (errors.go) is the one mapping from
//	     identity.Code to Cognito's exception names; HTTP 400 (500 for
//	     internal errors) with {"__type": ..., "message": ...} and the
//	     x-amzn-ErrorType header.
//
// The adapter translates; it never re-implements a flow. SRP parameters
// (SRP_A, PASSWORD_CLAIM_SIGNATURE, ...) and SECRET_HASH are passed to the
// service untouched (auth.InitiateAuthInput.Params, RespondInput.Responses,
// auth.Client.SecretHash).
//
// Operations table: operations.go. Differences from AWS: docs/cognito.md.
package cognito
