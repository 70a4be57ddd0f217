"""Security properties read from the configuration: encryption, TLS, least privilege."""

from __future__ import annotations

import re

import pytest
from tfparse import INFRA, MODULE_DIRS, config, expr, lit, module_dir, statements

ARTIFACTS = module_dir("model-artifacts")
ECR = module_dir("ecr")
IAM = module_dir("iam")

# The only actions AWS documents as not supporting resource-level permissions that the roles need.
ACTIONS_ALLOWED_ON_STAR = {"ecr:GetAuthorizationToken", "cloudwatch:PutMetricData"}
ACTION_TOKEN = re.compile(r'"([a-z0-9-]+:[A-Za-z0-9*?]+)"')


def _actions(cfg, statement: dict) -> set[str]:
    """Every action a statement can grant, including those behind local.* or a conditional."""
    value = statement.get("actions", [])
    text = " ".join(value) if isinstance(value, list) else value
    for name in re.findall(r"local\.(\w+)", text):
        local = cfg.locals[name]
        text += " " + (" ".join(local) if isinstance(local, list) else str(local))
    return set(ACTION_TOKEN.findall(text)) | {lit(v) for v in (value if isinstance(value, list) else []) if not v.startswith("${")}


def _resources(statement: dict) -> list[str]:
    value = statement.get("resources", [])
    return [v if v.startswith("${") else lit(v) for v in (value if isinstance(value, list) else [value])]


def _role_documents(cfg, document_name: str) -> list[dict]:
    """A policy document plus the documents it merges in through source_policy_documents."""
    document = cfg.data[("aws_iam_policy_document", document_name)]
    found = [document]
    for source in document.get("source_policy_documents", []):
        match = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.(\w+)(\[0\])?\.json\}", source)
        assert match, f"unexpected source policy {source}"
        found += _role_documents(cfg, match.group(1))
    return found


# --- model_artifacts bucket ---------------------------------------------------------------


@pytest.fixture(scope="module")
def artifacts():
    return config(ARTIFACTS)


def test_bucket_policy_denies_requests_without_tls(artifacts):
    attached = artifacts.resource("aws_s3_bucket_policy", "this")
    assert expr(attached["bucket"]) == "aws_s3_bucket.this.id"
    assert expr(attached["policy"]) == "data.aws_iam_policy_document.bucket.json"
    document = artifacts.data[("aws_iam_policy_document", "bucket")]
    tls = [s for s in statements(document) if lit(s.get("sid", '""')) == "DenyInsecureTransport"]
    assert len(tls) == 1
    statement = tls[0]
    assert lit(statement["effect"]) == "Deny"
    assert lit(statement["actions"]) == ["s3:*"]
    assert [(lit(p["type"]), lit(p["identifiers"])) for p in statement["principals"]] == [("*", ["*"])]
    assert _resources(statement) == ["${aws_s3_bucket.this.arn}", "${aws_s3_bucket.this.arn}/*"]
    condition = statement["condition"][0]
    assert (lit(condition["test"]), lit(condition["variable"]), lit(condition["values"])) == ("Bool", "aws:SecureTransport", ["false"])


def test_bucket_policy_denies_tls_older_than_1_2(artifacts):
    document = artifacts.data[("aws_iam_policy_document", "bucket")]
    conditions = [(lit(c["test"]), lit(c["variable"]), lit(c["values"])) for s in statements(document) if lit(s["effect"]) == "Deny" for c in s["condition"]]
    assert ("NumericLessThan", "s3:TlsVersion", ["1.2"]) in conditions


def test_access_log_bucket_also_denies_requests_without_tls(artifacts):
    document = artifacts.data[("aws_iam_policy_document", "logs")]
    conditions = [(lit(c["test"]), lit(c["variable"]), lit(c["values"])) for s in statements(document) if lit(s.get("effect", '"Allow"')) == "Deny" for c in s["condition"]]
    assert ("Bool", "aws:SecureTransport", ["false"]) in conditions


@pytest.mark.parametrize("bucket", ["this", "logs"])
def test_public_access_is_blocked(artifacts, bucket):
    block = artifacts.resource("aws_s3_bucket_public_access_block", bucket)
    for setting in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
        assert block[setting] is True, setting
    ownership = artifacts.resource("aws_s3_bucket_ownership_controls", bucket)
    assert lit(ownership["rule"][0]["object_ownership"]) == "BucketOwnerEnforced"


