//! `s3://bucket/key` through `object_store` (AWS): the standard credential chain (environment,
//! `~/.aws/credentials` profile, web identity, ECS/EKS container credentials, instance metadata),
//! `AWS_REGION`/`AWS_DEFAULT_REGION` (or the profile's region), and an endpoint override
//! (`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`; plain http is allowed for an explicit
//! `http://` endpoint). Errors say which of "no such object", "credentials rejected", "access
//! denied" and "wrong region" happened.
//!
//! Reads stream through a bounded channel. Writes buffer up to one part: small outputs are one PUT
//! at commit; larger ones become a multipart upload that is completed only at commit and aborted
//! when the writer is dropped, so an interrupted write never leaves a visible object.

use std::collections::VecDeque;
use std::fmt;
use std::io::{Read, Write};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{anyhow, bail};
use bytes::Bytes;
use futures::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{BackoffConfig, MultipartUpload, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};

use super::{Input, Output};

/// Bytes per multipart part (S3 needs at least 5 MiB for every part but the last).
const PART_BYTES: usize = 8 << 20;
/// Parts uploading at once.
const PARTS_IN_FLIGHT: usize = 2;
/// Chunks buffered between the download task and the reader.
const READ_AHEAD: usize = 8;

/// An S3 object address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    /// Bucket name.
    pub bucket: String,
    /// Object key.
    pub key: String,
}

impl S3Url {
    /// Parses `bucket/key` (what follows `s3://`).
    pub fn parse(rest: &str) -> anyhow::Result<S3Url> {
        match rest.split_once('/') {
            Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() && !key.ends_with('/') => {
                Ok(S3Url { bucket: bucket.to_string(), key: key.to_string() })
            }
            _ => bail!("expected s3://bucket/key with a bucket name and an object key"),
        }
    }
}

impl S3Url {
    /// True when both name the same object as S3 sees it: bucket names compared without case
    /// (they are lower-case on S3) and keys as the object path actually requested (empty
    /// segments such as `a//b` or a leading `/` dropped).
    pub fn same_object(&self, other: &S3Url) -> bool {
        self.bucket.eq_ignore_ascii_case(&other.bucket)
            && ObjectPath::from(self.key.as_str()) == ObjectPath::from(other.key.as_str())
    }
}

impl fmt::Display for S3Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// The runtime that drives all S3 requests (one worker thread; the CLI's work stays synchronous).
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("rcf-s3")
            .enable_all()
            .build()
            .expect("starting the S3 runtime")
    })
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Reads `[section]` key/values from an AWS INI file (`~/.aws/credentials` or `~/.aws/config`).
fn ini_section(text: &str, section: &str) -> Vec<(String, String)> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') && line.ends_with(']') {
            inside = line[1..line.len() - 1].trim() == section;
        } else if inside && !line.starts_with('#') && !line.starts_with(';') {
            if let Some((k, v)) = line.split_once('=') {
                out.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
    }
    out
}

fn home_file(env_name: &str, default: &str) -> Option<std::path::PathBuf> {
    env(env_name).map(Into::into).or_else(|| env("HOME").map(|h| std::path::Path::new(&h).join(default)))
}

/// Settings from the shared AWS files for `AWS_PROFILE` (or `default`), used only where the
/// environment does not already say.
fn apply_profile(mut builder: AmazonS3Builder) -> AmazonS3Builder {
    let profile = env("AWS_PROFILE").unwrap_or_else(|| "default".into());
    let chain_in_env = [
        "AWS_ACCESS_KEY_ID",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ]
    .iter()
    .any(|v| env(v).is_some());
    if !chain_in_env {
        if let Some(text) =
            home_file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials").and_then(|p| std::fs::read_to_string(p).ok())
        {
            for (k, v) in ini_section(&text, &profile) {
                builder = match k.as_str() {
                    "aws_access_key_id" => builder.with_access_key_id(v),
                    "aws_secret_access_key" => builder.with_secret_access_key(v),
                    "aws_session_token" => builder.with_token(v),
                    _ => builder,
                };
            }
        }
    }
    if env("AWS_REGION").is_none() && env("AWS_DEFAULT_REGION").is_none() {
        let section = if profile == "default" { "default".to_string() } else { format!("profile {profile}") };
        if let Some(text) = home_file("AWS_CONFIG_FILE", ".aws/config").and_then(|p| std::fs::read_to_string(p).ok()) {
            if let Some((_, region)) = ini_section(&text, &section).into_iter().find(|(k, _)| k == "region") {
                builder = builder.with_region(region);
            }
        }
    }
    builder
}

/// The configured endpoint override, if any.
fn endpoint() -> Option<String> {
    env("AWS_ENDPOINT_URL_S3").or_else(|| env("AWS_ENDPOINT_URL")).or_else(|| env("AWS_ENDPOINT"))
}

fn region() -> String {
    env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")).unwrap_or_else(|| "us-east-1 (default)".into())
}

