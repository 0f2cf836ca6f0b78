"""The AWS-verified Cognito tests of moto, run against Gatehouse.

Source: getmoto/moto, tests/test_cognitoidp/test_cognitoidp.py (the tests
marked @pytest.mark.aws_verified / @cognitoidp_aws_verified, which moto's
authors ran against real AWS) and the set-up of its
tests/test_cognitoidp/__init__.py. Copyright moto's contributors, licensed
under the Apache License, Version 2.0
(https://www.apache.org/licenses/LICENSE-2.0). Changes: only the set-up is
adapted. There are no moto decorators: the pool_and_client helper below does
what cognitoidp_aws_verified does, through CreateUserPool,
SetUserPoolMfaConfig and CreateUserPoolClient on Gatehouse (the IAM role
moto creates for SmsConfiguration becomes a role ARN string, as no IAM
exists here); pycognito and pyotp are replaced by test/python/cognito_client.py
(same computations, standard library); boto3's client is the session's
`idp` fixture instead of one made per test; the assertions and the calls
under test are moto's. Where moto waits for a new TOTP code when it runs
against AWS (allow_aws_request()), the port does the same (TOTP.fresh):
Gatehouse, like AWS, accepts a code once.
"""
import base64
import json
import uuid
from contextlib import contextmanager

from cognito_client import SRP, TOTP, long_to_hex, secret_hash


def get_jwt_payload(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@contextmanager
def pool_and_client(
    conn,
    username_attributes=None,
    read_attributes=None,
    explicit_auth_flows=None,
    generate_secret=False,
    recovery=None,
    verified_attributes=None,
    with_mfa=None,
    with_software_mfa=True,
):
    """moto's cognitoidp_aws_verified, without moto: create a pool and an
    app client, run the test, delete the pool."""
    userpool_args = {}
    if username_attributes:
        userpool_args["UsernameAttributes"] = username_attributes
    if recovery:
        userpool_args["AccountRecoverySetting"] = {"RecoveryMechanisms": recovery}
    if with_mfa:
        userpool_args["MfaConfiguration"] = with_mfa
        userpool_args["SmsConfiguration"] = {"SnsCallerArn": "arn:aws:iam::123456789012:role/test-role-sns"}
    if verified_attributes:
        userpool_args["AutoVerifiedAttributes"] = verified_attributes
    user_pool = conn.create_user_pool(PoolName=f"TestUserPool_{str(uuid.uuid4())[0:6]}", **userpool_args)
    pool_id = user_pool["UserPool"]["Id"]
    try:
        if with_mfa and with_software_mfa:
            conn.set_user_pool_mfa_config(
                UserPoolId=pool_id,
                SoftwareTokenMfaConfiguration={"Enabled": True},
                MfaConfiguration=with_mfa,
            )
        client_kwargs = {}
        if read_attributes:
            client_kwargs["ReadAttributes"] = read_attributes
        if explicit_auth_flows:
            client_kwargs["ExplicitAuthFlows"] = explicit_auth_flows
        if generate_secret:
            client_kwargs["GenerateSecret"] = True
        user_pool_client = conn.create_user_pool_client(UserPoolId=pool_id, ClientName="TestAppClient", **client_kwargs)
        yield user_pool, user_pool_client
    finally:
        conn.delete_user_pool(UserPoolId=pool_id)


def test_authorize_user_with_force_password_change_status(idp):
    conn = idp
    with pool_and_client(conn) as (user_pool, user_pool_client):
        pool_id = user_pool["UserPool"]["Id"]
        client_id = user_pool_client["UserPoolClient"]["ClientId"]

        username = "test@example.com"
        temp_password = "Tempor@ryPassword123"
        new_password = "NewP@ssword456"

        aws_srp = SRP(username=username, password=temp_password, pool_id=pool_id, client_id=client_id)
        auth_params = aws_srp.get_auth_params()

        conn.admin_create_user(UserPoolId=pool_id, Username=username, TemporaryPassword=temp_password)

        result = conn.initiate_auth(ClientId=client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=auth_params)

        challenge_response = aws_srp.process_challenge(result["ChallengeParameters"], auth_params)
        result = conn.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName=result["ChallengeName"], ChallengeResponses=challenge_response
        )
        assert result["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
        assert result["Session"] is not None

        result = conn.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=result["Session"],
            ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": new_password},
        )
        assert result["AuthenticationResult"]["TokenType"] == "Bearer"
        assert result["AuthenticationResult"]["AccessToken"] is not None
        assert result["AuthenticationResult"]["RefreshToken"] is not None


