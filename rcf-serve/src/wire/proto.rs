//! The `aialgs.data` protobuf schema (proto2) used by SageMaker's recordIO-protobuf format,
//! declared with prost's derive macros:
//!
//! ```text
//! message Float32Tensor { repeated float  values = 1 [packed=true]; repeated uint64 keys = 2 [packed=true]; repeated uint64 shape = 3 [packed=true]; }
//! message Float64Tensor { repeated double values = 1 [packed=true]; … same keys/shape … }
//! message Int32Tensor   { repeated int32  values = 1 [packed=true]; … same keys/shape … }
//! message Bytes { repeated bytes value = 1; optional string content_type = 2; }
//! message Value { oneof value { Float32Tensor float32_tensor = 2; Float64Tensor float64_tensor = 3;
//!                               Int32Tensor int32_tensor = 7; Bytes bytes = 9; } }
//! message Record { map<string, Value> features = 1; map<string, Value> label = 2;
//!                  optional string uid = 3; optional string metadata = 4; optional string configuration = 5; }
//! ```

use std::collections::BTreeMap;

/// Dense or sparse float32 tensor.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Float32Tensor {
    /// Values (dense) or the non-zero values (sparse).
    #[prost(float, repeated, tag = "1")]
    pub values: Vec<f32>,
    /// Indices of the values when sparse.
    #[prost(uint64, repeated, tag = "2")]
    pub keys: Vec<u64>,
    /// Tensor shape; required when sparse.
    #[prost(uint64, repeated, tag = "3")]
    pub shape: Vec<u64>,
}

/// Dense or sparse float64 tensor (what the SageMaker SDK writes for float64 numpy arrays).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Float64Tensor {
    /// Values.
    #[prost(double, repeated, tag = "1")]
    pub values: Vec<f64>,
    /// Sparse indices.
    #[prost(uint64, repeated, tag = "2")]
    pub keys: Vec<u64>,
    /// Shape.
    #[prost(uint64, repeated, tag = "3")]
    pub shape: Vec<u64>,
}

/// Dense or sparse int32 tensor.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Int32Tensor {
    /// Values.
    #[prost(int32, repeated, tag = "1")]
    pub values: Vec<i32>,
    /// Sparse indices.
    #[prost(uint64, repeated, tag = "2")]
    pub keys: Vec<u64>,
    /// Shape.
    #[prost(uint64, repeated, tag = "3")]
    pub shape: Vec<u64>,
}

/// Opaque bytes with an optional content type.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Bytes {
    /// The payloads.
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub value: Vec<Vec<u8>>,
    /// Their content type.
    #[prost(string, optional, tag = "2")]
    pub content_type: Option<String>,
}

/// One of the tensor kinds.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Value {
    /// The tensor.
    #[prost(oneof = "Kind", tags = "2, 3, 7, 9")]
    pub kind: Option<Kind>,
}

/// The `oneof value` of [`Value`].
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Kind {
    /// float32 tensor.
    #[prost(message, tag = "2")]
    Float32Tensor(Float32Tensor),
    /// float64 tensor.
    #[prost(message, tag = "3")]
    Float64Tensor(Float64Tensor),
    /// int32 tensor.
    #[prost(message, tag = "7")]
    Int32Tensor(Int32Tensor),
    /// bytes.
    #[prost(message, tag = "9")]
    Bytes(Bytes),
}

/// One record: features (under key `values`), label, and optional metadata.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Record {
    /// Feature tensors by name; RCF reads `values`.
    #[prost(btree_map = "string, message", tag = "1")]
    pub features: BTreeMap<String, Value>,
    /// Label tensors by name.
    #[prost(btree_map = "string, message", tag = "2")]
    pub label: BTreeMap<String, Value>,
    /// Record id.
    #[prost(string, optional, tag = "3")]
    pub uid: Option<String>,
    /// Free-form metadata.
    #[prost(string, optional, tag = "4")]
    pub metadata: Option<String>,
    /// Per-record inference configuration (JSON text; `{"attribution": true}` asks for attribution).
    #[prost(string, optional, tag = "5")]
    pub configuration: Option<String>,
}

impl Value {
    /// A dense float32 tensor value.
    pub fn float32(values: Vec<f32>) -> Value {
        Value { kind: Some(Kind::Float32Tensor(Float32Tensor { values, keys: Vec::new(), shape: Vec::new() })) }
    }
}
