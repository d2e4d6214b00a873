"""boto3 against the Bucket's S3 door (test/e2e/s3/real-clients.test.ts): prints one JSON report."""
import json
import os
import sys
import urllib.request

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, workdir = sys.argv[1], sys.argv[2]
s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id=os.environ["S3_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["S3_SECRET_ACCESS_KEY"],
    config=Config(
        signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1}
    ),
)
report = {}

s3.put_object(Bucket="ai_avatar", Key="model_checkpoint/py/small.bin", Body=b"0123456789" * 10)
ranged = s3.get_object(Bucket="ai_avatar", Key="model_checkpoint/py/small.bin", Range="bytes=10-19")
report["range"] = ranged["Body"].read().decode()

big = os.path.join(workdir, "big.bin")
with open(big, "wb") as f:
    f.write(os.urandom(11 * 1024 * 1024))
s3.upload_file(big, "ai_avatar", "model_checkpoint/py/big.bin",
               Config=TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024))
head = s3.head_object(Bucket="ai_avatar", Key="model_checkpoint/py/big.bin")
report["multipartEtag"] = head["ETag"]
report["sha256"] = head["ResponseMetadata"]["HTTPHeaders"].get("x-bucket-sha256")
back = os.path.join(workdir, "back.bin")
s3.download_file("ai_avatar", "model_checkpoint/py/big.bin", back)
report["roundTrip"] = open(big, "rb").read() == open(back, "rb").read()

for i in range(3):
    s3.put_object(Bucket="ai_avatar", Key=f"model_checkpoint/py/list/{i}.bin", Body=b"x")
pages = s3.get_paginator("list_objects_v2").paginate(
    Bucket="ai_avatar", Prefix="model_checkpoint/py/", Delimiter="/", PaginationConfig={"PageSize": 1})
keys, prefixes, count = [], [], 0
for page in pages:
    count += 1
    keys += [c["Key"] for c in page.get("Contents", [])]
    prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
report["pages"], report["keys"], report["prefixes"] = count, keys, prefixes

url = s3.generate_presigned_url("get_object", Params={"Bucket": "ai_avatar", "Key": "model_checkpoint/py/small.bin"}, ExpiresIn=300)
report["presigned"] = urllib.request.urlopen(url).read().decode()[:10]

try:
    s3.put_object(Bucket="ai_avatar", Key="model_checkpoint/py/small.bin", Body=b"overwrite")
    report["overwrite"] = "stored"
except ClientError as error:
    report["overwrite"] = error.response["Error"]["Code"]
    report["overwriteMessage"] = error.response["Error"]["Message"]
try:
    s3.list_objects_v2(Bucket="gurukul")
    report["crossProduct"] = "listed"
except ClientError as error:
    report["crossProduct"] = error.response["Error"]["Code"]

print(json.dumps(report))