def test_group_in_access_token(idp):
    conn = idp
    with pool_and_client(conn, read_attributes=["given_name"], explicit_auth_flows=["ADMIN_NO_SRP_AUTH"]) as (
        user_pool,
        user_pool_client,
    ):
        username = str(uuid.uuid4())
        temporary_password = "P2$Sword"
        user_pool_id = user_pool["UserPool"]["Id"]
        user_attribute_value = str(uuid.uuid4())
        group_name = str(uuid.uuid4())
        client_id = user_pool_client["UserPoolClient"]["ClientId"]

        conn.create_group(GroupName=group_name, UserPoolId=user_pool_id)
        conn.admin_create_user(
            UserPoolId=user_pool_id,
            Username=username,
            TemporaryPassword=temporary_password,
            UserAttributes=[{"Name": "given_name", "Value": user_attribute_value}],
        )
        conn.admin_add_user_to_group(UserPoolId=user_pool_id, Username=username, GroupName=group_name)

        result = conn.admin_initiate_auth(
            UserPoolId=user_pool_id,
            ClientId=client_id,
            AuthFlow="ADMIN_NO_SRP_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": temporary_password},
        )
        assert result["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
        assert result["Session"] is not None

        new_password = "P2$Sword"
        result = conn.admin_respond_to_auth_challenge(
            UserPoolId=user_pool_id,
            Session=result["Session"],
            ClientId=client_id,
            ChallengeName="NEW_PASSWORD_REQUIRED",
            ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": new_password},
        )
        payload = get_jwt_payload(result["AuthenticationResult"]["AccessToken"])
        assert payload["cognito:groups"] == [group_name]


def user_authentication_flow(conn, user_pool, user_pool_client, with_mfa=True):
    """moto's user_authentication_flow, for a pool and client given by the
    set-up (the only way the AWS-verified tests call it)."""
    username = str(uuid.uuid4())
    password = "P2$Sword"
    user_pool_id = user_pool["UserPool"]["Id"]
    client_id = user_pool_client["UserPoolClient"]["ClientId"]
    client_secret = user_pool_client["UserPoolClient"]["ClientSecret"]

    sh = secret_hash(username, client_id, client_secret)
    conn.sign_up(ClientId=client_id, Username=username, Password=password, SecretHash=sh)

    client_secret = conn.describe_user_pool_client(UserPoolId=user_pool_id, ClientId=client_id)["UserPoolClient"][
        "ClientSecret"
    ]
    conn.admin_confirm_sign_up(UserPoolId=user_pool_id, Username=username)

    aws_srp = SRP(username=username, password=password, pool_id=user_pool_id, client_id=client_id, client_secret=client_secret)
    auth_params = aws_srp.get_auth_params()
    result = conn.initiate_auth(ClientId=client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=auth_params)
    challenge_response = aws_srp.process_challenge(result["ChallengeParameters"], auth_params)
    result = conn.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName=result["ChallengeName"], ChallengeResponses=challenge_response
    )
    refresh_token = result["AuthenticationResult"]["RefreshToken"]
    assert not with_mfa  # the AWS-verified tests call it without MFA

    result = conn.initiate_auth(
        ClientId=client_id,
        AuthFlow="REFRESH_TOKEN",
        AuthParameters={"SECRET_HASH": sh, "REFRESH_TOKEN": refresh_token},
    )
    assert result["AuthenticationResult"]["IdToken"] is not None
    assert result["AuthenticationResult"]["AccessToken"] is not None
    assert result["AuthenticationResult"]["TokenType"] == "Bearer"

    return {
        "user_pool_id": user_pool_id,
        "client_id": client_id,
        "client_secret": client_secret,
        "secret_hash": sh,
        "id_token": result["AuthenticationResult"]["IdToken"],
        "access_token": result["AuthenticationResult"]["AccessToken"],
        "refresh_token": refresh_token,
        "username": username,
        "password": password,
    }