@pytest.mark.parametrize("bucket", ["this", "logs"])
def test_versioning_is_enabled(artifacts, bucket):
    versioning = artifacts.resource("aws_s3_bucket_versioning", bucket)
    assert lit(versioning["versioning_configuration"][0]["status"]) == "Enabled"


def test_bucket_is_encrypted_with_the_customer_key(artifacts):
    sse = artifacts.resource("aws_s3_bucket_server_side_encryption_configuration", "this")["rule"][0]
    default = sse["apply_server_side_encryption_by_default"][0]
    assert lit(default["sse_algorithm"]) == "aws:kms"
    assert expr(default["kms_master_key_id"]) == "local.kms_key_arn"
    assert sse["bucket_key_enabled"] is True
    assert "aws_kms_key.this[0].arn" in expr(artifacts.locals["kms_key_arn"])


def test_bucket_logs_access_and_expires_old_versions(artifacts):
    logging = artifacts.resource("aws_s3_bucket_logging", "this")
    assert expr(logging["target_bucket"]) == "local.log_bucket_name"
    rules = artifacts.resource("aws_s3_bucket_lifecycle_configuration", "this")["rule"]
    assert "noncurrent_version_expiration" in rules[0]
    assert "abort_incomplete_multipart_upload" in rules[0]


def test_model_layout_matches_rcf_serve(artifacts):
    prefixes = {k: lit(v) for k, v in artifacts.locals["prefixes"].items()}
    assert prefixes["models"] == "models/"
    root = config(INFRA)
    assert lit(root.locals["model_data_key"]) == "${local.prefixes.models}${var.model_version}/model.tar.gz"


# --- KMS and ECR ---------------------------------------------------------------------------


@pytest.mark.parametrize("directory", MODULE_DIRS, ids=lambda p: p.name)
def test_every_created_key_rotates_and_has_a_policy(directory):
    for name, key in config(directory).resources_of_type("aws_kms_key").items():
        assert key["enable_key_rotation"] is True, f"{directory.name}: aws_kms_key.{name}"
        assert expr(key["policy"]).startswith("data.aws_iam_policy_document.kms"), name


def test_repository_is_immutable_scanned_and_kms_encrypted():
    repository = config(ECR).resource("aws_ecr_repository", "this")
    assert lit(repository["image_tag_mutability"]) == "IMMUTABLE"
    assert repository["image_scanning_configuration"][0]["scan_on_push"] is True
    encryption = repository["encryption_configuration"][0]
    assert lit(encryption["encryption_type"]) == "KMS"
    assert expr(encryption["kms_key"]) == "local.kms_key_arn"
    assert ("aws_ecr_lifecycle_policy", "this") in config(ECR).resources