/// A client for `bucket`.
fn store(bucket: &str) -> anyhow::Result<Arc<dyn ObjectStore>> {
    let mut builder = apply_profile(AmazonS3Builder::from_env()).with_bucket_name(bucket).with_retry(RetryConfig {
        backoff: BackoffConfig::default(),
        max_retries: 3,
        retry_timeout: Duration::from_secs(60),
    });
    if endpoint().is_some_and(|e| e.starts_with("http://")) {
        builder = builder.with_allow_http(true);
    }
    let store = builder.build().map_err(|e| anyhow!("configuring the S3 client for bucket {bucket}: {e}"))?;
    Ok(Arc::new(store))
}

/// The whole text of an error and its sources.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Turns an `object_store` error into a message that names the object, what was being done, and
/// which of the usual causes it is.
pub fn explain(error: object_store::Error, doing: &str, url: &S3Url) -> anyhow::Error {
    let text = chain(&error);
    let code = [
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
    ]
    .into_iter()
    .find(|c| text.contains(c));
    if let Some(code) = code {
        return anyhow!(
            "{url}: S3 rejected the credentials while {doing} ({code}): the access key or secret key is wrong or expired; \
             check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN or AWS_PROFILE"
        );
    }
    let wrong_region = [
        "PermanentRedirect",
        "AuthorizationHeaderMalformed",
        "IncorrectEndpoint",
        "301 Moved Permanently",
        "IllegalLocationConstraint",
    ]
    .into_iter()
    .any(|c| text.contains(c));
    if wrong_region {
        let expected = text
            .split("expecting '")
            .nth(1)
            .and_then(|r| r.split('\'').next())
            .or_else(|| text.split("<Region>").nth(1).and_then(|r| r.split('<').next()))
            .map(|r| format!(" (S3 says the bucket is in {r})"))
            .unwrap_or_default();
        return anyhow!(
            "{url}: wrong region while {doing}: bucket {} is not in {}{expected}; set AWS_REGION to the bucket's region",
            url.bucket,
            region()
        );
    }
    match &error {
        object_store::Error::NotFound { .. } if text.contains("NoSuchBucket") => {
            anyhow!("{url}: bucket {} does not exist (while {doing})", url.bucket)
        }
        object_store::Error::NotFound { .. } => anyhow!("{url}: no such object (while {doing}); check the bucket and key"),
        object_store::Error::Unauthenticated { .. } => anyhow!(
            "{url}: S3 rejected the credentials while {doing}: no valid credentials were found or they were refused; \
             set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE"
        ),
        object_store::Error::PermissionDenied { .. } => anyhow!(
            "{url}: access denied while {doing}: the credentials were accepted but may not do this (check the IAM and bucket policies)"
        ),
        _ if text.contains("error sending request") || text.contains("onnection refused") || text.contains("dns error") => anyhow!(
            "{url}: cannot reach S3 at {} while {doing}: {text}",
            endpoint().unwrap_or_else(|| format!("the AWS endpoint of region {}", region()))
        ),
        _ => anyhow!("{url}: {doing} failed: {text}"),
    }
}

/// Opens an object for streaming reads; a missing object or rejected credentials fail here.
pub fn open(url: &S3Url) -> anyhow::Result<Input> {
    let store = store(&url.bucket)?;
    let path = ObjectPath::from(url.key.as_str());
    let result = runtime().block_on(store.get(&path)).map_err(|e| explain(e, "reading", url))?;
    let len = result.meta.size;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, String>>(READ_AHEAD);
    let name = url.to_string();
    runtime().spawn(async move {
        let mut stream = result.into_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| format!("{name}: download failed: {}", chain(&e)));
            let failed = chunk.is_err();
            if tx.send(chunk).await.is_err() || failed {
                break;
            }
        }
    });
    Ok(Input { reader: Box::new(S3Reader { rx, chunk: Bytes::new() }), len: Some(len), name: url.to_string() })
}

/// Pulls downloaded chunks as a blocking reader.
struct S3Reader {
    rx: tokio::sync::mpsc::Receiver<Result<Bytes, String>>,
    chunk: Bytes,
}

impl Read for S3Reader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Ok(chunk)) => self.chunk = chunk,
                Some(Err(e)) => return Err(std::io::Error::other(e)),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        self.chunk = self.chunk.slice(n..);
        Ok(n)
    }
}

/// Writes an object: one PUT at commit when small, otherwise a multipart upload completed at commit.
pub struct S3Writer {
    url: S3Url,
    store: Arc<dyn ObjectStore>,
    path: ObjectPath,
    buffer: Vec<u8>,
    upload: Option<Box<dyn MultipartUpload>>,
    in_flight: VecDeque<tokio::task::JoinHandle<object_store::Result<()>>>,
    parts: usize,
    done: bool,
}

impl S3Writer {
    /// Prepares a write to `url` (nothing is sent until a part fills or the writer commits).
    pub fn create(url: &S3Url) -> anyhow::Result<S3Writer> {
        Ok(S3Writer {
            store: store(&url.bucket)?,
            path: ObjectPath::from(url.key.as_str()),
            url: url.clone(),
            buffer: Vec::with_capacity(PART_BYTES),
            upload: None,
            in_flight: VecDeque::new(),
            parts: 0,
            done: false,
        })
    }

