"""The calls Cognito test suites make, through boto3, with the exception
names and messages real Cognito answers."""
import base64
import json
import uuid

import pytest

PASSWORD = "Passw0rd!"


def error(excinfo):
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"]


def jwt_part(token, i):
    part = token.split(".")[i]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_create_user_pool_defaults(idp, pool):
    p = idp.describe_user_pool(UserPoolId=pool["id"])["UserPool"]
    assert p["Policies"]["PasswordPolicy"] == {
        "MinimumLength": 8,
        "RequireUppercase": True,
        "RequireLowercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
        "TemporaryPasswordValidityDays": 7,
    }
    assert "UsernameAttributes" not in p and "AliasAttributes" not in p
    assert p["MfaConfiguration"] == "OFF"
    assert p["SchemaAttributes"][0]["Name"] == "sub"
    assert p["SchemaAttributes"][0]["StringAttributeConstraints"] == {"MinLength": "1", "MaxLength": "2048"}
    assert all(a["DeveloperOnlyAttribute"] is False for a in p["SchemaAttributes"])


def test_uuid_username_sign_up_and_sign_in(idp, pool):
    username = str(uuid.uuid4())
    out = idp.sign_up(ClientId=pool["client"], Username=username, Password=PASSWORD)
    assert out["UserConfirmed"] is False
    assert "CodeDeliveryDetails" not in out  # no email: nothing to send a code to
    idp.admin_confirm_sign_up(UserPoolId=pool["id"], Username=username)
    auth = idp.initiate_auth(
        ClientId=pool["client"], AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD}
    )["AuthenticationResult"]
    assert jwt_part(auth["IdToken"], 0)["alg"] == "RS256"
    assert jwt_part(auth["AccessToken"], 0)["alg"] == "RS256"
    claims = jwt_part(auth["AccessToken"], 1)
    assert claims["username"] == username and claims["sub"] == out["UserSub"]
    user = idp.get_user(AccessToken=auth["AccessToken"])
    assert user["Username"] == username
    got = idp.admin_get_user(UserPoolId=pool["id"], Username=username)
    assert got["UserStatus"] == "CONFIRMED" and got["Enabled"] is True


def test_email_shaped_username_without_alias(idp, pool):
    out = idp.sign_up(
        ClientId=pool["client"],
        Username="ann@example.org",
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "ann@example.org"}],
    )
    assert "CodeDeliveryDetails" not in out  # no AutoVerifiedAttributes: Cognito sends no code
    with pytest.raises(idp.exceptions.UsernameExistsException):
        idp.sign_up(ClientId=pool["client"], Username="ann@example.org", Password=PASSWORD)


def test_password_policy_messages(idp, pool):
    for pw, msg in [
        ("Ab1!", "Password did not conform with policy: Password not long enough"),
        ("abcdefg1!", "Password did not conform with policy: Password must have uppercase characters"),
        ("ABCDEFG1!", "Password did not conform with policy: Password must have lowercase characters"),
        ("Abcdefgh!", "Password did not conform with policy: Password must have numeric characters"),
        ("Abcdefgh1", "Password did not conform with policy: Password must have symbol characters"),
    ]:
        with pytest.raises(idp.exceptions.InvalidPasswordException) as e:
            idp.sign_up(ClientId=pool["client"], Username="pw-" + uuid.uuid4().hex, Password=pw)
        assert error(e) == ("InvalidPasswordException", msg)


def test_username_configurations(idp):
    alias = idp.create_user_pool(PoolName="py-alias", AliasAttributes=["email"])["UserPool"]
    email = idp.create_user_pool(PoolName="py-email", UsernameAttributes=["email"])["UserPool"]
    try:
        for p, username, msg in [
            (alias, "bob@example.org", "Username cannot be of email format, since user pool is configured for email alias."),
            (email, "bob", "Username should be either an email or a phone number."),
        ]:
            c = idp.create_user_pool_client(UserPoolId=p["Id"], ClientName="app")["UserPoolClient"]
            with pytest.raises(idp.exceptions.InvalidParameterException) as e:
                idp.sign_up(
                    ClientId=c["ClientId"],
                    Username=username,
                    Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": "bob@example.org"}],
                )
            assert error(e)[1] == msg
    finally:
        idp.delete_user_pool(UserPoolId=alias["Id"])
        idp.delete_user_pool(UserPoolId=email["Id"])