def _srp_with_secret(conn, user_pool, user_pool_client, username, password):
    user_pool_id = user_pool["UserPool"]["Id"]
    client_id = user_pool_client["UserPoolClient"]["ClientId"]
    client_secret = user_pool_client["UserPoolClient"]["ClientSecret"]
    sh = secret_hash(username, client_id, client_secret)
    conn.sign_up(ClientId=client_id, Username=username, Password=password, SecretHash=sh)
    client_secret = conn.describe_user_pool_client(UserPoolId=user_pool_id, ClientId=client_id)["UserPoolClient"][
        "ClientSecret"
    ]
    conn.admin_confirm_sign_up(UserPoolId=user_pool_id, Username=username)
    aws_srp = SRP(username=username, password=password, pool_id=user_pool_id, client_id=client_id, client_secret=client_secret)
    return aws_srp, sh


def test_user_authentication_flow_mfa_on(idp):
    conn = idp
    with pool_and_client(conn, generate_secret=True, with_mfa="ON") as (user_pool, user_pool_client):
        username = str(uuid.uuid4())
        password = "P2$Sword"
        client_id = user_pool_client["UserPoolClient"]["ClientId"]
        aws_srp, sh = _srp_with_secret(conn, user_pool, user_pool_client, username, password)
        auth_params = aws_srp.get_auth_params()

        result = conn.initiate_auth(ClientId=client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=auth_params)
        challenge_response = aws_srp.process_challenge(result["ChallengeParameters"], auth_params)
        result = conn.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName=result["ChallengeName"], ChallengeResponses=challenge_response
        )
        assert result["ChallengeName"] == "MFA_SETUP"

        resp = conn.associate_software_token(Session=result["Session"])
        totp = TOTP(resp["SecretCode"])
        user_code = totp.now()
        resp = conn.verify_software_token(Session=resp["Session"], UserCode=user_code)
        assert resp["Status"] == "SUCCESS"

        result = conn.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_SRP_AUTH",
            AuthParameters={"USERNAME": username, "SRP_A": long_to_hex(aws_srp.large_a_value), "SECRET_HASH": sh},
        )
        challenge_response = aws_srp.process_challenge(result["ChallengeParameters"], auth_params)
        result = conn.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName=result["ChallengeName"], ChallengeResponses=challenge_response
        )
        assert result["ChallengeName"] == "SOFTWARE_TOKEN_MFA"

        new_user_code = totp.fresh()  # AWS needs a new code, as moto's test waits for
        result = conn.respond_to_auth_challenge(
            ClientId=client_id,
            Session=result["Session"],
            ChallengeName=result["ChallengeName"],
            ChallengeResponses={"SOFTWARE_TOKEN_MFA_CODE": new_user_code, "USERNAME": username, "SECRET_HASH": auth_params["SECRET_HASH"]},
        )
        assert result["AuthenticationResult"]["AccessToken"]
        assert result["AuthenticationResult"]["IdToken"]
        assert result["AuthenticationResult"]["RefreshToken"]


