"""Remembered devices through boto3, as Cognito defines them: a pool made
by CreateUserPool with a DeviceConfiguration, SRP sign-in through the
standard-library client (cognito_client.py), ConfirmDevice with the
device's SRP verifier, UpdateDeviceStatus, GetDevice, ListDevices,
AdminListDevices, AdminGetDevice, ForgetDevice, device SRP
(DEVICE_SRP_AUTH then DEVICE_PASSWORD_VERIFIER) skipping the TOTP step,
and the attacks: another user's device key, a wrong device secret."""
import uuid

import pytest
from botocore.exceptions import ClientError

from cognito_client import SRP, TOTP, Device, DeviceSRP

PASSWORD = "Passw0rd!"


def error(excinfo):
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"]


def attrs(device):
    return {a["Name"]: a["Value"] for a in device["DeviceAttributes"]}


@pytest.fixture
def device_pool(idp):
    """A pool that remembers devices on the user's prompt and lets a
    remembered device stand in for the second factor, TOTP optional, and
    a client with Cognito's default flows (SRP and refresh)."""
    p = idp.create_user_pool(
        PoolName="py-dev-" + uuid.uuid4().hex[:8],
        DeviceConfiguration={"ChallengeRequiredOnNewDevice": True, "DeviceOnlyRememberedOnUserPrompt": True},
    )["UserPool"]
    idp.set_user_pool_mfa_config(
        UserPoolId=p["Id"], MfaConfiguration="OPTIONAL", SoftwareTokenMfaConfiguration={"Enabled": True}
    )
    c = idp.create_user_pool_client(UserPoolId=p["Id"], ClientName="app")["UserPoolClient"]
    yield {"id": p["Id"], "client": c["ClientId"], "pool": p}
    idp.delete_user_pool(UserPoolId=p["Id"])


def make_user(idp, pool_id):
    name = "u-" + uuid.uuid4().hex[:10]
    idp.admin_create_user(UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool_id, Username=name, Password=PASSWORD, Permanent=True)
    return name


def srp_sign_in(idp, pool, username, device=None):
    """USER_SRP_AUTH then PASSWORD_VERIFIER, with DEVICE_KEY in both when
    device is given (as amazon-cognito-identity-js sends it). Returns the
    last answer."""
    srp = SRP(username, PASSWORD, pool["id"], pool["client"])
    params = srp.get_auth_params()
    if device:
        params["DEVICE_KEY"] = device.key
    out = idp.initiate_auth(ClientId=pool["client"], AuthFlow="USER_SRP_AUTH", AuthParameters=params)
    assert out["ChallengeName"] == "PASSWORD_VERIFIER"
    responses = srp.process_challenge(out["ChallengeParameters"], params)
    if device:
        responses["DEVICE_KEY"] = device.key
    # No Session: the SECRET_BLOCK carries the state (as on AWS, and as
    # pycognito answers).
    assert "Session" not in out
    return idp.respond_to_auth_challenge(ClientId=pool["client"], ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=responses)


def device_sign_in(idp, pool, username, device, password=None):
    """A sign-in that names the device and answers its challenges."""
    out = srp_sign_in(idp, pool, username, device)
    assert out["ChallengeName"] == "DEVICE_SRP_AUTH", out
    dsrp = DeviceSRP(out["ChallengeParameters"]["USERNAME"], device, password)
    out = idp.respond_to_auth_challenge(
        ClientId=pool["client"], ChallengeName="DEVICE_SRP_AUTH", Session=out["Session"], ChallengeResponses=dsrp.srp_auth()
    )
    assert out["ChallengeName"] == "DEVICE_PASSWORD_VERIFIER", out
    params = out["ChallengeParameters"]
    assert params["DEVICE_KEY"] == device.key and params["SALT"] and params["SRP_B"] and params["SECRET_BLOCK"]
    return idp.respond_to_auth_challenge(
        ClientId=pool["client"],
        ChallengeName="DEVICE_PASSWORD_VERIFIER",
        Session=out["Session"],
        ChallengeResponses=dsrp.password_verifier(params),
    )


def confirm(idp, result, name):
    device = Device(result["NewDeviceMetadata"])
    out = idp.confirm_device(
        AccessToken=result["AccessToken"],
        DeviceKey=device.key,
        DeviceName=name,
        DeviceSecretVerifierConfig=device.verifier_config(),
    )
    return device, out


