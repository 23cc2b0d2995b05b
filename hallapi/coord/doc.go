// Package coord is the multi-agent task board's domain: agents register with
// a heartbeat; people and agents create, claim and complete tasks linked by
// predecessors; agents hold advisory file locks and exchange messages.
//
// It holds the board's types, the validation of every input and the rules of
// the board (dependency types, cycles, who may claim, complete or release
// what), so the HTTP handlers (/api/coord/*) and the MCP tools (wcp_coord_*)
// refuse the same input the same way: an *Error naming the field. Service
// applies the rules inside one transaction of a Repo; hallapi/store
// implements Repo with SQL only.
package coord
