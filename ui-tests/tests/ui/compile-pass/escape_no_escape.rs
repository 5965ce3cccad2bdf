// Non-escaping code compiles in deny mode, and place mode compiles it with frame values;
// methods of an impl block are analysed one by one.
use gc_core::{escape, Gc, GcCell, Trace};

#[derive(Trace)]
struct Point {
    x: i64,
    y: i64,
}

#[escape(deny)]
fn distance(a: i64, b: i64) -> i64 {
    let p = Gc::new(Point { x: a, y: b });
    let q = Gc::new(Point { x: b, y: a });
    assert!(p.x >= 0 || p.x < 0);
    (p.x - q.x).abs() + (p.y - q.y).abs()
}

struct Calc;

#[escape(place)]
impl Calc {
    fn total(&self, n: i64) -> Result<i64, String> {
        let cell = Gc::new(GcCell::new(Vec::new()));
        for i in 0..n {
            cell.borrow_mut().push(i);
        }
        let sum: i64 = cell.borrow().iter().sum();
        if sum < 0 {
            return Err("negative".into());
        }
        let parsed: i64 = "1".parse::<i64>().map_err(|e| e.to_string())?;
        Ok(sum + parsed)
    }

    async fn later(&self) -> Gc<u32> {
        Gc::new(1)
    }
}

fn main() {
    assert_eq!(distance(1, 2), 2);
    assert_eq!(Calc.total(4), Ok(7));
    drop(Calc.later());
}
