"""The real SageMaker Python SDK (sagemaker<3) as the client of `rcf train` and `rcf serve`.

Training files come from the SDK's recordIO writer, hyperparameters from the SDK's own
RandomCutForest estimator serialization, requests from its serializers and answers are read by
its deserializers. There is no AWS here: the estimator is built with a local stand-in session only
to obtain the exact hyperparameter map the SDK would send; no AWS call is made or faked.
"""

import io
import json
from unittest import mock

import numpy as np
import pytest
import sagemaker
from sagemaker import RandomCutForest
from sagemaker.amazon.common import RecordDeserializer, RecordSerializer, write_numpy_to_dense_tensor
from sagemaker.deserializers import JSONDeserializer
from sagemaker.serializers import CSVSerializer, JSONSerializer

assert sagemaker.__version__.startswith("2."), sagemaker.__version__


def sdk_hyperparameters(feature_dim, **kwargs):
    session = mock.MagicMock()
    session.boto_region_name = "us-east-1"
    session.sagemaker_config = None
    session.local_mode = False
    est = RandomCutForest(
        role="arn:aws:iam::123456789012:role/rcf",
        instance_count=1,
        instance_type="ml.m4.xlarge",
        sagemaker_session=session,
        **kwargs,
    )
    est.feature_dim = feature_dim
    est.mini_batch_size = 1000  # what _prepare_for_training always sets
    return est.hyperparameters()


def taxi_like(n=4032, seed=7):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    series = 15000 + 8000 * np.sin(2 * np.pi * t / 48) + rng.normal(0, 500, n)
    return series.reshape(-1, 1)  # float64, like the notebook's pandas column


def train_recordio(ml, data, labels=None, test=None, **hp):
    with open(ml.channel_file("train", "matrix_0.pbr"), "wb") as f:
        write_numpy_to_dense_tensor(f, data)
    channels = {"train": {"TrainingInputMode": "File", "S3DistributionType": "ShardedByS3Key", "RecordWrapperType": "None"}}
    if test is not None:
        with open(ml.channel_file("test", "matrix_0.pbr"), "wb") as f:
            write_numpy_to_dense_tensor(f, test[0], test[1])
        channels["test"] = {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated"}
    ml.config("hyperparameters.json", sdk_hyperparameters(data.shape[1], **hp))
    ml.config("inputdataconfig.json", channels)  # no ContentType: exactly what record_set produces
    ml.config("resourceconfig.json", {"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "eth0"})
    out = ml.train()
    assert out.returncode == 0, out.stderr + (ml.failure() or "")
    return out


def test_sdk_hyperparameters_and_recordio_files_train_a_model(ml):
    hp = sdk_hyperparameters(1, num_samples_per_tree=512, num_trees=50, eval_metrics=["accuracy", "precision_recall_fscore"])
    assert hp["eval_metrics"] == '["accuracy", "precision_recall_fscore"]'
    train_recordio(ml, taxi_like(), num_samples_per_tree=512, num_trees=50)
    manifest = json.loads((ml.root / "model/manifest.json").read_text())
    assert manifest["feature_dim"] == 1
    assert manifest["num_trees"] == 50
    assert manifest["training"]["records"] == 4032
    assert manifest["hyperparameters"]["mini_batch_size"] == "1000"


def test_csv_serializer_and_json_deserializer_like_the_notebook(ml, serve):
    data = taxi_like()
    train_recordio(ml, data, num_samples_per_tree=512, num_trees=50)
    server = serve(ml.root / "model")
    probe = data[:200].copy()
    probe[100, 0] = 60000.0  # a spike
    ser = CSVSerializer()
    status, ctype, body = server.invoke(ser.serialize(probe), ser.CONTENT_TYPE, "application/json")
    assert status == 200 and ctype == "application/json"
    result = JSONDeserializer().deserialize(io.BytesIO(body), ctype)
    scores = [d["score"] for d in result["scores"]]
    assert len(scores) == 200
    assert int(np.argmax(scores)) == 100
    cutoff = np.mean(scores) + 3 * np.std(scores)
    assert scores[100] > cutoff


def test_record_serializer_and_record_deserializer_default_predictor_path(ml, serve):
    data = taxi_like()
    train_recordio(ml, data, num_samples_per_tree=256, num_trees=100)
    server = serve(ml.root / "model")
    ser = RecordSerializer()
    payload = ser.serialize(data[:50])  # float64 ndarray -> Float64Tensor records
    status, ctype, body = server.invoke(payload, ser.CONTENT_TYPE, "application/x-recordio-protobuf")
    assert status == 200 and ctype == "application/x-recordio-protobuf"
    records = RecordDeserializer().deserialize(io.BytesIO(body), ctype)
    assert len(records) == 50
    for r in records:
        assert len(r.label["score"].float32_tensor.values) == 1
    # Same scores as the CSV path (float32 precision).
    csv = CSVSerializer()
    _, _, jbody = server.invoke(csv.serialize(data[:50]), "text/csv", "application/json")
    expected = [d["score"] for d in json.loads(jbody)["scores"]]
    got = [r.label["score"].float32_tensor.values[0] for r in records]
    assert np.allclose(got, expected, rtol=1e-6)


def test_json_serializer_bare_list_and_jsonlines_answer(ml, serve):
    data = np.column_stack([taxi_like()[:, 0], taxi_like(seed=3)[:, 0] / 10])
    train_recordio(ml, data, num_samples_per_tree=128, num_trees=50)
    server = serve(ml.root / "model")
    ser = JSONSerializer()
    status, ctype, body = server.invoke(ser.serialize(data[:10]), ser.CONTENT_TYPE, "application/jsonlines")
    assert status == 200 and ctype == "application/jsonlines"
    lines = body.decode().split("\n")
    assert len(lines) == 10 and all(set(json.loads(l)) == {"score"} for l in lines)


def test_test_channel_metrics_from_sdk_labelled_records(ml):
    data = taxi_like()
    test = taxi_like(n=1000, seed=11)
    labels = np.zeros(1000)
    for i in (100, 400, 800):
        test[i, 0] = 90000.0
        labels[i] = 1
    out = train_recordio(ml, data, test=(test, labels), num_samples_per_tree=256, num_trees=50)
    metrics = {}
    for line in out.stdout.splitlines():
        if line.startswith("#quality_metric: host=algo-1, test "):
            name, value = line.split("test ", 1)[1].split(" <score>=")
            metrics[name] = float(value)
    assert {"accuracy", "precision", "recall", "f1"} <= set(metrics)
    assert metrics["recall"] == 1.0 and metrics["f1"] > 0.5


def test_wrong_dimension_from_the_sdk_is_a_clear_400(ml, serve):
    train_recordio(ml, taxi_like(), num_samples_per_tree=64, num_trees=50)
    server = serve(ml.root / "model")
    ser = CSVSerializer()
    status, ctype, body = server.invoke(ser.serialize(np.ones((3, 2))), ser.CONTENT_TYPE)
    assert status == 400 and ctype == "application/json"
    assert "line 1: expected 1 features (feature_dim), found 2" in json.loads(body)["error"]["message"]


def test_unknown_hyperparameter_fails_the_job_with_its_name(ml):
    with open(ml.channel_file("train", "matrix_0.pbr"), "wb") as f:
        write_numpy_to_dense_tensor(f, taxi_like(n=100))
    ml.config("hyperparameters.json", {**sdk_hyperparameters(1), "mini_batch_siz": "10"})
    ml.config("inputdataconfig.json", {"train": {"TrainingInputMode": "File"}})
    out = ml.train()
    assert out.returncode != 0
    assert "mini_batch_siz" in ml.failure()
