#!/usr/bin/env python3
"""Score files in S3 with the rcf image through a SageMaker Batch Transform job.

Batch Transform needs no Terraform resource: a job is created per run. This script
creates a transient SageMaker model from the same image digest and model archive the
endpoint uses (network isolation on, the batch-transform role from infra/), starts the
job, optionally waits for it, and deletes the transient model afterwards.

Settings (see infra/README.md and ../../../shared/reference/sagemaker-contract.md):
  * SplitType=Line, BatchStrategy=MultiRecord: each request carries as many whole lines
    (records) as fit in MaxPayloadInMB; one CSV or JSON Lines record per line.
  * Accept=application/jsonlines, AssembleWith=Line: one score line per input record in
    <input file name>.out, so outputs line up with inputs.
  * MaxConcurrentTransforms x MaxPayloadInMB must not exceed 100 MB.
  * One malformed record fails its whole input file, and a file is never split across
    instances: split large inputs into several files to use several instances.

Typical use, with the values Terraform knows:
  terraform -chdir=infra output -json > tf-outputs.json
  python3 infra/examples/batch-transform/run_transform_job.py \
      --terraform-output tf-outputs.json \
      --input-prefix  s3://<bucket>/batch/input/2024-06-01/ \
      --output-prefix s3://<bucket>/batch/output/2024-06-01/ --wait

Only the standard library is needed for --dry-run; boto3 is needed to submit.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import re
import sys
import time
from typing import Any

# Content types the rcf container accepts, and how Batch Transform must split each one.
SPLIT_TYPE_BY_CONTENT_TYPE = {
    "text/csv": "Line",
    "application/jsonlines": "Line",
    "application/x-recordio-protobuf": "RecordIO",
}
ACCEPT_TYPES = ("application/jsonlines", "text/csv", "application/json")
MAX_TOTAL_PAYLOAD_MB = 100
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
S3_URI_PATTERN = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(.*)$")
DIGEST_IMAGE_PATTERN = re.compile(r"^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+@sha256:[a-f0-9]{64}$")


class SettingsError(ValueError):
    """A job setting that SageMaker or the rcf container would reject."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise SettingsError(message)


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Split s3://bucket/key into (bucket, key); raise SettingsError when malformed."""
    match = S3_URI_PATTERN.match(uri)
    _require(match is not None, f"expected an s3://<bucket>/<key> URI, found {uri!r}")
    assert match is not None
    return match.group(1), match.group(2)


def build_model_request(*, model_name: str, role_arn: str, image: str, model_data_url: str) -> dict[str, Any]:
    """CreateModel request for the transient model of one transform job."""
    _require(NAME_PATTERN.match(model_name) is not None, f"model name {model_name!r} must be 1-63 alphanumerics and hyphens")
    _require(DIGEST_IMAGE_PATTERN.match(image) is not None, f"image must be pinned by digest (<repository_url>@sha256:<64 hex>), found {image!r}")
    _require(model_data_url.endswith(".tar.gz"), f"model_data_url must point at a model.tar.gz, found {model_data_url!r}")
    parse_s3_uri(model_data_url)
    return {
        "ModelName": model_name,
        "ExecutionRoleArn": role_arn,
        "EnableNetworkIsolation": True,
        "PrimaryContainer": {"Image": image, "ModelDataUrl": model_data_url, "Mode": "SingleModel"},
    }


