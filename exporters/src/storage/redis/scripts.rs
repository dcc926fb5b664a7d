//! The Lua scripts that keep each Redis write atomic: an event's body and its place in
//! the time index appear together, and a status or checkpoint never replaces a newer
//! one. Sort keys are zero-padded decimal strings in lexicographic sorted sets (score
//! 0), because a float score cannot hold nanoseconds exactly.

use redis::Script;
use std::sync::LazyLock;

/// KEYS: bodies (hash), time index (zset), arrival counter, snapshots (hash).
/// ARGV: quadruples of (id, time as 20 digits, JSON, snapshot JSON or empty). A stored
/// id is left alone, snapshot and all.
pub(super) static APPEND_EVENTS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        for i = 1, #ARGV, 4 do
          if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 2]) == 1 then
            local seq = redis.call('INCR', KEYS[3])
            redis.call('ZADD', KEYS[2], 0, ARGV[i + 1] .. string.format('%020d', seq) .. ':' .. ARGV[i])
            if ARGV[i + 3] ~= '' then
              redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 3])
            end
          end
        end
        return 0
        ",
    )
});

/// KEYS: bodies, acknowledged (set). ARGV: id. Returns 1 when the event exists.
pub(super) static ACKNOWLEDGE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
          redis.call('SADD', KEYS[2], ARGV[1])
          return 1
        end
        return 0
        ",
    )
});

/// KEYS: bodies, time index, acknowledged, snapshots. ARGV: cut-off (20 digits), batch size.
/// Removes up to a batch of events older than the cut-off; returns how many.
pub(super) static PRUNE_EVENTS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local old = redis.call('ZRANGEBYLEX', KEYS[2], '-', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
        for _, member in ipairs(old) do
          local id = string.sub(member, 42)
          redis.call('HDEL', KEYS[1], id)
          redis.call('SREM', KEYS[3], id)
          redis.call('HDEL', KEYS[4], id)
          redis.call('ZREM', KEYS[2], member)
        end
        return #old
        ",
    )
});

/// A map whose entries carry an update time: data (hash), update times (hash), and
/// an index by update time (zset). Used for statuses and each processor's checkpoints.
/// KEYS: data, updated, index. ARGV: triples of (field, updated as 20 digits, value).
pub(super) static UPSERT_NEWER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        for i = 1, #ARGV, 3 do
          local field, updated = ARGV[i], ARGV[i + 1]
          local old = redis.call('HGET', KEYS[2], field)
          if (not old) or old <= updated then
            if old then redis.call('ZREM', KEYS[3], old .. ':' .. field) end
            redis.call('HSET', KEYS[1], field, ARGV[i + 2])
            redis.call('HSET', KEYS[2], field, updated)
            redis.call('ZADD', KEYS[3], 0, updated .. ':' .. field)
          end
        end
        return 0
        ",
    )
});

/// KEYS: data, updated, index. ARGV: cut-off (20 digits), batch size. Removes up to a
/// batch of entries not updated since the cut-off; returns how many.
pub(super) static PRUNE_OLDER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local old = redis.call('ZRANGEBYLEX', KEYS[3], '-', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
        for _, member in ipairs(old) do
          local field = string.sub(member, 22)
          redis.call('HDEL', KEYS[1], field)
          redis.call('HDEL', KEYS[2], field)
          redis.call('ZREM', KEYS[3], member)
        end
        return #old
        ",
    )
});

/// A time as the 20-digit sort key the scripts compare.
pub(super) fn sort_key(unix_nano: u64) -> String {
    format!("{unix_nano:020}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_keys_order_like_the_numbers() {
        assert_eq!(sort_key(7).len(), 20);
        assert_eq!(sort_key(u64::MAX).len(), 20);
        assert!(sort_key(999) < sort_key(1_000));
    }
}
