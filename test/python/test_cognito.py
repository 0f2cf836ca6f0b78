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
    assert out["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
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
