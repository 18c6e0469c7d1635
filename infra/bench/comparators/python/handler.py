"""The Python comparator of `make bench`: the same GetItem handler with boto3 under a minimal Lambda Runtime API
loop. The client is built once, at init."""
import json
import os
import urllib.parse
import urllib.request

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["CARTWHEEL_TABLE"])
API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"


def handler(event):
    _, _, pk, sk = [urllib.parse.unquote(part) for part in event["rawPath"].split("/")]
    found = TABLE.get_item(Key={"PK": pk, "SK": sk})
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"found": "Item" in found})}


while True:
    with urllib.request.urlopen(API + "next") as response:
        request_id = response.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(response.read())
    try:
        result, kind = handler(event), "response"
    except Exception as error:  # reported to the Runtime API like Lambda's own runtime does
        result, kind = {"errorMessage": str(error)}, "error"
    request = urllib.request.Request(API + request_id + "/" + kind, data=json.dumps(result).encode(), method="POST")
    urllib.request.urlopen(request).read()
