//! `rcf train` against a temporary /opt/ml tree: what it writes, the metric lines, and the failure
//! file and exit code for each kind of bad job.

mod common;

use common::*;

const CSV_TRAIN: &str = r#"{"train":{"ContentType":"text/csv;label_size=0","TrainingInputMode":"File","S3DistributionType":"ShardedByS3Key"}}"#;

fn manifest(ml: &MlTree) -> serde_json::Value {
    json(&std::fs::read(ml.model_dir().join("manifest.json")).expect("manifest.json written"))
}

fn assert_fails(ml: &MlTree, needle: &str) {
    let out = ml.train();
    assert!(!out.status.success(), "training should fail ({needle})");
    let failure = ml.failure().expect("output/failure written");
    assert!(failure.contains(needle), "failure reason {failure:?} should mention {needle:?}");
    assert!(failure.len() <= 1024);
    assert!(!ml.model_dir().join("model.rcf").exists(), "no model after a failure");
}

#[test]
fn csv_training_writes_the_model_directory_with_a_manifest() {
    let ml = trained_tree(2000);
    let m = manifest(&ml);
    assert_eq!(m["feature_dim"], 3);
    assert_eq!(m["num_trees"], 50);
    assert_eq!(m["num_samples_per_tree"], 64);
    assert_eq!(m["hyperparameters"]["mini_batch_size"], "1000");
    assert_eq!(m["training"]["records"], 2000);
    assert!(m["training"]["score_mean"].as_f64().unwrap() > 0.0);
    assert!(m["training"]["score_std"].as_f64().unwrap() >= 0.0);
    let model = std::fs::read(ml.model_dir().join("model.rcf")).unwrap();
    assert_eq!(m["model_checksum"], format!("{:08x}", crc32fast::hash(&model)));
    assert!(ml.failure().is_none());
    // No temporary files are left beside the model.
    let names: Vec<String> =
        std::fs::read_dir(ml.model_dir()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn recordio_without_content_type_float64_float32_int32_dense_and_sparse() {
    let ml = MlTree::new();
    let rows = normal_rows(600, 3);
    let mut records = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let value = match i % 4 {
            0 => dense64(r),
            1 => proto::Value {
                kind: Some(proto::Kind::Float32Tensor(proto::Float32Tensor {
                    values: r.iter().map(|&v| v as f32).collect(),
                    keys: vec![],
                    shape: vec![],
                })),
            },
            2 => proto::Value {
                kind: Some(proto::Kind::Int32Tensor(proto::Int32Tensor {
                    values: r.iter().map(|&v| v as i32).collect(),
                    keys: vec![],
                    shape: vec![3],
                })),
            },
            _ => proto::Value {
                kind: Some(proto::Kind::Float64Tensor(proto::Float64Tensor {
                    values: vec![r[0], r[2]],
                    keys: vec![0, 2],
                    shape: vec![3],
                })),
            },
        };
        records.push(record_with(value, None));
    }
    ml.config("hyperparameters.json", r#"{"feature_dim":3,"num_trees":50,"num_samples_per_tree":32}"#)
        .config("inputdataconfig.json", r#"{"train":{"TrainingInputMode":"File","S3DistributionType":"ShardedByS3Key","RecordWrapperType":"None"}}"#)
        .data("train", "matrix_0.pbr", &recordio(&records[..300]))
        .data("train", "sub/matrix_1.pbr", &recordio(&records[300..]))
        .data("train", ".amazon.manifest", b"[{\"prefix\":\"s3://b/p/\"}, \"matrix_0.pbr\"]");
    let out = ml.train();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(manifest(&ml)["training"]["records"], 600);
}

#[test]
fn pipe_mode_reads_the_epoch_zero_fifo() {
    let ml = MlTree::new();
    ml.config("hyperparameters.json", r#"{"feature_dim":"3","num_trees":"50","num_samples_per_tree":"16"}"#)
        .config("inputdataconfig.json", r#"{"train":{"ContentType":"text/csv","TrainingInputMode":"Pipe"}}"#);
    let fifo = ml.root().join("input/data/train_0");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    let body = csv_of(&normal_rows(500, 3));
    let writer = std::thread::spawn(move || std::fs::write(fifo, body).unwrap());
    let out = ml.train();
    writer.join().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(manifest(&ml)["training"]["records"], 500);
}

#[test]
fn test_channel_prints_stable_metric_lines() {
    let ml = MlTree::new();
    let mut test = String::new();
    for (i, r) in normal_rows(300, 3).iter().enumerate() {
        test.push_str(&format!("0,{},{},{}\n", r[0], r[1], r[2]));
        if i % 100 == 0 {
            test.push_str("1,900,-900,900\n");
        }
    }
    ml.config("hyperparameters.json", r#"{"feature_dim":"3","num_trees":"50","num_samples_per_tree":"64","eval_metrics":"[\"accuracy\", \"precision_recall_fscore\"]"}"#)
        .config("inputdataconfig.json", r#"{"train":{"ContentType":"text/csv;label_size=0"},"test":{"ContentType":"text/csv;label_size=1","S3DistributionType":"FullyReplicated"}}"#)
        .data("train", "t.csv", csv_of(&normal_rows(2000, 3)).as_bytes())
        .data("test", "t.csv", test.as_bytes());
    let out = ml.train();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for name in ["accuracy", "precision", "recall", "f1", "precision_negative", "recall_negative", "f1_negative"] {
        assert!(
            stdout.contains(&format!("#quality_metric: host=algo-1, test {name} <score>=")),
            "missing {name} in {stdout}"
        );
    }
    let f1: f64 =
        stdout.lines().find(|l| l.contains("test f1 <score>=")).unwrap().rsplit('=').next().unwrap().parse().unwrap();
    assert!(f1 > 0.9, "the three planted anomalies are found: f1 = {f1}");
}

#[test]
fn bad_hyperparameter_value_fails_with_its_name() {
    let ml = MlTree::new();
    ml.config("hyperparameters.json", r#"{"feature_dim":"abc"}"#)
        .config("inputdataconfig.json", CSV_TRAIN)
        .data("train", "a.csv", b"1,2,3");
    assert_fails(&ml, "feature_dim");
}

#[test]
fn out_of_range_num_trees_fails() {
    let ml = MlTree::new();
    ml.config("hyperparameters.json", r#"{"feature_dim":"3","num_trees":"10"}"#)
        .config("inputdataconfig.json", CSV_TRAIN)
        .data("train", "a.csv", b"1,2,3");
    assert_fails(&ml, "num_trees must be a whole number between 50 and 1000");
}

#[test]
fn unknown_hyperparameter_is_named_and_underscore_keys_are_ignored() {
    let ml = MlTree::new();
    ml.config("hyperparameters.json", r#"{"feature_dim":"3","_kvstore":"dist_async","mini_batch_siz":"10"}"#)
        .config("inputdataconfig.json", CSV_TRAIN)
        .data("train", "a.csv", b"1,2,3");
    assert_fails(&ml, "\"mini_batch_siz\"");
}

#[test]
fn wrong_feature_count_names_the_file_and_line() {
    let ml = MlTree::new();
    ml.config("hyperparameters.json", r#"{"feature_dim":"3"}"#).config("inputdataconfig.json", CSV_TRAIN).data(
        "train",
        "a.csv",
        b"1,2,3\n4,5,6\n7,8\n",
    );
    assert_fails(&ml, "file a.csv: line 3: expected 3 features (feature_dim), found 2");
}

#[test]
fn empty_train_channel_fails() {
    let ml = MlTree::new();
    ml.config("hyperparameters.json", r#"{"feature_dim":"3"}"#)
        .config("inputdataconfig.json", CSV_TRAIN)
        .data("train", "a.csv", b"");
    assert_fails(&ml, "channel train has no records");
}

#[test]
fn missing_train_channel_fails() {
    let ml = MlTree::new();
    ml.config("hyperparameters.json", r#"{"feature_dim":"3"}"#)
        .config("inputdataconfig.json", r#"{"test":{"ContentType":"text/csv;label_size=1"}}"#);
    assert_fails(&ml, "\"train\" channel is required");
}

#[test]
fn more_than_one_host_fails_at_once() {
    let ml = MlTree::new();
    ml.config("hyperparameters.json", r#"{"feature_dim":"3"}"#)
        .config("inputdataconfig.json", CSV_TRAIN)
        .config(
            "resourceconfig.json",
            r#"{"current_host":"algo-1","hosts":["algo-1","algo-2"],"network_interface_name":"eth1"}"#,
        )
        .data("train", "a.csv", b"1,2,3");
    assert_fails(&ml, "distributed training is not supported yet");
}

#[test]
fn corrupt_recordio_names_the_record() {
    let ml = MlTree::new();
    let mut bytes = recordio(&[record_with(dense64(&[1.0, 2.0, 3.0]), None)]);
    bytes.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0]);
    ml.config("hyperparameters.json", r#"{"feature_dim":"3"}"#)
        .config("inputdataconfig.json", r#"{"train":{"ContentType":"application/x-recordio-protobuf"}}"#)
        .data("train", "m.pbr", &bytes);
    assert_fails(&ml, "file m.pbr: record 2: bad recordIO magic");
}

#[test]
fn nan_in_training_data_fails() {
    let ml = MlTree::new();
    ml.config("hyperparameters.json", r#"{"feature_dim":"3"}"#).config("inputdataconfig.json", CSV_TRAIN).data(
        "train",
        "a.csv",
        b"1,2,3\n1,nan,3\n",
    );
    assert_fails(&ml, "line 2, column 2");
}

#[test]
fn test_channel_without_labels_fails() {
    let ml = MlTree::new();
    ml.config("hyperparameters.json", r#"{"feature_dim":"3"}"#)
        .config(
            "inputdataconfig.json",
            r#"{"train":{"ContentType":"text/csv"},"test":{"ContentType":"text/csv;label_size=0"}}"#,
        )
        .data("train", "a.csv", b"1,2,3\n4,5,6\n")
        .data("test", "a.csv", b"1,2,3\n");
    assert_fails(&ml, "labels are required");
}

#[test]
fn unsupported_content_type_fails() {
    let ml = MlTree::new();
    ml.config("hyperparameters.json", r#"{"feature_dim":"3"}"#)
        .config("inputdataconfig.json", r#"{"train":{"ContentType":"application/json"}}"#)
        .data("train", "a.json", b"[]");
    assert_fails(&ml, "unsupported ContentType \"application/json\"");
}
