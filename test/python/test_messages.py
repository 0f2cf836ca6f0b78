"""Listings, account recovery and refusals as AWS answers them, through
boto3 (the same behaviours internal/cognito pins with the AWS SDK for Go:
email_verified.golden, account_recovery.golden, serialization.golden,
messages.golden)."""
import uuid

import boto3
import botocore.config
import botocore.exceptions
import pytest

PASSWORD = "Passw0rd!"


def error(excinfo):
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"]


def attrs(user, key="UserAttributes"):
    return {a["Name"]: a["Value"] for a in user[key]}


def test_email_verified_listed_only_once_set(idp, pool):
    name = str(uuid.uuid4())
    idp.sign_up(ClientId=pool["client"], Username=name, Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": "py-listed@example.org"}])
    got = attrs(idp.admin_get_user(UserPoolId=pool["id"], Username=name))
    assert got["email"] == "py-listed@example.org"
    assert "email_verified" not in got
    listed = idp.list_users(UserPoolId=pool["id"], Filter='username = "%s"' % name)["Users"]
    assert "email_verified" not in attrs(listed[0], "Attributes")
    idp.admin_update_user_attributes(UserPoolId=pool["id"], Username=name,
                                     UserAttributes=[{"Name": "email_verified", "Value": "false"}])
    assert attrs(idp.admin_get_user(UserPoolId=pool["id"], Username=name))["email_verified"] == "false"


def test_admin_only_account_recovery(idp):
    p = idp.create_user_pool(
        PoolName="py-admin-only-" + uuid.uuid4().hex[:6],
        AccountRecoverySetting={"RecoveryMechanisms": [{"Priority": 1, "Name": "admin_only"}]},
    )["UserPool"]
    try:
        assert p["AccountRecoverySetting"] == {"RecoveryMechanisms": [{"Priority": 1, "Name": "admin_only"}]}
        c = idp.create_user_pool_client(UserPoolId=p["Id"], ClientName="app")["UserPoolClient"]
        name = str(uuid.uuid4())
        idp.admin_create_user(UserPoolId=p["Id"], Username=name, MessageAction="SUPPRESS", UserAttributes=[
            {"Name": "email", "Value": "py-admin-only@example.org"}, {"Name": "email_verified", "Value": "true"}])
        idp.admin_set_user_password(UserPoolId=p["Id"], Username=name, Password=PASSWORD, Permanent=True)
        with pytest.raises(idp.exceptions.NotAuthorizedException) as e:
            idp.forgot_password(ClientId=c["ClientId"], Username=name)
        assert error(e) == ("NotAuthorizedException", "Contact administrator to reset password.")
        idp.admin_reset_user_password(UserPoolId=p["Id"], Username=name)
        assert idp.admin_get_user(UserPoolId=p["Id"], Username=name)["UserStatus"] == "RESET_REQUIRED"
        with pytest.raises(idp.exceptions.InvalidParameterException):
            idp.update_user_pool(UserPoolId=p["Id"], AccountRecoverySetting={"RecoveryMechanisms": [
                {"Priority": 1, "Name": "admin_only"}, {"Priority": 2, "Name": "verified_email"}]})
    finally:
        idp.delete_user_pool(UserPoolId=p["Id"])


def test_wrong_json_types_are_serialization_exceptions(idp, pool):
    # botocore checks types before sending; without that check it sends
    # what it is given, as a hand-written client would.
    loose = boto3.client("cognito-idp", endpoint_url=idp.meta.endpoint_url, region_name=idp.meta.region_name,
                         config=botocore.config.Config(parameter_validation=False))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        loose.list_users(UserPoolId=pool["id"], Limit="10")
    assert error(e) == ("SerializationException", "STRING_VALUE can not be converted to an Integer")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(botocore.exceptions.ClientError) as e:
        loose.sign_up(ClientId=pool["client"], Username="py-serial", Password=12345678)
    assert error(e) == ("SerializationException",
                        "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String")
    with pytest.raises(idp.exceptions.UserNotFoundException):
        idp.admin_get_user(UserPoolId=pool["id"], Username="py-serial")


def test_refusal_messages(idp, pool):
    with pytest.raises(idp.exceptions.InvalidParameterException) as e:
        idp.list_users(UserPoolId=pool["id"], AttributesToGet=["custom:nosuch"])
    assert error(e)[1] == "One or more requested attributes do not exist."
    with pytest.raises(idp.exceptions.InvalidParameterException) as e:
        idp.list_users(UserPoolId=pool["id"], Filter='custom:foo = "x"')
    assert error(e)[1] == "Invalid search attribute: custom:foo"
    with pytest.raises(idp.exceptions.InvalidParameterException) as e:
        idp.list_users(UserPoolId=pool["id"], Filter='email = "x')
    assert error(e)[1] == "Error while parsing filter."
    with pytest.raises(idp.exceptions.NotAuthorizedException) as e:
        idp.get_user(AccessToken="not-a-token")
    assert error(e)[1] == "Invalid Access Token"
    with pytest.raises(idp.exceptions.ResourceNotFoundException) as e:
        idp.forgot_password(ClientId="nosuchclient0000000000000", Username="x")
    assert error(e)[1] == "User pool client nosuchclient0000000000000 does not exist."
    srp = idp.create_user_pool_client(UserPoolId=pool["id"], ClientName="srp-only")["UserPoolClient"]
    with pytest.raises(idp.exceptions.InvalidParameterException) as e:
        idp.initiate_auth(ClientId=srp["ClientId"], AuthFlow="USER_PASSWORD_AUTH",
                          AuthParameters={"USERNAME": "x", "PASSWORD": PASSWORD})
    assert error(e)[1] == "USER_PASSWORD_AUTH flow not enabled for this client"
