//! Counts of a real election from its published ballots, checked against its official
//! result. The data file and its source are described in `tests/data/count/README.md`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use scrutin_election::count::stv::{self, StageAction, Status, UNITS_PER_VOTE, Votes};
use scrutin_election::count::{Lot, blt};

const EILEAN_SIAR_2012_WARD_3: &str = include_str!("data/count/eilean_siar_2012_ward3.blt");

/// Comhairle nan Eilean Siar, 3 May 2012, ward 3 (Na Hearadh agus Ceann a Deas nan
/// Loch), 3 seats, 4 candidates, 802 valid ballots. Officially elected: Catherine
/// Macdonald, Philip Mclean and D. J. Macrae (David Wilson not elected); these are the
/// ward's three councillors of 2012–2017 as reported by the local press before the
/// 2017 election ("Sixty hopefuls to stand in Comhairle council elections 2017",
/// welovestornoway.com, which names Macdonald and Macrae as standing again and Philip
/// R. Mclean, Harris and South Lochs, as not standing).
#[test]
fn eilean_siar_2012_ward_3_elects_the_official_councillors() {
    let b = blt::parse(EILEAN_SIAR_2012_WARD_3).unwrap();
    assert_eq!((b.candidates, b.seats), (4, 3));
    let r = stv::count(b.candidates, b.seats, &b.ballots, &Lot::listed(4)).unwrap();
    assert!(r.invalid.is_empty());
    assert_eq!(r.valid_ballots, 802);
    // Rule 46: floor(802 / 4) + 1.
    assert_eq!(r.quota, Votes::whole(201));
    // First preferences: Macdonald 498, Macrae 69, Mclean 202, Wilson 33.
    assert_eq!(
        r.stages[0].votes,
        [498, 69, 202, 33].map(Votes::whole).to_vec()
    );
    // Macdonald and Mclean reach the quota at stage 1.
    assert_eq!(r.stages[0].elected, vec![0, 2]);
    // Stage 2: Macdonald's surplus of 297 is transferred first (rule 49(1)), at
    // 297 × 1 / 498 = 0.596385… → 0.59638 (rule 48(3)).
    let StageAction::Surplus {
        candidate,
        surplus,
        transfer_values,
        ..
    } = &r.stages[1].action
    else {
        panic!("stage 2 is Macdonald's surplus");
    };
    assert_eq!((*candidate, *surplus), (0, Votes::whole(297)));
    assert_eq!(transfer_values[0].value, Votes(59_638));
    assert_eq!(transfer_values[0].papers, 498);
    // Stage 3: Mclean's surplus of 1 at 1 / 202 = 0.00495. Stage 4: Wilson, lowest, is
    // excluded, and Macrae, the only continuing candidate, fills the last seat
    // (rule 52).
    assert!(matches!(
        r.stages[2].action,
        StageAction::Surplus { candidate: 2, .. }
    ));
    assert!(matches!(
        r.stages[3].action,
        StageAction::Exclusion { candidate: 3, .. }
    ));
    assert_eq!(r.stages.len(), 4);
    let names: Vec<&str> = r
        .elected
        .iter()
        .map(|&c| b.names[c as usize].as_str())
        .collect();
    assert_eq!(
        names,
        vec![
            "Catherine Macdonald (Independent (Ind))",
            "Philip Robert Mclean (Scottish National Party (SNP))",
            "D J Macrae (Labour (Lab))",
        ]
    );
    let last = r.stages.last().unwrap();
    assert_eq!(last.status[3], Status::Excluded);
    for s in &r.stages {
        let sum: u64 =
            s.votes.iter().map(|v| v.0).sum::<u64>() + s.non_transferable.0 + s.truncation_loss.0;
        assert_eq!(sum, 802 * UNITS_PER_VOTE);
    }
}

/// The data file survives a write and a new parse unchanged.
#[test]
fn eilean_siar_data_round_trips_through_blt() {
    let b = blt::parse(EILEAN_SIAR_2012_WARD_3).unwrap();
    let text = blt::write(b.candidates, b.seats, &b.ballots, &b.names, &b.title).unwrap();
    assert_eq!(text, EILEAN_SIAR_2012_WARD_3);
}
