package cognito

// operations is every X-Amz-Target Gatehouse serves, with whether AWS
// requires SigV4 for it. Anything else answers UnknownOperationException
// naming the operation.
var operations = map[string]operation{
	// Public (unsigned): the client id or the access token names the pool.
	"SignUp":                           {false, (*Handler).signUp},
	"ConfirmSignUp":                    {false, (*Handler).confirmSignUp},
	"ResendConfirmationCode":           {false, (*Handler).resendConfirmationCode},
	"InitiateAuth":                     {false, (*Handler).initiateAuth},
	"RespondToAuthChallenge":           {false, (*Handler).respondToAuthChallenge},
	"GetTokensFromRefreshToken":        {false, (*Handler).getTokensFromRefreshToken},
	"ForgotPassword":                   {false, (*Handler).forgotPassword},
	"ConfirmForgotPassword":            {false, (*Handler).confirmForgotPassword},
	"ChangePassword":                   {false, (*Handler).changePassword},
	"GetUser":                          {false, (*Handler).getUser},
	"UpdateUserAttributes":             {false, (*Handler).updateUserAttributes},
	"DeleteUserAttributes":             {false, (*Handler).deleteUserAttributes},
	"VerifyUserAttribute":              {false, (*Handler).verifyUserAttribute},
	"GetUserAttributeVerificationCode": {false, (*Handler).getUserAttributeVerificationCode},
	"DeleteUser":                       {false, (*Handler).deleteUser},
	"GlobalSignOut":                    {false, (*Handler).globalSignOut},
	"RevokeToken":                      {false, (*Handler).revokeToken},
	"StartWebAuthnRegistration":        {false, (*Handler).startWebAuthnRegistration},
	"CompleteWebAuthnRegistration":     {false, (*Handler).completeWebAuthnRegistration},
	"ListWebAuthnCredentials":          {false, (*Handler).listWebAuthnCredentials},
	"DeleteWebAuthnCredential":         {false, (*Handler).deleteWebAuthnCredential},
	"AssociateSoftwareToken":           {false, (*Handler).associateSoftwareToken},
	"VerifySoftwareToken":              {false, (*Handler).verifySoftwareToken},
	"SetUserMFAPreference":             {false, (*Handler).setUserMFAPreference},
	"ConfirmDevice":                    {false, (*Handler).confirmDevice},
	"GetDevice":                        {false, (*Handler).getDevice},
	"ListDevices":                      {false, (*Handler).listDevices},
	"UpdateDeviceStatus":               {false, (*Handler).updateDeviceStatus},
	"ForgetDevice":                     {false, (*Handler).forgetDevice},

	// Pools and app clients (SigV4).
	"CreateUserPool":         {true, (*Handler).createUserPool},
	"DescribeUserPool":       {true, (*Handler).describeUserPool},
	"ListUserPools":          {true, (*Handler).listUserPools},
	"UpdateUserPool":         {true, (*Handler).updateUserPool},
	"DeleteUserPool":         {true, (*Handler).deleteUserPool},
	"AddCustomAttributes":    {true, (*Handler).addCustomAttributes},
	"CreateUserPoolClient":   {true, (*Handler).createUserPoolClient},
	"DescribeUserPoolClient": {true, (*Handler).describeUserPoolClient},
	"ListUserPoolClients":    {true, (*Handler).listUserPoolClients},
	"UpdateUserPoolClient":   {true, (*Handler).updateUserPoolClient},
	"DeleteUserPoolClient":   {true, (*Handler).deleteUserPoolClient},
	"GetUserPoolMfaConfig":   {true, (*Handler).getUserPoolMfaConfig},
	"SetUserPoolMfaConfig":   {true, (*Handler).setUserPoolMfaConfig},
	"TagResource":            {true, (*Handler).tagResource},
	"UntagResource":          {true, (*Handler).untagResource},
	"ListTagsForResource":    {true, (*Handler).listTagsForResource},

	// Domains (SigV4).
	"CreateUserPoolDomain":   {true, (*Handler).createUserPoolDomain},
	"DescribeUserPoolDomain": {true, (*Handler).describeUserPoolDomain},
	"UpdateUserPoolDomain":   {true, (*Handler).updateUserPoolDomain},
	"DeleteUserPoolDomain":   {true, (*Handler).deleteUserPoolDomain},

	// Resource servers (SigV4).
	"CreateResourceServer":   {true, (*Handler).createResourceServer},
	"DescribeResourceServer": {true, (*Handler).describeResourceServer},
	"UpdateResourceServer":   {true, (*Handler).updateResourceServer},
	"DeleteResourceServer":   {true, (*Handler).deleteResourceServer},
	"ListResourceServers":    {true, (*Handler).listResourceServers},

	// Identity providers (SigV4).
	"CreateIdentityProvider":          {true, (*Handler).createIdentityProvider},
	"DescribeIdentityProvider":        {true, (*Handler).describeIdentityProvider},
	"UpdateIdentityProvider":          {true, (*Handler).updateIdentityProvider},
	"DeleteIdentityProvider":          {true, (*Handler).deleteIdentityProvider},
	"ListIdentityProviders":           {true, (*Handler).listIdentityProviders},
	"GetIdentityProviderByIdentifier": {true, (*Handler).getIdentityProviderByIdentifier},

	// Users (SigV4).
	"AdminCreateUser":             {true, (*Handler).adminCreateUser},
	"AdminGetUser":                {true, (*Handler).adminGetUser},
	"AdminDeleteUser":             {true, (*Handler).adminDeleteUser},
	"AdminConfirmSignUp":          {true, (*Handler).adminConfirmSignUp},
	"AdminDisableUser":            {true, (*Handler).adminDisableUser},
	"AdminEnableUser":             {true, (*Handler).adminEnableUser},
	"AdminSetUserPassword":        {true, (*Handler).adminSetUserPassword},
	"AdminResetUserPassword":      {true, (*Handler).adminResetUserPassword},
	"AdminInitiateAuth":           {true, (*Handler).adminInitiateAuth},
	"AdminRespondToAuthChallenge": {true, (*Handler).adminRespondToAuthChallenge},
	"AdminUpdateUserAttributes":   {true, (*Handler).adminUpdateUserAttributes},
	"AdminDeleteUserAttributes":   {true, (*Handler).adminDeleteUserAttributes},
	"AdminUserGlobalSignOut":      {true, (*Handler).adminUserGlobalSignOut},
	"ListUsers":                   {true, (*Handler).listUsers},
	"ListUsersInGroup":            {true, (*Handler).listUsersInGroup},
	"AdminLinkProviderForUser":    {true, (*Handler).adminLinkProviderForUser},
	"AdminDisableProviderForUser": {true, (*Handler).adminDisableProviderForUser},
	"AdminSetUserMFAPreference":   {true, (*Handler).adminSetUserMFAPreference},
	"AdminListUserAuthEvents":     {true, (*Handler).adminListUserAuthEvents},
	"AdminGetDevice":              {true, (*Handler).adminGetDevice},
	"AdminListDevices":            {true, (*Handler).adminListDevices},
	"AdminUpdateDeviceStatus":     {true, (*Handler).adminUpdateDeviceStatus},
	"AdminForgetDevice":           {true, (*Handler).adminForgetDevice},

	// Groups (SigV4).
	"AdminAddUserToGroup":      {true, (*Handler).adminAddUserToGroup},
	"AdminRemoveUserFromGroup": {true, (*Handler).adminRemoveUserFromGroup},
	"AdminListGroupsForUser":   {true, (*Handler).adminListGroupsForUser},
	"CreateGroup":              {true, (*Handler).createGroup},
	"GetGroup":                 {true, (*Handler).getGroup},
	"ListGroups":               {true, (*Handler).listGroups},
	"UpdateGroup":              {true, (*Handler).updateGroup},
	"DeleteGroup":              {true, (*Handler).deleteGroup},
}

// Operations returns the names of the operations Gatehouse serves and
// whether each needs SigV4, for documentation and tests.
func Operations() map[string]bool {
	out := make(map[string]bool, len(operations))
	for k, op := range operations {
		out[k] = op.signed
	}
	return out
}
