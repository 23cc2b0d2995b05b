package coord

import (
	"fmt"
	"strings"
)

// checkPredecessors refuses unknown predecessors and, with id's new
// predecessors preds, a dependency cycle through id (g maps every task to
// its predecessors and is changed).
func checkPredecessors(g map[string][]string, prefix, id string, preds []string) error {
	for i, p := range preds {
		if _, ok := g[p]; !ok {
			f := fmt.Sprintf("%spredecessors[%d]", prefix, i)
			return invalid(f, "%s: there is no task %s (create it first, or remove it from predecessors)", f, p)
		}
	}
	g[id] = preds
	if chain := cycleThrough(g, id); chain != nil {
		return invalid(prefix+"predecessors", "%spredecessors would make a dependency cycle, %s (each waits for the next): remove one of these links",
			prefix, strings.Join(chain, " → "))
	}
	return nil
}

// cycleThrough searches depth-first from id along predecessors and returns
// the chain back to id, or nil when there is no cycle through id.
func cycleThrough(g map[string][]string, id string) []string {
	var chain []string
	seen := map[string]bool{}
	var visit func(n string) bool
	visit = func(n string) bool {
		chain = append(chain, n)
		for _, p := range g[n] {
			if p == id {
				chain = append(chain, p)
				return true
			}
			if !seen[p] {
				seen[p] = true
				if visit(p) {
					return true
				}
			}
		}
		chain = chain[:len(chain)-1]
		return false
	}
	if visit(id) {
		return chain
	}
	return nil
}

// blocked says why a task cannot start (starting) or finish (!starting)
// yet under its dependency type, or "" when it can: FS needs finished
// predecessors to start, SS started ones; to finish, FS and FF need them
// finished, SS and SF started. status reads a predecessor's status (found
// false: it no longer exists and blocks nothing).
func blocked(tk Task, starting bool, status func(id string) (string, bool, error)) (string, error) {
	needDone := false
	switch tk.DepType {
	case DepFS:
		needDone = true
	case DepFF:
		if starting {
			return "", nil
		}
		needDone = true
	case DepSF:
		if starting {
			return "", nil
		}
	}
	var waiting []string
	for _, p := range tk.Predecessors {
		st, found, err := status(p)
		if err != nil {
			return "", err
		}
		if !found || st == TaskDone || !needDone && st == TaskInProgress {
			continue
		}
		waiting = append(waiting, p+" ("+st+")")
	}
	if len(waiting) == 0 {
		return "", nil
	}
	verb, need := "start", "started"
	if !starting {
		verb = "finish"
	}
	if needDone {
		need = "done"
	}
	return fmt.Sprintf("%s cannot %s yet: with dependency %s its predecessors must be %s, and %s not", tk.ID, verb, tk.DepType, need, strings.Join(waiting, ", ")), nil
}
