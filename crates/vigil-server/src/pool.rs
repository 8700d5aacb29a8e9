//! The region store behind the hub: one writer connection and a pool of readers.
//!
//! SQLite in WAL mode lets readers run beside the single writer, so reads never queue behind
//! an import. Every call runs on tokio's blocking pool, never on a request thread.
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use vigil_store::{Store, StoreError};

use crate::problem::Problem;

pub struct Pool {
    path: PathBuf,
    writer: Mutex<Store>,
    readers: Mutex<Vec<Store>>,
    /// Idle readers kept open.
    max_idle: usize,
}

impl Pool {
    /// Opens the store of `region` under `data_dir` (creating and migrating it).
    pub fn open(data_dir: &Path, region: &str, max_idle: usize) -> Result<Pool, StoreError> {
        let writer = Store::open(data_dir, region)?;
        let path = writer.path().to_path_buf();
        Ok(Pool {
            path,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            max_idle: max_idle.max(1),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn checkout(&self) -> Result<Store, StoreError> {
        let idle = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match idle {
            Some(s) => Ok(s),
            None => Store::open_path(&self.path),
        }
    }

    fn checkin(&self, store: Store) {
        let mut idle = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < self.max_idle {
            idle.push(store);
        }
    }

    /// Runs `f` on a reader connection on the blocking pool.
    pub async fn read<T, F>(self: &Arc<Self>, f: F) -> Result<T, Problem>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, Problem> + Send + 'static,
    {
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let store = pool.checkout()?;
            let out = f(&store);
            pool.checkin(store);
            out
        })
        .await
        .map_err(Problem::internal)?
    }

    /// Runs `f` with the writer connection on the blocking pool; writers run one at a time.
    pub async fn write<T, F>(self: &Arc<Self>, f: F) -> Result<T, Problem>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, Problem> + Send + 'static,
    {
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let mut store = pool.writer.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut store)
        })
        .await
        .map_err(Problem::internal)?
    }

    /// The writer, for synchronous callers outside the runtime (startup, tests).
    pub fn with_writer<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        let mut store = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn readers_are_reused_and_see_committed_writes() {
        let dir = tempfile::tempdir().unwrap();
        let pool = Arc::new(Pool::open(dir.path(), "eu", 2).unwrap());
        let before = pool.read(|s| Ok(s.stats()?.records)).await.unwrap();
        assert_eq!(before, 0);
        pool.write(|s| {
            s.create_token("t", vigil_model::Role::Edge, None, None, 1)
                .map_err(Problem::internal)?;
            Ok(())
        })
        .await
        .unwrap();
        let n = pool.read(|s| Ok(s.tokens()?.len())).await.unwrap();
        assert_eq!(n, 1);
        assert_eq!(pool.readers.lock().unwrap().len(), 1);
    }
}