def test_remembered_device_skips_totp(idp, device_pool):
    pool = device_pool
    desc = idp.describe_user_pool(UserPoolId=pool["id"])["UserPool"]
    assert desc["DeviceConfiguration"] == {"ChallengeRequiredOnNewDevice": True, "DeviceOnlyRememberedOnUserPrompt": True}
    ann = make_user(idp, pool["id"])

    # A first SRP sign-in gets NewDeviceMetadata; the device is confirmed
    # with its verifier and, in this pool, waits for the user's prompt.
    first = srp_sign_in(idp, pool, ann)["AuthenticationResult"]
    meta = first["NewDeviceMetadata"]
    assert meta["DeviceKey"].startswith(pool["id"].split("_")[0] + "_") and meta["DeviceGroupKey"]
    laptop, out = confirm(idp, first, "laptop")
    assert out["UserConfirmationNecessary"] is True
    token = first["AccessToken"]
    got = idp.get_device(AccessToken=token, DeviceKey=laptop.key)["Device"]
    a = attrs(got)
    assert got["DeviceKey"] == laptop.key
    assert a["device_status"] == "valid" and a["dev:device_remembered_status"] == "not_remembered"
    assert a["device_name"] == "laptop" and a["last_ip_used"]
    assert got["DeviceCreateDate"] and got["DeviceLastModifiedDate"] and got["DeviceLastAuthenticatedDate"]
    # Tracked but not remembered: ListDevices does not list it yet;
    # AdminListDevices does.
    assert idp.list_devices(AccessToken=token)["Devices"] == []
    admin_list = idp.admin_list_devices(UserPoolId=pool["id"], Username=ann)["Devices"]
    assert [d["DeviceKey"] for d in admin_list] == [laptop.key]

    with pytest.raises(ClientError) as ei:
        idp.update_device_status(AccessToken=token, DeviceKey=laptop.key, DeviceRememberedStatus="forever")
    assert error(ei)[0] == "InvalidParameterException"
    idp.update_device_status(AccessToken=token, DeviceKey=laptop.key, DeviceRememberedStatus="remembered")
    listed = idp.list_devices(AccessToken=token, Limit=10)["Devices"]
    assert [d["DeviceKey"] for d in listed] == [laptop.key]
    assert attrs(listed[0])["dev:device_remembered_status"] == "remembered"
    got = idp.admin_get_device(UserPoolId=pool["id"], Username=ann, DeviceKey=laptop.key)["Device"]
    assert attrs(got)["dev:device_remembered_status"] == "remembered"

    # TOTP, so that a sign-in without the device is asked for it.
    secret = idp.associate_software_token(AccessToken=token)["SecretCode"]
    totp = TOTP(secret)
    assert idp.verify_software_token(AccessToken=token, UserCode=totp.fresh())["Status"] == "SUCCESS"
    idp.set_user_mfa_preference(AccessToken=token, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    plain = srp_sign_in(idp, pool, ann)
    assert plain["ChallengeName"] == "SOFTWARE_TOKEN_MFA"

    # The remembered device: DEVICE_SRP_AUTH, DEVICE_PASSWORD_VERIFIER,
    # tokens, and no TOTP step; a refresh naming the device works.
    res = device_sign_in(idp, pool, ann, laptop)
    assert "ChallengeName" not in res or not res["ChallengeName"], res
    tokens = res["AuthenticationResult"]
    assert "NewDeviceMetadata" not in tokens
    refreshed = idp.initiate_auth(
        ClientId=pool["client"],
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"], "DEVICE_KEY": laptop.key},
    )
    assert refreshed["AuthenticationResult"]["AccessToken"]

    # A wrong device secret is refused.
    with pytest.raises(ClientError) as ei:
        device_sign_in(idp, pool, ann, laptop, password="not the device's secret")
    assert error(ei)[0] == "NotAuthorizedException"

    # Not remembered any more: the device signs in, then TOTP is asked.
    idp.admin_update_device_status(
        UserPoolId=pool["id"], Username=ann, DeviceKey=laptop.key, DeviceRememberedStatus="not_remembered"
    )
    res = device_sign_in(idp, pool, ann, laptop)
    assert res["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    res = idp.respond_to_auth_challenge(
        ClientId=pool["client"],
        ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=res["Session"],
        ChallengeResponses={"USERNAME": ann, "SOFTWARE_TOKEN_MFA_CODE": totp.fresh()},
    )
    assert res["AuthenticationResult"]["AccessToken"] and "NewDeviceMetadata" not in res["AuthenticationResult"]
    idp.update_device_status(AccessToken=tokens["AccessToken"], DeviceKey=laptop.key, DeviceRememberedStatus="remembered")

    # ForgetDevice: the device's sign-in ends (access and refresh token),
    # the key is unknown afterwards.
    idp.forget_device(AccessToken=token, DeviceKey=laptop.key)
    with pytest.raises(ClientError) as ei:
        idp.get_user(AccessToken=tokens["AccessToken"])
    assert error(ei)[0] == "NotAuthorizedException"
    with pytest.raises(ClientError) as ei:
        idp.initiate_auth(
            ClientId=pool["client"], AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]}
        )
    assert error(ei)[0] == "NotAuthorizedException"
    # The first sign-in was issued to this device too: it ends as well.
    with pytest.raises(ClientError) as ei:
        idp.get_device(AccessToken=token, DeviceKey=laptop.key)
    assert error(ei)[0] == "NotAuthorizedException"
    with pytest.raises(ClientError) as ei:
        idp.admin_get_device(UserPoolId=pool["id"], Username=ann, DeviceKey=laptop.key)
    assert error(ei) == ("ResourceNotFoundException", "Device does not exist.")
    # A sign-in naming the forgotten key: ResourceNotFoundException (the
    # client then drops the key and signs in as a new device).
    with pytest.raises(ClientError) as ei:
        srp_sign_in(idp, pool, ann, laptop)
    assert error(ei) == ("ResourceNotFoundException", "Device does not exist.")