def test_admin_create_user_and_new_password(idp, pool):
    username = str(uuid.uuid4())
    u = idp.admin_create_user(
        UserPoolId=pool["id"], Username=username, TemporaryPassword="Temp0rary!", MessageAction="SUPPRESS"
    )["User"]
    assert u["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    r = idp.admin_initiate_auth(
        UserPoolId=pool["id"],
        ClientId=pool["client"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": "Temp0rary!"},
    )
    assert r["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    done = idp.admin_respond_to_auth_challenge(
        UserPoolId=pool["id"],
        ClientId=pool["client"],
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=r["Session"],
        ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": PASSWORD},
    )
    assert "AccessToken" in done["AuthenticationResult"]


def test_errors_carry_cognito_names(idp, pool):
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.describe_user_pool(UserPoolId="eu-west-1_nopenope1")
    with pytest.raises(idp.exceptions.UserNotFoundException):
        idp.admin_get_user(UserPoolId=pool["id"], Username="nobody")
    with pytest.raises(idp.exceptions.NotAuthorizedException):
        idp.get_user(AccessToken="not-a-token")
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.create_user_pool(PoolName="x", UsernameAttributes=["email"], AliasAttributes=["email"])


def test_tags(idp, pool):
    arn = pool["pool"]["Arn"]
    idp.tag_resource(ResourceArn=arn, Tags={"team": "identity", "env": "test"})
    idp.untag_resource(ResourceArn=arn, TagKeys=["env"])
    assert idp.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"team": "identity"}
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.tag_resource(ResourceArn=arn, Tags={"aws:reserved": "x"})


def test_lambda_config(idp, pool):
    idp.update_user_pool(UserPoolId=pool["id"], LambdaConfig={"PreSignUp": "https://hooks.example.test/pre-sign-up"})
    lc = idp.describe_user_pool(UserPoolId=pool["id"])["UserPool"]["LambdaConfig"]
    assert lc == {"PreSignUp": "https://hooks.example.test/pre-sign-up"}
    with pytest.raises(idp.exceptions.InvalidParameterException) as e:
        idp.update_user_pool(UserPoolId=pool["id"], LambdaConfig={"PreAuthentication": "arn:aws:lambda:eu-west-1:123456789012:function:f"})
    assert "PreAuthentication" in error(e)[1]
    idp.update_user_pool(UserPoolId=pool["id"])  # no LambdaConfig: the trigger goes, as on AWS
    assert idp.describe_user_pool(UserPoolId=pool["id"])["UserPool"]["LambdaConfig"] == {}


def test_identity_providers(idp, pool):
    idp.create_identity_provider(
        UserPoolId=pool["id"],
        ProviderName="corp",
        ProviderType="OIDC",
        ProviderDetails={
            "client_id": "corp-client",
            "client_secret": "corp-secret",
            "oidc_issuer": "https://login.corp.example",
            "authorize_scopes": "openid email",
            "attributes_request_method": "GET",
        },
        AttributeMapping={"email": "email", "username": "sub"},
    )
    d = idp.describe_identity_provider(UserPoolId=pool["id"], ProviderName="corp")["IdentityProvider"]
    assert d["ProviderDetails"]["oidc_issuer"] == "https://login.corp.example"
    assert "client_secret" not in d["ProviderDetails"]
    assert [p["ProviderName"] for p in idp.list_identity_providers(UserPoolId=pool["id"])["Providers"]] == ["corp"]
    with pytest.raises(idp.exceptions.DuplicateProviderException):
        idp.create_identity_provider(
            UserPoolId=pool["id"],
            ProviderName="corp",
            ProviderType="OIDC",
            ProviderDetails={"client_id": "x", "oidc_issuer": "https://login.corp.example"},
        )
    idp.delete_identity_provider(UserPoolId=pool["id"], ProviderName="corp")
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.describe_identity_provider(UserPoolId=pool["id"], ProviderName="corp")


def test_domain_and_resource_server(idp, pool):
    prefix = "py-" + uuid.uuid4().hex[:10]
    idp.create_user_pool_domain(UserPoolId=pool["id"], Domain=prefix)
    d = idp.describe_user_pool_domain(Domain=prefix)["DomainDescription"]
    assert d["UserPoolId"] == pool["id"] and d["Status"] == "ACTIVE"
    assert idp.describe_user_pool_domain(Domain="py-nobody-here")["DomainDescription"] == {}
    idp.create_resource_server(
        UserPoolId=pool["id"],
        Identifier="orders",
        Name="Orders",
        Scopes=[{"ScopeName": "read", "ScopeDescription": "Read orders"}],
    )
    c = idp.create_user_pool_client(
        UserPoolId=pool["id"],
        ClientName="machine",
        GenerateSecret=True,
        AllowedOAuthFlows=["client_credentials"],
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthScopes=["orders/read"],
    )["UserPoolClient"]
    assert c["AllowedOAuthScopes"] == ["orders/read"]
    with pytest.raises(idp.exceptions.ScopeDoesNotExistException):
        idp.create_user_pool_client(
            UserPoolId=pool["id"],
            ClientName="machine2",
            GenerateSecret=True,
            AllowedOAuthFlows=["client_credentials"],
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthScopes=["orders/write"],
        )
    idp.delete_user_pool_domain(UserPoolId=pool["id"], Domain=prefix)


def test_admin_list_user_auth_events(idp, pool):
    username = str(uuid.uuid4())
    idp.sign_up(ClientId=pool["client"], Username=username, Password=PASSWORD)
    idp.admin_confirm_sign_up(UserPoolId=pool["id"], Username=username)
    idp.initiate_auth(
        ClientId=pool["client"], AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD}
    )
    events = idp.admin_list_user_auth_events(UserPoolId=pool["id"], Username=username, MaxResults=10)["AuthEvents"]
    assert [(e["EventType"], e["EventResponse"]) for e in events] == [("SignIn", "Pass")]
