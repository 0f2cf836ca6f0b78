package hooks

import (
	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Trigger sources (Cognito's triggerSource values).
const (
	SourcePreSignUpSignUp           = "PreSignUp_SignUp"
	SourcePreSignUpAdminCreateUser  = "PreSignUp_AdminCreateUser"
	SourcePreSignUpExternalProvider = "PreSignUp_ExternalProvider"

	SourcePostConfirmationConfirmSignUp         = "PostConfirmation_ConfirmSignUp"
	SourcePostConfirmationConfirmForgotPassword = "PostConfirmation_ConfirmForgotPassword"

	SourceTokenAuthentication       = "TokenGeneration_Authentication"
	SourceTokenRefreshTokens        = "TokenGeneration_RefreshTokens"
	SourceTokenNewPasswordChallenge = "TokenGeneration_NewPasswordChallenge"
	SourceTokenHostedAuth           = "TokenGeneration_HostedAuth"

	SourceCustomMessageSignUp              = "CustomMessage_SignUp"
	SourceCustomMessageAdminCreateUser     = "CustomMessage_AdminCreateUser"
	SourceCustomMessageResendCode          = "CustomMessage_ResendCode"
	SourceCustomMessageForgotPassword      = "CustomMessage_ForgotPassword"
	SourceCustomMessageUpdateUserAttribute = "CustomMessage_UpdateUserAttribute"
	SourceCustomMessageVerifyUserAttribute = "CustomMessage_VerifyUserAttribute"
	SourceCustomMessageAuthentication      = "CustomMessage_Authentication"

	SourceUserMigrationAuthentication = "UserMigration_Authentication"
	SourceUserMigrationForgotPassword = "UserMigration_ForgotPassword"
)

// The event types are aws-lambda-go's, so a Go receiver can decode them
// with the same types a Lambda handler uses.
type (
	PreSignUpEvent          = events.CognitoEventUserPoolsPreSignup
	PreSignUpResponse       = events.CognitoEventUserPoolsPreSignupResponse
	PostConfirmationEvent   = events.CognitoEventUserPoolsPostConfirmation
	PreTokenGenEvent        = events.CognitoEventUserPoolsPreTokenGen
	PreTokenGenResponse     = events.CognitoEventUserPoolsPreTokenGenResponse
	PreTokenGenV2Event      = events.CognitoEventUserPoolsPreTokenGenV2_0
	PreTokenGenV2Response   = events.CognitoEventUserPoolsPreTokenGenResponseV2_0
	CustomMessageEvent      = events.CognitoEventUserPoolsCustomMessage
	CustomMessageResponse   = events.CognitoEventUserPoolsCustomMessageResponse
	UserMigrationEvent      = events.CognitoEventUserPoolsMigrateUser
	EventHeader             = events.CognitoEventUserPoolsHeader
	GroupConfiguration      = events.GroupConfiguration
	GroupConfigurationV2    = events.GroupConfigurationV2_0
	ClaimsOverrideDetails   = events.ClaimsOverrideDetails
	ClaimsAndScopeOverrides = events.ClaimsAndScopeOverrideDetailsV2_0
)

// UserMigrationResponse is the migrate-user trigger's answer: Cognito's
// fields (aws-lambda-go's type) plus enableSMSMFA, which AWS documents and
// aws-lambda-go lacks, so an answer carrying it is read and refused
// clearly rather than as an unknown field.
type UserMigrationResponse struct {
	events.CognitoEventUserPoolsMigrateUserResponse
	EnableSMSMFA bool `json:"enableSMSMFA"`
}

// Header returns the common event header. version is "1" for every
// trigger but pre_token_generation with version "2".
func Header(p *identity.Pool, clientID, source, userName, version string) EventHeader {
	if version == "" {
		version = "1"
	}
	return EventHeader{
		Version:       version,
		TriggerSource: source,
		Region:        p.Region(),
		UserPoolID:    p.ID,
		CallerContext: events.CognitoEventUserPoolsCallerContext{AWSSDKVersion: "gatehouse", ClientID: clientID},
		UserName:      userName,
	}
}

// ForbiddenClaims may never be added, overridden or suppressed by
// pre_token_generation (Cognito's list).
var ForbiddenClaims = map[string]bool{
	"acr": true, "amr": true, "aud": true, "at_hash": true, "auth_time": true, "azp": true,
	"cognito:username": true, "exp": true, "iat": true, "identities": true, "iss": true,
	"jti": true, "nbf": true, "nonce": true, "origin_jti": true, "sub": true, "token_use": true,
}
