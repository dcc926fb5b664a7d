//! What Linux says about driftd's memory: its resident set, and how much it may use
//! (its cgroup's limit, else the machine's memory). Elsewhere both are unknown.

use std::path::Path;

/// driftd's resident memory in bytes (`VmRSS`), or `None` when the system does not say.
pub fn resident_bytes() -> Option<u64> {
    kib_field(&std::fs::read_to_string("/proc/self/status").ok()?, "VmRSS:")
}

/// The memory driftd may use, in bytes, and where that figure comes from: the lower of
/// its cgroup's limit and the machine's memory.
pub fn available_bytes() -> Option<(u64, &'static str)> {
    let machine = kib_field(&std::fs::read_to_string("/proc/meminfo").ok()?, "MemTotal:");
    let cgroup = std::fs::read_to_string("/proc/self/cgroup")
        .ok()
        .and_then(|own| cgroup_limit(&own, Path::new("/sys/fs/cgroup")));
    match (cgroup, machine) {
        (Some(c), Some(m)) if c < m => Some((c, "the cgroup's memory limit")),
        (_, Some(m)) => Some((m, "the machine's memory")),
        (Some(c), None) => Some((c, "the cgroup's memory limit")),
        (None, None) => None,
    }
}

/// The value of a `Name:   1234 kB` line, in bytes.
fn kib_field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find_map(|l| l.strip_prefix(name))?;
    let kib: u64 = line.split_whitespace().next()?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

/// The memory limit of the cgroup `own` (the text of `/proc/self/cgroup`) names,
/// under the cgroup file system mounted at `root`: v2's `memory.max`, else v1's
/// `memory.limit_in_bytes`. `None` when there is no limit (`max`, or v1's huge value).
fn cgroup_limit(own: &str, root: &Path) -> Option<u64> {
    let read = |file: &Path| std::fs::read_to_string(file).ok()?.trim().parse::<u64>().ok();
    for line in own.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let path = path.trim_start_matches('/');
        let limit = match controllers {
            "" => read(&root.join(path).join("memory.max")),
            c if c.split(',').any(|c| c == "memory") => {
                read(&root.join("memory").join(path).join("memory.limit_in_bytes"))
            }
            _ => continue,
        };
        // v1 says "no limit" with a number near i64::MAX rounded to pages.
        return limit.filter(|&l| l < 1 << 60);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process_and_this_machine() {
        let resident = resident_bytes().expect("Linux says");
        let (available, _) = available_bytes().expect("Linux says");
        assert!(resident > 1 << 20 && resident < available, "{resident} of {available}");
    }

    #[test]
    fn kib_lines_are_bytes() {
        assert_eq!(kib_field("Name:\tx\nVmRSS:\t  2048 kB\n", "VmRSS:"), Some(2 << 20));
        assert_eq!(kib_field("VmRSS:\n", "VmRSS:"), None);
    }

    #[test]
    fn cgroup_limits_of_both_versions() {
        let root = std::env::temp_dir().join(format!("driftd-cgroup-{}", std::process::id()));
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir_all(root.join("memory/c")).unwrap();
        std::fs::write(root.join("a/b/memory.max"), "1073741824\n").unwrap();
        std::fs::write(root.join("memory.max"), "max\n").unwrap();
        std::fs::write(root.join("memory/c/memory.limit_in_bytes"), "9223372036854771712\n").unwrap();
        assert_eq!(cgroup_limit("0::/a/b\n", &root), Some(1 << 30));
        assert_eq!(cgroup_limit("0::/\n", &root), None, "max: no limit");
        assert_eq!(cgroup_limit("4:cpu:/x\n5:memory:/c\n", &root), None, "v1 unlimited");
        std::fs::write(root.join("memory/c/memory.limit_in_bytes"), "536870912\n").unwrap();
        assert_eq!(cgroup_limit("4:cpu:/x\n5:memory:/c\n", &root), Some(512 << 20));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
