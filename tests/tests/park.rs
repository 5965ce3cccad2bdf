//! The marker waits for a cell held mutably, except when the holder is itself blocked inside
//! the library (in `collect()`, in a throttled allocation, or waiting for another cell): these
//! shapes must not deadlock. Each scenario runs under a watchdog.

use gc_core::{collect, Gc, GcCell, Trace, Tracer};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::Duration;

struct Holder(GcCell<Vec<Gc<u64>>>);

// SAFETY: the cell is the only field and is traced.
unsafe impl Trace for Holder {
    fn trace(&self, t: &mut Tracer) {
        self.0.trace(t)
    }
}

fn holder(values: &[u64]) -> Gc<Holder> {
    Gc::new(Holder(GcCell::new(
        values.iter().map(|&v| Gc::new(v)).collect(),
    )))
}

/// Runs `f` on a thread and fails the test if it has not finished within a minute.
fn within_a_minute(name: &str, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    let t = thread::spawn(move || {
        f();
        tx.send(()).unwrap();
    });
    if rx.recv_timeout(Duration::from_secs(60)).is_err() {
        panic!("{name}: deadlock (no progress in 60 s)");
    }
    t.join().unwrap();
}

#[test]
fn collect_inside_borrow_mut_on_another_thread() {
    within_a_minute("collect inside borrow_mut", || {
        let h = holder(&[1, 2, 3]);
        let h2 = h.clone();
        let t = thread::spawn(move || {
            let mut g = h2.0.borrow_mut();
            collect();
            g.push(Gc::new(4));
            drop(g);
        });
        for _ in 0..20 {
            collect();
        }
        t.join().unwrap();
        collect();
        assert_eq!(h.0.borrow().iter().map(|g| **g).sum::<u64>(), 10);
    });
}

#[test]
fn a_holder_waiting_for_a_cell_held_by_a_thread_in_collect() {
    within_a_minute(
        "holder waits for a cell whose holder is in collect()",
        || {
            let c = holder(&[1]);
            let d = holder(&[2]);
            let both = Arc::new(Barrier::new(2));
            let (c1, d1, b1) = (c.clone(), d.clone(), Arc::clone(&both));
            // A holds C and then waits for D; B holds D and calls collect(). The marker needs C
            // (A is parked waiting for D) and D (B is parked in collect()).
            let a = thread::spawn(move || {
                let mut gc = c1.0.borrow_mut();
                b1.wait();
                let mut gd = d1.0.borrow_mut();
                gc.push(Gc::new(10));
                gd.push(Gc::new(20));
            });
            let (c2, d2) = (c.clone(), d.clone());
            let b = thread::spawn(move || {
                let mut gd = d2.0.borrow_mut();
                both.wait();
                thread::sleep(Duration::from_millis(20));
                collect();
                gd.push(Gc::new(30));
                drop(gd);
                drop(c2);
            });
            b.join().unwrap();
            a.join().unwrap();
            collect();
            assert_eq!(
                c.0.borrow().iter().map(|g| **g).collect::<Vec<_>>(),
                vec![1, 10]
            );
            assert_eq!(
                d.0.borrow().iter().map(|g| **g).collect::<Vec<_>>(),
                vec![2, 30, 20]
            );
        },
    );
}

#[test]
fn a_holder_allocating_past_the_goal_does_not_stall_the_collector() {
    within_a_minute("allocation while holding a cell", || {
        let h = holder(&[]);
        let mut g = h.0.borrow_mut();
        // Far past the goal allocation waits for the running cycle, which needs this cell:
        // the allocating thread is parked there, so the marker reads the cell.
        for i in 0..2_000_000u64 {
            if i % 1000 == 0 {
                g.push(Gc::new(i));
            } else {
                drop(Gc::new(i));
            }
        }
        drop(g);
        collect();
        assert_eq!(h.0.borrow().len(), 2000);
        assert!(h
            .0
            .borrow()
            .iter()
            .enumerate()
            .all(|(i, v)| **v == i as u64 * 1000));
    });
}
