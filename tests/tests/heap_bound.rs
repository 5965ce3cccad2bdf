//! Under a steady allocation rate with a fixed live set, the heap stays near the goal
//! (live x (1 + percent / 100)): past the goal an allocating thread waits up to a slice per
//! batch for the collector, and at twice the goal it waits for the cycle, so the peak stays
//! within 2 x the goal plus one allocation batch per thread. Its own test binary: it measures
//! the whole heap.

use gc_core::{collect, stats, Gc, GcCell, Trace};

#[derive(Trace)]
struct Item {
    payload: [u64; 8],
    next: GcCell<Option<Gc<Item>>>,
}

fn item(i: u64) -> Gc<Item> {
    Gc::new(Item {
        payload: [i; 8],
        next: GcCell::new(None),
    })
}

#[test]
fn peak_heap_stays_near_the_goal_under_steady_allocation() {
    // A fixed live set of 200 000 items (~25 MB with headers).
    let live: Vec<Gc<Item>> = (0..200_000).map(item).collect();
    collect();
    let live_bytes = stats().last_marked_bytes;
    assert!(
        live_bytes >= 200_000 * 100,
        "the live set is marked: {live_bytes}"
    );

    let mut peak = 0u64;
    let mut max_goal = 0u64;
    let cycles_before = stats().num_gc;
    // Allocate ~20 live sets' worth of garbage: rings of 64 items (cyclic, so only the
    // collector can free them).
    let mut chain: Option<Gc<Item>> = None;
    let mut first: Option<Gc<Item>> = None;
    for i in 0..4_000_000u64 {
        let n = item(i);
        *n.next.borrow_mut() = chain.take();
        if i % 64 == 0 {
            first = Some(n.clone());
        }
        chain = if i % 64 == 63 {
            let first = first.take().expect("the ring's first item");
            *first.next.borrow_mut() = Some(n);
            None
        } else {
            Some(n)
        };
        if i % 4096 == 0 {
            let s = stats();
            peak = peak.max(s.heap_live_bytes);
            max_goal = max_goal.max(s.next_gc);
        }
    }
    let s = stats();
    assert!(
        s.num_gc > cycles_before + 5,
        "automatic cycles ran: {}",
        s.num_gc - cycles_before
    );
    // Go's goal for this live set at GOGC=100 is about twice the live bytes.
    assert!(
        max_goal <= 2 * live_bytes + (4 << 20),
        "goal {max_goal} for live {live_bytes}"
    );
    eprintln!(
        "peak heap {peak} bytes = {:.2} x the goal",
        peak as f64 / max_goal as f64
    );
    let bound = 2 * max_goal + (1 << 20);
    assert!(
        peak <= bound,
        "peak heap {peak} above 2 x goal {max_goal} + 1 MiB"
    );
    assert!(live
        .iter()
        .enumerate()
        .all(|(i, it)| it.payload == [i as u64; 8]));
}