def test_cross_account_pull_policy_grants_only_pull_actions():
    cfg = config(ECR)
    document = cfg.data[("aws_iam_policy_document", "pull")]
    for statement in statements(document):
        assert _actions(cfg, statement) == {"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}


# --- IAM roles -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def iam():
    return config(IAM)


ROLE_DOCUMENTS = {"training": "training", "hosting": "hosting", "batch_transform": "batch_transform"}


@pytest.mark.parametrize("role", ROLE_DOCUMENTS)
def test_role_policy_is_the_role_document(iam, role):
    policy = iam.resource("aws_iam_role_policy", role)
    suffix = "[0]" if role == "batch_transform" else ""
    assert expr(policy["policy"]) == f"data.aws_iam_policy_document.{ROLE_DOCUMENTS[role]}{suffix}.json"
    assert expr(iam.resource("aws_iam_role", role)["assume_role_policy"]) == "data.aws_iam_policy_document.sagemaker_trust.json"


@pytest.mark.parametrize("role", ROLE_DOCUMENTS)
def test_roles_grant_no_wildcard_actions(iam, role):
    for document in _role_documents(iam, ROLE_DOCUMENTS[role]):
        for statement in statements(document):
            actions = _actions(iam, statement)
            assert actions, f"statement {statement.get('sid')} grants nothing recognisable"
            assert not any("*" in a or "?" in a for a in actions), f"{role}: wildcard action in {sorted(actions)}"
            assert "not_actions" not in statement and "not_resources" not in statement


@pytest.mark.parametrize("role", ROLE_DOCUMENTS)
def test_star_resource_only_where_aws_requires_it(iam, role):
    for document in _role_documents(iam, ROLE_DOCUMENTS[role]):
        for statement in statements(document):
            if "*" in _resources(statement):
                assert _actions(iam, statement) <= ACTIONS_ALLOWED_ON_STAR, f"{role}: {statement.get('sid')} grants {_actions(iam, statement)} on *"


def test_hosting_role_reads_only_the_models_prefix_and_writes_only_data_capture(iam):
    s3_grants = []
    for document in _role_documents(iam, "hosting"):
        for statement in statements(document):
            for action in _actions(iam, statement):
                if action.startswith("s3:"):
                    s3_grants += [(action, resource) for resource in _resources(statement)]
    allowed = {
        ("s3:ListBucket", "${local.bucket_arn}"),
        ("s3:GetObject", "${local.bucket_arn}/${var.models_prefix}*"),
        ("s3:PutObject", "${local.bucket_arn}/${statement.value}*"),
        ("s3:AbortMultipartUpload", "${local.bucket_arn}/${statement.value}*"),
    }
    assert set(s3_grants) <= allowed, set(s3_grants) - allowed
    list_bucket = [s for d in _role_documents(iam, "hosting") for s in statements(d) if "s3:ListBucket" in _actions(iam, s)]
    assert [lit(c["values"]) for s in list_bucket for c in s["condition"]] == [["${var.models_prefix}*"]]
    capture = [b for d in _role_documents(iam, "hosting") for b in d.get("dynamic", [])]
    assert expr(capture[0]['"statement"']["for_each"]).startswith("var.data_capture_prefix == null ? []")


def test_hosting_role_pulls_one_repository(iam):
    pulls = [s for d in _role_documents(iam, "hosting") for s in statements(d) if "ecr:BatchGetImage" in _actions(iam, s)]
    assert len(pulls) == 1 and _resources(pulls[0]) == ["${var.ecr_repository_arn}"]


def test_hosting_role_writes_logs_only_to_its_endpoint_log_group(iam):
    logs = [s for d in _role_documents(iam, "hosting") for s in statements(d) if any(a.startswith("logs:") for a in _actions(iam, s))]
    assert len(logs) == 1
    assert _resources(logs[0]) == ["${local.hosting_log_group}", "${local.hosting_log_group}:*"]
    assert lit(iam.locals["hosting_log_group"]) == "${local.log_group_arn_prefix}:/aws/sagemaker/Endpoints/${var.endpoint_name}"


def test_training_role_reads_input_and_writes_output_prefix(iam):
    grants = {(a, r) for d in _role_documents(iam, "training") for s in statements(d) for a in _actions(iam, s) if a.startswith("s3:") for r in _resources(s)}
    assert ("s3:GetObject", "${local.bucket_arn}/${var.training_input_prefix}*") in grants
    assert ("s3:PutObject", "${local.bucket_arn}/${var.training_output_prefix}*") in grants
    assert not any(a == "s3:PutObject" and "training_input_prefix" in r for a, r in grants)
    assert not any("models_prefix" in r for _, r in grants), "training jobs do not need to read served models"


def test_roles_may_only_be_assumed_by_sagemaker(iam):
    trust = statements(iam.data[("aws_iam_policy_document", "sagemaker_trust")])
    assert len(trust) == 1
    assert lit(trust[0]["actions"]) == ["sts:AssumeRole"]
    assert [(lit(p["type"]), lit(p["identifiers"])) for p in trust[0]["principals"]] == [("Service", ["sagemaker.amazonaws.com"])]


def test_volume_key_grants_are_limited_to_aws_services(iam):
    for document in ("training", "hosting", "batch_transform"):
        grants = [s for d in _role_documents(iam, document) for s in statements(d) if "kms:CreateGrant" in _actions(iam, s)]
        assert len(grants) == 1
        condition = grants[0]["condition"][0]
        assert (lit(condition["variable"]), lit(condition["values"])) == ("kms:GrantIsForAWSResource", ["true"])


def test_hosting_role_output_waits_for_its_policy(iam):
    assert [expr(d) for d in iam.outputs["hosting_role_arn"]["depends_on"]] == ["aws_iam_role_policy.hosting"]