def build_transform_request(
    *,
    job_name: str,
    model_name: str,
    input_prefix: str,
    output_prefix: str,
    kms_key_arn: str,
    instance_type: str = "ml.c5.xlarge",
    instance_count: int = 1,
    content_type: str = "text/csv",
    accept: str = "application/jsonlines",
    max_payload_mb: int = 6,
    max_concurrent_transforms: int = 0,
) -> dict[str, Any]:
    """CreateTransformJob request with the settings rcf needs (see module docstring)."""
    _require(NAME_PATTERN.match(job_name) is not None, f"job name {job_name!r} must be 1-63 alphanumerics and hyphens")
    _require(content_type in SPLIT_TYPE_BY_CONTENT_TYPE, f"content type must be one of {sorted(SPLIT_TYPE_BY_CONTENT_TYPE)}, found {content_type!r}")
    _require(accept in ACCEPT_TYPES, f"accept must be one of {list(ACCEPT_TYPES)}, found {accept!r}")
    _require(1 <= max_payload_mb <= MAX_TOTAL_PAYLOAD_MB, f"max_payload_mb must be between 1 and {MAX_TOTAL_PAYLOAD_MB}, found {max_payload_mb}")
    _require(max_concurrent_transforms >= 0, f"max_concurrent_transforms must be >= 0 (0 lets SageMaker choose), found {max_concurrent_transforms}")
    _require(
        max_concurrent_transforms * max_payload_mb <= MAX_TOTAL_PAYLOAD_MB,
        f"max_concurrent_transforms x max_payload_mb must be <= {MAX_TOTAL_PAYLOAD_MB} MB, "
        f"found {max_concurrent_transforms} x {max_payload_mb} = {max_concurrent_transforms * max_payload_mb}",
    )
    _require(1 <= instance_count <= 100, f"instance_count must be between 1 and 100, found {instance_count}")
    _require(instance_type.startswith("ml."), f"instance_type must be an ml.* type, found {instance_type!r}")
    _require(input_prefix.endswith("/"), f"input prefix must end with '/', found {input_prefix!r}")
    _require(output_prefix.endswith("/"), f"output prefix must end with '/', found {output_prefix!r}")
    parse_s3_uri(input_prefix)
    parse_s3_uri(output_prefix)
    _require(input_prefix != output_prefix, "input and output prefixes must differ")

    request: dict[str, Any] = {
        "TransformJobName": job_name,
        "ModelName": model_name,
        "BatchStrategy": "MultiRecord",
        "MaxPayloadInMB": max_payload_mb,
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_prefix}},
            "ContentType": content_type,
            "SplitType": SPLIT_TYPE_BY_CONTENT_TYPE[content_type],
            "CompressionType": "None",
        },
        "TransformOutput": {
            "S3OutputPath": output_prefix,
            "Accept": accept,
            "AssembleWith": "Line",
            "KmsKeyId": kms_key_arn,
        },
        "TransformResources": {
            "InstanceType": instance_type,
            "InstanceCount": instance_count,
            "VolumeKmsKeyId": kms_key_arn,
        },
    }
    if max_concurrent_transforms:
        request["MaxConcurrentTransforms"] = max_concurrent_transforms
    return request


def settings_from_terraform_output(outputs: dict[str, Any]) -> dict[str, Any]:
    """Values of `terraform output -json` (infra root) that a transform job needs."""
    def value(name: str) -> Any:
        entry = outputs.get(name)
        _require(entry is not None and entry.get("value") is not None, f"terraform output {name!r} is missing or null")
        return entry["value"]

    prefixes = value("s3_prefixes")
    return {
        "role_arn": value("batch_transform_role_arn"),
        "image": value("image"),
        "model_data_url": value("model_data_url"),
        "kms_key_arn": value("artifacts_kms_key_arn"),
        "batch_input": prefixes["batch_input"],
        "batch_output": prefixes["batch_output"],
    }