    fn wait_oldest(&mut self) -> anyhow::Result<()> {
        if let Some(handle) = self.in_flight.pop_front() {
            runtime()
                .block_on(handle)
                .map_err(|e| anyhow!("{}: upload task failed: {e}", self.url))?
                .map_err(|e| explain(e, "uploading a part", &self.url))?;
        }
        Ok(())
    }

    /// Sends the buffer as the next part, starting the multipart upload if needed.
    fn send_part(&mut self) -> anyhow::Result<()> {
        if self.upload.is_none() {
            let upload = runtime()
                .block_on(self.store.put_multipart(&self.path))
                .map_err(|e| explain(e, "starting a multipart upload", &self.url))?;
            tracing::debug!("{}: multipart upload started", self.url);
            self.upload = Some(upload);
        }
        let data = std::mem::replace(&mut self.buffer, Vec::with_capacity(PART_BYTES));
        let part = self.upload.as_mut().expect("started above").put_part(PutPayload::from(data));
        self.in_flight.push_back(runtime().spawn(part));
        self.parts += 1;
        while self.in_flight.len() > PARTS_IN_FLIGHT {
            self.wait_oldest()?;
        }
        tracing::debug!("{}: part {} queued", self.url, self.parts);
        Ok(())
    }
}

impl Write for S3Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = PART_BYTES - self.buffer.len();
        let n = buf.len().min(room);
        self.buffer.extend_from_slice(&buf[..n]);
        if self.buffer.len() >= PART_BYTES {
            self.send_part().map_err(|e| std::io::Error::other(format!("{e:#}")))?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Output for S3Writer {
    fn commit(mut self: Box<Self>) -> anyhow::Result<()> {
        if self.upload.is_none() {
            let data = std::mem::take(&mut self.buffer);
            runtime()
                .block_on(self.store.put(&self.path, PutPayload::from(data)))
                .map_err(|e| explain(e, "writing", &self.url))?;
            self.done = true;
            return Ok(());
        }
        if !self.buffer.is_empty() {
            self.send_part()?;
        }
        while !self.in_flight.is_empty() {
            self.wait_oldest()?;
        }
        let upload = self.upload.as_mut().expect("started");
        runtime().block_on(upload.complete()).map_err(|e| explain(e, "completing the multipart upload", &self.url))?;
        tracing::debug!("{}: multipart upload of {} part(s) completed", self.url, self.parts);
        self.done = true;
        Ok(())
    }
}

impl Drop for S3Writer {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let Some(mut upload) = self.upload.take() {
            for handle in self.in_flight.drain(..) {
                handle.abort();
            }
            if let Err(e) = runtime().block_on(upload.abort()) {
                tracing::warn!(
                    "{}: could not abort the unfinished multipart upload ({e}); no object was created",
                    self.url
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> S3Url {
        S3Url::parse("bucket/k.csv").unwrap()
    }

    fn status_error(
        kind: fn(String, Box<dyn std::error::Error + Send + Sync>) -> object_store::Error,
        body: &str,
    ) -> object_store::Error {
        kind("k.csv".into(), body.to_string().into())
    }

    #[test]
    fn errors_name_their_cause() {
        let nf = |p, s| object_store::Error::NotFound { path: p, source: s };
        let pd = |p, s| object_store::Error::PermissionDenied { path: p, source: s };
        let text = |e: anyhow::Error| e.to_string();
        assert!(text(explain(status_error(nf, "<Code>NoSuchKey</Code>"), "reading", &url())).contains("no such object"));
        assert!(text(explain(status_error(nf, "<Code>NoSuchBucket</Code>"), "reading", &url()))
            .contains("bucket bucket does not exist"));
        let rejected = text(explain(status_error(pd, "<Code>SignatureDoesNotMatch</Code>"), "reading", &url()));
        assert!(
            rejected.contains("rejected the credentials") && rejected.contains("SignatureDoesNotMatch"),
            "{rejected}"
        );
        assert!(text(explain(status_error(pd, "<Code>AccessDenied</Code>"), "writing", &url()))
            .contains("access denied while writing"));
        let region = text(explain(
            object_store::Error::Generic {
                store: "S3",
                source: "<Code>AuthorizationHeaderMalformed</Code><Message>the region 'us-east-1' is wrong; expecting 'eu-west-1'</Message>".into(),
            },
            "reading",
            &url(),
        ));
        assert!(region.contains("wrong region") && region.contains("eu-west-1"), "{region}");
    }

    #[test]
    fn ini_sections_are_read_by_name() {
        let text = "[default]\naws_access_key_id = A\n[other]\naws_access_key_id=B\nregion = eu-west-1\n";
        assert_eq!(
            ini_section(text, "other"),
            vec![("aws_access_key_id".into(), "B".into()), ("region".into(), "eu-west-1".into())]
        );
    }
}