def test_user_authentication_flow_mfa_optional(idp):
    conn = idp
    with pool_and_client(conn, generate_secret=True, with_mfa="OPTIONAL") as (user_pool, user_pool_client):
        username = str(uuid.uuid4())
        password = "P2$Sword"
        client_id = user_pool_client["UserPoolClient"]["ClientId"]
        aws_srp, sh = _srp_with_secret(conn, user_pool, user_pool_client, username, password)
        auth_params = aws_srp.get_auth_params()

        result = conn.initiate_auth(ClientId=client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=auth_params)
        challenge_response = aws_srp.process_challenge(result["ChallengeParameters"], auth_params)
        result = conn.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName=result["ChallengeName"], ChallengeResponses=challenge_response
        )

        resp = conn.associate_software_token(AccessToken=result["AuthenticationResult"]["AccessToken"])
        totp = TOTP(resp["SecretCode"])
        user_code = totp.now()
        resp = conn.verify_software_token(AccessToken=result["AuthenticationResult"]["AccessToken"], UserCode=user_code)
        assert resp["Status"] == "SUCCESS"
        conn.set_user_mfa_preference(
            AccessToken=result["AuthenticationResult"]["AccessToken"],
            SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
        )

        result = conn.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_SRP_AUTH",
            AuthParameters={"USERNAME": username, "SRP_A": long_to_hex(aws_srp.large_a_value), "SECRET_HASH": sh},
        )
        challenge_response = aws_srp.process_challenge(result["ChallengeParameters"], auth_params)
        result = conn.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName=result["ChallengeName"], ChallengeResponses=challenge_response
        )
        assert result["ChallengeName"] == "SOFTWARE_TOKEN_MFA"

        new_user_code = totp.fresh()
        result = conn.respond_to_auth_challenge(
            ClientId=client_id,
            Session=result["Session"],
            ChallengeName=result["ChallengeName"],
            ChallengeResponses={"SOFTWARE_TOKEN_MFA_CODE": new_user_code, "USERNAME": username, "SECRET_HASH": auth_params["SECRET_HASH"]},
        )
        assert result["AuthenticationResult"]["AccessToken"]
        assert result["AuthenticationResult"]["IdToken"]
        assert result["AuthenticationResult"]["RefreshToken"]


