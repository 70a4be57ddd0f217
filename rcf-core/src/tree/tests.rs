//! Property tests of a single tree under arbitrary insert/delete sequences.

use proptest::prelude::*;
use rand::SeedableRng;

use super::Tree;
use crate::point_store::PointStore;
use crate::rng::TreeRng;

#[derive(Debug, Clone)]
enum Op {
    Insert(Vec<f32>),
    /// Delete the n-th (modulo count) point currently in the tree.
    Delete(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => prop::collection::vec((-2i8..=2).prop_map(|v| v as f32), 2).prop_map(Op::Insert),
        2 => any::<usize>().prop_map(Op::Delete),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn boxes_masses_and_links_stay_exact_and_deleting_all_empties(ops in prop::collection::vec(op(), 1..200), seed in any::<u64>(), cached in any::<bool>()) {
        let mut store = PointStore::new(2, 0);
        let mut tree = Tree::new(2, cached);
        let mut rng = TreeRng::seed_from_u64(seed);
        let mut held: Vec<u32> = Vec::new();
        for op in ops {
            match op {
                Op::Insert(p) => {
                    let slot = store.insert(&p);
                    let used = tree.insert(slot, &store, &mut rng);
                    store.add_ref(used);
                    store.release_if_unused(slot);
                    held.push(used);
                }
                Op::Delete(n) if !held.is_empty() => {
                    let slot = held.swap_remove(n % held.len());
                    prop_assert!(tree.delete(slot, &store).is_ok());
                    store.remove_ref(slot);
                }
                Op::Delete(_) => {}
            }
            prop_assert_eq!(tree.check(&store), Ok(()));
            prop_assert_eq!(tree.mass() as usize, held.len());
        }
        while let Some(slot) = held.pop() {
            prop_assert!(tree.delete(slot, &store).is_ok());
            store.remove_ref(slot);
            prop_assert_eq!(tree.check(&store), Ok(()));
        }
        prop_assert_eq!(tree.mass(), 0);
        prop_assert!(tree.leaves().is_empty());
        prop_assert_eq!(store.live_points(), 0);
    }
}