def check_within(uri: str, allowed_prefix: str, what: str) -> None:
    """The batch-transform role may only read batch/input/ and write batch/output/."""
    _require(uri.startswith(allowed_prefix), f"{what} {uri!r} is outside {allowed_prefix!r}, where the batch-transform role has access")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--terraform-output", help="file written by `terraform output -json` in infra/")
    parser.add_argument("--role-arn", help="batch-transform role (default: from --terraform-output)")
    parser.add_argument("--image", help="<repository_url>@sha256:<digest> (default: from --terraform-output)")
    parser.add_argument("--model-data-url", help="s3://.../models/<version>/model.tar.gz (default: from --terraform-output)")
    parser.add_argument("--kms-key-arn", help="key for the output objects and the volume (default: from --terraform-output)")
    parser.add_argument("--input-prefix", required=True, help="s3:// prefix of the input files, ending in /")
    parser.add_argument("--output-prefix", required=True, help="s3:// prefix for the .out files, ending in /")
    parser.add_argument("--job-name", default=None, help="default: rcf-batch-<UTC timestamp>")
    parser.add_argument("--instance-type", default="ml.c5.xlarge")
    parser.add_argument("--instance-count", type=int, default=1)
    parser.add_argument("--content-type", default="text/csv", choices=sorted(SPLIT_TYPE_BY_CONTENT_TYPE))
    parser.add_argument("--accept", default="application/jsonlines", choices=ACCEPT_TYPES)
    parser.add_argument("--max-payload-mb", type=int, default=6)
    parser.add_argument("--max-concurrent-transforms", type=int, default=0)
    parser.add_argument("--region", default=None, help="default: the AWS SDK's configured region")
    parser.add_argument("--wait", action="store_true", help="wait for the job and exit non-zero unless it completes")
    parser.add_argument("--keep-model", action="store_true", help="do not delete the transient model")
    parser.add_argument("--dry-run", action="store_true", help="print the two requests as JSON and exit")
    return parser.parse_args(argv)


def resolve(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """Build (CreateModel, CreateTransformJob) requests from the command line."""
    settings: dict[str, Any] = {}
    if args.terraform_output:
        with open(args.terraform_output, encoding="utf-8") as handle:
            settings = settings_from_terraform_output(json.load(handle))
    for key in ("role_arn", "image", "model_data_url", "kms_key_arn"):
        if getattr(args, key):
            settings[key] = getattr(args, key)
        _require(settings.get(key) is not None, f"--{key.replace('_', '-')} is required without --terraform-output")
    if "batch_input" in settings:
        check_within(args.input_prefix, settings["batch_input"], "input prefix")
        check_within(args.output_prefix, settings["batch_output"], "output prefix")

    job_name = args.job_name or "rcf-batch-" + _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    model_request = build_model_request(
        model_name=job_name, role_arn=settings["role_arn"], image=settings["image"], model_data_url=settings["model_data_url"]
    )
    transform_request = build_transform_request(
        job_name=job_name,
        model_name=job_name,
        input_prefix=args.input_prefix,
        output_prefix=args.output_prefix,
        kms_key_arn=settings["kms_key_arn"],
        instance_type=args.instance_type,
        instance_count=args.instance_count,
        content_type=args.content_type,
        accept=args.accept,
        max_payload_mb=args.max_payload_mb,
        max_concurrent_transforms=args.max_concurrent_transforms,
    )
    return model_request, transform_request


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        model_request, transform_request = resolve(args)
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(json.dumps({"CreateModel": model_request, "CreateTransformJob": transform_request}, indent=2))
        return 0

    import boto3  # only needed to submit

    sagemaker = boto3.client("sagemaker", region_name=args.region)
    sagemaker.create_model(**model_request)
    status = "Submitted"
    try:
        sagemaker.create_transform_job(**transform_request)
        job_name = transform_request["TransformJobName"]
        print(f"started transform job {job_name}; output: {transform_request['TransformOutput']['S3OutputPath']}")
        if not args.wait:
            args.keep_model = True  # the running job still needs the model
            print(f"when the job has ended: aws sagemaker delete-model --model-name {model_request['ModelName']}")
            return 0
        while status not in ("Completed", "Failed", "Stopped"):
            time.sleep(30)
            described = sagemaker.describe_transform_job(TransformJobName=job_name)
            status = described["TransformJobStatus"]
            print(f"{job_name}: {status}")
        if status != "Completed":
            print(f"error: {job_name} ended {status}: {described.get('FailureReason', 'no reason given')}", file=sys.stderr)
            return 1
        return 0
    finally:
        if not args.keep_model:
            sagemaker.delete_model(ModelName=model_request["ModelName"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
