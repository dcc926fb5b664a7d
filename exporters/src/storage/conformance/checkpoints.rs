//! Detector checkpoints: saved bytes come back exactly, per processor.

use super::{sample_checkpoint, BASE_TIME, SECOND};
use driftd_core::store::{Checkpoint, Store};

async fn save(store: &dyn Store, processor: &str, checkpoints: &[Checkpoint]) {
    store
        .save_checkpoints(processor, checkpoints)
        .await
        .unwrap_or_else(|e| panic!("{}: save_checkpoints({processor}) failed: {e}", store.backend()));
}

async fn load(store: &dyn Store, processor: &str) -> Vec<Checkpoint> {
    store
        .load_checkpoints(processor)
        .await
        .unwrap_or_else(|e| panic!("{}: load_checkpoints({processor}) failed: {e}", store.backend()))
}

/// `load_checkpoints` returns exactly what `save_checkpoints` stored (any bytes,
/// empty or large), ordered by series id, separately for each processor; a save
/// replaces a stored checkpoint unless that one is newer.
pub async fn checkpoints(store: &dyn Store) {
    let b = store.backend();
    assert!(load(store, "drift").await.is_empty(), "{b}: starts empty");

    let every_byte: Vec<u8> = (0..=255u8).chain([0, b'\n', b'\r', 0xff]).collect();
    let large: Vec<u8> = (0..64 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    let mut saved = vec![
        sample_checkpoint("latency_ms", "checkout", &every_byte, BASE_TIME),
        sample_checkpoint("payload_kb", "checkout", &[], BASE_TIME),
        sample_checkpoint("latency_ms", "search", &large, BASE_TIME),
    ];
    save(store, "drift", &saved[..2]).await;
    save(store, "drift", &saved[2..]).await;
    let other = sample_checkpoint("latency_ms", "checkout", b"other processor", BASE_TIME);
    save(store, "drift/canary", std::slice::from_ref(&other)).await;
    saved.sort_by_key(|c| c.series_id);

    assert_eq!(
        load(store, "drift").await,
        saved,
        "{b}: checkpoints come back exactly as saved, ordered by series id"
    );
    assert_eq!(
        load(store, "drift/canary").await,
        [other],
        "{b}: each processor has its own checkpoints"
    );
    assert!(
        load(store, "nobody").await.is_empty(),
        "{b}: an unknown processor has none"
    );

    let mut newer = saved[0].clone();
    newer.state = b"newer state".to_vec();
    newer.updated_at = BASE_TIME + 30 * SECOND;
    let mut older = saved[0].clone();
    older.state = b"stale state".to_vec();
    older.updated_at = BASE_TIME - 30 * SECOND;
    save(store, "drift", std::slice::from_ref(&newer)).await;
    save(store, "drift", &[older]).await;
    saved[0] = newer;
    assert_eq!(
        load(store, "drift").await,
        saved,
        "{b}: a newer checkpoint replaces the stored one; an older one is ignored"
    );
    save(store, "drift", &[]).await;
    assert_eq!(
        load(store, "drift").await.len(),
        3,
        "{b}: saving nothing changes nothing"
    );
}