def test_forgot_password_with_email_delivery_details(idp):
    conn = idp
    with pool_and_client(conn, recovery=[{"Name": "verified_email", "Priority": 1}]) as (user_pool, user_pool_client):
        user_pool_id = user_pool["UserPool"]["Id"]
        client_id = user_pool_client["UserPoolClient"]["ClientId"]
        user_without_attributes = str(uuid.uuid4())

        conn.admin_create_user(
            UserPoolId=user_pool_id,
            Username=user_without_attributes,
            UserAttributes=[{"Name": "email", "Value": "test@test.com"}, {"Name": "email_verified", "Value": "True"}],
        )
        conn.admin_set_user_password(
            UserPoolId=user_pool_id, Username=user_without_attributes, Password="secretP2ss!", Permanent=True
        )

        result = conn.forgot_password(ClientId=client_id, Username=user_without_attributes)
        assert result["CodeDeliveryDetails"]["Destination"] == "t***@t***"
        assert result["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
        assert result["CodeDeliveryDetails"]["AttributeName"] == "email"


def test_sign_up(idp):
    conn = idp
    with pool_and_client(conn) as (_, user_pool_client):
        client_id = user_pool_client["UserPoolClient"]["ClientId"]
        result = conn.sign_up(ClientId=client_id, Username=str(uuid.uuid4()), Password="P2$Sword")
        assert result["UserConfirmed"] is False
        assert result["UserSub"] is not None
        assert "CodeDeliveryDetails" not in result


def test_sign_up_with_unverified_email(idp):
    conn = idp
    with pool_and_client(conn, recovery=[{"Name": "verified_email", "Priority": 1}]) as (_, user_pool_client):
        client_id = user_pool_client["UserPoolClient"]["ClientId"]
        result = conn.sign_up(
            ClientId=client_id,
            Username=str(uuid.uuid4()),
            Password="P2$Sword",
            UserAttributes=[{"Name": "email", "Value": "test@test.com"}],
        )
        assert result["UserConfirmed"] is False
        assert result["UserSub"] is not None
        assert "CodeDeliveryDetails" not in result


def test_sign_up_with_verified_email(idp):
    conn = idp
    with pool_and_client(
        conn, recovery=[{"Name": "verified_email", "Priority": 1}], verified_attributes=["email"]
    ) as (_, user_pool_client):
        client_id = user_pool_client["UserPoolClient"]["ClientId"]
        result = conn.sign_up(
            ClientId=client_id,
            Username=str(uuid.uuid4()),
            Password="P2$Sword",
            UserAttributes=[{"Name": "email", "Value": "test@test.com"}],
        )
        assert result["UserConfirmed"] is False
        assert result["UserSub"] is not None
        assert result["CodeDeliveryDetails"] == {
            "Destination": "t***@t***",
            "DeliveryMedium": "EMAIL",
            "AttributeName": "email",
        }


def test_sign_up_with_verified_but_not_supplied_email(idp):
    conn = idp
    with pool_and_client(
        conn, recovery=[{"Name": "verified_email", "Priority": 1}], verified_attributes=["email"]
    ) as (_, user_pool_client):
        client_id = user_pool_client["UserPoolClient"]["ClientId"]
        result = conn.sign_up(ClientId=client_id, Username=str(uuid.uuid4()), Password="P2$Sword")
        assert result["UserConfirmed"] is False
        assert result["UserSub"] is not None
        assert "CodeDeliveryDetails" not in result


def test_initiate_auth_REFRESH_TOKEN(idp):
    conn = idp
    with pool_and_client(conn, generate_secret=True) as (user_pool, user_pool_client):
        result = user_authentication_flow(conn, user_pool, user_pool_client, with_mfa=False)
        auth_result = conn.initiate_auth(
            ClientId=result["client_id"],
            AuthFlow="REFRESH_TOKEN",
            AuthParameters={"REFRESH_TOKEN": result["refresh_token"], "SECRET_HASH": result["secret_hash"]},
        )["AuthenticationResult"]

        access_payload = get_jwt_payload(auth_result["AccessToken"])
        assert access_payload["username"] == result["username"]
        assert access_payload["client_id"] == result["client_id"]

        id_payload = get_jwt_payload(auth_result["IdToken"])
        assert id_payload["sub"] == access_payload["sub"]
        assert id_payload["cognito:username"] == result["username"]
        assert id_payload["aud"] == result["client_id"]


def test_initiate_auth_USER_PASSWORD_AUTH(idp):
    conn = idp
    with pool_and_client(conn, generate_secret=True, explicit_auth_flows=["USER_PASSWORD_AUTH"]) as (
        user_pool,
        user_pool_client,
    ):
        result = user_authentication_flow(conn, user_pool, user_pool_client, with_mfa=False)
        user_pool_id = result["user_pool_id"]
        client_id = result["client_id"]
        username = result["username"]
        password = result["password"]
        sh = result["secret_hash"]

        conn.admin_set_user_mfa_preference(
            Username=username,
            UserPoolId=user_pool_id,
            SoftwareTokenMfaSettings={"Enabled": False, "PreferredMfa": False},
        )
        result = conn.admin_get_user(UserPoolId=user_pool_id, Username=username)
        assert len(result.get("UserMFASettingList", [])) == 0
        assert result.get("PreferredMfaSetting", "") == ""

        auth_result = conn.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password, "SECRET_HASH": sh},
        )["AuthenticationResult"]
        assert auth_result["RefreshToken"] is not None
        assert auth_result["TokenType"] == "Bearer"

        access_payload = get_jwt_payload(auth_result["AccessToken"])
        assert access_payload["username"] == username
        assert access_payload["client_id"] == client_id
        assert "email" not in access_payload

        id_payload = get_jwt_payload(auth_result["IdToken"])
        assert id_payload["sub"] == access_payload["sub"]
        assert id_payload["cognito:username"] == username
        assert id_payload["aud"] == client_id
        assert "email" not in id_payload