def test_another_users_device(idp, device_pool):
    pool = device_pool
    ann, bob = make_user(idp, pool["id"]), make_user(idp, pool["id"])
    first = srp_sign_in(idp, pool, ann)["AuthenticationResult"]
    laptop, _ = confirm(idp, first, "ann's laptop")
    idp.update_device_status(AccessToken=first["AccessToken"], DeviceKey=laptop.key, DeviceRememberedStatus="remembered")
    bob_tokens = srp_sign_in(idp, pool, bob)["AuthenticationResult"]
    bt = bob_tokens["AccessToken"]

    # Bob cannot read, change or forget ann's device with his token.
    for call in (
        lambda: idp.get_device(AccessToken=bt, DeviceKey=laptop.key),
        lambda: idp.update_device_status(AccessToken=bt, DeviceKey=laptop.key, DeviceRememberedStatus="not_remembered"),
        lambda: idp.forget_device(AccessToken=bt, DeviceKey=laptop.key),
    ):
        with pytest.raises(ClientError) as ei:
            call()
        assert error(ei)[0] == "NotAuthorizedException"
    assert idp.list_devices(AccessToken=bt)["Devices"] == []
    # Nor confirm it as his, nor have an admin read it under his name.
    stolen = dict(bob_tokens, NewDeviceMetadata={"DeviceKey": laptop.key, "DeviceGroupKey": laptop.group_key})
    with pytest.raises(ClientError) as ei:
        confirm(idp, stolen, "mine now")
    assert error(ei)[0] == "NotAuthorizedException"
    with pytest.raises(ClientError) as ei:
        idp.admin_get_device(UserPoolId=pool["id"], Username=bob, DeviceKey=laptop.key)
    assert error(ei)[0] == "NotAuthorizedException"
    # Nor sign in with it, even knowing the device's secret: after his
    # password, the key is not his device.
    with pytest.raises(ClientError) as ei:
        srp_sign_in(idp, pool, bob, laptop)
    assert error(ei) == ("ResourceNotFoundException", "Device does not exist.")
    # Ann's device is as it was.
    a = attrs(idp.get_device(AccessToken=first["AccessToken"], DeviceKey=laptop.key)["Device"])
    assert a["dev:device_remembered_status"] == "remembered" and a["device_name"] == "ann's laptop"
    # The admin forgets it.
    idp.admin_forget_device(UserPoolId=pool["id"], Username=ann, DeviceKey=laptop.key)
    assert idp.admin_list_devices(UserPoolId=pool["id"], Username=ann)["Devices"] == []


def test_device_errors(idp, device_pool, pool):
    d = device_pool
    ann = make_user(idp, d["id"])
    token = srp_sign_in(idp, d, ann)["AuthenticationResult"]["AccessToken"]
    with pytest.raises(ClientError) as ei:
        idp.get_device(AccessToken=token, DeviceKey=d["id"].split("_")[0] + "_00000000-0000-4000-8000-000000000000")
    assert error(ei) == ("ResourceNotFoundException", "Device does not exist.")
    with pytest.raises(ClientError) as ei:
        idp.get_device(AccessToken=token, DeviceKey="../etc")
    assert error(ei)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as ei:
        idp.list_devices(AccessToken=token, Limit=61)
    assert error(ei)[0] == "InvalidParameterException"
    # A pool without DeviceConfiguration issues no NewDeviceMetadata.
    idp.admin_create_user(UserPoolId=pool["id"], Username="plain", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool["id"], Username="plain", Password=PASSWORD, Permanent=True)
    res = idp.initiate_auth(
        ClientId=pool["client"], AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": "plain", "PASSWORD": PASSWORD}
    )["AuthenticationResult"]
    assert "NewDeviceMetadata" not in res
    assert "DeviceConfiguration" not in idp.describe_user_pool(UserPoolId=pool["id"])["UserPool"]
