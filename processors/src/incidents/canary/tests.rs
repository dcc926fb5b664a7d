use super::*;
use driftd_core::Stats;

fn stats(mean: f64, stddev: f64, samples: u64) -> Stats {
    Stats { mean, stddev, samples }
}

#[test]
fn welch_t_weighs_the_difference_by_both_spreads() {
    let t = welch_t(&stats(110.0, 10.0, 100), &stats(100.0, 10.0, 400));
    // 10 / sqrt(100/100 + 100/400)
    assert!((t - 10.0 / 1.25f64.sqrt()).abs() < 1e-9, "{t}");
    assert_eq!(welch_t(&stats(5.0, 0.0, 30), &stats(5.0, 0.0, 30)), 0.0);
    assert_eq!(welch_t(&stats(4.0, 0.0, 30), &stats(5.0, 0.0, 30)), f64::NEG_INFINITY);
}

fn canary(cohort: &str) -> Canary {
    let config: CanaryConfig = serde_yaml::from_str(&format!("cohort: '{cohort}'")).unwrap();
    Canary::new(&config, EntityConfig::default())
}

fn member(cohort: &str, instance: &str) -> Member {
    (cohort.into(), instance.into())
}

#[test]
fn the_minorities_that_never_were_the_majority_are_compared() {
    let c = canary("service.version");
    let mut was_majority = HashSet::new();
    let fleet = [member("1", "a"), member("1", "b"), member("1", "c"), member("2", "d")];
    assert_eq!(c.cohorts(fleet.iter(), &mut was_majority), vec![Arc::<str>::from("2")]);
    // Half is no minority.
    let halves = [member("1", "a"), member("1", "b"), member("2", "c"), member("2", "d")];
    assert!(c.cohorts(halves.iter(), &mut was_majority).is_empty());
    // Late in a rollout the old version is the minority: not a canary.
    let rolled = [member("1", "a"), member("2", "b"), member("2", "c"), member("2", "d")];
    assert!(c.cohorts(rolled.iter(), &mut was_majority).is_empty());
    assert_eq!(was_majority.len(), 2);
}

#[test]
fn a_named_cohort_is_compared_when_present() {
    let c = canary("deployment.canary=true");
    let fleet = [member("", "a"), member("", "b"), member("true", "c")];
    let mut was_majority = HashSet::new();
    assert_eq!(
        c.cohorts(fleet.iter(), &mut was_majority),
        vec![Arc::<str>::from("true")]
    );
    assert!(c.cohorts(fleet[..2].iter(), &mut was_majority).is_empty());
}

#[test]
fn series_are_grouped_without_their_instance_and_cohort_labels() {
    let c = canary("service.version");
    let mut groups = HashMap::new();
    let labels = |host: &str, version: &str| {
        SeriesLabels::new(
            "latency",
            vec![
                ("service.name".into(), "checkout".into()),
                ("host.name".into(), host.into()),
                ("service.version".into(), version.into()),
                ("http.route".into(), "/pay".into()),
            ],
        )
    };
    let a = c.place(&labels("h1", "1"), &mut groups).unwrap();
    let b = c.place(&labels("h2", "2"), &mut groups).unwrap();
    assert_eq!(a.group, b.group);
    assert_eq!(groups.len(), 1);
    assert_eq!(b.member, member("2", "h2"));
    let group = &groups[&a.group].labels;
    assert_eq!(group.get("http.route"), Some("/pay"));
    assert_eq!((group.get("host.name"), group.get("service.version")), (None, None));
    let unlabelled = SeriesLabels::new("latency", vec![("service.name".into(), "checkout".into())]);
    assert!(c.place(&unlabelled, &mut groups).is_none());
}