def test_initiate_auth_USER_PASSWORD_AUTH_with_email(idp):
    conn = idp
    with pool_and_client(
        conn, generate_secret=True, explicit_auth_flows=["USER_PASSWORD_AUTH"], username_attributes=["email"]
    ) as (user_pool, user_pool_client):
        username = "test@moto.com"
        password = "SuperS3cret!"
        client_id = user_pool_client["UserPoolClient"]["ClientId"]
        client_secret = user_pool_client["UserPoolClient"]["ClientSecret"]
        user_pool_id = user_pool["UserPool"]["Id"]

        sh = secret_hash(username, client_id, client_secret)
        conn.sign_up(ClientId=client_id, Username=username, Password=password, SecretHash=sh)
        client_secret = conn.describe_user_pool_client(UserPoolId=user_pool_id, ClientId=client_id)["UserPoolClient"][
            "ClientSecret"
        ]
        conn.admin_confirm_sign_up(UserPoolId=user_pool_id, Username=username)
        auth_result = conn.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password, "SECRET_HASH": sh},
        )["AuthenticationResult"]

        access_payload = get_jwt_payload(auth_result["AccessToken"])
        assert access_payload["username"] == access_payload["sub"]
        assert access_payload["client_id"] == client_id
        assert "email" not in access_payload

        id_payload = get_jwt_payload(auth_result["IdToken"])
        assert id_payload["sub"] == access_payload["sub"]
        assert id_payload["cognito:username"] == id_payload["sub"]
        assert id_payload["aud"] == client_id
        assert id_payload["email"] == username


def test_initiate_mfa_auth_USER_PASSWORD_AUTH_with_FORCE_CHANGE_PASSWORD_status(idp):
    client = idp
    with pool_and_client(client, explicit_auth_flows=["USER_PASSWORD_AUTH"], with_mfa="ON") as (
        user_pool,
        user_pool_client,
    ):
        username = str(uuid.uuid4())
        user_pool_id = user_pool["UserPool"]["Id"]
        client_id = user_pool_client["UserPoolClient"]["ClientId"]

        temporary_password = "P2$Sword"
        client.admin_create_user(UserPoolId=user_pool_id, Username=username, TemporaryPassword=temporary_password)

        result = client.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": temporary_password},
        )
        assert result["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
        assert result.get("AuthenticationResult") is None

        new_password = "P2$Sword2"
        result = client.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=result["Session"],
            ChallengeResponses={"NEW_PASSWORD": new_password, "USERNAME": username},
        )
        assert result["ChallengeName"] == "MFA_SETUP"
        assert result["Session"]

        assoc_response = client.associate_software_token(Session=result["Session"])
        totp = TOTP(assoc_response["SecretCode"])
        user_code = totp.now()
        verify_response = client.verify_software_token(Session=assoc_response["Session"], UserCode=user_code)
        assert verify_response["Status"] == "SUCCESS"

        new_user_code = totp.fresh()
        result = client.respond_to_auth_challenge(
            ClientId=client_id,
            Session=verify_response["Session"],
            ChallengeName=result["ChallengeName"],
            ChallengeResponses={"SOFTWARE_TOKEN_MFA_CODE": new_user_code, "USERNAME": username},
        )
        assert result["ChallengeParameters"] == {}
        assert result["AuthenticationResult"]["AccessToken"]
        assert result["AuthenticationResult"]["RefreshToken"]
        assert result["AuthenticationResult"]["IdToken"]

        result = client.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": new_password},
        )
        assert result["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
        third_user_code = totp.fresh()
        result = client.respond_to_auth_challenge(
            ClientId=client_id,
            Session=result["Session"],
            ChallengeName=result["ChallengeName"],
            ChallengeResponses={"SOFTWARE_TOKEN_MFA_CODE": third_user_code, "USERNAME": username},
        )
        assert result["ChallengeParameters"] == {}
        assert result["AuthenticationResult"]["AccessToken"]
        assert result["AuthenticationResult"]["RefreshToken"]
        assert result["AuthenticationResult"]["IdToken"]
