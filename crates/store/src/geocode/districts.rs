//! Every postcode district in the shipped table, in a stable order, for generating
//! demo and benchmark data spread the way people are.

use super::OUTCODES;
use barnstorm_domain::geo::LatLon;

/// Every district and its centroid, sorted by district.
pub fn all_outcodes() -> Vec<(&'static str, LatLon)> {
    let mut all: Vec<_> = OUTCODES.iter().map(|(k, v)| (*k, *v)).collect();
    all.sort_by(|a, b| a.0.cmp(b.0));
    all
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn lists_the_whole_table_in_order() {
        let all = all_outcodes();
        assert!(all.len() > 2_900, "{} districts", all.len());
        assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(all.iter().any(|(code, _)| *code == "M1"));
    }
}
