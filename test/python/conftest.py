"""boto3 against Gatehouse's Cognito surface.

test/pycompat (go test ./test/pycompat) starts a Gatehouse and runs these
tests with GATEHOUSE_URL and an access key pair in the environment. Each
test creates what it needs through the Cognito API itself, starting from a
pool made by CreateUserPool with Cognito's defaults; nothing else is set up
on the server.
"""
import os
import uuid

import boto3
import pytest


@pytest.fixture(scope="session")
def idp():
    url = os.environ.get("GATEHOUSE_URL")
    if not url:
        pytest.skip("GATEHOUSE_URL is not set; run go test ./test/pycompat")
    return boto3.client("cognito-idp", endpoint_url=url, region_name=os.environ.get("AWS_DEFAULT_REGION", "eu-west-1"))


@pytest.fixture
def pool(idp):
    """A pool created with nothing but a name, and a client allowing
    USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH and refresh."""
    p = idp.create_user_pool(PoolName="py-" + uuid.uuid4().hex[:8])["UserPool"]
    c = idp.create_user_pool_client(
        UserPoolId=p["Id"],
        ClientName="app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    yield {"id": p["Id"], "client": c["ClientId"], "pool": p}
    idp.delete_user_pool(UserPoolId=p["Id"])
