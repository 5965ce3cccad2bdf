// The Go side of the comparison: the same workloads as the Rust crate, built from the same
// algorithms, printing `RESULT <nanoseconds> <checksum> [pause figures]` like the Rust
// children do. Usage: bench <bt18|bt21|graph|list|churn|pause18|pause20|pause22> [--quick]
package main

import (
	"fmt"
	"os"
	"sync"
	"time"
)

type Node struct {
	left, right *Node
}

func makeTree(d int) *Node {
	if d == 0 {
		return &Node{}
	}
	return &Node{makeTree(d - 1), makeTree(d - 1)}
}

func (n *Node) check() uint64 {
	if n.left == nil {
		return 1
	}
	return 1 + n.left.check() + n.right.check()
}

// binaryTrees is the benchmarks game's algorithm, on one goroutine.
func binaryTrees(maxDepth int) uint64 {
	total := makeTree(maxDepth + 1).check()
	longLived := makeTree(maxDepth)
	for d := 4; d <= maxDepth; d += 2 {
		iters := 1 << uint(maxDepth-d+4)
		for i := 0; i < iters; i++ {
			total += makeTree(d).check()
		}
	}
	return total + longLived.check()
}

type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	x := r.s
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	r.s = x
	return x
}

func (r *rng) below(n int) int { return int(r.next() % uint64(n)) }

type GNode struct {
	id    uint64
	edges []*GNode
}

func removeRandom(v []*GNode, r *rng) []*GNode {
	if len(v) == 0 {
		return v
	}
	i := r.below(len(v))
	v[i] = v[len(v)-1]
	v[len(v)-1] = nil
	return v[:len(v)-1]
}

// graph performs the same operation stream as bench/src/graph.rs.
func graph(ops int) uint64 {
	r := &rng{0x9E3779B97F4A7C15}
	var handles []*GNode
	created := uint64(0)
	for i := 0; i < ops; i++ {
		switch r.below(4) {
		case 0:
			handles = append(handles, &GNode{id: created})
			created++
		case 1:
			if len(handles) > 0 {
				a := r.below(len(handles))
				b := r.below(len(handles))
				handles[a].edges = append(handles[a].edges, handles[b])
			}
		case 2:
			if len(handles) > 0 {
				a := r.below(len(handles))
				handles[a] = handles[len(handles)-1]
				handles[len(handles)-1] = nil
				handles = handles[:len(handles)-1]
			}
		case 3:
			if len(handles) > 0 {
				a := r.below(len(handles))
				handles[a].edges = removeRandom(handles[a].edges, r)
			}
		}
	}
	edges := 0
	for _, h := range handles {
		edges += len(h.edges)
	}
	return created + 7*uint64(len(handles)) + 13*uint64(edges)
}

type LNode struct {
	value uint64
	next  *LNode
}

func list(n int, rounds int) uint64 {
	total := uint64(0)
	for k := 0; k < rounds; k++ {
		var head *LNode
		for i := n - 1; i >= 0; i-- {
			head = &LNode{uint64(i), head}
		}
		for c := head; c != nil; c = c.next {
			total += c.value
		}
	}
	return total
}

func churn(trees int) uint64 {
	var wg sync.WaitGroup
	sums := make([]uint64, 2)
	for t := 0; t < 2; t++ {
		wg.Add(1)
		go func(t int) {
			defer wg.Done()
			slots := make([]*Node, 64)
			for i := 0; i < trees; i++ {
				n := makeTree(6)
				sums[t] += n.check()
				slots[i%64] = n
			}
		}(t)
	}
	wg.Wait()
	return sums[0] + sums[1]
}

// pause mirrors bench/src/pauses.rs: live tree, 1,024 small trees replaced per step.
func pause(depth int, secs float64) string {
	live := makeTree(depth)
	liveObjects := live.check()
	slots := make([]*Node, 1024)
	var gaps []int64
	checksum := uint64(0)
	start := time.Now()
	last := start
	steps := 0
	for {
		t := makeTree(2)
		checksum += t.check()
		slots[steps%1024] = t
		steps++
		now := time.Now()
		gaps = append(gaps, int64(now.Sub(last)))
		last = now
		if steps%1024 == 0 && now.Sub(start).Seconds() >= secs {
			break
		}
	}
	if live.check() != liveObjects {
		panic("live tree changed")
	}
	max, p999, p99 := quantiles(gaps)
	return fmt.Sprintf("%d %d %d %d %d %d", checksum, liveObjects, max, p999, p99, steps)
}

func quantiles(g []int64) (int64, int64, int64) {
	// counting by 16 ns buckets below 64 us, like the Rust side; exact above
	fine := make([]int64, 4096)
	var coarse []int64
	var max int64
	for _, x := range g {
		if x > max {
			max = x
		}
		if x/16 < 4096 {
			fine[x/16]++
		} else {
			coarse = append(coarse, x)
		}
	}
	q := func(f float64) int64 {
		target := int64(float64(len(g))*f + 0.999999)
		seen := int64(0)
		for i, c := range fine {
			seen += c
			if seen >= target {
				return int64(i+1) * 16
			}
		}
		return max
	}
	return max, q(0.999), q(0.99)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench <workload> [--quick]")
		os.Exit(2)
	}
	quick := len(os.Args) > 2 && os.Args[2] == "--quick"
	pick := func(full, small int) int {
		if quick {
			return small
		}
		return full
	}
	secs := 1.5
	shift := 0
	if quick {
		secs = 0.05
		shift = 10
	}
	start := time.Now()
	var out string
	switch os.Args[1] {
	case "bt18":
		out = fmt.Sprint(binaryTrees(pick(18, 10)))
	case "bt21":
		out = fmt.Sprint(binaryTrees(pick(21, 12)))
	case "graph":
		out = fmt.Sprint(graph(pick(1000000, 10000)))
	case "list":
		out = fmt.Sprint(list(pick(1000000, 10000), pick(5, 2)))
	case "churn":
		out = fmt.Sprint(churn(pick(40000, 200)))
	case "pause18":
		out = pause(18-shift, secs)
	case "pause20":
		out = pause(20-shift, secs)
	case "pause22":
		out = pause(22-shift, secs)
	default:
		fmt.Println("UNSUPPORTED")
		return
	}
	fmt.Printf("RESULT %d %s\n", time.Since(start).Nanoseconds(), out)
}
