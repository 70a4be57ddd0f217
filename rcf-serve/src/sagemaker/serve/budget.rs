//! One budget of bytes for every unfinished request: request bodies as they are read and the
//! response each request will produce. Memory held by slow or stalled clients is then bounded as a
//! whole, not per connection; a request that does not fit gets 503 at once instead of waiting.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::ApiError;

/// The shared budget (`RCF_SERVE_BODY_BUDGET_MB`).
pub struct Budget {
    bytes: Arc<Semaphore>,
    total: u64,
}

/// Bytes one request holds; given back when dropped.
#[derive(Default)]
pub struct Held {
    permit: Option<OwnedSemaphorePermit>,
}

impl Held {
    /// Bytes held.
    pub fn bytes(&self) -> u64 {
        self.permit.as_ref().map_or(0, |p| p.num_permits() as u64)
    }
}

impl Budget {
    /// A budget of `total` bytes.
    pub fn new(total: u64) -> Budget {
        let total = total.min(Semaphore::MAX_PERMITS as u64);
        Budget { bytes: Arc::new(Semaphore::new(total as usize)), total }
    }

    /// Adds `bytes` to what `held` holds, or answers 503 naming the budget when it has not that much left.
    pub fn take(&self, held: &mut Held, bytes: u64) -> Result<(), ApiError> {
        let mut left = bytes;
        let mut taken: Option<OwnedSemaphorePermit> = None;
        while left > 0 {
            let step = left.min(u32::MAX as u64) as u32;
            match Arc::clone(&self.bytes).try_acquire_many_owned(step) {
                Ok(permit) => match taken.as_mut() {
                    Some(t) => t.merge(permit),
                    None => taken = Some(permit),
                },
                Err(_) => return Err(self.busy(held.bytes(), bytes)),
            }
            left -= step as u64;
        }
        if let Some(permit) = taken {
            match held.permit.as_mut() {
                Some(h) => h.merge(permit),
                None => held.permit = Some(permit),
            }
        }
        Ok(())
    }

    fn busy(&self, mine: u64, wanted: u64) -> ApiError {
        let in_use = self.total - self.bytes.available_permits() as u64;
        ApiError::Busy(format!(
            "unfinished requests hold {in_use} of the server's {} bytes (RCF_SERVE_BODY_BUDGET_MB={}); this request \
             holds {mine} and needs {wanted} more; retry later",
            self.total,
            self.total >> 20
        ))
    }
}
